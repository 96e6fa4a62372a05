"""The generic mapping: a user's CSV / Parquet files to canonical tables, by config.

Used as is by ``data=csv`` (``data.source: mapped``) and by the other adapters for
the plain part of their work. Per canonical table, ``conf/data/<name>.yaml`` gives::

    tables:
      transactions:
        file: orders.csv              # or a list of files joined on `join_on`
        join_on: Customer ID          # the key column shared by the listed files
        read: {sep: ";", encoding: utf-8, na_values: ["", "NULL"], decimal: ","}
        columns: {customer_id: CustomerID, ts: InvoiceDate, amount: Amount}
        constants: {channel: web}     # canonical columns the files do not hold
        values: {event_type: {Complaint: complaint}}   # recode spellings
        date_formats: {ts: "%d/%m/%Y %H:%M"}
        timezone: Europe/London       # default: data.timezone
        types: {age: float}           # non-canonical columns: float|bool|datetime|string

Only mapped columns are kept (an unmapped column never reaches a feature or an
output). No row is dropped: each raw row keeps its row number in ``_source_row``.
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from churnml import contract
from churnml.errors import ConfigError, ContractError
from churnml.ingest import SOURCE_ROW
from churnml.sources import RawData, input_dir
from churnml.sources.files import read_file
from churnml.sources.parsing import TYPE_NAMES, TableSpec, parse_text

log = logging.getLogger(__name__)
DEFAULT_TIMEZONE = "UTC"
CLOSE_MATCHES = 3
CANONICAL_NAMES = tuple(dict.fromkeys(
    (*contract.ID_COLUMNS, *contract.DATETIME_COLUMNS, *contract.FLOAT_COLUMNS,
     *contract.BOOL_COLUMNS, *contract.LABEL_COLUMNS)))


def _files(table: str, table_cfg: dict[str, Any]) -> list[str]:
    files = table_cfg.get("file")
    if not files:
        raise ConfigError(f"data.tables.{table}.file is not set")
    return [files] if isinstance(files, str) else [str(f) for f in files]


def _display(path: Path, root: Path) -> str:
    """``path`` relative to the project root (or its parent folder), else absolute."""
    root = root.resolve()
    if path.is_relative_to(root):
        return str(path.relative_to(root))
    if path.is_relative_to(root.parent):
        return str(Path("..") / path.relative_to(root.parent))
    return str(path)


def read_joined(table: str, table_cfg: dict[str, Any], folder: Path,
                root: Path) -> tuple[pd.DataFrame, str]:
    """Read the table's file(s); several files are left-joined on ``join_on``.

    Returns
    -------
    frame, file
        The rows of the first file (one per raw row, in file order) with the joined
        columns, and the first file's name for messages.
    """
    names = _files(table, table_cfg)
    paths = [folder / n for n in names]
    shown = [_display(p, root) for p in paths]
    frame = read_file(paths[0], table_cfg.get("read")).reset_index(drop=True)
    frame[SOURCE_ROW] = frame.index + 1
    key = table_cfg.get("join_on")
    if len(paths) > 1 and not key:
        raise ConfigError(f"data.tables.{table}: several files need `join_on` (a key column)")
    for path, label in zip(paths[1:], shown[1:], strict=True):
        other = read_file(path, table_cfg.get("read"))
        for name, part in ((shown[0], frame), (label, other)):
            if key not in part.columns:
                raise ContractError(name, key, "join column not found",
                                    examples=[str(c) for c in part.columns][:8])
        frame = _left_join(frame, other, key, label)
    return frame, shown[0]


def _left_join(frame: pd.DataFrame, other: pd.DataFrame, key: str, label: str) -> pd.DataFrame:
    """``frame`` with ``other``'s new columns, matched on ``key`` compared as text.

    Keys are compared as ids are parsed (stripped text, whole numbers without ``.0``),
    so a Parquet integer ``7`` meets a CSV ``"7"``; an empty key matches nothing (pandas
    would match empty to empty), and ``other``'s rows without one are left out, counted
    in a warning: they cannot belong to any row.
    """
    join = "_join_key"
    theirs = parse_text(other[key])
    keyless = theirs.isna()
    if keyless.any():
        log.warning("%s: %d rows without a %r value cannot be joined and are left out",
                    label, int(keyless.sum()), key)
    other = other.loc[~keyless].assign(**{join: theirs[~keyless]})
    duplicated = other[join].duplicated(keep=False)
    if duplicated.any():
        raise ContractError(label, key, "duplicate key in a joined file (one row per key "
                            "expected)", examples=other.loc[duplicated, key].head(3).tolist())
    new = [c for c in other.columns if c not in frame.columns]
    joined = frame.assign(**{join: parse_text(frame[key])}).merge(other[new], on=join, how="left",
                                                validate="many_to_one")
    return joined.drop(columns=join)


def _missing_column(file: str, frame: pd.DataFrame, source: str, canonical: str) -> ContractError:
    header = [str(c) for c in frame.columns if c != SOURCE_ROW]
    close = difflib.get_close_matches(source, header, n=CLOSE_MATCHES)
    return ContractError(file, source, f"column mapped to '{canonical}' not found in the file "
                         f"(examples: {'closest names' if close else 'columns found'})"
                         f"{contract.separator_hint(frame.drop(columns=SOURCE_ROW))}",
                         examples=close or header[:8])


def map_frame(table: str, frame: pd.DataFrame, table_cfg: dict[str, Any], file: str,
              derived: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rename mapped columns to canonical names, add constants, recode values.

    A canonical column the file already holds under its canonical name is kept
    without being mapped. ``derived`` names required columns an adapter computes
    itself (e.g. ``amount`` from quantity x price), which the mapping need not give.
    """
    constants = table_cfg.get("constants") or {}
    columns: dict[str, str] = {c: c for c in CANONICAL_NAMES
                               if c in frame.columns and c not in constants}
    columns.update({str(k): str(v) for k, v in (table_cfg.get("columns") or {}).items()})
    unmapped = [c for c in contract.REQUIRED[table]
                if c not in columns and c not in constants and c not in derived]
    if unmapped:
        raise ContractError(file, unmapped[0], f"required column of '{table}' is neither mapped "
                            f"in data.tables.{table}.columns nor present in the file",
                            examples=[str(c) for c in frame.columns if c != SOURCE_ROW][:8])
    for canonical, source in columns.items():
        if source not in frame.columns:
            raise _missing_column(file, frame, source, canonical)
    out = pd.DataFrame({canonical: frame[source] for canonical, source in columns.items()})
    out[SOURCE_ROW] = frame[SOURCE_ROW].to_numpy()
    for canonical, value in constants.items():
        out[canonical] = str(value)
    for canonical, recode in (table_cfg.get("values") or {}).items():
        if canonical in out:
            text = out[canonical].astype("string")
            out[canonical] = text.replace({str(k): str(v) for k, v in recode.items()})
    return out


