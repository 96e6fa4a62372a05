"""Month-by-month exits and returns, vectorised over customers.

Each month an alive customer leaves with a hazard that adds up named components;
the cause of an exit is drawn in proportion to the components, so it is known
exactly (ground truth). Lapsed customers come back spontaneously or after a
win-back offer whose effect depends on why they left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

CAUSES = np.array(["natural", "involuntary", "lured", "price", "burned"])
NO_MONTH = -999
# True response of lapsed customers to a win-back price offer, by exit cause: lured and
# price-driven customers answer a price match, burned ones barely (they need recovery).
WINBACK_OFFER_BOOST = {"natural": 0.04, "involuntary": 0.10, "lured": 0.12, "price": 0.12,
                       "burned": 0.01}
WINBACK_OFFER_MONTHS = 3


@dataclass
class Lifecycle:
    """Per-customer exit/return months (``NO_MONTH`` when none) and exit cause."""

    exit_month: np.ndarray
    exit_day: np.ndarray
    cause: np.ndarray
    return_month: np.ndarray
    campaign_rows: pd.DataFrame


def hazard_components(cfg: dict[str, Any], customers: pd.DataFrame, month: int,
                      competitor: np.ndarray, exposed_since: np.ndarray) -> np.ndarray:
    """Monthly exit hazard per cause (customers × causes), ordered as ``CAUSES``."""
    hz = cfg["hazard"]
    region = customers["_region_code"].to_numpy()
    price = customers["_price_sens"].to_numpy()
    service = customers["_service_sens"].to_numpy()
    since = month - exposed_since
    recently_exposed = (since >= 0) & (since < int(hz["incident_months"]))
    n = len(customers)
    return np.column_stack([
        np.full(n, float(hz["natural"])),
        np.full(n, float(hz["involuntary"])),
        float(hz["competitor"]) * price * competitor[region, month],
        float(hz.get("price", 0.006)) * price,
        float(hz["incident"]) * service * recently_exposed,
    ])


def simulate_lifecycle(rng: np.random.Generator, cfg: dict[str, Any], customers: pd.DataFrame,
                       months: int, competitor: np.ndarray,
                       exposure_month: np.ndarray) -> Lifecycle:
    """Run exits, returns and randomized win-back campaigns over ``months`` months.

    Parameters
    ----------
    customers
        Needs ``_signup_month, _region_code, _price_sens, _service_sens``.
    exposure_month
        Month of each customer's latest incident exposure so far, per month
        (customers × months), ``NO_MONTH`` before any exposure.
    """
    n = len(customers)
    signup_month = customers["_signup_month"].to_numpy()
    exit_month = np.full(n, NO_MONTH)
    return_month = np.full(n, NO_MONTH)
    cause = np.full(n, "", dtype=object)
    offer_boost = np.zeros(n)
    offer_until = np.full(n, NO_MONTH)
    campaign_months = {months // 2, months - 7}
    spontaneous = float(cfg["winback"]["spontaneous_return"])
    campaigns = []
    for month in range(months):
        alive = (signup_month <= month) & (exit_month == NO_MONTH)
        parts = hazard_components(cfg, customers, month, competitor, exposure_month[:, month])
        total = parts.sum(axis=1)
        leaves = alive & (rng.random(n) < total)
        exit_month[leaves] = month
        pick = (parts[leaves].cumsum(axis=1) / total[leaves, None]) > rng.random(leaves.sum())[:, None]
        cause[leaves] = CAUSES[pick.argmax(axis=1)]
        lapsed = (exit_month != NO_MONTH) & (exit_month < month - 1) & (return_month == NO_MONTH)
        if month in campaign_months and lapsed.any():
            campaigns.append(_randomized_campaign(rng, month, np.flatnonzero(lapsed), cause))
            treated = campaigns[-1]
            treated = treated[treated["offer_id"] != "control"]["_row"].to_numpy()
            offer_boost[treated] = [WINBACK_OFFER_BOOST[c] for c in cause[treated]]
            offer_until[treated] = month + WINBACK_OFFER_MONTHS
        boost = np.where(month < offer_until, offer_boost, 0.0)
        comes_back = lapsed & (rng.random(n) < spontaneous + boost)
        return_month[comes_back] = month
    day = rng.integers(0, 28, n)
    rows = pd.concat(campaigns, ignore_index=True) if campaigns else pd.DataFrame()
    return Lifecycle(exit_month, day, cause, return_month, rows)


def _randomized_campaign(rng: np.random.Generator, month: int, rows: np.ndarray,
                         cause: np.ndarray) -> pd.DataFrame:
    """Half of the lapsed customers get a win-back discount, half are the control."""
    treated = rng.random(len(rows)) < 0.5
    return pd.DataFrame({
        "_row": rows,
        "_month": month,
        "_day": rng.integers(0, 5, len(rows)),
        "offer_id": np.where(treated, "winback_discount", "control"),
        "_cause": cause[rows],
    })


def true_winback_uplift(cause: np.ndarray, spontaneous: float, horizon_months: int) -> np.ndarray:
    """True change in P(return within the horizon) from the win-back discount, by cause."""
    boost = np.array([WINBACK_OFFER_BOOST.get(c, 0.0) for c in cause])
    offer_months = min(WINBACK_OFFER_MONTHS, horizon_months)
    rest = horizon_months - offer_months
    stay_away_ctrl = (1 - spontaneous) ** horizon_months
    stay_away_treat = (1 - spontaneous - boost) ** offer_months * (1 - spontaneous) ** rest
    return stay_away_ctrl - stay_away_treat
