"""Adapter ``online_retail``: the UCI Online Retail invoice lines (DESIGN §14).

One CSV of invoice lines (``InvoiceNo, StockCode, Description, Quantity,
InvoiceDate, UnitPrice, CustomerID, Country``) becomes

* ``transactions``: every line, ``amount = Quantity * UnitPrice``; a cancelled
  invoice (``InvoiceNo`` starting with ``C``) is a return (``is_return``);
* ``events``: one bad-experience event (``adapter.cancellation_event``) per
  cancelled invoice, valued at the cancelled amount;
* ``customers``: one per ``CustomerID``, signed up at their first invoice line,
  ``region`` = their most frequent ``Country``.

Lines without a ``CustomerID`` are kept with a blank id, so ingest quarantines them
(``missing_customer_id``) instead of their disappearing silently. ``Description``
is free text and is never read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from churnml.contract import present
from churnml.ingest import SOURCE_ROW
from churnml.sources import RawData, input_dir, mapped
from churnml.sources.parsing import TableSpec

FLOAT_ID_SUFFIX = r"\.0+$"  # CustomerID is written as 17850.0
AMOUNT_DECIMALS = 6  # quantity x price without binary noise (6 * 2.55 = 15.3, not 15.2999...)


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.astype("string").str.strip(), errors="coerce")


def line_amounts(lines: pd.DataFrame) -> pd.Series:
    """``quantity * unit_price`` as text; the original cells where either is not a number."""
    amount = (_numbers(lines["quantity"]) * _numbers(lines["unit_price"])).round(AMOUNT_DECIMALS)
    original = ("Quantity=" + lines["quantity"].astype("string").fillna("")
                + " UnitPrice=" + lines["unit_price"].astype("string").fillna(""))
    return amount.map(repr, na_action="ignore").astype("string").fillna(original)


def customers_from_lines(lines: pd.DataFrame, ts_format: str | None) -> pd.DataFrame:
    """One row per customer id: first line's timestamp as signup, most frequent country."""
    known = lines[present(lines["customer_id"])]
    parsed = pd.to_datetime(known["ts"].astype("string"), format=ts_format or "ISO8601",
                            errors="coerce")
    first = (known.assign(_t=parsed).sort_values(["customer_id", "_t", SOURCE_ROW],
                                                  na_position="last", kind="stable")
             .drop_duplicates("customer_id"))
    countries = (known.groupby(["customer_id", "country"], sort=False).size()
                 .rename("n").reset_index()
                 .sort_values(["customer_id", "n"], ascending=[True, False], kind="stable")
                 .drop_duplicates("customer_id").set_index("customer_id")["country"])
    return pd.DataFrame({"customer_id": first["customer_id"].to_numpy(),
                         "signup_date": first["ts"].to_numpy(),
                         "region": first["customer_id"].map(countries).to_numpy(),
                         SOURCE_ROW: first[SOURCE_ROW].to_numpy()})


def cancellation_events(lines: pd.DataFrame, cancelled: pd.Series, event: str) -> pd.DataFrame:
    """One event per cancelled invoice, at its first line, valued at the amount refunded."""
    rows = lines[cancelled].assign(_amount=_numbers(lines.loc[cancelled, "amount"]))
    grouped = rows.groupby("invoice", sort=False)
    first = grouped.head(1).set_index("invoice")
    return pd.DataFrame({"customer_id": first["customer_id"].to_numpy(),
                         "ts": first["ts"].to_numpy(), "event_type": event,
                         "value": (-grouped["_amount"].sum()).reindex(first.index)
                         .map(repr).to_numpy(),
                         SOURCE_ROW: first[SOURCE_ROW].to_numpy()})


def load(data_cfg: dict[str, Any], root: Path) -> RawData:
    """Read the invoice lines and derive transactions, events and customers."""
    folder, opts = input_dir(data_cfg, root), data_cfg["adapter"]
    table_cfg = data_cfg["tables"]["transactions"]
    lines, spec = mapped.map_table("transactions", table_cfg, folder, root,
                                   data_cfg.get("timezone") or mapped.DEFAULT_TIMEZONE,
                                   derived=("amount",))
    lines["customer_id"] = lines["customer_id"].astype("string").str.strip().str.replace(
        FLOAT_ID_SUFFIX, "", regex=True)
    lines["amount"] = line_amounts(lines)
    cancelled = lines["invoice"].astype("string").str.startswith(
        str(opts["cancellation_prefix"])).fillna(False)
    transactions = lines[["customer_id", "ts", "amount", "product_id", SOURCE_ROW]].assign(
        is_return=cancelled.map({True: "true", False: "false"}))
    source = table_cfg["columns"]
    derived = {"amount": f"{source['quantity']} * {source['unit_price']}",
               "is_return": f"{source['invoice']} starts with {opts['cancellation_prefix']}"}
    specs = {
        "transactions": TableSpec(spec.file, {**spec.columns, **derived}, spec.date_formats,
                                  spec.timezone),
        "customers": TableSpec(spec.file, {"signup_date": f"first {source['ts']}",
                                           "region": source["country"],
                                           "customer_id": source["customer_id"]},
                               {"signup_date": spec.date_formats.get("ts")}, spec.timezone),
        "events": TableSpec(spec.file, {"customer_id": source["customer_id"],
                                        "ts": source["ts"], "event_type": derived["is_return"]},
                            spec.date_formats, spec.timezone),
    }
    tables = {"customers": customers_from_lines(lines, spec.date_formats.get("ts")),
              "transactions": transactions,
              "events": cancellation_events(lines, cancelled, str(opts["cancellation_event"]))}
    return RawData(tables, specs, mode="events",
                   notes={"lines": len(lines), "cancelled_lines": int(cancelled.sum())})
