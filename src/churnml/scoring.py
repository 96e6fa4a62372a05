"""Turn features as of one date into the scored customer list (DESIGN §10)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnml.models.classifier import ChurnClassifier
from churnml.status import ACTIVE, LAPSED, status_of

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


def history_days(frame: pd.DataFrame, data_start: pd.Timestamp | None) -> pd.Series:
    """Days of each customer's history the data can show: since signup, and no
    further back than ``data_start`` when it is known.

    Parameters
    ----------
    frame
        Needs ``as_of, tenure_days``.
    data_start
        The first day of the data (the ingest manifest's ``data_start``), or None.
    """
    tenure = frame["tenure_days"].astype(float)
    if data_start is None:
        return tenure
    span = (pd.to_datetime(frame["as_of"]) - pd.Timestamp(data_start)).dt.days.astype(float)
    return tenure.clip(upper=span)


def lapsed_life_days(frame: pd.DataFrame, data_start: pd.Timestamp | None) -> pd.Series:
    """Days from the start of each customer's observed history to their last purchase
    (NaN without a purchase).

    The history starts at ``max(signup, data_start)``. Without ``data_start`` the first
    purchase in the data stands in for it: a customer from before the data shows up
    at their first purchase in it, and for one who joined inside the data the span
    only loses the wait before their first purchase (see docs/scoring.md#value).

    Parameters
    ----------
    frame
        Needs ``as_of, tenure_days, recency_days`` and, without ``data_start``,
        ``days_since_first_purchase``.
    """
    start = (history_days(frame, data_start) if data_start is not None
             else frame["days_since_first_purchase"].astype(float))
    return start - frame["recency_days"].astype(float)


def customer_value(frame: pd.DataFrame, lapsed: np.ndarray, cfg: dict[str, Any],
                   data_start: pd.Timestamp | None = None) -> pd.Series:
    """Yearly spend run-rate per customer: what keeping (or winning back) them is worth.

    Active customers: spend in the last ``value_window_days`` over the days of that
    window they could have bought in (``min(window, history)``, at least
    ``value_min_days``, so a customer one day old with one purchase is not worth 365
    times it). Lapsed customers: lifetime spend over their active life before the
    lapse (observed history start to last purchase, :func:`lapsed_life_days`), since
    that is what a win-back recovers, counted as at least the value window: a
    one-off buyer (an active life of 0 days) is worth what the same purchase is
    worth to an active customer, not 365 / ``value_min_days`` times it. No purchase: 0.

    Parameters
    ----------
    frame
        Needs ``as_of, tenure_days, recency_days, monetary, spend_<value_window_days>d``
        and, without ``data_start``, ``days_since_first_purchase``.
    lapsed
        Boolean mask of the lapsed rows of ``frame``.
    cfg
        The ``score`` config section (``value_window_days``, ``value_min_days``).
    data_start
        The first day of the data, or None (see :func:`lapsed_life_days`).

    Returns
    -------
    Series
        Value per year, rounded to cents, aligned with ``frame``.
    """
    window, floor = int(cfg["value_window_days"]), float(cfg["value_min_days"])
    active_days = history_days(frame, data_start).clip(upper=window, lower=floor)
    active_rate = frame[f"spend_{window}d"].astype(float) / active_days
    lapsed_rate = frame["monetary"].astype(float) / lapsed_life_days(frame, data_start).clip(
        lower=window)
    rate = pd.Series(np.where(lapsed, lapsed_rate, active_rate), index=frame.index)
    return (rate.fillna(0.0) * DAYS_PER_YEAR).round(2)


def score_customers(features: pd.DataFrame, attrition: ChurnClassifier, winback: ChurnClassifier,
                    *, lapse_days: int, cfg: dict[str, Any],
                    versions: dict[str, str],
                    data_start: pd.Timestamp | None = None) -> pd.DataFrame:
    """Score every customer in ``features`` (one snapshot): attrition if active,
    win-back if lapsed.

    Parameters
    ----------
    features
        One row per customer for a single ``as_of``; needs ``customer_id, as_of,
        recency_days, tenure_days, monetary, spend_<value_window_days>d``,
        ``days_since_first_purchase`` without ``data_start``, and the models' features;
        in a contractual business also ``cancelled`` (the segments' column): a customer
        gone by cancellation is lapsed however recently they paid
        (:func:`churnml.status.status_of`).
    cfg
        The ``score`` config section (``risk_bands``, ``value_window_days``,
        ``value_min_days``).
    versions
        ``{"attrition": ..., "winback": ...}`` model versions written into every row.
    data_start
        The first day of the data (ingest manifest), which bounds each customer's
        observed history for ``value`` (:func:`customer_value`); None: approximated.

    Returns
    -------
    DataFrame
        The columns of ``SCORED_COLUMNS``, sorted by ``customer_id``.
    """
    if features["as_of"].nunique() != 1:
        raise ValueError("score one snapshot at a time")
    frame = features.sort_values("customer_id", kind="stable").reset_index(drop=True)
    status = status_of(frame, lapse_days)
    active, lapsed = (status == ACTIVE).to_numpy(), (status == LAPSED).to_numpy()
    p_attrition = np.full(len(frame), np.nan)
    p_winback = np.full(len(frame), np.nan)
    if active.any():
        p_attrition[active] = attrition.predict_proba(frame.loc[active])[:, 1]
    if lapsed.any():
        p_winback[lapsed] = winback.predict_proba(frame.loc[lapsed])[:, 1]
    p_att = pd.Series(p_attrition)
    return pd.DataFrame({
        "customer_id": frame["customer_id"].astype(str),
        "as_of": frame["as_of"],
        "status": status.astype(str),
        "p_attrition": p_att,
        "risk_band": risk_band(p_att, cfg["risk_bands"]),
        "risk_percentile": (p_att.rank(pct=True, method="max") * 100).round(2),
        "p_winback": p_winback,
        "value": customer_value(frame, lapsed, cfg, data_start),
        "attrition_model_version": versions["attrition"],
        "winback_model_version": versions["winback"],
    })[SCORED_COLUMNS]
