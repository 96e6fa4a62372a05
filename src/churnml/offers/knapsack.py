"""Budgeted choice of at most one offer per customer: a multiple-choice knapsack.

Each customer has options (offers) with a cost and an expected net value; pick at most
one per customer to maximise the total net value with the total cost within the budget
(and, optionally, at most ``cap`` recipients per offer).

* :func:`greedy_choice` - the classic greedy for the multiple-choice knapsack (Sinha &
  Zoltners 1979): per customer, the upper convex hull of (cost, value) over their
  options gives a chain of upgrades with falling value per cost; all upgrades are taken
  in order of value per cost while the budget lasts (an upgrade that does not fit, or
  whose offer is full, ends that customer's chain); what is left of the budget then
  goes to customers still without an offer. Without caps its total is within one
  option's value of the optimum, and it runs in O(n k log n).
* :func:`exact_choice` - the integer program, solved by HiGHS through
  :func:`scipy.optimize.milp` within a time limit. When the limit stops the solver
  before it proves optimality, its best solution so far can be far from the optimum (on
  a busy machine it once gave 13 offers out of a 2,000 budget), so the greedy choice is
  computed too and the better of the two is kept; with no solution at all, greedy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np

log = logging.getLogger(__name__)
NO_OFFER = -1
CHUNK = 4096  # rows turned into Python values at a time: the loops usually stop early


def _chunked_rows(table: np.ndarray) -> Iterator[list]:
    """``table``'s rows as Python lists, converted a chunk at a time (the budget
    usually runs out long before the end of a 10^6-row table)."""
    for start in range(0, len(table), CHUNK):
        yield from table[start:start + CHUNK].tolist()


def suffix_min(values: np.ndarray) -> np.ndarray:
    """``out[i] = min(values[i:])``: the cheapest step still to come (budget only falls)."""
    return np.minimum.accumulate(np.asarray(values, dtype=float)[::-1])[::-1]


def _hull_steps(net: np.ndarray, cost: np.ndarray, usable: np.ndarray) -> list[np.ndarray]:
    """Upgrade steps along each customer's upper convex hull, as ``(row, offer, dc, dv)``.

    The chain starts from the best free option (or nothing); each step moves to the
    option with the highest added value per added cost.
    """
    n, k = net.shape
    live = np.flatnonzero(usable.any(axis=1))
    if len(live) < n:  # customers with no usable offer take no step: leave them out
        start, *steps = _hull_steps(net[live], cost, usable[live])
        at = np.full(n, NO_OFFER, dtype=start.dtype)
        at[live] = start
        return [at, *(np.column_stack([live[s[:, 0].astype(np.intp)], s[:, 1:]])
                      for s in steps)]
    rows = np.arange(n)
    free = usable & (cost[None, :] <= 0)
    free_value = np.where(free, net, -np.inf)
    at = np.where(free.any(axis=1), free_value.argmax(axis=1), NO_OFFER)
    cur_c = np.zeros(n)
    cur_v = np.where(at >= 0, free_value.max(axis=1, initial=-np.inf), 0.0)
    steps = []
    for _ in range(k):
        gain_c = cost[None, :] - cur_c[:, None]
        gain_v = net - cur_v[:, None]
        ok = usable & (gain_c > 0) & (gain_v > 0)
        ratio = np.where(ok, gain_v / np.where(ok, gain_c, 1.0), -np.inf)
        best = ratio.argmax(axis=1)
        has = ok[rows, best]
        if not has.any():
            break
        r, b = rows[has], best[has]
        steps.append(np.column_stack([r, b, gain_c[r, b], gain_v[r, b]]))
        cur_c[r], cur_v[r] = cost[b], net[r, b]
    return [at, *steps]


def _chain_ratios(steps: list[np.ndarray], n: int) -> np.ndarray:
    """Value per cost of each step in ``steps`` order, never rising along a customer's chain.

    On the hull the ratios fall step by step, but recomputed in floating point a
    collinear later step can come out a hair above an earlier one; the running minimum
    restores the order, and ties fall back on the step number.

    Parameters
    ----------
    steps
        Per step number, the ``(row, offer, dc, dv)`` rows from :func:`_hull_steps`.
    n
        Number of customers.

    Returns
    -------
    numpy.ndarray
        ``dv / dc`` per step, capped by the customer's earlier steps.
    """
    running = np.full(n, np.inf)
    out = []
    for s in steps:
        rows = s[:, 0].astype(np.intp)
        ratio = np.minimum(s[:, 3] / s[:, 2], running[rows])
        running[rows] = ratio
        out.append(ratio)
    return np.concatenate(out)


def greedy_choice(net: np.ndarray, cost: np.ndarray, usable: np.ndarray, budget: float,
                  caps: np.ndarray | None = None) -> np.ndarray:
    """Greedy multiple-choice knapsack by value per cost.

    Parameters
    ----------
    net
        Expected net value, customers × offers.
    cost
        Cost per offer (>= 0).
    usable
        Customers × offers: eligible and worth sending.
    budget
        Total cost allowed.
    caps
        Maximum recipients per offer (``inf`` for none), or None.

    Returns
    -------
    numpy.ndarray
        Chosen offer index per customer, ``-1`` for none.
    """
    caps = np.full(len(cost), np.inf) if caps is None else np.asarray(caps, dtype=float)
    start, *steps = _hull_steps(net, cost, usable)
    chosen = start.copy()
    count = np.bincount(chosen[chosen >= 0], minlength=len(cost)).astype(float)
    over = count > caps
    for offer in np.flatnonzero(over):  # more free options than the cap allows
        rows = np.flatnonzero(chosen == offer)
        order = rows[np.argsort(-net[rows, offer], kind="stable")]
        chosen[order[int(caps[offer]):]] = NO_OFFER
        count[offer] = caps[offer]
    if not steps:
        return chosen
    table = np.vstack([np.column_stack([s, np.full(len(s), i)]) for i, s in enumerate(steps)])
    order = np.lexsort((table[:, 0], table[:, 4], -_chain_ratios(steps, len(net))))
    left, blocked = float(budget), np.zeros(len(net), dtype=bool)
    spent_on = np.where(chosen >= 0, cost[np.maximum(chosen, 0)], 0.0)
    cheapest_after = suffix_min(table[order, 2])
    for i, (row, offer, _dc, _dv, _step) in enumerate(_chunked_rows(table[order])):
        if cheapest_after[i] > left + 1e-9:  # nothing left fits: the rest only blocks
            break
        row, offer = int(row), int(offer)
        if blocked[row]:
            continue
        extra = cost[offer] - spent_on[row]  # what the move costs, from where it stands
        if extra > left + 1e-9 or count[offer] >= caps[offer]:
            blocked[row] = True
            continue
        if chosen[row] >= 0:
            count[chosen[row]] -= 1
        chosen[row], count[offer] = offer, count[offer] + 1
        left -= extra
        spent_on[row] = cost[offer]
    return _fill(chosen, net, cost, usable, left, count, caps)


def _fill(chosen: np.ndarray, net: np.ndarray, cost: np.ndarray, usable: np.ndarray,
          left: float, count: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Spend what the hull pass left on customers still without an offer: their
    options off the hull (cheaper, worse value per cost), best value per cost first."""
    rows, offers = np.nonzero(usable & (chosen < 0)[:, None] & (cost[None, :] <= left))
    if len(rows) == 0:
        return chosen
    eff = net[rows, offers] / np.maximum(cost[offers], 1e-12)
    order = np.lexsort((rows, -eff))
    cheapest_after = suffix_min(cost[offers[order]])
    for j, i in enumerate(_chunked_rows(order)):
        if cheapest_after[j] > left + 1e-9:  # nothing left fits the budget
            break
        row, offer = int(rows[i]), int(offers[i])
        if chosen[row] >= 0 or cost[offer] > left + 1e-9 or count[offer] >= caps[offer]:
            continue
        chosen[row], count[offer] = offer, count[offer] + 1
        left -= cost[offer]
    return chosen


