"""The synthetic world's tables: contract, truth layout, consistency and determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnml import config, io
from churnml.simulate import World, simulate_world
from churnml.simulate.spec import CAUSES
from churnml.simulate.truth import RUNGS
from churnml.stages import ingest
from churnml.stages import simulate as simulate_stage

SMALL = ["data.world.customers=3000"]
OBSERVABLE = {
    "customers": {"customer_id", "signup_date", "region", "plan", "channel", "name", "email",
                  "phone"},
    "transactions": {"customer_id", "ts", "amount", "category", "product_id", "discount",
                     "is_return"},
    "events": {"customer_id", "ts", "event_type", "value", "incident_id", "severity", "text"},
    "incidents": {"incident_id", "start", "end", "scope", "severity", "product_id", "region",
                  "scope_value"},
    "campaigns": {"customer_id", "ts", "offer_id", "responded_ts", "redeemed", "cost",
                  "campaign_id"},
}


def world_cfg(project_root: Path, overrides: list[str]) -> dict:
    return config.compose(project_root / "conf", overrides)["data"]["world"]


@pytest.fixture(scope="module")
def world(project_root) -> World:
    return simulate_world(world_cfg(project_root, SMALL))


def test_observable_tables_have_the_contract_columns(world):
    assert {k: set(v.columns) for k, v in world.tables.items()} == OBSERVABLE
    tx = world.tables["transactions"]
    assert tx["ts"].dtype == "datetime64[us]" and tx["amount"].dtype == np.float64
    assert tx["is_return"].dtype == bool
    assert (tx.loc[tx["is_return"], "amount"] < 0).all()
    assert (tx.loc[~tx["is_return"], "amount"] > 0).all()
    assert tx["ts"].is_monotonic_increasing
    assert (tx["discount"] >= 0).all() and (tx["discount"] <= tx["amount"].abs()).all()


def test_the_world_meets_the_contract_with_nothing_quarantined(project_root, tmp_path):
    world = simulate_world(world_cfg(project_root, ["data.world.customers=1000"]))
    for name, frame in world.tables.items():
        io.write_parquet(frame, tmp_path / f"{name}.parquet")
    result = ingest.check(tmp_path, config.compose(project_root / "conf")["ingest"])
    quarantined = {t: c["rows_quarantined"] for t, c in result.counts.items()}
    assert quarantined == dict.fromkeys(OBSERVABLE, 0)


def test_customers_carry_pii_that_complaint_text_repeats(world):
    customers = world.tables["customers"]
    assert customers[["name", "email", "phone"]].notna().all().all()
    assert customers["email"].str.endswith("@example.org").all()
    events = world.tables["events"].merge(customers[["customer_id", "name"]], on="customer_id")
    said = events[events["text"].notna()]
    assert len(said) > 0 and set(said["event_type"]) <= {"complaint", "public_complaint"}
    assert all(n in t for n, t in zip(said["name"], said["text"], strict=True))


def test_truth_tables_have_exactly_the_design_layout(world):
    truth = world.truth_customers
    assert list(truth.columns) == ["customer_id", "exit_date", "exit_cause", "return_date",
                                   "rung"]
    assert list(world.truth_uplift.columns) == ["customer_id", "as_of", "offer_id",
                                                "true_uplift"]
    assert truth["customer_id"].tolist() == world.tables["customers"]["customer_id"].tolist()
    left = truth["exit_date"].notna()
    assert (truth["exit_cause"].notna() == left).all()
    assert set(truth.loc[left, "exit_cause"]) == set(CAUSES)
    assert not (truth["return_date"].notna() & ~left).any()
    back = truth["return_date"].notna()
    assert (truth.loc[back, "return_date"] > truth.loc[back, "exit_date"]).all()
    assert (truth.loc[left, "exit_date"] < world.end).all()
    assert set(truth["rung"]) == set(RUNGS)


def test_nobody_buys_while_gone_and_a_return_is_a_purchase(world):
    """Between an exit and the return that ends it, the customer does nothing - except
    toxic customers and terrorists, who redeem a win-back offer without coming back."""
    exits = world.truth_extra["exits"]
    bought = world.tables["transactions"]
    bought = bought.loc[~bought["is_return"], ["customer_id", "ts"]]
    gap = bought.merge(exits, on="customer_id")
    gone = (gap["ts"] > gap["exit_date"]) & (gap["ts"] < gap["return_date"].fillna(world.end))
    campaigns = world.tables["campaigns"]
    one_off = campaigns[campaigns["campaign_id"].str.startswith("winback") & campaigns["redeemed"]]
    taken = set(zip(one_off["customer_id"], one_off["responded_ts"], strict=True))
    inert = set(world.truth_customers.loc[world.truth_customers["rung"].isin(
        ["toxic", "terrorist"]), "customer_id"])
    strays = gap[gone]
    assert len(strays) > 0
    assert all((c, t) in taken and c in inert
               for c, t in zip(strays["customer_id"], strays["ts"], strict=True))
    acts = world.tables["events"][["customer_id", "ts"]].merge(exits, on="customer_id")
    quiet = (acts["ts"] > acts["exit_date"]) & (acts["ts"] < acts["return_date"].fillna(world.end))
    assert not quiet.any()
    back = gap[gap["ts"] >= gap["return_date"]].groupby(["customer_id", "exit_date"])["ts"].min()
    returned = exits.dropna(subset=["return_date"]).set_index(["customer_id", "exit_date"])
    assert (back.reindex(returned.index) == returned["return_date"]).all()


def test_every_activity_is_after_signup_and_before_the_end(world):
    signup = world.tables["customers"].set_index("customer_id")["signup_date"]
    for name in ("transactions", "events", "campaigns"):
        frame = world.tables[name]
        assert (frame["ts"] >= frame["customer_id"].map(signup)).all(), name
        assert (frame["ts"] < world.end).all(), name


def test_product_and_batch_exposure_is_observable_exactly(world):
    tx, incidents = world.tables["transactions"], world.tables["incidents"]
    exposures = world.truth_extra["exposures"]
    assert set(incidents["scope"]) <= {"product", "region", "batch"}
    for incident in incidents[incidents["scope"] != "region"].itertuples():
        bought = tx[(tx["product_id"] == incident.product_id) & (tx["ts"] >= incident.start)
                    & (tx["ts"] < incident.end) & ~tx["is_return"]]
        truth = exposures.loc[exposures["incident_id"] == incident.incident_id, "customer_id"]
        assert set(bought["customer_id"]) == set(truth), incident.incident_id
    region = incidents[incidents["scope"] == "region"]
    customers = world.tables["customers"].set_index("customer_id")["region"]
    for incident in region.itertuples():
        hit = exposures.loc[exposures["incident_id"] == incident.incident_id, "customer_id"]
        assert (hit.map(customers) == incident.region).all()


def test_truth_uplift_covers_every_campaign_customer_and_offer(world):
    campaigns, uplift = world.tables["campaigns"], world.truth_uplift
    offers = set(campaigns["offer_id"]) - {"control"}
    assert len(uplift) == len(campaigns) * len(offers)
    assert set(uplift["offer_id"]) == offers
    sent = set(zip(campaigns["customer_id"], campaigns["ts"], strict=True))
    assert set(zip(uplift["customer_id"], uplift["as_of"], strict=True)) == sent
    assert uplift["true_uplift"].between(-1, 1).all()


def test_same_seed_gives_identical_bytes(project_root, tmp_path):
    cfg = world_cfg(project_root, ["data.world.customers=800", "data.world.months=20"])
    first = simulate_stage.run(cfg, tmp_path / "a")
    second = simulate_stage.run(cfg, tmp_path / "b")
    assert first == second
    for path in sorted((tmp_path / "a").rglob("*")):
        if path.is_file():
            twin = tmp_path / "b" / path.relative_to(tmp_path / "a")
            assert path.read_bytes() == twin.read_bytes(), path.name
    other = simulate_stage.run({**cfg, "seed": cfg["seed"] + 1}, tmp_path / "c")
    assert other["outputs"]["transactions.parquet"] != first["outputs"]["transactions.parquet"]


def test_contractual_worlds_record_every_exit_as_a_cancellation(project_root):
    cfg = world_cfg(project_root, ["data.world.customers=1500",
                                   "data.world.contractual.enabled=true"])
    world = simulate_world(cfg)
    events = world.tables["events"]
    cancels = events[events["event_type"] == "cancellation"]
    exits = world.truth_extra["exits"]
    assert sorted(zip(cancels["customer_id"], cancels["ts"], strict=True)) == sorted(
        zip(exits["customer_id"], exits["exit_date"].dt.floor("s"), strict=True))
    plain = simulate_world(world_cfg(project_root, ["data.world.customers=1500"]))
    assert "cancellation" not in set(plain.tables["events"]["event_type"])


def test_short_worlds_leave_out_empty_optional_tables(project_root, tmp_path):
    cfg = world_cfg(project_root, ["data.world.customers=200", "data.world.months=6"])
    manifest = simulate_stage.run(cfg, tmp_path)
    assert "campaigns" not in manifest["rows"]
    assert not (tmp_path / "campaigns.parquet").exists()
    assert (tmp_path / "truth" / "uplift.parquet").is_file()
    assert pd.read_parquet(tmp_path / "truth" / "uplift.parquet").empty
