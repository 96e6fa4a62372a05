"""Adapter ``hillstrom``: Kevin Hillstrom's MineThatData e-mail experiment (2008).

64,000 customers who bought in the last 12 months, randomised to a men's e-mail, a
women's e-mail or no e-mail (``control``), with two-week outcomes (visit, conversion,
spend). The file has one row per customer and no customer id, dates or log, so:

* ``campaigns``: one row per customer, ``offer_id`` from ``segment``, at
  ``adapter.campaign_date`` (a placeholder: the file gives no date), ``redeemed`` =
  conversion, outcomes ``visit, conversion, spend`` kept for uplift models;
* ``customers``: id ``<id_prefix><row>``, attributes ``recency_months, history, mens,
  womens, area, newbie, channel``; signup = campaign date - recency (their last
  purchase, the latest possible signup);
* ``transactions``: two summary lines per customer, for the contract's events mode -
  the past year's spend (``history``) at the last purchase, and the conversion spend
  at the campaign date. Churn models on these are not meaningful; the data set is for
  uplift models (DESIGN §9).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from churnml.contract import present
from churnml.ingest import SOURCE_ROW
from churnml.sources import RawData, input_dir, mapped
from churnml.sources.parsing import TableSpec

DAYS_PER_MONTH = 365.25 / 12
ID_DIGITS = 5
ATTRIBUTES = ("recency_months", "history", "mens", "womens", "area", "newbie", "channel")
OUTCOMES = ("visit", "conversion", "spend")


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.astype("string").str.strip(), errors="coerce")


def last_purchase(recency: pd.Series, campaign_date: str) -> pd.Series:
    """ISO dates ``campaign_date - recency months``; the raw value where not a number."""
    days = pd.to_timedelta(_numbers(recency) * DAYS_PER_MONTH, unit="D")
    dates = (pd.Timestamp(campaign_date) - days).dt.normalize().dt.strftime("%Y-%m-%d")
    return dates.astype("string").fillna("recency=" + recency.astype("string").fillna(""))


def summary_transactions(rows: pd.DataFrame, signup: pd.Series,
                         campaign_date: str) -> pd.DataFrame:
    """Past-year spend at the last purchase, plus the conversion spend at the campaign."""
    history = pd.DataFrame({"customer_id": rows["customer_id"], "ts": signup,
                            "amount": rows["history"], "category": "past_year_total",
                            SOURCE_ROW: rows[SOURCE_ROW]})
    converted = present(rows["spend"]) & (_numbers(rows["spend"]) > 0)
    spend = pd.DataFrame({"customer_id": rows.loc[converted, "customer_id"],
                          "ts": campaign_date, "amount": rows.loc[converted, "spend"],
                          "category": "campaign_conversion",
                          SOURCE_ROW: rows.loc[converted, SOURCE_ROW]})
    return pd.concat([history, spend], ignore_index=True)


def load(data_cfg: dict[str, Any], root: Path) -> RawData:
    """One row per customer of the experiment -> customers, campaigns, transactions."""
    folder, opts = input_dir(data_cfg, root), data_cfg["adapter"]
    campaign_date = str(opts["campaign_date"])
    rows, spec = mapped.map_table("campaigns", data_cfg["tables"]["campaigns"], folder, root,
                                  data_cfg.get("timezone") or mapped.DEFAULT_TIMEZONE,
                                  derived=("customer_id", "ts"))
    rows["customer_id"] = str(opts["id_prefix"]) + rows[SOURCE_ROW].astype(str).str.zfill(
        ID_DIGITS)
    last = last_purchase(rows["recency_months"], campaign_date)
    customers = rows[["customer_id", *ATTRIBUTES, SOURCE_ROW]].assign(signup_date=last)
    campaigns = rows[["customer_id", "offer_id", *OUTCOMES, SOURCE_ROW]].assign(
        ts=campaign_date, redeemed=rows["conversion"])
    source = spec.columns
    ids = f"row number with prefix {opts['id_prefix']}"
    signup = f"campaign date - {source['recency_months']} months"
    specs = {
        "customers": TableSpec(spec.file, {**source, "customer_id": ids, "signup_date": signup},
                               {}, spec.timezone),
        "campaigns": TableSpec(spec.file, {**source, "customer_id": ids,
                                           "ts": "adapter.campaign_date",
                                           "redeemed": source["conversion"]}, {}, spec.timezone),
        "transactions": TableSpec(spec.file, {"customer_id": ids, "amount": f"{source['history']}"
                                              f" or {source['spend']}"}, {}, spec.timezone),
    }
    tables = {"customers": customers, "campaigns": campaigns,
              "transactions": summary_transactions(rows, last, campaign_date)}
    return RawData(tables, specs, mode="events", notes={"campaign_date": campaign_date})
