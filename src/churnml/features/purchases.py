"""RFM, value and spend dynamics against the customer's own history.

Features (``w`` in ``features.windows_days``)
---------------------------------------------
frequency, monetary
    Purchase lines and spend before the snapshot.
recency_days, days_since_first_purchase
    Days since the last / first purchase (null before a first purchase).
avg_order_value
    monetary / frequency.
count_<w>d, spend_<w>d, count_prev_<w>d, spend_prev_<w>d
    Lines and spend in the last ``w`` days and in the ``w`` days before those.
count_ratio_<w>d, spend_ratio_<w>d
    Last window over the prior one (null when the prior window is empty).
spend_vs_baseline_<w>d, spend_drop_<w>d
    Daily spend in the last ``w`` days over the customer's baseline (average daily
    spend over ``purchases.baseline_days``), and 1 when that falls below
    ``purchases.drop_ratio`` (null without a baseline).
spend_trend_<n*b>d
    Least-squares slope of spend over ``n = trend_bins`` consecutive bins of
    ``b = trend_bin_days`` days, per bin, relative to the mean bin (``-0.2``: spend
    falls by a fifth of its average every bin); null without spend in the span.

Required columns: purchases ``key, ts, amount``.
"""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir

from churnml.features.base import Metrics, days_between, double, exact_sum, flag, in_window, ratio


def windows(cfg: dict[str, Any]) -> list[int]:
    """The spend windows in days (``features.windows_days``)."""
    return [int(w) for w in cfg["windows_days"]]


def trend_shape(cfg: dict[str, Any]) -> tuple[int, int]:
    """Number of trend bins and their width in days."""
    trend = cfg["purchases"]
    return int(trend["trend_bins"]), int(trend["trend_bin_days"])


def _trend_metrics(rows: ir.Table, as_of: ir.TimestampScalar, cfg: dict[str, Any]) -> Metrics:
    """Sum of spend x centred bin position, and the spend, over the trend span.

    With bins ``i = 0..n-1`` counted back from the snapshot and time ``x = -i``,
    the least-squares slope is ``sum((x - mean x) * y) / sum((x - mean x)^2)``, a
    linear combination of the bin sums, so one weighted sum per customer suffices.
    Bin ``i`` holds the lines more than ``i * b`` and at most ``(i + 1) * b`` days
    back, the edges of :func:`in_window`: the first bin is the last-``b``-days window
    and a line exactly ``n * b`` days back falls in the last bin, not past it.
    """
    bins, bin_days = trend_shape(cfg)
    span = bins * bin_days
    bin_index = ((days_between(as_of, rows.ts) / bin_days).ceil() - 1).cast("float64")
    centred = double((bins - 1) / 2.0) - bin_index
    in_span = in_window(rows.ts, as_of, 0, span)
    out = Metrics(counts={"_trend_moment": exact_sum(rows.amount * centred, in_span)})
    if span not in windows(cfg):
        out.counts[f"_spend_{span}d"] = exact_sum(rows.amount, in_span)
    return out


def spend_in(table: ir.Table, days: int) -> ir.NumericValue:
    """Spend in the last ``days`` days: a window's column, or its own helper column."""
    name = f"spend_{days}d"
    return table[name] if name in table.columns else table[f"_{name}"]


def _baseline_metrics(rows: ir.Table, as_of: ir.TimestampScalar, cfg: dict[str, Any]) -> Metrics:
    """Spend over the baseline window, unless two spend windows already cover it."""
    baseline = int(cfg["purchases"]["baseline_days"])
    if baseline % 2 == 0 and baseline // 2 in windows(cfg):
        return Metrics()
    return Metrics(counts={f"_spend_{baseline}d": exact_sum(
        rows.amount, in_window(rows.ts, as_of, 0, baseline))})


def baseline_spend(table: ir.Table, cfg: dict[str, Any]) -> ir.NumericValue:
    """Spend over the baseline window (``purchases.baseline_days``)."""
    baseline = int(cfg["purchases"]["baseline_days"])
    half = f"spend_{baseline // 2}d"
    if baseline % 2 == 0 and half in table.columns:
        return table[half] + table[f"spend_prev_{baseline // 2}d"]
    return table[f"_spend_{baseline}d"]


def metrics(rows: ir.Table, as_of: ir.TimestampScalar, cfg: dict[str, Any]) -> Metrics:
    """Reductions over the purchase lines before ``as_of``.

    Parameters
    ----------
    rows
        Purchases with ``ts < as_of`` (``key, ts, amount``).
    cfg
        The ``features`` config section.
    """
    out = Metrics(
        counts={"frequency": rows.count(), "monetary": exact_sum(rows.amount)},
        values={"_first_purchase": rows.ts.min(), "_last_purchase": rows.ts.max()},
    )
    for w in windows(cfg):
        recent, prior = in_window(rows.ts, as_of, 0, w), in_window(rows.ts, as_of, w, 2 * w)
        out.counts[f"count_{w}d"] = rows.count(where=recent)
        out.counts[f"spend_{w}d"] = exact_sum(rows.amount, recent)
        out.counts[f"count_prev_{w}d"] = rows.count(where=prior)
        out.counts[f"spend_prev_{w}d"] = exact_sum(rows.amount, prior)
    return out.update(_baseline_metrics(rows, as_of, cfg)).update(_trend_metrics(rows, as_of, cfg))


def derive(table: ir.Table, cfg: dict[str, Any]) -> dict[str, ir.Value]:
    """Row-wise features from the purchase metrics (see the module docstring)."""
    out: dict[str, ir.Value] = {
        "recency_days": days_between(table.as_of, table._last_purchase),
        "days_since_first_purchase": days_between(table.as_of, table._first_purchase),
        "avg_order_value": ratio(table.monetary, table.frequency),
    }
    baseline_daily = ratio(baseline_spend(table, cfg), int(cfg["purchases"]["baseline_days"]))
    drop_ratio = float(cfg["purchases"]["drop_ratio"])
    for w in windows(cfg):
        out[f"count_ratio_{w}d"] = ratio(table[f"count_{w}d"], table[f"count_prev_{w}d"])
        out[f"spend_ratio_{w}d"] = ratio(table[f"spend_{w}d"], table[f"spend_prev_{w}d"])
        versus = ratio(table[f"spend_{w}d"] / w, baseline_daily)
        out[f"spend_vs_baseline_{w}d"] = versus
        out[f"spend_drop_{w}d"] = flag(versus < double(drop_ratio))
    bins, bin_days = trend_shape(cfg)
    spread = double(bins * (bins * bins - 1) / 12.0)  # sum of squared centred bin positions
    if bins > 1:
        mean_bin = spend_in(table, bins * bin_days) / bins
        out[f"spend_trend_{bins * bin_days}d"] = ratio(table._trend_moment / spread, mean_bin)
    return out
