"""Malformed variants of the five canonical tables, and the checks every variant must pass.

A case starts from a small valid data folder (every canonical table, a few rows each)
and applies at most one *structural* mutation (a dropped, renamed or retyped column,
mixed time zones, non-UTF-8 bytes, a header-only or empty file, an all-blank column)
plus a few *row* mutations (one cell set to NaN, blank, whitespace, a huge number, an
out-of-range or mixed-format date, a formula, very long or exotic text; a duplicated
row; reordered columns). :func:`run_case` runs ``churnml ingest`` on it through the
CLI entry point and returns the broken invariants:

- exit code in {0, 2, 3} (1 means an exception churnml did not turn into a clear error);
- no ``Traceback`` in the output;
- exit 2: the error line names a data file and, when the mutation targets a column,
  that column; a structural mutation of a required column must give exit 2;
- exit 0 or 3: for every table ``rows in file == rows_kept + rows_quarantined`` and the
  manifest agrees, and each row made definitely bad is in the quarantine.

Used by ``tests/test_fuzz_ingest.py`` (few examples) and ``benchmarks/fuzz.py`` (many).
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from hypothesis import strategies as st

from churnml import contract
from churnml.cli import main

BASE = {
    "customers": {
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "signup_date": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05",
                        "2024-01-06"],
        "region": ["north", "south", "east", "west", "north", "south"],
        "plan": ["basic", "plus", "basic", "pro", "plus", "basic"]},
    "transactions": {
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "ts": [f"2024-02-0{i}T10:00:00" for i in range(1, 7)],
        "amount": ["10.5", "3", "7.25", "1", "99", "0.5"],
        "category": ["food", "toys", "food", "tools", "toys", "food"],
        "is_return": ["false", "false", "true", "false", "false", "false"]},
    "events": {
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "ts": [f"2024-02-1{i}T09:30:00" for i in range(1, 7)],
        "event_type": ["complaint", "support_contact", "referral", "complaint", "downgrade",
                       "survey_score"],
        "value": ["", "", "", "", "", "7"],
        "incident_id": ["i1", "", "", "i2", "", ""]},
    "incidents": {
        "incident_id": ["i1", "i2", "i3", "i4", "i5", "i6"],
        "start": [f"2024-02-0{i}T00:00:00" for i in range(1, 7)],
        "end": [f"2024-02-0{i}T12:00:00" for i in range(1, 7)],
        "scope": ["product", "region", "batch", "product", "region", "batch"],
        "severity": ["1", "2", "3", "1", "2", "3"]},
    "campaigns": {
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "ts": [f"2024-03-0{i}T08:00:00" for i in range(1, 7)],
        "offer_id": ["o1", "control", "o2", "o1", "control", "o2"],
        "redeemed": ["true", "false", "false", "true", "false", "false"],
        "cost": ["5", "0", "5", "5", "0", "5"]},
}
# Cells that break their row whatever the column (blank in a required column, formula).
FORMULAS = ["=1+1", "@SUM(A1:A9)", "=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0",
            "-2+3+cmd|x", "\t=1"]
BLANKS = ["", " ", "   ", "\t"]
GARBAGE = ["not-a-value", "NaN", "nan", "NULL", "None", "N/A", "inf", "-inf", "1e400", "9" * 400,
           "-" + "9" * 400, "0x1F", "1,5", "12 EUR", "true", "2024-13-45", "31/02/2024"]
DATES = ["9999-12-31", "0001-01-01", "1677-09-21", "2262-04-12", "10000-01-01", "1900-01-01",
         "05/02/2024 10:00", "2024/02/05", "Feb 5 2024", "20240205", "2024-02-05 10:00",
         "2024-02-05T10:00:00.123456789", "2024-W06-1", "1707130800"]
TEXT = ["x" * 5000, "Ünïcødé 中文 🙂", "a\nb", "say \"hi\"", "a,b;c|d", " padded ", "<b>x</b>",
        "[bold]x[/bold]", "\x00nul", "'quoted'", "-", "+", "-5", "+3.2", "1e308", "-0"]
OUT_OF_RANGE = ("9999-12-31", "0001-01-01", "1677-09-21", "10000-01-01")  # ingest.date_range
OFFSETS = ["+05:00", "Z", "-08:00", "+0100"]
NON_UTF8 = [b"M\xfcller", b"\xff\xfe", b"caf\xe9", b"\x80\x81\x82", b"\xc3\x28"]


@dataclass
class Case:
    """One malformed data folder: frames (text cells, None = empty) or raw file bytes."""

    frames: dict[str, pd.DataFrame]
    formats: dict[str, str] = field(default_factory=dict)
    raw_bytes: dict[str, bytes] = field(default_factory=dict)
    must_fail: tuple[str, str | None] | None = None  # (table, column) that must give exit 2
    bad_cells: dict[str, dict[tuple[int, str], bool]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def file(self, table: str) -> str:
        return f"{table}.{self.formats.get(table, 'csv')}"

    def mark(self, table: str, row: int, column: str, bad: bool) -> None:
        """Record whether cell (1-based ``row``, ``column``) must send its row to quarantine."""
        self.bad_cells.setdefault(table, {})[(row, column)] = bad

    def forget(self, table: str, column: str | None = None) -> None:
        """Drop the marks of ``column`` (all of ``table`` when None): it was overwritten."""
        cells = self.bad_cells.get(table, {})
        for key in [k for k in cells if column is None or k[1] == column]:
            del cells[key]

    def bad_rows(self, table: str) -> set[int]:
        """Rows that must be quarantined: a marked cell, or a repeated customer id."""
        rows = {r for (r, _), bad in self.bad_cells.get(table, {}).items() if bad}
        frame = self.frames[table]
        if table == "customers" and "customer_id" in frame:
            ids = frame["customer_id"].astype("string").str.strip()
            repeated = ids.duplicated(keep="first") & ids.fillna("").ne("")
            rows |= {i + 1 for i in range(len(frame)) if repeated.iloc[i]}
        return rows


def _base() -> dict[str, pd.DataFrame]:
    return {t: pd.DataFrame(cols, dtype=object) for t, cols in BASE.items()}


def _kind(column: str) -> str:
    for kind, names in (("datetime", contract.DATETIME_COLUMNS),
                        ("float", contract.FLOAT_COLUMNS), ("bool", contract.BOOL_COLUMNS)):
        if column in names:
            return kind
    return "text"


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


@st.composite
def structural(draw: st.DrawFn, case: Case) -> None:
    """At most one mutation that changes a column or the whole file."""
    table = draw(st.sampled_from(contract.TABLES))
    frame = case.frames[table]
    column = draw(st.sampled_from(list(frame.columns)))
    required = column in contract.REQUIRED[table]
    kind = draw(st.sampled_from(["none", "drop", "rename", "retype", "blank_column", "mixed_tz",
                                 "non_utf8", "header_only", "empty", "whitespace_file"]))
    case.notes.append(f"{kind} {table}.{column}")
    if kind in ("drop", "rename", "retype", "blank_column", "header_only"):
        case.forget(table, None if kind == "header_only" else column)
    if kind == "drop":
        case.frames[table] = frame.drop(columns=column)
    elif kind == "rename":
        new = draw(st.sampled_from([column.upper(), f"{column}_", f" {column}",
                                    column.replace("_", " "), f"{column}.1"]))
        if new == column:  # "amount" has no "_" to replace
            return
        case.frames[table] = frame.rename(columns={column: new})
    elif kind == "retype" and _kind(column) in ("datetime", "float", "bool"):
        values = draw(st.lists(st.sampled_from(["abc", "n/a", "yes!", "€", "--", "x1"]),
                               min_size=len(frame), max_size=len(frame)))
        frame[column] = values
        case.must_fail = (table, column)
        return
    elif kind == "blank_column":
        frame[column] = draw(st.sampled_from(BLANKS))
        for row in range(1, len(frame) + 1):
            case.mark(table, row, column, required)
        return
    elif kind == "mixed_tz" and _kind(column) == "datetime":
        row = draw(st.integers(0, len(frame) - 1))
        frame.loc[row, column] = f"2024-02-05T10:00:00{draw(st.sampled_from(OFFSETS))}"
        case.must_fail = (table, column)
        return
    elif kind == "non_utf8":
        row = draw(st.integers(0, len(frame) - 1))
        frame.loc[row, column] = "@@BYTES@@"
        bad = draw(st.sampled_from(NON_UTF8))
        case.raw_bytes[table] = _csv_bytes(frame).replace(b"@@BYTES@@", bad)
        case.formats[table] = "csv"
        case.must_fail = (table, column)
        return
    elif kind == "header_only":
        case.frames[table] = frame.iloc[0:0]
        if table in contract.REQUIRED_TABLES["events"]:
            case.must_fail = (table, None)
        return
    elif kind in ("empty", "whitespace_file"):
        case.raw_bytes[table] = b"" if kind == "empty" else b"\n  \n\t\n"
        case.formats[table] = "csv"
        case.must_fail = (table, None)
        return
    else:
        return
    if required:
        case.must_fail = (table, column)


def _cell_value(draw: st.DrawFn, column: str) -> tuple[str | None, bool]:
    """A dirty value for ``column`` and whether it must send its row to quarantine."""
    pool = draw(st.sampled_from(["none", "blank", "formula", "garbage", "date", "text"]))
    if pool == "none":
        return None, False
    if pool == "blank":
        return draw(st.sampled_from(BLANKS)), False
    if pool == "formula":
        return draw(st.sampled_from(FORMULAS)), True
    if pool == "garbage":
        value = draw(st.sampled_from(GARBAGE))
        definitely_bad = _kind(column) in ("datetime", "float") and value in (
            "not-a-value", "NaN", "nan", "inf", "-inf", "1e400", "12 EUR", "N/A", "9" * 400)
        return value, definitely_bad
    if pool == "date":
        value = draw(st.sampled_from(DATES))
        return value, _kind(column) == "datetime" and value in OUT_OF_RANGE
    return draw(st.sampled_from(TEXT)), False


@st.composite
def row_mutation(draw: st.DrawFn, case: Case) -> None:
    """One dirty cell, a duplicated row, or reordered columns, in a random table."""
    table = draw(st.sampled_from(contract.TABLES))
    frame = case.frames[table]
    if frame.empty or table in case.raw_bytes:
        return
    kind = draw(st.sampled_from(["cell", "cell", "cell", "duplicate", "reorder"]))
    if kind == "reorder":
        case.frames[table] = frame[draw(st.permutations(list(frame.columns)))]
        return
    row = draw(st.integers(0, len(frame) - 1))
    if kind == "duplicate":
        case.frames[table] = pd.concat([frame, frame.iloc[[row]]], ignore_index=True)
        for (r, col), bad in list(case.bad_cells.get(table, {}).items()):
            if r == row + 1:
                case.mark(table, len(frame) + 1, col, bad)
        case.notes.append(f"duplicate {table} row {row + 1}")
        return
    column = draw(st.sampled_from(list(frame.columns)))
    value, bad = _cell_value(draw, column)
    frame.loc[row, column] = value
    blank_required = (value is None or not str(value).strip()) and (
        column in contract.REQUIRED[table])
    case.mark(table, row + 1, column, bad or blank_required)
    case.notes.append(f"cell {table}.{column}[{row + 1}] = {value!r:.40}")


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A data folder with one structural and up to three row mutations."""
    case = Case(_base())
    for _ in range(draw(st.integers(0, 3))):
        draw(row_mutation(case))
    draw(structural(case))
    case.formats.update({t: draw(st.sampled_from(["csv", "parquet"]))
                         for t in contract.TABLES if t not in case.formats})
    return case


