"""The canonical tables (DESIGN §4): schemas, row rules and quarantine.

A table is checked in three steps:

1. table-level rules (required columns present, file not empty, a column that
   cannot be parsed at all) raise :class:`~churnml.errors.ContractError`, naming
   file, column, rule and an example;
2. row-level rules set rows aside into a quarantine frame, one reason per row,
   so that ``rows_in == rows_kept + rows_quarantined`` always holds;
3. the kept rows are checked against a pandera schema of the canonical types.

Two modes: ``events`` (customers plus a transaction log and optional events,
incidents and campaigns) and ``snapshot`` (one customers table that carries a
provided label ``churned`` and optionally ``churn_category``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnml.errors import ContractError

PYSPARK_WARNING = "PySpark does not yet"  # pandera imports pyspark when installed (pandas 3)
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=PYSPARK_WARNING, category=FutureWarning)
    import pandera.pandas as pa

TABLES = ("customers", "transactions", "events", "incidents", "campaigns")
MODES = ("events", "snapshot")
REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "signup_date"),
    "transactions": ("customer_id", "ts", "amount"),
    "events": ("customer_id", "ts", "event_type"),
    "incidents": ("incident_id", "start"),
    "campaigns": ("customer_id", "ts", "offer_id"),
}
REQUIRED_TABLES = {"events": ("customers", "transactions"), "snapshot": ("customers",)}
LABEL_COLUMNS = ("churned", "churn_category")  # snapshot mode: provided labels, never features
DATETIME_COLUMNS = ("signup_date", "ts", "start", "end", "responded_ts")
FLOAT_COLUMNS = ("amount", "discount", "value", "severity", "cost")
BOOL_COLUMNS = ("is_return", "redeemed", "churned")
ID_COLUMNS = ("customer_id", "incident_id", "offer_id", "event_type", "product_id")
EVENT_TYPES = (
    "complaint", "support_contact", "competitor_inquiry", "price_comparison",
    "cancel_page_visit", "port_out_request", "downgrade", "payment_failure", "chargeback",
    "public_complaint", "referral", "survey_score", "cancellation",
)
# Larger magnitudes are refused at ingest: the features sum values exactly as
# DECIMAL(38, 12) (features.base.exact_sum), 26 integer digits, so a customer's sum of up
# to 10^11 such values still fits; no real amount, discount or score comes near it.
MAX_ABS_VALUE = 1e15
# A text cell starting with = @ tab CR, or + - and not a number, runs as a spreadsheet formula.
FORMULA_PATTERN = r"^(?:[=@\t\r]|[+-][^\d.\s])"
SEPARATORS = (";", "\t", "|", ",")
QUARANTINE_COLUMNS = ["table", "source_file", "source_row", "rule", "column", "value"]
VALUE_CHARS = 80


@dataclass(frozen=True)
class RowRule:
    """A named row rule: ``broken(frame)`` marks the rows that break it.

    ``among_kept`` rules compare rows with each other (duplicates): they see only the
    rows no earlier rule set aside, so a valid row is never called a repeat of a row
    that is itself quarantined.
    """

    name: str
    column: str
    broken: Callable[[pd.DataFrame], pd.Series]
    among_kept: bool = False


def required_columns(table: str, mode: str = "events") -> tuple[str, ...]:
    """Required columns of ``table``; in snapshot mode customers also need ``churned``."""
    extra = ("churned",) if mode == "snapshot" and table == "customers" else ()
    return REQUIRED[table] + extra


def present(values: pd.Series) -> pd.Series:
    """Cells holding something (not missing, not blank)."""
    return values.notna() & (values.astype("string").str.strip() != "").fillna(False)


def _mask(mask: pd.Series) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda df: mask.loc[df.index]


def _negative_not_return(df: pd.DataFrame) -> pd.Series:
    is_return = df["is_return"] if "is_return" in df else pd.Series(False, index=df.index)
    return (df["amount"] < 0) & ~is_return.fillna(False).astype(bool)


def _outside(values: pd.Series, date_range: tuple[str, str]) -> Callable[[pd.DataFrame],
                                                                         pd.Series]:
    first, last = (pd.Timestamp(d) for d in date_range)
    return _mask(values.notna() & ((values < first) | (values > last)))


def _formula_like(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda df: (df[column].astype("string").str.contains(FORMULA_PATTERN, regex=True)
                       .fillna(False))


def text_columns(df: pd.DataFrame) -> list[str]:
    """Columns holding text (ids and text attributes)."""
    return [c for c in df.columns
            if pd.api.types.is_string_dtype(df[c]) or df[c].dtype == object]


def row_rules(table: str, raw: pd.DataFrame, typed: pd.DataFrame,
              bad_local_time: dict[str, pd.Series] | None = None,
              event_types: tuple[str, ...] = EVENT_TYPES, mode: str = "events",
              date_range: tuple[str, str] | None = None) -> list[RowRule]:
    """The row rules for ``table``, checked in order; a row gets the first it breaks.

    Parameters
    ----------
    raw, typed
        The rows as read and after type parsing (same index): a value present in
        ``raw`` but missing in ``typed`` could not be parsed.
    bad_local_time
        Per datetime column, values that do not exist (or exist twice) in the data's
        time zone at a clock change.
    date_range
        First and last plausible date (``ingest.date_range``): a date outside, such as
        0001-01-01 or 9999-12-31, is a placeholder or a typo, not an observation.
    """
    rules = [RowRule(f"missing_{c}", c, _mask(~present(raw[c])))
             for c in required_columns(table, mode)]
    rules += [RowRule(f"invalid_local_time_{c}", c, _mask(bad))
              for c, bad in (bad_local_time or {}).items() if bad.any()]
    rules += [RowRule(f"unparseable_{c}", c, _mask(present(raw[c]) & typed[c].isna()))
              for c in typed.columns if c not in text_columns(typed)]
    rules += [RowRule(f"too_large_{c}", c, _mask(typed[c].abs() >= MAX_ABS_VALUE))
              for c in FLOAT_COLUMNS if c in typed.columns]
    if date_range is not None:
        rules += [RowRule(f"out_of_range_{c}", c, _outside(typed[c], date_range))
                  for c in typed.columns if pd.api.types.is_datetime64_dtype(typed[c])]
    if table == "transactions":
        rules.append(RowRule("negative_amount_not_return", "amount", _negative_not_return))
        if "discount" in typed.columns:  # the amount taken off the price, never below 0
            rules.append(RowRule("negative_discount", "discount", lambda d: d["discount"] < 0))
    if table == "incidents" and "end" in typed.columns:
        rules.append(RowRule("end_before_start", "end", lambda d: d["end"] < d["start"]))
    if table == "events":
        allowed = set(event_types)
        rules.append(RowRule("unknown_event_type", "event_type",
                             lambda d: ~d["event_type"].isin(allowed)))
    rules += [RowRule("formula_like_text", c, _formula_like(c)) for c in text_columns(typed)]
    # Last, among the rows still kept: the first valid row of an id is the one kept.
    if table == "customers":
        rules.append(RowRule("duplicate_customer_id", "customer_id",
                             lambda d: d["customer_id"].duplicated(keep="first"), among_kept=True))
    if table == "incidents":  # features and segments look incidents up by id
        rules.append(RowRule("duplicate_incident_id", "incident_id",
                             lambda d: d["incident_id"].duplicated(keep="first"), among_kept=True))
    return rules


def separator_hint(df: pd.DataFrame) -> str:
    """A hint when a CSV was split on the wrong separator (one column holding ``;``...)."""
    names = [str(c) for c in df.columns]
    if len(names) == 1 and any(sep in names[0] for sep in SEPARATORS):
        return "; only one column was found: is the separator (read.sep) right?"
    return ""


def check_columns(table: str, df: pd.DataFrame, file: str, mode: str = "events") -> None:
    """Raise ContractError if the table lacks a required column, or if a table the mode
    requires has no rows (an optional table may be empty)."""
    missing = [c for c in required_columns(table, mode) if c not in df.columns]
    if missing:
        raise ContractError(file, missing[0], f"required column missing for table '{table}' "
                            f"(columns found are listed as examples){separator_hint(df)}",
                            examples=[str(c) for c in df.columns][:8])
    if df.empty and table in REQUIRED_TABLES[mode]:
        raise ContractError(file, None, f"table '{table}' has a header but no rows",
                            examples=[str(c) for c in df.columns][:8])


def empty_quarantine() -> pd.DataFrame:
    """A quarantine frame with no rows and the canonical columns."""
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in QUARANTINE_COLUMNS})
    return frame.astype({"source_row": "int64"})


def apply_row_rules(table: str, df: pd.DataFrame, rules: list[RowRule], raw: pd.DataFrame,
                    source_rows: pd.Series, source_file: str,
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``df`` into kept rows and quarantined rows (one reason each).

    Parameters
    ----------
    df
        Typed rows, indexed like ``raw``.
    raw
        The rows as read (before type coercion), used to report the offending value.
    source_rows
        Row number of each row in its source file (1 = first row after the header).
    source_file
        The file named in each quarantine row.

    Returns
    -------
    kept, quarantine
        ``quarantine`` has the columns of ``QUARANTINE_COLUMNS``.
    """
    taken = pd.Series(False, index=df.index)
    parts = []
    for rule in rules:
        seen = df.loc[~taken] if rule.among_kept else df
        hit = (rule.broken(seen).fillna(True).astype(bool)
               .reindex(df.index, fill_value=False) & ~taken)
        if hit.any():
            rows = hit[hit].index
            values = raw.loc[rows, rule.column].astype("string").fillna("<missing>")
            parts.append(pd.DataFrame({
                "table": table, "source_file": source_file,
                "source_row": source_rows.loc[rows].to_numpy(dtype="int64"),
                "rule": rule.name, "column": rule.column,
                "value": values.str.slice(0, VALUE_CHARS).to_numpy(dtype=object)}))
            taken |= hit
    quarantine = (pd.concat(parts, ignore_index=True).astype({c: "str" for c in QUARANTINE_COLUMNS
                                                              if c != "source_row"})
                  if parts else empty_quarantine())
    return df.loc[~taken], quarantine


