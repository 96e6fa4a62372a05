"""Past randomized reengagement campaigns: who was targeted, which arm, what happened.

Every ``campaigns.every_months`` months the business ran two campaigns:

* **retention**, to active customers it judged at risk (decided leavers are reached
  more often; others in proportion to their hazard);
* **win-back**, to a share of lapsed customers.

Targeted customers are randomised over the arms (the control gets nothing), and the
true uplift of *every* offer is recorded for *every* targeted customer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from churnml.simulate.hazard import Hazard
from churnml.simulate.offers import OfferBook, arm_weights
from churnml.simulate.population import Population
from churnml.simulate.records import CampaignLog
from churnml.simulate.spec import ACTIVE, LAPSED, LEAVING, NO_MONTH, Calendar, pick
from churnml.simulate.state import RETENTION, WINBACK, Redemptions, State
from churnml.simulate.uplift import retention_uplift, winback_uplift


class Campaigns:
    """Runs the scheduled campaigns against the lifecycle state."""

    def __init__(self, rng: np.random.Generator, cfg: dict[str, Any], pop: Population,
                 state: State, hazard: Hazard, book: OfferBook, cal: Calendar) -> None:
        self.rng, self.pop, self.state, self.hazard, self.book = rng, pop, state, hazard, book
        camp = cfg["campaigns"]
        self.cfg = camp
        self.horizon = int(cfg["truth_horizon_months"])
        first, every = int(camp["first_month"]), int(camp["every_months"])
        self.schedule = set(range(first, cal.months - self.horizon + 1, every))
        self.weights = arm_weights(cfg, book.names)
        self.cal = cal
        self.log = CampaignLog()

    def run(self, month: int) -> Redemptions:
        """Run this month's campaigns (if any) and return the redemptions they cause."""
        redeemed = Redemptions()
        if month not in self.schedule:
            return redeemed
        self._retention(month, redeemed)
        self._winback(month, redeemed)
        return redeemed

    def _assign(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        arm = pick(self.weights, self.rng.random(len(rows))).astype(np.int8)
        day = self.rng.integers(0, int(self.cfg["send_days"]), len(rows)).astype(np.float32)
        return arm, day

    def _as_of(self, month: int, day: np.ndarray) -> np.ndarray:
        return self.cal.edges[month] + day.astype(np.int64) * 86_400

    def _redeem_day(self, day: np.ndarray) -> np.ndarray:
        return day + self.rng.integers(1, int(self.cfg["respond_days"]) + 1, len(day))

    def _retention(self, month: int, redeemed: Redemptions) -> None:
        st, pop, cfg = self.state, self.pop, self.cfg["retention"]
        eligible = np.flatnonzero(np.isin(st.status, (ACTIVE, LEAVING))
                                  & (pop.signup_month <= month - int(cfg["min_tenure_months"])))
        if eligible.size == 0:
            return
        leaving = st.status[eligible] == LEAVING
        risk = self.hazard.components(month, eligible).sum(axis=1)
        reach = np.minimum(1.0, float(cfg["reach"]) * risk / max(risk.mean(), 1e-12))
        reach = np.where(leaving, float(cfg["leaving_reach"]), reach)
        rows = eligible[self.rng.random(len(eligible)) < reach]
        leaving = st.status[rows] == LEAVING
        cause = np.where(leaving, st.cause[rows], -1)
        arm, day = self._assign(rows)
        truth = retention_uplift(self.hazard, self.book, rows, month, self.horizon, leaving,
                                 cause, np.where(leaving, st.exit_month[rows], NO_MONTH))
        rescue = self.book.rescue_prob(arm, rows, np.maximum(cause, 0))
        rescued = leaving & (self.rng.random(len(rows)) < rescue)
        took = ~leaving & (self.rng.random(len(rows)) < self.book.redeem_prob(arm, rows))
        took = (rescued | took) & (arm > 0)
        saved = rows[rescued]
        st.status[saved], st.cause[saved] = ACTIVE, -1
        st.decided[saved], st.exit_month[saved] = NO_MONTH, NO_MONTH
        self._set_offer(rows, arm, month, RETENTION)
        when = self._redeem_day(day)
        redeemed.extend(rows[took], when[took], arm[took])
        respond = np.where(took, self.cal.edges[month] + (when * 86_400).astype(np.int64), -1)
        self.log.add(rows, month, day, arm, RETENTION, took, respond)
        self.log.add_truth(rows, self._as_of(month, day), truth)

    def _winback(self, month: int, redeemed: Redemptions) -> None:
        st, cfg = self.state, self.cfg["winback"]
        eligible = np.flatnonzero((st.status == LAPSED)
                                  & (st.exit_month <= month - int(cfg["min_months_lapsed"])))
        rows = eligible[self.rng.random(len(eligible)) < float(cfg["reach"])]
        arm, day = self._assign(rows)
        cause = st.cause[rows]
        truth = winback_uplift(self.hazard, self.book, rows, self.horizon, cause)
        inert = self.pop.toxic[rows] | self.pop.terrorist[rows]
        one_off = inert & (arm > 0) & (self.rng.random(len(rows)) < self.book.toxic_redeem[arm])
        when = self._redeem_day(day)
        redeemed.extend(rows[one_off], when[one_off], arm[one_off])
        respond = np.where(one_off, self.cal.edges[month] + (when * 86_400).astype(np.int64), -1)
        first = self.log.add(rows, month, day, arm, WINBACK, one_off, respond)
        self._set_offer(rows, arm, month, WINBACK)
        st.record[rows] = np.where(inert, -1, first + np.arange(len(rows)))
        self.log.add_truth(rows, self._as_of(month, day), truth)

    def _set_offer(self, rows: np.ndarray, arm: np.ndarray, month: int, kind: int) -> None:
        st = self.state
        st.offer[rows] = arm
        st.offer_until[rows] = month + self.book.active_months
        st.offer_kind[rows] = kind
