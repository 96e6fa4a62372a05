"""Building blocks shared by the feature families: time arithmetic and metric sets.

A family contributes *metrics* (reductions over one source table's rows before the
snapshot, grouped by customer) and *derived* columns (row-wise arithmetic on the
joined result). Metrics come in two kinds: ``counts`` are sums and counts that are
0 for a customer without rows, ``values`` (first / last timestamps, maxima, last
scores) stay null. Helper columns that only feed derived features start with ``_``
and are dropped before the features leave :mod:`churnml.features.core`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

SECONDS_PER_DAY = 86400.0
KEY = "key"  # the integer surrogate key of a customer inside the feature expressions
HELPER_PREFIX = "_"
EXACT_SUM_SCALE = 12  # decimals kept per value by exact_sum: 26 digits left before the point
ORDER = "_order"  # a customer's rank by customer_id: sorting by it is cheaper than by text


def event_codes(cfg: dict[str, Any]) -> dict[str, int]:
    """Small integer codes of every event type the feature config names (sorted by name)."""
    exp, signals = cfg["experience"], cfg["signals"]
    kinds = {*signals["event_types"], *exp["event_types"], exp["complaint_event"],
             exp["survey_event"]}
    return {kind: code for code, kind in enumerate(sorted(kinds))}


def is_event(events: ir.Table, cfg: dict[str, Any], *kinds: str) -> ir.BooleanValue:
    """Rows of prepared ``events`` whose type is one of ``kinds``."""
    codes = event_codes(cfg)
    return events.code.isin([codes[k] for k in kinds])


def double(value: float) -> ir.FloatingScalar:
    """A float64 literal that every backend reads as a double.

    Ibis writes a Python float as a bare ``2.5``, which Spark SQL (and DuckDB) type
    as ``DECIMAL(2,1)``: next to an integer or decimal column the arithmetic would
    then be decimal, with its own precision and rounding. Casting the literal's
    text keeps it a double on every engine, equal to ``value`` (both parse the
    shortest ``repr`` back to the same double).
    """
    return ibis.literal(repr(float(value))).cast("float64")


def days_between(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.FloatingValue:
    """Fractional days from ``earlier`` to ``later`` (null if either is null)."""
    seconds = later.epoch_seconds().cast("float64") - earlier.epoch_seconds().cast("float64")
    return seconds / double(SECONDS_PER_DAY)


def days_ago(as_of: ir.TimestampScalar, days: int) -> ir.TimestampValue:
    """``as_of`` minus ``days`` whole days."""
    return as_of - ibis.interval(days=int(days)) if days else as_of


def in_window(ts: ir.TimestampValue, as_of: ir.TimestampScalar, lo_days: int,
              hi_days: int) -> ir.BooleanValue:
    """``as_of - hi_days <= ts < as_of - lo_days``: the band ``[lo, hi)`` days back."""
    return (ts >= days_ago(as_of, hi_days)) & (ts < days_ago(as_of, lo_days))


def ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """``numerator / denominator``, null when the denominator is null or not positive."""
    # A float64 numerator makes the division a double one on every engine.
    return ibis.ifelse(denominator > 0, numerator.cast("float64") / denominator, ibis.null())


def exact_sum(value: ir.NumericValue, where: ir.BooleanValue | None = None
              ) -> ir.FloatingValue:
    """Sum of a float column, the same to the last bit on every run and engine.

    A parallel engine adds a group's partial float sums in whatever order its threads
    finish, so ``sum`` of doubles can change in the last bit from run to run (DuckDB:
    three runs, three results; then ``dvc repro`` rewrites features.parquet and every
    model after it). Each value is rounded to ``EXACT_SUM_SCALE`` decimals and summed
    as a ``DECIMAL(38, EXACT_SUM_SCALE)``, which is exact and so order-free. One sum
    costs about what the float sum does on DuckDB (10^7 rows); the core feature subset,
    with many filtered sums, measured ~15 % slower (docs/features.md). A sum of 10^26
    or more does not fit the decimal (the engine would refuse it with a conversion
    error), which is why ingest quarantines values of 10^15 or more
    (``contract.MAX_ABS_VALUE``).
    """
    exact = dt.Decimal(38, EXACT_SUM_SCALE)
    return value.cast(exact).sum(where=where).cast("float64")


def flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    """1 / 0 for a condition (null stays null)."""
    return condition.cast("int8")


@dataclass
class Metrics:
    """Reductions over one source table, by customer.

    Attributes
    ----------
    counts
        Sums and counts: 0 for customers without rows.
    values
        Everything else (timestamps, maxima, last values): null without rows.
    """

    counts: dict[str, ir.Scalar] = field(default_factory=dict)
    values: dict[str, ir.Scalar] = field(default_factory=dict)

    def update(self, other: Metrics) -> Metrics:
        """Add ``other``'s metrics (a name defined twice must be the same metric)."""
        self.counts.update(other.counts)
        self.values.update(other.values)
        return self

    def aggregate(self, rows: ir.Table) -> ir.Table | None:
        """One row per customer key with every metric; None when there are none."""
        if not self.counts and not self.values:
            return None
        return rows.group_by(KEY).aggregate(**self.counts, **self.values)


def left_join(left: ir.Table, right: ir.Table, keys: list[str]) -> ir.Table:
    """``left`` LEFT JOIN ``right`` on equal ``keys``, without the right copies of the keys."""
    joined = left.left_join(right, keys)
    return joined.drop(*[c for c in joined.columns if c.endswith("_right")])


def fill_counts(table: ir.Table, names: list[str]) -> ir.Table:
    """Replace nulls by 0 in the ``names`` columns (customers without rows); integer
    counts become int32 (a customer's count never nears 2^31; half the memory of int64)."""
    present = [n for n in names if n in table.columns]

    def filled(name: str) -> ir.Value:
        column = table[name].fill_null(0)
        return column.cast("int32") if table[name].type().is_integer() else column

    return table.mutate(**{n: filled(n) for n in present}) if present else table


def public_columns(table: ir.Table) -> list[str]:
    """Columns that are features or keys, not helpers."""
    return [c for c in table.columns if not c.startswith(HELPER_PREFIX)]
