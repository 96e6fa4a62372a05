"""Loyalty ladder (DESIGN §2): Terrorist - Toxic - Prospect - Customer - Client -
Supporter - Advocate, per customer and snapshot, from rules in ``segments.ladder``.

Two steps: :func:`ladder_inputs` measures behaviour from the canonical tables as of a
date; :func:`assign_rungs` applies the configured rules to those measures (a pure,
total function: every row gets exactly one rung).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnml.segments.common import (
    DAYS_PER_MONTH,
    before,
    counts_by,
    in_windows,
    months_between,
    nan_to_zero,
    per_customer,
    purchases,
    returns,
    signal_score,
)

RUNGS = ("terrorist", "toxic", "prospect", "customer", "client", "supporter", "advocate")
RUNG_TYPE = pd.CategoricalDtype(list(RUNGS), ordered=True)
LADDER_INPUTS = ["purchases", "purchase_rate", "active_month_share", "margin", "cost_to_serve",
                 "cost_events", "terrorist_score", "supporter_score", "advocate_score"]


def activity_windows(customers: pd.DataFrame, bought: pd.DataFrame, as_of: pd.Timestamp,
                     lookback_days: int, data_start: pd.Timestamp) -> pd.DataFrame:
    """Per customer: ``window_start`` and ``window_end`` (the last purchase, else ``as_of``).

    The window covers the last ``lookback_days`` of activity and starts no earlier
    than signup or ``data_start`` (nothing before the data is observed).
    """
    index = pd.Index(customers["customer_id"], name="customer_id")
    last = per_customer(bought["ts"], bought["customer_id"], index, "max")
    end = last.fillna(as_of)
    start = end - pd.Timedelta(days=int(lookback_days))
    signup = pd.Series(customers["signup_date"].to_numpy(), index=index)
    start = start.where(start >= signup, signup).clip(lower=data_start)
    return pd.DataFrame({"window_start": start, "window_end": end, "last_purchase": last})


def shrunk_rate(events: pd.Series, months: pd.Series) -> pd.Series:
    """Events per month, shrunk toward the population by a gamma prior fitted by moments.

    With counts ``n`` over ``T`` months and a Gamma(shape, rate) prior on the rate,
    the posterior mean is ``(n + shape) / (T + rate)``: long histories keep their own
    rate, short ones borrow from everyone. Falls back to ``n / T`` when the population
    shows no spread beyond Poisson noise.
    """
    observed = months > 0
    raw = (events / months.where(observed)).fillna(0.0)
    x, t = raw[observed], months[observed]
    mean = float(x.mean()) if len(x) else 0.0
    between = float(x.var() - (x / t).mean()) if len(x) > 1 else 0.0
    if not np.isfinite(between) or between <= 0 or mean <= 0:
        return raw
    shape, rate = mean**2 / between, mean / between
    return (events + shape) / (months + rate)


def _purchase_rhythm(bought: pd.DataFrame, windows: pd.DataFrame,
                     shrink: bool) -> pd.DataFrame:
    """Purchases in the window, purchases per month and the share of months with one."""
    index = windows.index
    n = per_customer(bought["ts"], bought["customer_id"], index, "size")
    span = months_between(windows["window_end"], windows["window_start"])
    # The purchase that ends the window is not random: count the others over the span.
    others = (n - 1).clip(lower=0).astype("float64")
    rate = shrunk_rate(others, span) if shrink else (others / span.where(span > 0)).fillna(0.0)
    month_no = ((bought["ts"] - bought["customer_id"].map(windows["window_start"]))
                / pd.Timedelta(days=DAYS_PER_MONTH)).astype("int64")
    active = month_no.groupby(bought["customer_id"].to_numpy()).nunique().reindex(index)
    share = (active.fillna(0) / np.ceil(span).clip(lower=1.0)).clip(upper=1.0)
    return pd.DataFrame({"purchases": n, "purchase_rate": rate.where(n > 0, 0.0),
                         "active_month_share": share})


def _cost_and_margin(bought: pd.DataFrame, returned: pd.DataFrame, kinds: pd.DataFrame,
                     cfg: dict[str, Any]) -> pd.DataFrame:
    """Gross margin given vs cost to serve taken, over the window."""
    index = kinds.index
    spend = per_customer(bought["amount"], bought["customer_id"], index, "sum")
    refunds = per_customer(returned["amount"].abs(), returned["customer_id"], index, "sum")
    n_returns = per_customer(returned["ts"], returned["customer_id"], index, "size")
    margin = float(cfg["margin_rate"]) * (spend - refunds)
    if cfg.get("discount_against_margin") and "discount" in bought:
        margin = margin - per_customer(bought["discount"].fillna(0.0), bought["customer_id"],
                                       index, "sum")
    contacts = kinds.get("support_contact", 0)
    cost = float(cfg["return_cost"]) * n_returns + float(cfg["support_contact_cost"]) * contacts
    return pd.DataFrame({"margin": margin, "cost_to_serve": cost,
                         "cost_events": n_returns + contacts})


def ladder_inputs(customers: pd.DataFrame, transactions: pd.DataFrame,
                  events: pd.DataFrame | None, as_of: pd.Timestamp, cfg: dict[str, Any],
                  data_start: pd.Timestamp) -> pd.DataFrame:
    """Behaviour measures behind the ladder rules, as of ``as_of``.

    Parameters
    ----------
    customers
        ``customer_id, signup_date``; customers signed up on or after ``as_of`` are left out.
    transactions
        ``customer_id, ts, amount`` (optional ``is_return, discount``).
    events
        ``customer_id, ts, event_type`` (optional ``value``, read for survey scores), or None.
    cfg
        The ``segments.ladder`` section.
    data_start
        First day of the data: windows never reach before it.

    Returns
    -------
    DataFrame
        One row per customer: ``customer_id, as_of`` and ``LADDER_INPUTS`` (plus the
        window bounds), using only rows dated before ``as_of``.
    """
    known = customers.loc[customers["signup_date"] < as_of]
    tx = before(transactions, as_of)
    bought = purchases(tx)
    windows = activity_windows(known, bought, as_of, int(cfg["lookback_days"]), data_start)
    open_until = pd.Series(as_of, index=windows.index)
    bought = in_windows(bought, windows["window_start"], open_until)
    ev = in_windows(before(events, as_of), windows["window_start"], open_until)
    kinds = counts_by(ev, "event_type", windows.index) if "event_type" in ev else \
        pd.DataFrame(index=windows.index)
    out = pd.concat([windows, _purchase_rhythm(bought, windows, bool(cfg["shrink_purchase_rate"])),
                     _cost_and_margin(bought, in_windows(returns(tx), windows["window_start"],
                                                         open_until), kinds, cfg["toxic"])],
                    axis=1)
    out["terrorist_score"] = signal_score(kinds, cfg["terrorist"]["signals"])
    out["advocate_score"] = signal_score(kinds, cfg["advocate"]["signals"])
    out["supporter_score"] = (signal_score(kinds, cfg["supporter"]["signals"])
                              + _survey_promoters(ev, windows.index, cfg["supporter"]))
    out.insert(0, "as_of", as_of)
    return out.reset_index()


def _survey_promoters(ev: pd.DataFrame, index: pd.Index, cfg: dict[str, Any]) -> pd.Series:
    """``survey_weight`` x survey answers of at least ``min_survey_value``, per customer."""
    if "value" not in ev:
        return pd.Series(0.0, index=index)
    keep = (ev["event_type"] == cfg["survey_event"]) & (
        ev["value"] >= float(cfg["min_survey_value"]))
    count = per_customer(ev.loc[keep, "ts"], ev.loc[keep, "customer_id"], index, "size")
    return float(cfg["survey_weight"]) * count


def assign_rungs(inputs: pd.DataFrame, cfg: dict[str, Any]) -> pd.Series:
    """The ladder rung of every row, by the first rule met (see ``conf/segments``).

    Parameters
    ----------
    inputs
        The ``LADDER_INPUTS`` columns (e.g. from :func:`ladder_inputs`); missing values
        count as 0.
    cfg
        The ``segments.ladder`` section.

    Returns
    -------
    Series
        Ordered categorical with the categories of ``RUNGS``, never missing.
    """
    v = {name: nan_to_zero(inputs[name]) for name in LADDER_INPUTS}
    tox, client, cust = cfg["toxic"], cfg["client"], cfg["customer"]
    toxic = (v["cost_events"] >= float(tox["min_cost_events"])) & (
        v["cost_to_serve"] >= float(tox["max_cost_to_margin"]) * np.maximum(v["margin"], 0.0))
    conditions = [
        v["terrorist_score"] >= float(cfg["terrorist"]["min_score"]),
        toxic,
        v["advocate_score"] >= float(cfg["advocate"]["min_score"]),
        v["supporter_score"] >= float(cfg["supporter"]["min_score"]),
        (v["purchases"] >= float(client["min_purchases"]))
        & (v["purchase_rate"] >= float(client["min_purchases_per_month"]))
        & (v["active_month_share"] >= float(client["min_active_month_share"])),
        (v["purchases"] >= float(cust["min_purchases"]))
        & (v["purchase_rate"] >= float(cust["min_purchases_per_month"])),
    ]
    names = ["terrorist", "toxic", "advocate", "supporter", "client", "customer"]
    rung = np.select(conditions, names, default="prospect")
    return pd.Series(pd.Categorical(rung, dtype=RUNG_TYPE), index=inputs.index, name="ladder_rung")
