"""On a small seeded synthetic world, the segment rules recover the truth (slow).

The full figures of issue 7 come from ``benchmarks/segments_agreement.py`` on the
default world; this test guards the same measures on a smaller world so that a change
that breaks them shows up in ``make test``.
"""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

from churnml.cli import main as churnml
from churnml.segments import segment_customers
from churnml.stages.segments import data_window, read_tables, snapshot_dates
from tests.oracle_features import load_config
from tests.segment_frames import ROOT, default_cfg

pytestmark = pytest.mark.slow


def _benchmark():
    spec = importlib.util.spec_from_file_location(
        "segments_agreement", ROOT / "benchmarks" / "segments_agreement.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _exits(truth):
    """Every exit episode (``exits.parquet``), else each customer's latest exit."""
    if (truth / "exits.parquet").is_file():
        return pd.read_parquet(truth / "exits.parquet")
    return pd.read_parquet(truth / "customers.parquet").dropna(subset=["exit_date"])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("segments_world")
    params = str(ROOT / "params.yaml")
    assert churnml(["--params", params, "simulate", "--customers", "3000",
                    "--out", str(root / "world")]) == 0
    assert churnml(["--params", params, "ingest", "--data", str(root / "world"),
                    "--out", str(root / "interim")]) == 0
    interim = root / "interim"
    dates = snapshot_dates(interim, {"freq": "MS", "min_history_days": 180})
    segments = segment_customers(
        read_tables(interim), dates, default_cfg(), 90, data_window(interim)[0].as_unit("us"),
        max_open_days=default_cfg("features")["incidents"]["max_open_days"],
        cancellation_event=None)
    return root / "world" / "truth", interim, segments


def test_rungs_mostly_agree_with_the_truth(world):
    truth, _, segments = world
    result = _benchmark().rung_agreement(segments, pd.read_parquet(truth / "customers.parquet"))
    assert result["agreement"] >= 0.75


def test_causes_agree_well_above_chance(world):
    truth, _, segments = world
    result = _benchmark().cause_agreement(segments, _exits(truth))
    assert result["rows"] >= 0.8 * result["of"]  # most exits show up as a lapse
    # 0.808 on this 3,000-customer world (0.80 with the previous signal windows; one
    # 120/120-day window for every signal gave 0.78)
    assert result["agreement"] >= 0.79
    assert min(result["recall"].values()) >= 0.4


def test_exposed_customers_who_never_complained_leave_more(world):
    truth, interim, segments = world
    bench = _benchmark()
    rates = bench.exit_rates(segments, _exits(truth), 90)
    assert rates["ratio_never_complained_vs_unexposed"] >= 1.3
    if not (truth / "exposures.parquet").is_file():
        return
    tracing = bench.tracing_quality(read_tables(interim), data_window(interim)[1].as_unit("us"),
                                    default_cfg()["shared_cause"],
                                    pd.read_parquet(truth / "exposures.parquet"),
                                    load_config("features")["incidents"]["max_open_days"])
    assert tracing["precision"] >= 0.9 and tracing["recall"] >= 0.9
