"""Baselines every model must beat: recency only, and an RFM logistic regression."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

RFM_COLUMNS = ["recency_days", "frequency", "monetary", "tenure_days"]


def _rfm_matrix(X: pd.DataFrame) -> np.ndarray:
    """log1p-transformed RFM and tenure.

    Missing recency becomes tenure (never bought); missing frequency and monetary
    become 0 (nothing recorded, e.g. a blank total charge for a brand-new customer),
    so the logistic regression, which refuses NaN, scores every row.
    """
    recency = X["recency_days"].fillna(X["tenure_days"]).to_numpy(float)
    frequency = X["frequency"].astype(float).fillna(0.0).to_numpy(float)
    monetary = X["monetary"].astype(float).fillna(0.0).clip(lower=0).to_numpy(float)
    cols = [recency, frequency, monetary, X["tenure_days"].to_numpy(float)]
    return np.log1p(np.column_stack(cols))


class RecencyBaseline(ClassifierMixin, BaseEstimator):
    """Score = days since last purchase (higher = more likely to leave).

    Probabilities come from a one-feature logistic fit on log recency (which also
    learns the direction: for win-back, recent lapsers return more often), so that
    Brier and ECE are defined and the ranking is recency's alone.

    Required columns: ``recency_days``, ``tenure_days``.
    """

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> RecencyBaseline:
        """Fit the one-feature logistic map from log recency to probability."""
        self.classes_ = np.array([0, 1])
        self.model_ = LogisticRegression().fit(self._feature(X), np.asarray(y, int))
        return self

    @staticmethod
    def _feature(X: pd.DataFrame) -> np.ndarray:
        return np.log1p(X["recency_days"].fillna(X["tenure_days"]).to_numpy(float)).reshape(-1, 1)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities monotone in recency."""
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(self._feature(X))


class RFMLogistic(ClassifierMixin, BaseEstimator):
    """Logistic regression on log recency, frequency, monetary and tenure.

    Missing recency counts as tenure, missing frequency and monetary as 0.
    Required columns: ``recency_days, frequency, monetary, tenure_days``.
    """

    def __init__(self, C: float = 1.0):
        self.C = C

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> RFMLogistic:
        """Fit the scaled logistic regression."""
        self.classes_ = np.array([0, 1])
        self.model_ = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=1000))
        self.model_.fit(_rfm_matrix(X), np.asarray(y, int))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Class probabilities, shape (n, 2)."""
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(_rfm_matrix(X))
