"""``summary.html``: a self-contained page for the marketing team (no network, no scripts).

:func:`build_summary` is pure: scored list and context in, HTML text out. Same input,
same bytes (no clock, no random ids).
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from churnml.report import html
from churnml.report.sections import SECTIONS, Section, SummaryContext

MAX_LISTED_INPUTS = 5
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;
max-width:960px;color:#1d2733;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;border-bottom:1px solid #d6dde6;
padding-bottom:.2em;margin-top:1.8em}
.tiles{display:flex;flex-wrap:wrap;gap:12px;margin:1em 0}
.tile{background:#f2f5f9;border-radius:6px;padding:10px 16px;min-width:140px}
.figure{font-size:1.5em;font-weight:600}.label{font-size:.85em;color:#4a5868}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}
th,td{padding:4px 10px;border-bottom:1px solid #e3e8ee}th{text-align:left;background:#f2f5f9}
td.num{text-align:right}caption{text-align:left;font-weight:600;padding:4px 0}
.na{color:#6b7785;font-style:italic}.note{color:#6b7785;font-size:.85em}
.banner{background:#fff4d6;border:1px solid #e6c15a;padding:8px 12px;border-radius:6px}
.warn{background:#fdecea;border:1px solid #e3a19a;padding:8px 12px;border-radius:6px}
footer{margin-top:2.5em;font-size:.8em;color:#6b7785}
"""


def render_section(spec: Section, scored: pd.DataFrame, ctx: SummaryContext) -> str:
    """Render a section, or say plainly which information is not available yet."""
    if all(column in scored.columns for column in spec.needs):
        body = spec.render(scored, ctx)
    else:
        body = html.paragraph(spec.missing, "na")
    return html.section(spec.title, body, spec.anchor)


def key_figures(scored: pd.DataFrame) -> str:
    """Tiles: customers scored, active, lapsed, yearly value at risk."""
    status = scored["status"] if "status" in scored else pd.Series(dtype=str)
    items = [(html.count(len(scored)), "customers scored"),
             (html.count((status == "active").sum()), "active customers"),
             (html.count((status == "lapsed").sum()), "lapsed customers")]
    if {"p_attrition", "value"} <= set(scored.columns):
        at_risk = (scored["p_attrition"] * scored["value"]).sum()
        items.append((html.money(at_risk), "yearly value at risk"))
    return html.tiles(items)


def data_check(ctx: SummaryContext) -> str:
    """Plain-language result of the drift check, with the features that changed."""
    warned = sorted({name for report in ctx.drift.values() for name in report.get("warned", [])})
    unavailable = sorted(k for k, r in ctx.drift.items() if r.get("decision") == "unavailable")
    checked = [k for k, r in ctx.drift.items() if r.get("decision") != "unavailable"]
    parts = []
    if not checked:
        parts.append(html.paragraph("The inputs could not be compared with the training data "
                                    "in this run.", "na"))
    elif not warned:
        parts.append(html.paragraph("The customers scored in this run look like the customers "
                                    "the models learned from."))
    else:
        shown = ", ".join(warned[:MAX_LISTED_INPUTS])
        more = len(warned) - MAX_LISTED_INPUTS
        shown += f" and {more} more" if more > 0 else ""
        parts.append(html.paragraph(
            "Some inputs differ from what the models learned from; the scores are still "
            f"usable, and the data team has been told. Inputs that changed: {shown} "
            "(details in manifest.json)."))
    if unavailable:
        parts.append(html.paragraph("No training profile to compare with for: "
                                    + ", ".join(unavailable) + ".", "na"))
    return html.section("Data check", "".join(parts), "data-check")


def _footer(ctx: SummaryContext) -> str:
    versions = ", ".join(f"{kind} model {version}"
                         for kind, version in sorted(ctx.model_versions.items()))
    return f"<footer>Scored as of {escape(ctx.as_of)} with {escape(versions)}.</footer>"


def build_summary(scored: pd.DataFrame, ctx: SummaryContext,
                  sections: tuple[Section, ...] = SECTIONS) -> str:
    """The marketing summary page as one self-contained HTML string.

    Parameters
    ----------
    scored
        The scored list (DESIGN §10); uses ``status, p_attrition, risk_band, p_winback,
        value`` and, when present, ``reason_1..3, offer_id, ladder_rung, churn_cause,
        holdout, expected_net_value, offer_cost, shared_cause_outreach,
        shared_cause_incident``. Only aggregates are shown: no customer id or other
        per-customer value reaches the page.
    ctx
        Scoring date, model versions, drift results, subset and budget.
    sections
        The section specifications (default: :data:`~churnml.report.sections.SECTIONS`).

    Returns
    -------
    str
        A complete HTML document with inline CSS and SVG charts.
    """
    title = f"Customer churn summary - as of {ctx.as_of}"
    body = [f"<h1>{escape(title)}</h1>"]
    if ctx.subset:
        body.append(html.paragraph(f"Quick look only: {ctx.subset}. Do not load this file "
                                   f"into the CRM.", "banner"))
    body.append(key_figures(scored))
    body.extend(render_section(spec, scored, ctx) for spec in sections)
    body.append(data_check(ctx))
    body.append(_footer(ctx))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def context_from(as_of: str, versions: dict[str, str], score_cfg: dict[str, Any],
                 drift: dict[str, dict[str, Any]], subset: str | None,
                 budget: float | None = None) -> SummaryContext:
    """Build the page context from the ``score`` config section and the run's results."""
    return SummaryContext(as_of=as_of, model_versions=dict(versions),
                          risk_bands=dict(score_cfg.get("risk_bands", {})), drift=drift,
                          subset=subset, budget=budget)
