"""Bad input through the CLI: a non-zero exit and one message naming file, column, rule
and an example - never a traceback - and no row lost without a quarantine reason."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from churnml import config
from churnml.cli import main

GOOD_CUSTOMERS = "customer_id,signup_date,region\nc1,2024-01-01,north\nc2,2024-01-02,south\n" \
                 "c3,2024-01-03,east\nc4,2024-01-04,west\n"
GOOD_TX = "customer_id,ts,amount\nc1,2024-02-01T10:00:00,10.5\nc2,2024-02-02T10:00:00,3\n" \
          "c3,2024-02-03T10:00:00,7\nc4,2024-02-04T10:00:00,1\n"
GOOD_EVENTS = "customer_id,ts,event_type\nc1,2024-02-01T10:00:00,complaint\n" \
              "c2,2024-02-02T10:00:00,support_contact\nc3,2024-02-03T10:00:00,referral\n" \
              "c4,2024-02-04T10:00:00,complaint\n"


@pytest.fixture(scope="module")
def params_file(tmp_path_factory, project_root) -> Path:
    """The project's composed config (default data set), in a throw-away file."""
    path = tmp_path_factory.mktemp("params") / "params.yaml"
    path.write_text(config.dump_params(config.compose(project_root / "conf")))
    return path


def _folder(tmp_path: Path, **tables: str | bytes) -> Path:
    files = {"customers.csv": GOOD_CUSTOMERS, "transactions.csv": GOOD_TX,
             "events.csv": GOOD_EVENTS}
    files.update({f"{name}.csv": text for name, text in tables.items()})
    folder = tmp_path / "data"
    folder.mkdir()
    for name, text in files.items():
        if text is None:
            continue
        (folder / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    return folder


def _run(params_file: Path, *argv: str, capsys) -> tuple[int, str]:
    code = main(["--params", str(params_file), *argv])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Traceback" not in text
    return code, " ".join(text.split())


def test_clean_folder_validates_with_exit_0(tmp_path, params_file, capsys):
    code, text = _run(params_file, "validate", "--data", str(_folder(tmp_path)), capsys=capsys)
    assert code == 0 and "OK" in text


# (table, file content, exit code, words the message must contain: file, column, rule, example)
BAD_INPUTS = {
    "missing required column": (
        "transactions", "customer_id,when,amount\nc1,2024-02-01,1\n", 2,
        ["transactions.csv", "'ts'", "required column missing", "when"]),
    "wrong type (whole column)": (
        "transactions", "customer_id,ts,amount\nc1,2024-02-01,ten\nc2,2024-02-01,n/a\n", 2,
        ["transactions.csv", "'amount'", "wrong type", "ten"]),
    "wrong type (some rows)": (
        "transactions", GOOD_TX + "c1,2024-02-05T10:00:00,12 EUR\n", 3,
        ["transactions.csv", "'amount'", "unparseable_amount", "12 EUR"]),
    "unparseable or mixed-format dates": (
        "transactions", GOOD_TX + "c1,05/02/2024 10:00,4\n", 3,
        ["transactions.csv", "'ts'", "unparseable_ts", "05/02/2024 10:00"]),
    "mixed-format dates (day first among ISO)": (
        "transactions", GOOD_TX + "c2,05.02.2024,4\nc3,05.02.2024 10:00,5\n", 3,
        ["transactions.csv", "'ts'", "unparseable_ts", "05.02.2024"]),
    "out-of-range dates": (
        "transactions", GOOD_TX + "c2,9999-12-31,4\n", 3,
        ["transactions.csv", "'ts'", "out_of_range_ts", "9999-12-31"]),
    "a number too large for a float": (
        "transactions", GOOD_TX + "c1,2024-02-05T10:00:00,1e400\n", 3,
        ["transactions.csv", "'amount'", "unparseable_amount", "1e400"]),
    "mixed time zones": (
        "transactions", GOOD_TX + "c1,2024-02-05T10:00:00+01:00,4\n", 2,
        ["transactions.csv", "'ts'", "mixed time zones", "+01:00"]),
    "duplicate customer ids": (
        "customers", GOOD_CUSTOMERS + "c2,2024-03-01,north\n", 3,
        ["customers.csv", "'customer_id'", "duplicate_customer_id", "c2"]),
    "empty file": (
        "customers", "", 2, ["customers.csv", "file is empty", "customer_id", "signup_date"]),
    "header-only file": (
        "customers", "customer_id,signup_date,region\n", 2,
        ["customers.csv", "header but no rows", "region"]),
    "unknown event type": (
        "events", GOOD_EVENTS + "c1,2024-02-05T10:00:00,angry tweet\n", 3,
        ["events.csv", "'event_type'", "unknown_event_type", "angry tweet"]),
    "events before signup": (
        "events", GOOD_EVENTS + "c4,2023-12-31T10:00:00,complaint\n", 3,
        ["events.csv", "'ts'", "before_signup", "2023-12-31"]),
    "non-UTF-8 bytes": (
        "customers", GOOD_CUSTOMERS.encode() + "c5,2024-01-05,M\xfcnchen\n".encode("latin-1"),
        2, ["customers.csv", "'region'", "not valid utf-8 text at line 6", "xfc", "encoding"]),
    "CSV-injection string in a text field": (
        "customers", GOOD_CUSTOMERS + 'c5,2024-01-05,"=HYPERLINK(""http://x"",""y"")"\n', 3,
        ["customers.csv", "'region'", "formula_like_text", "=HYPERLINK"]),
    "negative amount that is not a return": (
        "transactions", GOOD_TX + "c1,2024-02-05T10:00:00,-40\n", 3,
        ["transactions.csv", "'amount'", "negative_amount_not_return", "-40"]),
    "every customer quarantined (no data left to place the window)": (
        "customers", "customer_id,signup_date,region\n,2024-01-01,north\n ,2024-01-02,east\n", 3,
        ["customers.csv", "'customer_id'", "missing_customer_id", "<missing>"]),
    "a value past the header's last column on every row": (
        "customers", "customer_id,signup_date,region\nc1,2024-01-01,north,Berlin\n"
        "c2,2024-01-02,south,Rome\n", 2,
        ["customers.csv", "row 1 has more fields than the header", "Berlin"]),
    "missing customer id": (
        "transactions", GOOD_TX + ",2024-02-05T10:00:00,4\n", 3,
        ["transactions.csv", "'customer_id'", "missing_customer_id", "<missing>"]),
}


def test_a_separator_at_the_end_of_every_line_is_accepted(tmp_path, params_file, capsys):
    # pandas took the first column for the index of such a file: every column shifted
    # left, the ids vanished and every customer was quarantined under a wrong reason.
    trailing = "\n".join(line + "," for line in GOOD_CUSTOMERS.splitlines()[1:]) + "\n"
    folder = _folder(tmp_path, customers="customer_id,signup_date,region\n" + trailing)
    code, text = _run(params_file, "validate", "--data", str(folder), capsys=capsys)
    assert code == 0, text


@pytest.mark.parametrize("case", list(BAD_INPUTS))
@pytest.mark.parametrize("command", ["validate", "ingest"])
def test_bad_input_exits_non_zero_with_an_actionable_message(case, command, tmp_path,
                                                             params_file, capsys):
    table, content, expected, words = BAD_INPUTS[case]
    folder = _folder(tmp_path, **{table: content})
    argv = ["validate", "--data", str(folder)] if command == "validate" else [
        "ingest", "--data", str(folder), "--out", str(tmp_path / "interim")]
    code, text = _run(params_file, *argv, capsys=capsys)
    assert code == expected, text
    low = text.lower()
    for word in words:
        assert word.lower() in low, f"{word!r} missing from: {text}"


@pytest.mark.parametrize("case", [c for c, v in BAD_INPUTS.items() if v[2] == 3])
def test_no_row_disappears_without_a_quarantine_reason(case, tmp_path, params_file, capsys):
    table, content, _, _ = BAD_INPUTS[case]
    folder = _folder(tmp_path, **{table: content})
    out = tmp_path / "interim"
    code, _ = _run(params_file, "ingest", "--data", str(folder), "--out", str(out),
                   capsys=capsys)
    assert code == 3
    counts = json.loads((out / "manifest.json").read_text())["counts"]
    quarantine = pd.read_parquet(out / "quarantine.parquet")
    for name, c in counts.items():
        raw_rows = len(pd.read_csv(folder / f"{name}.csv", dtype=str))
        kept = pd.read_parquet(out / f"{name}.parquet")
        reasons = quarantine[quarantine["table"] == name]
        assert c["rows_in"] == raw_rows == len(kept) + len(reasons) == (
            c["rows_kept"] + c["rows_quarantined"])
        assert reasons["rule"].str.len().gt(0).all() and reasons["source_row"].is_unique
    assert len(quarantine) >= 1


def test_validate_report_lists_rules_with_examples_and_escapes_markup(tmp_path, params_file,
                                                                      capsys):
    folder = _folder(tmp_path, events=GOOD_EVENTS + "c1,2024-02-05T10:00:00,[bold]x[/bold]\n")
    code, text = _run(params_file, "validate", "--data", str(folder), capsys=capsys)
    assert code == 3
    assert "unknown_event_type" in text and "[bold]x[/bold]" in text
    assert "over tolerance" in text and "TOO MANY ROWS QUARANTINED" in text


def test_validate_collects_every_table_level_error(tmp_path, params_file, capsys):
    folder = _folder(tmp_path, customers="", events="customer_id,ts\nc1,2024-01-01\n")
    code, text = _run(params_file, "validate", "--data", str(folder), capsys=capsys)
    assert code == 2
    assert "file is empty" in text and "'event_type'" in text and "INVALID" in text


def test_validate_with_a_mapping_reads_the_users_own_files(tmp_path, params_file, capsys):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "kunden.csv").write_text("Nr;Seit\n1;31.01.2024\n2;01.02.2024\n")
    (folder / "orders.csv").write_text("Nr;Zeit;Summe\n1;05.02.2024 10:00;9,50\n")
    mapping = tmp_path / "mine.yaml"
    mapping.write_text(
        "source: mapped\ntimezone: Europe/Berlin\ntables:\n"
        "  customers: {file: kunden.csv, read: {sep: ';'},"
        " columns: {customer_id: Nr, signup_date: Seit}, date_formats: {signup_date: '%d.%m.%Y'}}\n"
        "  transactions: {file: orders.csv, read: {sep: ';'},"
        " columns: {customer_id: Nr, ts: Zeit, amount: Summe},"
        " date_formats: {ts: '%d.%m.%Y %H:%M'}}\n")
    code, text = _run(params_file, "validate", "--data", str(folder), "--mapping", str(mapping),
                      capsys=capsys)
    assert code == 2  # "9,50" uses a decimal comma: the only amount, so a wrong-type error
    assert "orders.csv" in text and "Summe" in text and "9,50" in text and "decimal" in text
    mapping.write_text(mapping.read_text().replace("orders.csv, read: {sep: ';'}",
                                                   "orders.csv, read: {sep: ';', decimal: ','}"))
    code, text = _run(params_file, "validate", "--data", str(folder), "--mapping", str(mapping),
                      capsys=capsys)
    assert code == 0, text


def test_missing_data_folder_exits_2(tmp_path, params_file, capsys):
    code, text = _run(params_file, "validate", "--data", str(tmp_path / "nope"), capsys=capsys)
    assert code == 2 and "data folder not found" in text
