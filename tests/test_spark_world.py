"""On the tiny pipeline's world, Spark local mode gives DuckDB's labels and scores.

The ``tiny_pipeline`` fixture ran ``dvc repro`` on DuckDB. Here the same canonical
tables and models go through the Spark engine: the ``labels`` stage, the ``score``
job (features as of the scoring date computed on Spark), and Spark-native scoring
(:func:`churnml.spark_scoring.score_spark`, ``mapInPandas``) of those features. Each
must equal the DuckDB result within 1e-9 relative. Slow: it starts Spark twice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnml import io
from churnml.scoring import score_customers
from tests.conftest import require_spark
from tests.tiny_pipeline import TINY_WORLD, run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]
SPARK_ENGINE = ["engine=spark", 'engine.master="local[2]"']


@pytest.fixture(scope="module")
def spark_params(tiny_pipeline: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny world's params with ``engine=spark`` (local mode), in a file of its own."""
    require_spark()
    out = tmp_path_factory.mktemp("spark_params") / "params.yaml"
    run(["churnml", "compose", *TINY_WORLD, *SPARK_ENGINE, "--out", str(out)], tiny_pipeline)
    return out


def _assert_same(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns and rows; numbers within 1e-9 relative, everything else equal."""
    assert list(actual.columns) == list(expected.columns) and len(actual) == len(expected)
    for column in expected.columns:
        left, right = actual[column], expected[column]
        if pd.api.types.is_numeric_dtype(right) and not pd.api.types.is_bool_dtype(right):
            np.testing.assert_allclose(left.astype(float), right.astype(float), rtol=1e-9,
                                       atol=0, err_msg=column)
        else:
            assert left.astype("string").fillna("<NA>").tolist() == \
                right.astype("string").fillna("<NA>").tolist(), column


def test_the_labels_stage_on_spark_gives_duckdbs_labels(tiny_pipeline: Path, spark_params: Path,
                                                        tmp_path: Path) -> None:
    from churnml.stages import labels
    from churnml.stages.common import stage_params

    params = stage_params(spark_params, labels.PARAMS)
    assert params["engine"]["name"] == "spark"
    actual = labels.run(tiny_pipeline / "data" / "interim", tmp_path / "labels.parquet", params)
    expected = io.read_parquet(tiny_pipeline / "data" / "features" / "labels.parquet")
    assert expected["attrition"].sum() > 0 and expected["winback"].sum() > 0
    _assert_same(actual.reset_index(drop=True), expected)


def test_the_score_job_on_spark_gives_duckdbs_scored_list(tiny_pipeline: Path,
                                                          spark_params: Path,
                                                          tmp_path: Path) -> None:
    run(["churnml", "--params", str(spark_params), "score", "--out", str(tmp_path),
         "--no-progress"], tiny_pipeline)
    expected = io.read_parquet(tiny_pipeline / "data" / "scored" / "scored_customers.parquet")
    actual = io.read_parquet(tmp_path / "scored_customers.parquet")
    assert len(expected) > 500 and expected["offer_id"].ne("none").any()
    _assert_same(actual, expected)


def test_spark_native_scoring_of_spark_features_gives_the_pandas_scores(
        tiny_pipeline: Path, spark_params: Path) -> None:
    from churnml.features import compute_features, connect, load_tables
    from churnml.features.engine import spark_session
    from churnml.models import ChurnClassifier
    from churnml.segment_features import join_segments, model_segment_columns
    from churnml.spark_scoring import collect_scored, score_spark
    from churnml.stages import score, score_enrich
    from churnml.stages.common import model_file, stage_params

    params = stage_params(spark_params, score.PARAMS)
    interim, models_dir = tiny_pipeline / "data" / "interim", tiny_pipeline / "models"
    date = score.resolve_as_of(None, interim)
    models = {kind: ChurnClassifier.from_dict(io.read_json(model_file(kind, models_dir)))
              for kind in ("attrition", "winback")}
    segments = score_enrich.segments_for(interim, date, params)
    needed = sorted({c for m in models.values()
                     for c in model_segment_columns(m.feature_names_in_, segments)})
    frames = {}
    for name, engine in (("duckdb", {"name": "duckdb"}), ("spark", params["engine"])):
        con = connect(engine)
        frames[name] = join_segments(compute_features(con, load_tables(con, interim), [date],
                                                      params["features"]), segments, needed)
    kwargs = {"lapse_days": int(params["labels"]["lapse_days"]), "cfg": params["score"],
              "versions": {"attrition": "attrition/1", "winback": "winback/1"}}
    expected = score_customers(frames["duckdb"], models["attrition"], models["winback"],
                               **kwargs)
    spark = spark_session(params["engine"])  # the session the Ibis backend uses
    features = spark.createDataFrame(frames["spark"]).repartition(3)
    actual = collect_scored(score_spark(features, models["attrition"], models["winback"],
                                        **kwargs))
    assert set(expected["status"]) >= {"active", "lapsed"}
    _assert_same(actual, expected.sort_values("customer_id", ignore_index=True))
