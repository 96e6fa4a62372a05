"""Batch scoring on Spark (local mode) gives the pandas scored list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnml.models import ChurnClassifier
from churnml.scoring import SCORED_COLUMNS, score_customers
from tests.conftest import local_spark_engine, make_classification_frame

pytestmark = pytest.mark.slow
CFG = {"risk_bands": {"high": 0.5, "medium": 0.2}, "value_window_days": 180,
       "value_min_days": 30}
VERSIONS = {"attrition": "attrition/3", "winback": "winback/1"}


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory):
    """A local-mode SparkSession built from conf/engine/spark.yaml, one core."""
    from churnml.features.engine import spark_session

    return spark_session(local_spark_engine("local[1]", tmp_path_factory.mktemp("warehouse")))


def _features(n: int = 400) -> pd.DataFrame:
    """Active and lapsed customers, tied probabilities (repeated rows) and a bad category."""
    X, _ = make_classification_frame(n, seed=5)
    X.loc[X.index[::7], "recency_days"] = 400.0  # lapsed
    X.loc[X.index[::11], "region"] = "unseen"
    X.iloc[1::13] = X.iloc[0::13].to_numpy()[: len(X.iloc[1::13])]  # ties in p_attrition
    return X.assign(customer_id=[f"C{i:04d}" for i in range(n)][::-1],
                    as_of=pd.Timestamp("2025-01-01"), spend_180d=X["monetary"] * 1.37,
                    days_since_first_purchase=X["tenure_days"])


def test_spark_scores_equal_the_pandas_scores(spark) -> None:
    from churnml.spark_scoring import collect_scored, score_spark

    X, y = make_classification_frame()
    fit = {"max_rounds": 30, "min_child_samples": 10, "n_jobs": 1}
    attrition = ChurnClassifier(**fit).fit(X, y, eval_set=(X, y))
    winback = ChurnClassifier(calibration="isotonic", **fit).fit(X, 1 - y, eval_set=(X, 1 - y))
    features = _features()
    expected = score_customers(features, attrition, winback, lapse_days=90, cfg=CFG,
                               versions=VERSIONS)
    frame = spark.createDataFrame(features).repartition(3)  # several partitions and batches
    actual = collect_scored(score_spark(frame, attrition, winback, lapse_days=90, cfg=CFG,
                                        versions=VERSIONS))
    assert list(actual.columns) == SCORED_COLUMNS and len(actual) == len(expected)
    assert expected["p_attrition"].duplicated().sum() > 10  # ties exercise the percentile
    for column in ("p_attrition", "p_winback", "value", "risk_percentile"):
        np.testing.assert_allclose(actual[column], expected[column], rtol=1e-9, atol=0)
    for column in ("customer_id", "status", "risk_band", "attrition_model_version",
                   "winback_model_version"):
        assert actual[column].astype("string").fillna("<NA>").tolist() == \
            expected[column].astype("string").fillna("<NA>").tolist()
    assert (actual["as_of"] == expected["as_of"]).all()


def test_spark_scoring_refuses_several_snapshots(spark) -> None:
    from churnml.spark_scoring import score_spark

    features = _features(20)
    features.loc[0, "as_of"] = pd.Timestamp("2025-02-01")
    X, y = make_classification_frame()
    model = ChurnClassifier(max_rounds=5, n_jobs=1).fit(X, y)
    with pytest.raises(ValueError, match="one snapshot"):
        score_spark(spark.createDataFrame(features), model, model, lapse_days=90, cfg=CFG,
                    versions=VERSIONS)
