"""Turn raw tables into validated canonical tables plus a quarantine (pure functions).

Reading files is the stage's job (``churnml.stages.ingest``); here frames go in and
frames come out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from churnml import contract
from churnml.errors import ContractError

log = logging.getLogger(__name__)
TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0", ""}


@dataclass
class IngestResult:
    """Canonical tables, the quarantined rows and per-table counts."""

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def parse_datetimes(values: pd.Series, fmt: str | None, tz: str) -> pd.Series:
    """Parse to naive UTC ``datetime64[us]``; unparseable values become NaT.

    Naive inputs are read in time zone ``tz``; aware ones are converted to UTC.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(values):
        parsed = values.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    else:
        text = values.astype("string").str.strip()
        parsed = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce", utc=False)
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_convert("UTC")
        else:
            parsed = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    return parsed.dt.tz_localize(None).astype("datetime64[us]")


def parse_bools(values: pd.Series) -> pd.Series:
    """Map booleans and common spellings to a nullable boolean; others become NA."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    text = values.astype("string").str.strip().str.lower()
    return text.map(lambda v: True if v in TRUE_WORDS else False if v in FALSE_WORDS else pd.NA,
                    na_action="ignore").astype("boolean")


def normalise_types(df: pd.DataFrame, date_formats: dict[str, str | None],
                    tz: str) -> pd.DataFrame:
    """Return a copy with canonical types for every known column (ids as stripped text)."""
    out = df.copy()
    for column in out.columns:
        if column in contract.DATETIME_COLUMNS:
            out[column] = parse_datetimes(out[column], date_formats.get(column), tz)
        elif column in contract.FLOAT_COLUMNS:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
        elif column in contract.BOOL_COLUMNS:
            out[column] = parse_bools(out[column])
        elif column in contract.ID_COLUMNS:
            out[column] = out[column].astype("string").str.strip().astype(str).where(
                out[column].notna())
    return out


def _type_rules(raw: pd.DataFrame, typed: pd.DataFrame) -> list[contract.RowRule]:
    """Optional typed columns: a value present in the file but unparseable is a broken row."""
    rules = []
    typed_columns = contract.DATETIME_COLUMNS + contract.FLOAT_COLUMNS + contract.BOOL_COLUMNS
    for column in typed.columns:
        if column in typed_columns:
            present = raw[column].notna() & (raw[column].astype("string").str.strip() != "")
            broken = present & typed[column].isna()
            rules.append(contract.RowRule(f"unparseable_{column}", column,
                                          lambda _df, b=broken: b.loc[_df.index]))
    return rules


def ingest_table(table: str, raw: pd.DataFrame, file: str, cfg: dict[str, Any],
                 extra_rules: Sequence[contract.RowRule] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate one raw table; return (canonical rows, quarantined rows)."""
    contract.check_columns(table, raw, file)
    raw = raw.drop(columns=[c for c in cfg["pii_columns"] if c in raw.columns])
    raw = raw.reset_index(drop=True)
    typed = normalise_types(raw, cfg.get("date_formats") or {}, cfg.get("timezone") or "UTC")
    event_types = tuple(cfg.get("event_types") or contract.EVENT_TYPES)
    rules = [*contract.row_rules(table, event_types), *_type_rules(raw, typed), *extra_rules]
    kept, quarantine = contract.apply_row_rules(table, typed, rules, raw)
    if "is_return" in kept:
        kept = kept.assign(is_return=kept["is_return"].fillna(False).astype(bool))
    if "redeemed" in kept:
        kept = kept.assign(redeemed=kept["redeemed"].fillna(False).astype(bool))
    contract.canonical_schema(table).validate(kept)
    return kept.reset_index(drop=True), quarantine


def ingest_tables(raw: dict[str, pd.DataFrame], files: dict[str, str],
                  cfg: dict[str, Any]) -> IngestResult:
    """Validate every raw table; customers first, since other tables refer to them.

    Parameters
    ----------
    raw
        Raw frames by canonical table name; ``customers`` and ``transactions`` are required.
    files
        The file each frame came from, for error messages.
    cfg
        The ``ingest`` config section (``pii_columns``, optional ``date_formats``,
        ``timezone`` and ``event_types``).
    """
    for table in ("customers", "transactions"):
        if table not in raw:
            raise ContractError(files.get(table, f"{table}.*"), None, f"table '{table}' is required")
    tables, quarantines, counts = {}, [], {}
    for table in contract.TABLES:
        if table not in raw:
            continue
        extra: list[contract.RowRule] = []
        if table in ("transactions", "events", "campaigns"):
            customers = tables["customers"]
            extra = contract.referential_rules(customers["customer_id"], customers["signup_date"])
        kept, quarantine = ingest_table(table, raw[table], files[table], cfg, extra)
        tables[table] = kept
        quarantines.append(quarantine)
        counts[table] = {"rows_in": len(raw[table]), "rows_kept": len(kept),
                         "rows_quarantined": len(quarantine)}
        log.info("%s: %d rows in, %d kept, %d quarantined", table, *counts[table].values())
    return IngestResult(tables, pd.concat(quarantines, ignore_index=True), counts)


def over_tolerance(counts: dict[str, dict[str, int]], tolerance: float) -> dict[str, float]:
    """Tables whose quarantined share exceeds ``tolerance``, with that share."""
    shares = {t: c["rows_quarantined"] / max(c["rows_in"], 1) for t, c in counts.items()}
    return {t: s for t, s in shares.items() if s > tolerance}
