"""Customer status at a date: ``active`` or ``lapsed`` (a former customer).

One rule, shared by the labels, the segments (who gets a churn cause) and the scoring
job (which model scores whom), so that a customer is scored by the model trained on
customers like them:

* ``lapsed``: no purchase in the ``labels.lapse_days`` before the date, and signed up
  longer ago than that;
* in a contractual business (``labels.attrition.definition`` includes
  ``cancellation``) also ``lapsed``: a customer whose last cancellation event
  (``labels.attrition.cancellation_event``) before the date has no purchase after it.
  They have left, however recently they paid; a purchase after the cancellation is a
  comeback and makes them a customer again.
* ``active``: everyone else signed up before the date.

In a non-contractual business a "cancellation" event (an Online Retail cancelled
invoice, say) is a bad experience, not a departure, so it does not change the status.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ACTIVE, LAPSED = "active", "lapsed"
CANCELLED = "cancelled"  # the segments' column: gone by cancellation at the date


def customer_status(recency_days: pd.Series, tenure_days: pd.Series, lapse_days: int,
                    cancelled: np.ndarray | pd.Series | None = None) -> pd.Series:
    """``active`` if the customer bought within ``lapse_days`` (or joined that recently)
    and has not cancelled since; else ``lapsed``.

    Parameters
    ----------
    recency_days
        Days since the last purchase before the date (NaN if none yet).
    tenure_days
        Days since signup.
    cancelled
        Aligned with ``recency_days``: true where the customer's last cancellation
        before the date has no purchase after it (see :func:`cancelled_customers`);
        None when cancellations do not decide status.
    """
    recency = recency_days.to_numpy(dtype=float)
    recent_buyer = recency <= lapse_days
    newcomer = np.isnan(recency) & (tenure_days.to_numpy(dtype=float) <= lapse_days)
    active = recent_buyer | newcomer
    if cancelled is not None:
        active &= ~np.asarray(cancelled, dtype=bool)
    return pd.Series(np.where(active, ACTIVE, LAPSED), index=recency_days.index)


def status_of(frame: pd.DataFrame, lapse_days: int) -> pd.Series:
    """:func:`customer_status` of each row of a feature frame.

    Parameters
    ----------
    frame
        ``recency_days, tenure_days`` and, where cancellations decide status, a boolean
        ``cancelled`` column (:func:`cancelled_customers`; a missing value is false).
    """
    cancelled = None
    if CANCELLED in frame.columns:
        cancelled = frame[CANCELLED].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return customer_status(frame["recency_days"], frame["tenure_days"], lapse_days, cancelled)


def cancelled_customers(purchases: pd.DataFrame, events: pd.DataFrame | None,
                        as_of: pd.Timestamp, event: str) -> pd.Index:
    """Customers whose last ``event`` before ``as_of`` has no purchase after it.

    Parameters
    ----------
    purchases
        Purchase lines ``customer_id, ts`` (returns already removed).
    events
        ``customer_id, ts, event_type``; None: nobody has cancelled.
    as_of
        The date; only rows strictly before it are read.
    event
        The cancellation event type (:func:`churnml.labels.cancellation_event`).

    Returns
    -------
    Index
        The customer ids (as given), sorted.
    """
    if events is None or events.empty:
        return pd.Index([], dtype=object)
    as_of = pd.Timestamp(as_of)
    cancels = events.loc[(events["event_type"] == event) & (events["ts"] < as_of)]
    last_cancel = cancels.groupby("customer_id", observed=True)["ts"].max()
    bought = purchases.loc[purchases["ts"] < as_of]
    last_purchase = bought.groupby("customer_id", observed=True)["ts"].max()
    since = last_purchase.reindex(last_cancel.index)
    gone = last_cancel.index[~(since > last_cancel).to_numpy()]  # NaT compares False
    return pd.Index(sorted(gone))


def cancelled_at(rows: pd.DataFrame, date_column: str, purchases: pd.DataFrame,
                 events: pd.DataFrame | None, event: str) -> np.ndarray:
    """Per row, whether the customer is gone by cancellation at the row's own date.

    Parameters
    ----------
    rows
        ``customer_id`` and ``date_column`` (e.g. campaign records by ``send_date``).
    purchases, events, event
        As for :func:`cancelled_customers`.
    """
    out = np.zeros(len(rows), dtype=bool)
    dates = rows[date_column].to_numpy()
    ids = rows["customer_id"]
    for date in pd.unique(dates):
        at = dates == date
        gone = cancelled_customers(purchases, events, pd.Timestamp(date), event)
        out[at] = ids.loc[at].isin(list(gone)).to_numpy()
    return out
