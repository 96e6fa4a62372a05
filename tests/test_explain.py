"""Reason codes: LightGBM contributions turned into plain sentences from templates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnml.errors import ConfigError
from churnml.explain import compile_templates, format_values, reason_codes
from churnml.models import ChurnClassifier
from tests.segment_frames import default_cfg


def _churn_frame(n: int = 2000, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Attrition driven by falling spend, complaints and recency; region is noise."""
    rng = np.random.default_rng(seed)
    prev = rng.gamma(3.0, 40.0, n)
    ratio = rng.uniform(0.0, 1.6, n)
    complaints = rng.poisson(0.3, n).astype(float)
    recency = rng.exponential(20.0, n)
    frame = pd.DataFrame({
        "spend_90d": prev * ratio, "spend_prev_90d": prev, "spend_ratio_90d": ratio,
        "complaint_90d": complaints, "recency_days": recency,
        "region": rng.choice(["north", "south"], n), "tenure_days": rng.uniform(200, 900, n),
    })
    logit = -1.0 - 3.0 * (ratio - 0.8) + 0.9 * complaints + 0.02 * recency
    return frame, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


@pytest.fixture(scope="module")
def model_and_frame():
    frame, y = _churn_frame()
    model = ChurnClassifier(max_rounds=80, calibration="none").fit(frame, y)
    return model, frame


@pytest.fixture
def templates():
    return default_cfg("reasons")["templates"]


def test_a_customer_whose_spend_fell_60_percent_hears_it(model_and_frame, templates):
    model, _ = model_and_frame
    customer = pd.DataFrame([{"spend_90d": 80.0, "spend_prev_90d": 200.0, "spend_ratio_90d": 0.4,
                              "complaint_90d": 2.0, "recency_days": 45.0, "region": "north",
                              "tenure_days": 400.0}], index=["c1"])
    reasons = reason_codes(model, customer, templates, top_k=3)
    assert list(reasons.columns) == ["reason_1", "reason_2", "reason_3"]
    said = reasons.loc["c1"].dropna().tolist()
    assert "spend down 60 % vs the prior 90 days" in said
    assert "2 complaints in the last 90 days" in said
    assert len(said) == len(set(said))  # spend_90d and spend_ratio_90d: one reason, said once


def test_no_reason_names_an_internal_column(model_and_frame, templates):
    model, frame = model_and_frame
    reasons = reason_codes(model, frame.head(300), templates)
    text = " ".join(reasons.stack().dropna().astype(str))
    assert text
    for column in frame.columns:
        assert column not in text


def test_a_condition_that_does_not_hold_is_never_said(model_and_frame, templates):
    model, frame = model_and_frame
    rising = frame.loc[frame["spend_ratio_90d"] > 1.0].head(200)
    reasons = reason_codes(model, rising, templates)
    assert not reasons.stack().astype(str).str.contains("spend down").any()


def test_reasons_are_ordered_by_contribution(model_and_frame, templates):
    model, frame = model_and_frame
    rows = frame.head(200)
    contrib = model.contributions(rows)
    reasons = reason_codes(model, rows, templates, top_k=1)
    complaints_first = reasons["reason_1"].str.contains("complaints").fillna(False)
    top = contrib[["complaint_90d", "spend_ratio_90d", "spend_90d", "spend_prev_90d",
                   "recency_days"]].idxmax(axis=1)
    assert (top[complaints_first] == "complaint_90d").all()


def test_templates_can_quote_context_columns():
    class Fixed:
        def contributions(self, X):
            return pd.DataFrame({"shared_cause_incidents": [0.5, 0.5, -0.2]}, index=X.index)

    X = pd.DataFrame({"shared_cause_incidents": [1, 0, 1]}, index=["a", "b", "c"])
    context = pd.DataFrame({"shared_cause_incident": ["INC0004", None, "INC0002"]}, index=X.index)
    reasons = reason_codes(Fixed(), X, default_cfg("reasons")["templates"], top_k=2,
                           context=context)
    assert reasons.loc["a", "reason_1"].startswith("exposed to incident #INC0004")
    assert reasons.loc[["b", "c"], "reason_1"].isna().all()  # not exposed / pushes down
    assert reasons["reason_2"].isna().all()


def test_a_column_condition_compares_two_features():
    class Fixed:
        def contributions(self, X):
            return pd.DataFrame({"count_30d": [1.0, 1.0]}, index=X.index)

    X = pd.DataFrame({"count_30d": [1, 5], "count_prev_30d": [4, 2]}, index=["down", "up"])
    reasons = reason_codes(Fixed(), X, default_cfg("reasons")["templates"])
    assert reasons.loc["down", "reason_1"] == "1 purchase in the last 30 days, down from 4"
    assert pd.isna(reasons.loc["up", "reason_1"])


