"""Customer status at a snapshot, and attrition / win-back labels over a horizon.

For snapshot ``t``: status uses only purchases before ``t``; labels use only
purchases in ``[t, t + horizon)``. Snapshots whose horizon runs past the end of the
data are not labelled (see :func:`churnml.calendar.labelled`).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from churnml.features.core import FEATURE_KEY, _days_between
from churnml.features.engine import snapshot_table

ACTIVE, LAPSED = "active", "lapsed"
LABEL_COLUMNS = [*FEATURE_KEY, "status", "attrition", "winback"]


def customer_status(recency_days: pd.Series, tenure_days: pd.Series, lapse_days: int) -> pd.Series:
    """``active`` if the customer bought within ``lapse_days`` (or joined that recently).

    Parameters
    ----------
    recency_days
        Days since the last purchase before the snapshot (NaN if none yet).
    tenure_days
        Days since signup.
    """
    recent_buyer = recency_days.to_numpy(dtype=float) <= lapse_days
    newcomer = np.isnan(recency_days.to_numpy(dtype=float)) & (
        tenure_days.to_numpy(dtype=float) <= lapse_days)
    return pd.Series(np.where(recent_buyer | newcomer, ACTIVE, LAPSED), index=recency_days.index)


def purchase_windows(customers: ir.Table, transactions: ir.Table, dates: list[pd.Timestamp],
                     horizon_days: int) -> ir.Table:
    """Per customer × snapshot: recency and tenure at ``t``, purchases in the horizon."""
    snaps = snapshot_table(dates)
    tx = transactions.filter((transactions.amount > 0) & ~transactions.is_return)
    j = tx.join(snaps, tx.ts < snaps.as_of + ibis.interval(days=int(horizon_days)))
    agg = j.group_by(FEATURE_KEY).aggregate(
        last_purchase=j.ts.max(where=j.ts < j.as_of),
        purchases_in_horizon=(j.ts >= j.as_of).cast("int64").sum(),
    )
    grid = customers.cross_join(snaps).filter(lambda t: t.signup_date < t.as_of)
    grid = grid.select("customer_id", "as_of", "signup_date")
    out = grid.left_join(agg, FEATURE_KEY).drop("customer_id_right", "as_of_right")
    return out.select(
        "customer_id", "as_of",
        recency_days=_days_between(out.as_of, out.last_purchase),
        tenure_days=_days_between(out.as_of, out.signup_date),
        purchases_in_horizon=out.purchases_in_horizon.fill_null(0),
    ).order_by(FEATURE_KEY)


def make_labels(windows: pd.DataFrame, lapse_days: int) -> pd.DataFrame:
    """Attrition labels for active customers and win-back labels for lapsed ones.

    Parameters
    ----------
    windows
        Output of :func:`purchase_windows`: ``customer_id, as_of, recency_days,
        tenure_days, purchases_in_horizon``.

    Returns
    -------
    DataFrame
        ``customer_id, as_of, status, attrition, winback``; ``attrition`` is set
        (0/1) for active rows only and ``winback`` for lapsed rows only.
    """
    status = customer_status(windows["recency_days"], windows["tenure_days"], lapse_days)
    bought = windows["purchases_in_horizon"].to_numpy() > 0
    active = (status == ACTIVE).to_numpy()
    return pd.DataFrame({
        "customer_id": windows["customer_id"].to_numpy(),
        "as_of": windows["as_of"].to_numpy(),
        "status": status.to_numpy(),
        "attrition": pd.array(np.where(active, ~bought, pd.NA), dtype="Int8"),
        "winback": pd.array(np.where(active, pd.NA, bought), dtype="Int8"),
    })
