"""Mutable per-customer lifecycle state and the per-month snapshot handed to the
activity and event generators."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from churnml.simulate.spec import NO_MONTH, NOT_YET

RETENTION, WINBACK = 0, 1
CAMPAIGN_KINDS = ("retention", "winback")


@dataclass
class State:
    """Where each customer is in the lifecycle (arrays over customers)."""

    status: np.ndarray             # NOT_YET / ACTIVE / LEAVING / LAPSED
    cause: np.ndarray              # cause of the current decision or last exit, -1 if none
    decided: np.ndarray            # month of the current decision to leave
    exit_month: np.ndarray         # planned (LEAVING) or last (LAPSED) exit month
    exit_day: np.ndarray           # day inside the exit month
    offer: np.ndarray              # arm of the latest campaign (0: control or none)
    offer_until: np.ndarray        # first month the offer no longer works
    offer_kind: np.ndarray         # RETENTION or WINBACK
    record: np.ndarray             # campaign record of the latest win-back offer, -1 if none
    advocate: np.ndarray
    purchases: np.ndarray          # purchases so far (for the loyalty rung)

    @classmethod
    def empty(cls, n: int, advocate: np.ndarray) -> State:
        """Everybody not yet a customer."""
        return cls(
            status=np.full(n, NOT_YET, dtype=np.int8), cause=np.full(n, -1, dtype=np.int8),
            decided=np.full(n, NO_MONTH, dtype=np.int32),
            exit_month=np.full(n, NO_MONTH, dtype=np.int32),
            exit_day=np.zeros(n, dtype=np.float32), offer=np.zeros(n, dtype=np.int8),
            offer_until=np.full(n, NO_MONTH, dtype=np.int32),
            offer_kind=np.zeros(n, dtype=np.int8), record=np.full(n, -1, dtype=np.int64),
            advocate=advocate.copy(), purchases=np.zeros(n, dtype=np.int64),
        )


@dataclass
class Redemptions:
    """Offers redeemed in a month: each is a discounted purchase."""

    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    offer: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))

    def extend(self, rows: np.ndarray, day: np.ndarray, offer: np.ndarray) -> None:
        """Append redemptions."""
        self.rows = np.concatenate([self.rows, rows])
        self.day = np.concatenate([self.day, day.astype(np.float32)])
        self.offer = np.concatenate([self.offer, offer.astype(np.int8)])


@dataclass
class Month:
    """One simulated month, as seen by the activity and event generators.

    ``lo`` and ``hi`` bound, in days from the month start, when each customer is a
    customer this month (``hi <= lo``: not at all).
    """

    index: int
    start_s: int
    length: int
    lo: np.ndarray
    hi: np.ndarray
    fade: np.ndarray               # spend multiplier (1 unless fading before an exit)
    leaving: np.ndarray            # cause of a decided leaver, -1 otherwise
    exiting: np.ndarray            # rows leaving this month (at ``hi``)
    returning: np.ndarray          # rows coming back this month (at ``lo``)
    return_offer: np.ndarray       # offer redeemed by each returning row (0: none)
    redemptions: Redemptions

    def active_rows(self) -> np.ndarray:
        """Customers who are customers at some time this month."""
        return np.flatnonzero(self.hi > self.lo)

    def days(self, rng: np.random.Generator, rows: np.ndarray) -> np.ndarray:
        """Uniform days inside each row's active interval."""
        lo = self.lo[rows]
        return lo + rng.random(len(rows), dtype=np.float32) * (self.hi[rows] - lo)

    def seconds(self, day: np.ndarray) -> np.ndarray:
        """Epoch seconds of days from the month start."""
        return self.start_s + (day.astype(np.float64) * 86_400).astype(np.int64)