def test_unknown_placeholders_and_attribute_access_are_config_errors():
    with pytest.raises(ConfigError, match="placeholder"):
        compile_templates([{"id": "x", "features": "a", "text": "{nope}"}])
    with pytest.raises(ConfigError, match="placeholder"):
        compile_templates([{"id": "x", "features": "a", "text": "{value.__class__}"}])
    with pytest.raises(ConfigError, match="pattern"):
        compile_templates([{"id": "x", "features": "(", "text": "t"}])


def test_the_shipped_templates_compile():
    assert len(compile_templates(default_cfg("reasons")["templates"])) > 10


@pytest.mark.parametrize("spec", ["", ".0f", ".1f", "5.0f", ".2%", "g"])
def test_format_values_equals_format_row_by_row(spec):
    rng = np.random.default_rng(0)
    floats = np.concatenate([rng.normal(0, 50, 300), [-0.4, 0.4, -0.0, 0.0, 0.5, 1.5, 2.5,
                                                     -2.5, np.nan, np.inf, 1e20]])
    assert format_values(floats, spec).tolist() == [format(v, spec) for v in floats]
    ints = rng.integers(-5, 5, 100)
    assert format_values(ints, spec).tolist() == [format(v, spec) for v in ints]
    singles = floats.astype(np.float32)  # told apart by their own 4-byte bits
    assert format_values(singles, spec).tolist() == [format(v, spec) for v in singles]


def test_format_values_on_text_and_mixed_objects():
    text = np.array(["INC1", "INC2", "INC1"], dtype=object)
    assert format_values(text, ">5").tolist() == ["INC1".rjust(5), "INC2".rjust(5),
                                                  "INC1".rjust(5)]
    assert format_values(text, "", "r").tolist() == ["'INC1'", "'INC2'", "'INC1'"]
    mixed = np.array([1, 1.0, True, None], dtype=object)  # equal keys, different text
    assert format_values(mixed).tolist() == ["1", "1.0", "True", "None"]
    assert format_values(np.array([], dtype=float), ".0f").tolist() == []


def test_sentences_equal_the_template_formatted_row_by_row():
    class Fixed:
        def contributions(self, X):
            return pd.DataFrame(1.0, index=X.index, columns=X.columns)

    rng = np.random.default_rng(1)
    n = 500
    X = pd.DataFrame({"spend_ratio_90d": rng.uniform(0, 1, n).round(2),
                      "count_30d": rng.integers(0, 3, n), "count_prev_30d": 5},
                     index=[f"c{i}" for i in range(n)])
    templates = default_cfg("reasons")["templates"]
    reasons = reason_codes(Fixed(), X, templates, top_k=2)
    spend = next(t["text"] for t in templates if t["id"] == "spend_drop")
    counts = next(t["text"] for t in templates if t["id"] == "purchases_drop")
    said = set(reasons.stack().dropna())
    expected = {spend.format(w="90", pct_down=100 * (1 - v)) for v in X["spend_ratio_90d"]
                if v < 1.0} | {counts.format(w="30", value=v, s="" if round(v) == 1 else "s",
                                             prev=5) for v in X["count_30d"].astype(float)}
    assert said == expected


def test_a_nested_format_spec_is_rendered_row_by_row():
    class Fixed:
        def contributions(self, X):
            return pd.DataFrame({"count_4d": [1.0, 1.0]}, index=X.index)

    X = pd.DataFrame({"count_4d": [3.0, 12.0]}, index=["a", "b"])
    entry = {"id": "n", "features": r"count_(?P<w>\d+)d", "text": "[{value:>{w}.0f}] in {w} days"}
    reasons = reason_codes(Fixed(), X, [entry], top_k=1)
    assert reasons["reason_1"].tolist() == ["[   3] in 4 days", "[  12] in 4 days"]


class _Fixed:
    """A model whose contributions are given per feature (the same for every row)."""

    def __init__(self, **push: float) -> None:
        self.push = push

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({f: self.push.get(f, 0.0) for f in X.columns}, index=X.index)


def test_a_customer_with_no_risk_reason_hears_their_strengths(templates):
    X = pd.DataFrame({"spend_90d": [170.0], "spend_prev_90d": [100.0], "spend_ratio_90d": [1.7],
                      "recency_days": [2.0], "tenure_days": [900.0]}, index=["loyal"])
    model = _Fixed(spend_ratio_90d=-0.8, recency_days=-0.5, tenure_days=-0.1)
    reasons = reason_codes(model, X, templates)
    assert reasons.loc["loyal"].tolist() == ["spend up 70 % vs the prior 90 days",
                                             "bought something 2 days ago",
                                             "a customer for 900 days"]
    assert reason_codes(model, X, templates, strengths=False).isna().all(axis=None)


