"""Choose one offer (or none) per customer under a budget, and mark the holdouts.

Expected net value of offer ``o`` for customer ``i`` = uplift(i, o) × value(i) −
cost(o): the change in the probability of staying (or, if lapsed, of returning)
times what the customer is worth, less what the offer costs. Only eligible offers
(:mod:`churnml.offers.catalogue`) worth at least ``min_net_value`` (and more than
nothing) are candidates; :mod:`churnml.offers.knapsack` picks at most one per customer
with the total cost within the budget.

Holdouts: a recipient is held out (marked, not sent) when a hash of ``seed`` and the
customer id falls below the offer's holdout share, so reruns agree and the next
training sees a randomised control group for every offer.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from churnml.errors import ConfigError, ContractError
from churnml.offers.catalogue import NONE, Catalogue, eligibility, load_catalogue, prior_matrix
from churnml.offers.knapsack import NO_OFFER, exact_choice, greedy_choice

log = logging.getLogger(__name__)
METHODS = ("auto", "greedy", "exact")
PER_RUN, FIXED = "per_run", "fixed"
ROTATIONS = (PER_RUN, FIXED)  # offers.holdout_rotation, see holdout_seed
OUTPUT_COLUMNS = ["customer_id", "offer_id", "expected_net_value", "holdout", "offer_cost",
                  "offer_uplift"]
EXAMPLES = 5  # repeated ids quoted in the error


@dataclass(frozen=True)
class Solver:
    """How to solve the knapsack (``offers.method`` and its limits)."""

    method: str = "auto"
    exact_max_choices: int = 20_000
    time_limit: float = 20.0
    min_net_value: float = 0.0


def uplift_matrix(customers: pd.DataFrame, uplift: pd.DataFrame | None,
                  catalogue: Catalogue, model_weight: float = 1.0) -> np.ndarray:
    """Predicted uplift, customers × offers: the model's where given, else the prior.

    Where the model predicts, the result is ``model_weight × model + (1 −
    model_weight) × prior``: shrinkage of a model fitted on a few hundred randomised
    rows per offer towards the prior (``rescue[likely cause] × p_attrition`` for active
    customers), whose ranking of would-be leavers comes from the attrition model.

    Parameters
    ----------
    customers
        ``customer_id`` plus what :func:`~churnml.offers.catalogue.prior_matrix` reads.
    uplift
        ``customer_id, offer_id, uplift`` (long format) or None; offers not in the
        catalogue are ignored.
    model_weight
        Weight of the model against the prior, in [0, 1] (1: the model alone).
    """
    if not 0.0 <= float(model_weight) <= 1.0:
        raise ValueError(f"offers.model_weight must be within [0, 1], got {model_weight}")
    matrix = prior_matrix(catalogue, customers)
    if uplift is None or not len(uplift):
        return matrix
    rows = pd.Index(customers["customer_id"].astype(str)).get_indexer(
        uplift["customer_id"].astype(str))
    cols = pd.Index(catalogue.ids).get_indexer(uplift["offer_id"].astype(str))
    values = pd.to_numeric(uplift["uplift"], errors="coerce").to_numpy(float)
    given = (rows >= 0) & (cols >= 0) & ~np.isnan(values)
    r, c, w = rows[given], cols[given], float(model_weight)
    matrix[r, c] = w * values[given] + (1.0 - w) * matrix[r, c]
    return matrix


def net_value(uplift: np.ndarray, value: pd.Series, costs: np.ndarray) -> np.ndarray:
    """``uplift × value − cost``, customers × offers (unknown value counts as 0)."""
    worth = pd.to_numeric(value, errors="coerce").fillna(0.0).to_numpy(dtype=float)
    return np.nan_to_num(uplift, nan=0.0) * worth[:, None] - costs[None, :]


def holdout_seed(scored: pd.DataFrame, offers_cfg: Mapping[str, Any]) -> int | str:
    """The key of the holdout draw: ``offers.seed``, with the scoring date unless
    ``offers.holdout_rotation`` is ``fixed``.

    ``per_run`` (the default) draws the holdouts anew for each scoring date, so no
    customer is kept out of every monthly run; a rerun for the same date holds out
    the same customers. ``fixed`` keeps one standing control group until the seed
    changes.

    Raises
    ------
    ConfigError
        An unknown rotation, or ``per_run`` without exactly one date in ``as_of``.
    """
    seed, rotation = int(offers_cfg["seed"]), str(offers_cfg.get("holdout_rotation", PER_RUN))
    if rotation not in ROTATIONS:
        raise ConfigError(f"offers.holdout_rotation = {rotation!r}: choose one of {ROTATIONS}")
    if rotation == FIXED or scored.empty:  # no one to hold out: no date needed
        return seed
    dates = pd.to_datetime(scored["as_of"]).unique() if "as_of" in scored else []
    if len(dates) != 1:
        raise ConfigError(f"offers.holdout_rotation = {PER_RUN!r} draws holdouts per scoring "
                          f"date, but the scored list has {len(dates)} dates in as_of; score "
                          f"one date, or set it to {FIXED!r}")
    return f"{seed}:{pd.Timestamp(dates[0]):%Y-%m-%d}"


def holdout_draw(customer_ids: pd.Series, seed: int | str) -> np.ndarray:
    """A uniform number in [0, 1) per customer from a hash of ``seed`` and the id."""
    def draw(customer_id: str) -> float:
        digest = hashlib.blake2b(f"{seed}:{customer_id}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2.0**64

    return np.fromiter((draw(c) for c in customer_ids.astype(str)), dtype=float,
                       count=len(customer_ids))


def solve(net: np.ndarray, costs: np.ndarray, usable: np.ndarray, budget: float,
          caps: np.ndarray | None, solver: Solver) -> np.ndarray:
    """Pick the offers with the configured method (``auto``: exact while small)."""
    if solver.method not in METHODS:
        raise ValueError(f"offers.method {solver.method!r}: choose one of {METHODS}")
    choices = int(usable.sum())
    exact = solver.method == "exact" or (
        solver.method == "auto" and choices <= solver.exact_max_choices)
    log.info("allocating %d customer x offer choices by %s within %.2f", choices,
             "exact" if exact else "greedy", budget)
    if exact:
        return exact_choice(net, costs, usable, budget, caps, solver.time_limit)
    return greedy_choice(net, costs, usable, budget, caps)


def choose_offers(scored: pd.DataFrame, uplift: pd.DataFrame | None, catalogue: Catalogue,
                  budget: float, holdout_share: float | Mapping[str, float], seed: int | str, *,
                  solver: Solver | None = None,
                  caps: Mapping[str, int] | None = None,
                  model_weight: float = 1.0) -> pd.DataFrame:
    """The offer for each customer: the highest total expected net value under the budget.

    Parameters
    ----------
    scored
        One row per customer (a repeated ``customer_id`` is a
        :class:`~churnml.errors.ContractError`): ``customer_id, status, p_attrition, value,
        ladder_rung, lifecycle_stage, churn_cause`` and optionally
        ``shared_cause_flag`` (see :func:`~churnml.offers.catalogue.eligibility`).
    uplift
        Predicted uplift ``customer_id, offer_id, uplift`` (long), e.g. from
        :func:`churnml.models.uplift.predict_uplift`; offers without a prediction use
        the catalogue's priors. None: priors only.
    catalogue
        From :func:`~churnml.offers.catalogue.load_catalogue`.
    budget
        Total cost allowed (holdouts are chosen, then not sent: the spend is at most this).
    holdout_share
        Share of each offer's recipients held out; a number, or one per offer id.
    seed
        Key of the holdout hash (see :func:`holdout_seed`).
    solver
        Method and limits (default: ``auto``).
    caps
        Optional maximum recipients per offer id.
    model_weight
        Shrinkage of the predicted uplift towards the priors (see :func:`uplift_matrix`).

    Returns
    -------
    DataFrame
        ``customer_id, offer_id`` (``none`` for no offer), ``expected_net_value`` (0
        for none), ``holdout``, ``offer_cost`` and ``offer_uplift``, in ``scored`` order.
    """
    solver = solver or Solver()
    _one_row_per_customer(scored)
    # Solved in customer_id order, so customers that tie (equal value per cost, one
    # place left under a cap or the budget) are settled by id, not by row position.
    by_id = np.argsort(scored["customer_id"].astype(str).to_numpy(), kind="stable")
    ranked = scored.iloc[by_id]
    costs = catalogue.costs
    effect = uplift_matrix(ranked, uplift, catalogue, model_weight)
    net = net_value(effect, ranked["value"], costs)
    usable = eligibility(catalogue, ranked) & (net > 0) & (net >= solver.min_net_value)
    cap_array = None if not caps else np.array(
        [float(caps.get(o, np.inf)) for o in catalogue.ids])
    chosen = solve(net, costs, usable, float(budget), cap_array, solver)
    out = _frame(ranked, chosen, net, effect, catalogue, holdout_share, seed)
    return out.iloc[np.argsort(by_id)].reset_index(drop=True)  # back in ``scored`` order


def _one_row_per_customer(scored: pd.DataFrame) -> None:
    """Refuse a scored list that repeats a customer id (compared as text, as the uplift
    table is joined): the customer would get two offers, or the uplift lookup fails.

    Raises
    ------
    ContractError
        Naming ``customer_id``, the rule and up to :data:`EXAMPLES` repeated ids.
    """
    ids = scored["customer_id"].astype(str)
    repeated = ids[ids.duplicated()].unique()
    if len(repeated):
        raise ContractError(
            "scored customers", "customer_id",
            f"one row per customer expected, {len(repeated)} ids repeat (deduplicate the "
            "scored list before choosing offers)", sorted(repeated)[:EXAMPLES])


def _frame(scored: pd.DataFrame, chosen: np.ndarray, net: np.ndarray, uplift: np.ndarray,
           catalogue: Catalogue, holdout_share: float | Mapping[str, float],
           seed: int | str) -> pd.DataFrame:
    # A padding column for "none" keeps the lookups below valid for any choice.
    pad = np.zeros((len(chosen), 1))
    net, uplift = np.hstack([net, pad]), np.hstack([uplift, pad])
    costs = np.append(catalogue.costs, 0.0)
    has = chosen != NO_OFFER
    pick = np.where(has, chosen, len(catalogue.ids))
    rows = np.arange(len(chosen))
    offer_id = np.asarray([*catalogue.ids, NONE], dtype=object)[pick]
    shares = (holdout_share if isinstance(holdout_share, Mapping)
              else dict.fromkeys(catalogue.ids, holdout_share))
    share = np.array([float(shares.get(o, 0.0)) for o in catalogue.ids] + [0.0])[pick]
    customer_id = scored["customer_id"].astype(str).reset_index(drop=True)
    holdout = np.zeros(len(chosen), dtype=bool)
    drawn = np.flatnonzero(has & (share > 0))  # the hash only where it can matter
    holdout[drawn] = holdout_draw(customer_id.iloc[drawn], seed) < share[drawn]
    out = pd.DataFrame({
        "customer_id": customer_id,
        "offer_id": pd.array(offer_id, dtype="str"),
        "expected_net_value": net[rows, pick],
        "holdout": holdout,
        "offer_cost": costs[pick],
        "offer_uplift": uplift[rows, pick],
    })
    return out[OUTPUT_COLUMNS]


def choose_offers_from_config(scored: pd.DataFrame, uplift: pd.DataFrame | None,
                              offers_cfg: Mapping[str, Any]) -> pd.DataFrame:
    """:func:`choose_offers` with everything read from the ``offers`` config section."""
    solver = Solver(method=str(offers_cfg.get("method", "auto")),
                    exact_max_choices=int(offers_cfg.get("exact_max_choices", 20_000)),
                    time_limit=float(offers_cfg.get("exact_time_limit_seconds", 20.0)),
                    min_net_value=float(offers_cfg.get("min_net_value", 0.0)))
    catalogue = load_catalogue(offers_cfg)
    entries = offers_cfg.get("catalogue") or {}
    default = float(offers_cfg.get("holdout_share", 0.0))
    shares = {o: float(entries[o].get("holdout_share", default)) for o in catalogue.ids}
    caps = {o: int(entries[o]["cap"]) for o in catalogue.ids if entries[o].get("cap") is not None}
    return choose_offers(scored, uplift, catalogue, float(offers_cfg["budget"]), shares,
                         holdout_seed(scored, offers_cfg), solver=solver, caps=caps or None,
                         model_weight=float(offers_cfg.get("model_weight", 1.0)))
