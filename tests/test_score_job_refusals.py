"""Mistakes in the scoring job's inputs are refused with exit code 2 (fast, no CLI; the
CLI cases are in test_score_job_cli.py): data that lacks a model's inputs, and a
``--data`` folder that is not an ingest output."""

from __future__ import annotations

import pandas as pd
import pytest

from churnml import io
from churnml.errors import ConfigError, ContractError
from churnml.models import ChurnClassifier
from churnml.stages.features import data_window
from churnml.stages.score_inputs import check_model_inputs
from tests.conftest import make_classification_frame

VERSIONS = {"attrition": "churnml-attrition/4", "winback": "churnml-winback/2"}
PARAMS = {"features": {"categorical_attributes": ["region", "plan"], "numeric_attributes": []},
          "data": {"mode": "events"}}


@pytest.fixture(scope="module")
def models() -> dict[str, ChurnClassifier]:
    X, y = make_classification_frame(300, seed=1)
    model = ChurnClassifier(max_rounds=5, min_child_samples=10).fit(X, y)
    return {"attrition": model, "winback": model}


def test_all_inputs_present_passes(models, tmp_path):
    frame, _ = make_classification_frame(20)
    check_model_inputs(frame, models, VERSIONS, tmp_path, PARAMS)


def test_a_missing_attribute_names_model_column_table_and_remedy(models, tmp_path):
    (tmp_path / "events.parquet").touch()
    (tmp_path / "incidents.parquet").touch()
    frame = make_classification_frame(20)[0].drop(columns=["region"])
    with pytest.raises(ContractError) as caught:
        check_model_inputs(frame, models, VERSIONS, tmp_path, PARAMS)
    message = str(caught.value)
    assert caught.value.exit_code == 2
    assert "the attrition model (churnml-attrition/4) lacks column 'region' of customers" in (
        message)
    assert "the winback model (churnml-winback/2)" in message
    assert "restore them upstream" in message and "retrain without them" in message


def test_features_of_a_missing_table_name_the_table(models, tmp_path):
    (tmp_path / "incidents.parquet").touch()  # events.parquet absent
    frame = make_classification_frame(20)[0].drop(columns=["recency_days", "frequency"])
    with pytest.raises(ContractError, match=r"lacks 2 feature\(s\): recency_days, frequency "
                       r"\(computed from events\.parquet, absent from "):
        check_model_inputs(frame, {"attrition": models["attrition"]}, VERSIONS, tmp_path,
                           PARAMS)


def test_a_folder_that_is_not_an_ingest_output_is_refused(tmp_path):
    io.write_json({"end": "2025-07-01T00:00:00", "outputs": {}}, tmp_path / "manifest.json")
    with pytest.raises(ConfigError, match=r"is not an ingest output: its manifest\.json has "
                       r"no data_start.*run `churnml ingest --data "):
        data_window(tmp_path)


def test_an_ingest_output_gives_its_window(tmp_path):
    io.write_json({"data_start": "2023-01-01T00:00:00", "data_end": "2025-07-01T00:00:00"},
                  tmp_path / "manifest.json")
    assert data_window(tmp_path) == (pd.Timestamp("2023-01-01"), pd.Timestamp("2025-07-01"))
