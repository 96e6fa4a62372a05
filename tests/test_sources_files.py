"""Reading a user's CSV: the header row is checked as written, not as pandas renames it."""

from __future__ import annotations

import csv

import pytest

from churnml.errors import ContractError
from churnml.sources.files import read_file


def _csv(tmp_path, text: str):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("header", ["a,a.1,b", "Unnamed: 0,b,c", '"a,b",a.b,b'])
def test_a_header_whose_names_only_look_renamed_is_read_as_written(tmp_path, header):
    # pandas renames a repeated `a` to `a.1` and an empty name to `Unnamed: 0`; real
    # names that look like that are fine
    frame = read_file(_csv(tmp_path, f"{header}\n1,2,3\n"))
    assert list(frame.columns) == next(csv.reader([header]))


@pytest.mark.parametrize(("header", "rule"), [("a,a,b", "same column twice"),
                                              ("a,,b", "empty column name"),
                                              ("a, ,b", "empty column name")])
def test_a_repeated_or_empty_header_name_is_refused(tmp_path, header, rule):
    with pytest.raises(ContractError, match=rule):
        read_file(_csv(tmp_path, f"{header}\n1,2,3\n"))


def test_a_separator_of_several_characters_splits_the_header_as_pandas_does(tmp_path):
    frame = read_file(_csv(tmp_path, "a::a.1\n1::2\n"), {"sep": "::"})
    assert list(frame.columns) == ["a", "a.1"]
    with pytest.raises(ContractError, match="same column twice"):
        read_file(_csv(tmp_path, "a::a\n1::2\n"), {"sep": "::"})
