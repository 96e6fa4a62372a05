"""The PII scanner on hand-built frames and texts (the pipeline-wide scan is in
tests/test_privacy_pipeline.py)."""

from __future__ import annotations

import pandas as pd

from churnml.privacy import Hit, frame_text, pii_needles, scan

CUSTOMERS = pd.DataFrame({"customer_id": ["c1", "c2"], "name": ["Kato Mira", "Al"],
                          "email": ["kato.mira@example.org", None],
                          "phone": ["+44 7700 123456", "+44 7700 654321"]})
EVENTS = pd.DataFrame({"customer_id": ["c1"], "text": ["Complaint from Kato Mira: late"]})
PII = ["name", "email", "phone", "text"]


def test_needles_are_lowercased_long_enough_and_phones_also_as_digits():
    needles = pii_needles([CUSTOMERS, EVENTS], PII)
    assert needles["name"] == {"kato mira"}  # "Al" is too short to search for
    assert needles["email"] == {"kato.mira@example.org"}
    assert {"447700123456", "+44 7700 654321"} <= needles["phone"]
    assert needles["text"] == {"complaint from kato mira: late"}
    assert "customer_id" not in needles


def test_a_numeric_phone_column_with_a_gap_is_searched_as_its_digits():
    # Parquet or CSV read without dtype=str: one missing phone makes the column float.
    raw = pd.DataFrame({"customer_id": ["c1", "c2"], "Mobile_Phone": [4915112345678, None]})
    needles = pii_needles([raw], ["Mobile_Phone"])
    assert needles["Mobile_Phone"] == {"4915112345678"}
    assert scan({"log": "sms sent to 4915112345678"}, needles) == [
        Hit("log", "Mobile_Phone", "4915112345678")]


def test_scan_finds_each_value_once_per_source_case_insensitively():
    needles = pii_needles([CUSTOMERS, EVENTS], PII)
    hits = scan({"log": "scored KATO MIRA twice: kato mira", "csv": "c1,0.3\nc2,0.7",
                 "db": "tag=447700654321"}, needles)
    assert hits == [Hit("log", "name", "kato mira"), Hit("db", "phone", "447700654321")]


def test_frame_text_holds_names_and_text_values_not_floats():
    frame = pd.DataFrame({"who": ["Kato Mira"], "n": [1], "p": [0.25],
                          "cat": pd.Categorical(["x"])})
    text = frame_text(frame)
    assert "Kato Mira" in text and "who" in text and "x" in text.splitlines()
    assert "0.25" not in text
    assert scan({"f": text}, pii_needles([CUSTOMERS], PII)) == [Hit("f", "name", "kato mira")]


def test_needles_come_from_pii_columns_whatever_their_case_and_spacing():
    frame = pd.DataFrame({"E-Mail": ["x"], "Email ": ["Al.Smith@example.com"]})
    assert pii_needles([frame], ["email"]) == {"Email ": {"al.smith@example.com"}}
