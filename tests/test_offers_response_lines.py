"""Response lines fitted on randomised campaign rows (churnml.offers.response_lines)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnml.offers.response_lines import fit_response_lines, with_fitted_priors

CFG = {"prior_rows": 50, "min_control_rows": 30}
PRIORS = {"price_match": {"protect": {"lured": 0.0, "default": 0.01},
                          "rescue": {"lured": 0.0, "default": 0.02},
                          "return": {"default": 0.03}}}


def _active(n: int, offer_share: float, protect: float, rescue: float,
            seed: int = 0, cause: str = "lured") -> pd.DataFrame:
    """Active customers, randomised; P(outcome) = 0.5 - 0.4 p + T (protect + rescue p)."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.0, 0.8, n)
    treated = rng.random(n) < offer_share
    prob = 0.5 - 0.4 * p + treated * (protect + rescue * p)
    return pd.DataFrame({"treatment": np.where(treated, "price_match", "control"),
                         "outcome": (rng.random(n) < prob).astype(int), "status": "active",
                         "p_attrition": p, "likely_cause": cause, "churn_cause": None})


def test_a_cell_with_a_known_effect_recovers_it():
    lines = fit_response_lines(_active(60_000, 0.5, 0.1, 0.3), PRIORS, CFG)
    fitted = lines["priors"]["price_match"]
    assert fitted["protect"]["lured"] == pytest.approx(0.1, abs=0.02)
    assert fitted["rescue"]["lured"] == pytest.approx(0.3, abs=0.06)
    assert lines["cells"]["active"]["lured"]["price_match"] > 29_000


def test_a_cell_with_few_treated_customers_stays_near_its_prior():
    rows = _active(2_000, 0.003, 0.4, 0.0, seed=1)
    fitted = fit_response_lines(rows, PRIORS, CFG)["priors"]["price_match"]
    treated = int((rows["treatment"] == "price_match").sum())
    assert treated < 15
    # the ridge gives the prior the weight of 50 customers against a handful of treated
    assert abs(fitted["protect"]["lured"]) < 0.4 * treated / (treated + 50) + 0.05
    many = fit_response_lines(_active(4_000, 0.5, 0.4, 0.0, seed=1), PRIORS, CFG)
    assert many["priors"]["price_match"]["protect"]["lured"] > 0.25


def test_too_few_controls_keeps_the_priors_and_other_causes_keep_theirs():
    rows = _active(200, 0.95, 0.4, 0.0, seed=2)
    fitted = fit_response_lines(rows, PRIORS, CFG)["priors"]["price_match"]
    assert fitted["protect"] == {"lured": 0.0, "default": 0.01}
    assert fitted["rescue"]["default"] == 0.02


def test_lapsed_return_effect_is_fitted_per_churn_cause():
    rng = np.random.default_rng(3)
    n = 40_000
    treated = rng.random(n) < 0.5
    rows = pd.DataFrame({"treatment": np.where(treated, "price_match", "control"),
                         "outcome": (rng.random(n) < 0.1 + 0.15 * treated).astype(int),
                         "status": "lapsed", "p_attrition": np.nan, "likely_cause": None,
                         "churn_cause": "price"})
    fitted = fit_response_lines(rows, PRIORS, CFG)["priors"]["price_match"]
    assert fitted["return"]["price"] == pytest.approx(0.15, abs=0.02)
    assert fitted["return"]["default"] == 0.03


def test_offers_not_in_the_catalogue_are_left_out_not_taken_for_the_control(caplog):
    rows = _active(4_000, 0.5, 0.2, 0.0, seed=4)
    retired = rows.head(1_500).assign(treatment="retired_offer", outcome=1)
    with caplog.at_level("WARNING"):
        mixed = fit_response_lines(pd.concat([rows, retired], ignore_index=True), PRIORS, CFG)
    assert mixed == fit_response_lines(rows, PRIORS, CFG)
    assert "1500 campaign rows left out" in caplog.text and "retired_offer" in caplog.text


