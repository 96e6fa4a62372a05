"""All segments for a list of snapshot dates: one row per customer × ``as_of`` with the
ladder rung, lifecycle stage, churn cause (lapsed customers) and shared-cause flags.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from churnml.segments.causes import (
    cause_signals,
    lapsed_customers,
    snapshot_cause_signals,
    type_causes,
)
from churnml.segments.common import decode_customer_ids, encode_customer_ids, purchases
from churnml.segments.ladder import assign_rungs, ladder_inputs
from churnml.segments.lifecycle import lifecycle_stage, purchase_history
from churnml.segments.shared_cause import incident_exposure, shared_cause_exposure
from churnml.status import cancelled_customers

log = logging.getLogger(__name__)
KEY = ["customer_id", "as_of"]
BASE_COLUMNS = {
    "customers": ["customer_id", "signup_date"],
    "transactions": ["customer_id", "ts", "amount", "is_return", "discount"],
    "events": ["customer_id", "ts", "event_type", "value", "incident_id"],
}
LADDER_DETAIL = ["purchase_rate", "active_month_share", "margin", "cost_to_serve",
                 "cost_events", "terrorist_score", "supporter_score", "advocate_score"]


def needed_columns(tables: dict[str, pd.DataFrame | None],
                   cfg: dict[str, Any]) -> dict[str, pd.DataFrame | None]:
    """The tables cut to the columns the rules read (less to copy at each snapshot)."""
    keys = {table: [k["column"] for k in cfg["shared_cause"]["scope_keys"].values()
                    if k["table"] == table] for table in BASE_COLUMNS}
    out = dict(tables)
    for name, base in BASE_COLUMNS.items():
        frame = tables.get(name)
        if frame is not None:
            out[name] = frame.loc[:, [c for c in dict.fromkeys(base + keys[name])
                                      if c in frame.columns]]
    return out


def segment_snapshot(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp,
                     cfg: dict[str, Any], lapse_days: int,
                     data_start: pd.Timestamp, *, max_open_days: int | None,
                     cancellation_event: str | None) -> pd.DataFrame:
    """Segments of every customer signed up before ``as_of``, from rows before it.

    Parameters
    ----------
    tables
        Canonical tables: ``customers`` and ``transactions`` required; ``events`` and
        ``incidents`` optional (see each rule's module for the columns it reads).
    cfg
        The ``segments`` config section.
    lapse_days
        ``labels.lapse_days``: who counts as lapsed (and so gets a churn cause).
    data_start
        First day of the data.
    max_open_days
        ``features.incidents.max_open_days``: an incident without ``end`` ends this many
        days after its start (``None``: open until an end is recorded), as in the features.
    cancellation_event
        :func:`churnml.labels.cancellation_event`: in a contractual business a customer
        who cancelled and has not bought since is lapsed (gets a churn cause) however
        recently they paid; None: status by recency alone.

    Returns
    -------
    DataFrame
        ``customer_id, as_of, cancelled`` (gone by cancellation at ``as_of``, see
        :mod:`churnml.status`), ``ladder_rung, lifecycle_stage``, ``ladder_<measure>`` for
        the measures behind the rung, the cause columns of
        :func:`~churnml.segments.causes.type_causes` (null for active customers) and
        the ``shared_cause_*`` columns.
    """
    coded, ids = encode_customer_ids(needed_columns(tables, cfg))
    out = decode_customer_ids(_segment(coded, pd.Timestamp(as_of).as_unit("us"), cfg,
                                       lapse_days, data_start, max_open_days,
                                       cancellation_event), ids)
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)


def _segment(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, cfg: dict[str, Any],
             lapse_days: int, data_start: pd.Timestamp,
             max_open_days: int | None, cancellation_event: str | None) -> pd.DataFrame:
    customers, tx = tables["customers"], tables["transactions"]
    events, incidents = tables.get("events"), tables.get("incidents")
    inputs = ladder_inputs(customers, tx, events, as_of, cfg["ladder"], data_start)
    out = inputs[KEY].copy()
    cancelled = (cancelled_customers(purchases(tx), events, as_of, cancellation_event)
                 if cancellation_event else [])
    out["cancelled"] = out["customer_id"].isin(list(cancelled)).to_numpy()
    out["ladder_rung"] = assign_rungs(inputs, cfg["ladder"]).to_numpy()
    history = purchase_history(customers, tx, as_of)
    out["lifecycle_stage"] = lifecycle_stage(history, cfg["lifecycle"]).to_numpy()
    for name in LADDER_DETAIL:
        out[f"ladder_{name}"] = inputs[name].to_numpy()
    exposure = incident_exposure(customers, tx, events, incidents, as_of, cfg["shared_cause"],
                                 max_open_days=max_open_days)
    lapses = lapsed_customers(tx, as_of, lapse_days, cancelled)
    causes = type_causes(cause_signals(lapses, events, cfg["causes"], exposure), cfg["causes"])
    shared = shared_cause_exposure(customers, exposure, events, incidents, as_of,
                                   cfg["shared_cause"], max_open_days=max_open_days)
    return out.merge(causes, on=KEY, how="left").merge(shared, on=KEY, how="left")


def segment_customers(tables: dict[str, pd.DataFrame], dates: list[pd.Timestamp],
                      cfg: dict[str, Any], lapse_days: int,
                      data_start: pd.Timestamp, *, max_open_days: int | None,
                      cancellation_event: str | None) -> pd.DataFrame:
    """:func:`segment_snapshot` for each date, stacked (same columns for every date)."""
    coded, ids = encode_customer_ids(needed_columns(tables, cfg))
    frames = []
    for as_of in dates:
        frame = _segment(coded, pd.Timestamp(as_of).as_unit("us"), cfg, lapse_days, data_start,
                         max_open_days, cancellation_event)
        log.info("segments as of %s: %d customers", pd.Timestamp(as_of).date(), len(frame))
        frames.append(frame)
    out = decode_customer_ids(pd.concat(frames, ignore_index=True), ids)
    return out.sort_values(["as_of", "customer_id"], kind="stable").reset_index(drop=True)


def segment_snapshot_table(customers: pd.DataFrame, as_of: pd.Timestamp,
                           cfg: dict[str, Any]) -> pd.DataFrame:
    """Churn causes for a snapshot-mode customers table (``churned`` per customer, no
    transactions): causes from attributes, for churned customers only.

    Ladder rung and lifecycle stage need a purchase history, so they are left null.
    """
    as_of = pd.Timestamp(as_of).as_unit("us")
    signals = snapshot_cause_signals(customers, as_of, cfg["causes"])
    causes = type_causes(signals, cfg["causes"])
    out = pd.DataFrame({"customer_id": customers["customer_id"].astype(str).to_numpy(),
                        "as_of": as_of, "ladder_rung": pd.NA, "lifecycle_stage": pd.NA})
    return out.merge(causes, on=KEY, how="left")