def test_strengths_only_fill_the_slots_risk_reasons_leave(templates):
    X = pd.DataFrame({"complaint_90d": [2.0, 2.0], "recency_days": [45.0, 3.0],
                      "tenure_days": [900.0, 900.0]}, index=["a", "b"])
    model = _Fixed(complaint_90d=0.2, recency_days=0.1, tenure_days=-3.0)
    reasons = reason_codes(model, X, templates)
    # a: two risk reasons come first however strongly the strength pulls down
    assert reasons.loc["a"].tolist() == ["2 complaints in the last 90 days",
                                         "no purchase for 45 days", "a customer for 900 days"]
    # b: 3 days is no recency risk (the condition fails), so the strength moves up
    assert reasons.loc["b"].tolist()[:2] == ["2 complaints in the last 90 days",
                                             "a customer for 900 days"]
    assert reason_codes(model, X, templates, top_k=2).loc["a"].tolist() == [
        "2 complaints in the last 90 days", "no purchase for 45 days"]


def test_a_strength_never_quotes_what_a_risk_reason_quotes(templates):
    X = pd.DataFrame({"count_90d": [8.0], "count_prev_90d": [13.0], "count_30d": [4.0]},
                     index=["c"])
    model = _Fixed(count_90d=0.5, count_prev_90d=-1.0, count_30d=-0.2)
    said = reason_codes(model, X, templates).loc["c"].dropna().tolist()
    assert said == ["8 purchases in the last 90 days, down from 13",
                    "still buying: 4 purchases in the last 30 days"]


def test_a_strength_whose_condition_fails_is_never_said(templates):
    X = pd.DataFrame({"spend_ratio_90d": [0.6, np.nan], "recency_days": [60.0, 10.0]},
                     index=["falling", "unknown"])
    model = _Fixed(spend_ratio_90d=-1.0, recency_days=-1.0)
    reasons = reason_codes(model, X, templates)
    assert reasons.loc["falling"].isna().all()  # spend fell, last purchase 60 days ago
    assert reasons.loc["unknown", "reason_1"] == "bought something 10 days ago"
    assert reasons.loc["unknown", ["reason_2", "reason_3"]].isna().all()


def test_a_direction_other_than_up_or_down_is_a_config_error():
    with pytest.raises(ConfigError, match="direction"):
        compile_templates([{"id": "x", "features": "a", "text": "t", "direction": "sideways"}])


def test_a_model_other_than_attrition_or_winback_is_a_config_error():
    with pytest.raises(ConfigError, match="model"):
        compile_templates([{"id": "x", "features": "a", "text": "t", "model": "upsell"}])
    with pytest.raises(ConfigError, match="direction"):  # the win-back model has no strengths
        compile_templates([{"id": "x", "features": "a", "text": "t", "model": "winback",
                            "direction": "down"}])


def test_each_model_speaks_only_through_its_own_templates(templates):
    X = pd.DataFrame({"survey_score_last": [2.0], "referral_90d": [1.0]}, index=["c"])
    model = _Fixed(survey_score_last=1.0, referral_90d=0.5)
    assert reason_codes(model, X, templates).loc["c"].dropna().tolist() == [
        "last survey score 2 out of 10"]
    assert reason_codes(model, X, templates, kind="winback").loc["c"].dropna().tolist() == [
        "recommended us 1 time in the last 90 days"]


def test_incident_exposure_is_never_said_as_complaints_no_one_made(templates):
    # a recall-like incident (a batch or region named in the incidents table) exposes its
    # buyers before anyone complains: complaint rate 0, or the customer is its only
    # complainer. The features count exposure, so the sentence says exposure - not that
    # the customer, or other customers, complained.
    X = pd.DataFrame({"incidents_exposed": [1.0, 2.0], "incidents_silent_exposed": [1.0, 2.0],
                      "incident_complaint_rate_max": [0.0, 0.0],
                      "shared_cause_incidents": [1.0, 1.0],
                      "shared_cause_complaint_rate": [0.0, np.nan]}, index=["batch", "region"])
    context = pd.DataFrame({"shared_cause_incident": ["INC0004", "INC0007"]}, index=X.index)
    for push in ({"incidents_exposed": 1.0}, {"incident_complaint_rate_max": 1.0},
                 {"shared_cause_incidents": 1.0}, {"shared_cause_complaint_rate": 1.0}):
        reasons = reason_codes(_Fixed(**push), X, templates, top_k=1, context=context)
        said = reasons["reason_1"].tolist()
        assert all(pd.notna(s) and "exposed to" in s for s in said), said
        assert not any("complain" in s for s in said), said
