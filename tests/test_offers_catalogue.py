"""The offer catalogue: domain defaults, eligibility rules, priors, config checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnml.errors import ConfigError
from churnml.offers import eligibility, load_catalogue, prior_uplift
from churnml.offers.catalogue import CodedText
from tests.offer_frames import offers_config

CATALOGUE = load_catalogue(offers_config())


def _customer(**kw) -> pd.DataFrame:
    row = {"customer_id": "C1", "status": "active", "p_attrition": 0.5, "p_winback": np.nan,
           "value": 500.0, "ladder_rung": "customer", "lifecycle_stage": "retention",
           "churn_cause": None, "shared_cause_flag": False} | kw
    return pd.DataFrame([row])


def _eligible(**kw) -> set[str]:
    ok = eligibility(CATALOGUE, _customer(**kw))[0]
    return {o for o, flag in zip(CATALOGUE.ids, ok, strict=True) if flag}


def test_default_catalogue_follows_the_domain():
    assert {"service_recovery", "price_match", "double_points", "personal_outreach",
            "referral_programme", "proactive_outreach"} <= set(CATALOGUE.ids)
    assert "service_recovery" in _eligible(status="lapsed", churn_cause="burned")
    assert "price_match" not in _eligible(status="lapsed", churn_cause="burned")
    assert "price_match" in _eligible(status="lapsed", churn_cause="lured")
    assert "price_match" in _eligible(status="lapsed", churn_cause="price")
    assert "double_points" in _eligible(ladder_rung="client")
    assert "referral_programme" in _eligible(ladder_rung="advocate")
    assert "referral_programme" not in _eligible(ladder_rung="customer")
    assert "proactive_outreach" in _eligible(shared_cause_flag=True)
    assert "proactive_outreach" not in _eligible(shared_cause_flag=False)


def test_personal_outreach_is_for_high_value_clients_at_risk():
    assert "personal_outreach" in _eligible(ladder_rung="client", value=5000.0)
    assert "personal_outreach" not in _eligible(ladder_rung="client", value=100.0)
    assert "personal_outreach" not in _eligible(ladder_rung="customer", value=5000.0)


@pytest.mark.parametrize("rung", ["toxic", "terrorist"])
def test_toxic_and_terrorist_get_nothing(rung):
    assert _eligible(ladder_rung=rung, value=10_000.0, shared_cause_flag=True) == set()


def test_unknown_segment_values_do_not_exclude():
    assert "price_match" in _eligible(ladder_rung=None, lifecycle_stage=None)


def test_a_costed_offer_for_toxic_customers_is_a_config_error():
    cfg = offers_config()
    cfg["catalogue"]["price_match"]["rungs"].append("toxic")
    with pytest.raises(ConfigError, match="never get an offer with a cost"):
        load_catalogue(cfg)


def test_none_is_a_reserved_offer_id():
    cfg = offers_config()
    cfg["catalogue"]["none"] = {"cost": 1.0}
    with pytest.raises(ConfigError, match="reserved"):
        load_catalogue(cfg)


def test_priors_scale_rescue_by_risk_and_use_the_return_table_by_cause():
    frame = pd.concat([_customer(customer_id="A", p_attrition=0.4),
                       _customer(customer_id="L", status="lapsed", p_attrition=np.nan,
                                 churn_cause="lured")], ignore_index=True)
    prior = prior_uplift(CATALOGUE, frame).set_index(["customer_id", "offer_id"])["uplift"]
    price = CATALOGUE.offers[CATALOGUE.ids.index("price_match")]
    assert prior["A", "price_match"] == pytest.approx(
        price.prior_protect["default"] + price.prior_rescue["default"] * 0.4)
    assert prior["L", "price_match"] == pytest.approx(price.prior_return["lured"])
    assert prior["L", "service_recovery"] == pytest.approx(
        CATALOGUE.offers[0].prior_return["default"])


def test_active_priors_follow_the_likely_cause_of_their_risk():
    frame = pd.concat([_customer(customer_id=c, p_attrition=0.5, likely_cause=c)
                       for c in ("lured", "burned", "unknown")], ignore_index=True)
    prior = prior_uplift(CATALOGUE, frame).set_index(["customer_id", "offer_id"])["uplift"]
    by_cause = ["service_recovery", "price_match", "discount", "double_points"]
    best = {c: prior.loc[c].loc[by_cause].idxmax() for c in ("lured", "burned", "unknown")}
    assert best == {"lured": "price_match", "burned": "service_recovery",
                    "unknown": "double_points"}
    service = CATALOGUE.offers[CATALOGUE.ids.index("service_recovery")]
    assert prior["lured", "service_recovery"] == pytest.approx(
        service.prior_protect["default"] + service.prior_rescue["default"] * 0.5)


def test_a_prior_given_as_one_number_holds_for_every_cause():
    cfg = offers_config()
    cfg["catalogue"]["price_match"]["prior"] = {"rescue": 0.1, "return": 0.02}
    offer = load_catalogue(cfg).offers[CATALOGUE.ids.index("price_match")]
    frame = pd.concat([_customer(customer_id="A", likely_cause="burned"),
                       _customer(customer_id="L", status="lapsed", churn_cause="lured")],
                      ignore_index=True)
    prior = prior_uplift(load_catalogue(cfg), frame).set_index(["customer_id", "offer_id"])
    assert offer.prior_rescue == {"default": 0.1}
    assert prior.loc[("A", "price_match"), "uplift"] == pytest.approx(0.05)
    assert prior.loc[("L", "price_match"), "uplift"] == pytest.approx(0.02)


def _one_offer(prior: dict) -> dict:
    cfg = offers_config()
    cfg["catalogue"] = {"x": {"cost": 1.0, "prior": prior}}
    return cfg


def test_protect_lifts_every_active_customer_and_rescue_scales_with_risk():
    cfg = _one_offer({"rescue": {"lured": 0.4, "default": 0.1},
                      "protect": {"lured": 0.05, "default": 0.02}, "return": 0.03})
    frame = pd.concat([_customer(customer_id="a", p_attrition=0.0, likely_cause="lured"),
                       _customer(customer_id="b", p_attrition=0.5, likely_cause="lured"),
                       _customer(customer_id="c", p_attrition=0.5, likely_cause="burned"),
                       _customer(customer_id="d", p_attrition=np.nan),
                       _customer(customer_id="L", status="lapsed", p_attrition=np.nan,
                                 churn_cause="lured")], ignore_index=True)
    prior = prior_uplift(load_catalogue(cfg), frame).set_index("customer_id")["uplift"]
    assert prior.to_dict() == pytest.approx(
        {"a": 0.05, "b": 0.05 + 0.4 * 0.5, "c": 0.02 + 0.1 * 0.5, "d": 0.02, "L": 0.03})


def test_a_prior_without_protect_is_rescue_times_risk_and_stays_within_0_1():
    cfg = _one_offer({"rescue": 0.2})
    frame = _customer(p_attrition=0.5)
    assert prior_uplift(load_catalogue(cfg), frame)["uplift"].tolist() == [pytest.approx(0.1)]
    cfg = _one_offer({"rescue": 0.9, "protect": 0.5})
    frame = _customer(p_attrition=1.0)
    assert prior_uplift(load_catalogue(cfg), frame)["uplift"].tolist() == [1.0]


def test_default_priors_give_involuntary_leavers_no_offer_effect():
    frame = _customer(p_attrition=0.9, likely_cause="involuntary")
    prior = prior_uplift(CATALOGUE, frame).set_index("offer_id")["uplift"]
    assert (prior[["service_recovery", "price_match", "discount", "double_points"]] == 0).all()


TEXT = st.one_of(st.none(), st.sampled_from(["lured", "burned", "price", "default", ""]))


@settings(max_examples=80, deadline=None)
@given(values=st.lists(TEXT, max_size=10),
       allowed=st.one_of(st.none(), st.lists(st.sampled_from(["lured", "price", ""]),
                                             max_size=3).map(tuple)),
       missing=st.booleans(),
       table=st.dictionaries(st.sampled_from(["lured", "burned", "default", ""]),
                             st.one_of(st.floats(0, 1), st.just(float("nan"))), max_size=4))
def test_coded_text_tests_and_looks_up_like_pandas_per_row(values, allowed, missing, table):
    """One factorization answers ``isin`` and the per-cause lookups as pandas would
    row by row: nulls take ``missing`` / the default, NaN in the table the default."""
    series = pd.Series(values, dtype="string")
    coded = CodedText.of(series)
    if allowed is None:
        expected = np.ones(len(values), dtype=bool)
    else:
        expected = np.array([missing if v is None else v in allowed for v in values], bool)
    np.testing.assert_array_equal(coded.isin(allowed, missing), expected)
    default = float(table.get("default", 0.0))
    def one(v):
        found = default if v is None else table.get(v, default)
        return default if np.isnan(found) else found
    np.testing.assert_array_equal(coded.lookup(table), np.array([one(v) for v in values], float))


@pytest.mark.parametrize(("spec", "match"), [
    ({"cost": 5, "min_vaule": 1500}, r"offers\.catalogue\.o\.min_vaule.*unknown key.*min_value"),
    ({"cost": 5, "rungs": "client"}, r"offers\.catalogue\.o\.rungs.*list.*'client'"),
    ({"cost": 5, "rungs": "toxic"}, r"offers\.catalogue\.o\.rungs.*list"),
    ({"cost": 5, "rungs": ["clent"]}, r"offers\.catalogue\.o\.rungs.*'clent'.*advocate"),
    ({"cost": 5, "statuses": ["activ"]}, r"offers\.catalogue\.o\.statuses.*'activ'.*lapsed"),
    ({"cost": 5, "stages": ["retension"]}, r"offers\.catalogue\.o\.stages.*'retension'"),
    ({"cost": 5, "causes": "lured"}, r"offers\.catalogue\.o\.causes.*list"),
    ({"cost": 5, "prior": {"retrun": 0.1}}, r"offers\.catalogue\.o\.prior\.retrun.*rescue"),
    ({"cost": "five"}, r"offers\.catalogue\.o\.cost.*number.*'five'"),
    ({"cost": 5, "min_value": "high"}, r"offers\.catalogue\.o\.min_value.*number.*'high'"),
    ({"cost": 5, "shared_cause": "no"}, r"offers\.catalogue\.o\.shared_cause.*true or false"),
    ({"channel": "email"}, r"offers\.catalogue\.o\.cost"),
    ("cheap", r"offers\.catalogue\.o.*mapping"),
])
def test_a_malformed_catalogue_entry_is_a_config_error_naming_the_key(spec, match):
    # a typo'd key used to be ignored, a string where a list belongs split into letters
    # ('client' -> c, l, i, ...) and an unknown rung, status or stage pass silently
    with pytest.raises(ConfigError, match=match):
        load_catalogue({"catalogue": {"o": spec}, "never_costed_rungs": ["toxic"]})


def test_a_costed_offer_listing_toxic_is_refused_even_as_a_single_name():
    with pytest.raises(ConfigError, match="never get an offer with a cost"):
        load_catalogue({"catalogue": {"o": {"cost": 5, "rungs": ["toxic"]}},
                        "never_costed_rungs": ["toxic"]})


def test_every_documented_key_is_accepted():
    spec = {"cost": 5, "channel": "email", "statuses": ["active"], "rungs": ["client"],
            "stages": ["retention"], "causes": ["lured"], "shared_cause": False,
            "min_value": 10, "cap": 3, "holdout_share": 0.2,
            "prior": {"rescue": 0.1, "protect": {"default": 0.01}, "return": {"lured": 0.2}}}
    offer = load_catalogue({"catalogue": {"o": spec}}).offers[0]
    assert offer.rungs == ("client",) and offer.min_value == 10.0
