"""Each mechanism of the synthetic world shows up statistically on a seeded world.

The checks read the observable tables the way an analyst would, and use the truth
tables (allowed in tests) to know who left, why, and who was exposed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnml import config
from churnml.simulate import World, simulate_world

CUSTOMERS = 4000
DAY = pd.Timedelta(days=1)
COMPETITOR_EVENTS = ["competitor_inquiry", "price_comparison", "port_out_request"]


@pytest.fixture(scope="module")
def world(project_root) -> World:
    cfg = config.compose(project_root / "conf", [f"data.world.customers={CUSTOMERS}"])
    return simulate_world(cfg["data"]["world"])


def purchases(world: World) -> pd.DataFrame:
    tx = world.tables["transactions"]
    return tx[~tx["is_return"]]


def first_exits(world: World, min_history_days: int = 0) -> pd.DataFrame:
    """Each customer's first exit, with their signup date."""
    exits = world.truth_extra["exits"].groupby("customer_id").head(1)
    out = exits.merge(world.tables["customers"][["customer_id", "signup_date"]],
                      on="customer_id")
    return out[out["exit_date"] - out["signup_date"] >= min_history_days * DAY]


def rows_before_exit(frame: pd.DataFrame, exits: pd.DataFrame, lo_days: int,
                     hi_days: int) -> pd.DataFrame:
    """Rows of ``frame`` dated in [exit - hi_days, exit - lo_days)."""
    j = frame.merge(exits[["customer_id", "exit_date", "exit_cause"]], on="customer_id")
    age = j["exit_date"] - j["ts"]
    return j[(age > lo_days * DAY) & (age <= hi_days * DAY)]


def test_purchase_rate_and_spend_are_heterogeneous(world):
    per_customer = purchases(world).groupby("customer_id")["amount"].agg(["size", "mean"])
    assert per_customer["size"].std() / per_customer["size"].mean() > 0.6
    q10, q90 = per_customer["mean"].quantile([0.1, 0.9])
    assert q90 / q10 > 2.5


def alive_at(world: World, when: pd.Timestamp) -> int:
    """Customers signed up and not lapsed at ``when`` (truth)."""
    signed = (world.tables["customers"]["signup_date"] < when).sum()
    exits = world.truth_extra["exits"]
    gone = (exits["exit_date"] < when) & (exits["return_date"].isna()
                                         | (exits["return_date"] > when))
    return int(signed - gone.sum())


def test_seasonality_peaks_in_december(world):
    tx = purchases(world)
    per_month = tx.groupby(tx["ts"].dt.to_period("M")).size()
    rate = {p: n / alive_at(world, p.to_timestamp() + 15 * DAY) for p, n in per_month.items()}
    for year in (2023, 2024):
        assert rate[pd.Period(f"{year}-12", "M")] > 1.2 * rate[pd.Period(f"{year}-06", "M")]


def test_churners_spend_falls_before_exit(world):
    exits = first_exits(world, min_history_days=300)
    exits = exits[exits["exit_cause"] != "involuntary"]
    recent = rows_before_exit(purchases(world), exits, 0, 60).groupby("customer_id")["amount"]
    before = rows_before_exit(purchases(world), exits, 120, 300).groupby("customer_id")["amount"]
    ratio = (recent.sum() / 60).reindex(exits["customer_id"]).fillna(0) / (before.sum() / 180)
    assert len(ratio.dropna()) > 300
    assert ratio.median() < 0.7


def test_involuntary_exits_follow_payment_failures(world):
    exits = first_exits(world)
    events = world.tables["events"]
    failed = rows_before_exit(events[events["event_type"] == "payment_failure"], exits, 0, 60)
    share = exits["customer_id"].isin(failed["customer_id"]).groupby(exits["exit_cause"]).mean()
    assert share["involuntary"] > 0.8
    assert share.drop("involuntary").max() < 0.3


def test_exposed_customers_who_never_complained_leave_more_often(world):
    """An incident raises the exit hazard of everyone exposed, not only of complainers."""
    exposures, exits = world.truth_extra["exposures"], world.truth_extra["exits"]
    complained = world.tables["events"].dropna(subset=["incident_id"])
    quiet = exposures.merge(complained[["customer_id", "incident_id"]].drop_duplicates(),
                            how="left", indicator=True)
    quiet = quiet[quiet["_merge"] == "left_only"]
    customers = world.tables["customers"]
    rates = []
    for incident_id, group in quiet.groupby("incident_id"):
        start = group["exposed_at"].min()
        if start + 150 * DAY > world.end:
            continue
        gone = exits[exits["exit_date"] < start]
        gone = gone[gone["return_date"].isna() | (gone["return_date"] > start)]
        alive = set(customers.loc[customers["signup_date"] < start, "customer_id"]) - set(
            gone["customer_id"])
        left = set(exits.loc[exits["exit_date"].between(start, start + 150 * DAY),
                             "customer_id"])
        hit = set(group["customer_id"]) & alive
        others = alive - set(exposures.loc[exposures["incident_id"] == incident_id,
                                           "customer_id"])
        rates.append((len(hit & left) / len(hit), len(others & left) / len(others)))
    quiet_rate, other_rate = np.array(rates).mean(axis=0)
    assert len(rates) >= 4
    assert quiet_rate > 1.3 * other_rate


