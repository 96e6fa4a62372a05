"""The canonical tables (DESIGN §4): schemas, row rules and quarantine.

A table is checked in three steps:

1. table-level rules (required columns present, file not empty) raise
   :class:`~churnml.errors.ContractError`, naming file, column and rule;
2. row-level rules set rows aside into a quarantine frame, one reason per row,
   so that ``rows_in == rows_kept + rows_quarantined`` always holds;
3. the kept rows are checked against a pandera schema of the canonical types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from churnml.errors import ContractError

TABLES = ("customers", "transactions", "events", "incidents", "campaigns")
REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "signup_date"),
    "transactions": ("customer_id", "ts", "amount"),
    "events": ("customer_id", "ts", "event_type"),
    "incidents": ("incident_id", "start"),
    "campaigns": ("customer_id", "ts", "offer_id"),
}
DATETIME_COLUMNS = ("signup_date", "ts", "start", "end", "responded_ts")
FLOAT_COLUMNS = ("amount", "discount", "value", "severity", "cost")
BOOL_COLUMNS = ("is_return", "redeemed")
ID_COLUMNS = ("customer_id", "incident_id", "offer_id", "event_type", "product_id")
EVENT_TYPES = (
    "complaint", "support_contact", "competitor_inquiry", "price_comparison",
    "cancel_page_visit", "port_out_request", "downgrade", "payment_failure", "chargeback",
    "public_complaint", "referral", "survey_score", "cancellation",
)
QUARANTINE_COLUMNS = ["table", "source_row", "rule", "column", "value"]


@dataclass(frozen=True)
class RowRule:
    """A named row rule: ``broken(frame)`` marks the rows that break it."""

    name: str
    column: str
    broken: Callable[[pd.DataFrame], pd.Series]


def _blank(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda df: df[column].isna() | (df[column].astype("string").str.strip() == "")


def _null(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda df: df[column].isna()


def _negative_not_return(df: pd.DataFrame) -> pd.Series:
    is_return = df["is_return"] if "is_return" in df else pd.Series(False, index=df.index)
    return (df["amount"] < 0) & ~is_return.fillna(False).astype(bool)


def row_rules(table: str, event_types: tuple[str, ...] = EVENT_TYPES) -> list[RowRule]:
    """The row rules for ``table``, checked in order; a row gets the first it breaks."""
    rules = [RowRule(f"missing_{c}", c, _blank(c)) for c in REQUIRED[table] if c in ID_COLUMNS]
    rules += [RowRule(f"unparseable_{c}", c, _null(c))
              for c in REQUIRED[table] if c in DATETIME_COLUMNS or c in FLOAT_COLUMNS]
    if table == "customers":
        rules.append(RowRule("duplicate_customer_id", "customer_id",
                             lambda df: df["customer_id"].duplicated(keep="first")))
    if table == "transactions":
        rules.append(RowRule("negative_amount_not_return", "amount", _negative_not_return))
    if table == "events":
        allowed = set(event_types)
        rules.append(RowRule("unknown_event_type", "event_type",
                             lambda df: ~df["event_type"].isin(allowed)))
    return rules


def check_columns(table: str, df: pd.DataFrame, file: str) -> None:
    """Raise ContractError if the file is empty or lacks a required column."""
    missing = [c for c in REQUIRED[table] if c not in df.columns]
    if missing:
        raise ContractError(file, missing[0], f"required column missing for table '{table}'",
                            examples=list(df.columns)[:8])
    if df.empty:
        raise ContractError(file, None, f"table '{table}' has a header but no rows")


def apply_row_rules(table: str, df: pd.DataFrame, rules: list[RowRule],
                    raw: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``df`` into kept rows and quarantined rows (one reason each).

    Parameters
    ----------
    df
        Typed rows; its index is the source row number.
    raw
        The rows as read (before type coercion), used to report the offending value.

    Returns
    -------
    kept, quarantine
        ``quarantine`` has columns ``table, source_row, rule, column, value``.
    """
    raw = df if raw is None else raw
    taken = pd.Series(False, index=df.index)
    parts = []
    for rule in rules:
        hit = rule.broken(df).fillna(True).astype(bool) & ~taken
        if hit.any():
            values = raw.loc[hit[hit].index, rule.column].astype("string").fillna("<null>")
            parts.append(pd.DataFrame({"table": table, "source_row": hit[hit].index.to_numpy(),
                                       "rule": rule.name, "column": rule.column,
                                       "value": values.str.slice(0, 80).to_numpy()}))
            taken |= hit
    quarantine = (pd.concat(parts, ignore_index=True) if parts
                  else pd.DataFrame({c: pd.Series(dtype="string") for c in QUARANTINE_COLUMNS})
                  .astype({"source_row": "int64"}))
    return df.loc[~taken], quarantine


def referential_rules(customer_ids: pd.Series, signup: pd.Series) -> list[RowRule]:
    """Rules for tables keyed by customer: the customer exists and the row is after signup."""
    known = pd.Index(customer_ids)
    signup_by_id = pd.Series(signup.to_numpy(), index=known)
    return [
        RowRule("unknown_customer", "customer_id", lambda df: ~df["customer_id"].isin(known)),
        RowRule("before_signup", "ts",
                lambda df: df["ts"] < df["customer_id"].map(signup_by_id).dt.normalize()),
    ]


def canonical_schema(table: str) -> pa.DataFrameSchema:
    """Pandera schema of a canonical table (required columns, non-null keys, types)."""
    columns: dict[str, pa.Column] = {}
    for name in REQUIRED[table]:
        if name in DATETIME_COLUMNS:
            columns[name] = pa.Column("datetime64[us]", nullable=False)
        elif name in FLOAT_COLUMNS:
            columns[name] = pa.Column(np.float64, nullable=False)
        else:
            columns[name] = pa.Column(str, nullable=False)
    if table == "customers":
        columns["customer_id"] = pa.Column(str, nullable=False, unique=True)
    if table == "transactions":
        columns["is_return"] = pa.Column(bool, nullable=False)
    return pa.DataFrameSchema(columns, strict=False, coerce=False)