def exact_choice(net: np.ndarray, cost: np.ndarray, usable: np.ndarray, budget: float,
                 caps: np.ndarray | None = None, time_limit: float = 20.0) -> np.ndarray:
    """The integer program (HiGHS); same parameters and result as :func:`greedy_choice`.

    Falls back to the greedy choice when the solver returns no feasible solution.
    """
    from scipy.optimize import LinearConstraint, milp
    from scipy.sparse import csr_matrix

    rows, offers = np.nonzero(usable)
    chosen = np.full(len(net), NO_OFFER)
    if len(rows) == 0:
        return chosen
    m = len(rows)
    one_each = csr_matrix((np.ones(m), (rows, np.arange(m))), shape=(len(net), m))
    constraints = [LinearConstraint(one_each, 0, 1),
                   LinearConstraint(cost[offers][None, :], 0, float(budget))]
    if caps is not None and np.isfinite(caps).any():
        per_offer = csr_matrix((np.ones(m), (offers, np.arange(m))), shape=(len(cost), m))
        constraints.append(LinearConstraint(per_offer, 0, np.asarray(caps, dtype=float)))
    result = milp(-net[rows, offers], constraints=constraints, integrality=np.ones(m),
                  bounds=(0, 1), options={"time_limit": float(time_limit)})
    if result.x is None:
        log.warning("exact allocation found no solution (%s); using greedy", result.message)
        return greedy_choice(net, cost, usable, budget, caps)
    take = result.x > 0.5
    chosen[rows[take]] = offers[take]
    log.info("exact allocation: %s (gap %.2g)", result.message, getattr(result, "mip_gap", 0.0))
    if result.status == 0:  # proven optimal
        return chosen
    greedy = greedy_choice(net, cost, usable, budget, caps)
    totals = [total_value(c, net) for c in (chosen, greedy)]
    log.warning("exact allocation stopped before optimality (%s): solver %.2f, greedy %.2f; "
                "keeping the better", result.message, *totals)
    return chosen if totals[0] >= totals[1] else greedy


def total_value(chosen: np.ndarray, net: np.ndarray) -> float:
    """Sum of the net value of the chosen offers (``-1``: none)."""
    rows = np.flatnonzero(chosen >= 0)
    return float(net[rows, chosen[rows]].sum())
