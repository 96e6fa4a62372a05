"""Turn raw tables into validated canonical tables plus a quarantine (pure functions).

Reading files is the stage's job (``churnml.stages.ingest``); here frames go in and
frames come out. Every raw row ends up either in its canonical table or in the
quarantine with exactly one reason, so ``rows_in == rows_kept + rows_quarantined``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from churnml import contract
from churnml.errors import ContractError
from churnml.privacy import pii_columns_of
from churnml.sources import parsing
from churnml.sources.parsing import TableSpec

log = logging.getLogger(__name__)
SOURCE_ROW = "_source_row"  # optional raw column: the row's number in the user's file
EXAMPLES_PER_RULE = 3


@dataclass
class IngestResult:
    """Canonical tables, the quarantined rows, per-table counts and table-level errors."""

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    errors: list[ContractError] = field(default_factory=list)
    specs: dict[str, TableSpec] = field(default_factory=dict)

    def column_label(self, table: str, column: str) -> str:
        """``ts``, or ``Order Time -> ts`` for a mapped column, for reports."""
        spec = self.specs.get(table)
        return spec.label(column) if spec else column


def normalise_types(raw: pd.DataFrame, spec: TableSpec) -> tuple[pd.DataFrame,
                                                                  dict[str, pd.Series]]:
    """Canonical types for every column; a column none of whose values parse is an error.

    Returns
    -------
    typed, bad_local_time
        ``typed`` has unparseable cells missing; ``bad_local_time`` marks, per datetime
        column, values that fall in a clock change of ``spec.timezone``.
    """
    typed, bad_local = pd.DataFrame(index=raw.index), {}
    for column in raw.columns:
        values, kind = raw[column], parsing.column_type(column, raw[column], spec)
        label = spec.label(column)
        if kind == "datetime":
            fmt = spec.date_formats.get(column)
            typed[column], bad_local[column] = parsing.parse_datetimes(
                values, fmt, spec.timezone, spec.file, label)
            parsing.check_parsed(values, typed[column], kind, spec.file, label, fmt)
        elif kind == "float":
            typed[column] = parsing.parse_float(values, spec.decimal)
            parsing.check_parsed(values, typed[column], "numbers", spec.file, label)
        elif kind == "bool":
            typed[column] = parsing.parse_bools(values)
            parsing.check_parsed(values, typed[column], "true/false", spec.file, label)
        else:
            typed[column] = parsing.parse_text(values)
    return typed, bad_local


def _finish(table: str, kept: pd.DataFrame) -> pd.DataFrame:
    """Optional flags default to False once bad rows are gone (``is_return`` always
    exists in transactions); index reset."""
    if table == "transactions" and "is_return" not in kept:
        kept = kept.assign(is_return=False)
    for column in ("is_return", "redeemed"):
        if column in kept:
            kept = kept.assign(**{column: kept[column].fillna(False).astype(bool)})
    if "churned" in kept:
        kept = kept.assign(churned=kept["churned"].astype(bool))
    return kept.reset_index(drop=True)


def ingest_table(table: str, raw: pd.DataFrame, spec: TableSpec, cfg: dict[str, Any],
                 mode: str = "events", extra_rules: Sequence[contract.RowRule] = (),
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate one raw table; return (canonical rows, quarantined rows).

    Parameters
    ----------
    raw
        The table as read; canonical column names; optional ``_source_row``.
    cfg
        The ``ingest`` config section (``pii_columns``, ``extra_event_types``,
        ``date_range``).
    """
    raw = raw.reset_index(drop=True)
    source_rows = (pd.to_numeric(raw[SOURCE_ROW], errors="coerce").fillna(-1).astype("int64")
                   if SOURCE_ROW in raw else pd.Series(raw.index + 1, index=raw.index))
    raw = raw.drop(columns=[*pii_columns_of(raw, cfg["pii_columns"]),
                            *([SOURCE_ROW] if SOURCE_ROW in raw.columns else [])])
    contract.check_columns(table, raw, spec.file, mode)
    typed, bad_local = normalise_types(raw, spec)
    event_types = (*contract.EVENT_TYPES, *(cfg.get("extra_event_types") or ()))
    date_range = tuple(cfg["date_range"]) if cfg.get("date_range") else None
    rules = [*contract.row_rules(table, raw, typed, bad_local, event_types, mode, date_range),
             *extra_rules]
    kept, quarantine = contract.apply_row_rules(table, typed, rules, raw, source_rows, spec.file)
    kept = _finish(table, kept)
    contract.validate_canonical(kept, table, mode)
    return kept, quarantine


