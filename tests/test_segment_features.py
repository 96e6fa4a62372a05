"""Segment columns as model features and evaluation slices (churnml.segment_features)."""

from __future__ import annotations

import pandas as pd
import pytest

from churnml.errors import ConfigError
from churnml.segment_features import join_segments, model_segment_columns

T1, T2 = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")


def _features() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["a", "a", "b"], "as_of": [T1, T2, T2],
                         "recency_days": [10.0, 40.0, 200.0]})


def _segments() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "as_of": [T1, T2, T2, T2],
                         "churn_cause": [None, None, "burned", "lured"],
                         "ladder_rung": ["client", "client", "customer", "prospect"]})


def test_segments_join_on_customer_and_snapshot():
    out = join_segments(_features(), _segments(), ["churn_cause", "ladder_rung"])
    assert list(out.columns) == ["customer_id", "as_of", "recency_days", "churn_cause",
                                 "ladder_rung"]
    assert out["churn_cause"].tolist()[2] == "burned" and pd.isna(out["churn_cause"].iloc[0])
    assert len(out) == 3  # customer c has no feature row: not added


def test_a_row_without_its_snapshot_segment_gets_missing():
    features = _features().assign(as_of=[T1, T1, T1])  # b has no segment at T1
    out = join_segments(features, _segments(), ["ladder_rung"])
    assert out["ladder_rung"].tolist()[:2] == ["client", "client"]
    assert pd.isna(out["ladder_rung"].iloc[2])


def test_scoring_segments_without_as_of_join_on_customer():
    latest = _segments().drop(columns="as_of").drop_duplicates("customer_id", keep="last")
    out = join_segments(_features().iloc[1:], latest, ["churn_cause"])
    assert out["churn_cause"].tolist()[1] == "burned"


def test_inputs_are_not_mutated_and_no_columns_means_same_frame():
    features, segments = _features(), _segments()
    before = features.copy()
    join_segments(features, segments, ["churn_cause"])
    pd.testing.assert_frame_equal(features, before)
    assert join_segments(features, segments, []) is features


def test_unknown_segment_column_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match="loyalty_tier"):
        join_segments(_features(), _segments(), ["loyalty_tier"])


def test_duplicate_segment_keys_are_refused():
    doubled = pd.concat([_segments(), _segments().iloc[:1]])
    with pytest.raises(pd.errors.MergeError):
        join_segments(_features(), doubled, ["churn_cause"])


def test_model_segment_columns_are_the_model_features_found_in_segments():
    names = ["recency_days", "churn_cause", "as_of"]
    assert model_segment_columns(names, _segments()) == ["churn_cause"]
