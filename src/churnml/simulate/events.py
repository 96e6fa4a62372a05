"""Interaction events: complaints, support, competitor precursors, payment failures, ..."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnml.simulate.activity import DAYS_PER_MONTH, active_cells
from churnml.simulate.lifecycle import NO_MONTH, Lifecycle

EVENT_COLUMNS = ["customer_id", "ts", "event_type", "value", "incident_id", "severity", "text"]


def _cell_events(rng: np.random.Generator, ids: np.ndarray, lam: np.ndarray,
                 month_starts: pd.DatetimeIndex, event_type: str) -> pd.DataFrame:
    """Poisson(lam) events of one type in each customer × month cell."""
    counts = rng.poisson(lam)
    rows, month = np.nonzero(counts)
    reps = counts[rows, month]
    rows, month = np.repeat(rows, reps), np.repeat(month, reps)
    days = rng.random(len(rows)) * DAYS_PER_MONTH
    ts = month_starts.to_numpy()[month] + (days * 86400).astype("timedelta64[s]")
    return pd.DataFrame({"customer_id": ids[rows], "ts": ts, "event_type": event_type})


def _before_exit(life: Lifecycle, causes: list[str], months: int, width: int) -> np.ndarray:
    """Customers × months: within ``width`` months up to an exit of one of ``causes``."""
    ahead = life.exit_month[:, None] - np.arange(months)[None, :]
    chosen = np.isin(life.cause, causes)[:, None] & (life.exit_month[:, None] != NO_MONTH)
    return chosen & (ahead >= 0) & (ahead < width)


def draw_events(rng: np.random.Generator, cfg: dict[str, Any], customers: pd.DataFrame,
                life: Lifecycle, incidents: pd.DataFrame, exposure: np.ndarray,
                month_starts: pd.DatetimeIndex) -> pd.DataFrame:
    """All interaction events of the world, in the canonical ``events`` layout."""
    months = len(month_starts) - 1
    ids = customers["customer_id"].to_numpy()
    active = active_cells(customers, life, months).astype(float)
    toxic = customers["_toxic"].to_numpy()[:, None]
    support = float(cfg["events"]["support_contact_rate"]) * active * np.where(toxic, 4.0, 1.0)
    precursor = float(cfg["competitor"]["precursor_rate"])
    lured = _before_exit(life, ["lured"], months, 2)
    pricey = _before_exit(life, ["lured", "price"], months, 2)
    voluntary = _before_exit(life, ["lured", "price", "burned", "natural"], months, 1)
    involuntary = _before_exit(life, ["involuntary"], months, 1)
    terrorist = customers["_terrorist"].to_numpy()[:, None] * active
    advocate = customers["_advocate"].to_numpy()[:, None] * active
    frames = [
        _cell_events(rng, ids, support, month_starts, "support_contact"),
        _cell_events(rng, ids, 0.01 * active, month_starts, "complaint"),
        _cell_events(rng, ids, precursor * lured + 0.01 * active, month_starts, "competitor_inquiry"),
        _cell_events(rng, ids, precursor * pricey + 0.02 * active, month_starts, "price_comparison"),
        _cell_events(rng, ids, 0.4 * lured, month_starts, "port_out_request"),
        _cell_events(rng, ids, 0.6 * voluntary + 0.005 * active, month_starts, "cancel_page_visit"),
        _cell_events(rng, ids, 1.5 * involuntary + 0.004 * active, month_starts, "payment_failure"),
        _cell_events(rng, ids, 0.15 * terrorist, month_starts, "chargeback"),
        _cell_events(rng, ids, 0.1 * terrorist, month_starts, "public_complaint"),
        _cell_events(rng, ids, 0.2 * advocate, month_starts, "referral"),
        _incident_complaints(rng, cfg, ids, incidents, exposure),
    ]
    events = pd.concat(frames, ignore_index=True)
    return _add_details(rng, customers, events)


def _incident_complaints(rng: np.random.Generator, cfg: dict[str, Any], ids: np.ndarray,
                         incidents: pd.DataFrame, exposure: np.ndarray) -> pd.DataFrame:
    """A few exposed customers complain about an incident soon after it starts."""
    rate = float(cfg["incidents"]["complaint_rate"])
    complains = (exposure == 1) & (rng.random(exposure.shape) < rate)
    rows, inc = np.nonzero(complains)
    delay = pd.to_timedelta(rng.integers(0, 14 * 86400, len(rows)), unit="s")
    return pd.DataFrame({
        "customer_id": ids[rows],
        "ts": incidents["start"].to_numpy()[inc] + delay.to_numpy(),
        "event_type": "complaint",
        "incident_id": incidents["incident_id"].to_numpy()[inc],
        "severity": incidents["severity"].to_numpy()[inc],
    })


def _add_details(rng: np.random.Generator, customers: pd.DataFrame,
                 events: pd.DataFrame) -> pd.DataFrame:
    """Complaint severity and free text (with the customer's name: PII to be dropped)."""
    out = events.reindex(columns=EVENT_COLUMNS)
    out["severity"] = out["severity"].astype("float64")
    out["value"] = out["value"].astype("float64")
    out["incident_id"] = out["incident_id"].astype("string")
    is_complaint = out["event_type"].isin(["complaint", "public_complaint"]).to_numpy()
    missing = is_complaint & out["severity"].isna().to_numpy()
    out.loc[missing, "severity"] = rng.integers(1, 4, missing.sum()).astype("float64")
    names = customers.set_index("customer_id")["name"]
    text = "Complaint from " + out["customer_id"].map(names) + ": not happy with the service."
    out["text"] = text.where(is_complaint).astype("string")
    return out
