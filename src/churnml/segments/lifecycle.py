"""Lifecycle stage (DESIGN §2): exposure (signed up, no purchase yet), adoption (first
purchases) and retention (repeat buyers), from thresholds in ``segments.lifecycle``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnml.segments.common import before, per_customer, purchases

STAGES = ("exposure", "adoption", "retention")
STAGE_TYPE = pd.CategoricalDtype(list(STAGES), ordered=True)


def purchase_history(customers: pd.DataFrame, transactions: pd.DataFrame,
                     as_of: pd.Timestamp) -> pd.DataFrame:
    """Purchases to date and days since the first one, as of ``as_of``.

    Parameters
    ----------
    customers
        ``customer_id, signup_date``; customers signed up on or after ``as_of`` are left out.
    transactions
        ``customer_id, ts, amount`` (optional ``is_return``).

    Returns
    -------
    DataFrame
        ``customer_id, as_of, frequency, days_since_first_purchase`` (NaN before a first
        purchase) - the same names and meaning as in the features frame.
    """
    index = pd.Index(customers.loc[customers["signup_date"] < as_of, "customer_id"],
                     name="customer_id")
    bought = purchases(before(transactions, as_of))
    first = per_customer(bought["ts"], bought["customer_id"], index, "min")
    return pd.DataFrame({
        "as_of": as_of,
        "frequency": per_customer(bought["ts"], bought["customer_id"], index, "size"),
        "days_since_first_purchase": (as_of - first) / pd.Timedelta(days=1),
    }).reset_index()


def lifecycle_stage(frame: pd.DataFrame, cfg: dict[str, Any]) -> pd.Series:
    """The lifecycle stage of every row.

    Parameters
    ----------
    frame
        ``frequency`` (purchases to date) and ``days_since_first_purchase`` (NaN
        before a first purchase), e.g. the features frame or :func:`purchase_history`.
    cfg
        The ``segments.lifecycle`` section: ``retention_min_purchases, adoption_days``.

    Returns
    -------
    Series
        Ordered categorical of ``STAGES``: ``exposure`` with no purchase, ``retention``
        with at least ``retention_min_purchases`` purchases and a first purchase at least
        ``adoption_days`` ago, ``adoption`` in between.
    """
    bought = np.nan_to_num(frame["frequency"].to_numpy(dtype="float64"), nan=0.0)
    since_first = frame["days_since_first_purchase"].to_numpy(dtype="float64")
    repeat = (bought >= float(cfg["retention_min_purchases"])) & (
        np.nan_to_num(since_first, nan=0.0) >= float(cfg["adoption_days"]))
    stage = np.select([bought <= 0, repeat], ["exposure", "retention"], default="adoption")
    return pd.Series(pd.Categorical(stage, dtype=STAGE_TYPE), index=frame.index,
                     name="lifecycle_stage")
