"""Which customers of the scored list get reason codes (reasons.explain)."""

from __future__ import annotations

import pandas as pd
import pytest

from churnml.errors import ConfigError
from churnml.stages.score_enrich import same_ids, to_explain

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


def test_an_unknown_scope_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"reasons\.explain"):
        to_explain(_scored(), {**CFG, "explain": "everyone"})


def test_same_ids_matches_isin_whatever_the_string_dtype():
    ids = pd.Series(["C1", "C2", "C3", "C10"], dtype="str")
    among = pd.Series(["C10", "C2", "C9"], dtype=object)
    expected = ids.isin(among).to_numpy()
    assert same_ids(ids, among).tolist() == expected.tolist() == [False, True, False, True]
    assert not same_ids(ids, among.iloc[:0]).any()
