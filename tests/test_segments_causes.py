"""Churn-cause typing: lapses, signal windows, the decision list and its evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnml.segments.build import segment_snapshot
from churnml.segments.causes import (
    cause_signals,
    lapsed_customers,
    snapshot_cause_signals,
    type_causes,
)
from tests.segment_frames import AS_OF, customers, default_cfg, events, transactions

LAPSE_DAYS = 90


@pytest.fixture
def cfg():
    return default_cfg()["causes"]


def _causes(tx, ev, cfg, exposure=None) -> dict[str, str]:
    lapses = lapsed_customers(tx, AS_OF, LAPSE_DAYS)
    typed = type_causes(cause_signals(lapses, ev, cfg, exposure), cfg)
    return dict(zip(typed["customer_id"], typed["churn_cause"], strict=True))


def test_only_customers_silent_for_lapse_days_are_lapsed():
    tx = transactions([("gone", "2024-01-10", 10.0), ("recent", "2024-06-01", 10.0),
                       ("returned_only", "2024-01-10", -10.0, True)])
    lapses = lapsed_customers(tx, AS_OF, LAPSE_DAYS)
    assert lapses["customer_id"].tolist() == ["gone"]
    assert lapses["last_purchase"].iloc[0] == pd.Timestamp("2024-01-10")


def test_each_cause_from_its_signals(cfg):
    ids = ["lured", "paid", "burned", "pricey", "quiet", "one_price_check"]
    tx = transactions([(c, "2024-02-01", 30.0) for c in ids])
    ev = events([
        ("lured", "2024-01-15", "competitor_inquiry"), ("lured", "2024-02-10", "port_out_request"),
        ("paid", "2024-02-20", "payment_failure"),
        ("burned", "2024-01-20", "complaint"),
        ("pricey", "2024-01-05", "price_comparison"), ("pricey", "2024-01-25", "price_comparison"),
        ("quiet", "2024-02-15", "cancel_page_visit"),
        ("one_price_check", "2024-01-25", "price_comparison"),
    ])
    assert _causes(tx, ev, cfg) == {"lured": "lured", "paid": "involuntary", "burned": "burned",
                                    "pricey": "price", "quiet": "unknown",
                                    "one_price_check": "unknown"}


def test_the_first_rule_reached_wins(cfg):
    tx = transactions([("both", "2024-02-01", 30.0)])
    ev = events([("both", "2024-01-20", "complaint"), ("both", "2024-01-21", "complaint"),
                 ("both", "2024-01-22", "competitor_inquiry"),
                 ("both", "2024-01-23", "competitor_inquiry")])
    assert _causes(tx, ev, cfg) == {"both": "lured"}
    cfg["rules"] = [r for r in cfg["rules"] if r["cause"] != "lured"]
    assert _causes(tx, ev, cfg) == {"both": "burned"}


def test_one_competitor_inquiry_alone_is_not_lured(cfg):
    tx = transactions([("a", "2024-02-01", 30.0)])
    ev = events([("a", "2024-01-15", "competitor_inquiry")])
    assert _causes(tx, ev, cfg) == {"a": "unknown"}


def test_signals_outside_the_window_or_after_as_of_do_not_count(cfg):
    tx = transactions([("a", "2024-02-01", 30.0)])
    ev = events([("a", "2023-06-01", "complaint"),         # long before the lapse
                 ("a", "2024-07-01", "payment_failure")])  # on as_of: not yet known
    assert _causes(tx, ev, cfg) == {"a": "unknown"}


def test_incident_exposure_in_the_window_means_burned(cfg):
    tx = transactions([("a", "2024-02-01", 30.0)])
    exposure = pd.DataFrame({"customer_id": ["a"], "incident_id": ["INC1"],
                             "exposed_at": [pd.Timestamp("2024-01-15")]})
    lapses = lapsed_customers(tx, AS_OF, LAPSE_DAYS)
    typed = type_causes(cause_signals(lapses, None, cfg, exposure), cfg)
    assert typed["churn_cause"].tolist() == ["burned"]
    assert typed["cause_incidents"].tolist() == ["INC1"]
    assert "1 x incident exposure" in typed["cause_evidence"].iloc[0]


def test_evidence_lists_signals_and_window(cfg):
    tx = transactions([("a", "2024-02-01", 30.0)])
    ev = events([("a", "2024-01-15", "competitor_inquiry"),
                 ("a", "2024-01-16", "competitor_inquiry"),
                 ("a", "2024-01-20", "price_comparison")])
    typed = type_causes(cause_signals(lapsed_customers(tx, AS_OF, LAPSE_DAYS), ev, cfg), cfg)
    row = typed.iloc[0]
    assert row["cause_evidence"] == ("2 x competitor inquiry, 1 x price comparison "
                                     "(2023-10-04 to 2024-05-31)")
    assert row["churn_cause"] == "lured"
    assert row["evidence_competitor_inquiry"] == 2 and row["cause_score"] == 2.25


def test_no_lapsed_customers_gives_an_empty_frame(cfg):
    tx = transactions([("a", "2024-06-20", 30.0)])
    typed = type_causes(cause_signals(lapsed_customers(tx, AS_OF, LAPSE_DAYS), None, cfg), cfg)
    assert typed.empty and "churn_cause" in typed


def test_snapshot_tables_type_churned_customers_from_attributes(cfg):
    cust = customers("stayed", "refunded", "extra_data", "plain",
                     churned=[False, True, True, True],
                     total_refunds=[5.0, 12.5, 0.0, 0.0],
                     total_extra_data_charges=["0", "0", "40", None])
    cfg["snapshot_signals"] = [
        {"column": "total_refunds", "at_least": 0.01, "signal": "complaint", "weight": 1.0},
        {"column": "total_extra_data_charges", "at_least": 0.01, "signal": "price_comparison",
         "weight": 2.0},
        {"column": "not_there", "at_least": 1, "signal": "complaint", "weight": 1.0}]
    typed = type_causes(snapshot_cause_signals(cust, AS_OF, cfg), cfg)
    assert dict(zip(typed["customer_id"], typed["churn_cause"], strict=True)) == {
        "refunded": "burned", "extra_data": "price", "plain": "unknown"}
    assert np.all(typed["as_of"] == AS_OF)


def test_each_signal_counts_in_its_own_window(cfg):
    cfg["signal_windows"] = {"complaint": {"days_before": 30, "days_after": 0},
                             "payment_failure": {"days_before": 0, "days_after": 60}}
    tx = transactions([(c, "2024-02-01", 30.0) for c in ("early", "inside", "late_pay", "pay")])
    ev = events([("early", "2023-12-01", "complaint"),       # 62 days before: outside
                 ("inside", "2024-01-20", "complaint"),      # 12 days before: inside
                 ("late_pay", "2024-04-15", "payment_failure"),  # 74 days after: outside
                 ("pay", "2024-02-20", "payment_failure")])
    assert _causes(tx, ev, cfg) == {"early": "unknown", "inside": "burned",
                                    "late_pay": "unknown", "pay": "involuntary"}


def test_incident_exposure_after_the_last_purchase_does_not_burn(cfg):
    cfg["signal_windows"] = {"incident_exposure": {"days_before": 180, "days_after": 0}}
    tx = transactions([("a", "2024-02-01", 30.0)])
    exposure = pd.DataFrame({"customer_id": ["a"], "incident_id": ["INC1"],
                             "exposed_at": [pd.Timestamp("2024-03-01")]})
    typed = type_causes(cause_signals(lapsed_customers(tx, AS_OF, LAPSE_DAYS), None, cfg,
                                      exposure), cfg)
    assert typed["churn_cause"].tolist() == ["unknown"]


def test_a_resolved_complaint_alone_does_not_burn_but_an_unresolved_one_does(cfg):
    tx = transactions([(c, "2024-02-01", 30.0) for c in ("resolved", "open", "unknown_state",
                                                         "two_resolved")])
    ev = events([("resolved", "2024-01-20", "complaint"), ("open", "2024-01-20", "complaint"),
                 ("unknown_state", "2024-01-20", "complaint"),
                 ("two_resolved", "2024-01-10", "complaint"),
                 ("two_resolved", "2024-01-20", "complaint")],
                value=[1.0, 0.0, None, 1.0, 1.0])
    assert _causes(tx, ev, cfg) == {"resolved": "unknown", "open": "burned",
                                    "unknown_state": "burned", "two_resolved": "burned"}
    typed = type_causes(cause_signals(lapsed_customers(tx, AS_OF, LAPSE_DAYS), ev, cfg), cfg)
    evidence = typed.set_index("customer_id")["cause_evidence"]
    assert evidence["resolved"].startswith("1 x complaint, 1 x resolved complaint")


def test_a_downgrade_points_at_price_not_a_competitor(cfg):
    tx = transactions([("a", "2024-02-01", 30.0), ("b", "2024-02-01", 30.0)])
    ev = events([("a", "2024-01-10", "competitor_inquiry"), ("a", "2024-01-12", "price_comparison"),
                 ("a", "2024-01-14", "price_comparison"),
                 ("b", "2024-01-10", "competitor_inquiry"), ("b", "2024-01-12", "price_comparison"),
                 ("b", "2024-01-14", "price_comparison"), ("b", "2024-01-20", "downgrade")])
    assert _causes(tx, ev, cfg) == {"a": "lured", "b": "price"}


def test_an_exposure_on_the_last_visits_does_not_burn_but_an_earlier_one_does(cfg):
    # Default windows: an incident met within two weeks of the last purchase is as common
    # among customers who leave for no visible reason (a negative days_after ends the
    # window before the last purchase).
    tx = transactions([("last_visit", "2024-02-01", 30.0), ("six_weeks", "2024-02-01", 30.0)])
    exposure = pd.DataFrame({"customer_id": ["last_visit", "six_weeks"],
                             "incident_id": ["INC1", "INC2"],
                             "exposed_at": pd.to_datetime(["2024-01-25", "2023-12-20"])})
    typed = type_causes(cause_signals(lapsed_customers(tx, AS_OF, LAPSE_DAYS), None, cfg,
                                      exposure), cfg)
    got = typed.set_index("customer_id")
    assert got["churn_cause"].to_dict() == {"last_visit": "unknown", "six_weeks": "burned"}
    assert got.loc["six_weeks", "cause_incidents"] == "INC2"
    assert pd.isna(got.loc["last_visit", "cause_incidents"])


def test_a_window_may_end_before_the_last_purchase_for_events_too(cfg):
    cfg["signal_windows"] = {"complaint": {"days_before": 60, "days_after": -7}}
    tx = transactions([("close", "2024-02-01", 30.0), ("before", "2024-02-01", 30.0)])
    ev = events([("close", "2024-01-29", "complaint"), ("before", "2024-01-20", "complaint")],
                value=[0.0, 0.0])
    assert _causes(tx, ev, cfg) == {"close": "unknown", "before": "burned"}


def test_price_comparisons_older_than_the_fade_are_background(cfg):
    # Default windows: a leaver's price comparisons fall in the ~3 months before the last
    # purchase; two of them four months earlier say nothing about this exit.
    tx = transactions([("old", "2024-03-01", 30.0), ("fading", "2024-03-01", 30.0)])
    ev = events([("old", "2023-11-01", "price_comparison"),
                 ("old", "2023-11-10", "price_comparison"),
                 ("fading", "2024-01-20", "price_comparison"),
                 ("fading", "2024-02-20", "price_comparison")])
    assert _causes(tx, ev, cfg) == {"old": "unknown", "fading": "price"}


def test_payment_failures_months_after_the_last_purchase_still_count(cfg):
    # Default windows: an involuntary leaver's failed payments go on after their last
    # purchase (up to five months) and start up to six weeks before it; one eight weeks
    # before it is background.
    tx = transactions([("after", "2024-01-05", 30.0), ("long_before", "2024-03-01", 30.0),
                       ("six_weeks_before", "2024-03-01", 30.0)])
    ev = events([("after", "2024-05-20", "payment_failure"),
                 ("long_before", "2024-01-05", "payment_failure"),
                 ("six_weeks_before", "2024-01-21", "payment_failure")])
    assert _causes(tx, ev, cfg) == {"after": "involuntary", "long_before": "unknown",
                                    "six_weeks_before": "involuntary"}


def test_a_complaint_outcome_is_not_read_before_it_is_known(cfg):
    # Resolved or not is known 14 days after the complaint (the features' rule): a
    # complaint 2 days before as_of is unresolved as far as as_of can tell, whatever
    # its recorded value says, so both customers are burned.
    recent = AS_OF - pd.Timedelta(days=2)
    tx = transactions([(c, str((AS_OF - pd.Timedelta(days=91)).date()), 30.0)
                       for c in ("resolved_later", "unresolved")])
    ev = events([("resolved_later", str(recent.date()), "complaint"),
                 ("unresolved", str(recent.date()), "complaint")], value=[1.0, 0.0])
    cfg["window"] = {"days_before": 120, "days_after": 120}
    cfg["signal_windows"] = {}
    assert _causes(tx, ev, cfg) == {"resolved_later": "burned", "unresolved": "burned"}
    cfg["value_signals"][0]["known_after_days"] = 0  # known at once: the old reading
    assert _causes(tx, ev, cfg)["resolved_later"] == "unknown"


def test_a_customer_who_cancelled_since_their_last_purchase_is_lapsed():
    tx = transactions([("cancelled", "2024-06-10", 10.0), ("recent", "2024-06-01", 10.0)])
    lapses = lapsed_customers(tx, AS_OF, LAPSE_DAYS, cancelled=["cancelled"])
    assert lapses["customer_id"].tolist() == ["cancelled"]
    assert lapses["last_purchase"].iloc[0] == pd.Timestamp("2024-06-10")


def test_segments_type_the_cause_of_a_recent_payer_gone_by_cancellation():
    """In a contractual business the segments give a cause to a customer who paid last
    month and then cancelled, and flag them ``cancelled`` for the scoring job's status."""
    tx = transactions([("lured", "2024-06-10", 30.0), ("staying", "2024-06-10", 30.0)])
    ev = events([("lured", "2024-06-01", "competitor_inquiry"),
                 ("lured", "2024-06-12", "port_out_request"),
                 ("lured", "2024-06-15", "cancellation")])
    tables = {"customers": customers("lured", "staying"), "transactions": tx, "events": ev}
    args = (tables, AS_OF, default_cfg(), LAPSE_DAYS, pd.Timestamp("2023-01-01"))
    contractual = segment_snapshot(*args, max_open_days=90,
                                   cancellation_event="cancellation").set_index("customer_id")
    assert contractual["cancelled"].to_dict() == {"lured": True, "staying": False}
    assert contractual.loc["lured", "churn_cause"] == "lured"
    assert pd.isna(contractual.loc["staying", "churn_cause"])
    retail = segment_snapshot(*args, max_open_days=90,
                              cancellation_event=None).set_index("customer_id")
    assert not retail["cancelled"].any()
    assert retail["churn_cause"].isna().all()
