"""Ingest: explicit date formats and time zones, CSV = Parquet, tolerance, the stage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnml.errors import ContractError, QuarantineToleranceError
from churnml.ingest import ingest_table, ingest_tables, over_tolerance, tolerance_message
from churnml.sources.parsing import TableSpec, parse_datetimes, parse_text
from churnml.stages import ingest as ingest_stage

CFG = {"pii_columns": ["name", "email"], "quarantine_tolerance": 0.02,
       "quarantine_tolerance_by_table": {}, "default_timezone": "UTC"}


def test_naive_times_are_read_in_the_configured_zone_and_stored_as_naive_utc():
    values = pd.Series(["2024-07-01 12:00:00", "2024-01-15 12:00:00"])
    parsed, bad = parse_datetimes(values, "%Y-%m-%d %H:%M:%S", "Europe/London")
    assert parsed.tolist() == [pd.Timestamp("2024-07-01 11:00"), pd.Timestamp("2024-01-15 12:00")]
    assert str(parsed.dtype) == "datetime64[us]" and not bad.any()


def test_values_with_offsets_are_converted_each_to_utc():
    values = pd.Series(["2024-01-01T10:00:00+01:00", "2024-06-01T10:00:00+02:00",
                        "2024-06-01T10:00:00Z"])
    parsed, _ = parse_datetimes(values, None, "America/New_York")
    assert parsed.dt.hour.tolist() == [9, 8, 10]


def test_mixed_time_zones_are_a_contract_error_naming_both_kinds():
    values = pd.Series(["2024-01-01T10:00:00+01:00", "2024-01-01 10:00:00"])
    with pytest.raises(ContractError, match="mixed time zones") as err:
        parse_datetimes(values, None, "UTC", "orders.csv", "ts")
    assert err.value.column == "ts" and "+01:00" in str(err.value)


def test_a_date_only_column_is_not_mistaken_for_an_offset():
    parsed, _ = parse_datetimes(pd.Series(["2024-01-05", "2024-02-05"]), None, "UTC")
    assert parsed.notna().all()


def test_clock_change_times_are_flagged_not_silently_shifted():
    values = pd.Series(["2024-03-31 01:30:00", "2024-10-27 01:30:00", "2024-05-01 09:00:00"])
    parsed, bad = parse_datetimes(values, "%Y-%m-%d %H:%M:%S", "Europe/London")
    assert bad.tolist() == [True, True, False] and parsed.isna().tolist() == [True, True, False]


def test_clock_change_rows_are_quarantined_with_their_own_rule():
    tx = pd.DataFrame({"customer_id": ["a", "a"], "ts": ["2024-03-31 01:30", "2024-04-01 10:00"],
                       "amount": ["1", "2"]})
    spec = TableSpec("t.csv", date_formats={"ts": "%Y-%m-%d %H:%M"}, timezone="Europe/London")
    _, quarantine = ingest_table("transactions", tx, spec, CFG)
    assert quarantine["rule"].tolist() == ["invalid_local_time_ts"]


def test_a_column_of_which_nothing_parses_is_a_wrong_type_error_with_examples():
    tx = pd.DataFrame({"customer_id": ["a", "b"], "ts": ["2024-01-01"] * 2,
                       "amount": ["twelve", "n/a"]})
    with pytest.raises(ContractError, match="wrong type") as err:
        ingest_table("transactions", tx, TableSpec("orders.csv"), CFG)
    assert err.value.file == "orders.csv" and err.value.column == "amount"
    assert "twelve" in str(err.value)


def test_error_messages_name_the_users_column():
    spec = TableSpec("orders.csv", columns={"ts": "Order Date"}, date_formats={"ts": "%d.%m.%Y"})
    tx = pd.DataFrame({"customer_id": ["a"], "ts": ["2024-01-31"], "amount": ["1"]})
    with pytest.raises(ContractError, match="Order Date") as err:
        ingest_table("transactions", tx, spec, CFG)
    assert "%d.%m.%Y" in str(err.value)


def test_integral_float_ids_lose_the_dot_zero():
    assert parse_text(pd.Series([17850.0, np.nan])).tolist()[0] == "17850"


def _typed_frames() -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame({
        "customer_id": pd.array([101, 102, 103], dtype="Int64"),
        "signup_date": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-02-01"]),
        "region": ["north", "south", None], "score": [1.5, np.nan, 3.0],
        "vip": [True, False, True]})
    transactions = pd.DataFrame({
        "customer_id": pd.array([101, 101, 102, 103, None], dtype="Int64"),
        "ts": pd.to_datetime(["2024-02-01 10:00:01", "2024-03-01 11:30:00",
                              "2024-02-02 00:00:00", "2024-02-03 23:59:59",
                              "2024-02-04 08:00:00"]),
        "amount": [10.25, -3.5, 0.1 + 0.2, 1e6, 5.0],
        "is_return": [False, True, False, False, False]})
    return {"customers": customers, "transactions": transactions}


def _write(frames: dict[str, pd.DataFrame], folder: Path, fmt: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        if fmt == "parquet":
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_the_same_rows_as_csv_and_as_parquet_give_identical_canonical_tables(tmp_path):
    frames = _typed_frames()
    a = ingest_stage.check(_write(frames, tmp_path / "csv", "csv"), CFG)
    b = ingest_stage.check(_write(frames, tmp_path / "pq", "parquet"), CFG)
    for table in frames:
        pd.testing.assert_frame_equal(a.tables[table], b.tables[table])
    pd.testing.assert_frame_equal(a.quarantine.drop(columns="source_file"),
                                  b.quarantine.drop(columns="source_file"))
    assert a.tables["customers"]["customer_id"].tolist() == ["101", "102", "103"]


AMOUNTS = st.floats(min_value=-1e7, max_value=1e7, allow_nan=False).map(lambda x: round(x, 4))
STAMPS = st.datetimes(min_value=pd.Timestamp("2000-01-01").to_pydatetime(),
                      max_value=pd.Timestamp("2030-01-01").to_pydatetime()).map(
    lambda d: d.replace(microsecond=0))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "x"]), STAMPS, AMOUNTS, st.booleans()),
                min_size=1, max_size=20))
def test_csv_and_parquet_agree_on_random_rows(tmp_path_factory, rows):
    tx = pd.DataFrame(rows, columns=["customer_id", "ts", "amount", "is_return"])
    tx["ts"] = tx["ts"].astype("datetime64[us]")
    frames = {"customers": pd.DataFrame({"customer_id": ["a", "b"],
                                         "signup_date": pd.to_datetime(["1999-01-01"] * 2)}),
              "transactions": tx}
    root = tmp_path_factory.mktemp("same")
    a = ingest_stage.check(_write(frames, root / "csv", "csv"), CFG)
    b = ingest_stage.check(_write(frames, root / "pq", "parquet"), CFG)
    pd.testing.assert_frame_equal(a.tables["transactions"], b.tables["transactions"])
    assert a.counts == b.counts


def test_per_table_tolerance_and_a_message_naming_file_rule_column_and_example():
    raw = {"customers": pd.DataFrame({"customer_id": ["a", "a", "b"],
                                      "signup_date": ["2024-01-01"] * 3}),
           "transactions": pd.DataFrame({"customer_id": ["a"], "ts": ["2024-02-01"],
                                         "amount": ["1"]})}
    result = ingest_tables(raw, {t: TableSpec(f"my_{t}.csv") for t in raw}, CFG)
    too_many = over_tolerance(result.counts, CFG)
    assert set(too_many) == {"customers"}
    message = tolerance_message(result, too_many, CFG)
    for part in ("my_customers.csv", "duplicate_customer_id", "'customer_id'", "'a'", "1 of 3"):
        assert part in message
    relaxed = {**CFG, "quarantine_tolerance_by_table": {"customers": 0.5}}
    assert over_tolerance(result.counts, relaxed) == {}


def _stage_params(mode: str = "events", snapshot: dict | None = None) -> dict:
    return {"data": {"mode": mode, "snapshot": snapshot}, "ingest": CFG}


def test_stage_writes_tables_quarantine_and_manifest(tmp_path):
    raw = _write(_typed_frames(), tmp_path / "raw", "csv")
    with pytest.raises(QuarantineToleranceError) as err:  # 1 of 5 lines has no customer
        ingest_stage.run(raw, tmp_path / "out", _stage_params())
    assert "missing_customer_id" in str(err.value) and "transactions.csv" in str(err.value)
    assert err.value.exit_code == 3
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["counts"]["transactions"] == {"rows_in": 5, "rows_kept": 4,
                                                  "rows_quarantined": 1}
    assert manifest["mode"] == "events" and manifest["data_end"].startswith("2024-03-02")
    quarantine = pd.read_parquet(tmp_path / "out" / "quarantine.parquet")
    assert quarantine[["table", "source_row", "rule"]].values.tolist() == [
        ["transactions", 5, "missing_customer_id"]]


def test_stage_in_snapshot_mode_ends_the_data_at_the_snapshot_date(tmp_path):
    customers = pd.DataFrame({"customer_id": ["a", "b"], "signup_date": ["2020-01-01"] * 2,
                              "churned": ["Yes", "No"], "churn_category": ["Price", None]})
    raw = _write({"customers": customers}, tmp_path / "raw", "csv")
    manifest = ingest_stage.run(raw, tmp_path / "out",
                                _stage_params("snapshot", {"as_of": "2022-10-01"}))
    assert manifest["mode"] == "snapshot" and manifest["data_end"].startswith("2022-10-01")
    kept = pd.read_parquet(tmp_path / "out" / "customers.parquet")
    assert kept["churned"].tolist() == [True, False]


def test_events_mode_needs_a_transaction_log(tmp_path):
    raw = _write({"customers": _typed_frames()["customers"]}, tmp_path / "raw", "csv")
    with pytest.raises(ContractError, match="'transactions' is required in events mode"):
        ingest_stage.run(raw, tmp_path / "out", _stage_params())


def test_a_table_given_twice_is_refused(tmp_path):
    raw = _write(_typed_frames(), tmp_path / "raw", "csv")
    _write({"customers": _typed_frames()["customers"]}, raw, "parquet")
    with pytest.raises(ContractError, match="given twice"):
        ingest_stage.check(raw, CFG)
