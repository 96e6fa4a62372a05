"""Shared-cause risk: tracing incidents to everyone exposed, complaint rates, outreach."""

from __future__ import annotations

import pandas as pd
import pytest

from churnml.segments.shared_cause import incident_exposure, outreach_list, shared_cause_exposure
from tests.segment_frames import customers, default_cfg, events, incidents, transactions

AS_OF = pd.Timestamp("2024-04-01")
MAX_OPEN_DAYS = default_cfg("features")["incidents"]["max_open_days"]


@pytest.fixture
def cfg():
    return default_cfg()["shared_cause"]


@pytest.fixture
def region_world():
    """An outage in the north: three northern customers complain, three stay silent."""
    ids = [f"n{i}" for i in range(6)] + ["s0", "s1", "n_idle"]
    cust = customers(*ids, region=["north"] * 6 + ["south", "south", "north"])
    tx = transactions([(c, "2024-01-20", 25.0) for c in ids[:-1]]
                      + [("n_idle", "2023-03-01", 25.0)])
    inc = incidents([("INC1", "2024-02-01", "2024-02-05", "region")])
    ev = events([(c, "2024-02-03", "complaint") for c in ("n0", "n1", "n2")]
                + [("s0", "2024-02-03", "complaint")],
                incident_id=["INC1", "INC1", "INC1", None])
    return cust, tx, ev, inc


def _flags(world, cfg, as_of=AS_OF):
    cust, tx, ev, inc = world
    exposure = incident_exposure(cust, tx, ev, inc, as_of, cfg, max_open_days=MAX_OPEN_DAYS)
    flags = shared_cause_exposure(cust, exposure, ev, inc, as_of, cfg,
                                  max_open_days=MAX_OPEN_DAYS)
    return flags.set_index("customer_id")


def test_a_region_incident_flags_every_active_customer_there(region_world, cfg):
    flags = _flags(region_world, cfg)
    exposed = set(flags.index[flags["shared_cause_exposed"]])
    assert exposed == {f"n{i}" for i in range(6)}  # not the south, not the idle northerner
    assert set(flags.index[flags["shared_cause_outreach"]]) == {"n3", "n4", "n5"}
    assert flags.loc["n4", "shared_cause_complaint_rate"] == pytest.approx(3 / 6)
    assert flags.loc["n4", "shared_cause_incident"] == "INC1"
    assert outreach_list(flags.reset_index())["customer_id"].tolist() == ["n3", "n4", "n5"]


def test_nothing_is_known_before_the_incident(region_world, cfg):
    flags = _flags(region_world, cfg, as_of=pd.Timestamp("2024-02-01"))
    assert not flags["shared_cause_exposed"].any()


def test_complaints_after_as_of_do_not_count(region_world, cfg):
    flags = _flags(region_world, cfg, as_of=pd.Timestamp("2024-02-03 12:00"))
    # complaints at 00:00 on Feb 3 are known; the incident ends later (still open)
    assert flags.loc["n4", "shared_cause_complaint_rate"] == pytest.approx(3 / 6)
    earlier = _flags(region_world, cfg, as_of=pd.Timestamp("2024-02-02"))
    assert not earlier["shared_cause_exposed"].any()  # too few complainers to trace it yet


def test_risk_expires_after_at_risk_days(region_world, cfg):
    cfg["at_risk_days"] = 30
    assert not _flags(region_world, cfg)["shared_cause_exposed"].any()


def test_a_purchase_level_key_exposes_buyers_of_that_batch(cfg):
    cfg["scope_keys"]["batch"] = {"table": "transactions", "column": "batch"}
    cfg["exposure_lead_days"] = 10
    cust = customers("a", "b", "c", "d", "e")
    tx = transactions([("a", "2024-01-25", 9.0), ("b", "2024-01-26", 9.0),
                       ("c", "2024-02-02", 9.0), ("d", "2024-02-02", 9.0),
                       ("e", "2023-06-01", 9.0)],
                      batch=["B7", "B7", "B7", "B8", "B7"])
    inc = incidents([("INC2", "2024-02-01", "2024-02-10", "batch")], scope_value=["B7"])
    ev = events([("a", "2024-02-04", "complaint")], incident_id=["INC2"])
    exposure = incident_exposure(cust, tx, ev, inc, AS_OF, cfg, max_open_days=MAX_OPEN_DAYS)
    got = exposure.set_index("customer_id")["exposed_at"].to_dict()
    assert set(got) == {"a", "b", "c"}  # e bought B7 long before the lead window
    assert got["c"] == pd.Timestamp("2024-02-02")  # exposed when they bought it
    assert got["b"] == pd.Timestamp("2024-02-01")  # bought before: exposed at the start


def test_an_incident_naming_its_product_exposes_its_buyers_in_the_window(cfg):
    cust = customers("a", "b", "c")
    tx = transactions([("a", "2024-02-03", 9.0), ("b", "2024-01-20", 9.0),
                       ("c", "2024-02-04", 9.0)], product_id=["P1", "P1", "P2"])
    inc = incidents([("INC4", "2024-02-01", "2024-02-10", "product")], product_id=["P1"])
    exposure = incident_exposure(cust, tx, None, inc, AS_OF, cfg, max_open_days=MAX_OPEN_DAYS)
    assert exposure["customer_id"].tolist() == ["a"] and exposure["traced"].all()


