"""Multi-treatment uplift models: causalml T- and X-learners on LightGBM, one chosen per
arm by validation Qini, stored as plain JSON (LightGBM booster text), never pickle.

* T-learner (``BaseTClassifier``): outcome classifiers for the control and for each
  arm; uplift = P(outcome | arm, x) - P(outcome | control, x).
* X-learner (``BaseXClassifier``): outcome classifiers, then effect regressors on the
  imputed effects of the control and of the treated; uplift = p * tau_c(x) + (1 - p) *
  tau_t(x) with p the arm's share of its arm-or-control rows (the campaigns were
  randomised, so the propensity is that constant, not a model).

Fitting needs causalml; predicting only LightGBM, from the boosters kept per arm.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

log = logging.getLogger(__name__)
FORMAT_VERSION = 1
LEARNERS = ("t", "x")
UPLIFT_COLUMNS = ["customer_id", "offer_id", "uplift"]


class UpliftModel:
    """Per-arm uplift boosters plus the feature encoding they were trained with."""

    def __init__(self, features: Sequence[str], categories: Mapping[str, list[str]],
                 arms: Mapping[str, dict[str, Any]], control_booster: str | None = None) -> None:
        self.features = list(features)
        self.categories = {k: list(v) for k, v in categories.items()}
        self.arms = dict(arms)
        self.control_booster = control_booster
        self._boosters: dict[str, lgb.Booster] = {}

    def encode(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Model columns in training order; categories fixed at training (unseen -> NaN)."""
        return encode(frame, self.features, self.categories)

    def _booster(self, text: str) -> lgb.Booster:
        key = str(hash(text))
        if key not in self._boosters:
            self._boosters[key] = lgb.Booster(model_str=text)
        return self._boosters[key]

    def predict_arm(self, arm: str, X: pd.DataFrame) -> np.ndarray:
        """Predicted uplift of ``arm`` for the encoded rows ``X``."""
        spec = self.arms[arm]
        if spec["learner"] == "t":
            control = self._booster(self.control_booster or "")
            return self._booster(spec["treated"]).predict(X) - control.predict(X)
        p = float(spec["propensity"])
        return (p * self._booster(spec["effect_control"]).predict(X)
                + (1 - p) * self._booster(spec["effect_treated"]).predict(X))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (booster text)."""
        return {"format_version": FORMAT_VERSION, "features": self.features,
                "categories": self.categories, "control_booster": self.control_booster,
                "arms": self.arms}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UpliftModel:
        """Rebuild from :meth:`to_dict` output."""
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported uplift model format {data.get('format_version')!r}")
        return cls(data["features"], data["categories"], data["arms"], data["control_booster"])


def encode(frame: pd.DataFrame, features: Sequence[str],
           categories: Mapping[str, list[str]]) -> pd.DataFrame:
    """Feature columns as LightGBM reads them: fixed categories, numbers as float."""
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise ValueError(f"input lacks uplift model features {missing[:5]}")
    out = frame.loc[:, list(features)].copy()
    for column in out.columns:
        if column in categories:
            text = out[column].astype("string").astype(object)
            out[column] = pd.Categorical(text.where(text.isin(categories[column])),
                                         categories=categories[column])
        else:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    return out.reset_index(drop=True)


def categories_of(frame: pd.DataFrame, features: Sequence[str]) -> dict[str, list[str]]:
    """Levels of every non-numeric feature column."""
    types = pd.api.types
    return {c: sorted(frame[c].dropna().astype(str).unique().tolist()) for c in features
            if not (types.is_numeric_dtype(frame[c]) or types.is_bool_dtype(frame[c]))}


def predict_uplift(models: UpliftModel | None, features: pd.DataFrame,
                   offers: Sequence[str] | None = None) -> pd.DataFrame:
    """Predicted uplift of every modelled arm for every customer.

    Parameters
    ----------
    models
        A fitted :class:`UpliftModel`, or None (no history: returns no rows).
    features
        ``customer_id`` plus the model's feature columns (one row per customer).
    offers
        Keep only these arms (e.g. the catalogue's offer ids); None keeps all.

    Returns
    -------
    DataFrame
        ``customer_id, offer_id, uplift`` (long format).
    """
    empty = pd.DataFrame({"customer_id": pd.Series(dtype="str"),
                          "offer_id": pd.Series(dtype="str"), "uplift": pd.Series(dtype=float)})
    if models is None or not models.arms or features.empty:
        return empty
    arms = [a for a in models.arms if offers is None or a in offers]
    X = models.encode(features)
    ids = features["customer_id"].astype(str).to_numpy()
    parts = [pd.DataFrame({"customer_id": ids, "offer_id": arm,
                           "uplift": models.predict_arm(arm, X)}) for arm in arms]
    return pd.concat(parts, ignore_index=True).astype({"offer_id": "str"}) if parts else empty
