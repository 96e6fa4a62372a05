"""What a chosen set of offers means: the policy report, its value against a known true
uplift, the simple policies it is compared with, and the campaign history it becomes.

All functions are pure: an evaluation against the world's true uplift receives that
table from its caller (evaluation code), never reads it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnml.offers.allocation import net_value, uplift_matrix
from churnml.offers.catalogue import NONE, Catalogue, eligibility

CONTROL = "control"
BREAKDOWNS = ("ladder_rung", "churn_cause", "status", "lifecycle_stage")


def _sent(allocation: pd.DataFrame) -> pd.Series:
    return (allocation["offer_id"] != NONE) & ~allocation["holdout"].astype(bool)


def policy_report(allocation: pd.DataFrame, scored: pd.DataFrame) -> dict[str, Any]:
    """Spend by offer, expected incremental retained value, counts by rung and cause.

    Parameters
    ----------
    allocation
        :func:`~churnml.offers.allocation.choose_offers` output (``customer_id,
        offer_id, holdout, offer_cost, offer_uplift, expected_net_value``).
    scored
        ``customer_id, value`` and the breakdown columns present (``ladder_rung,
        churn_cause, status, lifecycle_stage``).

    Returns
    -------
    dict
        ``totals`` and ``by_offer`` (recipients, holdouts, spend, expected incremental
        retained value and net value), and ``counts`` by offer x breakdown column.
    """
    cols = ["customer_id", "value", *[c for c in BREAKDOWNS if c in scored]]
    frame = allocation.merge(scored[cols].astype({"customer_id": str}), on="customer_id",
                             how="left")
    sent = _sent(frame)
    frame["spend"] = np.where(sent, frame["offer_cost"], 0.0)
    frame["retained"] = np.where(sent, frame["offer_uplift"] * frame["value"].fillna(0.0), 0.0)
    frame["net"] = np.where(sent, frame["expected_net_value"], 0.0)
    frame["sent"], frame["held_out"] = sent, frame["holdout"].astype(bool)
    grouped = frame.groupby("offer_id", sort=True)
    by_offer = pd.DataFrame({"customers": grouped.size(), "sent": grouped["sent"].sum(),
                             "held_out": grouped["held_out"].sum(), "spend": grouped["spend"].sum(),
                             "expected_retained_value": grouped["retained"].sum(),
                             "expected_net_value": grouped["net"].sum()})
    totals = {"customers": len(frame), "sent": int(sent.sum()),
              "held_out": int(frame["held_out"].sum()), "spend": float(frame["spend"].sum()),
              "expected_retained_value": float(frame["retained"].sum()),
              "expected_net_value": float(frame["net"].sum())}
    counts = {c: _counts(frame, c) for c in BREAKDOWNS if c in frame}
    return {"totals": totals, "by_offer": _records(by_offer), "counts": counts}


def _counts(frame: pd.DataFrame, column: str) -> dict[str, dict[str, int]]:
    table = pd.crosstab(frame["offer_id"], frame[column].astype("string").fillna("unknown"))
    return {str(o): {str(k): int(v) for k, v in row.items() if v} for o, row in table.iterrows()}


def _records(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    return {str(k): {c: round(float(v), 4) for c, v in row.items()} for k, row in table.iterrows()}


def evaluate_policy(allocation: pd.DataFrame, true_uplift: pd.DataFrame,
                    value: pd.DataFrame) -> dict[str, float]:
    """Incremental retained value of the offers actually sent, by the true uplift.

    Parameters
    ----------
    allocation
        ``customer_id, offer_id, holdout, offer_cost``.
    true_uplift
        ``customer_id, offer_id, true_uplift`` for the evaluated date (a pair that is
        missing counts as no effect).
    value
        ``customer_id, value``.

    Returns
    -------
    dict
        ``sent, spend, retained_value`` (sum of true uplift x value) and ``net_value``.
    """
    sent = allocation.loc[_sent(allocation), ["customer_id", "offer_id", "offer_cost"]]
    sent = sent.astype({"customer_id": str, "offer_id": str})
    effect = true_uplift[["customer_id", "offer_id", "true_uplift"]].astype(
        {"customer_id": str, "offer_id": str})
    worth = value[["customer_id", "value"]].astype({"customer_id": str})
    rows = sent.merge(effect, on=["customer_id", "offer_id"], how="left").merge(
        worth, on="customer_id", how="left")
    retained = float((rows["true_uplift"].fillna(0.0) * rows["value"].fillna(0.0)).sum())
    spend = float(rows["offer_cost"].sum())
    return {"sent": len(rows), "spend": spend, "retained_value": retained,
            "net_value": retained - spend}


def ranked_policy(scored: pd.DataFrame, uplift: pd.DataFrame | None, catalogue: Catalogue,
                  budget: float, rank_by: np.ndarray, model_weight: float = 1.0) -> pd.DataFrame:
    """A simple policy: walk customers by descending ``rank_by`` and give each the
    eligible offer with the highest predicted net value while the budget lasts.

    Used for the comparisons (e.g. ``rank_by`` = attrition risk, or random numbers);
    ``model_weight`` as in :func:`~churnml.offers.allocation.uplift_matrix`.
    Returns the columns of :func:`~churnml.offers.allocation.choose_offers`, no holdouts.
    """
    effect = uplift_matrix(scored, uplift, catalogue, model_weight)
    net = net_value(effect, scored["value"], catalogue.costs)
    ok = eligibility(catalogue, scored)
    best = np.where(ok, net, -np.inf).argmax(axis=1) if ok.size else np.zeros(len(scored), int)
    has = ok.any(axis=1) if ok.size else np.zeros(len(scored), bool)
    cost = catalogue.costs[best] if ok.size else np.zeros(len(scored))
    take, left = np.zeros(len(scored), dtype=bool), float(budget)
    ids = scored["customer_id"].astype(str).to_numpy()
    for row in np.lexsort((ids, -np.asarray(rank_by, dtype=float))):  # ties: by id
        if has[row] and cost[row] <= left:
            take[row], left = True, left - cost[row]
    rows = np.arange(len(scored))
    offers = np.asarray(catalogue.ids, dtype=object)
    return pd.DataFrame({
        "customer_id": ids,
        "offer_id": pd.array(np.where(take, offers[best] if len(offers) else NONE, NONE),
                             dtype="str"),
        "expected_net_value": np.where(take, net[rows, best] if ok.size else 0.0, 0.0),
        "holdout": np.zeros(len(scored), dtype=bool),
        "offer_cost": np.where(take, cost, 0.0),
        "offer_uplift": np.where(take, effect[rows, best] if ok.size else 0.0, 0.0)})


def to_campaign_history(allocation: pd.DataFrame, sent_on: pd.Timestamp,
                        control: str = CONTROL) -> pd.DataFrame:
    """The run's offers as rows of the canonical ``campaigns`` table, to be appended to
    the campaign history once sent: recipients get their offer, holdouts the ``control``
    arm (cost 0; pass ``offers.uplift.control``, the arm the uplift models read as
    untreated); ``responded_ts`` and ``redeemed`` are filled by the CRM.

    Returns
    -------
    DataFrame
        ``customer_id, ts, offer_id, responded_ts, redeemed, cost`` for every customer
        chosen for an offer (held out or not).
    """
    rows = allocation.loc[allocation["offer_id"] != NONE]
    holdout = rows["holdout"].astype(bool).to_numpy()
    return pd.DataFrame({
        "customer_id": rows["customer_id"].astype(str).to_numpy(),
        "ts": pd.Timestamp(sent_on).as_unit("us"),
        "offer_id": pd.array(np.where(holdout, control, rows["offer_id"].to_numpy()),
                             dtype="str"),
        "responded_ts": pd.Series(pd.NaT, index=range(len(rows)), dtype="datetime64[us]"),
        "redeemed": False,
        "cost": np.where(holdout, 0.0, rows["offer_cost"].to_numpy(dtype=float)),
    })
