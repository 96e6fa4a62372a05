"""Loyalty ladder: measures from tiny tables, rules, and properties of the assignment."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from churnml.segments.ladder import LADDER_INPUTS, RUNGS, assign_rungs, ladder_inputs, shrunk_rate
from tests.segment_frames import (
    AS_OF,
    DATA_START,
    customers,
    default_cfg,
    events,
    monthly_purchases,
    transactions,
)


def _rungs(cust, tx, ev, cfg=None, as_of=AS_OF) -> dict[str, str]:
    cfg = cfg or default_cfg()["ladder"]
    inputs = ladder_inputs(cust, tx, ev, as_of, cfg, DATA_START)
    return dict(zip(inputs["customer_id"], assign_rungs(inputs, cfg).astype(str), strict=True))


@pytest.fixture
def ladder_world():
    ids = ["regular", "occasional", "never", "angry", "returner", "fraud", "referrer", "fan"]
    cust = customers(*ids)
    rows = (monthly_purchases("regular", "2023-01-01", 18, per_month=3)
            + monthly_purchases("occasional", "2023-01-01", 18, per_month=1)
            + monthly_purchases("angry", "2023-01-01", 18, per_month=1)
            + monthly_purchases("returner", "2023-01-01", 18, per_month=1)
            + monthly_purchases("fraud", "2023-01-01", 18, per_month=1)
            + monthly_purchases("referrer", "2023-01-01", 18, per_month=1)
            + monthly_purchases("fan", "2023-01-01", 18, per_month=1))
    rows += [("returner", str((pd.Timestamp("2023-01-10") + pd.DateOffset(months=m)).date()),
              -50.0, True) for m in range(12)]
    ev = events([
        ("angry", "2024-03-01", "complaint"),
        ("returner", "2024-01-05", "support_contact"),
        ("returner", "2024-02-05", "support_contact"),
        ("fraud", "2024-02-01", "chargeback"), ("fraud", "2024-04-01", "public_complaint"),
        ("referrer", "2024-05-01", "referral"), ("referrer", "2024-06-01", "referral"),
        ("fan", "2024-05-01", "survey_score"), ("fan", "2024-06-01", "survey_score"),
    ], value=[np.nan] * 7 + [10.0, 9.0])
    return cust, transactions(rows), ev


def test_every_rung_from_its_own_behaviour(ladder_world):
    assert _rungs(*ladder_world) == {
        "regular": "client", "occasional": "customer", "never": "prospect",
        "angry": "customer", "returner": "toxic", "fraud": "terrorist",
        "referrer": "advocate", "fan": "supporter"}


def test_one_referral_makes_a_supporter_one_glowing_survey_does_not():
    cust = customers("referred_once", "one_ten")
    tx = transactions(monthly_purchases("referred_once", "2023-06-01", 12)
                      + monthly_purchases("one_ten", "2023-06-01", 12))
    ev = events([("referred_once", "2024-05-01", "referral"),
                 ("one_ten", "2024-05-01", "survey_score")], value=[np.nan, 10.0])
    assert _rungs(cust, tx, ev) == {"referred_once": "supporter", "one_ten": "customer"}


def test_a_single_angry_complaint_does_not_make_a_customer_toxic():
    cust = customers("angry")
    tx = transactions(monthly_purchases("angry", "2024-04-01", 2, amount=5.0))
    ev = events([("angry", "2024-06-01", "complaint")], severity=[3.0])
    assert _rungs(cust, tx, ev)["angry"] not in ("toxic", "terrorist")


def test_one_public_complaint_does_not_make_a_terrorist():
    cust = customers("loud")
    tx = transactions(monthly_purchases("loud", "2023-06-01", 12))
    ev = events([("loud", "2024-06-01", "public_complaint")])
    assert _rungs(cust, tx, ev)["loud"] == "customer"


def test_one_return_and_one_support_contact_are_not_a_pattern():
    cust = customers("small")
    tx = transactions([("small", "2024-05-01", 10.0), ("small", "2024-05-03", -10.0, True)])
    ev = events([("small", "2024-05-04", "support_contact")])
    assert _rungs(cust, tx, ev)["small"] != "toxic"


def test_a_lapsed_client_keeps_the_rung_earned_while_buying():
    cust = customers("gone")
    tx = transactions(monthly_purchases("gone", "2023-01-01", 9, per_month=3))
    assert _rungs(cust, tx, None)["gone"] == "client"


def test_rows_on_or_after_as_of_change_nothing(ladder_world):
    cust, tx, ev = ladder_world
    later = transactions(monthly_purchases("never", "2024-07-01", 6, per_month=4))
    late_events = events([("occasional", "2024-07-01", "chargeback"),
                          ("occasional", "2024-08-01", "chargeback")], value=[np.nan, np.nan])
    after = _rungs(cust, pd.concat([tx, later]), pd.concat([ev, late_events]))
    assert after == _rungs(*ladder_world)


def test_measures_without_shrinkage():
    cfg = default_cfg()["ladder"] | {"shrink_purchase_rate": False}
    cust = customers("a")
    tx = transactions(monthly_purchases("a", "2023-07-01", 12, per_month=2))
    row = ladder_inputs(cust, tx, None, AS_OF, cfg, DATA_START).iloc[0]
    assert row["purchases"] == 24
    assert row["window_end"] == pd.Timestamp("2024-06-13")
    assert row["purchase_rate"] == pytest.approx(23 / ((row["window_end"] - pd.Timestamp(
        "2023-01-01")).days / 30.44))
    assert row["margin"] == pytest.approx(0.3 * 24 * 50.0)


def test_shrinkage_pulls_short_histories_toward_the_population():
    rng = np.random.default_rng(0)
    months = pd.Series(np.r_[np.full(200, 12.0), 0.1])
    counts = pd.Series(np.r_[rng.poisson(rng.gamma(2.0, 1.0, 200) * 12.0), 1.0])
    rate = shrunk_rate(counts, months)
    assert rate.iloc[-1] < 3.0  # one purchase in three days is not 10 a month
    long = counts.iloc[:-1] / 12.0
    assert ((rate.iloc[:-1] - long).abs() / long.clip(lower=1.0)).max() < 0.25  # a year: ~own


finite = st.floats(min_value=-1e6, max_value=1e6) | st.just(float("nan"))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(*[finite] * len(LADDER_INPUTS)), min_size=1, max_size=30))
def test_rung_assignment_is_total_and_deterministic(rows):
    inputs = pd.DataFrame(rows, columns=LADDER_INPUTS)
    cfg = default_cfg()["ladder"]
    first, second = assign_rungs(inputs, cfg), assign_rungs(inputs.copy(), cfg)
    assert first.notna().all()
    assert set(first.astype(str)) <= set(RUNGS)
    assert first.equals(second)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(*[finite] * len(LADDER_INPUTS)), min_size=2, max_size=20))
def test_a_row_rung_depends_only_on_that_row(rows):
    inputs = pd.DataFrame(rows, columns=LADDER_INPUTS)
    cfg = default_cfg()["ladder"]
    together = assign_rungs(inputs, cfg).astype(str).tolist()
    alone = [str(assign_rungs(inputs.iloc[[i]], cfg).iloc[0]) for i in range(len(inputs))]
    assert together == alone


def test_per_customer_sums_do_not_depend_on_row_order():
    import itertools

    from churnml.segments.common import per_customer

    amounts = [0.1, 0.2, 0.3, 1e8, 0.7]
    index = pd.Index(["a", "b"], name="customer_id")
    totals = set()
    for order in itertools.permutations(range(len(amounts))):
        values = pd.Series([amounts[i] for i in order])
        keys = pd.Series(["a"] * len(amounts))
        total = per_customer(values, keys, index, "sum")
        totals.add(float(total["a"]))
        assert total["b"] == 0
    assert len(totals) == 1
