"""Customer status: one rule (recency, and contract cancellation) for labels, segments
and scoring."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from churnml.labels import cancellation_event, purchase_windows
from churnml.status import (
    ACTIVE,
    LAPSED,
    cancelled_at,
    cancelled_customers,
    customer_status,
    status_of,
)

T = pd.Timestamp("2024-07-01")
EVENT_COLUMNS = ["customer_id", "ts", "event_type"]


def stamps(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(ts=pd.to_datetime(frame["ts"]).astype("datetime64[us]"))


def test_cancellations_decide_status_only_under_the_cancellation_definition() -> None:
    assert cancellation_event({"attrition": {"definition": ["no_purchase"]}}) is None
    assert cancellation_event({"attrition": {"definition": "no_purchase",
                                             "cancellation_event": "order_cancellation"}}) is None
    assert cancellation_event({"attrition": {"definition": ["no_purchase", "cancellation"],
                                             "cancellation_event": "churn"}}) == "churn"
    assert cancellation_event({"attrition": {"definition": "cancellation"}}) == "cancellation"
    assert cancellation_event(None) is None


def test_a_cancelled_customer_is_lapsed_however_recently_they_paid() -> None:
    recency, tenure = pd.Series([5.0, 5.0, np.nan, 200.0]), pd.Series([400.0, 400.0, 10.0, 400.0])
    assert customer_status(recency, tenure, 90).tolist() == [ACTIVE, ACTIVE, ACTIVE, LAPSED]
    cancelled = np.array([True, False, True, False])
    assert customer_status(recency, tenure, 90, cancelled).tolist() == [
        LAPSED, ACTIVE, LAPSED, LAPSED]


def test_status_of_reads_the_cancelled_column_and_treats_missing_as_not_cancelled() -> None:
    frame = pd.DataFrame({"recency_days": [5.0, 5.0, 5.0], "tenure_days": [400.0] * 3,
                          "cancelled": pd.array([True, None, False], dtype="boolean")})
    assert status_of(frame, 90).tolist() == [LAPSED, ACTIVE, ACTIVE]
    assert status_of(frame.drop(columns="cancelled"), 90).tolist() == [ACTIVE] * 3


def test_cancelled_customers_are_those_without_a_purchase_after_their_last_cancellation(
) -> None:
    purchases = stamps(pd.DataFrame({
        "customer_id": ["back", "back", "same_day", "gone", "later"],
        "ts": ["2024-05-01", "2024-06-10", "2024-06-10", "2024-05-01", "2024-05-01"]}))
    events = stamps(pd.DataFrame([
        ("back", "2024-06-01", "cancellation"),        # bought after: a customer again
        ("same_day", "2024-06-10", "cancellation"),    # final bill that day: still gone
        ("gone", "2024-06-01", "cancellation"),
        ("gone", "2024-06-02", "survey_score"),
        ("later", "2024-07-01", "cancellation"),       # at t: not yet known
        ("no_purchase", "2024-06-01", "cancellation"),
        ("other", "2024-06-01", "order_cancellation")], columns=EVENT_COLUMNS))
    got = cancelled_customers(purchases, events, T, "cancellation")
    assert got.tolist() == ["gone", "no_purchase", "same_day"]
    assert cancelled_customers(purchases, None, T, "cancellation").empty
    assert cancelled_customers(purchases, events.iloc[0:0], T, "cancellation").empty


def test_cancelled_at_reads_each_row_at_its_own_date() -> None:
    purchases = stamps(pd.DataFrame({"customer_id": ["x", "x"],
                                     "ts": ["2024-05-01", "2024-08-01"]}))
    events = stamps(pd.DataFrame([("x", "2024-06-01", "cancellation")], columns=EVENT_COLUMNS))
    rows = pd.DataFrame({"customer_id": ["x", "x", "x", "y"],
                         "send_date": pd.to_datetime(["2024-05-15", "2024-07-01", "2024-09-01",
                                                      "2024-07-01"])})
    got = cancelled_at(rows, "send_date", purchases, events, "cancellation")
    assert got.tolist() == [False, True, False, False]


ids = st.sampled_from(["a", "b", "c", "d"])
days = st.integers(0, 60)


@settings(max_examples=25, deadline=None)
@given(bought=st.lists(st.tuples(ids, days), max_size=12),
       cancels=st.lists(st.tuples(ids, days, st.booleans()), max_size=8),
       as_of_day=st.integers(1, 61))
def test_the_status_rule_agrees_with_the_labels_cancelled_before(bought, cancels,
                                                                 as_of_day) -> None:
    """Segments and scoring (pandas) and labels (Ibis) say the same customers are gone."""
    start = pd.Timestamp("2024-01-01")
    as_of = start + pd.Timedelta(days=as_of_day)
    purchases = pd.DataFrame({"customer_id": [c for c, _ in bought],
                              "ts": [start + pd.Timedelta(days=d) for c, d in bought],
                              "amount": 10.0})
    events = pd.DataFrame({"customer_id": [c for c, _, _ in cancels],
                           "ts": [start + pd.Timedelta(days=d) for _, d, _ in cancels],
                           "event_type": ["cancellation" if k else "survey_score"
                                          for _, _, k in cancels]})
    purchases = purchases.astype({"customer_id": "string", "ts": "datetime64[us]",
                                  "amount": "float64"})
    events = events.astype({"customer_id": "string", "ts": "datetime64[us]",
                            "event_type": "string"})
    customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                              "signup_date": pd.Timestamp("2023-01-01")}).astype(
        {"signup_date": "datetime64[us]"})
    cfg = {"attrition": {"definition": ["cancellation"]}}
    windows = ibis.duckdb.connect().execute(purchase_windows(
        ibis.memtable(customers), ibis.memtable(purchases), [as_of], 30,
        events=ibis.memtable(events), labels_cfg=cfg))
    by_labels = sorted(windows.loc[windows["cancelled_before"] > 0, "customer_id"])
    assert cancelled_customers(purchases, events, as_of, "cancellation").tolist() == by_labels
