"""World-level shocks, drawn before anyone decides anything: competitor campaigns by
region and period, price rises, incidents with the customers they would expose, and
individual service failures (failed deliveries, billing disputes).

Exposures and failures are drawn for every signed-up customer; the lifecycle marks
those that hit a customer who was not active at the time as not having happened
(:meth:`Shocks.realise`). Customers still active therefore see exactly what was
drawn, which is what makes the true per-offer uplift computable in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from churnml.simulate.population import Population
from churnml.simulate.spec import SCOPES, SECONDS_PER_DAY, Calendar, pick, to_datetime

# Failure codes in Shocks.failures: none, silent, complained and resolved, unresolved.
NO_FAILURE, SILENT, RESOLVED, UNRESOLVED = range(4)
INCIDENT_START_DAYS = 20  # an incident starts in the first days of its month


@dataclass
class Incidents:
    """Incidents and, per incident, the customers it exposes and when."""

    table: pd.DataFrame            # observable: incident_id, start, end, scope, severity, ...
    start_s: np.ndarray
    end_s: np.ndarray
    severity: np.ndarray
    product: np.ndarray            # product index for product / batch scope, -1 otherwise
    rows: list[np.ndarray]         # exposed customers (row indices)
    ts: list[np.ndarray]           # when each was exposed (epoch seconds)
    month: list[np.ndarray]        # month index of ``ts``
    real: list[np.ndarray]         # False once found not active at ``ts``


@dataclass
class Shocks:
    """All exogenous shocks of the world."""

    competitor: np.ndarray         # bool, regions × months
    price_rise: np.ndarray         # bool, months: a price rise takes effect
    incidents: Incidents
    failures: np.ndarray           # int8 months × customers, failure codes

    def realise(self, month: int, active: np.ndarray, active_at: Any) -> None:
        """Drop shocks of ``month`` that met an inactive customer.

        Parameters
        ----------
        active
            Customers active at some time in ``month``.
        active_at
            ``active_at(rows, seconds)``: whether each customer was active at a time.
        """
        self.failures[month, ~active] = NO_FAILURE
        for j in range(len(self.incidents.rows)):
            now = self.incidents.month[j] == month
            if now.any():
                rows, ts = self.incidents.rows[j][now], self.incidents.ts[j][now]
                self.incidents.real[j][now] &= active_at(rows, ts)


def competitor_calendar(rng: np.random.Generator, cfg: dict[str, Any], months: int) -> np.ndarray:
    """Boolean regions × months: a competitor campaign runs in that region then."""
    comp = cfg["competitor"]
    duration, first = int(comp["duration_months"]), int(comp["first_month"])
    active = np.zeros((len(cfg["regions"]), months), dtype=bool)
    latest = max(months - duration, first + 1)
    for region in range(len(cfg["regions"])):
        for start in rng.integers(first, latest, int(comp["campaigns_per_region"])):
            active[region, start:start + duration] = True
    return active


def price_rises(rng: np.random.Generator, cfg: dict[str, Any], months: int) -> np.ndarray:
    """Months in which a general price rise takes effect."""
    rise = np.zeros(months, dtype=bool)
    count = min(int(cfg["price_rises"]["count"]), max(months - 2, 0))
    if count:
        rise[rng.choice(np.arange(1, months - 1), count, replace=False)] = True
    return rise


def draw_failures(rng: np.random.Generator, cfg: dict[str, Any], n: int, months: int) -> np.ndarray:
    """Failure code per month × customer: silent, complained-and-resolved or unresolved."""
    fail = cfg["failures"]
    codes = np.zeros((months, n), dtype=np.int8)
    for month in range(months):
        hit = np.flatnonzero(rng.random(n, dtype=np.float32) < float(fail["rate"]))
        complained = rng.random(len(hit)) < float(fail["complaint_prob"])
        resolved = rng.random(len(hit)) < float(fail["resolve_prob"])
        codes[month, hit] = np.where(complained, np.where(resolved, RESOLVED, UNRESOLVED),
                                     SILENT)
    return codes


def _exposed(rng: np.random.Generator, cfg: dict[str, Any], pop: Population, scope: str,
             region: int, begin: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Customers an incident would expose, and when (product / batch: a purchase in the window)."""
    signed = pop.signup_s < begin
    if scope == "region":
        rows = np.flatnonzero(signed & (pop.region == region))
        return rows, np.full(len(rows), begin, dtype=np.int64)
    share = float(cfg["incidents"]["exposure_share"][scope])
    p = np.minimum(1.0, share * pop.rate / pop.rate.mean())
    rows = np.flatnonzero(signed & (rng.random(len(pop)) < p))
    ts = begin + (rng.random(len(rows)) * (end - begin)).astype(np.int64)
    return rows, ts


