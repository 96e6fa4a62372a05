"""The offer catalogue: domain defaults, eligibility rules, priors, config checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnml.errors import ConfigError
from churnml.offers import eligibility, load_catalogue, prior_uplift
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
    assert prior["A", "price_match"] == pytest.approx(price.prior_rescue * 0.4)
    assert prior["L", "price_match"] == pytest.approx(price.prior_return["lured"])
    assert prior["L", "service_recovery"] == pytest.approx(
        CATALOGUE.offers[0].prior_return["default"])
