"""csv_text.csv_bytes writes what DataFrame.to_csv writes, byte for byte, faster."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from churnml.csv_text import csv_bytes, quote_minimal

TO_CSV = {"index": False, "lineterminator": "\n", "float_format": "%.10g"}
TRICKY = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t\'=-é')), max_size=6)


def _same(frame: pd.DataFrame) -> None:
    assert csv_bytes(frame, "%.10g") == frame.to_csv(**TO_CSV).encode()


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.one_of(st.none(), TRICKY),
                               st.one_of(st.none(), st.floats(allow_nan=True, width=64)),
                               st.one_of(st.none(), st.booleans()), st.integers(-99, 99)),
                     min_size=1, max_size=12))
def test_csv_bytes_equal_to_csv_for_any_cells(rows):
    text, floats, flags, ints = zip(*rows, strict=True)
    frame = pd.DataFrame({
        "text": pd.array(text, dtype="str"), "string": pd.array(text, dtype="string"),
        "object": np.array(text, dtype=object),
        "float": np.array([np.nan if f is None else f for f in floats], dtype=float),
        "flag": pd.array(flags, dtype="boolean"), "int": np.array(ints),
        "as_of": pd.Timestamp("2025-07-01"), "label, quoted \"": "x"})
    _same(frame)
    for column in frame.columns:  # one column: a lone empty cell is written ""
        _same(frame[[column]])


def test_csv_bytes_of_a_scored_list_like_frame():
    rng = np.random.default_rng(0)
    n = 2000
    p = rng.random(n)
    p[rng.random(n) < 0.3] = np.nan
    frame = pd.DataFrame({
        "customer_id": pd.array([f"C{i:08d}" for i in range(n)], dtype="str"),
        "as_of": np.full(n, np.datetime64("2025-07-01", "us")), "p_attrition": p,
        "value": (rng.random(n) * 1000).round(2), "holdout": rng.random(n) < 0.05,
        "reason_1": pd.array(np.where(rng.random(n) < 0.2, "3 purchases in the last 30 days, "
                                      "down from 5", None), dtype="string"),
        "when": pd.to_datetime(rng.integers(0, 10**9, n), unit="s")})
    _same(frame)
    _same(frame.iloc[:0])


def test_quote_minimal_quotes_like_the_csv_module():
    cells = pa.array(['a,b', 'say "hi"', "two\nlines", "cr\ronly", "plain", ""],
                     type=pa.large_string())
    assert quote_minimal(cells).to_pylist() == [
        '"a,b"', '"say ""hi"""', '"two\nlines"', "cr\ronly", "plain", ""]


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(TRICKY, min_size=1, max_size=8), start=st.integers(0, 3))
def test_quote_minimal_same_for_whole_sliced_and_plain_string_arrays(cells, start):
    """The character-buffer shortcut (whole arrays) and the regular expression (a
    slice, offset > 0) quote exactly the cells the csv module quotes."""
    def csv_module(cell: str) -> str:  # two fields: a lone empty one would be quoted
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow([cell, "y"])
        return out.getvalue()[:-len(",y\n")]

    whole = pa.array(cells, type=pa.large_string())
    sliced = whole.slice(min(start, len(cells) - 1))
    expected = [csv_module(c) for c in cells]
    assert quote_minimal(whole).to_pylist() == expected
    assert quote_minimal(sliced).to_pylist() == expected[min(start, len(cells) - 1):]


MIXED = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from([-0.0, 0.0]),
                  st.floats(-2, 2),
                  st.sampled_from([1.0, 2.0, -1.0, float("nan")]), TRICKY)


def test_an_object_column_mixing_true_1_and_1_0_is_written_cell_by_cell():
    # True == 1 == 1.0 and 0.0 == -0.0, so grouping equal values before formatting wrote
    # the first one's text for all of them ("x,1,1" for ["x", 1, 1.0]); a lone "\r" in
    # such a column made the csv module's reader fail
    for cells in (["x", 1, 1.0], ["x", 1.0, 1], [0, False, "x"], [True, 1, 1.0, None],
                  [0.0, -0.0, "x"], [1, True], [2.5, "2.5", None, np.nan], ["a\rb", 1],
                  [Decimal("1.0"), Decimal("1")],
                  [dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=1))),
                   dt.datetime(2024, 1, 1, 11, tzinfo=dt.UTC)]):
        frame = pd.DataFrame({"k": range(len(cells)), "a": pd.Series(cells, dtype=object)})
        _same(frame)
        _same(frame[["a"]])


@settings(max_examples=80, deadline=None)
@given(cells=st.lists(MIXED, min_size=1, max_size=10))
def test_csv_bytes_equal_to_csv_for_mixed_object_columns(cells):
    frame = pd.DataFrame({"a": pd.Series(cells, dtype=object), "b": range(len(cells))})
    _same(frame)
