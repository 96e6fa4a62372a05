"""Read one user file (CSV, gzipped CSV or Parquet) with errors a person can act on.

CSV cells are read as text, exactly as written (only an empty cell, or a configured
``na_values`` spelling, is missing); types are parsed later by ``churnml.ingest``
with explicit formats, so that a bad value can be quarantined with its original
spelling. Every failure is a :class:`~churnml.errors.ContractError` naming the
file, the column (when one can be named), the rule and an example.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from churnml.errors import ContractError

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
DEFAULT_ENCODING = "utf-8-sig"  # UTF-8, tolerating the byte-order mark Excel writes
BAD_BYTES_SHOWN = 12


def file_format(path: Path) -> str:
    """``csv`` or ``parquet`` from the file name; anything else is a ContractError."""
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    raise ContractError(str(path), None, "unsupported file type (use .csv, .csv.gz or .parquet)",
                        examples=path.suffix or path.name)


def read_file(path: Path, read_cfg: dict[str, Any] | None = None,
              expected: Sequence[str] = ()) -> pd.DataFrame:
    """Read ``path`` into a frame: CSV as text, Parquet with its own types.

    Parameters
    ----------
    path
        The file; its name decides the format (see :func:`file_format`).
    read_cfg
        Optional CSV options: ``sep`` (default ``,``), ``encoding`` (default UTF-8),
        ``na_values`` (default: only the empty cell); ``decimal`` is applied when numbers
        are parsed, later.
    expected
        Columns the file should have, named in the message when it is empty.
    """
    read_cfg = read_cfg or {}
    if not path.is_file():
        raise ContractError(str(path), None, "file not found")
    if path.stat().st_size == 0:
        raise ContractError(str(path), None, "file is empty (0 bytes): expected a header row",
                            examples=list(expected) or None)
    if file_format(path) == "parquet":
        return _read_parquet(path)
    return _read_csv(path, read_cfg)


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise ContractError(str(path), None, "not a readable Parquet file",
                            examples=str(exc)[:120]) from exc


def _read_csv(path: Path, read_cfg: dict[str, Any]) -> pd.DataFrame:
    encoding = read_cfg.get("encoding") or DEFAULT_ENCODING
    sep = read_cfg.get("sep") or ("\t" if path.name.lower().endswith(".tsv") else ",")
    raw = _read_bytes(path)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, raw, exc, encoding, sep) from exc
    except LookupError as exc:
        raise ContractError(str(path), None, "unknown encoding in the data config",
                            examples=encoding) from exc
    if not text.strip():
        raise ContractError(str(path), None, "file holds no header row (only blank space)")
    try:
        # index_col=False: a row with one field more than the header (a separator at
        # the end of every line) must not turn the first column into the index, which
        # shifted every column left and threw the ids away.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                                na_values=list(read_cfg.get("na_values") or [""]),
                                skipinitialspace=False, index_col=False)
    except (ValueError, csv.Error) as exc:
        raise ContractError(str(path), None, "not a well-formed CSV file",
                            examples=str(exc).strip()[:160]) from exc
    if any(issubclass(w.category, pd.errors.ParserWarning) and "loss of data" in str(w.message)
           for w in caught):
        raise _extra_fields_error(path, text, sep)
    _check_header(path, header_names(text, sep))
    return frame


def _extra_fields_error(path: Path, text: str, sep: str) -> ContractError:
    """Name the first row holding a value past the header's last column (pandas would
    drop it); empty trailing fields (a separator at the end of the line) are fine."""
    rows = csv.reader(io.StringIO(text), delimiter=sep)
    width = len(next(rows))
    for number, row in enumerate(rows, start=1):
        if any(cell.strip() for cell in row[width:]):
            return ContractError(str(path), None, f"row {number} has more fields than the "
                                 f"header's {width} (a separator inside a value?)",
                                 examples=row[:8])
    return ContractError(str(path), None, "rows have more fields than the header")


def _read_bytes(path: Path) -> bytes:
    try:
        if path.name.lower().endswith(".gz"):
            import gzip

            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except OSError as exc:
        raise ContractError(str(path), None, "cannot read file", examples=str(exc)[:120]) from exc


def header_names(text: str, sep: str) -> list[str]:
    """The header row as written: the first non-blank CSV record of ``text``.

    pandas renames an empty header cell to ``Unnamed: <i>`` and a repeated ``a`` to
    ``a.1``, so its column names cannot tell those apart from real names that look
    the same. A separator of more than one character is a regular expression to pandas,
    and is split as one here too.
    """
    lines = io.StringIO(text.lstrip("\ufeff"))
    rows = (csv.reader(lines, delimiter=sep) if len(sep) == 1
            else (re.split(sep, line.rstrip("\r\n")) for line in lines))
    for row in rows:
        if any(cell.strip() for cell in row):
            return row
    return []


def _check_header(path: Path, names: list[str]) -> None:
    """Unnamed or repeated header cells make the column mapping ambiguous."""
    unnamed = [i for i, n in enumerate(names) if not n.strip()]
    if unnamed:
        raise ContractError(str(path), f"column {unnamed[0] + 1}",
                            "header has an empty column name", examples=names[:8])
    repeated = [n for i, n in enumerate(names) if n in names[:i]]
    if repeated:
        raise ContractError(str(path), repeated[0], "header names the same column twice",
                            examples=names[:8])


def _encoding_error(path: Path, raw: bytes, exc: UnicodeDecodeError, encoding: str,
                    sep: str) -> ContractError:
    """Name the line, the column and the offending bytes of a decoding failure."""
    line_no = raw.count(b"\n", 0, exc.start) + 1
    line_start = raw.rfind(b"\n", 0, exc.start) + 1
    header = raw.split(b"\n", 1)[0].decode(encoding, errors="replace").strip("\r\ufeff")
    before = raw[line_start:exc.start].decode(encoding, errors="replace")
    columns = next(csv.reader([header], delimiter=sep), [])
    index = next(csv.reader([before + "x"], delimiter=sep), [""]).__len__() - 1
    column = columns[index] if 0 <= index < len(columns) else None
    bad = raw[exc.start:exc.start + BAD_BYTES_SHOWN]
    return ContractError(
        str(path), column,
        f"not valid {encoding.replace('-sig', '')} text at line {line_no} "
        f"(set `encoding:` for this table in conf/data/<name>.yaml, e.g. latin-1 or cp1252)",
        examples=repr(bad))
