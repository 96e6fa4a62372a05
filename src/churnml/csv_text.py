"""CSV bytes exactly as ``DataFrame.to_csv(index=False, lineterminator="\\n",
float_format=...)`` writes them, built a column at a time with Arrow.

pandas formats every float cell through a Python formatter and checks it for
missing values one cell at a time, then hands the rows to the ``csv`` module: about
a minute for the 10^6-row scored list on a loaded 2-core machine. Here floats go
through ``float_format % x`` once per cell (missing: empty), text cells are quoted
like the ``csv`` module's ``QUOTE_MINIMAL`` (a cell holding ``,``, ``"`` or a line
break is enclosed in quotes, quotes doubled), other types (dates, booleans,
integers) are formatted by pandas once per distinct value, and Arrow joins cells
into lines. ``pyarrow.csv.write_csv`` is not used: it quotes every text cell and
writes ``true``/``false`` and floats its own way, so the file would change.
Pure: returns bytes, writes nothing (see :func:`churnml.io.write_csv`).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

NEEDS_QUOTES = r'[,"\n]'  # what Python 3.11's csv module quotes with lineterminator "\n"
# Object-column kinds (pandas.api.types.infer_dtype) whose equal values print alike
ALIKE_WHEN_EQUAL = frozenset({"string", "bytes", "boolean", "integer", "date", "empty"})


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, type=pa.large_string())


def _may_need_quotes(cells: pa.Array) -> bool:
    """Whether any cell's characters include ``,``, ``"`` or a line break: one
    ``bytes.find`` per character over the array's character buffer, about 20 times
    faster than the regular expression on a column that needs no quotes (most do not)."""
    if cells.type != pa.large_string() or cells.offset != 0:
        return True  # not the layout read below: let the regular expression decide
    offsets, data = cells.buffers()[1:3]
    if data is None:
        return False
    ends = np.frombuffer(offsets, dtype=np.int64, count=len(cells) + 1)
    text = data.to_pybytes()[int(ends[0]):int(ends[-1])]
    return any(text.find(ch) >= 0 for ch in (b",", b'"', b"\n"))


def quote_minimal(cells: pa.Array) -> pa.Array:
    """Cells (no nulls) quoted where the ``csv`` module's ``QUOTE_MINIMAL`` would."""
    if not _may_need_quotes(cells):
        return cells
    need = pc.match_substring_regex(cells, NEEDS_QUOTES)
    if not pc.any(need).as_py():
        return cells
    doubled = pc.replace_substring(cells, '"', '""')
    quoted = pc.binary_join_element_wise(_text('"'), doubled, _text('"'), _text(""))
    return pc.if_else(need, quoted, cells)


def _is_float(values: pd.Series) -> bool:
    return isinstance(values.dtype, np.dtype) and values.dtype.kind == "f"


def _is_text(values: pd.Series) -> bool:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return False
    return pd.api.types.is_string_dtype(values.dtype) and pd.api.types.infer_dtype(
        values, skipna=True) in ("string", "empty")


def _distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes per cell and one value per code, grouping only cells ``to_csv`` writes alike.

    Equal is not enough in an object column: ``True == 1 == 1.0``, ``0.0 == -0.0`` and
    two aware datetimes at the same instant are equal but written ``True``, ``1``,
    ``1.0``, ``-0.0`` and with their own offsets. Unless every cell is of one kind where
    equal values print alike (:data:`ALIKE_WHEN_EQUAL`), cells are grouped by type and
    ``repr`` instead (one Python call per cell, as ``to_csv`` makes anyway).
    """
    if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) in ALIKE_WHEN_EQUAL:
        codes, distinct = pd.factorize(values, use_na_sentinel=False)
        return codes, pd.Series(distinct)
    cells = values.to_numpy()
    codes, _ = pd.factorize(np.array([f"{type(v).__qualname__}:{v!r}" for v in cells],
                                     dtype=object))
    _, first = np.unique(codes, return_index=True)
    return codes, pd.Series(cells[first], dtype=object)


def _by_pandas(values: pd.Series, float_format: str) -> pa.Array:
    """Cells as pandas formats them, computed once per distinct value.

    The distinct values are written with every cell quoted, so the ``csv`` module reads
    back any text (a lone ``\\r`` is left unquoted by ``QUOTE_MINIMAL`` and then refused
    by the reader); :func:`quote_minimal` quotes the cells again afterwards.
    """
    codes, distinct = _distinct(values)
    text = pd.DataFrame({"x": distinct}).to_csv(index=False, header=False,
                                                lineterminator="\n", float_format=float_format,
                                                quoting=csv.QUOTE_ALL)
    cells = np.array([row[0] if row else "" for row in csv.reader(io.StringIO(text, newline=""))],
                     dtype=object)
    return pa.array(cells[codes] if len(cells) else np.array([], dtype=object),
                    type=pa.large_string())


def column_cells(values: pd.Series, float_format: str) -> pa.Array:
    """One column's CSV cells, unquoted (missing: empty)."""
    if _is_float(values):
        floats = values.to_numpy(dtype="float64")
        cells = np.full(len(floats), "", dtype=object)
        known = ~np.isnan(floats)  # missing cells stay empty, unformatted
        cells[known] = list(map(float_format.__mod__, floats[known].tolist()))
        return pa.array(cells, type=pa.large_string())
    if _is_text(values):
        text = pa.array(values, from_pandas=True)  # no copy for Arrow-backed strings
        if isinstance(text, pa.ChunkedArray):
            text = text.combine_chunks()
        return pc.fill_null(text.cast(pa.large_string()), _text(""))
    return _by_pandas(values, float_format)


def csv_bytes(df: pd.DataFrame, float_format: str = "%.10g") -> bytes:
    """UTF-8 CSV of ``df`` (header, no index, ``\\n`` line ends), byte for byte what
    ``df.to_csv(index=False, lineterminator="\\n", float_format=float_format)`` gives.

    Parameters
    ----------
    df
        Any frame with text column names; an empty one is handed to pandas.
    """
    if not len(df) or not df.shape[1] or not all(isinstance(c, str) for c in df.columns):
        return df.to_csv(index=False, lineterminator="\n", float_format=float_format).encode()
    cells = [column_cells(df[c], float_format) for c in df.columns]
    plain = not any(ch in float_format for ch in ',"\n')  # then float cells need no quotes
    cells = [c if plain and _is_float(df[name]) else quote_minimal(c)
             for name, c in zip(df.columns, cells, strict=True)]
    if len(cells) == 1:  # the csv module quotes a lone empty field: ""
        cells[0] = pc.if_else(pc.equal(pc.binary_length(cells[0]), 0), _text('""'),
                              cells[0])
    lines = pc.binary_join_element_wise(*cells, _text(","))
    body = pc.binary_join(pa.LargeListArray.from_arrays(pa.array([0, len(lines)], pa.int64()),
                                                        lines), _text("\n"))[0]
    header = ",".join(quote_minimal(pa.array(list(df.columns), type=pa.large_string()))
                      .to_pylist())
    return header.encode() + b"\n" + body.as_buffer().to_pybytes() + b"\n"
