"""The end of the data is the end of the purchases: when the events export runs past the
transactions, no feature snapshot, segment date or scoring date lies after the
transactions' end (every customer would look lapsed there); ingest records each
table's end, and a sparse table ending early is reported, not cut."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from churnml import calendar, io
from churnml.errors import ConfigError
from churnml.stages import features as features_stage
from churnml.stages import ingest as ingest_stage
from churnml.stages import labels as labels_stage
from churnml.stages import score
from churnml.stages import segments as segments_stage
from tests.oracle_features import load_config

INGEST = {"pii_columns": [], "quarantine_tolerance": 0.02,
          "quarantine_tolerance_by_table": {}, "default_timezone": "UTC"}


def _params() -> dict:
    return {"data": {"mode": "events", "snapshot": None}, "ingest": INGEST,
            "engine": {"name": "duckdb"}, "features": load_config("features"),
            "labels": load_config("labels")}


def _ingested(tmp_path: Path, tx_last: str, events_last: str) -> Path:
    """Two customers buying every week until ``tx_last``; events until ``events_last``."""
    raw, interim = tmp_path / "raw", tmp_path / "interim"
    weeks = pd.date_range("2023-01-01", tx_last, freq="7D")
    io.write_parquet(pd.DataFrame({"customer_id": ["a", "b"],
                                   "signup_date": pd.to_datetime(["2023-01-01"] * 2)}),
                     raw / "customers.parquet")
    io.write_parquet(pd.DataFrame({"customer_id": ["a", "b"] * len(weeks),
                                   "ts": weeks.repeat(2) + pd.Timedelta(hours=10),
                                   "amount": 50.0}), raw / "transactions.parquet")
    event_times = pd.to_datetime(["2023-03-01 09:00", f"{events_last} 18:00"])
    io.write_parquet(pd.DataFrame({"customer_id": ["a", "b"], "ts": event_times,
                                   "event_type": "support_contact"}), raw / "events.parquet")
    ingest_stage.run(raw, interim, _params())
    return interim


def test_ingest_records_the_end_of_each_table(tmp_path):
    interim = _ingested(tmp_path, "2024-06-30", "2024-09-30")
    manifest = io.read_json(interim / "manifest.json")
    assert manifest["table_ends"] == {"transactions": "2024-07-01T00:00:00",
                                      "events": "2024-10-01T00:00:00"}
    assert manifest["data_end"].startswith("2024-10-01")  # the latest table, as before
    assert features_stage.table_ends(interim)["transactions"] == pd.Timestamp("2024-07-01")


def test_features_segments_and_the_scoring_date_end_with_the_transactions(tmp_path, caplog):
    interim = _ingested(tmp_path, "2024-06-30", "2024-09-30")
    params = _params()
    with caplog.at_level("WARNING"):
        features_stage.run(interim, tmp_path / "features.parquet", params)
        assert score.resolve_date(None, interim, params) == pd.Timestamp("2024-07-01")
    feats = pd.read_parquet(tmp_path / "features.parquet")
    assert feats["as_of"].max() == pd.Timestamp("2024-07-01")  # not 08-01 .. 10-01
    assert (feats.loc[feats["as_of"] == feats["as_of"].max(), "recency_days"] <= 7).all()
    assert "end on" not in caplog.text  # events running later are not a warning
    dates = segments_stage.snapshot_dates(interim, params["features"]["snapshots"])
    assert dates[-1] == pd.Timestamp("2024-07-01")


def test_scoring_after_the_end_of_the_transactions_is_refused(tmp_path):
    interim = _ingested(tmp_path, "2024-06-30", "2024-09-30")
    with pytest.raises(ConfigError) as err:
        score.resolve_date("2024-09-01", interim, _params())
    for part in ("--as-of 2024-09-01", "outside the data", "transactions end on 2024-07-01",
                 "last day is 2024-06-30"):
        assert part in str(err.value)
    assert score.resolve_date("2024-07-01", interim, _params()) == pd.Timestamp("2024-07-01")


def test_events_ending_early_are_reported_and_the_calendar_is_not_cut(tmp_path, caplog):
    interim = _ingested(tmp_path, "2024-06-30", "2024-03-31")
    with caplog.at_level("WARNING", logger="churnml.stages.features"):
        features_stage.run(interim, tmp_path / "features.parquet", _params())
    feats = pd.read_parquet(tmp_path / "features.parquet")
    assert feats["as_of"].max() == pd.Timestamp("2024-07-01")
    for part in ("features: events end on 2024-04-01", "91 days before the transactions",
                 "2024-07-01"):
        assert part in caplog.text


def test_a_gap_within_the_tolerance_is_ordinary_export_lag(tmp_path, caplog):
    interim = _ingested(tmp_path, "2024-06-30", "2024-06-25")
    caplog.clear()  # ingest's own INFO lines, captured when another test set the root level
    with caplog.at_level("WARNING", logger="churnml.stages.features"):
        features_stage.warn_ending_early(interim, {"end_tolerance_days": 7}, "features")
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    with caplog.at_level("WARNING", logger="churnml.stages.features"):
        features_stage.warn_ending_early(interim, {"end_tolerance_days": 2}, "features")
    assert "events end on 2024-06-26, 5 days before" in caplog.text


def test_labels_read_the_table_ends_from_the_manifest(tmp_path):
    interim = _ingested(tmp_path, "2024-06-30", "2024-09-30")
    cfg = load_config("labels")
    ends = features_stage.table_ends(interim)
    assert labels_stage.label_end(ends, cfg, pd.Timestamp("2024-10-01")) == pd.Timestamp(
        "2024-07-01")


def test_a_manifest_without_table_ends_asks_for_a_new_ingest(tmp_path):
    io.write_json({"data_start": "2023-01-01T00:00:00", "data_end": "2024-07-01T00:00:00"},
                  tmp_path / "manifest.json")
    with pytest.raises(ConfigError, match=r"no table_ends .*rerun `churnml ingest`"):
        score.resolve_as_of(None, tmp_path)


def test_table_ends_and_the_tables_ending_early() -> None:
    start = pd.Timestamp("2023-01-01")
    def times(*values: str | None) -> pd.Series:
        return pd.Series(pd.to_datetime(list(values), format="mixed"))

    ends = calendar.table_ends(start, {
        "transactions": times("2023-02-01", "2024-06-30 23:59"),
        "events": times("2024-03-31 08:00", None),
        "campaigns": pd.Series([], dtype="datetime64[us]"), "incidents": None})
    assert ends == {"transactions": pd.Timestamp("2024-07-01"),
                    "events": pd.Timestamp("2024-04-01"), "campaigns": start}
    assert calendar.activity_end(ends) == pd.Timestamp("2024-07-01")
    assert calendar.ending_early(ends, ("events",), 7) == {"events": 91}
    assert calendar.ending_early(ends, ("events",), 91) == {}
    with pytest.raises(ConfigError, match="no end of the transactions"):
        calendar.activity_end({"events": start})