def write_case(case: Case, folder: Path) -> None:
    """Write every table in its format (Parquet: all-text columns, None = missing)."""
    folder.mkdir(parents=True)
    for table, frame in case.frames.items():
        path = folder / case.file(table)
        if table in case.raw_bytes:
            path.write_bytes(case.raw_bytes[table])
        elif path.suffix == ".parquet":
            frame.astype("string").to_parquet(path, index=False)
        else:
            path.write_bytes(_csv_bytes(frame))


@dataclass
class Outcome:
    """What one run did: exit code, rows lost, broken invariants."""

    code: int
    rows_lost: int
    problems: list[str]
    text: str
    workdir: Path | None = None


ERROR_LINE = re.compile(r"ERROR churnml: (?P<file>\S+\.(?:csv|parquet))(?:, column '(?P<col>.*?)')?"
                        r": (?P<rule>\S.*)")


def run_case(case: Case, params: Path, scratch: Path, keep: bool = False) -> Outcome:
    """Run ``churnml ingest`` on ``case`` in a fresh folder under ``scratch``; check it.

    The folder is removed afterwards unless ``keep`` (then it is ``outcome.workdir``).
    """
    work = Path(tempfile.mkdtemp(dir=scratch))
    try:
        write_case(case, work / "raw")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--params", str(params), "ingest", "--data", str(work / "raw"),
                         "--out", str(work / "interim")])
        text = out.getvalue() + err.getvalue()
        lost, problems = 0, []
        if "Traceback" in text:
            problems.append("traceback in output")
        if code not in (0, 2, 3):
            problems.append(f"exit code {code}")
        if code == 2:
            problems += _check_error(case, text)
        elif case.must_fail:
            problems.append(f"exit {code}, expected 2 for {case.must_fail}")
        if code in (0, 3):
            lost, found = _check_rows(case, work / "interim")
            problems += found
        return Outcome(code, lost, problems, text, work if keep else None)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def _check_error(case: Case, text: str) -> list[str]:
    match = ERROR_LINE.search(text)
    if match is None:
        return [f"exit 2 without an error line naming a data file: {text[-300:]!r}"]
    if case.must_fail:
        table, column = case.must_fail
        if not match["file"].endswith(case.file(table)):
            return []  # another table failed first (tables are read in a fixed order)
        if column is not None and match["col"] is not None and column not in match["col"]:
            return [f"error names column {match['col']!r}, expected {column!r}"]
        if column is not None and match["col"] is None:
            return [f"error does not name column {column!r}: {match.group(0)!r}"]
    return []


