"""The scored list: one row per customer, right model per status, bands and values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnml.models import ChurnClassifier
from churnml.scoring import SCORED_COLUMNS, risk_band, score_customers
from tests.conftest import make_classification_frame


@pytest.fixture
def models():
    X, y = make_classification_frame()
    fit = {"max_rounds": 30, "min_child_samples": 10}
    return ChurnClassifier(**fit).fit(X, y), ChurnClassifier(**fit).fit(X, 1 - y)


def _features(n: int = 50) -> pd.DataFrame:
    X, _ = make_classification_frame(n, seed=9)
    X["recency_days"] = X["recency_days"].clip(upper=60.0)
    X.loc[X.index[:5], "recency_days"] = 400.0  # lapsed
    return X.assign(customer_id=[f"C{i:03d}" for i in range(n)][::-1],
                    as_of=pd.Timestamp("2025-01-01"), spend_180d=X["monetary"],
                    days_since_first_purchase=X["tenure_days"])


def test_one_row_per_customer_with_the_right_model(models):
    scored = score_customers(_features(), *models, lapse_days=90,
                             cfg={"risk_bands": {"high": 0.5, "medium": 0.2},
                                  "value_window_days": 180, "value_min_days": 30},
                             versions={"attrition": "a/1", "winback": "w/1"})
    assert list(scored.columns) == SCORED_COLUMNS
    assert scored["customer_id"].is_unique and scored["customer_id"].is_monotonic_increasing
    active = scored["status"] == "active"
    assert scored.loc[active, "p_attrition"].between(0, 1).all()
    assert scored.loc[active, "p_winback"].isna().all()
    assert scored.loc[~active, "p_winback"].between(0, 1).all() and (~active).sum() == 5
    assert (scored["attrition_model_version"] == "a/1").all()
    rows = _features().set_index("customer_id").loc[scored.loc[active, "customer_id"]]
    expected = rows["monetary"] * 365 / rows["tenure_days"].clip(upper=180, lower=30)
    got = scored.loc[active].set_index("customer_id")["value"]
    np.testing.assert_allclose(got, expected.round(2).loc[got.index])


def test_a_customer_gone_by_cancellation_is_scored_by_the_winback_model(models):
    """The segments' ``cancelled`` flag (contractual business) decides status."""
    features = _features()
    recent = features["recency_days"] <= 90
    gone = features.index[recent][:3]
    features["cancelled"] = pd.array([i in gone for i in features.index], dtype="boolean")
    features.loc[features.index[recent][3], "cancelled"] = pd.NA   # no segment row
    scored = score_customers(features, *models, lapse_days=90, cfg=VALUE_CFG,
                             versions={"attrition": "a/1", "winback": "w/1"})
    by_id = scored.set_index("customer_id")
    ids = features.loc[gone, "customer_id"]
    assert (by_id.loc[ids, "status"] == "lapsed").all()
    assert by_id.loc[ids, "p_attrition"].isna().all()
    assert by_id.loc[ids, "p_winback"].between(0, 1).all()
    assert (scored["status"] == "lapsed").sum() == 5 + 3


def test_risk_band_thresholds():
    bands = risk_band(pd.Series([0.9, 0.3, 0.1, np.nan]), {"high": 0.5, "medium": 0.25})
    assert bands.tolist()[:3] == ["high", "medium", "low"] and pd.isna(bands.iloc[3])


def test_several_snapshots_are_refused(models):
    frame = _features()
    frame.loc[0, "as_of"] = pd.Timestamp("2025-02-01")
    with pytest.raises(ValueError, match="one snapshot"):
        score_customers(frame, *models, lapse_days=90, cfg={}, versions={})


VALUE_CFG = {"risk_bands": {"high": 0.5}, "value_window_days": 180, "value_min_days": 30}
AS_OF = pd.Timestamp("2025-07-01")


