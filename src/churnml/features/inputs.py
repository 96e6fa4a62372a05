"""The shared inputs of every snapshot: canonical tables, keyed and prepared once.

Work that does not depend on the snapshot date is done here, once per calendar:
every row gets a customer ``key``; purchases and returns are split and narrowed (text
columns become amounts); each purchase line carries the gap to the previous purchase
day (a look-back window, so a row's gap never depends on later rows), and sorting
for it also clusters each customer's lines together, which makes every later
grouping cheaper; event types become small integer codes; complaints get the time
they are known to be resolved. :func:`churnml.features.core.iter_features` stores
these tables on the backend and every snapshot reads them.

Customer keys: ``id`` uses ``customer_id`` itself; ``hash`` (DuckDB) uses a 64-bit
hash of it, which groups and joins several times faster than text and needs no
join to look up, and is used only after checking that no two customers share a
hash (:func:`churnml.features.engine.key_strategy`).

Required columns
----------------
customers : customer_id, signup_date (+ configured attributes)
transactions : customer_id, ts, amount (+ optional is_return, category, discount, product_id)
events : customer_id, ts, event_type (+ optional value, severity, incident_id, resolved_ts)
incidents : incident_id, start (+ optional end, scope, severity, region, product_id)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields, replace
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from churnml.errors import ConfigError
from churnml.features.base import KEY, days_between, double, event_codes, flag
from churnml.features.experience import with_resolution

SHARED = ("customers", "purchases", "returns", "events", "incidents")
FAMILIES = ("purchases", "cadence", "signals", "experience", "incidents")
EVENT_FAMILIES = {"signals", "experience", "incidents"}
ID_KEYS, HASH_KEYS = "id", "hash"


@ibis.udf.scalar.builtin(name="hash")
def _duckdb_hash(value: str) -> dt.uint64:  # DuckDB's 64-bit hash, without Ibis's casts
    """DuckDB ``hash``."""


@dataclass(frozen=True)
class FeatureInputs:
    """Prepared tables, all carrying the customer ``key``.

    Attributes
    ----------
    customers
        ``key, customer_id, signup_date`` and the configured attributes.
    purchases
        Purchase lines: ``key, ts, amount`` (+ ``gap_days, new_occasion`` for
        cadence; ``discount, substitute_amount, discount_category_amount,
        product_id`` when the data has them).
    returns
        Returned lines: ``key, ts, amount`` (amount returned, positive), or None.
    events
        ``key, ts, code`` (event type code, see :func:`churnml.features.base.event_codes`)
        + ``value, severity, incident_id, resolved_ts``, or None.
    incidents
        The canonical incidents table, or None.
    """

    customers: ir.Table
    purchases: ir.Table
    returns: ir.Table | None = None
    events: ir.Table | None = None
    incidents: ir.Table | None = None

    def shared(self) -> dict[str, ir.Table]:
        """The tables stored once for all snapshots (every table a snapshot reads)."""
        return {name: getattr(self, name) for name in SHARED if getattr(self, name) is not None}

    def with_tables(self, tables: dict[str, ir.Table]) -> FeatureInputs:
        """A copy with some tables replaced (e.g. by their stored versions)."""
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in tables.items() if k in known})


def customer_key(table: ir.Table, strategy: str) -> ir.Value:
    """The ``key`` of each row's customer under the key ``strategy``."""
    if strategy == HASH_KEYS:
        return _duckdb_hash(table.customer_id)
    if strategy == ID_KEYS:
        return table.customer_id
    raise ConfigError(f"unknown customer key strategy {strategy!r}")


def attribute_columns(cfg: dict[str, Any]) -> list[str]:
    """Configured static attributes (categorical, then numeric)."""
    return [*cfg.get("categorical_attributes", []), *cfg.get("numeric_attributes", [])]


def keyed_customers(customers: ir.Table, cfg: dict[str, Any], strategy: str) -> ir.Table:
    """``key, customer_id, signup_date``, the attributes and the region column."""
    for column in ("customer_id", "signup_date"):
        if column not in customers.columns:
            raise ConfigError(f"customers table lacks required column {column!r}")
    keep = [c for c in attribute_columns(cfg) if c in customers.columns]
    region = cfg["incidents"].get("region_column")
    if region and region in customers.columns and region not in keep:
        keep.append(region)
    return customers.select("customer_id", "signup_date", *keep,
                            **{KEY: customer_key(customers, strategy)})


