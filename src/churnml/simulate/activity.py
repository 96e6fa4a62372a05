"""Purchases, returns and interaction events implied by each customer's lifecycle."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnml.simulate.lifecycle import NO_MONTH, Lifecycle

CATEGORIES = np.array(["core", "substitute", "discount"])
NORMAL_MIX = np.array([0.7, 0.2, 0.1])
DRIFTING_MIX = np.array([0.4, 0.3, 0.3])
DAYS_PER_MONTH = 28  # activity days drawn per month; keeps every month the same length


def active_cells(customers: pd.DataFrame, life: Lifecycle, months: int) -> np.ndarray:
    """Boolean customers × months: the customer is a customer in that month."""
    m = np.arange(months)[None, :]
    signup = customers["_signup_month"].to_numpy()[:, None]
    exit_m, ret = life.exit_month[:, None], life.return_month[:, None]
    before_exit = (exit_m == NO_MONTH) | (m <= exit_m)
    back = (ret != NO_MONTH) & (m >= ret)
    return (m >= signup) & (before_exit | back)


def decline_factor(cfg: dict[str, Any], life: Lifecycle, months: int) -> np.ndarray:
    """Spend multiplier fading linearly to ``floor`` over the months before an exit."""
    width, floor = int(cfg["decline"]["months"]), float(cfg["decline"]["floor"])
    ahead = life.exit_month[:, None] - np.arange(months)[None, :]
    fading = (life.exit_month[:, None] != NO_MONTH) & (ahead >= 0) & (ahead < width)
    step = (1.0 - floor) * (width - ahead) / width
    return np.where(fading, 1.0 - step, 1.0)


def draw_transactions(rng: np.random.Generator, cfg: dict[str, Any], customers: pd.DataFrame,
                      life: Lifecycle, month_starts: pd.DatetimeIndex) -> pd.DataFrame:
    """Purchase lines (and their returns) for every active customer-month."""
    months = len(month_starts) - 1
    active = active_cells(customers, life, months)
    season = 1 + float(cfg["seasonality_amplitude"]) * np.cos(
        2 * np.pi * (month_starts[:-1].month.to_numpy() - 12) / 12)
    lam = customers["_rate"].to_numpy()[:, None] * season[None, :]
    lam = lam * decline_factor(cfg, life, months) * active
    counts = rng.poisson(lam)
    rows, month = np.nonzero(counts)
    reps = counts[rows, month]
    rows, month = np.repeat(rows, reps), np.repeat(month, reps)
    ts = _timestamps(rng, customers, life, rows, month, month_starts)
    sd = float(cfg["spend"]["log_sd"])
    amount = np.round(np.exp(customers["_spend_mu"].to_numpy()[rows] + rng.normal(0, sd, len(rows))), 2)
    drifting = decline_factor(cfg, life, months)[rows, month] < 1.0
    drifting &= np.isin(life.cause[rows], ["lured", "price"])
    u = rng.random(len(rows))
    category = np.where(drifting, _pick(DRIFTING_MIX, u), _pick(NORMAL_MIX, u))
    purchases = pd.DataFrame({
        "customer_id": customers["customer_id"].to_numpy()[rows],
        "ts": ts,
        "amount": amount,
        "category": CATEGORIES[category],
        "discount": np.where(category == 2, np.round(0.2 * amount, 2), 0.0),
        "is_return": False,
    })
    return pd.concat([purchases, _returns(rng, customers, purchases, rows)], ignore_index=True)


def _pick(mix: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.cumsum(mix), u, side="right").clip(0, len(mix) - 1)


def _timestamps(rng: np.random.Generator, customers: pd.DataFrame, life: Lifecycle,
                rows: np.ndarray, month: np.ndarray, month_starts: pd.DatetimeIndex) -> np.ndarray:
    """Uniform times inside each cell, after signup and before the exit day."""
    signup = customers["signup_date"].to_numpy()[rows]
    base = month_starts.to_numpy()[month]
    lo = np.clip((signup - base) / np.timedelta64(1, "D"), 0, DAYS_PER_MONTH - 1)
    hi = np.where(life.exit_month[rows] == month, life.exit_day[rows], DAYS_PER_MONTH)
    hi = np.maximum(hi, lo + 1)
    days = lo + rng.random(len(rows)) * (hi - lo)
    return base + (days * 86400).astype("timedelta64[s]")


def _returns(rng: np.random.Generator, customers: pd.DataFrame, purchases: pd.DataFrame,
             rows: np.ndarray) -> pd.DataFrame:
    """Returned purchases: ordinary customers rarely, toxic ones often."""
    toxic = customers["_toxic"].to_numpy()[rows]
    returned = rng.random(len(rows)) < np.where(toxic, 0.3, 0.03)
    out = purchases.loc[returned].copy()
    out["ts"] = out["ts"] + pd.to_timedelta(rng.integers(1, 15, len(out)), unit="D")
    out["amount"] = -out["amount"]
    out["discount"] = 0.0
    out["is_return"] = True
    return out
