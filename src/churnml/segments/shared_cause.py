"""Shared-cause risk (DESIGN §2): one complaint signals others. Every customer exposed
to the same cause as an incident (same region, batch, courier, product, ...) is flagged
before they complain, with the incident's complaint rate so far.

An incident's cause is traced through a key (``segments.shared_cause.scope_keys``): a
column of the customers or transactions table named by the incident's ``scope``. The
key value is the incident's ``scope_value`` or its column of the key's name (e.g.
``product_id``, ``region``) when given, else the value shared by most of its
complainers. Everything is point-in-time: only incidents, complaints and purchases
before ``as_of`` are used.

An incident without ``end`` (many logs record only a start) ends
``features.incidents.max_open_days`` after its start, as in the incident features
(null: open until an end is recorded); an end, recorded or assumed, is only compared
with ``as_of``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from churnml.segments.common import before, latest_on_or_before, purchases

log = logging.getLogger(__name__)
COMPLAINT_TYPES = ("complaint", "public_complaint")
EXPOSURE_COLUMNS = ["customer_id", "incident_id", "exposed_at"]


def incident_complaints(events: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame:
    """Complaints linked to an incident (``incident_id`` set), dated before ``as_of``."""
    ev = before(events, as_of)
    if "incident_id" not in ev or "event_type" not in ev:
        return pd.DataFrame({"customer_id": pd.Series(dtype="str"),
                             "incident_id": pd.Series(dtype="str"),
                             "ts": pd.Series(dtype="datetime64[us]")})
    linked = ev["event_type"].isin(COMPLAINT_TYPES) & ev["incident_id"].notna()
    return ev.loc[linked, ["customer_id", "incident_id", "ts"]]


def _key_rows(scope: str, tables: dict[str, pd.DataFrame], cfg: dict[str, Any],
              ) -> tuple[pd.DataFrame, str] | None:
    """Rows holding the scope's key (customers or purchases) and the key column."""
    key = cfg["scope_keys"].get(scope)
    if key is None or key["column"] not in tables[key["table"]]:
        return None
    return tables[key["table"]], key["column"]


def _infer_value(rows: pd.DataFrame, column: str, who: pd.Series, cfg: dict[str, Any]) -> Any:
    """The key value shared by most complainers, if enough of them share it."""
    if len(who) < int(cfg["min_complainers"]):
        return None
    values = rows.loc[rows["customer_id"].isin(who), ["customer_id", column]].dropna()
    holders = values.drop_duplicates().groupby(column)["customer_id"].nunique()
    if holders.empty:
        return None
    best = holders.sort_values(ascending=False, kind="stable").index[0]
    return best if holders[best] >= float(cfg["min_complainer_share"]) * len(who) else None