def _is_return(tx: ir.Table) -> ir.BooleanValue:
    negative = tx.amount < 0
    return (tx.is_return.fill_null(False) | negative) if "is_return" in tx.columns else negative


def _category_amount(tx: ir.Table, categories: list[str]) -> ir.FloatingValue:
    return ibis.ifelse(tx.category.isin(list(categories)), tx.amount, double(0.0))


def _purchase_columns(rows: ir.Table, cfg: dict[str, Any], products: bool) -> dict[str, ir.Value]:
    """Optional narrow columns of a purchase line, from the columns the data has."""
    signals, extra = cfg["signals"], {}
    if "discount" in rows.columns:
        extra["discount"] = rows.discount.fill_null(double(0.0))
    if "category" in rows.columns:
        extra["substitute_amount"] = _category_amount(rows, signals["substitute_categories"])
        extra["discount_category_amount"] = _category_amount(rows, signals["discount_categories"])
    if products and "product_id" in rows.columns:
        extra["product_id"] = rows.product_id
    return extra


def prepare_purchases(tx: ir.Table, cfg: dict[str, Any], strategy: str, gaps: bool = True,
                      products: bool = False) -> ir.Table:
    """Purchase lines (+ the gap to the previous purchase day when ``gaps``).

    Parameters
    ----------
    products
        Keep ``product_id`` (for product-scoped incidents).
    """
    rows = tx.filter((tx.amount >= 0) & ~_is_return(tx))  # 0: an item paid by a coupon
    extra = _purchase_columns(rows, cfg, products)
    narrow = rows.select("ts", "amount", **extra, **{KEY: customer_key(rows, strategy)})
    if not gaps:
        return narrow
    narrow = narrow.mutate(_day=narrow.ts.truncate("D"))
    stepped = narrow.mutate(_previous=narrow._day.lag().over(group_by=KEY, order_by=narrow.ts))
    new_day = stepped._previous.isnull() | (stepped._day != stepped._previous)
    gap = ibis.ifelse(new_day & stepped._previous.notnull(),
                      days_between(stepped._day, stepped._previous), ibis.null())
    return stepped.select(KEY, "ts", "amount", *extra, gap_days=gap, new_occasion=flag(new_day))


def prepare_returns(tx: ir.Table, strategy: str) -> ir.Table:
    """Returned lines: ``key, ts, amount`` with the amount returned as a positive number."""
    rows = tx.filter(_is_return(tx))
    return rows.select("ts", amount=rows.amount.abs(), **{KEY: customer_key(rows, strategy)})


def prepare_events(events: ir.Table, cfg: dict[str, Any], strategy: str) -> ir.Table:
    """Events with integer type codes and ``resolved_ts`` on complaints."""
    optional = [c for c in ("value", "severity", "incident_id") if c in events.columns]
    given = ["resolved_ts"] if "resolved_ts" in events.columns else []
    keyed = events.select("ts", "event_type", *optional, *given,
                          **{KEY: customer_key(events, strategy)})
    resolved = with_resolution(keyed, cfg["experience"])
    codes = event_codes(cfg)
    code = ibis.cases(*[(resolved.event_type == kind, c) for kind, c in codes.items()], else_=-1)
    return resolved.select(KEY, "ts", *optional, "resolved_ts", code=code.cast("int16"))


def prepare(tables: dict[str, ir.Table], cfg: dict[str, Any],
            families: Collection[str] = FAMILIES, strategy: str = ID_KEYS) -> FeatureInputs:
    """Prepare the canonical ``tables`` for the feature families.

    Parameters
    ----------
    tables
        Ibis tables ``customers`` and ``transactions`` (required), ``events`` and
        ``incidents`` (optional).
    cfg
        The ``features`` config section.
    families
        The families to prepare for (what they do not need is skipped).
    strategy
        Customer keys: ``id`` (any backend) or ``hash`` (DuckDB, after a check).
    """
    for name in ("customers", "transactions"):
        if name not in tables:
            raise ConfigError(f"features need the {name!r} table")
    tx, incidents = tables["transactions"], tables.get("incidents")
    events = tables.get("events") if EVENT_FAMILIES & set(families) else None
    incidents = incidents if "incidents" in families else None
    products = incidents is not None and "product_id" in incidents.columns
    return FeatureInputs(
        customers=keyed_customers(tables["customers"], cfg, strategy),
        purchases=prepare_purchases(tx, cfg, strategy, "cadence" in families, products),
        returns=prepare_returns(tx, strategy) if "experience" in families else None,
        events=prepare_events(events, cfg, strategy) if events is not None else None,
        incidents=incidents,
    )
