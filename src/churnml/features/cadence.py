"""Inter-purchase cadence and how overdue the customer is against it.

A purchase *occasion* is a calendar day with at least one purchase line (lines on
the same day form one basket); gaps are the days between consecutive occasions.
Each purchase line carries the gap to the previous occasion, computed once for all
snapshots in :mod:`churnml.features.inputs`, so the statistics as of a snapshot are
plain sums over the lines before it.

Features
--------
purchase_days
    Number of occasions before the snapshot.
mean_gap_days
    Mean gap between occasions (null with fewer than 2 occasions).
gap_std_days
    Sample standard deviation of the gaps (null with fewer than 3 occasions).
overdue_ratio
    recency_days / mean_gap_days: above 1, the customer is later than usual.
overdue_days
    recency_days - mean_gap_days.

Required columns: purchases ``key, gap_days, new_occasion``; the derived features
need ``recency_days`` (from :mod:`churnml.features.purchases`).
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from churnml.features.base import Metrics, double, exact_sum, ratio

MIN_GAPS_FOR_SPREAD = 2


def metrics(rows: ir.Table, as_of: ir.TimestampScalar, cfg: dict[str, Any]) -> Metrics:
    """Sums of gaps and squared gaps over the purchase lines before ``as_of``.

    Parameters
    ----------
    rows
        Purchases with ``ts < as_of``.
    """
    gap = rows.gap_days
    return Metrics(counts={
        "purchase_days": rows.new_occasion.sum(),
        "_gap_count": gap.count(),
        "_gap_sum": exact_sum(gap),
        "_gap_square_sum": exact_sum(gap * gap),
    })


def derive(table: ir.Table, cfg: dict[str, Any]) -> dict[str, ir.Value]:
    """Mean and spread of the gaps, and recency against them."""
    n = table._gap_count
    mean = ratio(table._gap_sum, n)
    variance = (table._gap_square_sum - n * mean * mean) / (n - 1).cast("float64")
    spread = ibis.ifelse(n >= MIN_GAPS_FOR_SPREAD, ibis.greatest(variance, double(0.0)).sqrt(),
                         ibis.null())
    return {
        "mean_gap_days": mean,
        "gap_std_days": spread.cast("float64"),
        "overdue_ratio": ratio(table.recency_days, mean),
        "overdue_days": table.recency_days - mean,
    }
