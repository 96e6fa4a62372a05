"""Adapter ``completejourney``: 84.51° The Complete Journey 2.0 sample.

* ``transactions``: the transaction sample; ``discount`` = the sum of the configured
  discount columns; nothing in the sample is a return;
* ``campaigns``: one row per household and campaign (``campaigns.csv`` joined with
  ``campaign_descriptions.csv`` for the start date); a household that redeemed a
  coupon of that campaign has ``redeemed`` true and ``responded_ts`` = its first
  redemption. A redemption with no campaign row becomes a campaign row without a
  start date, which ingest quarantines (``missing_ts``) rather than losing;
* ``customers``: every household seen in any file, with demographics where known,
  signed up at its first transaction or campaign.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from churnml.ingest import SOURCE_ROW
from churnml.sources import RawData, input_dir, mapped
from churnml.sources.files import read_file
from churnml.sources.parsing import TableSpec

DERIVED_ROW = 0  # _source_row of a row built from several files


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.astype("string").str.strip(), errors="coerce")


def with_discount(transactions: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Sum the discount columns into ``discount`` (as text) and drop them."""
    total = sum(_numbers(transactions[c]).fillna(0.0) for c in columns)
    return transactions.drop(columns=columns).assign(discount=total.map(repr),
                                                     is_return="false")


def with_redemptions(campaigns: pd.DataFrame, redemptions: pd.DataFrame) -> pd.DataFrame:
    """Mark redeemed campaign rows; append redemptions that match no campaign row."""
    first = (redemptions.sort_values("ts", kind="stable")
             .drop_duplicates(["customer_id", "offer_id"]).rename(columns={"ts": "responded_ts"}))
    keys = ["customer_id", "offer_id"]
    out = campaigns.merge(first[[*keys, "responded_ts"]], on=keys, how="left",
                          validate="many_to_one")
    out["redeemed"] = out["responded_ts"].notna().map({True: "true", False: "false"})
    orphans = first.merge(campaigns[keys].drop_duplicates(), on=keys, how="left",
                          indicator=True).query("_merge == 'left_only'")
    if len(orphans):
        extra = orphans[[*keys, "responded_ts"]].assign(ts="", redeemed="true",
                                                        **{SOURCE_ROW: DERIVED_ROW})
        out = pd.concat([out, extra], ignore_index=True)
    return out


def households(transactions: pd.DataFrame, campaigns: pd.DataFrame,
               demographics: pd.DataFrame) -> pd.DataFrame:
    """One row per household: demographics if known, signup at first activity."""
    stamps = pd.concat([transactions[["customer_id", "ts"]], campaigns[["customer_id", "ts"]]])
    stamps = stamps.assign(_t=pd.to_datetime(stamps["ts"].astype("string"), format="ISO8601",
                                             errors="coerce")).dropna(subset=["_t"])
    first = stamps.sort_values("_t", kind="stable").drop_duplicates("customer_id")
    ids = pd.Index(pd.concat([demographics["customer_id"], stamps["customer_id"]])
                   .astype(str).unique(), name="customer_id")
    out = demographics.assign(customer_id=demographics["customer_id"].astype(str))
    out = out.set_index("customer_id").reindex(ids).reset_index()
    out[SOURCE_ROW] = out[SOURCE_ROW].fillna(DERIVED_ROW).astype("int64")
    out["signup_date"] = out["customer_id"].map(first.assign(
        customer_id=first["customer_id"].astype(str)).set_index("customer_id")["ts"])
    return out


def load(data_cfg: dict[str, Any], root: Path) -> RawData:
    """Transactions, campaigns with redemptions, and households from the CSV files."""
    folder, opts = input_dir(data_cfg, root), data_cfg["adapter"]
    tz = data_cfg.get("timezone") or mapped.DEFAULT_TIMEZONE
    tables, specs = {}, {}
    for name in ("transactions", "campaigns", "customers"):
        derived = ("signup_date",) if name == "customers" else ()
        tables[name], specs[name] = mapped.map_table(name, data_cfg["tables"][name], folder,
                                                     root, tz, derived)
    tables["transactions"] = with_discount(tables["transactions"],
                                           list(opts["discount_columns"]))
    red = opts["redemptions"]
    redemptions = read_file(folder / red["file"])
    redemptions = mapped.map_frame("campaigns", redemptions.assign(**{SOURCE_ROW: 0}), {
        "columns": {k: red[k] for k in ("customer_id", "offer_id", "ts")}}, red["file"])
    tables["campaigns"] = with_redemptions(tables["campaigns"], redemptions)
    tables["customers"] = households(tables["transactions"], tables["campaigns"],
                                     tables["customers"])
    specs["customers"] = TableSpec(specs["customers"].file, {
        **specs["customers"].columns, "signup_date": "first transaction or campaign"}, {}, tz)
    specs["campaigns"] = TableSpec(specs["campaigns"].file, {
        **specs["campaigns"].columns, "responded_ts": f"first {red['ts']} in {red['file']}"},
        {}, tz, specs["campaigns"].types)
    return RawData(tables, specs, mode="events")
