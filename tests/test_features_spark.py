"""The Spark engine (Ibis's pyspark backend, local mode) gives DuckDB's features."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import local_spark_engine
from tests.oracle_features import assert_frames_close, load_config, random_world

pytestmark = pytest.mark.slow
DATES = [pd.Timestamp("2023-08-01"), pd.Timestamp("2024-03-15")]
TEXT = ("customer_id", "as_of", "region", "plan", "channel")
DATA_START = pd.Timestamp("2023-03-01")  # after many signups: baselines and trends are clipped


def test_spark_local_mode_gives_the_same_features_as_duckdb(tmp_path: Path) -> None:
    from churnml.features import compute_features, connect, load_tables

    engine = local_spark_engine("local[2]", tmp_path / "warehouse")
    world = random_world(5, 30, 400, 300, 3, DATES)
    # one incident still open (no end): it counts for incidents.max_open_days after start
    world["incidents"].loc[world["incidents"].index[-1], "end"] = pd.NaT
    for name, frame in world.items():
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    cfg = load_config("features")
    duck = connect({"name": "duckdb"})
    expected = compute_features(duck, load_tables(duck, tmp_path), DATES, cfg,
                                data_start=DATA_START)
    spark = connect(engine)
    actual = compute_features(spark, load_tables(spark, tmp_path), DATES, cfg,
                              data_start=DATA_START)
    assert list(actual.columns) == list(expected.columns)
    assert_frames_close(actual, expected, [c for c in expected.columns if c not in TEXT])
    for column in TEXT[2:]:
        assert actual[column].tolist() == expected[column].tolist()


def test_spark_local_mode_gives_the_same_purchase_windows_and_labels_as_duckdb(
        tmp_path: Path) -> None:
    from churnml.features import connect, load_tables
    from churnml.labels import make_labels, purchase_windows

    engine = local_spark_engine("local[2]", tmp_path / "warehouse")
    for name, frame in random_world(7, 30, 400, 300, 3, DATES).items():
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    cfg = {**load_config("labels"), "horizon_days": 90}
    cfg["attrition"] = {**cfg["attrition"], "cancellation_event": "downgrade",
                        "definition": ["no_purchase", "spend_drop", "cancellation"]}
    frames = {}
    for name, settings in (("duckdb", {"name": "duckdb"}), ("spark", engine)):
        con = connect(settings)
        tables = load_tables(con, tmp_path, ("customers", "transactions", "events"))
        windows = con.execute(purchase_windows(tables["customers"], tables["transactions"],
                                               DATES, 90, events=tables["events"],
                                               labels_cfg=cfg, data_start=DATA_START))
        frames[name] = windows.sort_values(["customer_id", "as_of"], ignore_index=True)
    expected, actual = frames["duckdb"], frames["spark"]
    assert list(actual.columns) == list(expected.columns) and len(actual) == len(expected)
    assert (expected["cancelled_in_horizon"] > 0).any() and (expected["baseline_spend"] > 0).any()
    assert_frames_close(actual, expected, [c for c in expected.columns if c not in TEXT])
    pd.testing.assert_frame_equal(make_labels(actual, 60, cfg), make_labels(expected, 60, cfg))
