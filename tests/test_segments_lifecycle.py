"""Lifecycle stage: exposure, adoption, retention."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pandas as pd
from hypothesis import given, settings

from churnml.segments.lifecycle import STAGES, lifecycle_stage, purchase_history
from tests.segment_frames import AS_OF, customers, default_cfg, monthly_purchases, transactions


def test_stages_from_purchase_history():
    cust = customers("new", "first", "young_repeat", "loyal")
    tx = transactions([("first", "2024-06-01", 20.0),
                       *monthly_purchases("young_repeat", "2024-05-01", 2, per_month=2),
                       *monthly_purchases("loyal", "2023-06-01", 12)])
    history = purchase_history(cust, tx, AS_OF)
    stages = dict(zip(history["customer_id"],
                      lifecycle_stage(history, default_cfg()["lifecycle"]).astype(str),
                      strict=True))
    assert stages == {"new": "exposure", "first": "adoption", "young_repeat": "adoption",
                      "loyal": "retention"}


def test_history_ignores_returns_and_the_future():
    cust = customers("a")
    tx = transactions([("a", "2024-01-01", 20.0), ("a", "2024-01-05", -20.0, True),
                       ("a", "2024-08-01", 20.0)])
    row = purchase_history(cust, tx, AS_OF).iloc[0]
    assert row["frequency"] == 1
    assert row["days_since_first_purchase"] == (AS_OF - pd.Timestamp("2024-01-01")).days


def test_customers_who_sign_up_later_are_not_listed():
    cust = pd.concat([customers("a"), customers("later", signup="2024-09-01")])
    assert purchase_history(cust, transactions([("a", "2024-01-01", 5.0)]), AS_OF)[
        "customer_id"].tolist() == ["a"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 500), st.floats(0, 2000) | st.just(np.nan)),
                min_size=1, max_size=40))
def test_every_row_gets_exactly_one_stage(rows):
    frame = pd.DataFrame(rows, columns=["frequency", "days_since_first_purchase"])
    stage = lifecycle_stage(frame, default_cfg()["lifecycle"])
    assert stage.notna().all() and set(stage.astype(str)) <= set(STAGES)
    assert ((frame["frequency"] == 0) == (stage == "exposure")).all()
