"""Past campaigns: randomized arms with controls, and a true uplift that depends on why
the customer left (or is leaving) and on the customer - and that the randomized data
can recover."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from churnml import config
from churnml.simulate import World, simulate_world

DAY = pd.Timedelta(days=1)
HORIZON = pd.DateOffset(months=3)


def build(project_root, customers: int) -> World:
    cfg = config.compose(project_root / "conf", [f"data.world.customers={customers}"])
    return simulate_world(cfg["data"]["world"])


@pytest.fixture(scope="module")
def world(project_root) -> World:
    return build(project_root, 5000)


def kind(campaigns: pd.DataFrame) -> pd.Series:
    return campaigns["campaign_id"].str.split("-").str[0]


def winback_by_cause(world: World) -> pd.DataFrame:
    """True uplift of win-back offers with the cause of the exit being answered."""
    campaigns = world.tables["campaigns"]
    sent = campaigns.loc[kind(campaigns) == "winback", ["customer_id", "ts"]]
    uplift = world.truth_uplift.merge(sent.rename(columns={"ts": "as_of"}))
    exits = world.truth_extra["exits"].sort_values("exit_date")
    return pd.merge_asof(uplift.sort_values("as_of"),
                         exits[["customer_id", "exit_date", "exit_cause"]],
                         left_on="as_of", right_on="exit_date", by="customer_id")


def test_every_campaign_has_randomized_arms_and_a_control(world):
    campaigns = world.tables["campaigns"]
    counts = campaigns.groupby(["campaign_id", "offer_id"]).size().unstack(fill_value=0)
    assert {"control", "service_recovery", "price_match", "double_points"} <= set(counts)
    assert (counts > 0).all().all()
    control = counts["control"] / counts.sum(axis=1)
    share = 1 / counts.shape[1]
    n = counts.sum(axis=1)
    assert (abs(control - share) < 4 * np.sqrt(share * (1 - share) / n)).all()
    assert (campaigns.loc[campaigns["offer_id"] == "control", "cost"] == 0).all()
    assert not campaigns.loc[campaigns["offer_id"] == "control", "redeemed"].any()


def test_arms_are_balanced_on_cause_and_prior_spend(world):
    """Randomization: who gets which arm does not depend on the customer."""
    table = winback_by_cause(world).drop_duplicates(["customer_id", "as_of"])
    campaigns = world.tables["campaigns"].rename(columns={"ts": "as_of"})
    arms = table.merge(campaigns[["customer_id", "as_of", "offer_id"]], on=["customer_id",
                                                                            "as_of"])
    _, p_value, _, _ = chi2_contingency(pd.crosstab(arms["offer_id_y"], arms["exit_cause"]))
    assert p_value > 0.001
    tx = world.tables["transactions"]
    spend = tx.merge(campaigns[["customer_id", "as_of", "offer_id"]], on="customer_id")
    spend = spend[(spend["ts"] < spend["as_of"]) & (spend["ts"] >= spend["as_of"] - 365 * DAY)]
    per_arm = spend.groupby(["offer_id", "customer_id", "as_of"])["amount"].sum()
    means = per_arm.groupby("offer_id").mean()
    assert means.max() / means.min() < 1.25


def test_true_uplift_depends_on_the_exit_cause_as_designed(world):
    table = winback_by_cause(world).pivot_table(index="exit_cause", columns="offer_id",
                                                values="true_uplift", aggfunc="mean")
    assert table.loc["burned"].idxmax() == "service_recovery"
    assert table.loc["lured"].idxmax() == "price_match"
    assert table.loc["price"].idxmax() in {"price_match", "discount"}
    assert table.loc["natural"].idxmax() == "double_points"
    assert table.loc["burned", "service_recovery"] > 5 * table.loc["lured", "service_recovery"]
    assert table.loc["lured", "price_match"] > 5 * table.loc["burned", "price_match"]
    assert table.loc["involuntary"].abs().max() < 0.01


def test_retention_offers_rescue_leavers_of_the_matching_cause(world):
    """Among control-arm customers who then left within the horizon, the cause decides
    which offer would have kept them."""
    campaigns = world.tables["campaigns"]
    control = campaigns[(kind(campaigns) == "retention") & (campaigns["offer_id"] == "control")]
    exits = world.truth_extra["exits"].merge(control[["customer_id", "ts"]], on="customer_id")
    soon = (exits["exit_date"] >= exits["ts"]) & (exits["exit_date"] < exits["ts"] + HORIZON)
    exits = exits[soon]
    uplift = world.truth_uplift.merge(exits.rename(columns={"ts": "as_of"})[
        ["customer_id", "as_of", "exit_cause"]])
    table = uplift.pivot_table(index="exit_cause", columns="offer_id", values="true_uplift")
    assert table.loc["burned"].idxmax() == "service_recovery"
    assert table.loc["lured"].idxmax() == "price_match"
    assert table.loc["burned", "service_recovery"] > 0.15


def test_toxic_customers_take_offers_without_changing(world):
    rung = world.truth_customers.set_index("customer_id")["rung"]
    uplift = world.truth_uplift
    inert = uplift["customer_id"].map(rung).isin(["toxic", "terrorist"])
    assert inert.any()
    assert (uplift.loc[inert, "true_uplift"] == 0).all()
    assert uplift.loc[~inert, "true_uplift"].mean() > 0.02
    campaigns = world.tables["campaigns"]
    paid = campaigns[campaigns["offer_id"].isin(["discount", "price_match"])]
    redeemed = paid.groupby(paid["customer_id"].map(rung) == "toxic")["redeemed"].mean()
    assert redeemed[True] > 2 * redeemed[False]


def test_true_uplift_varies_between_customers_of_one_cause(world):
    table = winback_by_cause(world)
    burned = table[(table["exit_cause"] == "burned") & (table["offer_id"] == "service_recovery")]
    live = burned["true_uplift"][burned["true_uplift"] > 0]
    assert live.quantile(0.9) > 1.25 * live.quantile(0.1)


def observed_effects(world: World, campaign_kind: str) -> pd.DataFrame:
    """Per offer: observed effect vs control (outcome from truth) and mean true uplift."""
    campaigns = world.tables["campaigns"]
    sent = campaigns[kind(campaigns) == campaign_kind].copy()
    start = sent["ts"].dt.to_period("M").dt.to_timestamp()
    exits = world.truth_extra["exits"]
    column = "return_date" if campaign_kind == "winback" else "exit_date"
    hits = sent.assign(start=start).merge(exits[["customer_id", column]].dropna())
    hits = hits[(hits[column] >= hits["start"]) & (hits[column] < hits["start"] + HORIZON)]
    event = sent.set_index(["customer_id", "ts"]).index.isin(
        hits.set_index(["customer_id", "ts"]).index)
    sent["y"] = event if campaign_kind == "winback" else ~event
    truth = world.truth_uplift.merge(sent.rename(columns={"ts": "as_of"})[["customer_id",
                                                                          "as_of"]])
    stats = sent.groupby("offer_id")["y"].agg(["mean", "var", "size"])
    ctl = stats.loc["control"]
    out = stats.drop("control").assign(
        observed=lambda s: s["mean"] - ctl["mean"],
        se=lambda s: np.sqrt(s["var"] / s["size"] + ctl["var"] / ctl["size"]))
    return out.join(truth.groupby("offer_id")["true_uplift"].mean().rename("true"))


@pytest.fixture(scope="module")
def big_world(project_root) -> World:
    return build(project_root, 120_000)


@pytest.mark.slow
@pytest.mark.parametrize("campaign_kind", ["winback", "retention"])
def test_randomized_outcomes_recover_the_true_uplift(big_world, campaign_kind):
    """The closed-form truth agrees with what the simulated experiments produce."""
    effects = observed_effects(big_world, campaign_kind)
    assert (abs(effects["observed"] - effects["true"]) < 4 * effects["se"]).all(), effects
    assert (effects["true"] > 0.01).all()
