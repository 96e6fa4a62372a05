"""Interaction events, one simulated month at a time.

Sources: a background rate for every active customer; extra load from toxic
customers and terrorists; referrals from advocates and supporters; competitor
inquiries and price comparisons while a competitor campaign runs in the region;
precursors of a decided exit by cause (inquiries and port-out requests before a
lured exit, downgrades before a price exit, payment failures before an involuntary
one, ...); complaints about service failures and incidents (``value`` = 1 if the
complaint was resolved, 0 if not); survey scores (``value`` 0..10); and, in
contractual businesses, a cancellation on the exit day.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from churnml.simulate.population import Population
from churnml.simulate.shocks import RESOLVED, UNRESOLVED, Shocks
from churnml.simulate.spec import CAUSES, EVENT_CODE, EVENT_TYPES
from churnml.simulate.state import Month

COLUMNS = ("rows", "ts", "code", "value", "incident", "severity")
COMPLAINT = EVENT_CODE["complaint"]


def _rates(table: dict[str, float]) -> np.ndarray:
    unknown = set(table) - set(EVENT_TYPES)
    if unknown:
        raise ValueError(f"unknown event type(s) {sorted(unknown)} in world.events")
    return np.array([float(table.get(t, 0.0)) for t in EVENT_TYPES])


class Chatter:
    """Draws each month's interaction events."""

    def __init__(self, rng: np.random.Generator, cfg: dict[str, Any], pop: Population,
                 shocks: Shocks, advocate: np.ndarray) -> None:
        ev = cfg["events"]
        self.rng, self.pop, self.shocks, self.advocate = rng, pop, shocks, advocate
        self.base = _rates(ev["base"])
        self.kinds = {k: _rates(ev[k]) for k in ("toxic", "terrorist", "advocate", "supporter")}
        self.campaign = _rates(ev["competitor_campaign"])
        self.leaving = np.array([_rates(ev["leaving"].get(c, {})) for c in CAUSES])
        self.failure_support = float(ev["failure_support_prob"])
        self.resolve = float(cfg["failures"]["resolve_prob"])
        self.incident_complaint = float(cfg["incidents"]["complaint_rate"])
        self.survey = cfg["survey"]
        self.contractual = bool(cfg["contractual"]["enabled"])

    def month(self, m: Month, hazard_burn: np.ndarray) -> dict[str, np.ndarray]:
        """All events of month ``m``; ``hazard_burn`` is each customer's recent burn weight."""
        rows = m.active_rows()
        pop = self.pop
        parts = [self._poisson(m, rows, self.base)]
        kinds = {"toxic": pop.toxic, "terrorist": pop.terrorist, "advocate": self.advocate,
                 "supporter": pop.supporter}
        for kind, flag in kinds.items():
            parts.append(self._poisson(m, rows[flag[rows]], self.kinds[kind]))
        courted = rows[self.shocks.competitor[pop.region[rows], m.index]]
        parts.append(self._poisson(m, courted, self.campaign, pop.price_sens[courted]))
        for cause in range(len(CAUSES)):
            parts.append(self._poisson(m, rows[m.leaving[rows] == cause], self.leaving[cause]))
        parts += [self._failures(m, rows), self._incident_complaints(m)]
        if self.contractual:
            parts.append(self._make(m.exiting, m.seconds(m.hi[m.exiting]),
                                    EVENT_CODE["cancellation"]))
        out = {k: np.concatenate([p[k] for p in parts]) for k in COLUMNS}
        return self._details(m, out, hazard_burn)

    def _make(self, rows: np.ndarray, ts: np.ndarray, code: np.ndarray | int,
              value: np.ndarray | float = np.nan, incident: np.ndarray | int = -1,
              severity: np.ndarray | float = np.nan) -> dict[str, np.ndarray]:
        n = len(rows)
        return {"rows": rows.astype(np.int32), "ts": ts.astype(np.int64),
                "code": np.broadcast_to(code, n).astype(np.int8),
                "value": np.broadcast_to(value, n).astype(np.float32),
                "incident": np.broadcast_to(incident, n).astype(np.int32),
                "severity": np.broadcast_to(severity, n).astype(np.float32)}

    def _poisson(self, m: Month, rows: np.ndarray, rates: np.ndarray,
                 scale: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Events at ``rates`` per customer-month (x ``scale``), typed by their shares."""
        total = rates.sum()
        span = (m.hi[rows] - m.lo[rows]) / m.length
        lam = total * span * (1.0 if scale is None else scale)
        who = np.repeat(rows, self.rng.poisson(lam)) if total > 0 else rows[:0]
        code = np.searchsorted(np.cumsum(rates) / max(total, 1e-12),
                               self.rng.random(len(who)), side="right")
        return self._make(who, m.seconds(m.days(self.rng, who)), code.clip(0, len(rates) - 1))

    def _failures(self, m: Month, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Complaints (and support contacts) about this month's service failures."""
        code = self.shocks.failures[m.index, rows]
        complained = rows[(code == RESOLVED) | (code == UNRESOLVED)]
        resolved = (self.shocks.failures[m.index, complained] == RESOLVED).astype(float)
        failed = rows[code != 0]
        support = failed[self.rng.random(len(failed)) < self.failure_support]
        severity = self.rng.integers(1, 4, len(complained))
        return _concat([
            self._make(complained, m.seconds(m.days(self.rng, complained)), COMPLAINT,
                       resolved, severity=severity),
            self._make(support, m.seconds(m.days(self.rng, support)),
                       EVENT_CODE["support_contact"]),
        ])

    def _incident_complaints(self, m: Month) -> dict[str, np.ndarray]:
        """A few exposed customers complain about an incident (service-sensitive ones more)."""
        inc, parts = self.shocks.incidents, []
        for j in range(len(inc.rows)):
            now = (inc.month[j] == m.index) & inc.real[j]
            rows, ts = inc.rows[j][now], inc.ts[j][now]
            p = self.incident_complaint * 2 * self.pop.service_sens[rows]
            say = self.rng.random(len(rows)) < p
            rows, ts = rows[say], ts[say]
            start = (ts - m.start_s) / 86_400
            day = start + self.rng.random(len(rows)) * np.maximum(m.hi[rows] - start, 0)
            resolved = (self.rng.random(len(rows)) < self.resolve).astype(float)
            parts.append(self._make(rows, np.maximum(m.seconds(day), ts), COMPLAINT, resolved,
                                    j, float(inc.severity[j])))
        return _concat(parts) if parts else self._make(np.zeros(0, np.int64),
                                                       np.zeros(0, np.int64), COMPLAINT)

    def _details(self, m: Month, ev: dict[str, np.ndarray],
                 burn: np.ndarray) -> dict[str, np.ndarray]:
        """Severity of plain complaints, resolution, and survey scores."""
        plain = np.isin(ev["code"], (COMPLAINT, EVENT_CODE["public_complaint"])) & np.isnan(
            ev["severity"])
        ev["severity"][plain] = self.rng.integers(1, 4, int(plain.sum()))
        unset = (ev["code"] == COMPLAINT) & np.isnan(ev["value"])
        ev["value"][unset] = self.rng.random(int(unset.sum())) < self.resolve
        survey = np.flatnonzero(ev["code"] == EVENT_CODE["survey_score"])
        ev["value"][survey] = self._scores(m, ev["rows"][survey], burn)
        return ev

    def _scores(self, m: Month, rows: np.ndarray, burn: np.ndarray) -> np.ndarray:
        """0..10 survey scores: advocates high, terrorists low, recent bad experiences lower."""
        s, pop = self.survey, self.pop
        mean = (float(s["mean"]) + float(s["advocate"]) * self.advocate[rows]
                + float(s["supporter"]) * pop.supporter[rows] + float(s["toxic"]) * pop.toxic[rows]
                + float(s["terrorist"]) * pop.terrorist[rows] + float(s["burn"]) * burn[rows]
                + float(s["leaving"]) * (m.leaving[rows] >= 0))
        score = np.round(mean + self.rng.normal(0, float(s["sd"]), len(rows)))
        return np.clip(score, 0, 10)


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in COLUMNS}