def table_spec(table: str, table_cfg: dict[str, Any], file: str, timezone: str) -> TableSpec:
    """The parse spec of one mapped table (formats, time zone, declared types)."""
    types = dict(table_cfg.get("types") or {})
    wrong = {c: t for c, t in types.items() if t not in TYPE_NAMES}
    if wrong:
        raise ConfigError(f"data.tables.{table}.types: {wrong} - use one of {list(TYPE_NAMES)}")
    return TableSpec(file=file, columns={k: str(v) for k, v in (table_cfg.get("columns") or {})
                                         .items()},
                     date_formats=dict(table_cfg.get("date_formats") or {}),
                     timezone=table_cfg.get("timezone") or timezone, types=types,
                     decimal=str((table_cfg.get("read") or {}).get("decimal") or "."))


def map_table(table: str, table_cfg: dict[str, Any], folder: Path, root: Path,
              timezone: str, derived: tuple[str, ...] = ()) -> tuple[pd.DataFrame, TableSpec]:
    """Read and map one table: the raw frame (canonical names) and its parse spec."""
    frame, file = read_joined(table, table_cfg, folder, root)
    return (map_frame(table, frame, table_cfg, file, derived),
            table_spec(table, table_cfg, file, timezone))


def load(data_cfg: dict[str, Any], root: Path) -> RawData:
    """Map every table listed in ``data.tables`` from ``data.input_dir``."""
    folder = input_dir(data_cfg, root)
    tables_cfg = data_cfg.get("tables") or {}
    unknown = sorted(set(tables_cfg) - set(contract.TABLES))
    if unknown:
        raise ConfigError(f"data.tables: unknown tables {unknown}; canonical tables are "
                          f"{list(contract.TABLES)}")
    tz = data_cfg.get("timezone") or DEFAULT_TIMEZONE
    tables, specs = {}, {}
    for table, table_cfg in tables_cfg.items():
        if table_cfg is None:
            continue
        tables[table], specs[table] = map_table(table, table_cfg, folder, root, tz)
        log.info("mapped %s from %s: %d rows", table, specs[table].file, len(tables[table]))
    return RawData(tables, specs, mode=data_cfg.get("mode") or "events")
