"""Shared-cause risk: exposure to current incidents, and how many of the exposed complained.

An incident touches many customers and few complain; every exposed customer is at
risk. Exposure is never read from ground truth, only inferred from observable data
as of the snapshot ``t``:

* an incident is *current* at ``t`` if it started before ``t`` and has not ended,
  or ended less than ``incidents.linger_days`` before ``t`` (its end is only
  compared with ``t``, so a recorded future end date is never read);
* an incident without ``end`` ends ``incidents.max_open_days`` after its start (null:
  it stays open until an end is recorded), so a log that records only starts does not
  expose every later buyer;
* who is exposed depends on the incident's ``scope``, by the rules listed for it in
  ``incidents.exposure`` (``default`` for other scopes):

  ``complainant``   the customer complained about it (``incident_id`` on the complaint);
  ``region``        customers of the incident's ``region`` (a column of the incidents
                    table when present), else of the regions its complainants live in;
  ``product``       customers who bought the incident's ``product_id`` while it ran
                    (any product when the incident or the data has none);
  ``purchase_during``  customers who bought anything while it ran.

Features
--------
incidents_exposed, incidents_open_exposed
    Current (and still open) incidents the customer is exposed to.
incidents_silent_exposed
    Of those, incidents the customer has not complained about (reach them first).
incident_complaint_rate_max
    Highest complaint rate (complainants / exposed, before ``t``) of those incidents.
incident_severity_max, days_since_incident
    Worst severity and days since the latest start among them.
region_complaint_rate_<w>d
    Complaints per customer in the customer's region over the last ``w`` days
    (``region_complaint_window_days``): shared-cause pressure without incident ids.

Required columns: incidents ``incident_id, start`` (+ ``end, scope, severity,
region, product_id``); events ``key, ts, code, incident_id``.
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
    in_window,
    is_event,
    left_join,
)

DEFAULT = "default"
PAIR = [KEY, "incident_id"]


def incident_end(incidents: ir.Table, max_open_days: int | None) -> ir.TimestampValue:
    """When each incident ends: its recorded ``end``, else ``max_open_days`` after its start.

    Parameters
    ----------
    incidents
        ``incident_id, start`` (+ ``end``, optional: many logs record only a start).
    max_open_days
        ``incidents.max_open_days``: how long an incident without an ``end`` runs;
        ``None`` leaves it open (null end) until an end is recorded.

    Returns
    -------
    TimestampValue
        The end, null for an incident still open for good. It may lie after the
        snapshot: callers only compare it with ``t``.
    """
    recorded = incidents.end if "end" in incidents.columns else ibis.null().cast("timestamp")
    if max_open_days is None:
        return recorded
    return recorded.fill_null(incidents.start + ibis.interval(days=int(max_open_days)))


def current_incidents(incidents: ir.Table, as_of: ir.TimestampScalar, linger_days: int,
                      max_open_days: int | None) -> ir.Table:
    """Incidents current at ``as_of``: ``incident_id, start, until, is_open, scope, severity``
    (+ ``region, product_id``); ``until`` is when exposure stops counting, at most ``as_of``.
    An incident without ``end`` ends ``max_open_days`` after its start (see
    :func:`incident_end`).
    """
    inc = incidents
    end = incident_end(inc, max_open_days)
    live = end.isnull() | (end >= days_ago(as_of, linger_days))
    until = ibis.ifelse(end.isnull() | (end > as_of), as_of, end)
    extra = [c for c in ("region", "product_id") if c in inc.columns]
    return inc.filter((inc.start < as_of) & live).select(
        "incident_id", "start", *extra, until=until, is_open=end.isnull() | (end >= as_of),
        scope=inc.scope.fill_null("") if "scope" in inc.columns else ibis.literal(""),
        severity=inc.severity.cast("float64") if "severity" in inc.columns
        else ibis.null().cast("float64"))


def _governed_by(incs: ir.Table, rule: str, exposure: dict[str, list[str]]) -> ir.Table:
    """The incidents whose scope lists ``rule`` (scopes not named follow ``default``)."""
    named = [s for s in exposure if s != DEFAULT]
    scopes = [s for s in named if rule in exposure[s]]
    chosen = incs.scope.isin(scopes) if scopes else ibis.literal(False)
    if rule in exposure.get(DEFAULT, []):
        chosen = chosen | ~incs.scope.isin(named) if named else ibis.literal(True)
    return incs.filter(chosen)


def _by_region(incs: ir.Table, customers: ir.Table, complaints: ir.Table,
               region: str) -> ir.Table:
    inferred = complaints.join(customers.select(KEY, home=customers[region]), KEY)
    inferred = inferred.select("incident_id", "home")
    if "region" in incs.columns:
        known = incs.filter(incs.region.notnull()).select("incident_id", home=incs.region)
        unknown = incs.filter(incs.region.isnull()).select("incident_id")
        targets = known.union(inferred.semi_join(unknown, "incident_id"))
    else:
        targets = inferred.semi_join(incs, "incident_id")
    targets = targets.distinct()
    pairs = customers.join(targets, customers[region] == targets.home)
    return pairs.select(KEY, "incident_id")


def _by_purchase(incs: ir.Table, purchases: ir.Table, match_product: bool) -> ir.Table:
    during = (purchases.ts >= incs.start) & (purchases.ts < incs.until)
    if match_product and "product_id" in incs.columns and "product_id" in purchases.columns:
        during = during & (incs.product_id.isnull() | (purchases.product_id == incs.product_id))
    pairs = purchases.join(incs, during)
    return pairs.select(KEY, "incident_id").distinct()


def exposures(incs: ir.Table, customers: ir.Table, purchases: ir.Table, complaints: ir.Table,
              cfg: dict[str, Any]) -> ir.Table:
    """Distinct ``key, incident_id`` pairs of exposed customers, by the scope rules."""
    exposure = {str(k): list(v) for k, v in cfg["exposure"].items()}
    region = cfg.get("region_column")
    parts = [complaints.semi_join(_governed_by(incs, "complainant", exposure), "incident_id")]
    if region and region in customers.columns:
        parts.append(_by_region(_governed_by(incs, "region", exposure), customers, complaints,
                                region))
    parts.append(_by_purchase(_governed_by(incs, "product", exposure), purchases, True))
    parts.append(_by_purchase(_governed_by(incs, "purchase_during", exposure), purchases, False))
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part)
    return out.distinct()


def _complaints_about(incs: ir.Table, customers: ir.Table, events: ir.Table | None,
                      as_of: ir.TimestampScalar, cfg: dict[str, Any]) -> ir.Table:
    """Distinct ``key, incident_id`` of complaints about current incidents before ``as_of``."""
    if events is None or "incident_id" not in events.columns:  # nobody can be seen complaining
        none = incs.filter(ibis.literal(False))
        return none.select(none.incident_id, **{KEY: ibis.null().cast(customers[KEY].type())}) \
            .select(KEY, "incident_id")
    said = events.filter(is_event(events, cfg, cfg["experience"]["complaint_event"])
                         & events.incident_id.notnull() & (events.ts < as_of))
    return said.select(KEY, "incident_id").distinct().semi_join(incs, "incident_id")


def incident_table(incidents: ir.Table, customers: ir.Table, purchases: ir.Table,
                   events: ir.Table | None, as_of: ir.TimestampScalar,
                   cfg: dict[str, Any]) -> tuple[ir.Table, Metrics]:
    """Per exposed customer: the incident features (and which of them are counts).

    Parameters
    ----------
    customers
        Prepared customers who signed up before ``as_of``.
    purchases, events
        Prepared tables (every row; only those before ``as_of`` are read); without
        events (or their ``incident_id``) nobody is seen complaining.
    cfg
        The ``features`` config section.
    """
    inc_cfg = cfg["incidents"]
    incs = current_incidents(incidents, as_of, int(inc_cfg["linger_days"]),
                             inc_cfg["max_open_days"])
    complaints = _complaints_about(incs, customers, events, as_of, cfg)
    exposed = exposures(incs, customers, purchases, complaints, inc_cfg)
    size = exposed.group_by("incident_id").aggregate(_exposed=exposed.count())
    voices = complaints.group_by("incident_id").aggregate(_complained=complaints.count())
    stats = left_join(left_join(incs, size, ["incident_id"]), voices, ["incident_id"])
    stats = stats.mutate(rate=stats._complained.fill_null(0) / stats._exposed.cast("float64"))
    rows = exposed.join(stats, "incident_id")
    rows = left_join(rows, complaints.mutate(_voiced=ibis.literal(1)), PAIR)
    metrics = Metrics(
        counts={"incidents_exposed": rows.count(),
                "incidents_open_exposed": rows.count(where=rows.is_open),
                "incidents_silent_exposed": rows.count(where=rows._voiced.isnull())},
        values={"incident_complaint_rate_max": rows.rate.max(),
                "incident_severity_max": rows.severity.max(),
                "_last_incident_start": rows.start.max()})
    return metrics.aggregate(rows), metrics


def region_complaint_rates(customers: ir.Table, events: ir.Table, as_of: ir.TimestampScalar,
                           cfg: dict[str, Any]) -> ir.Table | None:
    """``_home, region_complaint_rate_<w>d``: complaints per customer of a region in ``w`` days.

    Parameters
    ----------
    customers
        Prepared customers who signed up before ``as_of`` (with the region column).
    events
        Prepared events (every row; only those before ``as_of`` are read).
    """
    region = cfg["incidents"].get("region_column")
    if not region or region not in customers.columns:
        return None
    w = int(cfg["incidents"]["region_complaint_window_days"])
    recent = events.filter(is_event(events, cfg, cfg["experience"]["complaint_event"])
                           & in_window(events.ts, as_of, 0, w))
    homes = customers.select(KEY, _home=customers[region])
    counted = recent.join(homes, KEY).group_by("_home").aggregate(_complaints=lambda t: t.count())
    sizes = homes.group_by("_home").aggregate(_customers=lambda t: t.count())
    rates = left_join(sizes, counted, ["_home"])
    rate = rates._complaints.fill_null(0) / rates._customers.cast("float64")
    return rates.select("_home", **{f"region_complaint_rate_{w}d": rate})


def derive(table: ir.Table, cfg: dict[str, Any]) -> dict[str, ir.Value]:
    """Days since the latest current incident the customer is exposed to."""
    if "_last_incident_start" not in table.columns:
        return {}
    return {"days_since_incident": days_between(table.as_of, table._last_incident_start)}
