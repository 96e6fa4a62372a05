"""Parse raw cells into canonical types with explicit formats and time zones.

Text read from CSV and typed Parquet columns go through the same functions, so the
same rows give the same canonical values whichever format they came in. A value
that cannot be parsed becomes missing here and is quarantined by the caller, which
still holds the original spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnml import contract
from churnml.contract import present
from churnml.errors import ContractError

TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0"}
TYPE_NAMES = ("float", "bool", "datetime", "string")
# An ISO time followed by a UTC offset or Z: the value carries its own time zone.
OFFSET_PATTERN = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
EXAMPLES = 3
MAX_EXACT_INTEGER = 2**53  # floats hold every integer below this exactly


@dataclass(frozen=True)
class TableSpec:
    """How to read one raw table: where it came from and how to parse its cells.

    Attributes
    ----------
    file
        The file named in messages (the user's file when a source mapped it).
    columns
        ``{canonical: source column}`` for messages (``ts`` was ``InvoiceDate``).
    date_formats
        ``{column: strptime format}``; a column not listed must be ISO 8601.
    timezone
        Time zone of timestamps written without an offset.
    types
        ``{column: float | bool | datetime | string}`` for non-canonical columns.
    decimal
        Decimal mark of numbers written as text (``,`` for ``9,50``).
    """

    file: str
    columns: dict[str, str] = field(default_factory=dict)
    date_formats: dict[str, str | None] = field(default_factory=dict)
    timezone: str = "UTC"
    types: dict[str, str] = field(default_factory=dict)
    decimal: str = "."

    def label(self, column: str) -> str:
        """``ts``, or ``InvoiceDate -> ts`` when the user's column has another name."""
        source = self.columns.get(column)
        return f"{source} -> {column}" if source and source != column else column


def column_type(column: str, values: pd.Series, spec: TableSpec) -> str:
    """The canonical type of a column: contract first, then the spec, then inferred."""
    if column in contract.DATETIME_COLUMNS:
        return "datetime"
    if column in contract.FLOAT_COLUMNS:
        return "float"
    if column in contract.BOOL_COLUMNS:
        return "bool"
    if column in contract.ID_COLUMNS or column in contract.LABEL_COLUMNS:
        return "string"
    if column in spec.types:
        return spec.types[column]
    return infer_type(values)


def infer_type(values: pd.Series) -> str:
    """``float`` for numbers (typed, or text that all parses as numbers), else ``string``.

    Datetime columns of a Parquet file stay ``datetime``; booleans become text so that
    ``True`` in Parquet and ``True`` in CSV agree.
    """
    if pd.api.types.is_bool_dtype(values):
        return "string"
    if pd.api.types.is_numeric_dtype(values):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    filled = values[present(values)]
    if len(filled) and pd.to_numeric(filled.astype("string").str.strip(),
                                     errors="coerce").notna().all():
        return "float"
    return "string"


def parse_float(values: pd.Series, decimal: str = ".") -> pd.Series:
    """Finite numbers as float64; text that is not a number, ``inf`` and values too large
    for a float (``1e400``) become NaN, so their rows are quarantined as unparseable."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):
        parsed = pd.to_numeric(values, errors="coerce").astype("float64")
    else:
        text = values.astype("string").str.strip()
        if decimal != ".":
            text = text.str.replace(decimal, ".", regex=False)
        parsed = pd.to_numeric(text, errors="coerce").astype("float64")
    return parsed.where(np.isfinite(parsed))


def parse_bools(values: pd.Series) -> pd.Series:
    """Map booleans and common spellings (true/yes/1, false/no/0) to nullable booleans."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    if pd.api.types.is_numeric_dtype(values):
        return values.map({1: True, 0: False}).astype("boolean")
    text = values.astype("string").str.strip().str.lower()
    mapped = text.map(lambda v: True if v in TRUE_WORDS else False if v in FALSE_WORDS else pd.NA,
                      na_action="ignore")
    return mapped.astype("boolean")


def parse_text(values: pd.Series) -> pd.Series:
    """Stripped text; integral floats print without ``.0`` (Parquet ids with gaps)."""
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if ((whole == whole.round()) & (whole.abs() < MAX_EXACT_INTEGER)).all():
            values = values.astype("Int64")
    text = values.astype("string").str.strip()
    return text.astype("str").where(present(values))


def parse_datetimes(values: pd.Series, fmt: str | None, tz: str, file: str = "",
                    column: str = "") -> tuple[pd.Series, pd.Series]:
    """Parse to naive UTC ``datetime64[us]``.

    Naive values are read in time zone ``tz``; values with an offset are converted to
    UTC. A column mixing both is a ContractError (which convention is right cannot be
    known).

    Returns
    -------
    parsed, bad_local_time
        ``parsed`` is NaT where a value could not be parsed; ``bad_local_time`` marks
        values that parsed but do not exist (or exist twice) in ``tz`` at a clock change.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        utc, bad = values.dt.tz_convert("UTC"), pd.Series(False, index=values.index)
    elif pd.api.types.is_datetime64_dtype(values):
        utc, bad = _localise(values, tz)
    else:
        text = values.astype("string").str.strip()
        aware = text.str.contains(OFFSET_PATTERN, regex=True).fillna(False)
        if fmt is None and aware.any() and (~aware & present(values)).any():
            raise ContractError(file, column, "mixed time zones: some timestamps carry a UTC "
                                "offset and some do not", examples=[
                                    str(text[aware].iloc[0]), str(text[~aware & present(values)]
                                                                  .iloc[0])])
        if (fmt is None and aware.any()) or (fmt and ("%z" in fmt or "%Z" in fmt)):
            parsed = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce", utc=True)
            utc, bad = parsed, pd.Series(False, index=values.index)
        else:
            naive = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce")
            utc, bad = _localise(naive, tz)
    return utc.dt.tz_localize(None).astype("datetime64[us]"), bad


def _localise(naive: pd.Series, tz: str) -> tuple[pd.Series, pd.Series]:
    local = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return local.dt.tz_convert("UTC"), naive.notna() & local.isna()


def check_parsed(raw: pd.Series, parsed: pd.Series, kind: str, file: str, column: str,
                 fmt: str | None = None) -> None:
    """A column with values of which none parse is a wrong type or format: ContractError."""
    filled = present(raw)
    if filled.any() and parsed[filled].isna().all():
        expected = f"dates in format {fmt!r}" if fmt else (
            "ISO 8601 dates (or set date_formats)" if kind == "datetime" else kind)
        examples = raw[filled].astype("string").drop_duplicates().head(EXAMPLES).tolist()
        if kind == "numbers" and any("," in str(v) for v in examples):
            expected += " (a decimal comma? set `read: {decimal: ','}` for this table)"
        raise ContractError(file, column, f"wrong type: no value parses as {expected}",
                            examples=examples)
