"""Likely cause of an active customer's risk: the churn-cause rules on recent signals."""

from __future__ import annotations

import pandas as pd
import yaml

from churnml.offers.likely_cause import likely_cause
from tests.conftest import ROOT
from tests.offer_frames import offers_config

CAUSES = yaml.safe_load((ROOT / "conf" / "segments" / "default.yaml").read_text())["causes"]
CFG = offers_config()["likely_cause"]


def _features(**signals: list[float]) -> pd.DataFrame:
    n = len(next(iter(signals.values())))
    return pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)],
                         "as_of": pd.Timestamp("2025-01-01"), **signals})


def test_signals_over_the_window_type_the_cause_like_a_lapsed_customers():
    features = _features(competitor_inquiry_90d=[1, 0, 0, 0, 0],
                         port_out_request_90d=[1, 0, 0, 0, 0],
                         price_comparison_90d=[0, 2, 0, 0, 0],
                         complaint_90d=[0, 0, 1, 0, 0],
                         incidents_exposed=[0, 0, 0, 1, 0],
                         price_comparison_30d=[0, 0, 0, 0, 9])  # another window: ignored
    out = likely_cause(features, CAUSES, CFG)
    assert out["customer_id"].tolist() == features["customer_id"].tolist()
    assert out["likely_cause"].tolist() == ["lured", "price", "burned", "burned", "unknown"]


def test_missing_signal_columns_count_zero():
    out = likely_cause(_features(recency_days=[3, 40]), CAUSES, CFG)
    assert (out["likely_cause"] == CAUSES["fallback"]).all()


def test_signals_kept_under_another_feature_name_are_mapped():
    features = _features(complaint_90d=[1, 1], resolved_complaints_90d=[0, 1])
    out = likely_cause(features, CAUSES, CFG)["likely_cause"].tolist()
    assert out == ["burned", "unknown"]  # a resolved complaint counts half
