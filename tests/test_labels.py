"""Attrition and win-back labels: definitions, horizon, and no look-back leakage."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from churnml.errors import ConfigError
from churnml.labels import make_labels, purchase_windows
from churnml.status import ACTIVE, LAPSED, customer_status

T = pd.Timestamp("2024-07-01")
HORIZON = 90


def frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=columns)
    for column in ("ts", "signup_date"):
        if column in out:
            out[column] = pd.to_datetime(out[column]).astype("datetime64[us]")
    return out


CUSTOMERS = frame([("active_leaver", "2022-01-01"), ("active_stayer", "2022-01-01"),
                   ("lapsed_returner", "2022-01-01"), ("lapsed_gone", "2022-01-01"),
                   ("newcomer", "2024-06-20"), ("future", "2024-07-02")],
                  ["customer_id", "signup_date"])
TX = frame([("active_leaver", "2024-06-15", 50.0, False),
            ("active_leaver", "2024-09-29", 50.0, False),       # at t + horizon: outside
            ("active_stayer", "2024-06-15", 50.0, False),
            ("active_stayer", "2024-07-01", 5.0, False),        # at t: inside the horizon
            ("lapsed_returner", "2023-12-01", 20.0, False),
            ("lapsed_returner", "2024-08-01", 20.0, False),
            ("lapsed_gone", "2023-12-01", 20.0, False),
            ("lapsed_gone", "2024-08-01", -20.0, True)],         # a return is no comeback
           ["customer_id", "ts", "amount", "is_return"])


def windows(tx: pd.DataFrame = TX, events: pd.DataFrame | None = None,
            labels_cfg: dict | None = None, dates: tuple = (T,)) -> pd.DataFrame:
    con = ibis.duckdb.connect()
    expr = purchase_windows(ibis.memtable(CUSTOMERS), ibis.memtable(tx), list(dates), HORIZON,
                            events=None if events is None else ibis.memtable(events),
                            labels_cfg=labels_cfg)
    return con.execute(expr)


def labels(definition, tx: pd.DataFrame = TX, events: pd.DataFrame | None = None,
           **extra) -> pd.DataFrame:
    cfg = {"horizon_days": HORIZON, "lapse_days": 90,
           "attrition": {"definition": definition, **extra}}
    return make_labels(windows(tx, events, cfg), 90, cfg).set_index("customer_id")


def test_status_is_active_for_recent_buyers_and_newcomers() -> None:
    status = customer_status(pd.Series([10.0, 120.0, np.nan, np.nan]),
                             pd.Series([400.0, 400.0, 30.0, 400.0]), 90)
    assert status.tolist() == [ACTIVE, LAPSED, ACTIVE, LAPSED]


def test_no_purchase_attrition_and_winback_look_only_at_the_horizon() -> None:
    out = labels("no_purchase")
    assert "future" not in out.index
    assert out.loc["active_leaver", "attrition"] == 1
    assert out.loc["active_stayer", "attrition"] == 0
    assert out.loc["newcomer", "attrition"] == 1 and out.loc["newcomer", "status"] == ACTIVE
    assert out.loc["lapsed_returner", "winback"] == 1
    assert out.loc["lapsed_gone", "winback"] == 0
    assert out.loc[out["status"] == ACTIVE, "winback"].isna().all()
    assert out.loc[out["status"] == LAPSED, "attrition"].isna().all()


def test_spend_drop_compares_horizon_spend_with_the_scaled_baseline() -> None:
    tx = pd.concat([TX, frame([("active_stayer", f"2024-{m:02d}-10", 100.0, False)
                               for m in range(1, 7)], list(TX.columns))], ignore_index=True)
    out = labels("spend_drop", tx, spend_fraction=0.3, baseline_days=360)
    # active_stayer: baseline 650 over 360 days -> 162.5 per horizon; spent 5 < 0.3 x 162.5
    assert out.loc["active_stayer", "attrition"] == 1
    # newcomer: no baseline, so no purchase in the horizon decides
    assert out.loc["newcomer", "attrition"] == 1
    generous = labels("spend_drop", tx, spend_fraction=0.01, baseline_days=360)
    assert generous.loc["active_stayer", "attrition"] == 0


def spend_drop_labels(customers: pd.DataFrame, tx: pd.DataFrame,
                      data_start: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    cfg = {"horizon_days": HORIZON, "lapse_days": 90,
           "attrition": {"definition": ["spend_drop"], "spend_fraction": 0.3,
                         "baseline_days": 360}}
    con = ibis.duckdb.connect()
    won = con.execute(purchase_windows(
        ibis.memtable(customers), ibis.memtable(tx), [T], HORIZON, labels_cfg=cfg,
        data_start=None if data_start is None else pd.Timestamp(data_start)))
    return won.set_index("customer_id"), make_labels(won, 90, cfg).set_index("customer_id")


def test_spend_drop_scales_a_young_customers_baseline_by_the_days_observed() -> None:
    # The audit's customer: signed up 100 days before t, 7,600 spent since (76 a day),
    # 1,000 in the horizon. Expected at their own rate: 76 x 90 = 6,840, and
    # 1,000 < 0.3 x 6,840. Over 360 days it would be 1,900, and 1,000 no drop.
    customers = frame([("A", "2024-03-23")], ["customer_id", "signup_date"])
    rows = [("A", f"{pd.Timestamp('2024-03-23') + pd.Timedelta(days=7 * i):%Y-%m-%d}", 700.0, False)
            for i in range(10)]
    rows += [("A", "2024-06-10", 600.0, False), ("A", "2024-08-15", 1000.0, False)]
    won, out = spend_drop_labels(customers, frame(rows, list(TX.columns)))
    assert won.loc["A", "baseline_observed_days"] == pytest.approx(100.0)
    assert out.loc["A", "attrition"] == 1


def test_spend_drop_baseline_starts_with_the_data() -> None:
    # Signed up in 2020; the data starts 2024-01-01 (182 days before t): 100 a week,
    # 2,600 over 182 days -> 1,285.7 per horizon; 300 in the horizon is a drop.
    customers = frame([("A", "2020-01-01")], ["customer_id", "signup_date"])
    rows = [("A", f"{pd.Timestamp('2024-01-01') + pd.Timedelta(days=7 * i):%Y-%m-%d}", 100.0, False)
            for i in range(26)] + [("A", "2024-08-01", 300.0, False)]
    won, out = spend_drop_labels(customers, frame(rows, list(TX.columns)), "2024-01-01")
    assert won.loc["A", "baseline_observed_days"] == pytest.approx(182.0)
    assert out.loc["A", "attrition"] == 1
    won, out = spend_drop_labels(customers, frame(rows, list(TX.columns)))
    assert won.loc["A", "baseline_observed_days"] == 360.0  # 0.3 x 650 = 195 < 300
    assert out.loc["A", "attrition"] == 0


def test_spend_drop_falls_back_to_no_purchase_with_less_history_than_the_horizon() -> None:
    # 30 days of history: too little to project over 90 days; a purchase means staying.
    customers = frame([("A", "2024-06-01"), ("B", "2024-06-01")], ["customer_id", "signup_date"])
    rows = [("A", "2024-06-05", 900.0, False), ("A", "2024-08-01", 1.0, False),
            ("B", "2024-06-05", 900.0, False)]
    won, out = spend_drop_labels(customers, frame(rows, list(TX.columns)))
    assert won.loc["A", "baseline_observed_days"] == pytest.approx(30.0)
    assert out.loc["A", "attrition"] == 0 and out.loc["B", "attrition"] == 1


def test_cancellation_attrition_reads_cancellation_events_in_the_horizon() -> None:
    events = frame([("active_stayer", "2024-08-01", "cancellation"),
                    ("active_leaver", "2024-06-01", "cancellation")],   # before t: not counted
                   ["customer_id", "ts", "event_type"])
    out = labels(["cancellation"], events=events)
    assert out.loc["active_stayer", "attrition"] == 1
    assert out.loc["active_leaver", "attrition"] == 0
    either = labels(["no_purchase", "cancellation"], events=events)
    assert either.loc["active_leaver", "attrition"] == 1
    with pytest.raises(ConfigError, match="needs the events"):
        labels(["cancellation"])


def test_a_customer_who_cancelled_before_the_snapshot_is_lapsed_and_gets_a_winback_label(
) -> None:
    # active_stayer bought on 06-15 and cancelled on 06-20: gone before t although the
    # purchase is recent. Labelled "stayed" (no cancellation in the horizon) it would teach
    # the model that cancelling is a sign of staying; left out, the best win-back targets
    # of a contractual business would be in neither training set. It pays again on 07-01
    # (in the horizon): a comeback. active_leaver bought again after cancelling on 06-01,
    # so it is a customer again.
    events = frame([("active_stayer", "2024-06-20", "cancellation"),
                    ("active_leaver", "2024-06-01", "cancellation")],
                   ["customer_id", "ts", "event_type"])
    for definition in (["cancellation"], ["no_purchase", "cancellation"]):
        out = labels(definition, events=events)
        assert out.loc["active_stayer", "status"] == LAPSED
        assert pd.isna(out.loc["active_stayer", "attrition"])
        assert out.loc["active_stayer", "winback"] == 1
        assert out.loc["active_leaver", "status"] == ACTIVE
        assert out.loc["active_leaver", "attrition"] == int(definition != ["cancellation"])
    # Without the cancellation definition a cancellation event does not decide status.
    retail = labels("no_purchase", events=events)
    assert retail.loc["active_stayer", "status"] == ACTIVE
    assert retail.loc["active_stayer", "attrition"] == 0


def test_a_final_bill_on_the_day_of_cancelling_does_not_undo_it() -> None:
    # Monthly bills on the 10th; the last one is paid on the day the contract is
    # cancelled. Only a purchase after the cancellation is a comeback.
    tx = frame([("active_stayer", f"2024-0{m}-10", 30.0, False) for m in range(1, 7)]
               + [("active_stayer", "2024-08-10", 30.0, False)], list(TX.columns))
    events = frame([("active_stayer", "2024-06-10", "cancellation")],
                   ["customer_id", "ts", "event_type"])
    out = labels(["cancellation"], tx=tx, events=events)
    assert out.loc["active_stayer", "status"] == LAPSED
    assert out.loc["active_stayer", "winback"] == 1     # pays again on 08-10


def test_rows_after_the_horizon_change_nothing_and_before_it_change_no_outcome() -> None:
    base = windows()
    late = pd.concat([TX, frame([("active_leaver", "2024-10-01", 99.0, False)],
                                list(TX.columns))], ignore_index=True)
    pd.testing.assert_frame_equal(windows(late), base)
    early = pd.concat([TX, frame([("active_leaver", "2024-06-30", 99.0, False)],
                                 list(TX.columns))], ignore_index=True)
    moved = windows(early).set_index("customer_id")
    assert moved.loc["active_leaver", "purchases_in_horizon"] == 0
    assert moved.loc["active_leaver", "recency_days"] == pytest.approx(1.0)


def test_unknown_definition_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="choose from"):
        labels("vibes")


def test_spend_drop_needs_its_settings() -> None:
    with pytest.raises(ConfigError, match="spend_fraction"):
        make_labels(windows(), 90, {"horizon_days": HORIZON,
                                    "attrition": {"definition": "spend_drop"}})


def test_one_date_comes_back_in_customer_order_too():
    # Without the sort, a single date came back in whatever order the backend's
    # threads finished, so labels.parquet changed from run to run.
    ids = [f"C{i:04d}" for i in range(3000)]
    customers = pd.DataFrame({"customer_id": ids[::-1], "signup_date": pd.Series(
        [pd.Timestamp("2022-01-01")] * len(ids), dtype="datetime64[us]")})
    tx = pd.DataFrame({"customer_id": ids * 2, "amount": 10.0, "is_return": False,
                       "ts": pd.Series([pd.Timestamp("2024-06-01")] * len(ids)
                                       + [pd.Timestamp("2024-08-01")] * len(ids),
                                       dtype="datetime64[us]")})
    expr = purchase_windows(ibis.memtable(customers), ibis.memtable(tx), [T], HORIZON)
    assert ibis.duckdb.connect().execute(expr)["customer_id"].tolist() == ids


def _interim(tmp_path, tx_last: str, events_last: str) -> object:
    """Canonical tables: two customers buying every 10 days until ``tx_last``; events
    (surveys, one cancellation) exported until ``events_last``."""
    from churnml import io

    ts = pd.date_range("2023-01-05", tx_last, freq="10D")
    io.write_parquet(frame([("a", "2023-01-01"), ("b", "2023-01-01")],
                           ["customer_id", "signup_date"]), tmp_path / "customers.parquet")
    io.write_parquet(frame([(c, t, 10.0, False) for c in "ab" for t in ts],
                           ["customer_id", "ts", "amount", "is_return"]),
                     tmp_path / "transactions.parquet")
    io.write_parquet(frame([("a", "2023-11-15", "cancellation"), ("b", events_last, "survey")],
                           ["customer_id", "ts", "event_type"]), tmp_path / "events.parquet")
    ends = {name: str(pd.Timestamp(last) + pd.Timedelta(days=1))
            for name, last in (("transactions", tx_last), ("events", events_last))}
    io.write_json({"data_start": "2023-01-05", "data_end": max(ends.values()),
                   "table_ends": ends}, tmp_path / "manifest.json")
    return tmp_path


def _stage_params(definition) -> dict:
    return {"data": {"mode": "events"}, "engine": {"name": "duckdb"},
            "features": {"snapshots": {"freq": "MS", "min_history_days": 180}},
            "labels": {"horizon_days": 90, "lapse_days": 90,
                       "attrition": {"definition": definition,
                                     "cancellation_event": "cancellation"}}}


def test_label_snapshots_end_with_the_purchases_when_events_run_later(tmp_path, caplog):
    from churnml.stages import labels as stage

    interim = _interim(tmp_path, tx_last="2023-12-31", events_last="2024-03-31")
    with caplog.at_level("WARNING", logger="churnml.stages.labels"):
        out = stage.run(interim, tmp_path / "labels.parquet", _stage_params(["no_purchase"]))
    # Purchases are known until 2024-01-01: 2023-10-01 + 90 days is the last full horizon.
    # Labelling to the events' end (2024-04-01) marked both loyal buyers attrited on
    # 2024-01-01, their horizon lying wholly after the purchase log.
    assert out["as_of"].max() == pd.Timestamp("2023-10-01")
    assert out["attrition"].sum() == 0
    assert "transactions" in caplog.text and "2024-01-01" in caplog.text


def test_cancellation_labels_also_stop_at_the_end_of_the_events(tmp_path):
    from churnml.stages import labels as stage

    interim = _interim(tmp_path, tx_last="2024-03-31", events_last="2023-12-31")
    out = stage.run(interim, tmp_path / "labels.parquet",
                    _stage_params(["no_purchase", "cancellation"]))
    assert out["as_of"].max() == pd.Timestamp("2023-10-01")
    cancelled = out.set_index(["customer_id", "as_of"])["attrition"]
    assert cancelled[("a", pd.Timestamp("2023-09-01"))] == 1


def test_a_visit_of_coupon_paid_items_only_is_a_purchase_in_the_horizon() -> None:
    tx = pd.concat([TX, frame([("active_leaver", "2024-08-01", 0.0, False),
                               ("lapsed_gone", "2024-08-15", 0.0, False)],
                              ["customer_id", "ts", "amount", "is_return"])])
    out = labels("no_purchase", tx)
    assert out.loc["active_leaver", "attrition"] == 0
    assert out.loc["lapsed_gone", "winback"] == 1