def test_few_exposed_customers_complain(world):
    exposures = world.truth_extra["exposures"]
    complained = world.tables["events"].dropna(subset=["incident_id"])
    share = len(complained.drop_duplicates(["customer_id", "incident_id"])) / len(exposures)
    assert 0.02 < share < 0.25


def test_lured_customers_show_competitor_events_before_exit(world):
    exits = first_exits(world)
    events = world.tables["events"]
    signals = rows_before_exit(events[events["event_type"].isin(COMPETITOR_EVENTS)], exits,
                               0, 90)
    share = exits["customer_id"].isin(signals["customer_id"]).groupby(exits["exit_cause"]).mean()
    assert share["lured"] > 0.8
    assert share[["natural", "burned", "involuntary"]].max() < 0.35


def test_lured_and_price_leavers_drift_to_substitutes_and_discounts(world):
    exits = first_exits(world, min_history_days=300)
    tx = purchases(world).assign(cheap=lambda t: t["category"].isin(["substitute", "discount"]))
    late = rows_before_exit(tx, exits, 0, 60).groupby("exit_cause")["cheap"].mean()
    early = rows_before_exit(tx, exits, 150, 300).groupby("exit_cause")["cheap"].mean()
    drift = late - early
    assert drift["lured"] > 0.1 and drift["price"] > 0.1
    assert abs(drift["natural"]) < 0.06


def test_toxic_customers_return_lines_lean_on_support_and_discounts(world):
    rung = world.truth_customers.set_index("customer_id")["rung"]
    tx = world.tables["transactions"].assign(rung=lambda t: t["customer_id"].map(rung))
    toxic = tx["rung"] == "toxic"
    returns = tx.groupby(toxic)["is_return"].mean()
    bought = tx[~tx["is_return"]]
    discount = (bought["discount"] / bought["amount"]).groupby(bought["rung"] == "toxic").mean()
    assert returns[True] > 4 * returns[False]
    assert discount[True] > 3 * discount[False]
    events = world.tables["events"].assign(rung=lambda e: e["customer_id"].map(rung))
    support = events[events["event_type"] == "support_contact"].groupby("rung").size()
    per_head = support / rung.value_counts()
    assert per_head["toxic"] > 2.5 * per_head.drop(["toxic", "terrorist"]).max()


def test_terrorists_charge_back_and_complain_in_public(world):
    rung = world.truth_customers.set_index("customer_id")["rung"]
    events = world.tables["events"]
    harm = events[events["event_type"].isin(["chargeback", "public_complaint"])]
    per_head = harm.groupby(harm["customer_id"].map(rung)).size() / rung.value_counts()
    assert per_head["terrorist"] > 10 * per_head.drop("terrorist").fillna(0).max()


def test_advocates_refer(world):
    rung = world.truth_customers.set_index("customer_id")["rung"]
    events = world.tables["events"]
    refer = events[events["event_type"] == "referral"]
    per_head = (refer.groupby(refer["customer_id"].map(rung)).size()
                / rung.value_counts()).fillna(0)
    assert per_head["advocate"] > 3 * per_head.drop("advocate").max()
    surveys = events[events["event_type"] == "survey_score"]
    mean = surveys.groupby(surveys["customer_id"].map(rung))["value"].mean()
    assert mean["advocate"] > mean["customer"] > mean["terrorist"]


def test_lapsed_customers_come_back_on_their_own_and_more_after_offers(world):
    exits = world.truth_extra["exits"]
    assert exits["return_date"].notna().mean() > 0.1
    campaigns = world.tables["campaigns"]
    winback = campaigns[campaigns["campaign_id"].str.startswith("winback")]
    back = winback.merge(exits.dropna(subset=["return_date"]), on="customer_id")
    soon = back[(back["return_date"] >= back["ts"]) & (back["return_date"] < back["ts"] + 90 * DAY)]
    returned = winback.set_index(["customer_id", "ts"]).index.isin(
        soon.set_index(["customer_id", "ts"]).index)
    rate = pd.Series(returned).groupby(winback["offer_id"].to_numpy()).mean()
    assert rate["control"] > 0.02
    assert rate.drop("control").mean() > 1.8 * rate["control"]