def _check_rows(case: Case, interim: Path) -> tuple[int, list[str]]:
    """rows in = kept + quarantined for every table, and the bad rows are quarantined."""
    manifest = pd.read_json(interim / "manifest.json", typ="series")
    counts = manifest["counts"]
    quarantine = pd.read_parquet(interim / "quarantine.parquet")
    lost, problems = 0, []
    for table, frame in case.frames.items():
        if table not in counts:
            problems.append(f"{table}: no counts in the manifest")
            lost += len(frame)
            continue
        kept = len(pd.read_parquet(interim / f"{table}.parquet"))
        reasons = quarantine[quarantine["table"] == table]
        lost += abs(len(frame) - kept - len(reasons))
        c = counts[table]
        if not len(frame) == c["rows_in"] == kept + len(reasons) == (
                c["rows_kept"] + c["rows_quarantined"]):
            problems.append(f"{table}: {len(frame)} rows written, manifest {c}, {kept} kept, "
                            f"{len(reasons)} quarantined")
        missing = case.bad_rows(table) - set(reasons["source_row"])
        if missing:
            problems.append(f"{table}: bad rows {sorted(missing)} not quarantined")
        if reasons["rule"].eq("").any() or reasons["source_row"].duplicated().any():
            problems.append(f"{table}: a quarantined row without one reason")
    return lost, problems
