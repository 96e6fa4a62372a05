"""Core feature families as Ibis expressions, one row per customer × snapshot.

Every value for snapshot ``as_of`` uses only rows with ``ts < as_of`` (strictly
before), so appending data dated at or after a snapshot cannot change it.

Required columns
----------------
customers : customer_id, signup_date (+ the configured categorical attributes)
transactions : customer_id, ts, amount, is_return
events : customer_id, ts, event_type
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from churnml.features.engine import snapshot_table

FEATURE_KEY = ["customer_id", "as_of"]
SECONDS_PER_DAY = 86400.0


def _days_between(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.FloatingValue:
    return (later.epoch_seconds() - earlier.epoch_seconds()).cast("float64") / SECONDS_PER_DAY


def _in_window(ts: ir.TimestampValue, as_of: ir.TimestampValue, lo_days: int,
               hi_days: int) -> ir.BooleanValue:
    """``as_of - hi_days <= ts < as_of - lo_days``."""
    upper = as_of - ibis.interval(days=lo_days) if lo_days else as_of
    return (ts >= as_of - ibis.interval(days=hi_days)) & (ts < upper)


def customer_grid(customers: ir.Table, snaps: ir.Table, attributes: list[str]) -> ir.Table:
    """Customers signed up before each snapshot, with tenure and static attributes."""
    grid = customers.cross_join(snaps).filter(lambda t: t.signup_date < t.as_of)
    keep = [a for a in attributes if a in customers.columns]
    return grid.select(
        "customer_id", "as_of", *keep,
        tenure_days=_days_between(grid.as_of, grid.signup_date),
    )


def purchase_features(transactions: ir.Table, snaps: ir.Table, windows: list[int]) -> ir.Table:
    """RFM and spend dynamics: recency, frequency, monetary, recent vs prior windows."""
    tx = transactions.filter((transactions.amount > 0) & ~transactions.is_return)
    j = tx.join(snaps, tx.ts < snaps.as_of)
    metrics: dict[str, ir.Value] = {
        "first_purchase": j.ts.min(),
        "last_purchase": j.ts.max(),
        "frequency": j.count(),
        "monetary": j.amount.sum(),
    }
    for w in windows:
        recent, prior = _in_window(j.ts, j.as_of, 0, w), _in_window(j.ts, j.as_of, w, 2 * w)
        metrics[f"count_{w}d"] = recent.cast("int64").sum()
        metrics[f"spend_{w}d"] = (j.amount * recent.cast("float64")).sum()
        metrics[f"count_prev_{w}d"] = prior.cast("int64").sum()
        metrics[f"spend_prev_{w}d"] = (j.amount * prior.cast("float64")).sum()
    return j.group_by(FEATURE_KEY).aggregate(**metrics)


def return_features(transactions: ir.Table, snaps: ir.Table, window: int) -> ir.Table:
    """Returned lines in the last ``window`` days."""
    rt = transactions.filter(transactions.is_return | (transactions.amount < 0))
    j = rt.join(snaps, (rt.ts < snaps.as_of) & (rt.ts >= snaps.as_of - ibis.interval(days=window)))
    return j.group_by(FEATURE_KEY).aggregate(**{f"returns_{window}d": j.count()})


def event_features(events: ir.Table, snaps: ir.Table, event_types: list[str],
                   window: int) -> ir.Table:
    """Counts of each event type in the last ``window`` days."""
    ev = events.filter(events.event_type.isin(event_types))
    j = ev.join(snaps, (ev.ts < snaps.as_of) & (ev.ts >= snaps.as_of - ibis.interval(days=window)))
    counts = {f"{kind}_{window}d": (j.event_type == kind).cast("int64").sum() for kind in event_types}
    return j.group_by(FEATURE_KEY).aggregate(**counts)


def build_features(tables: dict[str, ir.Table], dates: list[pd.Timestamp],
                   cfg: dict[str, Any]) -> ir.Table:
    """All core features for every customer signed up before each snapshot date.

    Parameters
    ----------
    tables
        Ibis tables ``customers``, ``transactions`` and optionally ``events``.
    dates
        Snapshot dates.
    cfg
        The ``features`` config section.

    Returns
    -------
    ibis.Table
        One row per ``customer_id, as_of``; counts are 0 (not null) when nothing
        happened; ``recency_days`` is null before a first purchase; ratios are null
        when the prior window is empty.
    """
    snaps = snapshot_table(dates)
    windows = [int(w) for w in cfg["windows_days"]]
    ev_window = int(cfg["event_window_days"])
    out = customer_grid(tables["customers"], snaps, list(cfg["categorical_attributes"]))
    parts = [purchase_features(tables["transactions"], snaps, windows),
             return_features(tables["transactions"], snaps, ev_window)]
    if "events" in tables:
        parts.append(event_features(tables["events"], snaps, list(cfg["event_types"]), ev_window))
    for part in parts:
        out = out.left_join(part, FEATURE_KEY).drop("customer_id_right", "as_of_right")
    filled = {c: out[c].fill_null(0) for c in out.columns
              if c.startswith(("count_", "spend_", "returns_", "frequency", "monetary"))
              or (c.endswith(f"_{ev_window}d") and c.split("_")[0] not in ("count", "spend"))}
    out = out.mutate(**filled)
    derived: dict[str, ir.Value] = {
        "recency_days": _days_between(out.as_of, out.last_purchase),
        "days_since_first_purchase": _days_between(out.as_of, out.first_purchase),
        "avg_order_value": ibis.ifelse(out.frequency > 0, out.monetary / out.frequency, None),
    }
    for w in windows:
        prev = out[f"spend_prev_{w}d"]
        derived[f"spend_ratio_{w}d"] = ibis.ifelse(prev > 0, out[f"spend_{w}d"] / prev, None)
    return out.mutate(**derived).drop("first_purchase", "last_purchase").order_by(FEATURE_KEY)


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Model input columns of a feature frame (everything but the key)."""
    return [c for c in frame.columns if c not in FEATURE_KEY]
