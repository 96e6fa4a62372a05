"""The features benchmark's own arithmetic (the measured parts run in ``benchmarks/``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("features_benchmark",
                                                  ROOT / "benchmarks" / "features.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_part_is_reported_by_its_median_run_not_its_fastest(bench: ModuleType) -> None:
    runs = [{"wall_s": 10.3, "cpu_s": 1.0}, {"wall_s": 9.7, "cpu_s": 2.0},
            {"wall_s": 10.0, "cpu_s": 3.0}]
    assert bench.median_run(runs) == {"wall_s": 10.0, "cpu_s": 3.0, "range": (9.7, 10.3)}


def test_of_an_even_number_of_runs_the_slower_middle_one_is_kept(bench: ModuleType) -> None:
    runs = [{"wall_s": 9.9}, {"wall_s": 10.1}]
    assert bench.median_run(runs) == {"wall_s": 10.1, "range": (9.9, 10.1)}
    assert bench.median_run([{"wall_s": 5.0}]) == {"wall_s": 5.0, "range": (5.0, 5.0)}


def test_the_three_core_implementations_agree_on_a_small_world(bench: ModuleType,
                                                              tmp_path: Path) -> None:
    """SQL, churnml and pandas give the same core features, baseline and trend included."""
    bench.generate(tmp_path, customers=300, transactions=6000)
    sql = bench.part_core_sql(tmp_path, same_output=True).set_index("customer_id")
    ours = bench.part_core_churnml(tmp_path).set_index("customer_id")
    pandas = bench.part_core_pandas(tmp_path).set_index("customer_id")
    young = ours["spend_vs_baseline_180d"].isna() & (ours["tenure_days"] < 180)
    assert young.any()  # the world has customers too young for a 180-day comparison
    for column in bench.CORE_CHECK:
        for other in (sql, pandas):
            expected = pd.to_numeric(other.loc[ours.index, column]).to_numpy(float)
            got = pd.to_numeric(ours[column]).to_numpy(float)
            assert np.array_equal(np.isnan(got), np.isnan(expected)), column
            assert np.allclose(got, expected, rtol=1e-9, atol=1e-9, equal_nan=True), column