def referential_rules(customer_ids: pd.Series, signup: pd.Series) -> list[RowRule]:
    """Rules for tables keyed by customer: the customer exists and the row is after signup."""
    known = pd.Index(customer_ids)
    signup_by_id = pd.Series(signup.to_numpy(), index=known)
    return [
        RowRule("unknown_customer", "customer_id", lambda df: ~df["customer_id"].isin(known)),
        RowRule("before_signup", "ts",
                lambda df: df["ts"] < _lookup(signup_by_id, df["customer_id"]).dt.normalize()),
    ]


def _lookup(by_id: pd.Series, ids: pd.Series) -> pd.Series:
    """``by_id[ids]`` aligned on ``ids`` (missing where unknown; works when ``by_id`` is empty,
    which ``Series.map`` does not for datetimes)."""
    return pd.Series(by_id.reindex(ids.to_numpy()).to_numpy(), index=ids.index)


def canonical_schema(table: str, mode: str = "events") -> pa.DataFrameSchema:
    """Pandera schema of a canonical table (required columns, non-null keys, types)."""
    columns: dict[str, pa.Column] = {}
    for name in required_columns(table, mode):
        if name in DATETIME_COLUMNS:
            columns[name] = pa.Column("datetime64[us]", nullable=False)
        elif name in FLOAT_COLUMNS:
            columns[name] = pa.Column(np.float64, nullable=False)
        elif name in BOOL_COLUMNS:
            columns[name] = pa.Column(bool, nullable=False)
        else:
            columns[name] = pa.Column(str, nullable=False)
    if table == "customers":
        columns["customer_id"] = pa.Column(str, nullable=False, unique=True)
    if table == "incidents":
        columns["incident_id"] = pa.Column(str, nullable=False, unique=True)
    if table == "transactions":
        columns["is_return"] = pa.Column(bool, nullable=False)
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


def validate_canonical(df: pd.DataFrame, table: str, mode: str = "events") -> pd.DataFrame:
    """Check kept rows against :func:`canonical_schema` (a failure here is a bug)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=PYSPARK_WARNING, category=FutureWarning)
        return canonical_schema(table, mode).validate(df)
