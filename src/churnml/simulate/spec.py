"""Shared vocabulary of the synthetic world: causes, states, event types, calendar.

Times inside the generator are integer seconds since the Unix epoch; months are
indices into the simulated calendar (month 0 starts at ``world.start``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

SECONDS_PER_DAY = 86_400
NO_MONTH = -999

# Exit causes; the order is the column order of hazard components (see hazard.py).
CAUSES = ("natural", "involuntary", "lured", "price", "burned")
NATURAL, INVOLUNTARY, LURED, PRICE, BURNED = range(len(CAUSES))

# Lifecycle states of a customer.
NOT_YET, ACTIVE, LEAVING, LAPSED = range(4)

# Event types the world emits (DESIGN §4 vocabulary); codes index this tuple.
EVENT_TYPES = (
    "complaint", "support_contact", "competitor_inquiry", "price_comparison",
    "cancel_page_visit", "port_out_request", "downgrade", "payment_failure", "chargeback",
    "public_complaint", "referral", "survey_score", "cancellation",
)
EVENT_CODE = {name: code for code, name in enumerate(EVENT_TYPES)}

# Independent random streams, so that changing one mechanism does not reshuffle others.
STREAMS = ("population", "shocks", "lifecycle", "campaigns", "transactions", "events")

# Incident scopes (DESIGN §4).
SCOPES = ("product", "region", "batch")


@dataclass(frozen=True)
class Calendar:
    """Month starts of the simulated period (``months + 1`` edges, epoch seconds)."""

    edges: np.ndarray
    lengths: np.ndarray
    month_of_year: np.ndarray

    @property
    def months(self) -> int:
        """Number of simulated months."""
        return len(self.lengths)

    @property
    def end(self) -> pd.Timestamp:
        """First instant after the simulated period."""
        return pd.Timestamp(int(self.edges[-1]), unit="s")

    def month_of(self, seconds: np.ndarray) -> np.ndarray:
        """Month index of each time (``-1`` before the start, ``months`` after the end)."""
        return np.searchsorted(self.edges, seconds, side="right") - 1


def make_calendar(start: str, months: int) -> Calendar:
    """Calendar of ``months`` months beginning on the first day of ``start``'s month."""
    first = pd.Timestamp(start).to_period("M").to_timestamp()
    stamps = pd.date_range(first, periods=months + 1, freq="MS")
    edges = (stamps.to_numpy().astype("datetime64[s]").astype(np.int64))
    return Calendar(edges, np.diff(edges) // SECONDS_PER_DAY, stamps[:-1].month.to_numpy())


def random_streams(seed: int) -> dict[str, np.random.Generator]:
    """One generator per name in :data:`STREAMS`, all derived from ``seed``."""
    children = np.random.SeedSequence(int(seed)).spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children,
                                                                          strict=True)}


def pick(mix: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Category index for uniforms ``u`` under probabilities ``mix`` (rows or one vector)."""
    cum = np.cumsum(mix, axis=-1)
    if cum.ndim == 1:
        return np.searchsorted(cum / cum[-1], u, side="right").clip(0, len(mix) - 1)
    return (u[:, None] * cum[:, -1:] >= cum).sum(axis=1).clip(0, cum.shape[1] - 1)


def by_cause(table: dict[str, Any], default: float = 0.0) -> np.ndarray:
    """Vector over :data:`CAUSES` from a ``{cause: value}`` config mapping."""
    unknown = set(table) - set(CAUSES)
    if unknown:
        raise ValueError(f"unknown exit cause(s) {sorted(unknown)}; expected {CAUSES}")
    return np.array([float(table.get(c, default)) for c in CAUSES])


def to_datetime(seconds: np.ndarray, inplace: bool = False) -> np.ndarray:
    """Epoch seconds (int64) to ``datetime64[us]``; ``inplace`` reuses the buffer."""
    micro = np.multiply(seconds, 1_000_000, out=seconds if inplace else None, dtype=np.int64)
    return micro.view("datetime64[us]")


STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default ``str`` dtype


def strings(values: np.ndarray | Sequence[str | None],
            index: np.ndarray | None = None) -> pd.Series:
    """``values[index]`` (or ``values``) as a pandas ``str`` column, built in Arrow.

    Much faster than ``pd.array(numpy_unicode, dtype="str")`` at 10^6-10^7 rows.
    """
    array = pa.array(values if isinstance(values, np.ndarray) else list(values),
                     type=pa.large_string())
    if index is not None:
        array = array.take(pa.array(np.asarray(index)))
    return pd.Series(array.to_pandas(types_mapper={pa.large_string(): STR}.get), dtype=STR)