def _exposed_by_key(incident: pd.Series, rows: pd.DataFrame, column: str, value: Any,
                    bought: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    """Customers sharing the key value with the incident, and when they were exposed.

    A purchase-level key exposes at the purchase (from ``exposure_lead_days`` before the
    start to the end; one bought earlier is exposed from the start). A customer-level key
    exposes, from the start, the holders who bought within ``active_days`` before the end.
    """
    if "ts" in rows:
        lead = pd.Timedelta(days=int(cfg["exposure_lead_days"]))
        during = (bought["ts"] >= incident["start"] - lead) & (bought["ts"] < incident["end"])
        hit = bought.loc[during & (bought[column] == value)] if column in bought else bought[:0]
        exposed_at = hit.groupby("customer_id")["ts"].min().clip(lower=incident["start"])
    else:
        recent = bought["ts"] >= incident["end"] - pd.Timedelta(days=int(cfg["active_days"]))
        holders = rows.loc[rows[column] == value, "customer_id"]
        active = bought.loc[recent & (bought["ts"] < incident["end"])
                            & bought["customer_id"].isin(holders), "customer_id"].unique()
        exposed_at = pd.Series(incident["start"], index=pd.Index(active, name="customer_id"))
    return pd.DataFrame({"customer_id": exposed_at.index.to_numpy(),
                         "incident_id": incident["incident_id"],
                         "exposed_at": exposed_at.to_numpy()})


def incident_exposure(customers: pd.DataFrame, transactions: pd.DataFrame,
                      events: pd.DataFrame | None, incidents: pd.DataFrame | None,
                      as_of: pd.Timestamp, cfg: dict[str, Any], *,
                      max_open_days: int | None) -> pd.DataFrame:
    """Who was exposed to which incident, and since when, as known at ``as_of``.

    Parameters
    ----------
    customers
        ``customer_id`` plus any customer-level scope key (e.g. ``region``).
    transactions
        ``customer_id, ts, amount`` plus any purchase-level key (``batch``, ``courier``...).
    events
        ``customer_id, ts, event_type, incident_id``: complaints link to incidents.
    incidents
        ``incident_id, start`` (optional ``end, scope, scope_value``).
    cfg
        The ``segments.shared_cause`` section.
    max_open_days
        ``features.incidents.max_open_days``: an incident without ``end`` ends this
        many days after its start (``None``: open until an end is recorded).

    Returns
    -------
    DataFrame
        ``customer_id, incident_id, exposed_at, traced`` (False when the incident's
        cause could not be traced and only its complainers are known to be exposed).
    """
    found = before(incidents, as_of, "start")
    found = found.assign(end=incident_ends(found, max_open_days))
    complaints = incident_complaints(events, as_of)
    bought = purchases(before(transactions, as_of))
    tables = {"customers": customers, "transactions": bought}
    parts = [_incident_exposure(_with_end(incident, as_of), complaints, tables, cfg)
             for _, incident in found.iterrows()]
    if not parts:
        return pd.DataFrame({"customer_id": pd.Series(dtype="str"),
                             "incident_id": pd.Series(dtype="str"),
                             "exposed_at": pd.Series(dtype="datetime64[us]"),
                             "traced": pd.Series(dtype=bool)})
    out = pd.concat(parts, ignore_index=True).sort_values("exposed_at", kind="stable")
    return out.drop_duplicates(["customer_id", "incident_id"]).reset_index(drop=True)


def _incident_exposure(incident: pd.Series, complaints: pd.DataFrame,
                       tables: dict[str, pd.DataFrame], cfg: dict[str, Any]) -> pd.DataFrame:
    """Complainers of one incident plus, when its cause is traced, everyone sharing it."""
    mine = complaints.loc[complaints["incident_id"] == incident["incident_id"]]
    first = mine.groupby("customer_id")["ts"].min().clip(upper=incident["start"])
    said = pd.DataFrame({"customer_id": first.index.to_numpy(),
                         "incident_id": incident["incident_id"], "exposed_at": first.to_numpy()})
    keyed = _key_rows(str(incident.get("scope")), tables, cfg)
    value = _scope_value(incident, keyed, first.index.to_series(), cfg)
    if value is None:
        log.info("incident %s (scope %r): cause not traceable from the data; only its %d "
                 "complainers count as exposed", incident["incident_id"], incident.get("scope"),
                 len(said))
        return said.assign(traced=False)
    shared = _exposed_by_key(incident, *keyed, value, tables["transactions"], cfg)
    return pd.concat([said, shared], ignore_index=True).assign(traced=True)


def incident_ends(incidents: pd.DataFrame, max_open_days: int | None) -> pd.Series:
    """When each incident ends: its recorded ``end``, else ``max_open_days`` after its start.

    Parameters
    ----------
    incidents
        ``incident_id, start`` (+ ``end``, optional: many logs record only a start).
    max_open_days
        ``features.incidents.max_open_days``: how long an incident without an ``end``
        runs; ``None`` leaves it open (NaT) until an end is recorded.

    Returns
    -------
    Series
        The end per row of ``incidents``, NaT for one still open for good. It may lie
        after the snapshot: callers only compare it with ``as_of``.
    """
    if "end" in incidents:
        recorded = incidents["end"]
    else:
        recorded = pd.Series(pd.NaT, index=incidents.index, dtype=incidents["start"].dtype)
    if max_open_days is None:
        return recorded
    return recorded.fillna(incidents["start"] + pd.Timedelta(days=int(max_open_days)))


def _with_end(incident: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """The incident with ``end`` known as of ``as_of`` (still open: ``as_of``)."""
    incident = incident.copy()
    end = incident.get("end")
    incident["end"] = as_of if end is None or pd.isna(end) else min(end, as_of)
    return incident


def _scope_value(incident: pd.Series, keyed: tuple[pd.DataFrame, str] | None, who: pd.Series,
                 cfg: dict[str, Any]) -> Any:
    if keyed is None:
        return None
    for name in (cfg["scope_value_column"], keyed[1]):
        given = incident.get(name)
        if given is not None and not pd.isna(given):
            return given
    return _infer_value(*keyed, who, cfg)


def shared_cause_exposure(customers: pd.DataFrame, exposure: pd.DataFrame,
                          events: pd.DataFrame | None, incidents: pd.DataFrame | None,
                          as_of: pd.Timestamp, cfg: dict[str, Any], *,
                          max_open_days: int | None) -> pd.DataFrame:
    """Shared-cause risk flags per customer as of ``as_of``.

    Parameters
    ----------
    customers
        ``customer_id, signup_date``.
    exposure
        :func:`incident_exposure` as of the same ``as_of``.
    events, incidents, max_open_days
        As for :func:`incident_exposure`.

    Returns
    -------
    DataFrame
        ``customer_id, as_of, shared_cause_exposed`` (exposed to an incident still within
        ``at_risk_days`` of its end), ``shared_cause_incidents`` (how many),
        ``shared_cause_incident`` (the one with the highest complaint rate),
        ``shared_cause_complaint_rate`` (complainers / exposed; NaN if not traced),
        ``shared_cause_complained`` and ``shared_cause_outreach`` (exposed, never complained).
    """
    index = pd.Index(customers.loc[customers["signup_date"] < as_of, "customer_id"],
                     name="customer_id")
    at_risk = _at_risk(exposure, incidents, as_of, cfg, max_open_days)
    complaints = incident_complaints(events, as_of)
    rates = _complaint_rates(exposure, complaints)
    at_risk = at_risk.assign(rate=at_risk["incident_id"].map(rates))
    top = at_risk.sort_values(["rate", "incident_id"], ascending=[False, True], kind="stable",
                              na_position="last").drop_duplicates("customer_id")
    top = top.set_index("customer_id").reindex(index)
    said = at_risk.merge(complaints[["customer_id", "incident_id"]].drop_duplicates(),
                         on=["customer_id", "incident_id"])
    complained = index.isin(said["customer_id"].unique())
    exposed = top["incident_id"].notna().to_numpy()
    return pd.DataFrame({
        "customer_id": index.to_numpy(), "as_of": as_of,
        "shared_cause_exposed": exposed,
        "shared_cause_incidents": at_risk.groupby("customer_id").size().reindex(index)
        .fillna(0).astype("int64").to_numpy(),
        "shared_cause_incident": top["incident_id"].astype("string").to_numpy(),
        "shared_cause_complaint_rate": top["rate"].astype("float64").to_numpy(),
        "shared_cause_complained": complained & exposed,
        "shared_cause_outreach": exposed & ~complained,
    })


def _at_risk(exposure: pd.DataFrame, incidents: pd.DataFrame | None, as_of: pd.Timestamp,
             cfg: dict[str, Any], max_open_days: int | None) -> pd.DataFrame:
    """Exposures before ``as_of`` whose incident ended at most ``at_risk_days`` ago (an
    incident without ``end`` ends ``max_open_days`` after its start)."""
    if exposure.empty or incidents is None:
        return pd.DataFrame(columns=["customer_id", "incident_id"])
    end = incident_ends(incidents, max_open_days).set_axis(incidents["incident_id"])
    end = latest_on_or_before(end.fillna(as_of), as_of)
    until = exposure["incident_id"].map(end) + pd.Timedelta(days=int(cfg["at_risk_days"]))
    keep = (exposure["exposed_at"] < as_of) & (until >= as_of)
    return exposure.loc[keep, ["customer_id", "incident_id", "traced"]]


def _complaint_rates(exposure: pd.DataFrame, complaints: pd.DataFrame) -> pd.Series:
    """Distinct complainers / exposed customers per traced incident."""
    if exposure.empty:
        return pd.Series(dtype="float64")
    traced = exposure.loc[exposure["traced"]]
    exposed = traced.groupby("incident_id")["customer_id"].nunique()
    said = complaints.groupby("incident_id")["customer_id"].nunique()
    return (said.reindex(exposed.index).fillna(0) / exposed).replace([np.inf], np.nan)


def outreach_list(shared: pd.DataFrame) -> pd.DataFrame:
    """The proactive-outreach list: exposed customers who have not complained, riskiest
    incident first (``customer_id, as_of, shared_cause_incident,
    shared_cause_complaint_rate``)."""
    rows = shared.loc[shared["shared_cause_outreach"],
                      ["customer_id", "as_of", "shared_cause_incident",
                       "shared_cause_complaint_rate"]]
    return rows.sort_values(["shared_cause_complaint_rate", "customer_id"],
                            ascending=[False, True], kind="stable").reset_index(drop=True)
