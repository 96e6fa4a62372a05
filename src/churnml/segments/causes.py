"""Churn-cause typing (DESIGN §2): why a lapsed or exited customer left - ``burned``
(bad experience), ``lured`` (competitor), ``price``, ``involuntary`` (payment failure,
moved) or ``unknown`` - from the signals in windows around the lapse (each signal may
have its own: an incident bites before the exit, a payment failure shows after the last
purchase), with the evidence kept for the report.

The rules (``segments.causes.rules``) form a decision list: each scores its cause as a
weighted count of its signals, and the first rule whose score reaches its
``min_score`` wins; with none, the cause is the ``fallback`` (``unknown``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from churnml.segments.common import (
    before,
    counts_by,
    in_windows,
    per_customer,
    purchases,
    signal_score,
)

INCIDENT_SIGNAL = "incident_exposure"
SNAPSHOT_TESTS = {"at_most": np.less_equal, "at_least": np.greater_equal, "equals": np.equal}


def lapsed_customers(transactions: pd.DataFrame, as_of: pd.Timestamp,
                     lapse_days: int, cancelled: Collection[Any] = ()) -> pd.DataFrame:
    """Customers who bought before but not in the ``lapse_days`` before ``as_of``, or
    who have cancelled since their last purchase.

    Parameters
    ----------
    transactions
        ``customer_id, ts, amount`` (optional ``is_return``).
    cancelled
        Customer ids gone by cancellation at ``as_of``
        (:func:`churnml.status.cancelled_customers`; empty when cancellations do not
        decide status).

    Returns
    -------
    DataFrame
        ``customer_id, as_of, last_purchase`` - the same "lapsed" as the labels'
        (:mod:`churnml.status`), for customers with a purchase.
    """
    bought = purchases(before(transactions, as_of))
    last = bought.groupby("customer_id")["ts"].max()
    gone = last.index.isin(list(cancelled))
    last = last.loc[((as_of - last) > pd.Timedelta(days=int(lapse_days))).to_numpy() | gone]
    return pd.DataFrame({"customer_id": last.index.to_numpy(), "as_of": as_of,
                         "last_purchase": last.to_numpy()})


def signal_names(cfg: dict[str, Any]) -> list[str]:
    """Every signal named by a cause rule, in rule order."""
    names = [s for rule in cfg["rules"] for s in rule["signals"]]
    return list(dict.fromkeys(names))


def cause_signals(lapses: pd.DataFrame, events: pd.DataFrame | None, cfg: dict[str, Any],
                  exposure: pd.DataFrame | None = None) -> pd.DataFrame:
    """Signal counts in each lapsed customer's windows around their last purchase.

    Parameters
    ----------
    lapses
        :func:`lapsed_customers` (one ``as_of``).
    events
        ``customer_id, ts, event_type`` (``value`` for ``value_signals``), or None.
    cfg
        The ``segments.causes`` section: ``window`` (the default), ``signal_windows``
        (per-signal overrides), ``value_signals`` (signals read from an event's value,
        e.g. a resolved complaint) and ``rules``.
    exposure
        Optional :func:`~churnml.segments.shared_cause.incident_exposure`
        (``customer_id, incident_id, exposed_at``): exposures dated in the window of
        ``incident_exposure`` count as that signal.

    Returns
    -------
    DataFrame
        ``customer_id, as_of, window_start, window_end`` (the default window), one count
        column per signal of :func:`signal_names`, and ``cause_incidents`` (ids of the
        incidents counted, comma-separated).
    """
    as_of = lapses["as_of"].iloc[0] if len(lapses) else pd.NaT
    index = pd.Index(lapses["customer_id"], name="customer_id")
    last = pd.Series(lapses["last_purchase"].to_numpy(), index=index)
    start, end = signal_window(last, as_of, cfg, None)
    ev = _with_value_signals(before(events, as_of), as_of, cfg)
    ev = _in_signal_windows(ev, last, as_of, cfg)
    kinds = counts_by(ev, "event_type", index) if "event_type" in ev else pd.DataFrame(index=index)
    hits = _exposures_in_window(exposure, *signal_window(last, as_of, cfg, INCIDENT_SIGNAL))
    kinds[INCIDENT_SIGNAL] = per_customer(hits["exposed_at"], hits["customer_id"], index, "size")
    out = pd.DataFrame({"as_of": as_of, "window_start": start, "window_end": end}, index=index)
    for name in signal_names(cfg):
        out[name] = kinds[name].astype("int64") if name in kinds else 0
    out["cause_incidents"] = hits.groupby("customer_id")["incident_id"].agg(
        lambda ids: ",".join(sorted(set(ids)))).reindex(index).astype("string")
    return out.reset_index()


def signal_window(last: pd.Series, as_of: pd.Timestamp, cfg: dict[str, Any],
                  signal: str | None) -> tuple[pd.Series, pd.Series]:
    """``[start, end)`` of ``signal``'s window around each last purchase (``end`` at most
    ``as_of``): its ``signal_windows`` entry, else the default ``window``."""
    win = (cfg.get("signal_windows") or {}).get(signal) or cfg["window"]
    start = last - pd.Timedelta(days=int(win["days_before"]))
    end = (last + pd.Timedelta(days=int(win["days_after"]))).clip(upper=as_of)
    return start, end


def _with_value_signals(events: pd.DataFrame, as_of: pd.Timestamp,
                        cfg: dict[str, Any]) -> pd.DataFrame:
    """``events`` plus one row per event that a ``value_signals`` entry derives, typed
    with the derived signal's name (e.g. a complaint with value >= 1 is also a
    ``resolved_complaint``). An event without a value derives nothing, and neither does
    one whose value is not yet known at ``as_of``: an entry's ``known_after_days`` (a
    complaint's outcome: ``features.experience.resolution_delay_days``) must have passed
    since the event."""
    derived = cfg.get("value_signals") or []
    if not derived or "value" not in events or "event_type" not in events:
        return events
    parts = [events]
    for spec in derived:
        test = next(k for k in SNAPSHOT_TESTS if k in spec)
        value = pd.to_numeric(events["value"], errors="coerce").to_numpy(dtype="float64")
        met = SNAPSHOT_TESTS[test](value, float(spec[test])) & ~np.isnan(value)
        known = (events["ts"] + pd.Timedelta(days=int(spec.get("known_after_days", 0)))
                 < as_of).to_numpy()
        rows = events.loc[(events["event_type"] == spec["event_type"]).to_numpy() & met & known]
        parts.append(rows.assign(event_type=spec["signal"]))
    return pd.concat(parts, ignore_index=True)


def _in_signal_windows(events: pd.DataFrame, last: pd.Series, as_of: pd.Timestamp,
                       cfg: dict[str, Any]) -> pd.DataFrame:
    """Events inside the window of their own type (``signal_windows``, else ``window``)."""
    if events.empty or last.empty or "event_type" not in events:
        return events.iloc[0:0]
    own = cfg.get("signal_windows") or {}
    default = cfg["window"]
    kind = events["event_type"].astype("string")
    days_before = kind.map({k: w["days_before"] for k, w in own.items()}).fillna(
        default["days_before"]).astype("int64")
    days_after = kind.map({k: w["days_after"] for k, w in own.items()}).fillna(
        default["days_after"]).astype("int64")
    at = events["customer_id"].map(last)
    lo = at - pd.to_timedelta(days_before.to_numpy(), unit="D")
    hi = at + pd.to_timedelta(days_after.to_numpy(), unit="D")
    keep = (events["ts"] >= lo) & (events["ts"] < hi) & (events["ts"] < as_of)
    return events.loc[keep.fillna(False).to_numpy()]


def _exposures_in_window(exposure: pd.DataFrame | None, start: pd.Series,
                         end: pd.Series) -> pd.DataFrame:
    if exposure is None or exposure.empty:
        return pd.DataFrame({"customer_id": pd.Series(dtype="str"),
                             "incident_id": pd.Series(dtype="str"),
                             "exposed_at": pd.Series(dtype="datetime64[us]")})
    return in_windows(exposure.rename(columns={"exposed_at": "ts"}), start, end).rename(
        columns={"ts": "exposed_at"})


def snapshot_cause_signals(customers: pd.DataFrame, as_of: pd.Timestamp,
                           cfg: dict[str, Any]) -> pd.DataFrame:
    """Signals for snapshot-mode tables (one row per customer, e.g. Telco), read from
    attributes by ``segments.causes.snapshot_signals``, for the churned customers.

    Parameters
    ----------
    customers
        ``customer_id, churned`` and the attribute columns named in the config (a
        missing column is skipped).

    Returns
    -------
    DataFrame
        As :func:`cause_signals` (window bounds are ``as_of``; no incidents).
    """
    left = customers.loc[customers["churned"].fillna(False).astype(bool)]
    out = pd.DataFrame({"customer_id": left["customer_id"].astype(str).to_numpy(),
                        "as_of": as_of, "window_start": as_of, "window_end": as_of})
    for name in signal_names(cfg):
        out[name] = 0.0
    for rule in cfg.get("snapshot_signals") or []:
        if rule["column"] not in left:
            continue
        test = next(k for k in SNAPSHOT_TESTS if k in rule)
        values = left[rule["column"]]
        values = (values.astype("string") if test == "equals"
                  else pd.to_numeric(values, errors="coerce").astype("float64"))
        met = SNAPSHOT_TESTS[test](values.to_numpy(), rule[test])
        out[rule["signal"]] = out.get(rule["signal"], 0.0) + float(rule["weight"]) * np.where(
            pd.isna(met), False, met).astype(bool)
    out["cause_incidents"] = pd.Series(pd.NA, index=out.index, dtype="string")
    return out


def classify(signals: pd.DataFrame, cfg: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The cause per row (first rule whose score reaches its ``min_score``, else
    ``fallback``) and that rule's score (0 for the fallback), without the evidence text.

    Parameters
    ----------
    signals
        Signal count columns (a missing signal counts 0), as for :func:`type_causes`.
    cfg
        The ``segments.causes`` section.
    """
    rules = cfg["rules"]
    if not len(signals):
        return np.where(np.zeros(0, dtype=bool), [], cfg["fallback"]), np.zeros(0)
    scores = np.column_stack([signal_score(signals, r["signals"]).to_numpy() for r in rules])
    reached = scores >= np.array([float(r["min_score"]) for r in rules])
    best = reached.argmax(axis=1)
    found = reached.any(axis=1)
    causes = np.array([r["cause"] for r in rules], dtype=object)
    return (np.where(found, causes[best], cfg["fallback"]),
            np.where(found, scores[np.arange(len(best)), best], 0.0))


