"""Competitor-switch signals: precursor events and spend drifting to substitutes.

Features (``w`` in ``signals.windows_days``, ``s`` = ``signals.share_window_days``)
----------------------------------------------------------------------------------
<event_type>_<w>d
    Count of each configured precursor event (competitor inquiries, price
    comparisons, port-out requests, cancel-page visits, downgrades) in the last
    ``w`` days.
switch_signals_<w>d
    All of them together.
days_since_switch_signal
    Days since the latest one (null if none).
substitute_share_<s>d, substitute_share_all, substitute_shift_<s>d
    Share of spend in ``signals.substitute_categories`` in the last ``s`` days, over
    the customer's whole history before the snapshot (their own baseline), and the
    difference: spend moving to substitutes (needs ``category``).
discount_category_share_<s>d, discount_category_share_all, discount_category_shift_<s>d
    The same for ``signals.discount_categories``.
discount_rate_<s>d, discount_rate_all, discount_shift_<s>d
    Discount dependence: discounts over list value (spend + discount), recent, over
    the history, and the difference (needs ``discount``).

Required columns: events ``key, ts, code``; purchases ``key, ts, amount``
(+ ``substitute_amount, discount_category_amount, discount`` when present).
"""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir

from churnml.features import purchases
from churnml.features.base import (
    Metrics,
    days_ago,
    days_between,
    exact_sum,
    in_window,
    is_event,
    ratio,
)

SHARES = {"substitute": "substitute_amount", "discount_category": "discount_category_amount",
          "discount": "discount"}


def _windows(cfg: dict[str, Any]) -> list[int]:
    return [int(w) for w in cfg["signals"]["windows_days"]]


def event_scope(events: ir.Table, as_of: ir.TimestampScalar,
                cfg: dict[str, Any]) -> ir.BooleanValue:
    """The event rows these metrics read: any precursor (for the latest one)."""
    return is_event(events, cfg, *cfg["signals"]["event_types"])


def event_metrics(events: ir.Table, as_of: ir.TimestampScalar, cfg: dict[str, Any]) -> Metrics:
    """Counts of switch precursor events in each window, and the latest one.

    Parameters
    ----------
    events
        Prepared events with ``ts < as_of``.
    cfg
        The ``features`` config section.
    """
    kinds = list(cfg["signals"]["event_types"])
    is_signal = is_event(events, cfg, *kinds)
    out = Metrics(values={"_last_switch_signal": events.ts.max(where=is_signal)})
    for w in _windows(cfg):
        recent = events.ts >= days_ago(as_of, w)
        for kind in kinds:
            out.counts[f"{kind}_{w}d"] = events.count(where=recent & is_event(events, cfg, kind))
        out.counts[f"switch_signals_{w}d"] = events.count(where=recent & is_signal)
    return out


def share_window(cfg: dict[str, Any]) -> int:
    """The window (days) of the spend-share features."""
    return int(cfg["signals"]["share_window_days"])


def purchase_metrics(rows: ir.Table, as_of: ir.TimestampScalar, cfg: dict[str, Any]) -> Metrics:
    """Substitute / discount-category spend and discounts: recent, and over the history.

    Parameters
    ----------
    rows
        Purchases with ``ts < as_of``.
    """
    s = share_window(cfg)
    recent = in_window(rows.ts, as_of, 0, s)
    out = Metrics()
    if s not in purchases.windows(cfg):  # else spend_<s>d serves
        out.counts[f"_spend_{s}d"] = exact_sum(rows.amount, recent)
    for name, column in SHARES.items():
        if column in rows.columns:
            out.counts[f"_{name}_recent"] = exact_sum(rows[column], recent)
            out.counts[f"_{name}_all"] = exact_sum(rows[column])
    return out


def _recent_spend(table: ir.Table, days: int) -> ir.NumericValue:
    """``spend_<days>d`` from the purchase windows, else the helper column."""
    name = f"spend_{days}d"
    return table[name] if name in table.columns else table[f"_{name}"]


def derive(table: ir.Table, cfg: dict[str, Any]) -> dict[str, ir.Value]:
    """Days since the latest signal, spend shares and discount dependence."""
    s = share_window(cfg)
    spend, spend_all = _recent_spend(table, s), table.monetary
    out: dict[str, ir.Value] = {}
    if "_last_switch_signal" in table.columns:
        out["days_since_switch_signal"] = days_between(table.as_of, table._last_switch_signal)
    for name in ("substitute", "discount_category"):
        if f"_{name}_recent" in table.columns:
            now = ratio(table[f"_{name}_recent"], spend)
            usual = ratio(table[f"_{name}_all"], spend_all)
            out.update({f"{name}_share_{s}d": now, f"{name}_share_all": usual,
                        f"{name}_shift_{s}d": now - usual})
    if "_discount_recent" in table.columns:
        now = ratio(table._discount_recent, spend + table._discount_recent)
        usual = ratio(table._discount_all, spend_all + table._discount_all)
        out.update({f"discount_rate_{s}d": now, "discount_rate_all": usual,
                    f"discount_shift_{s}d": now - usual})
    return out
