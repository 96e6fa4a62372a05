"""The score stage's offers (``score_enrich.offers_for``): the budget is used while
customers with an eligible offer worth sending are left - even when the exact solver
stops at its time limit with a poor solution (a busy machine once gave 13 offers out
of 10,000 customers with most of the budget left)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.optimize
import yaml

from churnml import config
from churnml.models import ChurnClassifier
from churnml.offers import NONE, eligibility, load_catalogue, net_value, uplift_matrix
from churnml.offers.likely_cause import likely_cause
from churnml.scoring import score_customers
from churnml.stages.score_enrich import offers_for
from tests.conftest import ROOT, make_classification_frame
from tests.offer_frames import offers_config, scored_frame

CAUSES = yaml.safe_load((ROOT / "conf" / "segments" / "default.yaml").read_text())["causes"]


def _timed_out_with_nothing(*args, **kwargs):
    """What HiGHS returns when the time limit stops it at its first incumbent."""
    return SimpleNamespace(x=np.zeros(len(args[0])), status=1, success=False,
                           message="Time limit reached", mip_gap=1e3)


def _case(n: int = 400, budget: float = 600.0, method: str = "exact"):
    scored = scored_frame(n, 9).rename(columns={"shared_cause_flag": "shared_cause_outreach"})
    scored["as_of"] = pd.Timestamp("2025-01-01")  # as score_customers returns it
    features = pd.DataFrame({"customer_id": scored["customer_id"],
                             "as_of": pd.Timestamp("2025-01-01"),
                             "complaint_90d": np.arange(n) % 3 == 0})
    cfg = offers_config() | {"budget": budget, "method": method, "holdout_share": 0.0}
    return scored, features, cfg


def _spend(chosen: pd.DataFrame, cfg: dict) -> float:
    costs = dict(zip(load_catalogue(cfg).ids, load_catalogue(cfg).costs, strict=True))
    return float(chosen["offer_id"].map(costs | {NONE: 0.0}).sum())


def _left_undone(scored: pd.DataFrame, features: pd.DataFrame, chosen: pd.DataFrame,
                 cfg: dict) -> tuple[float, int]:
    """(budget left, customers without an offer who have an affordable one worth sending)."""
    catalogue = load_catalogue(cfg)
    customers = scored.merge(likely_cause(features, CAUSES, cfg["likely_cause"]),
                             on="customer_id")
    net = net_value(uplift_matrix(customers, None, catalogue), customers["value"],
                    catalogue.costs)
    left = float(cfg["budget"]) - _spend(chosen, cfg)
    worth = eligibility(catalogue, customers) & (net > 0) & (catalogue.costs <= left)
    without = (chosen["offer_id"] == NONE).to_numpy()
    return left, int((worth.any(axis=1) & without).sum())


@pytest.mark.parametrize("method", ["exact", "greedy", "auto"])
def test_the_budget_is_spent_while_offers_worth_sending_remain(tmp_path, method):
    scored, features, cfg = _case(method=method)
    chosen = offers_for(scored, features, tmp_path, cfg, CAUSES)
    left, undone = _left_undone(scored, features, chosen, cfg)
    assert left >= -1e-9
    assert undone == 0, f"{undone} customers left without a paying offer, {left:.0f} unspent"
    assert (chosen["offer_id"] != NONE).mean() > 0.1


def test_a_timed_out_exact_solver_does_not_leave_the_budget_unspent(tmp_path, monkeypatch):
    monkeypatch.setattr(scipy.optimize, "milp", _timed_out_with_nothing)
    scored, features, cfg = _case(method="exact")
    chosen = offers_for(scored, features, tmp_path, cfg, CAUSES)
    left, undone = _left_undone(scored, features, chosen, cfg)
    assert undone == 0, f"{undone} customers left without a paying offer, {left:.0f} unspent"
    assert (chosen["offer_id"] != NONE).mean() > 0.1


@pytest.mark.parametrize("budget", [0.0, 57.0, 600.0, 1e6])
def test_score_stage_offers_keep_the_rules(tmp_path, budget):
    scored, features, cfg = _case(budget=budget, method="auto")
    cfg["holdout_share"] = 0.3
    chosen = offers_for(scored, features, tmp_path, cfg, CAUSES)
    assert chosen["customer_id"].tolist() == scored["customer_id"].tolist()
    assert chosen["offer_id"].notna().all()
    assert set(chosen["offer_id"]) <= {*load_catalogue(cfg).ids, NONE}
    assert _spend(chosen, cfg) <= budget + 1e-9
    costed = chosen["offer_id"].map(dict(zip(load_catalogue(cfg).ids, load_catalogue(cfg).costs,
                                             strict=True))).fillna(0.0) > 0
    banned = scored["ladder_rung"].isin(["toxic", "terrorist"]).to_numpy()
    assert banned.any() and not (costed & banned).any()
    again = offers_for(scored.sample(frac=1.0, random_state=1), features, tmp_path, cfg, CAUSES)
    pd.testing.assert_frame_equal(chosen.set_index("customer_id").sort_index(),
                                  again.set_index("customer_id").sort_index())
    if budget >= 600:
        assert chosen["holdout"].any()


def _lapsed_world(n: int = 40) -> pd.DataFrame:
    """Feature rows of customers lapsed 150-400 days, all with spend before the lapse."""
    X, _ = make_classification_frame(n, seed=4)
    recency = np.linspace(150.0, 400.0, n)
    return X.assign(customer_id=[f"L{i:03d}" for i in range(n)], as_of=pd.Timestamp("2025-07-01"),
                    recency_days=recency, tenure_days=recency + 600.0,
                    days_since_first_purchase=recency + 400.0, monetary=400.0 + 10 * X["frequency"],
                    spend_180d=np.where(recency < 180, 50.0, 0.0), complaint_90d=False)


def test_customers_lapsed_beyond_the_value_window_can_be_won_back(tmp_path):
    """Burned customers lapsed for more than score.value_window_days spent hundreds
    before they left: the scored list values them, so service recovery can pay."""
    X, y = make_classification_frame(300)
    fit = {"max_rounds": 10, "min_child_samples": 10}
    models = [ChurnClassifier(**fit).fit(X, y), ChurnClassifier(**fit).fit(X, 1 - y)]
    features = _lapsed_world()
    score_cfg = config.compose(ROOT / "conf")["score"]
    scored = score_customers(features, *models, lapse_days=90, cfg=score_cfg,
                             versions={"attrition": "a/1", "winback": "w/1"})
    long_lapsed = (features["recency_days"] > score_cfg["value_window_days"]).to_numpy()
    assert (scored["status"] == "lapsed").all() and long_lapsed.sum() > 20
    assert (scored.loc[long_lapsed, "value"] > 0).all()
    scored = scored.assign(ladder_rung="customer", lifecycle_stage="retention",
                           churn_cause="burned", shared_cause_outreach=False)
    cfg = offers_config() | {"budget": 1e6, "holdout_share": 0.0}
    chosen = offers_for(scored, features, tmp_path, cfg, CAUSES)
    assert (chosen.loc[long_lapsed, "offer_id"] == "service_recovery").all()