def test_no_history_leaves_the_config_priors():
    empty = _active(0, 0.5, 0.0, 0.0)
    lines = fit_response_lines(empty, PRIORS, CFG)
    offers_cfg = {"budget": 1.0, "catalogue": {"price_match": {"cost": 6.0, "prior": PRIORS[
        "price_match"]}}}
    assert with_fitted_priors(offers_cfg, None) == offers_cfg
    cfg = with_fitted_priors(offers_cfg, lines)
    assert cfg["catalogue"]["price_match"]["prior"]["protect"] == PRIORS["price_match"]["protect"]
    assert lines["cells"] == {}


def test_missing_columns_are_refused_by_name():
    with pytest.raises(ValueError, match="p_attrition"):
        fit_response_lines(pd.DataFrame({"treatment": [], "outcome": [], "status": [],
                                         "likely_cause": [], "churn_cause": []}), PRIORS, CFG)


def test_the_scoring_job_reads_the_fitted_lines_when_the_stage_wrote_them(tmp_path):
    from churnml import io
    from churnml.stages.score_enrich import offers_config

    offers_cfg = {"catalogue": {"price_match": {"cost": 6.0, "prior": PRIORS["price_match"]}}}
    assert offers_config(tmp_path, offers_cfg) == offers_cfg
    fitted = {"protect": {"lured": 0.2}, "rescue": {"lured": 0.1}, "return": {"default": 0.0}}
    io.write_json({"priors": {"price_match": fitted}}, tmp_path / "uplift" / "response_lines.json")
    assert offers_config(tmp_path, offers_cfg)["catalogue"]["price_match"]["prior"] == fitted


class _RecordsRows:
    """An attrition-model stand-in that remembers which rows it scored."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        self.seen += X["customer_id"].tolist()
        return np.tile([0.7, 0.3], (len(X), 1))


def test_response_rows_count_a_customer_cancelled_at_the_send_day_as_lapsed(monkeypatch,
                                                                          tmp_path):
    """The stage adds ``cancelled`` per send day in a contractual business, so a record
    of a customer who cancelled last week is a lapsed one, as the scoring job sees it."""
    from churnml.offers import likely_cause as likely
    from churnml.offers.response_lines import campaign_response_rows
    from churnml.stages.train_uplift import with_cancelled

    monkeypatch.setattr(likely, "likely_cause", lambda rows, *_: pd.DataFrame(
        {"customer_id": rows["customer_id"], "likely_cause": "unknown"}))
    send = pd.Timestamp("2024-07-01")
    frame = pd.DataFrame({"customer_id": ["gone", "staying"], "send_date": send,
                          "treatment": ["price_match", "control"], "outcome": [1, 0],
                          "recency_days": [10.0, 10.0], "tenure_days": [400.0, 400.0]})
    tx = pd.DataFrame({"customer_id": ["gone", "staying"], "amount": 20.0,
                       "ts": pd.to_datetime(["2024-06-21", "2024-06-21"]).astype("datetime64[us]")})
    labels = {"lapse_days": 90, "attrition": {"definition": ["cancellation"],
                                              "cancellation_event": "cancellation"}}
    events = pd.DataFrame({"customer_id": ["gone"], "event_type": ["cancellation"],
                           "ts": pd.to_datetime(["2024-06-25"]).astype("datetime64[us]")})

    events.to_parquet(tmp_path / "events.parquet")

    def rows_for(labels_cfg):
        model = _RecordsRows()
        rows = campaign_response_rows(with_cancelled(frame, tmp_path, tx, labels_cfg), model,
                                      None, 90, {}, {})
        return rows, model.seen

    rows, seen = rows_for(labels)
    assert rows["status"].tolist() == ["lapsed", "active"] and seen == ["staying"]
    assert np.isnan(rows["p_attrition"].iloc[0])
    retail, _ = rows_for({"lapse_days": 90, "attrition": {"definition": "no_purchase"}})
    assert retail["status"].tolist() == ["active", "active"]
