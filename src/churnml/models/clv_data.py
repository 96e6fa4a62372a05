"""Per-customer (frequency, recency, T) for buy-till-you-die models such as BG/NBD.

Output columns follow Fader, Hardie & Lee (2005): ``frequency`` x = number of REPEAT
purchases, ``recency`` t_x = time of the last purchase measured from the first,
``T`` = time from the first purchase to the end of observation, all in units of
``unit_days`` days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RFM_OUTPUT = ["frequency", "recency", "T"]
FEATURE_INPUT = ["frequency", "recency_days", "days_since_first_purchase"]
TRANSACTION_INPUT = ["customer_id", "ts"]


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{what} lacks required columns {missing}")


def _check_unit(unit_days: float) -> None:
    if not unit_days > 0:
        raise ValueError(f"unit_days must be > 0, got {unit_days!r}")


def rfm_from_features(features: pd.DataFrame, unit_days: float) -> pd.DataFrame:
    """(x, t_x, T) from churnml feature rows, one output row per input row.

    Parameters
    ----------
    features
        Feature frame with ``frequency`` (purchases before ``as_of``, the first
        included), ``recency_days`` (days from the last purchase to ``as_of``, NaN
        if none) and ``days_since_first_purchase`` (days from the first purchase to
        ``as_of``, NaN if none).
    unit_days
        Length of the model time unit in days (7 for weeks).

    Returns
    -------
    DataFrame
        ``frequency = frequency - 1``, ``T = days_since_first_purchase / unit``,
        ``recency = (days_since_first_purchase - recency_days) / unit``, on the
        input index. Rows with no purchase yet get x = t_x = T = 0: such a row adds
        nothing to the BG/NBD likelihood and is scored with the population prior.
        Times are continuous (as_of minus timestamps), unlike the whole-day
        convention of :func:`rfm_from_transactions`, and same-day purchases count
        separately here because the feature table counts them so.
    """
    _require(features, FEATURE_INPUT, "feature frame")
    _check_unit(unit_days)
    n_bought = features["frequency"].to_numpy(dtype=float)
    since_first = features["days_since_first_purchase"].to_numpy(dtype=float)
    since_last = features["recency_days"].to_numpy(dtype=float)
    bought = n_bought > 0
    if np.isnan(since_first[bought]).any() or np.isnan(since_last[bought]).any():
        raise ValueError("rows with frequency > 0 need recency_days and days_since_first_purchase")
    t_end = np.where(bought, since_first, 0.0) / unit_days
    recency = np.clip(np.where(bought, since_first - since_last, 0.0) / unit_days, 0.0, t_end)
    x = np.where(bought, n_bought - 1, 0.0)
    return pd.DataFrame({"frequency": x, "recency": recency, "T": t_end}, index=features.index)


def rfm_from_transactions(
    transactions: pd.DataFrame, cutoff: pd.Timestamp | str, unit_days: float
) -> pd.DataFrame:
    """(x, t_x, T) per customer from a purchase log observed strictly before ``cutoff``.

    The CDNOW / lifetimes / PyMC-Marketing convention: timestamps are floored to
    calendar days and several purchases on one day count once; t_x and T are
    whole-day differences from the first purchase day to the last purchase day and
    to the last observed day (the day of ``cutoff - 1 ns``: for a midnight cutoff,
    the day before it), divided by ``unit_days``.

    Parameters
    ----------
    transactions
        Purchase log with ``customer_id`` and ``ts`` (datetime-like); keep only
        purchases in it (no returns).
    cutoff
        End of observation, exclusive: only ``ts < cutoff`` is used.
    unit_days
        Length of the model time unit in days (7 for weeks).

    Returns
    -------
    DataFrame
        ``frequency, recency, T`` indexed by ``customer_id``, for customers with at
        least one purchase before ``cutoff``.
    """
    _require(transactions, TRANSACTION_INPUT, "transaction log")
    _check_unit(unit_days)
    cutoff = pd.Timestamp(cutoff)
    ts = pd.to_datetime(transactions["ts"])
    seen = ts < cutoff
    days = pd.DataFrame(
        {
            "customer_id": transactions["customer_id"][seen].reset_index(drop=True),
            "day": ts[seen].dt.floor("D").reset_index(drop=True),  # keeps a time zone
        }
    ).drop_duplicates()
    by_customer = days.groupby("customer_id")["day"]
    first, last = by_customer.min(), by_customer.max()
    last_observed = (cutoff - pd.Timedelta(1, "ns")).floor("D")
    unit = pd.Timedelta(days=unit_days)
    return pd.DataFrame(
        {
            "frequency": (by_customer.size() - 1).astype(float),
            "recency": (last - first) / unit,
            "T": (last_observed - first) / unit,
        }
    )
