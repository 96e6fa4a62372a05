"""Fuzz ``churnml ingest`` with malformed variants of every canonical table.

Each example (see ``tests/fuzz_cases.py``) must end with exit code 0, 2 or 3, never a
traceback; an error names the file, the column and the rule; and no row disappears
(``rows_in = rows_kept + rows_quarantined``, definitely bad rows are quarantined).

CI runs a few examples; ``CHURNML_FUZZ_EXAMPLES=600 pytest tests/test_fuzz_ingest.py``
runs more, and ``python benchmarks/fuzz.py --examples 600`` prints the figures.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnml import config
from tests import fuzz_cases

EXAMPLES = int(os.environ.get("CHURNML_FUZZ_EXAMPLES", "40"))


@pytest.fixture(scope="module")
def params(tmp_path_factory, project_root) -> Path:
    path = tmp_path_factory.mktemp("params") / "params.yaml"
    path.write_text(config.dump_params(config.compose(project_root / "conf")))
    return path


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=fuzz_cases.cases())
def test_malformed_input_fails_loudly_and_loses_no_row(case, params, tmp_path):
    outcome = fuzz_cases.run_case(case, params, tmp_path)
    assert outcome.problems == [], f"{case.notes}: {outcome.problems}\n{outcome.text[-2000:]}"
    assert outcome.rows_lost == 0


def test_the_clean_base_folder_ingests_without_quarantine(params, tmp_path):
    outcome = fuzz_cases.run_case(fuzz_cases.Case(fuzz_cases._base()), params, tmp_path)
    assert outcome.code == 0 and outcome.problems == [], outcome.text


def _tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p).sort_index(axis=1) for p in folder.glob("*.parquet")}


@settings(max_examples=max(EXAMPLES // 4, 5), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(list(fuzz_cases.BASE["transactions"])),
       fmt=st.sampled_from(["csv", "parquet"]))
def test_reordered_columns_give_the_same_canonical_tables(order, fmt, params, tmp_path):
    base = fuzz_cases.Case(fuzz_cases._base())
    shuffled = fuzz_cases.Case(fuzz_cases._base(), formats={"transactions": fmt})
    shuffled.frames["transactions"] = shuffled.frames["transactions"][order]
    kept = {}
    for name, case in (("base", base), ("shuffled", shuffled)):
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        outcome = fuzz_cases.run_case(case, params, folder, keep=True)
        assert outcome.code == 0, outcome.text
        kept[name] = _tables(outcome.workdir / "interim")
    assert kept["base"].keys() == kept["shuffled"].keys()
    for table, frame in kept["base"].items():
        pd.testing.assert_frame_equal(frame, kept["shuffled"][table])
