"""Customer status at a snapshot, and attrition / win-back labels over a horizon.

For snapshot ``t``: the status and the baseline use only data before ``t``; the
outcome uses only ``[t, t + horizon)``. Snapshots whose horizon runs past the end of
the tables the labels read (:func:`label_tables`) are not labelled (see
:func:`churnml.calendar.labelled`).

Attrition (for customers *active* at ``t``) has a configurable definition
(``labels.attrition.definition``, one name or a list meaning "any of"):

``no_purchase``
    no purchase in the horizon;
``spend_drop``
    horizon spend below ``spend_fraction`` of the customer's baseline: their spend
    over the ``baseline_days`` before ``t`` per *observed* day of that window
    (``min(baseline_days, t - max(signup_date, data_start))``), times the horizon
    length. A customer without baseline spend, or observed for fewer days than the
    horizon (too short a history to project), falls back to ``no_purchase``;
``cancellation``
    a contractual cancellation event (``cancellation_event``) in the horizon. A
    customer whose last cancellation before ``t`` has no purchase after it has already
    gone: they are *lapsed* at ``t`` however recently they paid
    (:mod:`churnml.status`), and get a win-back label.

Win-back (for customers *lapsed* at ``t``): a purchase within the horizon.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from churnml.errors import ConfigError
from churnml.features.attributes import observed_since
from churnml.features.base import days_ago, days_between, double, exact_sum
from churnml.features.core import FEATURE_KEY
from churnml.features.engine import timestamp
from churnml.status import ACTIVE, customer_status

LABEL_COLUMNS = [*FEATURE_KEY, "status", "attrition", "winback"]
DEFINITIONS = ("no_purchase", "spend_drop", "cancellation")
DEFAULT_ATTRITION = {"definition": "no_purchase", "cancellation_event": "cancellation"}
NEEDS = {"spend_drop": ("spend_fraction", "baseline_days")}


def attrition_settings(labels_cfg: Mapping[str, Any] | None) -> dict[str, Any]:
    """The attrition settings with defaults filled in and the definition as a list."""
    cfg = {**DEFAULT_ATTRITION, **dict((labels_cfg or {}).get("attrition") or {})}
    names = [cfg["definition"]] if isinstance(cfg["definition"], str) else list(cfg["definition"])
    unknown = sorted(set(names) - set(DEFINITIONS))
    if unknown or not names:
        raise ConfigError(f"labels.attrition.definition {names}: choose from {list(DEFINITIONS)}")
    missing = [f"labels.attrition.{key}" for name in names for key in NEEDS.get(name, ())
               if key not in cfg]
    if missing:
        raise ConfigError(f"labels.attrition.definition {names} needs {missing}")
    return {**cfg, "definition": names}


def cancellation_event(labels_cfg: Mapping[str, Any] | None) -> str | None:
    """The event type that ends a contract when cancellations decide status (the
    definition includes ``cancellation``, :mod:`churnml.status`), else None."""
    settings = attrition_settings(labels_cfg)
    if "cancellation" not in settings["definition"]:
        return None
    return str(settings["cancellation_event"])


def label_tables(labels_cfg: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The tables whose rows within a horizon decide the labels.

    ``transactions`` always (``no_purchase``, ``spend_drop`` and win-back read
    purchases), and ``events`` too when the definition includes ``cancellation``.
    Snapshots are labelled only while their horizon ends within all of them.
    """
    definition = attrition_settings(labels_cfg)["definition"]
    return ("transactions", "events") if "cancellation" in definition else ("transactions",)


