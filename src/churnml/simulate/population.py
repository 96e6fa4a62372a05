"""Customers and their latent traits, and the shocks (competitor campaigns, incidents)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

SYLLABLES = np.array(["an", "be", "ka", "lo", "mi", "ra", "so", "ti", "ve", "zu", "el", "or"])


def fake_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random pronounceable names: PII the pipeline must never let through."""
    parts = rng.choice(SYLLABLES, size=(n, 4))
    first = np.char.capitalize(np.char.add(parts[:, 0], parts[:, 1]))
    last = np.char.capitalize(np.char.add(parts[:, 2], parts[:, 3]))
    return np.char.add(np.char.add(first, " "), last)


def draw_customers(rng: np.random.Generator, cfg: dict[str, Any], start: pd.Timestamp,
                   months: int) -> pd.DataFrame:
    """Draw customers with signup dates, attributes, PII and latent traits.

    Latent columns (prefixed ``_``) are ground truth and never leave the generator
    except through the truth tables.
    """
    n = int(cfg["customers"])
    ids = np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    initial = rng.random(n) < float(cfg["initial_share"])
    days_before = rng.integers(30, 3 * 365, n)
    span_days = max(int((months - 1) * 30.4), 1)
    days_after = rng.integers(0, span_days, n)
    signup = np.where(initial, -days_before, days_after)
    signup_date = start + pd.to_timedelta(signup, unit="D")
    names = fake_names(rng, n)
    handle = np.char.lower(np.char.replace(names, " ", "."))
    rate_cfg = cfg["purchase_rate"]
    shape = float(rate_cfg["shape"])
    kind = rng.random(n)
    return pd.DataFrame({
        "customer_id": ids,
        "signup_date": signup_date,
        "region": rng.choice(cfg["regions"], n),
        "plan": rng.choice(cfg["plans"], n, p=_plan_mix(len(cfg["plans"]))),
        "channel": rng.choice(cfg["channels"], n),
        "name": names,
        "email": np.char.add(handle, "@example.org"),
        "phone": np.char.add("+44 7700 ", np.char.zfill(rng.integers(0, 10**6, n).astype(str), 6)),
        "_rate": rng.gamma(shape, float(rate_cfg["mean"]) / shape, n),
        "_spend_mu": float(cfg["spend"]["log_mean"])
        + rng.normal(0, float(cfg["spend"]["customer_log_sd"]), n),
        "_price_sens": rng.beta(2.0, 3.0, n),
        "_service_sens": rng.beta(2.0, 3.0, n),
        "_terrorist": kind < 0.01,
        "_toxic": (kind >= 0.01) & (kind < 0.04),
        "_advocate": kind > 0.95,
    })


def _plan_mix(k: int) -> np.ndarray:
    weights = np.arange(k, 0, -1, dtype=float)
    return weights / weights.sum()


def competitor_calendar(rng: np.random.Generator, cfg: dict[str, Any], months: int) -> np.ndarray:
    """Boolean matrix region × month: a competitor campaign runs there and then."""
    regions = len(cfg["regions"])
    comp = cfg["competitor"]
    duration = int(comp["duration_months"])
    active = np.zeros((regions, months), dtype=bool)
    latest_start = max(months - duration, 4)
    for region in range(regions):
        for first in rng.integers(3, latest_start, int(comp["campaigns_per_region"])):
            active[region, first : first + duration] = True
    return active


def draw_incidents(rng: np.random.Generator, cfg: dict[str, Any], customers: pd.DataFrame,
                   start: pd.Timestamp, months: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Incidents and, per customer, the month of their latest exposure (-999 if none).

    Returns
    -------
    incidents
        ``incident_id, start, end, scope, severity``.
    exposure
        Integer array (customers × incidents) holding 1 where the customer was exposed.
    """
    inc = cfg["incidents"]
    k = int(inc["count"])
    n = len(customers)
    region_codes = pd.Categorical(customers["region"], categories=cfg["regions"]).codes
    start_month = rng.integers(2, max(months - 2, 3), k)
    scope = rng.choice(["region", "batch", "courier"], k)
    exposure = np.zeros((n, k), dtype=np.int8)
    for j in range(k):
        pool = np.ones(n, dtype=bool)
        if scope[j] == "region":
            pool = region_codes == rng.integers(0, len(cfg["regions"]))
        share = min(1.0, float(inc["exposure_share"]) / max(pool.mean(), 1e-9))
        exposure[:, j] = pool & (rng.random(n) < share)
    day = rng.integers(0, 28, k)
    begins = pd.to_datetime([start + pd.DateOffset(months=int(m)) for m in start_month])
    begins = begins + pd.to_timedelta(day, unit="D")
    incidents = pd.DataFrame({
        "incident_id": [f"INC{j + 1:04d}" for j in range(k)],
        "start": begins,
        "end": begins + pd.to_timedelta(rng.integers(3, 21, k), unit="D"),
        "scope": scope,
        "severity": rng.integers(1, 4, k),
        "_start_month": start_month,
    })
    return incidents, exposure
