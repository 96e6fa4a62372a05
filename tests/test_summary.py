"""summary.html: a self-contained, readable page whose sections fill in as columns appear."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from churnml.report import SummaryContext, build_summary, sections, svg
from churnml.report.sections import TOP_REASONS, normalise_reason

VOID = {"meta", "br", "hr", "img", "input", "link", "rect", "path", "circle", "line"}
CTX = SummaryContext(as_of="2025-07-01", model_versions={"attrition": "att/3", "winback": "wb/2"},
                     risk_bands={"high": 0.5, "medium": 0.25},
                     drift={"attrition": {"decision": "warn", "warned": ["spend_ratio_90d"]},
                            "winback": {"decision": "ok", "warned": []}})


class Page(HTMLParser):
    """Renders the page the way a browser's parser would: a tag tree and visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.sections: dict[str, list[str]] = {}
        self.current = "top"

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "section":
            self.current = dict(attrs)["id"]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")

    def handle_data(self, data):
        if data.strip() and "style" not in self.stack:
            self.sections.setdefault(self.current, []).append(data.strip())

    def text(self, section: str) -> str:
        return " ".join(self.sections.get(section, []))


def render(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    assert parser.errors == [] and parser.stack == [], parser.errors
    return parser


def scored_list(n: int = 400, seed: int = 0, extras: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    status = np.where(rng.random(n) < 0.75, "active", "lapsed")
    p = rng.beta(1.2, 4.0, n)
    p_att = pd.Series(np.where(status == "active", p, np.nan))
    band = pd.Series(np.select([p_att >= 0.5, p_att >= 0.25], ["high", "medium"], "low"))
    frame = pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(n)], "as_of": pd.Timestamp("2025-07-01"),
        "status": status, "p_attrition": p_att, "risk_band": band.where(p_att.notna()),
        "risk_percentile": (p_att.rank(pct=True, method="max") * 100).round(2),
        "p_winback": np.where(status == "lapsed", rng.beta(2, 5, n), np.nan),
        "value": rng.gamma(2.0, 300.0, n).round(2)})
    if extras:
        offer = rng.choice(["none", "price_match", "apology", "double_points"], n)
        frame = frame.assign(
            offer_id=offer, ladder_rung=rng.choice(["customer", "client", "toxic"], n),
            churn_cause=rng.choice(["burned", "lured"], n), holdout=rng.random(n) < 0.05,
            expected_net_value=np.where(offer == "none", 0.0, rng.normal(20, 5, n)),
            offer_cost=np.where(offer == "none", 0.0, 5.0),
            shared_cause_outreach=rng.random(n) < 0.1,
            shared_cause_incident=rng.choice(["INC1", "INC2", None], n),
            reason_1=[f"spend down {rng.integers(10, 90)} % vs the prior 90 days"
                      for _ in range(n)],
            reason_2=rng.choice(["2 unresolved complaints", "asked about porting out"], n))
    return frame


