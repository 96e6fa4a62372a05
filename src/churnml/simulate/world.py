"""Assemble the synthetic world: canonical tables plus ground truth.

The truth tables (``truth_customers``, ``truth_uplift``) are written apart from the
observable tables and are read only by evaluation code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from churnml.simulate.activity import draw_transactions
from churnml.simulate.events import draw_events
from churnml.simulate.lifecycle import NO_MONTH, Lifecycle, simulate_lifecycle, true_winback_uplift
from churnml.simulate.population import competitor_calendar, draw_customers, draw_incidents

log = logging.getLogger(__name__)

OBSERVABLE_TABLES = ("customers", "transactions", "events", "incidents", "campaigns")
WINBACK_OFFER_COST = 5.0
UPLIFT_HORIZON_MONTHS = 3


@dataclass
class World:
    """Observable canonical tables and the ground truth behind them."""

    tables: dict[str, pd.DataFrame]
    truth_customers: pd.DataFrame
    truth_uplift: pd.DataFrame
    end: pd.Timestamp


def simulate_world(cfg: dict[str, Any]) -> World:
    """Generate a seeded world from the ``data.world`` config section.

    Parameters
    ----------
    cfg
        Mechanism strengths; see ``conf/data/synthetic.yaml``.

    Returns
    -------
    World
        Same ``cfg`` (seed included) gives identical tables.
    """
    rng = np.random.default_rng(int(cfg["seed"]))
    months = int(cfg["months"])
    start = pd.Timestamp(cfg["start"])
    month_starts = pd.date_range(start, periods=months + 1, freq="MS")
    end = month_starts[-1]
    customers = draw_customers(rng, cfg, start, months)
    customers["_signup_month"] = _month_index(customers["signup_date"], start, months)
    customers["_region_code"] = pd.Categorical(customers["region"], categories=cfg["regions"]).codes
    competitor = competitor_calendar(rng, cfg, months)
    incidents, exposure = draw_incidents(rng, cfg, customers, start, months)
    exposure_month = _latest_exposure(exposure, incidents["_start_month"].to_numpy(), months)
    life = simulate_lifecycle(rng, cfg, customers, months, competitor, exposure_month)
    transactions = draw_transactions(rng, cfg, customers, life, month_starts)
    events = draw_events(rng, cfg, customers, life, incidents, exposure, month_starts)
    campaigns = _campaign_table(customers, life, month_starts)
    tables = {
        "customers": customers.loc[:, ~customers.columns.str.startswith("_")].copy(),
        "transactions": _observable(transactions, customers, end),
        "events": _observable(events, customers, end),
        "incidents": incidents.drop(columns="_start_month"),
        "campaigns": campaigns,
    }
    log.info("simulated %d customers: %d transactions, %d events", len(customers),
             len(tables["transactions"]), len(tables["events"]))
    return World(tables, _truth_customers(customers, life, month_starts),
                 _truth_uplift(cfg, customers, life, campaigns), end)


def _month_index(dates: pd.Series, start: pd.Timestamp, months: int) -> np.ndarray:
    idx = (dates.dt.year - start.year) * 12 + (dates.dt.month - start.month)
    return idx.clip(lower=0, upper=months).to_numpy()


def _latest_exposure(exposure: np.ndarray, start_month: np.ndarray, months: int) -> np.ndarray:
    """Customers × months: month of the latest incident exposure so far (NO_MONTH if none)."""
    out = np.full((exposure.shape[0], months), NO_MONTH)
    for j in np.argsort(start_month, kind="stable"):
        hit = exposure[:, j] == 1
        out[hit, start_month[j]:] = start_month[j]
    return out


def _observable(frame: pd.DataFrame, customers: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Rows inside [signup, end): activity is drawn per month, so clip the month edges."""
    signup = frame["customer_id"].map(customers.set_index("customer_id")["signup_date"])
    kept = frame.loc[(frame["ts"] < end) & (frame["ts"] >= signup)]
    return kept.sort_values(["ts", "customer_id"], kind="stable").reset_index(drop=True)


def _date_of(month: np.ndarray, day: np.ndarray, month_starts: pd.DatetimeIndex) -> pd.Series:
    known = month != NO_MONTH
    dates = np.full(len(month), np.datetime64("NaT"), dtype="datetime64[ns]")
    dates[known] = month_starts.to_numpy()[month[known]] + day[known].astype("timedelta64[D]")
    return pd.Series(dates)


def _campaign_table(customers: pd.DataFrame, life: Lifecycle,
                    month_starts: pd.DatetimeIndex) -> pd.DataFrame:
    rows = life.campaign_rows
    if rows.empty:
        return pd.DataFrame({"customer_id": pd.Series(dtype="string"),
                             "ts": pd.Series(dtype="datetime64[ns]"),
                             "offer_id": pd.Series(dtype="string"),
                             "responded_ts": pd.Series(dtype="datetime64[ns]"),
                             "redeemed": pd.Series(dtype=bool), "cost": pd.Series(dtype=float)})
    r = rows["_row"].to_numpy()
    ts = month_starts.to_numpy()[rows["_month"].to_numpy()] + rows["_day"].to_numpy().astype(
        "timedelta64[D]")
    ret = life.return_month[r]
    treated = (rows["offer_id"] != "control").to_numpy()
    responded = treated & (ret != NO_MONTH) & (ret >= rows["_month"].to_numpy())
    responded_ts = _date_of(np.where(responded, ret, NO_MONTH), np.full(len(r), 14), month_starts)
    return pd.DataFrame({
        "customer_id": customers["customer_id"].to_numpy()[r],
        "ts": ts,
        "offer_id": rows["offer_id"].to_numpy(),
        "responded_ts": responded_ts.to_numpy(),
        "redeemed": responded,
        "cost": np.where(treated, WINBACK_OFFER_COST, 0.0),
    })


def _truth_customers(customers: pd.DataFrame, life: Lifecycle,
                     month_starts: pd.DatetimeIndex) -> pd.DataFrame:
    left = life.exit_month != NO_MONTH
    rate = customers["_rate"].to_numpy()
    rung = np.select(
        [customers["_terrorist"], customers["_toxic"], customers["_advocate"], rate >= 2.0,
         rate >= 0.5],
        ["terrorist", "toxic", "advocate", "client", "customer"], default="prospect")
    return pd.DataFrame({
        "customer_id": customers["customer_id"].to_numpy(),
        "exit_date": _date_of(life.exit_month, life.exit_day, month_starts),
        "exit_cause": pd.Series(np.where(left, life.cause, None), dtype="string"),
        "return_date": _date_of(life.return_month, np.zeros(len(customers), int), month_starts),
        "rung": rung,
    })


def _truth_uplift(cfg: dict[str, Any], customers: pd.DataFrame, life: Lifecycle,
                  campaigns: pd.DataFrame) -> pd.DataFrame:
    """True uplift of the win-back offer for every customer in a campaign (both arms)."""
    if campaigns.empty:
        return pd.DataFrame(columns=["customer_id", "as_of", "offer_id", "true_uplift"])
    cause = life.cause[life.campaign_rows["_row"].to_numpy()]
    spontaneous = float(cfg["winback"]["spontaneous_return"])
    return pd.DataFrame({
        "customer_id": campaigns["customer_id"].to_numpy(),
        "as_of": campaigns["ts"].dt.normalize().to_numpy(),
        "offer_id": "winback_discount",
        "true_uplift": true_winback_uplift(cause, spontaneous, UPLIFT_HORIZON_MONTHS),
    })
