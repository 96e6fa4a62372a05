"""Purchases and returned lines, one simulated month at a time.

Purchase counts are Poisson with the customer's rate x seasonality x the fade before
an exit x the share of spend that leaks to a competitor campaign in the region.
Lines fall into core / substitute / discount categories; price-sensitive customers,
and above all lured and price-driven leavers, drift towards substitutes and
discounts. A product or batch incident is visible as a purchase of the incident's
product inside its window: exactly the exposed customers have one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from churnml.simulate.offers import OfferBook
from churnml.simulate.population import Population
from churnml.simulate.shocks import Shocks
from churnml.simulate.spec import LURED, PRICE, SECONDS_PER_DAY, Calendar
from churnml.simulate.state import Month, State

COLUMNS = ("rows", "ts", "cents", "product", "discount_cents", "is_return")


class Shopping:
    """Draws each month's transaction lines."""

    def __init__(self, rng: np.random.Generator, cfg: dict[str, Any], pop: Population,
                 shocks: Shocks, cal: Calendar, book: OfferBook, state: State) -> None:
        self.rng, self.pop, self.shocks, self.book, self.state = rng, pop, shocks, book, state
        cat = cfg["catalogue"]
        self.per_category = int(cat["products_per_category"])
        self.discount_category = list(cat["categories"]).index("discount")
        self.mix = {k: np.asarray(v, dtype=float) for k, v in cat["mix"].items()}
        self.price_shift = float(cat["price_shift"])
        self.campaign_shift = float(cat["campaign_shift"])
        self.discount_rate = float(cat["discount_rate"])
        self.toxic_discount = float(cat["toxic_discount_rate"])
        self.spend_sd = float(cfg["traits"]["spend"]["log_sd"])
        self.leak = float(cfg["competitor"]["leak"])
        self.returns = cfg["returns"]
        self.end_s = int(cal.edges[-1])
        peak = int(cfg["seasonality_peak_month"])
        self.season = 1 + float(cfg["seasonality_amplitude"]) * np.cos(
            2 * np.pi * (cal.month_of_year - peak) / 12)

    def month(self, m: Month) -> dict[str, np.ndarray]:
        """All transaction lines dated in (or, for returned lines, just after) month ``m``."""
        rows = m.active_rows()
        campaign = self.shocks.competitor[self.pop.region[rows], m.index]
        leak = np.where(campaign, 1 - self.leak * self.pop.price_sens[rows], 1.0)
        span = (m.hi[rows] - m.lo[rows]) / m.length
        lam = self.pop.rate[rows] * self.season[m.index] * m.fade[rows] * leak * span
        buyers = np.repeat(rows, self.rng.poisson(lam))
        red = m.redemptions
        parts = [self._lines(buyers, m.seconds(m.days(self.rng, buyers)),
                             self._products(m, buyers)),
                 self._lines(m.returning, m.seconds(m.lo[m.returning]),
                             self._products(m, m.returning), m.return_offer),
                 self._lines(red.rows, m.seconds(red.day), self._products(m, red.rows),
                             red.offer)]
        for part in parts:
            self._remap_incident_products(m, part["ts"], part["product"])
        parts.append(self._exposure_lines(m))
        sold = {k: np.concatenate([p[k] for p in parts]) for k in COLUMNS}
        self.state.purchases += np.bincount(sold["rows"], minlength=len(self.pop))
        back = self._returned(sold)
        return {k: np.concatenate([sold[k], back[k]]) for k in COLUMNS}

    def _products(self, m: Month, rows: np.ndarray) -> np.ndarray:
        """Product index per line; the category follows the customer's current mix,
        which moves from ``normal`` towards ``drifting`` with price sensitivity, during a
        competitor campaign, and fully for lured and price-driven leavers."""
        pop = self.pop
        shift = pop.price_sens[rows] * self.price_shift
        campaign = self.shocks.competitor[pop.region[rows], m.index]
        shift = shift + campaign * pop.price_sens[rows] * self.campaign_shift
        shift = np.where(np.isin(m.leaving[rows], (LURED, PRICE)), 1.0, np.minimum(shift, 1.0))
        cum = {k: np.cumsum(v) / v.sum() for k, v in self.mix.items()}
        u = self.rng.random(len(rows))
        toxic = pop.toxic[rows]
        category = np.zeros(len(rows), dtype=np.int64)
        for k in range(len(cum["normal"]) - 1):
            edge = cum["normal"][k] + shift * (cum["drifting"][k] - cum["normal"][k])
            category += u >= np.where(toxic, cum["toxic"][k], edge)
        return category * self.per_category + self.rng.integers(0, self.per_category, len(rows))

    def _lines(self, rows: np.ndarray, ts: np.ndarray, product: np.ndarray,
               offer: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Purchase lines with amounts and discounts in cents (discount abuse by toxic ones)."""
        amount = np.exp(self.pop.spend_mu[rows] + self.rng.normal(0, self.spend_sd, len(rows)))
        cents = np.rint(amount * 100)
        rate = np.where(product // self.per_category == self.discount_category,
                        self.discount_rate, 0.0)
        rate = np.where(self.pop.toxic[rows], self.toxic_discount, rate)
        discount = np.rint(rate * cents)
        if offer is not None:
            discount = np.maximum(discount, np.minimum(self.book.discount[offer] * 100, cents))
        return {"rows": rows.astype(np.int32), "ts": ts.astype(np.int64),
                "cents": cents.astype(np.int32), "product": product.astype(np.int16),
                "discount_cents": discount.astype(np.int32),
                "is_return": np.zeros(len(rows), dtype=bool)}

    def _incidents_in(self, m: Month) -> list[int]:
        inc = self.shocks.incidents
        end = m.start_s + m.length * SECONDS_PER_DAY
        return [j for j in range(len(inc.rows))
                if inc.product[j] >= 0 and inc.start_s[j] < end and inc.end_s[j] > m.start_s]

    def _remap_incident_products(self, m: Month, ts: np.ndarray,
                                 product: np.ndarray) -> None:
        """Ordinary lines of an incident's product inside its window become a sibling
        product (in place), so that the exposure lines are the only ones: exposure is
        observable exactly."""
        inc = self.shocks.incidents
        for j in self._incidents_in(m):
            hit = (product == inc.product[j]) & (ts >= inc.start_s[j]) & (ts < inc.end_s[j])
            base = product[hit] - product[hit] % self.per_category
            product[hit] = base + (product[hit] % self.per_category + 1) % self.per_category

    def _exposure_lines(self, m: Month) -> dict[str, np.ndarray]:
        """The purchase that exposed each customer to a product or batch incident."""
        inc = self.shocks.incidents
        rows, ts, product = [], [], []
        for j in range(len(inc.rows)):
            now = (inc.month[j] == m.index) & inc.real[j]
            if inc.product[j] >= 0 and now.any():
                rows.append(inc.rows[j][now])
                ts.append(inc.ts[j][now])
                product.append(np.full(int(now.sum()), inc.product[j]))
        if not rows:
            empty = np.zeros(0, dtype=np.int64)
            return self._lines(empty, empty, empty)
        return self._lines(np.concatenate(rows), np.concatenate(ts), np.concatenate(product))

    def _returned(self, sold: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Lines sent back a few days later (toxic customers and terrorists far more often).

        Returns that would fall after the end of the simulated period are not drawn.
        """
        cfg, rows = self.returns, sold["rows"]
        rate = np.where(self.pop.toxic[rows], float(cfg["toxic_rate"]), float(cfg["rate"]))
        rate = np.where(self.pop.terrorist[rows], float(cfg["terrorist_rate"]), rate)
        back = np.flatnonzero(self.rng.random(len(rows)) < rate)
        delay = self.rng.integers(SECONDS_PER_DAY, int(cfg["max_days"]) * SECONDS_PER_DAY,
                                  len(back))
        ts = sold["ts"][back] + delay
        back, ts = back[ts < self.end_s], ts[ts < self.end_s]
        return {"rows": rows[back], "ts": ts,
                "cents": -sold["cents"][back], "product": sold["product"][back],
                "discount_cents": np.zeros(len(back), dtype=np.int32),
                "is_return": np.ones(len(back), dtype=bool)}