def ingest_tables(raw: dict[str, pd.DataFrame], specs: dict[str, TableSpec],
                  cfg: dict[str, Any], mode: str = "events", strict: bool = True) -> IngestResult:
    """Validate every raw table; customers first, since other tables refer to them.

    Parameters
    ----------
    raw
        Raw frames by canonical table name (see ``contract.REQUIRED_TABLES`` by mode).
    specs
        How each table was read (file, formats, time zone, types).
    cfg
        The ``ingest`` config section.
    strict
        Raise the first table-level ContractError (the stage); else collect them in
        ``result.errors`` and check the other tables (``churnml validate``).
    """
    if mode not in contract.MODES:
        raise ContractError("params.yaml", "data.mode", f"unknown mode; use one of "
                            f"{list(contract.MODES)}", examples=mode)
    result = IngestResult({}, contract.empty_quarantine(),
                          files={t: s.file for t, s in specs.items()}, specs=dict(specs))
    quarantines = []
    for table in contract.REQUIRED_TABLES[mode]:
        if table not in raw:
            _fail(result, strict, ContractError(f"{table}.csv or {table}.parquet", None,
                                                f"table '{table}' is required in {mode} mode"))
    for table in contract.TABLES:
        if table not in raw:
            continue
        try:
            kept, quarantine = ingest_table(table, raw[table], specs[table], cfg, mode,
                                            _extra_rules(table, result.tables))
        except ContractError as exc:
            _fail(result, strict, exc)
            continue
        result.tables[table] = kept
        quarantines.append(quarantine)
        result.counts[table] = {"rows_in": len(raw[table]), "rows_kept": len(kept),
                                "rows_quarantined": len(quarantine)}
        log.info("%s: %d rows in, %d kept, %d quarantined", table, *result.counts[table].values())
    if quarantines:
        result.quarantine = pd.concat(quarantines, ignore_index=True)
    return result


def _extra_rules(table: str, done: dict[str, pd.DataFrame]) -> list[contract.RowRule]:
    if table in ("transactions", "events", "campaigns") and "customers" in done:
        customers = done["customers"]
        return contract.referential_rules(customers["customer_id"], customers["signup_date"])
    return []


def _fail(result: IngestResult, strict: bool, exc: ContractError) -> None:
    if strict:
        raise exc
    result.errors.append(exc)


def tolerance(cfg: dict[str, Any], table: str) -> float:
    """The share of ``table``'s rows that may be quarantined (per-table override first)."""
    by_table = cfg.get("quarantine_tolerance_by_table") or {}
    return float(by_table.get(table, cfg["quarantine_tolerance"]))


def over_tolerance(counts: dict[str, dict[str, int]], cfg: dict[str, Any]) -> dict[str, float]:
    """Tables whose quarantined share exceeds their tolerance, with that share."""
    shares = {t: c["rows_quarantined"] / max(c["rows_in"], 1) for t, c in counts.items()}
    return {t: s for t, s in shares.items() if s > tolerance(cfg, t)}


def rule_summary(quarantine: pd.DataFrame, table: str) -> pd.DataFrame:
    """Per rule of ``table``: column, row count, a few distinct example values and the
    source rows they come from."""
    rows = quarantine[quarantine["table"] == table]
    if rows.empty:
        return pd.DataFrame(columns=["rule", "column", "rows", "examples", "at_rows"])
    firsts = rows.drop_duplicates(["rule", "column", "value"])
    grouped = firsts.groupby(["rule", "column"], sort=False)
    summary = grouped.agg(examples=("value", lambda v: list(v.head(EXAMPLES_PER_RULE))),
                          at_rows=("source_row", lambda v: list(v.head(EXAMPLES_PER_RULE))))
    summary["rows"] = rows.groupby(["rule", "column"], sort=False).size()
    summary = summary.reset_index()[["rule", "column", "rows", "examples", "at_rows"]]
    return summary.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)


def tolerance_message(result: IngestResult, too_many: dict[str, float],
                      cfg: dict[str, Any]) -> str:
    """One readable sentence per table over tolerance: file, share, top rule and examples."""
    parts = []
    for table, share in too_many.items():
        counts = result.counts[table]
        top = rule_summary(result.quarantine, table).iloc[0]
        parts.append(
            f"{result.files.get(table, table)}: {counts['rows_quarantined']} of "
            f"{counts['rows_in']} {table} rows quarantined ({share:.1%} > tolerance "
            f"{tolerance(cfg, table):.1%}); most often rule '{top['rule']}' in column "
            f"'{result.column_label(table, top['column'])}' ({top['rows']} rows), "
            f"e.g. {top['examples']!r} at rows {top['at_rows']}")
    return "; ".join(parts)
