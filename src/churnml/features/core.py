"""Point-in-time features, one row per customer x snapshot (DESIGN §6).

For a snapshot ``t`` every feature uses only rows with timestamp strictly before
``t`` (customers who signed up before ``t``; incidents that started before ``t``),
so appending data dated at or after ``t`` cannot change it.

How the work is shared across snapshots: :func:`churnml.features.inputs.prepare`
does everything that does not depend on ``t`` (integer customer keys, purchase /
return split, gaps between purchase days, complaint resolution times) and
:func:`iter_features` stores those tables on the backend once; each snapshot is
then one grouped pass per source table with ``t`` as a literal, so the backend can
fold every window bound into a constant. Families (modules of this package) add
metrics to those passes and derived columns after them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from churnml.errors import ConfigError
from churnml.features import attributes, cadence, experience, incidents, purchases, signals
from churnml.features.base import KEY, ORDER, Metrics, fill_counts, left_join, public_columns
from churnml.features.engine import timestamp
from churnml.features.inputs import FAMILIES, FeatureInputs, prepare

FEATURE_KEY = ["customer_id", "as_of"]
MIN_TREND_BINS = 2  # a least-squares slope needs two points
CORE_FAMILIES = ("purchases",)  # the subset the pandas oracle and the benchmark check
MetricBuilder = Callable[[ir.Table, ir.TimestampScalar, dict[str, Any]], Metrics]
Scope = Callable[[ir.Table, ir.TimestampScalar, dict[str, Any]], ir.BooleanValue]
Derivation = Callable[[ir.Table, dict[str, Any]], dict[str, ir.Value]]
PURCHASE_METRICS: dict[str, MetricBuilder] = {"purchases": purchases.metrics,
                                              "cadence": cadence.metrics,
                                              "signals": signals.purchase_metrics}
RETURN_METRICS: dict[str, MetricBuilder] = {"experience": experience.return_metrics}
EVENT_METRICS: dict[str, MetricBuilder] = {"signals": signals.event_metrics,
                                           "experience": experience.event_metrics}
EVENT_SCOPES: dict[str, Scope] = {"signals": signals.event_scope,
                                  "experience": experience.event_scope}
DERIVATIONS: dict[str, Derivation] = {"purchases": purchases.derive, "cadence": cadence.derive,
                                      "signals": signals.derive,
                                      "experience": experience.derive,
                                      "incidents": incidents.derive}


def chosen_families(families: Collection[str]) -> tuple[str, ...]:
    """``families`` in canonical order, checked (``purchases`` is always needed)."""
    unknown = set(families) - set(FAMILIES)
    if unknown or "purchases" not in families:
        raise ConfigError(f"feature families must include 'purchases' and come from "
                          f"{list(FAMILIES)}; got {sorted(families)}")
    return tuple(f for f in FAMILIES if f in families)


def validate(cfg: dict[str, Any], dates: list[pd.Timestamp]) -> None:
    """Raise ConfigError for feature settings (or a calendar) that cannot work."""
    if not dates:
        raise ConfigError("no snapshot dates: the data is shorter than "
                          "features.snapshots.min_history_days")
    overlap = set(cfg["signals"]["event_types"]) & set(cfg["experience"]["event_types"])
    if overlap:
        raise ConfigError(f"event types {sorted(overlap)} are in both features.signals and "
                          "features.experience; list each in one family")
    days = [*cfg["windows_days"], *cfg["signals"]["windows_days"],
            *cfg["experience"]["windows_days"], cfg["purchases"]["baseline_days"]]
    if any(int(d) <= 0 for d in days):
        raise ConfigError(f"feature windows must be positive days, got {days}")
    trend = cfg["purchases"]
    if not MIN_TREND_BINS <= int(trend["trend_min_bins"]) <= max(int(trend["trend_bins"]),
                                                                  MIN_TREND_BINS):
        raise ConfigError(f"features.purchases.trend_min_bins={trend['trend_min_bins']} must be "
                          f"between {MIN_TREND_BINS} (a slope needs two points) and trend_bins "
                          f"({trend['trend_bins']})")


def _join_metrics(out: ir.Table, rows: ir.Table | None, as_of: ir.TimestampScalar,
                  builders: list[MetricBuilder], scopes: list[Scope], cfg: dict[str, Any],
                  counts: list[str]) -> ir.Table:
    """Left-join one grouped pass over ``rows`` before ``as_of`` carrying every metric.

    ``scopes`` (when given, one per builder) say which rows the builders read; the
    pass then reads only rows in any of them.
    """
    if rows is None or not builders:
        return out
    rows = rows.filter(rows.ts < as_of)
    if scopes:
        needed = scopes[0](rows, as_of, cfg)
        for scope in scopes[1:]:
            needed = needed | scope(rows, as_of, cfg)
        rows = rows.filter(needed)
    metrics = Metrics()
    for build in builders:
        metrics.update(build(rows, as_of, cfg))
    counts.extend(metrics.counts)
    table = metrics.aggregate(rows)
    return out if table is None else left_join(out, table, [KEY])


def _join_shared_cause(out: ir.Table, inputs: FeatureInputs, as_of: ir.TimestampScalar,
                       cfg: dict[str, Any], counts: list[str]) -> ir.Table:
    """Incident exposure and regional complaint pressure (when incidents are prepared).

    These parts filter the stored tables themselves: a relation shared with the
    aggregates would become a common table expression that the backend copies.
    """
    if inputs.incidents is None:
        return out
    customers = inputs.customers.filter(inputs.customers.signup_date < as_of)
    exposed, metrics = incidents.incident_table(inputs.incidents, customers, inputs.purchases,
                                                inputs.events, as_of, cfg)
    out = left_join(out, exposed, [KEY])
    counts.extend(metrics.counts)
    if inputs.events is None or "_home" not in out.columns:
        return out
    rates = incidents.region_complaint_rates(customers, inputs.events, as_of, cfg)
    return out if rates is None else left_join(out, rates, ["_home"])


def snapshot_features(inputs: FeatureInputs, as_of: pd.Timestamp, cfg: dict[str, Any],
                      families: Collection[str] = FAMILIES, keep_order: bool = False,
                      data_start: pd.Timestamp | None = None) -> ir.Table:
    """The feature families as of one snapshot date, in no particular row order.

    Parameters
    ----------
    inputs
        Prepared tables (:func:`churnml.features.inputs.prepare`).
    as_of
        The snapshot date ``t``.
    cfg
        The ``features`` config section.
    families
        Which families to compute (``purchases`` always; static attributes always).
    keep_order
        Keep the customers' ``_order`` helper (when they have it) as the last column.
    data_start
        The first day of data (the ingest manifest's ``data_start``): the spend
        baseline and trend count only days after ``max(signup_date, data_start)``.
        None: the data covers every customer since signup.

    Returns
    -------
    ibis.Table
        ``customer_id, as_of`` and the features, one row per customer signed up
        before ``t``.
    """
    chosen = chosen_families(families)
    t = timestamp(as_of)
    counts: list[str] = []
    out = attributes.customer_grid(inputs.customers, t, cfg, data_start)
    for rows, builders, scopes in ((inputs.purchases, PURCHASE_METRICS, {}),
                                   (inputs.returns, RETURN_METRICS, {}),
                                   (inputs.events, EVENT_METRICS, EVENT_SCOPES)):
        out = _join_metrics(out, rows, t, [b for f, b in builders.items() if f in chosen],
                            [s for f, s in scopes.items() if f in chosen], cfg, counts)
    if "incidents" in chosen:
        out = _join_shared_cause(out, inputs, t, cfg, counts)
    out = fill_counts(out, counts)
    for family, derive in DERIVATIONS.items():
        out = out.mutate(**derive(out, cfg)) if family in chosen else out
    features = [c for c in public_columns(out) if c not in (KEY, *FEATURE_KEY)]
    order = [ORDER] if keep_order and ORDER in out.columns else []
    return out.select(*FEATURE_KEY, *features, *order)


def build_features(tables: dict[str, ir.Table], dates: list[pd.Timestamp],
                   cfg: dict[str, Any], families: Collection[str] = FAMILIES,
                   data_start: pd.Timestamp | None = None) -> ir.Table:
    """All features for every snapshot date as one Ibis expression (no post-steps).

    Convenient for small data and tests; for a calendar on large data use
    :func:`churnml.features.runner.iter_features`, which stores the shared inputs once.

    Parameters
    ----------
    tables
        Ibis tables ``customers``, ``transactions`` and optionally ``events``,
        ``incidents`` (see :mod:`churnml.features.inputs` for their columns).
    dates
        Snapshot dates.
    cfg
        The ``features`` config section.
    families
        Which families to compute (default: all).
    data_start
        The first day of data (see :func:`snapshot_features`); a parameter, not
        read from the tables, so rows appended later cannot move it.

    Returns
    -------
    ibis.Table
        One row per ``customer_id, as_of``, ordered by them; counts are 0 (not null)
        when nothing happened, ratios null when their denominator is empty.
    """
    validate(cfg, dates)
    inputs = prepare(tables, cfg, families)
    parts = [snapshot_features(inputs, d, cfg, families, data_start=data_start)
             for d in dates]
    return (ibis.union(*parts) if len(parts) > 1 else parts[0]).order_by(FEATURE_KEY)


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Model input columns of a feature frame (everything but the key)."""
    return [c for c in frame.columns if c not in FEATURE_KEY]