def type_causes(signals: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    """The churn cause of every lapsed customer, with its evidence.

    Parameters
    ----------
    signals
        :func:`cause_signals` or :func:`snapshot_cause_signals`: ``customer_id, as_of``
        and signal count columns (a missing signal counts 0).
    cfg
        The ``segments.causes`` section.

    Returns
    -------
    DataFrame
        ``customer_id, as_of, churn_cause, cause_score, cause_evidence`` (a sentence
        listing the signals seen and the window) and ``evidence_<signal>`` counts.
    """
    cause, score = classify(signals, cfg)
    out = pd.DataFrame({
        "customer_id": signals["customer_id"].to_numpy(),
        "as_of": signals["as_of"].to_numpy(),
        "churn_cause": cause,
        "cause_score": score,
        "cause_evidence": evidence_text(signals, signal_names(cfg)),
    })
    for name in signal_names(cfg):
        out[f"evidence_{name}"] = signals[name].to_numpy() if name in signals else 0
    out["cause_incidents"] = signals.get("cause_incidents", pd.Series(pd.NA, index=signals.index)
                                         ).astype("string").to_numpy()
    return out


def evidence_text(signals: pd.DataFrame, names: list[str]) -> np.ndarray:
    """``"2 x payment failure, 1 x complaint (2024-01-05 to 2024-05-04)"``, or ``"none"``."""
    text = np.full(len(signals), "", dtype=object)
    for name in names:
        if name not in signals:
            continue
        count = signals[name].to_numpy(dtype="float64")
        piece = np.char.add(np.char.mod("%g", count).astype(object), f" x {name.replace('_', ' ')}")
        piece = np.where(count > 0, piece, "")
        text = np.where(piece == "", text, np.where(text == "", piece, text + ", " + piece))
    text = np.where(text == "", "none", text)
    if {"window_start", "window_end"} <= set(signals.columns):
        start = signals["window_start"].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        end = signals["window_end"].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        text = text + " (" + start + " to " + end + ")"
    return text
