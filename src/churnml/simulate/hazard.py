"""Monthly exit hazard of an active customer, split into named causes.

Each month an active customer *decides to leave* with probability equal to the sum
of the components below; the cause is drawn in proportion to them, so it is known
exactly. A voluntary leaver then fades for 1..``decline.max_lag_months`` months
(spend falls, signals appear) before the exit; an involuntary one leaves after
``hazard.involuntary_lag_months`` months of payment failures.

Components, in :data:`~churnml.simulate.spec.CAUSES` order:

* natural: base x frailty, higher in the first months after signup;
* involuntary: base x payment risk;
* lured: while a competitor campaign runs in the customer's region, x price sensitivity;
* price: base x price sensitivity, higher for a while after a price rise;
* burned: x service sensitivity, for a while after an incident exposure or a failure.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from churnml.simulate.population import Population
from churnml.simulate.shocks import RESOLVED, SILENT, UNRESOLVED, Shocks
from churnml.simulate.spec import BURNED, CAUSES, INVOLUNTARY, LURED, NATURAL, PRICE, by_cause


class Hazard:
    """Hazard components as a pure function of month and customers (given the shocks)."""

    def __init__(self, cfg: dict[str, Any], pop: Population, shocks: Shocks) -> None:
        self.pop, self.shocks = pop, shocks
        self.hz = hz = {k: float(v) for k, v in cfg["hazard"].items()}
        self.effect_months = int(hz["effect_months"])
        self.new_months = int(hz["new_customer_months"])
        self.max_lag = int(cfg["decline"]["max_lag_months"])
        self.involuntary_lag = int(hz["involuntary_lag_months"])
        weights = cfg["failures"]["weight"]
        self.failure_weight = np.zeros(4, dtype=np.float32)
        for code, key in ((SILENT, "silent"), (RESOLVED, "resolved"), (UNRESOLVED, "unresolved")):
            self.failure_weight[code] = float(weights[key])
        self.severity_weight = np.asarray(cfg["incidents"]["severity_weight"], dtype=np.float32)
        rise = shocks.price_rise.astype(np.int32)
        window = np.convolve(rise, np.ones(self.effect_months, dtype=np.int32))[:len(rise)]
        self.after_rise = window > 0
        self.base = np.column_stack([  # the parts that do not change with the month
            hz["natural"] * pop.frailty,
            hz["involuntary"] * pop.pay_risk,
            hz["competitor"] * pop.price_sens ** hz["competitor_power"],
            hz["price"] * pop.price_sens,
            pop.service_sens,
        ])
        winback = cfg["winback"]
        self.spontaneous = float(winback["spontaneous_return"]) * by_cause(winback["cause_factor"])

    def components(self, month: int, rows: np.ndarray) -> np.ndarray:
        """Monthly decision hazard per cause, ``len(rows) × len(CAUSES)``."""
        pop, hz = self.pop, self.hz
        parts = self.base[rows]
        tenure = month - pop.signup_month[rows]
        new = (tenure >= 0) & (tenure < self.new_months)
        parts[new, NATURAL] *= hz["new_customer_multiplier"]
        parts[:, LURED] *= self.shocks.competitor[pop.region[rows], month]
        parts[:, PRICE] *= 1 + hz["price_rise_multiplier"] * self.after_rise[month]
        parts[:, BURNED] *= (hz["incident"] * self.incident_weight(month)[rows]
                             + hz["failure"] * self.recent_failures(month, rows))
        total = parts.sum(axis=1, keepdims=True)
        return parts / np.maximum(total, 1.0)

    def burn_weight(self, month: int) -> np.ndarray:
        """Per customer: weight of recent incident exposures plus recent service failures."""
        everyone = slice(None)
        return self.incident_weight(month) + self.recent_failures(month, everyone)

    def incident_weight(self, month: int) -> np.ndarray:
        """Per customer: severity weight of the worst recent incident exposure (0 if none)."""
        inc = self.shocks.incidents
        weight = np.zeros(len(self.pop), dtype=np.float32)
        for j in range(len(inc.rows)):
            recent = ((inc.month[j] < month) & (inc.month[j] >= month - self.effect_months)
                      & inc.real[j])
            if recent.any():
                rows = inc.rows[j][recent]
                sev = self.severity_weight[int(inc.severity[j]) - 1]
                weight[rows] = np.maximum(weight[rows], sev)
        return weight

    def recent_failures(self, month: int, rows: np.ndarray | slice) -> np.ndarray:
        """Weight of the worst service failure in the last ``effect_months`` months."""
        size = len(self.pop) if isinstance(rows, slice) else len(rows)
        weight = np.zeros(size, dtype=np.float32)
        for past in range(max(month - self.effect_months, 0), month):
            np.maximum(weight, self.failure_weight[self.shocks.failures[past, rows]], out=weight)
        return weight

    def return_prob(self, cause: np.ndarray) -> np.ndarray:
        """Monthly chance that a lapsed customer who left for ``cause`` comes back unprompted."""
        return self.spontaneous[cause]

    def draw_lag(self, rng: np.random.Generator, cause: np.ndarray) -> np.ndarray:
        """Months between the decision and the exit."""
        voluntary = rng.integers(1, self.max_lag + 1, len(cause))
        return np.where(cause == INVOLUNTARY, self.involuntary_lag, voluntary)

    def exit_by(self, months_left: int) -> np.ndarray:
        """P(lag <= ``months_left``) per cause: a decision now means an exit by then."""
        if months_left < 0:
            return np.zeros(len(CAUSES))
        voluntary = min(months_left, self.max_lag) / self.max_lag
        out = np.full(len(CAUSES), voluntary)
        out[INVOLUNTARY] = float(months_left >= self.involuntary_lag)
        return out
