"""Adapter ``telco``: IBM Telco customer churn, v11 five-table edition (snapshot mode).

``telco_status.csv`` (the label: ``Churn Value``, ``Churn Category``), joined on
``Customer ID`` with ``telco_services.csv`` and ``telco_demographics.csv`` (the
attributes), becomes a single ``customers`` table that carries the label: the data
set is one picture of the customer base at the end of a quarter, with no transaction
log. The join and the column choice are plain mapping (``conf/data/telco.yaml``); the
only code is the signup date, which the files give as a tenure in months before
``data.snapshot.as_of``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from churnml.errors import ConfigError
from churnml.sources import RawData, input_dir, mapped
from churnml.sources.parsing import TableSpec

DAYS_PER_MONTH = 365.25 / 12


def signup_from_tenure(tenure_months: pd.Series, as_of: str, column: str) -> pd.Series:
    """ISO signup dates ``as_of - tenure`` (calendar months); a tenure that is not a number
    stays visible as ``<column>=<value>`` so that ingest quarantines the row with it."""
    months = pd.to_numeric(tenure_months.astype("string").str.strip(), errors="coerce")
    end = pd.Timestamp(as_of)
    dates = {m: (end - pd.DateOffset(months=int(m)) if float(m).is_integer()
                 else end - pd.Timedelta(days=float(m) * DAYS_PER_MONTH)).strftime("%Y-%m-%d")
             for m in months.dropna().unique()}
    signup = months.map(dates).astype("string")
    return signup.fillna(column + "=" + tenure_months.astype("string").fillna(""))


def load(data_cfg: dict[str, Any], root: Path) -> RawData:
    """Join the status, services and demographics files into one labelled customers table."""
    snapshot = data_cfg.get("snapshot") or {}
    if not snapshot.get("as_of"):
        raise ConfigError("data.snapshot.as_of is required by the telco adapter (the date the "
                          "customer table describes)")
    folder, opts = input_dir(data_cfg, root), data_cfg["adapter"]
    table_cfg = data_cfg["tables"]["customers"]
    frame, spec = mapped.map_table("customers", table_cfg, folder, root,
                                   data_cfg.get("timezone") or mapped.DEFAULT_TIMEZONE,
                                   derived=("signup_date",))
    tenure = opts["tenure_column"]
    if tenure not in frame:
        raise ConfigError(f"adapter.tenure_column={tenure!r} is not a mapped column of "
                          f"data.tables.customers.columns")
    frame["signup_date"] = signup_from_tenure(frame[tenure], snapshot["as_of"], tenure)
    columns = {**spec.columns,
               "signup_date": f"{snapshot['as_of']} - {spec.columns.get(tenure, tenure)} months"}
    spec = TableSpec(spec.file, columns, spec.date_formats, spec.timezone, spec.types)
    return RawData({"customers": frame}, {"customers": spec}, mode="snapshot")
