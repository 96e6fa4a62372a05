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
    Daily spend in the last ``w`` days over the customer's baseline, and 1 when that
    falls below ``purchases.drop_ratio``. The baseline is the spend over the last
    ``purchases.baseline_days`` divided by the days of that window that were
    *observed*: ``min(baseline_days, t - max(signup_date, data_start))``, so a young
    customer (or any customer in the first year of data) is compared with what they
    actually spent per day, not with a rate diluted by days before they (or the data)
    existed. Both are null without baseline spend, and when fewer than ``w`` days are
    observed (nothing before the window to compare it with).
spend_trend_<n*b>d
    Least-squares slope of spend over the last ``n = trend_bins`` bins of
    ``b = trend_bin_days`` days, per bin, relative to the mean bin (``-0.2``: spend
    falls by a fifth of its average every bin). Only bins wholly observed (after
    ``max(signup_date, data_start)``) enter the fit; null with fewer than
    ``purchases.trend_min_bins`` of them, or without spend in them.

``data_start`` is the first day of data (the ingest manifest's ``data_start``); each
snapshot's grid carries the observed days as the helper ``_observed_days``
(:func:`churnml.features.attributes.customer_grid`).

Required columns: purchases ``key, ts, amount``; grid ``as_of, _observed_days``.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from churnml.features.base import Metrics, days_between, double, exact_sum, flag, in_window, ratio


def windows(cfg: dict[str, Any]) -> list[int]:
    """The spend windows in days (``features.windows_days``)."""
    return [int(w) for w in cfg["windows_days"]]


def trend_shape(cfg: dict[str, Any]) -> tuple[int, int]:
    """Number of trend bins and their width in days."""
    trend = cfg["purchases"]
    return int(trend["trend_bins"]), int(trend["trend_bin_days"])


def trend_bin_column(i: int, cfg: dict[str, Any]) -> str:
    """The column holding the spend of trend bin ``i`` (see :func:`_trend_metrics`).

    Bins 0 and 1 are the last and previous ``b``-day windows when ``b`` is one of the
    spend windows; other bins get a helper column of their own.
    """
    _, bin_days = trend_shape(cfg)
    if bin_days in windows(cfg) and i < 2:
        return f"spend_{bin_days}d" if i == 0 else f"spend_prev_{bin_days}d"
    return f"_trend_bin_{i}"


def _trend_metrics(rows: ir.Table, as_of: ir.TimestampScalar, cfg: dict[str, Any]) -> Metrics:
    """Spend in each trend bin (those the spend windows do not already hold).

    Bin ``i`` holds the lines more than ``i * b`` and at most ``(i + 1) * b`` days
    back, the edges of :func:`in_window`: the first bin is the last-``b``-days window
    and a line exactly ``n * b`` days back falls in the last bin, not past it. The
    slope is fitted per customer in :func:`trend`, over the bins they were observed in.
    """
    bins, bin_days = trend_shape(cfg)
    out = Metrics()
    for i in range(bins):
        name = trend_bin_column(i, cfg)
        if name.startswith("_"):
            out.counts[name] = exact_sum(
                rows.amount, in_window(rows.ts, as_of, i * bin_days, (i + 1) * bin_days))
    return out


def _baseline_metrics(rows: ir.Table, as_of: ir.TimestampScalar, cfg: dict[str, Any]) -> Metrics:
    """Spend over the baseline window, as one exact sum.

    Not as the sum of two spend windows that cover it: adding two rounded sums can
    miss the exact total by a unit in the last place, and a customer whose spend sits
    exactly on ``drop_ratio`` times the baseline then gets the drop flag by round-off
    (one customer in 10^6 on the benchmark world disagreed with the SQL and pandas).
    """
    baseline = int(cfg["purchases"]["baseline_days"])
    return Metrics(counts={f"_spend_{baseline}d": exact_sum(
        rows.amount, in_window(rows.ts, as_of, 0, baseline))})


def baseline_spend(table: ir.Table, cfg: dict[str, Any]) -> ir.NumericValue:
    """Spend over the baseline window (``purchases.baseline_days``)."""
    return table[f"_spend_{int(cfg['purchases']['baseline_days'])}d"]


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


def trend(table: ir.Table, cfg: dict[str, Any]) -> ir.FloatingValue:
    """Relative least-squares slope of spend over the customer's observed trend bins.

    With ``k`` bins wholly after ``max(signup_date, data_start)`` (bins ``i = 0..k-1``
    counted back from the snapshot, time ``x = -i``), the slope is
    ``sum((x - mean x) * y) / sum((x - mean x)^2)`` with ``sum((x - mean x)^2) =
    k (k^2 - 1) / 12``, divided by the mean bin. A bin before signup or before the
    data starts holds no observation (not zero spend), so it is left out of the fit.

    Parameters
    ----------
    table
        The grid with ``_observed_days`` and every :func:`trend_bin_column`.
    cfg
        The ``features`` config section.
    """
    bins, bin_days = trend_shape(cfg)
    seen = [table._observed_days >= double(float((i + 1) * bin_days)) for i in range(bins)]
    spend = [table[trend_bin_column(i, cfg)] for i in range(bins)]
    zero = double(0.0)
    k = sum((ibis.ifelse(s, double(1.0), zero) for s in seen), zero)
    centre = (k - double(1.0)) / double(2.0)
    moment = sum((ibis.ifelse(s, (centre - double(float(i))) * y, zero)
                  for i, (s, y) in enumerate(zip(seen, spend, strict=True))), zero)
    total = sum((ibis.ifelse(s, y, zero) for s, y in zip(seen, spend, strict=True)), zero)
    spread = k * (k * k - double(1.0)) / double(12.0)  # sum of squared centred positions
    enough = k >= double(float(int(cfg["purchases"]["trend_min_bins"])))
    return ibis.ifelse(enough, ratio(moment / spread, total / k), ibis.null())


def baseline_daily(table: ir.Table, cfg: dict[str, Any]) -> ir.FloatingValue:
    """Baseline spend per observed day: over ``min(baseline_days, _observed_days)`` days."""
    baseline = int(cfg["purchases"]["baseline_days"])
    observed = ibis.ifelse(table._observed_days < double(float(baseline)),
                           table._observed_days, double(float(baseline)))
    return ratio(baseline_spend(table, cfg), observed)


def derive(table: ir.Table, cfg: dict[str, Any]) -> dict[str, ir.Value]:
    """Row-wise features from the purchase metrics (see the module docstring)."""
    out: dict[str, ir.Value] = {
        "recency_days": days_between(table.as_of, table._last_purchase),
        "days_since_first_purchase": days_between(table.as_of, table._first_purchase),
        "avg_order_value": ratio(table.monetary, table.frequency),
    }
    daily = baseline_daily(table, cfg)
    drop_ratio = float(cfg["purchases"]["drop_ratio"])
    for w in windows(cfg):
        out[f"count_ratio_{w}d"] = ratio(table[f"count_{w}d"], table[f"count_prev_{w}d"])
        out[f"spend_ratio_{w}d"] = ratio(table[f"spend_{w}d"], table[f"spend_prev_{w}d"])
        # A window longer than the observed history has no baseline before it to compare with.
        comparable = table._observed_days >= double(float(w))
        versus = ibis.ifelse(comparable, ratio(table[f"spend_{w}d"] / w, daily), ibis.null())
        out[f"spend_vs_baseline_{w}d"] = versus
        out[f"spend_drop_{w}d"] = flag(versus < double(drop_ratio))
    bins, bin_days = trend_shape(cfg)
    if bins > 1:
        out[f"spend_trend_{bins * bin_days}d"] = trend(table, cfg)
    return out
