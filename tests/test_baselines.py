"""The baselines every model must beat run on the gaps real tables have."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnml.models import ChurnClassifier
from churnml.models.baselines import RFMLogistic
from tests.conftest import make_classification_frame


def _rfm(n: int = 40) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"recency_days": rng.uniform(1, 300, n), "frequency": rng.poisson(4, n),
                      "monetary": rng.uniform(0, 500, n), "tenure_days": rng.uniform(300, 900, n)})
    return X, np.arange(n) % 2


def test_rfm_logistic_treats_missing_frequency_and_monetary_as_nothing_recorded():
    X, y = _rfm()
    X = X.astype({"frequency": float})
    X.loc[:2, "monetary"] = np.nan  # e.g. Telco's blank Total Charges for brand-new customers
    X.loc[3:4, "frequency"] = np.nan
    X.loc[5, "recency_days"] = np.nan  # never bought: recency is tenure
    model = RFMLogistic().fit(X, y)
    p = model.predict_proba(X)[:, 1]
    assert np.isfinite(p).all()
    zeros = X.fillna({"monetary": 0.0, "frequency": 0.0})
    np.testing.assert_allclose(p, RFMLogistic().fit(zeros, y).predict_proba(zeros)[:, 1])


def test_the_evaluate_stage_gives_the_bgnbd_baseline_its_configured_penalty(monkeypatch):
    from churnml.stages import evaluate as stage

    seen = []

    class Recording(stage.BGNBDBaseline):
        def fit(self, X, y):
            seen.append(self.l2)
            return super().fit(X, y)

    monkeypatch.setattr(stage, "BGNBDBaseline", Recording)
    X, y = make_classification_frame(200, seed=3)
    frame = X.assign(target=y, role=np.where(np.arange(len(y)) % 2, "train", "test"),
                     frequency=X["frequency"] + 1,  # purchase days: at least one
                     days_since_first_purchase=X["recency_days"] + X["frequency"] * 20)
    model = ChurnClassifier(max_rounds=5, min_child_samples=10).fit(X, y)
    scores = stage.score_test(frame, model, "attrition", 90, bgnbd_l2=1e-3)
    assert seen == [1e-3] and len(scores["bgnbd"]) == (frame["role"] == "test").sum()
