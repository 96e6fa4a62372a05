"""Customers: signup, observable attributes, PII and latent traits (ground truth).

Latent traits never leave the generator except through the truth tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from churnml.simulate.spec import SECONDS_PER_DAY, Calendar, strings, to_datetime

SYLLABLES = np.array(["an", "be", "ka", "lo", "mi", "ra", "so", "ti", "ve", "zu", "el", "or"])
EMAIL_DOMAIN = "@example.org"
PHONE_PREFIX = "+44 7700 "


@dataclass
class Population:
    """Per-customer arrays (one entry per customer, in customer order)."""

    ids: np.ndarray
    signup_s: np.ndarray
    signup_month: np.ndarray       # month of signup, negative for customers from before
    signup_day: np.ndarray         # day inside the signup month (0 if before the start)
    region: np.ndarray             # index into world.regions
    plan: np.ndarray
    channel: np.ndarray
    rate: np.ndarray               # purchases per month
    spend_mu: np.ndarray           # log-mean of the amount per purchase
    price_sens: np.ndarray         # 0..1
    service_sens: np.ndarray       # 0..1
    frailty: np.ndarray            # multiplier of the natural exit hazard (mean 1)
    pay_risk: np.ndarray           # multiplier of the involuntary exit hazard (mean 1)
    value_pct: np.ndarray          # percentile of expected monthly spend, 0..1
    terrorist: np.ndarray
    toxic: np.ndarray
    advocate: np.ndarray           # may turn True during the run (won-back burned customers)
    supporter: np.ndarray
    names: np.ndarray
    handles: np.ndarray            # e-mail handles matching the names

    def __len__(self) -> int:
        return len(self.ids)


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal strings of non-negative integers (vectorised, no Python loop)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    codes = (np.asarray(values, dtype=np.int64)[:, None] // powers % 10 + ord("0"))
    return codes.astype(np.uint32).view(f"U{width}").ravel()


def customer_ids(n: int) -> np.ndarray:
    """``C0000001``-style identifiers (at least seven digits)."""
    return np.strings.add("C", digits(np.arange(1, n + 1), max(7, len(str(n)))))


def fake_names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Random pronounceable names and matching e-mail handles: PII the pipeline must
    never let through."""
    pairs = np.strings.add(SYLLABLES[:, None], SYLLABLES[None, :]).ravel()
    words = np.strings.capitalize(pairs)
    first, last = rng.integers(0, len(words), (2, n))
    names = np.strings.add(np.strings.add(words[first], " "), words[last])
    handles = np.strings.add(np.strings.add(pairs[first], "."), pairs[last])
    return names, handles


def _signups(rng: np.random.Generator, cfg: dict[str, Any], cal: Calendar,
             n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signup times (midnight), their month index and day inside that month."""
    lo, hi = (int(d) for d in cfg["tenure_before_start_days"])
    initial = rng.random(n) < float(cfg["initial_share"])
    span_days = int((cal.edges[-1] - cal.edges[0]) // SECONDS_PER_DAY)
    offset = np.where(initial, -rng.integers(lo, hi, n), rng.integers(0, span_days, n))
    signup_s = cal.edges[0] + offset.astype(np.int64) * SECONDS_PER_DAY
    month = cal.month_of(signup_s)
    before = month < 0
    day = np.where(before, 0, (signup_s - cal.edges[month.clip(0)]) // SECONDS_PER_DAY)
    raw_month = np.where(before, -1 - (-offset) // 31, month)
    return signup_s, raw_month.astype(np.int32), day.astype(np.float32)


def _kinds(rng: np.random.Generator, shares: dict[str, float], n: int) -> dict[str, np.ndarray]:
    """Disjoint behavioural kinds: terrorist, toxic, advocate, supporter (rest ordinary)."""
    u = rng.random(n)
    t, x = float(shares["terrorist"]), float(shares["toxic"])
    a, s = float(shares["advocate"]), float(shares["supporter"])
    return {"terrorist": u < t, "toxic": (u >= t) & (u < t + x),
            "advocate": u >= 1 - a, "supporter": (u >= 1 - a - s) & (u < 1 - a)}


def _percentile(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    pct = np.empty(len(values))
    pct[order] = (np.arange(len(values)) + 0.5) / max(len(values), 1)
    return pct


def draw_population(rng: np.random.Generator, cfg: dict[str, Any], cal: Calendar) -> Population:
    """Draw ``world.customers`` customers with attributes, PII and latent traits."""
    n = int(cfg["customers"])
    traits = cfg["traits"]
    signup_s, signup_month, signup_day = _signups(rng, cfg, cal, n)
    plans = len(cfg["plans"])
    plan = rng.choice(plans, n, p=_plan_mix(plans))
    rate_cfg, spend = traits["purchase_rate"], traits["spend"]
    shape = float(rate_cfg["shape"])
    rate = rng.gamma(shape, float(rate_cfg["mean"]) / shape, n)
    spend_mu = (float(spend["log_mean"]) + float(spend["plan_step"]) * plan
                + rng.normal(0, float(spend["customer_log_sd"]), n))
    price, service = traits["price_sensitivity"], traits["service_sensitivity"]
    kinds = _kinds(rng, traits["shares"], n)
    frailty_k, pay_k = float(traits["frailty_shape"]), float(traits["payment_risk_shape"])
    return Population(
        ids=customer_ids(n), signup_s=signup_s, signup_month=signup_month, signup_day=signup_day,
        region=rng.integers(0, len(cfg["regions"]), n).astype(np.int8),
        plan=plan.astype(np.int8), channel=rng.integers(0, len(cfg["channels"]), n).astype(np.int8),
        rate=rate, spend_mu=spend_mu,
        price_sens=rng.beta(float(price["a"]), float(price["b"]), n),
        service_sens=rng.beta(float(service["a"]), float(service["b"]), n),
        frailty=rng.gamma(frailty_k, 1 / frailty_k, n), pay_risk=rng.gamma(pay_k, 1 / pay_k, n),
        value_pct=_percentile(rate * np.exp(spend_mu)),
        **dict(zip(("names", "handles"), fake_names(rng, n), strict=True)), **kinds,
    )


def _plan_mix(k: int) -> np.ndarray:
    """Cheaper plans are more common: weights k, k-1, ..., 1."""
    weights = np.arange(k, 0, -1, dtype=float)
    return weights / weights.sum()


def customers_table(rng: np.random.Generator, cfg: dict[str, Any], pop: Population) -> pd.DataFrame:
    """The observable ``customers`` table, PII columns included (ingest drops them)."""
    suffix = digits(rng.integers(0, 10**6, len(pop)), 6)
    return pd.DataFrame({
        "customer_id": strings(pop.ids),
        "signup_date": to_datetime(pop.signup_s),
        "region": strings(cfg["regions"], pop.region),
        "plan": strings(cfg["plans"], pop.plan),
        "channel": strings(cfg["channels"], pop.channel),
        "name": strings(pop.names),
        "email": strings(np.strings.add(pop.handles, EMAIL_DOMAIN)),
        "phone": strings(np.strings.add(PHONE_PREFIX, suffix)),
    })
