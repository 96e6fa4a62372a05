"""The sections of the marketing summary, each declared with the columns it needs.

A section renders only when the scored list has all of its ``needs`` columns;
otherwise the page says plainly that the information is not available yet (e.g.
offers not configured). Adding a column to the scored list therefore fills its
section in without changes here.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from churnml.report import html, svg

REASON_COLUMNS = ("reason_1", "reason_2", "reason_3")
SHARED_CAUSE_COLUMN = "shared_cause_outreach"  # as churnml.segments.shared_cause names it
SHARED_INCIDENT_COLUMN = "shared_cause_incident"
OFFER_COST_COLUMN = "offer_cost"
NO_OFFER = "none"
CAUSE_COLUMN = "churn_cause"
LAPSED_STATUS = "lapsed"  # as churnml.status.LAPSED names former customers
NO_CAUSE_TYPED = "not typed"
TOP_REASONS = 10
PROBABILITY_BINS = 10


@dataclass(frozen=True)
class SummaryContext:
    """What the page says besides the scored list itself.

    Attributes
    ----------
    as_of
        Scoring date (ISO text).
    model_versions
        ``{"attrition": ..., "winback": ...}``.
    risk_bands
        The ``score.risk_bands`` thresholds.
    drift
        Per model, the drift report's ``to_dict()`` (or ``{"decision": "unavailable"}``).
    subset
        A sentence describing a quick-look subset (``--limit`` / ``--sample``), else None.
    budget
        The offer budget when offers are configured, else None.
    """

    as_of: str
    model_versions: dict[str, str]
    risk_bands: dict[str, float] = field(default_factory=dict)
    drift: dict[str, dict[str, Any]] = field(default_factory=dict)
    subset: str | None = None
    budget: float | None = None


@dataclass(frozen=True)
class Section:
    """A page section: title, needed columns, renderer, and text when unavailable."""

    title: str
    anchor: str
    needs: tuple[str, ...]
    render: Callable[[pd.DataFrame, SummaryContext], str]
    missing: str


def _probability_chart(p: pd.Series, title: str, highlight_from: float | None) -> str:
    edges = np.linspace(0, 1, PROBABILITY_BINS + 1)
    counts, _ = np.histogram(p.to_numpy(dtype=float), bins=edges)
    labels = [f"{round(100 * lo)}–{round(100 * hi)}" for lo, hi in itertools.pairwise(edges)]
    start = None if highlight_from is None else int(highlight_from * PROBABILITY_BINS)
    return svg.columns(labels, counts.tolist(), title, highlight_from=start)


def _band_order(ctx: SummaryContext) -> list[str]:
    return [name for name, _ in sorted(ctx.risk_bands.items(), key=lambda kv: -kv[1])] + ["low"]


def risk(scored: pd.DataFrame, ctx: SummaryContext) -> str:
    """Attrition risk of active customers: histogram and a table by risk band."""
    active = scored[(scored["status"] == "active") & scored["p_attrition"].notna()]
    if active.empty:
        return html.paragraph("No active customers were scored.")
    value = active["value"] if "value" in active else pd.Series(np.nan, index=active.index)
    rows = []
    for band in _band_order(ctx):
        part = active["risk_band"] == band
        rows.append([band, html.count(part.sum()), html.percent(part.mean()),
                     html.percent(active.loc[part, "p_attrition"].mean()),
                     html.money(value[part].sum()),
                     html.money((value[part] * active.loc[part, "p_attrition"]).sum())])
    top = _band_order(ctx)[0]
    high = (active["risk_band"] == top).sum()
    text = (f"{html.count(high)} of {html.count(len(active))} active customers "
            f"({html.percent(high / len(active))}) are in the '{top}' risk band.")
    chart = _probability_chart(active["p_attrition"], "Active customers by chance of leaving (%)",
                               ctx.risk_bands.get(top))
    headers = ["risk band", "customers", "share", "average risk", "yearly value",
               "value at risk"]
    return (html.paragraph(text) + chart
            + html.paragraph("Chance of leaving, in percent (x axis); customers (bars).", "note")
            + html.table(headers, rows))


def winback(scored: pd.DataFrame, ctx: SummaryContext) -> str:
    """Chance that lapsed customers come back."""
    lapsed = scored[(scored["status"] == "lapsed") & scored["p_winback"].notna()]
    if lapsed.empty:
        return html.paragraph("No lapsed customers were scored (or no win-back model is used).")
    p = lapsed["p_winback"]
    text = (f"{html.count(len(lapsed))} former customers; on average "
            f"{html.percent(p.mean())} chance to come back; the most promising tenth have "
            f"at least {html.percent(p.quantile(0.9))}.")
    return html.paragraph(text) + _probability_chart(p, "Lapsed customers by chance of "
                                                        "returning (%)", None)


def normalise_reason(text: str) -> str:
    """A reason sentence with its numbers replaced by ``N``, so reasons can be counted."""
    return re.sub(r"\d+(?:[.,]\d+)?", "N", str(text)).strip()


def reasons(scored: pd.DataFrame, ctx: SummaryContext) -> str:
    """The most frequent reasons among the highest-risk customers."""
    rows = scored
    if "risk_band" in scored and ctx.risk_bands:
        rows = scored[scored["risk_band"] == _band_order(ctx)[0]]
    cols = [c for c in REASON_COLUMNS if c in rows]
    texts = pd.concat([rows[c] for c in cols]).dropna().astype(str)
    texts = texts[texts.str.strip() != ""].value_counts()  # normalised once per distinct text
    if texts.empty:
        return html.paragraph("No reasons were given for the highest-risk customers.")
    counted = texts.groupby(texts.index.map(normalise_reason)).sum()  # sorted by sentence
    top = counted.sort_values(ascending=False, kind="stable")
    top = top.head(TOP_REASONS)
    return (html.paragraph("Reasons most often given for the highest-risk customers "
                           "(N stands for the customer's own figure):")
            + svg.horizontal_bars(top.index.tolist(), top.to_numpy().tolist(), "Top reasons"))


def offers(scored: pd.DataFrame, ctx: SummaryContext) -> str:
    """How many customers get each offer, by loyalty rung and by churn cause."""
    offer = scored["offer_id"].fillna(NO_OFFER).astype(str)
    counts = offer.value_counts().sort_index()
    body = svg.horizontal_bars(counts.index.tolist(), counts.to_numpy().tolist(),
                               "Customers per offer",
                               highlight=[o == NO_OFFER for o in counts.index])
    if "holdout" in scored:
        held = scored["holdout"].fillna(False).astype(bool)
        body += html.paragraph(f"{html.count(held.sum())} customers are held out at random "
                               f"(no offer sent) so the next run can measure what worked.")
    if "ladder_rung" in scored:
        body += _offer_table(scored["ladder_rung"].fillna("unknown"), offer, "loyalty rung",
                             "Offers by loyalty rung")
    else:
        body += html.paragraph("Offers by loyalty rung: not available yet.", "na")
    return body + _offers_by_cause(scored, offer)


def _offer_table(labels: pd.Series, offer: pd.Series, name: str, caption: str) -> str:
    """Customers per label (rows) and offer (columns); ``offer`` aligned on ``labels``."""
    pivot = pd.crosstab(labels.astype(str), offer.loc[labels.index])
    rows = [[str(idx), *(html.count(v) for v in row)] for idx, row in pivot.iterrows()]
    return html.table([name, *pivot.columns.astype(str)], rows, caption)


def _offers_by_cause(scored: pd.DataFrame, offer: pd.Series) -> str:
    """Offers by churn cause, over former customers only.

    Active customers have no churn cause by design; counting them under a cause (or
    as ``unknown``, a real cause value) would show customers who never left as
    departures without a visible reason. Needs ``churn_cause``; ``status`` selects
    the lapsed rows (without it, the rows that have a cause). A lapsed customer whose
    cause was not typed is shown as :data:`NO_CAUSE_TYPED`.
    """
    if CAUSE_COLUMN not in scored:
        return html.paragraph("Offers by churn cause: not available yet.", "na")
    cause = scored[CAUSE_COLUMN]
    former = (scored["status"].astype(str) == LAPSED_STATUS if "status" in scored
              else cause.notna())
    if not former.any():
        return html.paragraph("Offers by churn cause: no former customers in this list.")
    table = _offer_table(cause[former].fillna(NO_CAUSE_TYPED), offer, "churn cause",
                         "Offers by churn cause (former customers only)")
    return table + html.paragraph(f"Churn causes are typed for former customers only: the "
                                  f"{html.count((~former).sum())} active customers have none "
                                  f"and are not counted in this table.")


def budget(scored: pd.DataFrame, ctx: SummaryContext) -> str:
    """Budget used and the expected net value of the offers sent (held-out customers
    keep their offer id in the list but are not sent it, so they do not count)."""
    offered = scored["offer_id"].fillna(NO_OFFER).astype(str) != NO_OFFER
    if "holdout" in scored:
        offered &= ~scored["holdout"].fillna(False).astype(bool)
    value = scored.loc[offered, "expected_net_value"].sum()
    items = [(html.count(offered.sum()), "offers to send"), (html.money(value),
                                                             "expected net value")]
    if OFFER_COST_COLUMN in scored:
        spent = scored.loc[offered, OFFER_COST_COLUMN].sum()
        used = f" of {html.money(ctx.budget)}" if ctx.budget is not None else ""
        items.append((html.money(spent) + used, "budget used"))
    else:
        items.append(("n/a", "budget used (offer costs not in this run)"))
    return html.tiles(items)


def shared_cause(scored: pd.DataFrame, ctx: SummaryContext) -> str:
    """Size of the outreach list of customers exposed to a shared cause."""
    flagged = scored[SHARED_CAUSE_COLUMN].fillna(False).astype(bool)
    text = (f"{html.count(flagged.sum())} customers were exposed to the same problem as "
            f"customers who complained, but have not complained themselves; reach them before "
            f"they do.")
    if SHARED_INCIDENT_COLUMN in scored:
        incidents = scored.loc[flagged, SHARED_INCIDENT_COLUMN].dropna().nunique()
        text += f" They were touched by {html.count(incidents)} distinct incidents."
    return html.paragraph(text)


SECTIONS: tuple[Section, ...] = (
    Section("Who is at risk of leaving", "risk", ("status", "p_attrition", "risk_band"), risk,
            "Attrition scores are not available in this run."),
    Section("Former customers who may come back", "winback", ("status", "p_winback"), winback,
            "Win-back scores are not available in this run."),
    Section("Top reasons", "reasons", ("reason_1",), reasons,
            "Reasons: not available yet (reason codes are not part of this scoring run)."),
    Section("Offers by loyalty rung and churn cause", "offers", ("offer_id",), offers,
            "Offers: not configured - no offers were chosen in this run."),
    Section("Budget and expected value", "budget", ("offer_id", "expected_net_value"), budget,
            "Budget and expected value: not available (offers are not configured)."),
    Section("Shared-cause outreach list", "shared-cause", (SHARED_CAUSE_COLUMN,), shared_cause,
            "Shared-cause outreach list: not available yet (no shared-cause flags in this run)."),
)
