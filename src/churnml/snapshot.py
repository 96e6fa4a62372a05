"""Snapshot mode (``data.mode: snapshot``): one customers table that carries the label.

Some data sets (IBM Telco, most CRM extracts) are a single picture of the customer
base on one date: attributes per customer and a provided label ``churned`` (plus
``churn_category``), but no transaction log to build snapshots from. In this mode

* features are the customer's attributes at ``data.snapshot.as_of`` plus tenure;
  ``recency_days`` is missing (so the recency baseline ranks by tenure), and
  ``frequency`` / ``monetary`` are taken from the attributes when present, else 0;
* labels are the provided ``churned`` flag, for every customer (status ``active``);
* the split is random, stratified by the label (:func:`~churnml.models.split.
  stratified_split`), since there is no time to split on;
* there is no win-back model (nobody is observed coming back).

Every function here is pure: frames in, frames out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnml.contract import LABEL_COLUMNS
from churnml.features import FEATURE_KEY
from churnml.models.split import stratified_split
from churnml.scoring import SCORED_COLUMNS, risk_band
from churnml.status import ACTIVE, LAPSED

MODE = "snapshot"
KINDS = ("attrition",)  # models trained in snapshot mode
SKIPPED_FILE = "skipped.json"
SECONDS_PER_DAY = 86400.0
RFM_DEFAULTS = {"recency_days": np.nan, "frequency": 0.0, "monetary": 0.0}


def is_snapshot(data_cfg: dict[str, Any]) -> bool:
    """Whether the ``data`` params select snapshot mode."""
    return data_cfg.get("mode") == MODE


def _days_before(as_of: pd.Timestamp, ts: pd.Series) -> pd.Series:
    return (as_of - ts).dt.total_seconds() / SECONDS_PER_DAY


def snapshot_features(customers: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One feature row per customer as of ``as_of``.

    Parameters
    ----------
    customers
        Canonical customers: ``customer_id, signup_date`` plus attributes; the label
        columns ``churned, churn_category`` are dropped here, never used as features.

    Returns
    -------
    DataFrame
        ``customer_id, as_of, tenure_days, recency_days, frequency, monetary`` and the
        attributes (datetime attributes as days before ``as_of``), by customer id.
    """
    frame = customers.drop(columns=[c for c in LABEL_COLUMNS if c in customers.columns])
    frame = frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
    as_of = pd.Timestamp(as_of).as_unit("us")
    out = pd.DataFrame({"customer_id": frame["customer_id"],
                        "as_of": pd.Series(as_of, index=frame.index).astype("datetime64[us]"),
                        "tenure_days": _days_before(as_of, frame["signup_date"])})
    for column, default in RFM_DEFAULTS.items():
        out[column] = frame[column].astype("float64") if column in frame else default
    for column in frame.columns:
        if column in out.columns or column == "signup_date":
            continue
        values = frame[column]
        out[column] = (_days_before(as_of, values) if pd.api.types.is_datetime64_any_dtype(values)
                       else values)
    return out


def snapshot_labels(customers: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The provided label as an attrition label for every customer.

    Returns
    -------
    DataFrame
        ``customer_id, as_of, status, attrition, winback, churn_category``; ``status``
        is ``active`` and ``winback`` missing for everyone.
    """
    frame = customers.sort_values("customer_id", kind="stable").reset_index(drop=True)
    category = (frame["churn_category"].astype("str") if "churn_category" in frame
                else pd.Series(pd.NA, index=frame.index, dtype="str"))
    return pd.DataFrame({
        "customer_id": frame["customer_id"],
        "as_of": pd.Series(pd.Timestamp(as_of), index=frame.index).astype("datetime64[us]"),
        "status": ACTIVE,
        "attrition": frame["churned"].astype(bool).astype("Int8"),
        "winback": pd.array([pd.NA] * len(frame), dtype="Int8"),
        "churn_category": category,
    })


def snapshot_roles(frame: pd.DataFrame, snapshot_cfg: dict[str, Any]) -> pd.Series:
    """Train / validation / test roles for the rows of ``frame`` (needs ``target``)."""
    order = frame.sort_values(FEATURE_KEY, kind="stable")
    role = stratified_split(order["target"], snapshot_cfg["test_fraction"],
                            snapshot_cfg["validation_fraction"], snapshot_cfg["seed"])
    return role.reindex(frame.index)


def snapshot_scored(features: pd.DataFrame, customers: pd.DataFrame, attrition: Any,
                    score_cfg: dict[str, Any], snapshot_cfg: dict[str, Any],
                    versions: dict[str, str]) -> pd.DataFrame:
    """Scored list in snapshot mode: current customers get ``p_attrition``.

    Customers whose provided label says they already left are ``lapsed``, with no
    score (there is no win-back model in this mode).

    Parameters
    ----------
    features
        Output of :func:`snapshot_features`.
    customers
        Canonical customers with ``churned``; ``data.snapshot.value_column`` (if set)
        is the customer's value per period, annualised by ``value_periods_per_year``.
    """
    frame = features.sort_values("customer_id", kind="stable").reset_index(drop=True)
    left = frame["customer_id"].map(customers.set_index("customer_id")["churned"]).astype(bool)
    p = np.full(len(frame), np.nan)
    if (~left).any():
        p[~left.to_numpy()] = attrition.predict_proba(frame.loc[~left])[:, 1]
    p_att = pd.Series(p)
    column = snapshot_cfg.get("value_column")
    value = (frame[column].astype("float64") * float(snapshot_cfg["value_periods_per_year"])
             if column in frame else pd.Series(np.nan, index=frame.index))
    return pd.DataFrame({
        "customer_id": frame["customer_id"].astype(str), "as_of": frame["as_of"],
        "status": np.where(left, LAPSED, ACTIVE), "p_attrition": p_att,
        "risk_band": risk_band(p_att, score_cfg["risk_bands"]),
        "risk_percentile": (p_att.rank(pct=True, method="max") * 100).round(2),
        "p_winback": np.nan, "value": value.round(2),
        "attrition_model_version": versions["attrition"], "winback_model_version": "none",
    })[SCORED_COLUMNS]