def test_an_untraceable_incident_exposes_only_its_complainers(cfg):
    cust = customers("a", "b")
    tx = transactions([("a", "2024-01-25", 9.0), ("b", "2024-01-26", 9.0)])
    inc = incidents([("INC3", "2024-02-01", "2024-02-10", "courier")])
    ev = events([("a", "2024-02-04", "complaint")], incident_id=["INC3"])
    exposure = incident_exposure(cust, tx, ev, inc, AS_OF, cfg, max_open_days=MAX_OPEN_DAYS)
    assert exposure["customer_id"].tolist() == ["a"]
    assert not exposure["traced"].any()
    flags = shared_cause_exposure(cust, exposure, ev, inc, AS_OF, cfg,
                                  max_open_days=MAX_OPEN_DAYS).set_index("customer_id")
    assert pd.isna(flags.loc["a", "shared_cause_complaint_rate"])
    assert not flags["shared_cause_outreach"].any()


def test_no_incidents_table_means_no_flags(cfg):
    cust = customers("a")
    exposure = incident_exposure(cust, transactions([("a", "2024-01-01", 1.0)]), None, None,
                                 AS_OF, cfg, max_open_days=MAX_OPEN_DAYS)
    flags = shared_cause_exposure(cust, exposure, None, None, AS_OF, cfg,
                                  max_open_days=MAX_OPEN_DAYS)
    assert exposure.empty and not flags["shared_cause_exposed"].any()
    assert flags["shared_cause_incidents"].tolist() == [0]


def test_default_scope_keys_of_the_contract_scopes_name_canonical_columns(cfg):
    # DESIGN §4: incidents scope product / region / batch; a batch is traced through the
    # product bought (transactions carry product_id, not a batch column).
    canonical = {"customers": {"region"}, "transactions": {"product_id"}}
    for scope in ("product", "region", "batch"):
        key = cfg["scope_keys"][scope]
        assert key["column"] in canonical[key["table"]], (scope, key)


def test_a_batch_incident_with_the_default_keys_exposes_buyers_of_its_product(cfg):
    cust = customers("a", "b", "c")
    tx = transactions([("a", "2024-02-03", 9.0), ("b", "2024-02-04", 9.0),
                       ("c", "2024-02-05", 9.0)], product_id=["P7", "P8", "P7"])
    inc = incidents([("INC5", "2024-02-01", "2024-02-10", "batch")], scope_value=["P7"])
    exposure = incident_exposure(cust, tx, None, inc, AS_OF, cfg, max_open_days=MAX_OPEN_DAYS)
    assert sorted(exposure["customer_id"]) == ["a", "c"] and exposure["traced"].all()


def _endless_courier_world(start: str, buys: dict[str, str]):
    """A courier incident logged with a start only; OLD complained about it in its first
    week, the others bought through the same courier on the given days."""
    people = ["OLD", *buys]
    cust = customers(*people)
    days = [pd.Timestamp(start) + pd.Timedelta(days=5), *map(pd.Timestamp, buys.values())]
    tx = transactions([(c, str(day.date()), 9.0) for c, day in zip(people, days, strict=True)],
                      courier=["UPS"] * len(people))
    inc = incidents([("C1", start, None, "courier")], scope_value=["UPS"])
    ev = events([("OLD", str((days[0] + pd.Timedelta(days=1)).date()), "complaint")],
                incident_id=["C1"])
    return cust, tx, ev, inc


def _flags_capped(world, cfg, max_open_days):
    cust, tx, ev, inc = world
    exposure = incident_exposure(cust, tx, ev, inc, AS_OF, cfg, max_open_days=max_open_days)
    flags = shared_cause_exposure(cust, exposure, ev, inc, AS_OF, cfg,
                                  max_open_days=max_open_days)
    return exposure, flags.set_index("customer_id")


def test_an_incident_without_end_stops_max_open_days_after_its_start(cfg):
    # as in the features: a buyer two years after an end-less incident began is not exposed
    world = _endless_courier_world("2022-01-05", {"NEW": "2024-03-10"})
    exposure, flags = _flags_capped(world, cfg, MAX_OPEN_DAYS)
    assert "NEW" not in set(exposure["customer_id"])
    assert not flags["shared_cause_exposed"].any()  # OLD's risk is long over too


def test_an_incident_without_end_exposes_buyers_until_max_open_days(cfg):
    world = _endless_courier_world("2024-03-01", {"IN": "2024-03-10", "AFTER": "2024-03-25"})
    exposure, flags = _flags_capped(world, cfg, 20)  # assumed over on 2024-03-21
    assert set(exposure["customer_id"]) == {"OLD", "IN"}
    assert set(flags.index[flags["shared_cause_outreach"]]) == {"IN"}


def test_a_null_max_open_days_keeps_an_incident_without_end_open(cfg):
    world = _endless_courier_world("2022-01-05", {"NEW": "2024-03-10"})
    exposure, flags = _flags_capped(world, cfg, None)
    assert set(flags.index[flags["shared_cause_outreach"]]) == {"NEW"}
    assert set(exposure["customer_id"]) == {"OLD", "NEW"}
