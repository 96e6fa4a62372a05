"""Which customers of the scored list get reason codes (reasons.explain)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnml.errors import ConfigError
from churnml.stages import score_enrich
from churnml.stages.score_enrich import (
    SEGMENT_COLUMNS,
    first_to_explain,
    join_customers,
    reasons_for,
    same_ids,
    to_explain,
)
from tests.segment_frames import default_cfg

CFG = {"explain": "actionable", "explain_risk_bands": ["high", "medium"]}


def _scored() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["hi", "mid", "low", "low_offered", "lapsed", "lapsed_offered"],
        "risk_band": pd.array(["high", "medium", "low", "low", None, None], dtype="string"),
        "offer_id": ["none", "none", "none", "discount", "none", "price_match"]})


def test_actionable_explains_the_customers_at_risk_and_those_offered_something():
    chosen = _scored().loc[to_explain(_scored(), CFG), "customer_id"].tolist()
    assert chosen == ["hi", "mid", "low_offered", "lapsed_offered"]


def test_the_bands_come_from_config():
    chosen = to_explain(_scored(), {**CFG, "explain_risk_bands": ["high"]})
    assert chosen.tolist() == [True, False, False, True, False, True]


def test_all_explains_everyone():
    assert to_explain(_scored(), {**CFG, "explain": "all"}).all()


def test_max_customers_keeps_those_offered_then_the_riskiest():
    scored = _scored().assign(p_attrition=[0.9, 0.4, 0.1, 0.05, np.nan, np.nan])
    capped = {**CFG, "max_customers": 3}
    chosen = scored.loc[to_explain(scored, capped), "customer_id"].tolist()
    assert chosen == ["hi", "low_offered", "lapsed_offered"]  # list order kept
    assert to_explain(scored, {**CFG, "max_customers": 4}).equals(to_explain(scored, CFG))
    assert not to_explain(scored, {**CFG, "max_customers": 0}).any()


def test_first_to_explain_breaks_ties_in_list_order_and_refuses_a_negative_cap():
    candidates = pd.DataFrame({"offer_id": ["none"] * 4, "p_attrition": [0.5, 0.7, 0.5, 0.7]},
                              index=[10, 11, 12, 13])
    assert first_to_explain(candidates, 3).tolist() == [10, 11, 13]
    with pytest.raises(ConfigError, match="max_customers"):
        first_to_explain(candidates, -1)


def test_an_unknown_scope_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"reasons\.explain"):
        to_explain(_scored(), {**CFG, "explain": "everyone"})


def test_same_ids_matches_isin_whatever_the_string_dtype():
    ids = pd.Series(["C1", "C2", "C3", "C10"], dtype="str")
    among = pd.Series(["C10", "C2", "C9"], dtype=object)
    expected = ids.isin(among).to_numpy()
    assert same_ids(ids, among).tolist() == expected.tolist() == [False, True, False, True]
    assert not same_ids(ids, among.iloc[:0]).any()


@pytest.mark.parametrize("right_ids", [["c", "a", "z"], ["d", "c", "b", "a"], [],
                                       ["a", "b", "c", "d"]])  # last: same ids, same order
def test_join_customers_equals_a_one_to_one_left_merge(right_ids):
    n = len(right_ids)
    left = pd.DataFrame({"customer_id": pd.array(["a", "b", "c", "d"], dtype="str"),
                         "x": [1, 2, 3, 4]}, index=[5, 6, 7, 8])
    right = pd.DataFrame({
        "customer_id": pd.array(right_ids, dtype="str"), "f": np.arange(n) + 0.5,
        "i": np.arange(n), "b": np.arange(n) % 2 == 0,
        "s": pd.array([f"s{i}" for i in range(n)], dtype="str"),
        "reason": pd.array([None if i % 2 else f"r{i}" for i in range(n)], dtype="string"),
        "when": pd.to_datetime(["2025-01-01"] * n),
        "flag": pd.array([True, None, False, True][:n], dtype="boolean")})
    expected = left.merge(right, on="customer_id", how="left", validate="one_to_one")
    pd.testing.assert_frame_equal(join_customers(left, right), expected)


def test_join_customers_refuses_repeated_ids_like_merge():
    left = pd.DataFrame({"customer_id": ["a", "b"]})
    with pytest.raises(pd.errors.MergeError):
        join_customers(left, pd.DataFrame({"customer_id": ["a", "a"], "v": [1, 2]}))
    with pytest.raises(pd.errors.MergeError):
        join_customers(pd.concat([left, left]), pd.DataFrame({"customer_id": ["a"], "v": [1]}))
    twice = pd.DataFrame({"customer_id": ["a", "a"]})
    with pytest.raises(pd.errors.MergeError):  # same ids in the same order, but repeated
        join_customers(twice, twice.assign(v=[1, 2]))


class _Pulls:
    """A fitted-model stand-in: every feature pulls the score down."""

    feature_names_in_ = ("recency_days",)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"recency_days": -1.0}, index=X.index)


@pytest.mark.parametrize("strengths", [True, False])
def test_strengths_explain_attrition_scores_only(strengths):
    scored = pd.DataFrame({"customer_id": ["active", "lapsed"], "p_attrition": [0.01, np.nan],
                           "p_winback": [np.nan, 0.2], "risk_band": ["low", None]})
    features = pd.DataFrame({"customer_id": ["active", "lapsed"], "recency_days": [3.0, 4.0]})
    cfg = {**default_cfg("reasons"), "strengths": strengths}
    reasons = reasons_for(scored, features, pd.DataFrame({"customer_id": ["active", "lapsed"]}),
                          {"attrition": _Pulls(), "winback": _Pulls()}, cfg).set_index(
                              "customer_id")
    said = reasons.loc["active", "reason_1"]
    assert (said == "bought something 3 days ago") if strengths else pd.isna(said)
    assert pd.isna(reasons.loc["lapsed", "reason_1"])  # the win-back model never says strengths


def test_customers_in_the_risk_bands_never_hear_strengths_as_their_reasons():
    # a 53 % risk customer whose risk features match no template used to be given
    # "bought something 28 days ago" as reason_1; strengths are for the others on the list
    scored = pd.DataFrame({"customer_id": ["high", "offered"], "p_attrition": [0.53, 0.02],
                           "p_winback": [np.nan, np.nan], "risk_band": ["high", "low"]})
    features = pd.DataFrame({"customer_id": ["high", "offered"], "recency_days": [28.0, 3.0]})
    reasons = reasons_for(scored, features, pd.DataFrame({"customer_id": ["high", "offered"]}),
                          {"attrition": _Pulls()}, default_cfg("reasons")).set_index(
                              "customer_id")
    assert pd.isna(reasons.loc["high", "reason_1"])
    assert reasons.loc["offered", "reason_1"] == "bought something 3 days ago"


def test_no_one_to_explain_still_gives_empty_reason_columns():
    # reasons.max_customers: 0, or a subset without anyone at risk or offered something
    scored = pd.DataFrame({"customer_id": ["a", "b"], "p_attrition": [0.1, np.nan],
                           "p_winback": [np.nan, 0.2], "risk_band": ["low", None]})
    features = pd.DataFrame({"customer_id": ["a", "b"], "recency_days": [3.0, 4.0]})
    cfg = {**default_cfg("reasons"), "top_k": 3}
    reasons = reasons_for(scored.iloc[:0], features, pd.DataFrame({"customer_id": ["a", "b"]}),
                          {"attrition": _Pulls(), "winback": _Pulls()}, cfg)
    assert list(reasons.columns) == ["customer_id", "reason_1", "reason_2", "reason_3"]
    listed = join_customers(scored, reasons)
    for name in ("reason_1", "reason_2", "reason_3"):
        assert listed[name].dtype == "string" and listed[name].isna().all()


def _snapshot(tables, as_of, cfg, lapse_days, start, *, max_open_days,
              cancellation_event) -> pd.DataFrame:
    """What segment_snapshot returns: the six listed columns and more besides."""
    return pd.DataFrame({"customer_id": ["a", "b"], "as_of": as_of, "cancelled": [True, False],
                         "ladder_rung": ["prospect", "customer"],
                         "lifecycle_stage": ["new", "established"], "churn_cause": [None, "price"],
                         "shared_cause_exposed": [0, 1], "ladder_margin": [1.0, 2.0]})


class _Trained:
    """A model trained with a segment column outside the six the scored list shows."""

    feature_names_in_ = np.array(["recency_days", "shared_cause_exposed", "churn_cause"])


def test_scoring_joins_every_segment_column_a_model_was_trained_with(monkeypatch, tmp_path):
    # model.segment_features.attrition: [shared_cause_exposed] trains, so it must score
    from churnml.stages import score

    monkeypatch.setattr(score_enrich, "segment_snapshot", _snapshot)
    monkeypatch.setattr(score_enrich, "data_window",
                        lambda _: (pd.Timestamp("2024-01-01"), pd.Timestamp("2025-01-01")))
    features = pd.DataFrame({"customer_id": ["a", "b"], "recency_days": [3.0, 40.0]})
    params = {"segments": {}, "labels": {"lapse_days": 30}, "data": {"mode": "event_log"},
              "features": {"incidents": {"max_open_days": 90}}}
    joined, segments = score.with_segments(features, tmp_path, pd.Timestamp("2025-01-01"),
                                           params, {"attrition": _Trained()})
    assert joined["shared_cause_exposed"].tolist() == [0, 1]
    assert joined["churn_cause"].tolist()[1] == "price"
    assert "ladder_margin" not in joined  # no model reads it
    assert list(segments.columns) == ["customer_id", *[c for c in SEGMENT_COLUMNS
                                                       if c in segments], "shared_cause_exposed",
                                      "cancelled"]
    assert "cancelled" not in joined  # not a contractual business: status by recency


def test_in_a_contractual_business_scoring_routes_a_cancelled_customer_to_winback(
        monkeypatch, tmp_path):
    from churnml.stages import score

    monkeypatch.setattr(score_enrich, "segment_snapshot", _snapshot)
    monkeypatch.setattr(score_enrich, "data_window",
                        lambda _: (pd.Timestamp("2024-01-01"), pd.Timestamp("2025-01-01")))
    features = pd.DataFrame({"customer_id": ["a", "b"], "recency_days": [3.0, 5.0],
                             "tenure_days": [400.0, 400.0]})
    params = {"segments": {}, "labels": {"lapse_days": 30, "attrition": {
                  "definition": ["cancellation"], "cancellation_event": "cancellation"}},
              "data": {"mode": "event_log"}, "features": {"incidents": {"max_open_days": 90}}}
    joined, _ = score.with_segments(features, tmp_path, pd.Timestamp("2025-01-01"),
                                    params, {"attrition": _Trained()})
    assert joined["cancelled"].tolist() == [True, False]
    routed = score.rows_by_model(joined, params)
    assert routed["winback"]["customer_id"].tolist() == ["a"]
    assert routed["attrition"]["customer_id"].tolist() == ["b"]


def test_offers_keep_their_cost_for_the_budget_tile(monkeypatch, tmp_path):
    scored = pd.DataFrame({"customer_id": ["a", "b"]})
    chosen = scored.assign(offer_id=["discount", "none"], expected_net_value=[12.0, 0.0],
                           holdout=[False, False], offer_cost=[5.0, 0.0], offer_uplift=[0.1, 0])
    monkeypatch.setattr(score_enrich, "offer_inputs", lambda *a: (scored, None))
    monkeypatch.setattr(score_enrich, "offers_config", lambda _, cfg: cfg)
    monkeypatch.setattr(score_enrich, "choose_offers_from_config", lambda *a: chosen)
    offers = score_enrich.offers_for(scored, scored, tmp_path, {}, {})
    assert offers["offer_cost"].tolist() == [5.0, 0.0]


class _Pushes:
    """A fitted-model stand-in: every feature pushes the score up."""

    def __init__(self, features: pd.DataFrame) -> None:
        self.feature_names_in_ = tuple(c for c in features.columns if c != "customer_id")

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(1.0, index=X.index, columns=list(self.feature_names_in_))


def test_win_back_reasons_never_give_churn_risks_as_reasons_to_come_back():
    # the same unhappy history, once scored as active (attrition), once as lapsed (win-back):
    # a bad survey, complaints and falling spend pushing p_winback up are no reasons to
    # return, and must never be said as if they were
    history = {"survey_score_last": 2.0, "complaint_90d": 3.0, "spend_90d": 40.0,
               "spend_prev_90d": 100.0, "spend_ratio_90d": 0.4, "recency_days": 200.0,
               "tenure_days": 900.0, "referral_90d": 1.0}
    features = pd.DataFrame([{"customer_id": "active", **history},
                             {"customer_id": "lapsed", **history}])
    scored = pd.DataFrame({"customer_id": ["active", "lapsed"], "p_attrition": [0.9, np.nan],
                           "p_winback": [np.nan, 0.8], "risk_band": ["high", None]})
    model = _Pushes(features)
    reasons = reasons_for(scored, features, pd.DataFrame({"customer_id": ["active", "lapsed"]}),
                          {"attrition": model, "winback": model}, default_cfg("reasons")
                          ).set_index("customer_id")
    risks = set(reasons.loc["active"].dropna())
    assert {"last survey score 2 out of 10", "3 complaints in the last 90 days"} <= risks
    back = reasons.loc["lapsed"].dropna().tolist()
    assert back  # the win-back model still says why they may return
    assert not risks & set(back)
    assert "recommended us 1 time in the last 90 days" in back