def test_page_is_self_contained_and_well_formed():
    page = build_summary(scored_list(), CTX)
    parsed = render(page)
    names = {tag for tag, _ in parsed.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed"}
    for _, attrs in parsed.tags:
        for value in attrs.values():
            assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", str(value))
    assert "url(" not in page and "@import" not in page
    for chart in re.findall(r"<svg.*?</svg>", page, flags=re.S):
        assert ET.fromstring(chart).tag.endswith("svg")


def test_sections_without_data_say_so_plainly():
    parsed = render(build_summary(scored_list(), CTX))
    assert "Offers: not configured" in parsed.text("offers")
    assert "not available" in parsed.text("reasons")
    assert "not available" in parsed.text("budget")
    assert "not available" in parsed.text("shared-cause")
    assert "in the 'high' risk band" in parsed.text("risk")
    assert "spend_ratio_90d" in parsed.text("data-check")


def test_held_out_customers_are_not_counted_as_offers_to_send():
    frame = pd.DataFrame({"offer_id": ["disc10", "disc10", "disc10", "none"],
                          "holdout": [False, True, True, False],
                          "expected_net_value": [20.0, 20.0, 20.0, 0.0],
                          "offer_cost": [10.0, 10.0, 10.0, 0.0]})
    text = " ".join(re.sub(r"<[^>]+>", " ", sections.budget(frame, CTX)).split())
    assert "1 offers to send" in text and "expected net value" in text
    assert "30" not in text and "60" not in text  # neither the three offers nor their sum


def test_a_budget_of_zero_is_shown_as_the_budget():
    frame = pd.DataFrame({"offer_id": ["none"], "holdout": [False],
                          "expected_net_value": [0.0], "offer_cost": [0.0]})
    ctx = SummaryContext(**{**CTX.__dict__, "budget": 0.0})
    text = " ".join(re.sub(r"<[^>]+>", " ", sections.budget(frame, ctx)).split())
    assert "0 of 0 budget used" in text


def test_sections_fill_in_when_the_columns_exist():
    frame = scored_list(extras=True)
    parsed = render(build_summary(frame, SummaryContext(**{**CTX.__dict__, "budget": 2000.0})))
    offers = parsed.text("offers")
    assert "price_match" in offers and "loyalty rung" in offers and "churn cause" in offers
    assert "held out at random" in offers
    assert "of 2,000" in parsed.text("budget") and "expected net value" in parsed.text("budget")
    flagged = int(frame["shared_cause_outreach"].sum())
    assert f"{flagged:,} customers were exposed" in parsed.text("shared-cause")
    assert "2 distinct incidents" in parsed.text("shared-cause")
    assert "spend down N % vs the prior N days" in parsed.text("reasons")


def test_key_figures_match_the_scored_list():
    frame = scored_list()
    top = render(build_summary(frame, CTX)).text("top")
    assert f"{len(frame):,} customers scored" in top
    assert f"{(frame['status'] == 'active').sum():,} active customers" in top


def test_same_rows_in_any_order_give_the_same_bytes_and_no_customer_ids():
    frame = scored_list(extras=True)
    page = build_summary(frame, CTX)
    assert build_summary(frame.sample(frac=1.0, random_state=3), CTX) == page
    assert not any(cid in page for cid in frame["customer_id"])


def test_text_is_escaped():
    frame = scored_list(extras=True)
    frame["reason_1"] = "<script>alert(1)</script>"
    page = build_summary(frame, CTX)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_quick_look_banner():
    ctx = SummaryContext(**{**CTX.__dict__, "subset": "first 10 of 400 customers by id"})
    assert "Do not load this file into the CRM" in render(build_summary(scored_list(), ctx)).text(
        "top")


@pytest.mark.parametrize(("text", "expected"), [
    ("spend down 62 % vs the prior 90 days", "spend down N % vs the prior N days"),
    ("2 unresolved complaints", "N unresolved complaints"),
    ("overdue by 1.5x the usual gap", "overdue by Nx the usual gap")])
def test_reasons_are_counted_without_their_numbers(text, expected):
    assert normalise_reason(text) == expected


def test_data_check_lists_a_few_changed_inputs_once_in_plain_words():
    warned = [f"feature_{i}" for i in range(8)]
    ctx = SummaryContext(**{**CTX.__dict__, "drift": {
        "attrition": {"decision": "warn", "warned": warned},
        "winback": {"decision": "warn", "warned": warned[:2]}}})
    text = render(build_summary(scored_list(), ctx)).text("data-check")
    assert "feature_0, feature_1, feature_2, feature_3, feature_4 and 3 more" in text
    assert text.count("feature_0") == 1 and "manifest.json" in text
    unchecked = SummaryContext(**{**CTX.__dict__, "drift": {
        "attrition": {"decision": "unavailable"}}})
    assert "could not be compared" in render(build_summary(scored_list(), unchecked)).text(
        "data-check")


def test_top_reasons_count_each_sentence_with_its_numbers_replaced():
    frame = scored_list(extras=True)
    frame["reason_3"] = np.where(np.arange(len(frame)) % 3 == 0, " ", "3 complaints in 90 days")
    top_band = frame[frame["risk_band"] == "high"]
    said = pd.concat([top_band[c] for c in ("reason_1", "reason_2", "reason_3")]).dropna()
    said = said[said.str.strip() != ""]
    expected = said.map(normalise_reason).value_counts().sort_index().sort_values(
        ascending=False, kind="stable").head(TOP_REASONS)
    assert sections.reasons(frame, CTX).endswith(svg.horizontal_bars(
        expected.index.tolist(), expected.tolist(), "Top reasons"))


def _table_rows(page: str, caption: str) -> dict[str, int]:
    """``{row label: customers}`` of the table whose caption starts with ``caption``."""
    table = re.search(rf"<caption>{re.escape(caption)}.*?</table>", page, flags=re.S).group(0)
    rows = re.findall(r"<tr><td[^>]*>([^<]*)</td>(.*?)</tr>", table)
    return {label: sum(int(c.replace(",", "")) for c in re.findall(r">([\d,]+)<", cells))
            for label, cells in rows}


def test_offers_by_churn_cause_count_former_customers_only():
    # As the score stage writes it: active customers have no churn cause (null); a
    # few lapsed ones have the cause value 'unknown', one was not typed.
    frame = scored_list(extras=True)
    lapsed = frame["status"] == "lapsed"
    cause = np.where(np.arange(len(frame)) % 3 == 0, "unknown", "burned")
    frame["churn_cause"] = pd.Series(cause).where(lapsed)
    frame.loc[frame.index[lapsed][0], "churn_cause"] = None
    page = sections.offers(frame, CTX)
    rows = _table_rows(page, "Offers by churn cause")
    assert sum(rows.values()) == lapsed.sum()  # every former customer, no active one
    assert rows["unknown"] == (frame["churn_cause"] == "unknown").sum()
    assert rows["not typed"] == 1
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert f"the {(~lapsed).sum():,} active customers have none" in text
