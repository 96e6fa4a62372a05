"""The scored list's output rules, one broken rule at a time (pure, no model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnml.scored_list import ScoredListError, check, problems, select_columns


def good() -> pd.DataFrame:
    p = pd.Series([0.1, 0.5, 0.5, 0.9, np.nan])
    return pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e"],
        "status": ["active"] * 4 + ["lapsed"],
        "p_attrition": p, "risk_percentile": (p.rank(pct=True, method="max") * 100).round(2),
        "p_winback": [np.nan] * 4 + [0.3], "value": [10.0, 20.0, 30.0, 40.0, 0.0]})


def test_a_good_list_passes():
    assert problems(good()) == []
    check(good())


@pytest.mark.parametrize(("column", "row", "value", "message"), [
    ("customer_id", 1, "a", "unique"),
    ("customer_id", 1, None, "present"),
    ("p_attrition", 0, 1.2, "outside [0, 1]"),
    ("p_winback", 4, -0.1, "outside [0, 1]"),
    ("value", 2, np.inf, "infinite"),
    ("p_attrition", 1, np.nan, "have no p_attrition"),
    ("risk_percentile", 0, 99.0, "falls while"),
    ("risk_percentile", 2, 40.0, "equal p_attrition"),
    ("risk_percentile", 4, 10.0, "missing where"),
    ("risk_percentile", 3, 120.0, "outside [0, 100]"),
])
def test_each_broken_rule_is_named(column, row, value, message):
    frame = good()
    frame.loc[row, column] = value
    with pytest.raises(ScoredListError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check(frame)


def test_only_whitelisted_columns_in_whitelist_order():
    frame = good().assign(email="x@y.z", free_text="angry call")
    kept = select_columns(frame, ["value", "customer_id", "offer_id"])
    assert list(kept.columns) == ["value", "customer_id"]
    with pytest.raises(ScoredListError, match="customer_id"):
        select_columns(frame, ["value"])
