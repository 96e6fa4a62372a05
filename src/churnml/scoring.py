"""Turn features as of one date into the scored customer list (DESIGN §10)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnml.labels import ACTIVE, LAPSED, customer_status
from churnml.models.classifier import ChurnClassifier

DAYS_PER_YEAR = 365.0
SCORED_COLUMNS = [
    "customer_id", "as_of", "status", "p_attrition", "risk_band", "risk_percentile",
    "p_winback", "value", "attrition_model_version", "winback_model_version",
]


def risk_band(p: pd.Series, bands: dict[str, float]) -> pd.Series:
    """Name of the highest band whose threshold ``p`` reaches, else ``low``; NaN stays NA."""
    out = pd.Series("low", index=p.index, dtype="string")
    for name, threshold in sorted(bands.items(), key=lambda kv: kv[1]):
        out[p >= threshold] = name
    return out.where(p.notna())


def score_customers(features: pd.DataFrame, attrition: ChurnClassifier, winback: ChurnClassifier,
                    *, lapse_days: int, cfg: dict[str, Any],
                    versions: dict[str, str]) -> pd.DataFrame:
    """Score every customer in ``features`` (one snapshot): attrition if active,
    win-back if lapsed.

    Parameters
    ----------
    features
        One row per customer for a single ``as_of``; needs ``customer_id, as_of,
        recency_days, tenure_days, spend_<value_window_days>d`` and the models' features.
    cfg
        The ``score`` config section (``risk_bands``, ``value_window_days``).
    versions
        ``{"attrition": ..., "winback": ...}`` model versions written into every row.

    Returns
    -------
    DataFrame
        The columns of ``SCORED_COLUMNS``, sorted by ``customer_id``.
    """
    if features["as_of"].nunique() != 1:
        raise ValueError("score one snapshot at a time")
    frame = features.sort_values("customer_id", kind="stable").reset_index(drop=True)
    status = customer_status(frame["recency_days"], frame["tenure_days"], lapse_days)
    active, lapsed = (status == ACTIVE).to_numpy(), (status == LAPSED).to_numpy()
    p_attrition = np.full(len(frame), np.nan)
    p_winback = np.full(len(frame), np.nan)
    if active.any():
        p_attrition[active] = attrition.predict_proba(frame.loc[active])[:, 1]
    if lapsed.any():
        p_winback[lapsed] = winback.predict_proba(frame.loc[lapsed])[:, 1]
    p_att = pd.Series(p_attrition)
    window = int(cfg["value_window_days"])
    return pd.DataFrame({
        "customer_id": frame["customer_id"].astype(str),
        "as_of": frame["as_of"],
        "status": status.astype(str),
        "p_attrition": p_att,
        "risk_band": risk_band(p_att, cfg["risk_bands"]),
        "risk_percentile": (p_att.rank(pct=True, method="max") * 100).round(2),
        "p_winback": p_winback,
        "value": (frame[f"spend_{window}d"] * DAYS_PER_YEAR / window).round(2),
        "attrition_model_version": versions["attrition"],
        "winback_model_version": versions["winback"],
    })[SCORED_COLUMNS]
