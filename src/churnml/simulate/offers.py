"""The reengagement offers of past campaigns and their *true* effects.

An offer works for ``offers.active_months`` months after it is sent. Its effect
depends on why the customer is leaving (or left) and on the customer:

* ``rescue[cause]``: chance that a customer who has decided to leave stays;
* ``protect[cause]``: share of that hazard component removed for customers who have
  not decided anything yet;
* ``return_boost[cause]``: added monthly chance that a lapsed customer comes back.

Each is multiplied by ``response_floor + trait`` where the trait is the customer's
service sensitivity, price sensitivity or value percentile; toxic customers and
terrorists take offers (``toxic_redeem``) but do not change their behaviour.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from churnml.simulate.population import Population
from churnml.simulate.spec import by_cause

CONTROL = "control"
TRAITS = ("service_sensitivity", "price_sensitivity", "value")


class OfferBook:
    """Offer catalogue as arrays; arm 0 is the control group."""

    def __init__(self, cfg: dict[str, Any], pop: Population) -> None:
        offers = cfg["offers"]
        catalogue: dict[str, dict[str, Any]] = offers["catalogue"]
        self.names = (CONTROL, *catalogue)
        self.active_months = int(offers["active_months"])
        self.floor = float(offers["response_floor"])
        self.advocate_conversion = float(offers["advocate_conversion"])
        specs = [{}, *catalogue.values()]
        self.cost = np.array([float(s.get("cost", 0.0)) for s in specs])
        self.discount = np.array([float(s.get("discount", 0.0)) for s in specs])
        self.redeem = np.array([float(s.get("redeem", 0.0)) for s in specs])
        self.toxic_redeem = np.array([float(s.get("toxic_redeem", 0.0)) for s in specs])
        self.rescue = np.array([by_cause(s.get("rescue", {})) for s in specs])
        self.protect = np.array([by_cause(s.get("protect", {})) for s in specs])
        self.boost = np.array([by_cause(s.get("return_boost", {})) for s in specs])
        for spec in catalogue.values():
            if spec["trait"] not in TRAITS:
                raise ValueError(f"offer trait must be one of {TRAITS}, got {spec['trait']!r}")
        traits = {"service_sensitivity": pop.service_sens, "price_sensitivity": pop.price_sens,
                  "value": pop.value_pct}
        self._trait = [np.zeros(len(pop)), *(traits[s["trait"]] for s in catalogue.values())]
        self._inert = pop.toxic | pop.terrorist
        self.pop = pop

    @property
    def offers(self) -> range:
        """Indices of the real offers (every arm but the control)."""
        return range(1, len(self.names))

    def response(self, offer: np.ndarray | int, rows: np.ndarray) -> np.ndarray:
        """How strongly each customer responds to their offer (0 for the control arm)."""
        offer = np.broadcast_to(np.asarray(offer), rows.shape)
        trait = np.zeros(len(rows))
        for k in self.offers:
            mine = offer == k
            trait[mine] = self._trait[k][rows[mine]]
        factor = np.where(offer > 0, self.floor + trait, 0.0)
        return np.where(self._inert[rows], 0.0, factor)

    def rescue_prob(self, offer: np.ndarray | int, rows: np.ndarray,
                    cause: np.ndarray) -> np.ndarray:
        """Chance that a decided leaver of ``cause`` stays after the offer."""
        return np.clip(self.rescue[offer, cause] * self.response(offer, rows), 0.0, 1.0)

    def keep_share(self, offer: np.ndarray | int, rows: np.ndarray) -> np.ndarray:
        """Multiplier of each hazard component while the offer works (rows × causes)."""
        strength = self.protect[offer] * self.response(offer, rows)[:, None]
        return 1.0 - np.clip(strength, 0.0, 1.0)

    def return_boost(self, offer: np.ndarray | int, rows: np.ndarray,
                     cause: np.ndarray) -> np.ndarray:
        """Added monthly chance that a lapsed customer of ``cause`` returns."""
        return self.boost[offer, cause] * self.response(offer, rows)

    def redeem_prob(self, offer: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Chance that a treated customer who is not leaving redeems the offer."""
        return np.where(self._inert[rows], self.toxic_redeem[offer], self.redeem[offer])


def arm_weights(cfg: dict[str, Any], names: tuple[str, ...]) -> np.ndarray:
    """Randomisation probabilities of the arms, in ``names`` order."""
    weights = cfg["campaigns"]["arms"]
    unknown = set(weights) - set(names)
    if unknown:
        raise ValueError(f"campaign arms {sorted(unknown)} are not in the offer catalogue")
    w = np.array([float(weights.get(name, 0.0)) for name in names])
    return w / w.sum()