def _snapshot_windows(customers: ir.Table, purchases: ir.Table, cancels: ir.Table | None,
                      as_of: pd.Timestamp, horizon_days: int, baseline_days: int,
                      data_start: pd.Timestamp | None) -> ir.Table:
    t = timestamp(as_of)
    end = t + ibis.interval(days=int(horizon_days))
    rows = purchases.filter(purchases.ts < end)
    future = rows.ts >= t
    agg = rows.group_by("customer_id").aggregate(
        _last=rows.ts.max(where=~future),
        _bought=rows.count(where=future),
        _spent=exact_sum(rows.amount, future),
        _baseline=exact_sum(rows.amount, ~future & (rows.ts >= days_ago(t, baseline_days))))
    grid = customers.filter(customers.signup_date < t)
    out = grid.left_join(agg, grid.customer_id == agg.customer_id)
    if cancels is not None:
        hits = cancels.filter(cancels.ts < end)
        hits = hits.group_by("customer_id").aggregate(
            _cancelled=hits.count(where=hits.ts >= t), _last_cancel=hits.ts.max(where=hits.ts < t))
        out = out.left_join(hits, grid.customer_id == hits.customer_id)
    columns = {"customer_id": out.customer_id, "as_of": t,
               "recency_days": days_between(t, out._last),
               "tenure_days": days_between(t, out.signup_date),
               "purchases_in_horizon": out._bought.fill_null(0),
               "spend_in_horizon": out._spent.fill_null(double(0.0)),
               "baseline_spend": out._baseline.fill_null(double(0.0)),
               "baseline_observed_days": _observed_baseline(
                   days_between(t, observed_since(out.signup_date, data_start)), baseline_days)}
    if cancels is not None:
        columns["cancelled_in_horizon"] = out._cancelled.fill_null(0)
        # Gone before t: cancelled, and no purchase since (a purchase after it is a return).
        gone = out._last_cancel.notnull() & (out._last <= out._last_cancel).fill_null(True)
        columns["cancelled_before"] = gone.cast("int8")
    return out.select(**columns)


def _observed_baseline(observed_days: ir.FloatingValue, baseline_days: int) -> ir.FloatingValue:
    """``min(baseline_days, observed_days)``: the days of the baseline the data shows."""
    full = double(float(baseline_days))
    return ibis.ifelse(observed_days < full, observed_days, full)


def purchase_windows(customers: ir.Table, transactions: ir.Table, dates: list[pd.Timestamp],
                     horizon_days: int, *, events: ir.Table | None = None,
                     labels_cfg: Mapping[str, Any] | None = None,
                     data_start: pd.Timestamp | None = None) -> ir.Table:
    """Per customer x snapshot: recency, tenure and baseline at ``t``; outcome in the horizon.

    Parameters
    ----------
    customers
        ``customer_id, signup_date``.
    transactions
        ``customer_id, ts, amount`` (+ ``is_return``).
    events
        ``customer_id, ts, event_type``; needed for the ``cancellation`` definition.
    labels_cfg
        The ``labels`` config section (for the attrition settings).
    data_start
        The first day of data (the ingest manifest's ``data_start``); None when the
        data covers every customer since signup.

    Returns
    -------
    ibis.Table
        ``customer_id, as_of, recency_days, tenure_days, purchases_in_horizon,
        spend_in_horizon, baseline_spend, baseline_observed_days`` (the days of the
        baseline window after ``max(signup_date, data_start)``) (+ with events
        ``cancelled_in_horizon``, and ``cancelled_before``: 1 when the last
        cancellation before ``t`` has no purchase after it).
    """
    if not dates:
        raise ConfigError("no labelled snapshot: the data is shorter than the history plus "
                          "labels.horizon_days")
    settings = attrition_settings(labels_cfg)
    tx = transactions
    returned = tx.is_return.fill_null(False) if "is_return" in tx.columns else ibis.literal(False)
    purchases = tx.filter((tx.amount >= 0) & ~returned).select("customer_id", "ts", "amount")
    cancels = None
    if events is not None:
        cancels = events.filter(events.event_type == settings["cancellation_event"])
        cancels = cancels.select("customer_id", "ts")
    elif "cancellation" in settings["definition"]:
        raise ConfigError("labels.attrition.definition 'cancellation' needs the events table")
    grid = customers.select("customer_id", "signup_date")
    baseline = int(settings.get("baseline_days", horizon_days))  # only spend_drop reads it
    parts = [_snapshot_windows(grid, purchases, cancels, d, horizon_days, baseline, data_start)
             for d in dates]
    # Ordered for one date too: labels.parquet must not change from run to run.
    return (ibis.union(*parts) if len(parts) > 1 else parts[0]).order_by(FEATURE_KEY)