def draw_incidents(rng: np.random.Generator, cfg: dict[str, Any], pop: Population,
                   cal: Calendar) -> Incidents:
    """Incidents (product / region / batch) and the customers each would expose."""
    inc = cfg["incidents"]
    first, last = int(inc["first_month"]), max(cal.months - 2, int(inc["first_month"]) + 1)
    k = int(inc["count"]) if first < cal.months else 0
    mix = np.array([float(inc["scope_mix"][s]) for s in SCOPES])
    scope = np.asarray(SCOPES)[pick(mix, rng.random(k))]
    month = rng.integers(first, last, k)
    begin = cal.edges[month] + rng.integers(0, INCIDENT_START_DAYS, k) * SECONDS_PER_DAY
    days = np.array([rng.integers(*[int(d) for d in inc["window_days"][s]]) for s in scope],
                    dtype=np.int64)
    end = begin + days * SECONDS_PER_DAY
    per_category = int(cfg["catalogue"]["products_per_category"])
    product = np.where(scope == "region", -1, rng.integers(0, 2 * per_category, k))
    region = np.where(scope == "region", rng.integers(0, len(cfg["regions"]), k), -1)
    severity = rng.integers(1, 4, k)
    rows, ts = zip(*[_exposed(rng, cfg, pop, scope[j], region[j], begin[j], end[j])
                     for j in range(k)], strict=True) if k else ((), ())
    table = incidents_table(cfg, begin, end, scope, severity, product, region)
    return Incidents(table, begin, end, severity, product, list(rows), list(ts),
                     [cal.month_of(t) for t in ts], [np.ones(len(r), dtype=bool) for r in rows])


def incidents_table(cfg: dict[str, Any], begin: np.ndarray, end: np.ndarray, scope: np.ndarray,
                    severity: np.ndarray, product: np.ndarray, region: np.ndarray) -> pd.DataFrame:
    """The observable ``incidents`` table.

    ``product_id`` (product / batch scope) or ``region`` (region scope) names what was
    hit; ``scope_value`` repeats it, whatever the scope. A batch is a product sold
    inside the incident's window.
    """
    regions = np.asarray(cfg["regions"], dtype=object)
    products = [product_name(p) if p >= 0 else None for p in product]
    places = [regions[r] if r >= 0 else None for r in region]
    return pd.DataFrame({
        "incident_id": pd.array([f"INC{j + 1:04d}" for j in range(len(begin))], dtype="str"),
        "start": to_datetime(begin),
        "end": to_datetime(end),
        "scope": pd.array(scope, dtype="str"),
        "severity": severity.astype(np.float64),
        "product_id": pd.Series(products, dtype="str"),
        "region": pd.Series(places, dtype="str"),
        "scope_value": pd.Series([p or r for p, r in zip(products, places, strict=True)],
                                 dtype="str"),
    })


def product_name(index: int | np.ndarray) -> Any:
    """``P0001``-style product identifiers for product indices."""
    if isinstance(index, np.ndarray):
        return np.strings.add("P", np.strings.zfill((index + 1).astype(str), 4))
    return f"P{index + 1:04d}"


def draw_shocks(rng: np.random.Generator, cfg: dict[str, Any], pop: Population,
                cal: Calendar) -> Shocks:
    """Every exogenous shock of the world."""
    return Shocks(competitor_calendar(rng, cfg, cal.months), price_rises(rng, cfg, cal.months),
                  draw_incidents(rng, cfg, pop, cal),
                  draw_failures(rng, cfg, len(pop), cal.months))
