"""Month-by-month lifecycle, vectorised over customers.

Each month, in this order: new customers join; scheduled campaigns run; active
customers decide to leave (hazard.py) and start fading; planned exits happen;
lapsed customers come back, spontaneously or because an offer worked. Every exit
and return is recorded as an episode (ground truth).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from churnml.simulate.campaigns import Campaigns
from churnml.simulate.hazard import Hazard
from churnml.simulate.offers import OfferBook
from churnml.simulate.population import Population
from churnml.simulate.shocks import Shocks
from churnml.simulate.spec import (
    ACTIVE,
    BURNED,
    INVOLUNTARY,
    LAPSED,
    LEAVING,
    NO_MONTH,
    NOT_YET,
    Calendar,
    pick,
)
from churnml.simulate.state import WINBACK, Month, State


class Lifecycle:
    """Advances the lifecycle state one month at a time."""

    def __init__(self, rng: np.random.Generator, campaign_rng: np.random.Generator,
                 cfg: dict[str, Any], pop: Population, shocks: Shocks, cal: Calendar) -> None:
        self.rng, self.pop, self.shocks, self.cal = rng, pop, shocks, cal
        self.hazard = Hazard(cfg, pop, shocks)
        self.book = OfferBook(cfg, pop)
        self.state = State.empty(len(pop), pop.advocate)
        self.campaigns = Campaigns(campaign_rng, cfg, pop, self.state, self.hazard, self.book, cal)
        self.floor = float(cfg["decline"]["floor"])
        self.recovery_offer = self.book.names.index(cfg["offers"]["advocate_offer"])
        self.exits: list[tuple[np.ndarray, ...]] = []
        self.returns: list[tuple[np.ndarray, ...]] = []

    def step(self, month: int) -> Month:
        """Simulate ``month``; return what the activity generators need."""
        st, pop = self.state, self.pop
        joining = (st.status == NOT_YET) & (np.maximum(pop.signup_month, 0) == month)
        st.status[joining] = ACTIVE
        redemptions = self.campaigns.run(month)
        self._decide(month)
        exiting = np.flatnonzero((st.status == LEAVING) & (st.exit_month == month))
        returning, return_offer = self._returns(month)
        length = int(self.cal.lengths[month])
        lo = np.zeros(len(pop), dtype=np.float32)
        lo[joining] = pop.signup_day[joining]
        lo[returning] = self.rng.random(len(returning), dtype=np.float32) * length
        on = np.isin(st.status, (ACTIVE, LEAVING))
        on[returning] = True
        hi = np.where(on, np.float32(length), np.float32(0))
        hi[exiting] = st.exit_day[exiting]  # joiners and returners cannot exit this month
        leaving = np.where(st.status == LEAVING, st.cause, -1).astype(np.int8)
        result = Month(month, int(self.cal.edges[month]), length, lo, hi, self._fade(month),
                       leaving, exiting, returning, return_offer, redemptions)
        self.shocks.realise(month, hi > lo, lambda rows, ts: self._active_at(result, rows, ts))
        self._close(month, result)
        return result

    def _decide(self, month: int) -> None:
        """Active customers decide to leave; the cause is drawn from the hazard components."""
        st = self.state
        rows = np.flatnonzero((st.status == ACTIVE) & (self.pop.signup_month < month))
        comps = self.hazard.components(month, rows)
        offered = (st.offer[rows] > 0) & (st.offer_until[rows] > month) & (st.offer_kind[rows]
                                                                           != WINBACK)
        if offered.any():
            comps[offered] *= self.book.keep_share(st.offer[rows[offered]], rows[offered])
        decide = self.rng.random(len(rows)) < comps.sum(axis=1)
        who = rows[decide]
        cause = pick(comps[decide], self.rng.random(len(who))).astype(np.int8)
        exit_month = month + self.hazard.draw_lag(self.rng, cause)
        length = self.cal.lengths[np.minimum(exit_month, self.cal.months - 1)]
        st.status[who], st.cause[who], st.decided[who] = LEAVING, cause, month
        st.exit_month[who] = exit_month
        st.exit_day[who] = self.rng.random(len(who)) * length

    def _returns(self, month: int) -> tuple[np.ndarray, np.ndarray]:
        """Lapsed customers who come back this month, and the offer that brought them."""
        st = self.state
        rows = np.flatnonzero(st.status == LAPSED)
        cause = st.cause[rows].astype(np.int64)
        p = self.hazard.return_prob(cause)
        offered = ((st.offer[rows] > 0) & (st.offer_until[rows] > month)
                   & (st.offer_kind[rows] == WINBACK))
        p[offered] += self.book.return_boost(st.offer[rows[offered]], rows[offered],
                                             cause[offered])
        back = self.rng.random(len(rows)) < p
        return rows[back], np.where(offered[back], st.offer[rows[back]], 0).astype(np.int8)

    def _fade(self, month: int) -> np.ndarray:
        """Spend multiplier: falls linearly to ``decline.floor`` between decision and exit."""
        st = self.state
        fade = np.ones(len(self.pop), dtype=np.float32)
        rows = np.flatnonzero((st.status == LEAVING) & (st.cause != INVOLUNTARY))
        progress = (month - st.decided[rows] + 1) / (st.exit_month[rows] - st.decided[rows] + 1)
        fade[rows] = 1.0 - (1.0 - self.floor) * progress
        return fade

    @staticmethod
    def _active_at(result: Month, rows: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        day = (seconds - result.start_s) / 86_400
        return (result.lo[rows] <= day) & (day < result.hi[rows])

    def _close(self, month: int, result: Month) -> None:
        """End of month: exits become lapses, returns become customers again."""
        st, ex, back = self.state, result.exiting, result.returning
        st.status[ex] = LAPSED
        self.exits.append((ex, np.full(len(ex), month), st.exit_day[ex], st.cause[ex]))
        self.returns.append((back, np.full(len(back), month), result.lo[back].copy()))
        record = st.record[back]
        paid = (result.return_offer > 0) & (record >= 0)
        self.campaigns.log.respond(record[paid], result.seconds(result.lo[back][paid]))
        convert = ((st.cause[back] == BURNED) & (result.return_offer == self.recovery_offer)
                   & (self.rng.random(len(back)) < self.book.advocate_conversion))
        st.advocate[back[convert]] = True
        st.status[back], st.cause[back] = ACTIVE, -1
        st.decided[back], st.record[back] = NO_MONTH, -1