def expected_spend(windows: pd.DataFrame, horizon_days: int) -> np.ndarray:
    """Horizon spend at the customer's own baseline rate (NaN without a usable baseline).

    The rate is ``baseline_spend`` per observed baseline day; with fewer observed days
    than the horizon there is too little history to project, so it is NaN.

    Parameters
    ----------
    windows
        ``baseline_spend, baseline_observed_days`` (:func:`purchase_windows`).
    """
    observed = windows["baseline_observed_days"].to_numpy(float)
    usable = observed >= horizon_days
    rate = np.divide(windows["baseline_spend"].to_numpy(float), observed,
                     out=np.full(len(windows), np.nan), where=usable)
    return rate * horizon_days


def attrited(windows: pd.DataFrame, horizon_days: int, settings: Mapping[str, Any]) -> np.ndarray:
    """Whether each row meets any of the configured attrition definitions."""
    bought = windows["purchases_in_horizon"].to_numpy() > 0
    out = np.zeros(len(windows), dtype=bool)
    for name in settings["definition"]:
        if name == "no_purchase":
            out |= ~bought
        elif name == "spend_drop":
            expected = expected_spend(windows, horizon_days)
            low = windows["spend_in_horizon"].to_numpy(float) < float(
                settings["spend_fraction"]) * expected
            out |= np.where(expected > 0, low, ~bought)  # NaN > 0 is False
        elif name == "cancellation":
            out |= windows["cancelled_in_horizon"].to_numpy() > 0
    return out


def make_labels(windows: pd.DataFrame, lapse_days: int,
                labels_cfg: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Attrition labels for active customers and win-back labels for lapsed ones.

    Parameters
    ----------
    windows
        Output of :func:`purchase_windows`.
    lapse_days
        Customers without a purchase in this many days (and not newer) are lapsed.
    labels_cfg
        The ``labels`` config section (``horizon_days``, ``attrition``); without it
        attrition means no purchase in the horizon.

    Returns
    -------
    DataFrame
        ``customer_id, as_of, status, attrition, winback``; ``attrition`` is set
        (0/1) for active rows only and ``winback`` for lapsed rows only - under the
        ``cancellation`` definition a customer already cancelled at ``t`` is lapsed.
    """
    settings = attrition_settings(labels_cfg)
    horizon = int((labels_cfg or {}).get("horizon_days", 0))
    if horizon <= 0 and set(settings["definition"]) - {"no_purchase", "cancellation"}:
        raise ConfigError("labels.horizon_days is needed for the spend_drop definition")
    cancelled = None
    if "cancellation" in settings["definition"]:
        if "cancelled_before" not in windows:
            raise ConfigError("labels.attrition.definition 'cancellation' needs the "
                              "cancelled_before column of purchase_windows(events=...)")
        # Gone at t (cancelled, no purchase since): a former customer, so win-back.
        cancelled = windows["cancelled_before"].to_numpy() > 0
    status = customer_status(windows["recency_days"], windows["tenure_days"], lapse_days,
                             cancelled)
    bought = windows["purchases_in_horizon"].to_numpy() > 0
    active = (status == ACTIVE).to_numpy()
    left = attrited(windows, horizon, settings)
    return pd.DataFrame({
        "customer_id": windows["customer_id"].to_numpy(),
        "as_of": windows["as_of"].to_numpy(),
        "status": status.to_numpy(),
        "attrition": pd.array(np.where(active, left, pd.NA), dtype="Int8"),
        "winback": pd.array(np.where(active, pd.NA, bought), dtype="Int8"),
    })
