"""Campaign records (the observable ``campaigns`` table) and their true uplift."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnml.simulate.offers import OfferBook
from churnml.simulate.population import Population
from churnml.simulate.spec import Calendar, strings, to_datetime
from churnml.simulate.state import CAMPAIGN_KINDS

CAMPAIGN_COLUMNS = ["customer_id", "ts", "offer_id", "responded_ts", "redeemed", "cost",
                    "campaign_id"]
UPLIFT_COLUMNS = ["customer_id", "as_of", "offer_id", "true_uplift"]


def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


class CampaignLog:
    """Append-only campaign records plus the true uplift of every offer."""

    def __init__(self) -> None:
        self._cols: dict[str, list[np.ndarray]] = {
            k: [] for k in ("rows", "month", "day", "arm", "kind", "redeemed", "respond_s")}
        self._truth: dict[str, list[np.ndarray]] = {"rows": [], "as_of": [], "uplift": []}
        self._late: list[tuple[np.ndarray, np.ndarray]] = []
        self.size = 0

    def add(self, rows: np.ndarray, month: int, day: np.ndarray, arm: np.ndarray, kind: int,
            redeemed: np.ndarray, respond_s: np.ndarray) -> int:
        """Append one campaign's records; returns the index of the first one."""
        first = self.size
        n = len(rows)
        for key, value in (("rows", rows), ("month", np.full(n, month)), ("day", day),
                           ("arm", arm), ("kind", np.full(n, kind)), ("redeemed", redeemed),
                           ("respond_s", respond_s)):
            self._cols[key].append(np.asarray(value))
        self.size += n
        return first

    def add_truth(self, rows: np.ndarray, as_of: np.ndarray, uplift: np.ndarray) -> None:
        """Record the true uplift (rows × offers) of a campaign's customers."""
        self._truth["rows"].append(rows)
        self._truth["as_of"].append(as_of)
        self._truth["uplift"].append(uplift)

    def respond(self, records: np.ndarray, seconds: np.ndarray) -> None:
        """Mark records as redeemed at ``seconds`` (a lapsed customer came back)."""
        self._late.append((records, seconds))

    def table(self, pop: Population, cal: Calendar, book: OfferBook) -> pd.DataFrame:
        """The observable ``campaigns`` table, ordered by send time then customer."""
        rows = _cat(self._cols["rows"], np.int64)
        month, day = _cat(self._cols["month"], np.int64), _cat(self._cols["day"], np.int64)
        arm, kind = _cat(self._cols["arm"], np.int64), _cat(self._cols["kind"], np.int64)
        redeemed = _cat(self._cols["redeemed"], bool)
        respond = _cat(self._cols["respond_s"], np.int64)
        for records, seconds in self._late:
            redeemed[records], respond[records] = True, seconds
        ts = cal.edges[month] + day * 86_400
        months = pd.DatetimeIndex(to_datetime(cal.edges[month])).strftime("%Y-%m").to_numpy()
        label = np.strings.add(np.strings.add(np.asarray(CAMPAIGN_KINDS)[kind], "-"),
                               months.astype(str))
        responded = pd.Series(to_datetime(respond)).where(respond >= 0)
        frame = pd.DataFrame({
            "customer_id": strings(pop.ids, rows),
            "ts": to_datetime(ts),
            "offer_id": strings(book.names, arm),
            "responded_ts": responded.to_numpy(dtype="datetime64[us]"),
            "redeemed": redeemed,
            "cost": book.cost[arm],
            "campaign_id": strings(label),
        })
        order = np.lexsort((rows, ts))
        return frame.iloc[order].reset_index(drop=True)[CAMPAIGN_COLUMNS]

    def truth(self, pop: Population, book: OfferBook) -> pd.DataFrame:
        """``customer_id, as_of, offer_id, true_uplift`` for every campaign customer × offer."""
        rows = _cat(self._truth["rows"], np.int64)
        as_of = _cat(self._truth["as_of"], np.int64)
        offers = len(book.offers)
        uplift = (np.concatenate(self._truth["uplift"]) if self._truth["uplift"]
                  else np.zeros((0, offers)))
        names = list(book.names[1:])
        frame = pd.DataFrame({
            "customer_id": strings(pop.ids, np.repeat(rows, offers)),
            "as_of": to_datetime(np.repeat(as_of, offers)),
            "offer_id": strings(names, np.tile(np.arange(offers), len(rows))),
            "true_uplift": uplift.ravel(),
        })
        order = np.lexsort((np.tile(np.arange(offers), len(rows)), np.repeat(rows, offers),
                            np.repeat(as_of, offers)))
        return frame.iloc[order].reset_index(drop=True)[UPLIFT_COLUMNS]
