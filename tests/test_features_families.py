"""Each feature family on tiny hand-built frames, with values worked out by hand."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from churnml.errors import ConfigError
from churnml.features import build_features
from tests.oracle_features import load_config

T = pd.Timestamp("2024-07-01")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def times(values: list) -> pd.Series:
    return pd.Series(pd.to_datetime(pd.Series(values, dtype=object), format="mixed"),
                     dtype="datetime64[us]")


def customers(*ids: str, signup: str = "2023-01-01", **extra: list) -> pd.DataFrame:
    frame = pd.DataFrame({"customer_id": list(ids),
                          "signup_date": times([signup] * len(ids)),
                          "region": ["north"] * len(ids), "plan": ["basic"] * len(ids),
                          "channel": ["web"] * len(ids)})
    return frame.assign(**extra)


def purchases(rows: list[tuple], **extra: list) -> pd.DataFrame:
    """Rows of ``(customer_id, ts, amount[, category])``."""
    frame = pd.DataFrame({"customer_id": pd.Series([r[0] for r in rows], dtype="str"),
                          "ts": times([r[1] for r in rows]),
                          "amount": pd.Series([r[2] for r in rows], dtype="float64"),
                          "category": pd.Series([r[3] if len(r) > 3 else "core" for r in rows],
                                                dtype="str"),
                          "is_return": pd.Series([r[2] < 0 for r in rows], dtype="bool")})
    return frame.assign(**extra)


def events(rows: list[tuple], **extra: list) -> pd.DataFrame:
    """Rows of ``(customer_id, ts, event_type[, value])``."""
    frame = pd.DataFrame({"customer_id": [r[0] for r in rows],
                          "ts": times([r[1] for r in rows]),
                          "event_type": [r[2] for r in rows],
                          "value": [float(r[3]) if len(r) > 3 else np.nan for r in rows]})
    return frame.assign(**extra)


def features(tables: dict[str, pd.DataFrame], cfg: dict | None = None, dates=(T,),
             families=None, data_start: str | None = None) -> pd.DataFrame:
    cfg = cfg or load_config("features")
    con = ibis.duckdb.connect()
    expr = build_features({k: ibis.memtable(v) for k, v in tables.items()}, list(dates), cfg,
                          **({"families": families} if families else {}),
                          data_start=None if data_start is None else pd.Timestamp(data_start))
    return con.execute(expr).set_index("customer_id")


# --- purchases: RFM and spend dynamics ---------------------------------------------------

def test_windows_count_what_is_strictly_before_the_snapshot_and_inside_each_band() -> None:
    tx = purchases([("A", "2024-06-30 23:59:59", 10), ("A", "2024-06-01", 20),  # [0,30)
                    ("A", "2024-05-31 23:00", 40),                              # [30,60)
                    ("A", "2024-07-01", 1000), ("A", "2024-08-01", 1000)])      # at/after t
    row = features({"customers": customers("A"), "transactions": tx}).loc["A"]
    assert (row["count_30d"], row["spend_30d"]) == (2, 30.0)
    assert (row["count_prev_30d"], row["spend_prev_30d"]) == (1, 40.0)
    assert row["frequency"] == 3 and row["monetary"] == 70.0
    assert row["spend_ratio_30d"] == pytest.approx(0.75)
    assert row["count_ratio_30d"] == pytest.approx(2.0)
    assert row["recency_days"] == pytest.approx(1 / 86400)
    assert row["avg_order_value"] == pytest.approx(70 / 3)


def test_customers_without_purchases_get_zero_counts_and_null_ratios() -> None:
    frame = features({"customers": customers("A", "B"),
                      "transactions": purchases([("A", "2024-06-15", 5)])})
    b = frame.loc["B"]
    assert b["frequency"] == 0 and b["spend_90d"] == 0 and b["count_prev_180d"] == 0
    assert np.isnan(b["recency_days"]) and np.isnan(b["spend_ratio_90d"])
    assert np.isnan(b["spend_vs_baseline_30d"]) and np.isnan(b["spend_drop_30d"])
    assert not any(c.startswith("_") for c in frame.columns)
    assert frame["frequency"].dtype == "int32" and frame["count_prev_180d"].dtype == "int32"
    assert frame["spend_90d"].dtype == "float64"  # a sum of amounts stays a float


def test_spend_drop_compares_the_window_with_the_customers_own_baseline() -> None:
    monthly = [("A", f"2023-{m:02d}-15", 30) for m in range(8, 13)]
    monthly += [("A", "2024-01-15", 30), ("A", "2024-02-15", 30), ("A", "2024-06-20", 3)]
    row = features({"customers": customers("A"), "transactions": purchases(monthly)}).loc["A"]
    baseline = (5 * 30 + 2 * 30 + 3) / 360  # 2023-07-06 .. t: Aug-Dec, Jan, Feb, Jun
    assert row["spend_vs_baseline_30d"] == pytest.approx((3 / 30) / baseline)
    assert row["spend_drop_30d"] == 1
    assert row["spend_drop_180d"] == 0 or row["spend_vs_baseline_180d"] >= 0.5


def test_spend_trend_is_the_relative_least_squares_slope_of_monthly_bins() -> None:
    # Bins of 30 days counted back from t: spend 60, 50, 40, 30, 20, 10 (newest first).
    rows = [("A", T - pd.Timedelta(days=30 * i + 15), 60 - 10 * i) for i in range(6)]
    row = features({"customers": customers("A"), "transactions": purchases(rows)}).loc["A"]
    assert row["spend_trend_180d"] == pytest.approx(10 / 35)  # +10 per bin, mean bin 35


def test_trend_bins_share_the_windows_edges() -> None:
    # Exactly 30 and exactly 180 days back: in the last-30-days window and the 180-day
    # span, so in the newest bin (position +2.5) and the oldest (-2.5), not in bins 1 and 6.
    rows = [("A", T - pd.Timedelta(days=30), 1.0), ("A", T - pd.Timedelta(days=180), 1.0)]
    row = features({"customers": customers("A"), "transactions": purchases(rows)}).loc["A"]
    assert row["count_30d"] == 1 and row["spend_180d"] == 2.0
    assert row["spend_trend_180d"] == 0.0  # (2.5 - 2.5) / 17.5, over the mean bin 2 / 6


# The audit's young customer: signed up 100 days before t, 700 a week for ten weeks
# (7,000), then one purchase of 600 in the last 30 days: 7,600 over 100 observed days.
YOUNG = [("A", str(pd.Timestamp("2024-03-23") + pd.Timedelta(days=7 * i)), 700.0)
         for i in range(10)] + [("A", "2024-06-10", 600.0)]


def test_a_young_customers_baseline_is_their_spend_per_observed_day() -> None:
    row = features({"customers": customers("A", signup="2024-03-23"),
                    "transactions": purchases(YOUNG)}, families=["purchases"]).loc["A"]
    # (600 / 30) / (7,600 / 100), not / (7,600 / 360) = 0.947 as if unobserved days were 0.
    assert row["spend_vs_baseline_30d"] == pytest.approx((600 / 30) / (7600 / 100))
    assert row["spend_drop_30d"] == 1
    # 90 days: 8 x 700 + 600 = 6,200 since 2024-04-02.
    assert row["spend_vs_baseline_90d"] == pytest.approx((6200 / 90) / 76)
    assert row["spend_drop_90d"] == 0
    # 100 days of history cannot be compared with a 180-day window: null, not 2.0.
    assert pd.isna(row["spend_vs_baseline_180d"]) and pd.isna(row["spend_drop_180d"])


def test_the_trend_of_a_young_customer_uses_only_the_bins_after_signup() -> None:
    row = features({"customers": customers("A", signup="2024-03-23"),
                    "transactions": purchases(YOUNG)}, families=["purchases"]).loc["A"]
    # Three whole bins observed: 600, 2,800, 2,800 (newest first); slope -1,100 per bin
    # over the mean bin 6,200 / 3. Counting the three bins before signup as zero spend
    # read this collapse as +0.29, "rising".
    assert row["spend_trend_180d"] == pytest.approx(-1100 / (6200 / 3))


def test_the_trend_is_null_with_fewer_observed_bins_than_trend_min_bins() -> None:
    rows = [("A", "2024-05-20", 50.0), ("A", "2024-06-20", 10.0),
            ("B", "2024-06-20", 10.0)]
    cust = pd.concat([customers("A", signup="2024-05-01"), customers("B", signup="2024-06-10")],
                     ignore_index=True)
    frame = features({"customers": cust, "transactions": purchases(rows)}, families=["purchases"])
    assert frame.loc["A", "spend_trend_180d"] == pytest.approx(-40 / 30)  # 2 bins: 10, 50
    assert np.isnan(frame.loc["B", "spend_trend_180d"])  # 21 days: no whole bin
    cfg = load_config("features")
    cfg["purchases"]["trend_min_bins"] = 3
    strict = features({"customers": cust, "transactions": purchases(rows)}, cfg,
                      families=["purchases"])
    assert np.isnan(strict.loc["A", "spend_trend_180d"])


def test_the_baseline_starts_with_the_data_when_the_customer_is_older() -> None:
    # Signed up in 2020; the data starts 2024-01-01, 182 days before t. B buys 100 a
    # week throughout; C cut to 25 a week for the last four weeks.
    b = [("B", str(pd.Timestamp("2024-01-01") + pd.Timedelta(days=7 * i)), 100.0)
         for i in range(26)]
    c = [("C", str(pd.Timestamp("2024-01-01") + pd.Timedelta(days=7 * i)),
          100.0 if i < 22 else 25.0) for i in range(26)]
    tables = {"customers": customers("B", "C", signup="2020-01-01"),
              "transactions": purchases(b + c)}
    frame = features(tables, families=["purchases"], data_start="2024-01-01")
    assert frame.loc["B", "spend_vs_baseline_30d"] == pytest.approx((400 / 30) / (2600 / 182))
    assert frame.loc["B", "spend_drop_30d"] == 0
    assert frame.loc["C", "spend_vs_baseline_30d"] == pytest.approx((100 / 30) / (2300 / 182))
    assert frame.loc["C", "spend_drop_30d"] == 1
    # Without the data's start, the days before it would count as zero spend.
    unclipped = features(tables, families=["purchases"])
    assert unclipped.loc["C", "spend_vs_baseline_30d"] == pytest.approx(
        (100 / 30) / (2300 / 360))


def test_a_data_start_before_signup_changes_nothing() -> None:
    tables = {"customers": customers("A", signup="2024-03-23"), "transactions": purchases(YOUNG)}
    early = features(tables, families=["purchases"], data_start="2023-01-01")
    pd.testing.assert_frame_equal(early, features(tables, families=["purchases"]))


# --- cadence -------------------------------------------------------------------------------

def test_cadence_uses_gaps_between_purchase_days_and_overdue_against_them() -> None:
    rows = [("A", "2024-04-01 09:00", 10), ("A", "2024-04-01 18:00", 10),  # one basket day
            ("A", "2024-04-11", 10), ("A", "2024-05-01", 10), ("A", "2024-05-31", 10)]
    row = features({"customers": customers("A"), "transactions": purchases(rows)}).loc["A"]
    gaps = np.array([10.0, 20.0, 30.0])
    assert row["purchase_days"] == 4
    assert row["mean_gap_days"] == pytest.approx(gaps.mean())
    assert row["gap_std_days"] == pytest.approx(gaps.std(ddof=1))
    assert row["overdue_ratio"] == pytest.approx(31 / 20)
    assert row["overdue_days"] == pytest.approx(11)


# --- signals -------------------------------------------------------------------------------

def test_switch_signals_and_spend_moving_to_substitutes() -> None:
    tx = purchases([("A", "2023-12-01", 90, "core"), ("A", "2023-12-15", 10, "substitute"),
                    ("A", "2024-06-01", 50, "core"), ("A", "2024-06-10", 50, "substitute")],
                   discount=[0.0, 0.0, 0.0, 25.0])
    ev = events([("A", "2024-06-20", "competitor_inquiry"), ("A", "2024-06-25", "price_comparison"),
                 ("A", "2024-05-01", "port_out_request"), ("A", "2024-07-02", "cancel_page_visit")])
    row = features({"customers": customers("A"), "transactions": tx, "events": ev}).loc["A"]
    assert row["competitor_inquiry_30d"] == 1 and row["price_comparison_30d"] == 1
    assert row["port_out_request_30d"] == 0 and row["port_out_request_90d"] == 1
    assert row["switch_signals_30d"] == 2 and row["switch_signals_90d"] == 3
    assert row["cancel_page_visit_90d"] == 0
    assert row["days_since_switch_signal"] == pytest.approx(6)
    assert row["substitute_share_90d"] == pytest.approx(0.5)
    assert row["substitute_share_all"] == pytest.approx(60 / 200)
    assert row["substitute_shift_90d"] == pytest.approx(0.2)
    assert row["discount_rate_90d"] == pytest.approx(25 / 125)


# --- experience ----------------------------------------------------------------------------

def test_open_and_resolved_complaints_by_value_follow_up_and_age() -> None:
    ev = events([("A", "2024-06-25", "complaint", 1),   # resolved on value, known only 07-09
                 ("A", "2024-06-01", "complaint", 1),   # resolved on value (06-15 < t)
                 ("A", "2024-06-05", "complaint", 0),   # resolved by the follow-up below
                 ("A", "2024-06-06", "support_contact"),
                 ("A", "2024-07-01", "support_contact"),  # at t: too late to count
                 ("B", "2024-05-20", "complaint", 0),   # open: nothing resolved it
                 ("B", "2023-10-01", "complaint", 0)])  # unresolved but too old to be open
    frame = features({"customers": customers("A", "B"), "transactions": purchases([]),
                      "events": ev})
    assert frame["open_complaints"].to_dict() == {"A": 1, "B": 1}
    assert frame.loc["A", "complaint_90d"] == 3
    assert frame.loc["A", "resolved_complaints_90d"] == 2
    assert frame.loc["A", "support_contact_90d"] == 1
    assert frame.loc["A", "days_since_complaint"] == pytest.approx(6)


def test_an_explicit_resolved_ts_column_is_used_when_present() -> None:
    ev = events([("A", "2024-06-01", "complaint"), ("A", "2024-06-02", "complaint")],
                resolved_ts=times(["2024-06-10", "2024-07-05"]))
    row = features({"customers": customers("A"), "transactions": purchases([]),
                    "events": ev}).loc["A"]
    assert row["open_complaints"] == 1


def test_returns_chargebacks_and_surveys() -> None:
    tx = purchases([("A", "2024-06-01", 100), ("A", "2024-06-05", -30), ("A", "2023-01-10", -99)])
    ev = events([("A", "2024-03-01", "survey_score", 9), ("A", "2024-06-01", "survey_score", 4),
                 ("A", "2024-06-02", "chargeback"), ("A", "2024-06-03", "complaint", 0)],
                severity=[np.nan, np.nan, np.nan, 3.0])
    row = features({"customers": customers("A"), "transactions": tx, "events": ev}).loc["A"]
    assert row["returns_90d"] == 1 and row["return_amount_90d"] == 30.0
    assert row["return_rate_90d"] == pytest.approx(0.3)
    assert row["frequency"] == 1  # returns are not purchases
    assert row["chargeback_90d"] == 1
    assert row["survey_score_last"] == 4 and row["survey_score_mean_365d"] == pytest.approx(6.5)
    assert row["complaint_severity_max_90d"] == 3


def test_survey_features_do_not_depend_on_row_order() -> None:
    # Two scores at the same instant (date-only timestamps make this common) and
    # values whose float sum depends on the order they are added in.
    rows = [("A", "2024-06-01", "survey_score", 9), ("A", "2024-06-01", "survey_score", 4),
            ("A", "2024-05-01", "survey_score", 0.1), ("A", "2024-05-02", "survey_score", 1e8),
            ("A", "2024-05-03", "survey_score", 0.2)]
    found = []
    for order in ([0, 1, 2, 3, 4], [1, 0, 4, 3, 2], [3, 4, 1, 2, 0]):
        ev = events([rows[i] for i in order])
        found.append(features({"customers": customers("A"), "transactions": purchases([]),
                               "events": ev}).loc["A"])
    assert {row["survey_score_last"] for row in found} == {9.0}  # the higher of the tie
    means = {row["survey_score_mean_365d"] for row in found}
    assert len(means) == 1 and means.pop() == pytest.approx((13 + 0.3 + 1e8) / 5)


# --- incidents: shared-cause exposure --------------------------------------------------------

def _incidents(rows: list[tuple]) -> pd.DataFrame:
    """Rows of ``(incident_id, start, end, scope, region, product_id)``."""
    return pd.DataFrame({
        "incident_id": [r[0] for r in rows],
        "start": times([r[1] for r in rows]),
        "end": times([r[2] for r in rows]),
        "scope": [r[3] for r in rows], "severity": [2.0] * len(rows),
        "region": pd.Series([r[4] for r in rows], dtype="str"),
        "product_id": pd.Series([r[5] for r in rows], dtype="str")})


def test_exposure_follows_the_scope_rules_and_the_complaint_rate_counts_the_exposed() -> None:
    people = customers("N1", "N2", "S1", "S2", "S3")
    people["region"] = ["north", "north", "south", "south", "south"]
    tx = purchases([("S1", "2024-06-05", 10), ("S2", "2024-06-07", 10), ("S3", "2024-05-01", 10)],
                   product_id=["P1", "P2", "P1"])
    ev = events([("N1", "2024-06-03", "complaint", 0), ("S1", "2024-06-08", "complaint", 0)],
                incident_id=["R", "B"])
    inc = _incidents([("R", "2024-06-01", "2024-06-05", "region", None, None),   # inferred: north
                      ("B", "2024-06-01", None, "batch", None, "P1"),            # product P1
                      ("F", "2024-07-02", None, "region", "south", None)])       # future
    frame = features({"customers": people, "transactions": tx, "events": ev, "incidents": inc})
    assert frame["incidents_exposed"].to_dict() == {"N1": 1, "N2": 1, "S1": 1, "S2": 0, "S3": 0}
    assert frame.loc["N2", "incidents_silent_exposed"] == 1
    assert frame.loc["N1", "incidents_silent_exposed"] == 0
    assert frame.loc["N2", "incident_complaint_rate_max"] == pytest.approx(0.5)
    assert frame.loc["S1", "incidents_open_exposed"] == 1
    assert frame.loc["N1", "incidents_open_exposed"] == 0
    assert np.isnan(frame.loc["S2", "incident_complaint_rate_max"])
    assert frame.loc["N2", "days_since_incident"] == pytest.approx(30)
    assert frame.loc["N1", "region_complaint_rate_30d"] == pytest.approx(0.5)


def test_an_incident_stops_counting_linger_days_after_it_ends() -> None:
    inc = _incidents([("X", "2024-01-01", "2024-02-01", "courier", None, None)])
    tx = purchases([("A", "2024-01-10", 10)])
    cfg = load_config("features")
    early = features({"customers": customers("A"), "transactions": tx,
                      "events": events([("A", "2023-12-01", "referral")]), "incidents": inc},
                     cfg, dates=(ts("2024-04-01"), ts("2024-06-01")))
    assert early["incidents_exposed"].tolist() == [1, 0]


def _endless_incident_world() -> dict[str, pd.DataFrame]:
    """A courier incident logged with a start only (2022-01-05); OLD bought and complained
    then, NEW signed up in May 2024 and bought in June."""
    people = pd.concat([customers("OLD", signup="2021-01-01"),
                        customers("NEW", signup="2024-05-01")])
    tx = purchases([("OLD", "2022-01-10", 10), ("NEW", "2024-06-10", 10)])
    ev = events([("OLD", "2022-01-12", "complaint", 0)], incident_id=["I1"])
    inc = _incidents([("I1", "2022-01-05", None, "courier", None, None)])
    return {"customers": people, "transactions": tx, "events": ev, "incidents": inc}


def test_an_incident_without_end_stops_max_open_days_after_its_start() -> None:
    frame = features(_endless_incident_world())  # 2.5 years later: long over
    assert frame["incidents_exposed"].to_dict() == {"NEW": 0, "OLD": 0}
    assert frame.loc["NEW", "incidents_silent_exposed"] == 0
    assert np.isnan(frame.loc["NEW", "days_since_incident"])
    assert np.isnan(frame.loc["NEW", "incident_complaint_rate_max"])


def test_an_incident_without_end_runs_until_max_open_days() -> None:
    cfg = load_config("features")
    cfg["incidents"]["max_open_days"] = 20  # assumed over on 2024-06-21
    inc = _incidents([("X", "2024-06-01", None, "courier", None, None)])
    tx = purchases([("A", "2024-06-10", 10), ("B", "2024-06-25", 10)])
    tables = {"customers": customers("A", "B"), "transactions": tx,
              "events": events([("A", "2023-12-01", "referral")]), "incidents": inc}
    frame = features(tables, cfg, dates=(ts("2024-06-15"), T))
    at = frame.set_index("as_of", append=True)
    assert at.loc[("A", ts("2024-06-15")), "incidents_open_exposed"] == 1  # still open then
    assert at.loc[("A", T), "incidents_exposed"] == 1  # over, within linger_days
    assert at.loc[("A", T), "incidents_open_exposed"] == 0
    assert at.loc[("B", T), "incidents_exposed"] == 0  # bought after it was over


def test_a_null_max_open_days_keeps_an_incident_without_end_open() -> None:
    cfg = load_config("features")
    cfg["incidents"]["max_open_days"] = None
    frame = features(_endless_incident_world(), cfg)
    assert frame["incidents_open_exposed"].to_dict() == {"NEW": 1, "OLD": 1}
    assert frame.loc["NEW", "days_since_incident"] == pytest.approx(908)


# --- attributes, assembly, configuration ----------------------------------------------------

def test_grid_holds_customers_signed_up_before_the_snapshot_with_their_attributes() -> None:
    people = pd.concat([customers("A", signup="2024-01-01"), customers("B", signup="2024-07-01")])
    people["age"] = [41, 30]
    cfg = {**load_config("features"), "numeric_attributes": ["age", "missing_column"]}
    frame = features({"customers": people, "transactions": purchases([])}, cfg)
    assert frame.index.tolist() == ["A"]
    assert frame.loc["A", "tenure_days"] == pytest.approx(182)
    assert frame.loc["A", "age"] == 41.0 and frame.loc["A", "region"] == "north"


def test_families_can_be_chosen_and_purchases_is_required() -> None:
    tables = {"customers": customers("A"), "transactions": purchases([("A", "2024-06-01", 5)])}
    core = features(tables, families=("purchases",))
    assert "spend_30d" in core and "mean_gap_days" not in core
    with pytest.raises(ConfigError, match="purchases"):
        features(tables, families=("cadence",))


def test_config_errors_are_clear() -> None:
    cfg = load_config("features")
    clash = {**cfg, "signals": {**cfg["signals"], "event_types": ["complaint"]}}
    tables = {"customers": customers("A"), "transactions": purchases([])}
    with pytest.raises(ConfigError, match="both"):
        features(tables, clash)
    with pytest.raises(ConfigError, match="no snapshot dates"):
        features(tables, cfg, dates=())


def test_a_trend_needs_at_least_two_bins_to_fit() -> None:
    cfg = load_config("features")
    cfg["purchases"]["trend_min_bins"] = 1
    tables = {"customers": customers("A"), "transactions": purchases([])}
    with pytest.raises(ConfigError, match="trend_min_bins"):
        features(tables, cfg)


def test_an_item_paid_in_full_by_a_coupon_is_a_purchase_occasion() -> None:
    # amount 0, discount 25: a visit, not a silence; adds nothing to spend but counts in
    # discount dependence (the audit's customer B: recency 168 instead of 16)
    tx = purchases([("B", "2024-01-15", 50.0), ("B", "2024-06-15", 0.0),
                    ("B", "2024-08-01", 0.0)], discount=[0.0, 25.0, 25.0])
    row = features({"customers": customers("B"), "transactions": tx},
                   families=["purchases", "cadence", "signals"]).loc["B"]
    assert row["frequency"] == 2 and row["recency_days"] == pytest.approx(16)
    assert row["monetary"] == 50.0
    assert row["discount_rate_90d"] == pytest.approx(1.0)
    assert row["discount_rate_all"] == pytest.approx(25 / 75)


def test_spend_exactly_at_the_drop_ratio_is_no_drop_whatever_the_round_off() -> None:
    # 90-day spend 0.70 against a 360-day baseline of 5.60: exactly half the baseline
    # rate, so no drop. As spend_180d + spend_prev_180d the baseline was 0.7 + 4.9 =
    # 5.6000000000000005 in floats, which made the ratio fall just below 0.5.
    tx = purchases([("A", "2024-06-20", 0.70), ("A", "2023-11-01", 4.90)])
    row = features({"customers": customers("A"), "transactions": tx}).loc["A"]
    assert row["spend_vs_baseline_90d"] == 0.5
    assert row["spend_drop_90d"] == 0