def _customers(**columns) -> pd.DataFrame:
    """Hand-made feature rows (one per customer) with every column the models read."""
    n = len(next(iter(columns.values())))
    base = {"customer_id": [f"H{i}" for i in range(n)], "as_of": AS_OF, "frequency": 3.0,
            "region": "north", "spend_180d": 0.0, "monetary": 0.0, "recency_days": np.nan,
            "days_since_first_purchase": np.nan}
    return pd.DataFrame({**base, **columns})


def _values(models, frame: pd.DataFrame, data_start: pd.Timestamp | None = None) -> pd.Series:
    since = {} if data_start is None else {"data_start": data_start}
    scored = score_customers(frame, *models, lapse_days=90, cfg=VALUE_CFG,
                             versions={"attrition": "a/1", "winback": "w/1"}, **since)
    return scored.set_index("customer_id")["value"]


def test_a_long_lapsed_customer_is_valued_at_what_they_used_to_spend(models):
    # 200 days since the last purchase: nothing in the last 180 days, yet a win-back
    # recovers their old spend rate. History: signup 2,000 days ago, data from
    # 2023-01-01 (912 days before as_of), so active for 912 - 200 = 712 days.
    frame = _customers(recency_days=[200.0], tenure_days=[2000.0], monetary=[712.0],
                       days_since_first_purchase=[500.0])
    # Without the data's start, the first purchase in the data stands in for it:
    # 500 - 200 = 300 active days.
    assert _values(models, frame)["H0"] == pytest.approx(round(712.0 * 365 / 300, 2))
    got = _values(models, frame, data_start=pd.Timestamp("2023-01-01"))
    assert got["H0"] == pytest.approx(712.0 * 365 / 712)


def test_a_young_active_customer_is_valued_at_their_run_rate(models):
    # 32 days old, spent 62.18: 709/year, not 62.18 * 365 / 180 = 126.
    frame = _customers(recency_days=[5.0, 0.5], tenure_days=[32.0, 1.0],
                       spend_180d=[62.18, 50.0], monetary=[62.18, 50.0],
                       days_since_first_purchase=[20.0, 0.5])
    got = _values(models, frame)
    assert got["H0"] == pytest.approx(round(62.18 * 365 / 32, 2))
    # One day old with one purchase: over value_min_days, not 365 times the purchase.
    assert got["H1"] == pytest.approx(round(50.0 * 365 / 30, 2))


def test_a_customer_without_purchases_is_worth_nothing(models):
    # A newcomer (active) and a customer who never bought in 200 days (lapsed).
    frame = _customers(tenure_days=[10.0, 200.0])
    scored = score_customers(frame, *models, lapse_days=90, cfg=VALUE_CFG,
                             versions={"attrition": "a/1", "winback": "w/1"})
    assert scored["status"].tolist() == ["active", "lapsed"]
    assert scored["value"].tolist() == [0.0, 0.0]
    assert _values(models, frame, data_start=pd.Timestamp("2023-01-01")).tolist() == [0.0, 0.0]


def test_a_one_off_buyer_who_lapsed_is_worth_what_the_same_purchase_is_to_an_active_one(models):
    # One purchase of 100: active (bought 20 days ago, member for years) and lapsed
    # (signed up and bought once, 200 days ago: an active life of 0 days, as every
    # one-off buyer has where signup is the first purchase). The lapsed one is valued
    # over the value window like the active one - over value_min_days it was worth 12x
    # the purchase a year.
    frame = _customers(recency_days=[20.0, 200.0], tenure_days=[900.0, 200.0],
                       spend_180d=[100.0, 0.0], monetary=[100.0, 100.0],
                       days_since_first_purchase=[20.0, 200.0])
    for start in (None, pd.Timestamp("2023-01-01")):
        got = _values(models, frame, data_start=start)
        assert got["H0"] == got["H1"] == pytest.approx(round(100.0 * 365 / 180, 2))
