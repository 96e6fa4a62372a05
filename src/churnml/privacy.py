"""Find personal data from the input in anything the pipeline wrote (pure functions).

The input's PII columns (``ingest.pii_columns``: names, e-mails, phones, free text)
give the *needles*; logs, MLflow records, artifacts and outputs, turned into text by
the caller, are the *haystacks*. A hit is a needle found in a haystack. Matching is
case-insensitive and literal; phone numbers are also looked for as bare digits.
Reading files is the caller's job (see ``benchmarks/pii_scan.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

MIN_NEEDLE_CHARS = 6  # shorter values ("Al", "x@y.z") would match by chance
MIN_PHONE_DIGITS = 8
NON_DIGITS = re.compile(r"\D+")


@dataclass(frozen=True)
class Hit:
    """A PII value from input ``column`` found in output ``source``."""

    source: str
    column: str
    value: str


def pii_columns_of(frame: pd.DataFrame, pii_columns: Iterable[str]) -> list[str]:
    """The columns of ``frame`` named in ``pii_columns``, compared without case or
    surrounding spaces (an export's ``Email`` or `` phone`` is still personal data)."""
    wanted = {str(name).strip().casefold() for name in pii_columns}
    return [c for c in frame.columns if str(c).strip().casefold() in wanted]


def pii_needles(tables: Iterable[pd.DataFrame], pii_columns: Iterable[str],
                min_chars: int = MIN_NEEDLE_CHARS) -> dict[str, set[str]]:
    """Distinct PII values of the input, lowercased, by column.

    Parameters
    ----------
    tables
        Raw input tables; any of them may hold some of ``pii_columns``.
    pii_columns
        Column names holding personal data (``ingest.pii_columns``; matched as in
        :func:`pii_columns_of`). A column whose name contains ``phone`` is also
        searched as its digits alone.
    min_chars
        Values shorter than this are skipped.
    """
    needles: dict[str, set[str]] = {}
    for frame in tables:
        for column in pii_columns_of(frame, pii_columns):
            values = frame[column].dropna()
            if pd.api.types.is_float_dtype(values) and (values == values.round()).all():
                values = values.astype("Int64")  # a numeric phone with a gap reads as float
            values = values.astype("string").str.strip().str.lower()
            found = {v for v in values.unique() if len(v) >= min_chars}
            if "phone" in str(column).lower():
                digits = {NON_DIGITS.sub("", v) for v in found}
                found |= {d for d in digits if len(d) >= MIN_PHONE_DIGITS}
            needles.setdefault(column, set()).update(found)
    return needles


def frame_text(frame: pd.DataFrame) -> str:
    """Column names, index names and every distinct text value of ``frame``, one a line
    (numbers cannot hold a name, an e-mail or free text; digits-only phones excepted,
    so integer columns are included too)."""
    parts = [str(c) for c in frame.columns] + [str(n) for n in frame.index.names if n]
    for column in frame.columns:
        values = frame[column]
        if (pd.api.types.is_string_dtype(values) or values.dtype == object
                or isinstance(values.dtype, pd.CategoricalDtype)
                or pd.api.types.is_integer_dtype(values)):
            parts.extend(values.dropna().astype("string").unique().tolist())
    return "\n".join(str(p) for p in parts)


def scan(haystacks: Mapping[str, str], needles: Mapping[str, set[str]]) -> list[Hit]:
    """Every needle found in a haystack (case-insensitive), one hit per source and value.

    Parameters
    ----------
    haystacks
        Text by source name (a file path, ``mlflow.db:params``, ``dvc repro stderr``).
    needles
        PII values by input column, as from :func:`pii_needles`.
    """
    hits = []
    for source, text in haystacks.items():
        low = text.lower()
        for column, values in needles.items():
            hits.extend(Hit(source, column, v) for v in sorted(values) if v in low)
    return hits
