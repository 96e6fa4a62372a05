"""Experience: complaints (open and resolved), support, chargebacks, returns, surveys.

When is a complaint resolved?
-----------------------------
The contract has no resolution column, so ``experience.resolved_by`` lists the
evidence accepted, and a complaint counts as resolved from the earliest time any of
it is observable:

``resolved_ts``
    an explicit ``resolved_ts`` column on the events table, when the data has one;
``value``
    ``value >= 1`` on the complaint row (the synthetic world's convention: 1
    resolved, 0 not), taken as known ``resolution_delay_days`` after the complaint
    (the outcome is recorded on the row, so it must not be read back in time);
``follow_up``
    a later event of a type in ``resolution_event_types`` (e.g. a support contact)
    from the same customer.

A complaint is *open* at a snapshot when it is younger than
``open_complaint_max_age_days`` and not resolved before the snapshot.

Features (``w`` in ``experience.windows_days``, ``r`` = ``return_window_days``)
-------------------------------------------------------------------------------
<event_type>_<w>d
    Counts of the configured experience events (complaint, support_contact,
    chargeback, public_complaint, payment_failure, referral, ...).
open_complaints, resolved_complaints_<w>d, days_since_complaint
complaint_severity_max_<w>d
    Highest complaint severity in the longest window (needs ``severity``).
survey_score_last, survey_score_mean_<sw>d
    Latest survey score (the highest of several recorded at the same instant) and
    mean score within ``survey_window_days`` (needs ``value``).
returns_<r>d, return_amount_<r>d, return_rate_<r>d
    Returned lines, amount, and amount over spend in the window.

Required columns: events ``key, ts, code, resolved_ts`` (prepared by
:mod:`churnml.features.inputs`); returns ``key, ts, amount``.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from churnml.features.base import (
    KEY,
    Metrics,
    days_ago,
    days_between,
    exact_sum,
    in_window,
    is_event,
    left_join,
    ratio,
)


def _earliest(a: ir.TimestampValue | None, b: ir.TimestampValue | None) -> ir.TimestampValue | None:
    if a is None or b is None:
        return a if b is None else b
    return ibis.ifelse(a.isnull(), b, ibis.ifelse(b.isnull() | (a <= b), a, b))


def _first_follow_up(complaints: ir.Table, events: ir.Table, kinds: list[str]) -> ir.Table:
    """``key, ts, follow_up_ts``: the first resolution event after each complaint time."""
    later = events.filter(events.event_type.isin(kinds)).select(KEY, later_ts=events.ts)
    times = complaints.select(KEY, "ts").distinct()
    pairs = times.join(later, (times[KEY] == later[KEY]) & (later.later_ts > times.ts))
    return pairs.group_by([times[KEY], times.ts]).aggregate(follow_up_ts=pairs.later_ts.min())


def with_resolution(events: ir.Table, cfg: dict[str, Any]) -> ir.Table:
    """Events with ``resolved_ts``: when each complaint is known to be resolved (else null).

    Parameters
    ----------
    events
        Keyed events ``key, ts, event_type`` (+ ``value``, ``resolved_ts``).
    cfg
        The ``experience`` config section.
    """
    methods = set(cfg["resolved_by"])
    is_complaint = events.event_type == cfg["complaint_event"]
    complaints, others = events.filter(is_complaint), events.filter(~is_complaint)
    resolved: ir.TimestampValue | None = None
    if "resolved_ts" in methods and "resolved_ts" in events.columns:
        resolved = complaints.resolved_ts
    if "value" in methods and "value" in events.columns:
        delay = ibis.interval(days=int(cfg["resolution_delay_days"]))
        resolved = _earliest(resolved, ibis.ifelse(complaints.value >= 1, complaints.ts + delay,
                                                   ibis.null()))
    if "follow_up" in methods:
        follow = _first_follow_up(complaints, events, list(cfg["resolution_event_types"]))
        complaints = left_join(complaints, follow, [KEY, "ts"])
        resolved = _earliest(resolved, complaints.follow_up_ts)
    no_time = ibis.null().cast("timestamp")
    complaints = complaints.mutate(resolved_ts=(resolved if resolved is not None else no_time)
                                   .cast("timestamp"))
    columns = [c for c in events.columns if c != "resolved_ts"]
    return complaints.select(*columns, "resolved_ts").union(
        others.select(*columns, resolved_ts=no_time))


def windows(cfg: dict[str, Any]) -> list[int]:
    """The experience event windows in days."""
    return [int(w) for w in cfg["experience"]["windows_days"]]


def event_scope(events: ir.Table, as_of: ir.TimestampScalar,
                cfg: dict[str, Any]) -> ir.BooleanValue:
    """The event rows these metrics read: complaints, recent events, recent surveys."""
    exp = cfg["experience"]
    reach = max([*windows(cfg)])
    survey = int(exp["survey_window_days"])
    return (is_event(events, cfg, exp["complaint_event"])
            | ((events.ts >= days_ago(as_of, reach)) & is_event(events, cfg, *exp["event_types"]))
            | ((events.ts >= days_ago(as_of, survey)) & is_event(events, cfg, exp["survey_event"])))


def event_metrics(events: ir.Table, as_of: ir.TimestampScalar, cfg: dict[str, Any]) -> Metrics:
    """Experience event counts, open / resolved complaints, severity and surveys.

    Parameters
    ----------
    events
        Prepared events with ``ts < as_of``.
    cfg
        The ``features`` config section.
    """
    exp = cfg["experience"]
    complaint = is_event(events, cfg, exp["complaint_event"])
    resolved = events.resolved_ts.notnull() & (events.resolved_ts < as_of)
    recent_enough = events.ts >= days_ago(as_of, int(exp["open_complaint_max_age_days"]))
    out = Metrics(counts={"open_complaints": events.count(where=complaint & recent_enough
                                                          & ~resolved)},
                  values={"_last_complaint": events.ts.max(where=complaint)})
    for w in windows(cfg):
        recent = events.ts >= days_ago(as_of, w)
        for kind in exp["event_types"]:
            out.counts[f"{kind}_{w}d"] = events.count(where=recent & is_event(events, cfg, kind))
        out.counts[f"resolved_complaints_{w}d"] = events.count(where=recent & complaint & resolved)
    longest = max(windows(cfg))
    if "severity" in events.columns:
        out.values[f"complaint_severity_max_{longest}d"] = events.severity.max(
            where=complaint & (events.ts >= days_ago(as_of, longest)))
    if "value" in events.columns:
        out.update(_survey_metrics(events, as_of, cfg))
    return out


def _survey_metrics(events: ir.Table, as_of: ir.TimestampScalar, cfg: dict[str, Any]) -> Metrics:
    exp = cfg["experience"]
    window = int(exp["survey_window_days"])
    scored = is_event(events, cfg, exp["survey_event"]) & events.value.notnull()
    scored = scored & (events.ts >= days_ago(as_of, window))
    # Order-free, like every feature: the last score is keyed on (ts, value), not ts
    # alone (of two recorded at the same instant the higher is taken; arg_max on ties
    # takes whichever row comes first), and the mean is an exact sum over a count.
    latest = ibis.struct({"ts": events.ts, "value": events.value})
    return Metrics(values={"survey_score_last": events.value.argmax(latest, where=scored),
                           f"survey_score_mean_{window}d": ratio(
                               exact_sum(events.value, scored), events.count(where=scored))})


def return_metrics(rows: ir.Table, as_of: ir.TimestampScalar, cfg: dict[str, Any]) -> Metrics:
    """Returned lines and amount in the return window (``rows``: returns before ``as_of``)."""
    w = int(cfg["experience"]["return_window_days"])
    recent = in_window(rows.ts, as_of, 0, w)
    return Metrics(counts={f"returns_{w}d": rows.count(where=recent),
                           f"return_amount_{w}d": exact_sum(rows.amount, recent)})


def derive(table: ir.Table, cfg: dict[str, Any]) -> dict[str, ir.Value]:
    """Days since the latest complaint and the return rate."""
    w = int(cfg["experience"]["return_window_days"])
    out: dict[str, ir.Value] = {}
    if "_last_complaint" in table.columns:
        out["days_since_complaint"] = days_between(table.as_of, table._last_complaint)
    if f"spend_{w}d" in table.columns:
        out[f"return_rate_{w}d"] = ratio(table[f"return_amount_{w}d"], table[f"spend_{w}d"])
    return out
