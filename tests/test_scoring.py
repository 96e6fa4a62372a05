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
                    as_of=pd.Timestamp("2025-01-01"), spend_180d=X["monetary"])


def test_one_row_per_customer_with_the_right_model(models):
    scored = score_customers(_features(), *models, lapse_days=90,
                             cfg={"risk_bands": {"high": 0.5, "medium": 0.2},
                                  "value_window_days": 180},
                             versions={"attrition": "a/1", "winback": "w/1"})
    assert list(scored.columns) == SCORED_COLUMNS
    assert scored["customer_id"].is_unique and scored["customer_id"].is_monotonic_increasing
    active = scored["status"] == "active"
    assert scored.loc[active, "p_attrition"].between(0, 1).all()
    assert scored.loc[active, "p_winback"].isna().all()
    assert scored.loc[~active, "p_winback"].between(0, 1).all() and (~active).sum() == 5
    assert (scored["attrition_model_version"] == "a/1").all()
    expected = _features().set_index("customer_id")["monetary"] * 365 / 180
    got = scored.set_index("customer_id")["value"]
    np.testing.assert_allclose(got, expected.round(2).loc[got.index])


def test_risk_band_thresholds():
    bands = risk_band(pd.Series([0.9, 0.3, 0.1, np.nan]), {"high": 0.5, "medium": 0.25})
    assert bands.tolist()[:3] == ["high", "medium", "low"] and pd.isna(bands.iloc[3])


def test_several_snapshots_are_refused(models):
    frame = _features()
    frame.loc[0, "as_of"] = pd.Timestamp("2025-02-01")
    with pytest.raises(ValueError, match="one snapshot"):
        score_customers(frame, *models, lapse_days=90, cfg={}, versions={})
