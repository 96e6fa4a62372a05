"""Leakage guard: a feature that alone predicts the label almost perfectly blocks
promotion until it is reviewed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnml import io
from churnml.leakage import leakage_check, single_feature_auc
from churnml.models import ChurnClassifier
from churnml.stages import evaluate as evaluate_stage
from tests.conftest import make_classification_frame

HONEST = ["recency_days", "frequency", "region", "tenure_days", "monetary"]


def _frame(seed: int = 0) -> pd.DataFrame:
    frame, y = make_classification_frame(n=800, seed=seed)
    rng = np.random.default_rng(seed)
    flip = rng.random(len(y)) < 0.02
    frame["days_to_cancellation"] = np.where(y ^ flip, rng.uniform(0, 30, len(y)), np.nan)
    frame["account_status"] = np.where(y, "closed", "open")
    frame["target"], frame["as_of"] = y, pd.Timestamp("2024-06-01")
    frame["role"] = np.where(np.arange(len(y)) < 560, "train", "test")
    frame["customer_id"] = [f"c{i}" for i in range(len(y))]
    return frame


def test_leaky_numeric_and_categorical_columns_stand_out():
    aucs = single_feature_auc(_frame(), [*HONEST, "days_to_cancellation", "account_status"])
    assert aucs["days_to_cancellation"] > 0.95 and aucs["account_status"] > 0.99
    assert (aucs[HONEST] < 0.9).all()
    assert aucs.index[0] in ("days_to_cancellation", "account_status")


def test_check_blocks_until_the_feature_is_reviewed():
    aucs = single_feature_auc(_frame(), [*HONEST, "days_to_cancellation"])
    check = leakage_check(aucs, 0.95)
    assert check["blocked"] and set(check["suspects"]) == {"days_to_cancellation"}
    reviewed = leakage_check(aucs, 0.95, reviewed=["days_to_cancellation"])
    assert not reviewed["blocked"] and reviewed["reviewed"] == ["days_to_cancellation"]
    assert not leakage_check(single_feature_auc(_frame(), HONEST), 0.95)["blocked"]


def _stage_run(tmp_path, monkeypatch, features: list[str], reviewed: list[str],
               frame: pd.DataFrame | None = None) -> list[str]:
    """Run the evaluate stage in snapshot mode on the tiny frame; return promoted kinds."""
    frame = _frame() if frame is None else frame
    train = frame[frame["role"] == "train"]
    model = ChurnClassifier(max_rounds=30).fit(train[features], train["target"])
    io.write_json(model.to_dict(), tmp_path / "models/attrition/model.json")
    promoted = []
    monkeypatch.setattr(evaluate_stage.io, "read_parquet", lambda path: pd.DataFrame())
    monkeypatch.setattr(evaluate_stage, "training_frame", lambda *a, **k: frame)
    monkeypatch.setattr(evaluate_stage.plots, "FIGURES", {})  # PNGs: slow, not the point
    from churnml import tracking
    monkeypatch.setattr(tracking, "find_version", lambda cfg, name, sha: {
        "run_id": "r", "name": name, "version": "1"})
    monkeypatch.setattr(tracking, "log_evaluation", lambda *a, **k: None)
    monkeypatch.setattr(tracking, "promote_if_better",
                        lambda cfg, name, *a, **k: promoted.append(name))
    cfg = {"bootstrap_samples": 5, "bootstrap_seed": 1, "calibration_bins": 5,
           "top_fractions": [0.1], "promotion_metric": "roc_auc", "min_improvement": 0.0,
           "slices": [], "min_slice_rows": 30, "leakage_max_single_feature_auc": 0.95,
           "leakage_reviewed_features": reviewed, "bgnbd_l2": 0.0}
    params = {"evaluate": cfg, "model": {"split": {}}, "labels": {"horizon_days": 90},
              "tracking": {"attrition_model_name": "churn-attrition"},
              "data": {"mode": "snapshot", "snapshot": {"as_of": "2024-06-01"}}}
    results = evaluate_stage.run(tmp_path / "f.parquet", tmp_path / "l.parquet",
                                 tmp_path / "models", tmp_path / "reports", params)
    assert io.read_json(tmp_path / "reports/metrics.json")["attrition"]["leakage"] == (
        io.json_ready(results["attrition"]["leakage"]))
    return promoted


def test_evaluate_stage_does_not_promote_a_model_with_an_unreviewed_leak(tmp_path,
                                                                        monkeypatch):
    leaky = [*HONEST, "days_to_cancellation"]
    assert _stage_run(tmp_path / "a", monkeypatch, leaky, reviewed=[]) == []
    assert _stage_run(tmp_path / "b", monkeypatch, leaky,
                      reviewed=["days_to_cancellation"]) == ["churn-attrition"]
    assert _stage_run(tmp_path / "c", monkeypatch, HONEST, reviewed=[]) == ["churn-attrition"]


def test_a_one_class_test_set_is_reported_and_not_promoted(tmp_path, monkeypatch, caplog):
    frame = _frame()
    frame.loc[frame["role"] == "test", "target"] = 0
    assert _stage_run(tmp_path, monkeypatch, HONEST, reviewed=[], frame=frame) == []
    report = io.read_json(tmp_path / "reports/metrics.json")["attrition"]
    assert report["test_set"] == "holds one class only: 240 rows, all 0"
    assert report["model"]["roc_auc"] is None  # standard JSON: no bare NaN
    assert "not promoted: the test set holds one class only" in caplog.text


def test_an_outcome_column_among_model_inputs_is_refused_naming_it():
    import pytest

    from churnml.errors import ContractError
    from churnml.leakage import refuse_outcome_columns

    refuse_outcome_columns(["recency_days", "spend_90d"], "features.parquet")  # fine
    with pytest.raises(ContractError, match=r"'churned'.*leakage") as caught:
        refuse_outcome_columns(["recency_days", "churned"], "features.parquet")
    assert caught.value.exit_code == 2 and caught.value.file == "features.parquet"


def test_training_refuses_a_label_that_slipped_into_the_features():
    import pytest

    from churnml.errors import ContractError
    from churnml.stages.train import fit_model

    X, y = make_classification_frame()
    frame = X.assign(winback=y, target=y, role=np.where(np.arange(len(y)) % 4, "train",
                                                          "validation"))
    with pytest.raises(ContractError, match="winback"):
        fit_model(frame, {"max_rounds": 5}, "sigmoid", 0)
