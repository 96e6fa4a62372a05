"""True per-offer uplift, computed in closed form from the world's own mechanics.

For an active customer the outcome is *staying*: no exit in the ``horizon`` months
that start with the campaign month. For a lapsed customer it is *returning* within
those months. The uplift of an offer is P(outcome | offer) - P(outcome | nothing),
given the shocks the world actually drew (the oracle's knowledge).
"""

from __future__ import annotations

import numpy as np

from churnml.simulate.hazard import Hazard
from churnml.simulate.offers import OfferBook


def _stay_undecided(parts: list[np.ndarray], keep: np.ndarray | None, active_months: int,
                    hazard: Hazard) -> np.ndarray:
    """P(no exit within the horizon) for customers who have not decided to leave.

    ``parts[k]`` holds the hazard components of horizon month ``k`` (rows × causes);
    ``keep`` multiplies them while the offer works.
    """
    horizon = len(parts)
    survive = np.ones(len(parts[0]))
    exits = np.zeros(len(parts[0]))
    for k, comps in enumerate(parts):
        if keep is not None and k < active_months:
            comps = comps * keep
        exits += survive * (comps @ hazard.exit_by(horizon - 1 - k))
        survive *= 1.0 - comps.sum(axis=1)
    return 1.0 - exits


def retention_uplift(hazard: Hazard, book: OfferBook, rows: np.ndarray, month: int,
                     horizon: int, leaving: np.ndarray, cause: np.ndarray,
                     exit_month: np.ndarray) -> np.ndarray:
    """True change in P(stay) for active customers, ``len(rows) × len(book.offers)``.

    Parameters
    ----------
    leaving
        Customers who already decided to leave (and may be rescued by an offer).
    cause, exit_month
        Their cause and planned exit month (ignored for the others).
    """
    parts = [hazard.components(month + k, rows) for k in range(horizon)]
    base = _stay_undecided(parts, None, book.active_months, hazard)
    gone_later = exit_month >= month + horizon
    stay_none = np.where(leaving, gone_later, base)
    out = np.empty((len(rows), len(book.offers)))
    for col, offer in enumerate(book.offers):
        stay = _stay_undecided(parts, book.keep_share(offer, rows), book.active_months, hazard)
        rescue = np.where(leaving, book.rescue_prob(offer, rows, np.maximum(cause, 0)), 0.0)
        stay_offer = np.where(leaving, rescue * stay + (1 - rescue) * gone_later, stay)
        out[:, col] = stay_offer - stay_none
    return out


def winback_uplift(hazard: Hazard, book: OfferBook, rows: np.ndarray, horizon: int,
                   cause: np.ndarray) -> np.ndarray:
    """True change in P(return within the horizon) for lapsed customers."""
    spontaneous = hazard.return_prob(cause)
    stay_away = (1 - spontaneous) ** horizon
    boosted = min(book.active_months, horizon)
    out = np.empty((len(rows), len(book.offers)))
    for col, offer in enumerate(book.offers):
        p = np.minimum(1.0, spontaneous + book.return_boost(offer, rows, cause))
        away = (1 - p) ** boosted * (1 - spontaneous) ** (horizon - boosted)
        out[:, col] = stay_away - away
    return out
