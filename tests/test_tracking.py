"""MLflow: logged with signature, registered, promoted by rule, reloaded by alias."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnml import io, registry, tracking
from churnml.errors import ConfigError
from churnml.models import ChurnClassifier
from tests.conftest import make_classification_frame

pytestmark = pytest.mark.xdist_group("mlflow")


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return {"uri": f"sqlite:///{tmp_path}/mlflow.db", "experiment": "test",
            "artifact_location": str(tmp_path / "artifacts"), "champion_alias": "champion",
            "attrition_model_name": "t-attrition", "winback_model_name": "t-winback"}


def _log(cfg, tmp_path, rounds: int, name: str = "t-attrition", **tags: str):
    X, y = make_classification_frame()
    model = ChurnClassifier(max_rounds=rounds, min_child_samples=10).fit(X, y)
    path = io.write_json(model.to_dict(), tmp_path / f"model_{rounds}.json")
    info = tracking.log_training_run(
        cfg, registered_name=name, model_file=path, model=model, example=X.head(3),
        params={"rounds": rounds}, metrics={"x": 1.0},
        tags={tracking.MODEL_SHA_TAG: io.sha256_file(path), **tags},
        config={"model": {"attrition": {"max_rounds": rounds}}, "labels": {"horizon_days": 90}})
    return model, path, info


def test_log_register_promote_and_reload_by_alias(cfg, tmp_path):
    model, path, info = _log(cfg, tmp_path, 20)
    assert info["registered"]
    assert tracking.find_version(cfg, "t-attrition", io.sha256_file(path)) == {
        k: info[k] for k in ("run_id", "name", "version")}
    assert tracking.promote_if_better(cfg, "t-attrition", info["version"], "roc_auc", 0.8, 0.0)[
        "promoted"]
    loaded, version = registry.load_registered("models:/t-attrition@champion", cfg)
    assert version == f"t-attrition/{info['version']}"
    golden, _ = make_classification_frame(40, seed=11)
    np.testing.assert_array_equal(loaded.predict_proba(golden), model.predict_proba(golden))


def test_worse_model_does_not_take_the_alias(cfg, tmp_path):
    _, _, first = _log(cfg, tmp_path, 20)
    tracking.promote_if_better(cfg, "t-attrition", first["version"], "roc_auc", 0.8, 0.0)
    _, _, second = _log(cfg, tmp_path, 5)
    decision = tracking.promote_if_better(cfg, "t-attrition", second["version"], "roc_auc",
                                          0.7, 0.0)
    assert not decision["promoted"] and "champion" in decision["reason"]
    _, version = registry.load_registered("models:/t-attrition@champion", cfg)
    assert version == f"t-attrition/{first['version']}"


def test_environment_variable_wins_over_config(cfg, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///elsewhere.db")
    assert tracking.resolve_uri(cfg) == "sqlite:///elsewhere.db"


def test_re_evaluating_the_champion_keeps_it(cfg, tmp_path):
    _, _, first = _log(cfg, tmp_path, 20)
    tracking.promote_if_better(cfg, "t-attrition", first["version"], "roc_auc", 0.8, 0.0)
    again = tracking.promote_if_better(cfg, "t-attrition", first["version"], "roc_auc", 0.8, 0.0)
    assert again == {"promoted": True, "reason": "already champion"}


def test_the_composed_config_is_an_artifact_of_the_run(cfg, tmp_path):
    import mlflow
    import yaml

    _, _, info = _log(cfg, tmp_path, 7)
    mlflow.set_tracking_uri(cfg["uri"])
    local = mlflow.artifacts.download_artifacts(f"runs:/{info['run_id']}/config/params.yaml",
                                                dst_path=str(tmp_path / "download"))
    logged = yaml.safe_load(Path(local).read_text())
    assert logged == {"model": {"attrition": {"max_rounds": 7}}, "labels": {"horizon_days": 90}}


def test_retraining_the_same_model_logs_a_run_but_no_new_version(cfg, tmp_path):
    import mlflow

    _, path, first = _log(cfg, tmp_path, 20)
    _, _, again = _log(cfg, tmp_path, 20)  # the same data and settings: the same file
    _, _, other = _log(cfg, tmp_path, 5)
    assert again["version"] == first["version"] and not again["registered"]
    assert again["run_id"] != first["run_id"]
    assert other["registered"] and other["version"] != first["version"]
    client = mlflow.MlflowClient(tracking_uri=cfg["uri"])
    assert len(client.search_model_versions("name='t-attrition'")) == 2
    tags = client.get_run(again["run_id"]).data.tags
    assert tags[tracking.VERSION_TAG] == first["version"]
    found = tracking.find_version(cfg, "t-attrition", io.sha256_file(path))
    assert found["version"] == first["version"] and found["run_id"] == first["run_id"]


def test_lower_is_better_metrics_promote_only_a_smaller_value(cfg, tmp_path):
    _, _, first = _log(cfg, tmp_path, 20)
    tracking.promote_if_better(cfg, "t-attrition", first["version"], "brier", 0.10, 0.0)
    _, _, second = _log(cfg, tmp_path, 5)
    worse = tracking.promote_if_better(cfg, "t-attrition", second["version"], "brier", 0.30, 0.0)
    assert not worse["promoted"] and "needs < -0.0" in worse["reason"]
    _, version = registry.load_registered("models:/t-attrition@champion", cfg)
    assert version == f"t-attrition/{first['version']}"
    better = tracking.promote_if_better(cfg, "t-attrition", second["version"], "ece", 0.02, 0.0)
    assert better["promoted"]  # no champion ECE recorded yet: any value wins
    assert tracking.promote_if_better(cfg, "t-attrition", first["version"], "ece", 0.019,
                                      0.01)["promoted"] is False


def test_an_unknown_promotion_metric_is_a_config_error(cfg):
    with pytest.raises(ConfigError, match=r"evaluate\.promotion_metric = 'accuracy'.*brier"):
        tracking.promote_if_better(cfg, "t-attrition", "1", "accuracy", 0.9, 0.0)


def test_the_reported_version_is_the_one_loaded_even_if_the_alias_moves(cfg, tmp_path,
                                                                        monkeypatch):
    first_model, _, first = _log(cfg, tmp_path, 20)
    _, _, second = _log(cfg, tmp_path, 5)
    tracking.promote_if_better(cfg, "t-attrition", first["version"], "roc_auc", 0.8, 0.0)
    pyfunc, client = tracking.mlflow_module().pyfunc, tracking.mlflow_module().MlflowClient()
    original = pyfunc.load_model

    def load_then_promote_elsewhere(uri, *args, **kwargs):
        loaded = original(uri, *args, **kwargs)  # a concurrent evaluate promotes v2 meanwhile
        client.set_registered_model_alias("t-attrition", "champion", second["version"])
        return loaded

    monkeypatch.setattr(pyfunc, "load_model", load_then_promote_elsewhere)
    loaded, version = registry.load_registered("models:/t-attrition@champion", cfg)
    assert version == f"t-attrition/{first['version']}"  # the alias pointed there when read
    golden, _ = make_classification_frame(40, seed=11)
    np.testing.assert_array_equal(loaded.predict_proba(golden), first_model.predict_proba(golden))


def test_an_undefined_test_metric_never_takes_the_alias(cfg, tmp_path):
    import mlflow

    _, _, first = _log(cfg, tmp_path, 20)
    decision = tracking.promote_if_better(cfg, "t-attrition", first["version"], "roc_auc",
                                          float("nan"), 0.0)
    assert not decision["promoted"] and "undefined" in decision["reason"]
    client = mlflow.MlflowClient(tracking_uri=cfg["uri"])
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.get_model_version_by_alias("t-attrition", "champion")


def test_a_champion_recorded_with_an_undefined_metric_gives_way(cfg, tmp_path):
    import mlflow

    _, _, first = _log(cfg, tmp_path, 20)
    client = mlflow.MlflowClient(tracking_uri=cfg["uri"])
    client.set_registered_model_alias("t-attrition", "champion", first["version"])
    client.set_model_version_tag("t-attrition", first["version"], "test_roc_auc", "nan")
    _, _, second = _log(cfg, tmp_path, 5)
    decision = tracking.promote_if_better(cfg, "t-attrition", second["version"], "roc_auc",
                                          0.6, 0.0)
    assert decision["promoted"], decision
    _, version = registry.load_registered("models:/t-attrition@champion", cfg)
    assert version == f"t-attrition/{second['version']}"


def test_a_category_missing_from_the_whole_example_is_still_declared_text(cfg, tmp_path):
    import mlflow

    X, y = make_classification_frame()
    model = ChurnClassifier(max_rounds=5, min_child_samples=10).fit(X, y)
    path = io.write_json(model.to_dict(), tmp_path / "model.json")
    example = X.head(3).assign(region=pd.Series([None] * 3, dtype=object))
    info = tracking.log_training_run(
        cfg, registered_name="t-attrition", model_file=path, model=model, example=example,
        params={}, metrics={}, tags={tracking.MODEL_SHA_TAG: io.sha256_file(path)})
    inputs = mlflow.models.get_model_info(
        f"models:/t-attrition/{info['version']}").signature.inputs.to_dict()
    assert {spec["name"]: spec["type"] for spec in inputs} == {
        "recency_days": "double", "frequency": "double", "region": "string",
        "tenure_days": "double", "monetary": "double"}


def _champion(cfg, tmp_path, rounds: int, name: str, **tags: str) -> None:
    info = _log(cfg, tmp_path, rounds, name, **tags)[2]
    tracking.promote_if_better(cfg, name, info["version"], "roc_auc", 0.8, 0.0)


def test_a_win_back_model_is_refused_where_the_attrition_model_is_expected(cfg, tmp_path):
    _champion(cfg, tmp_path, 9, "t-winback", model_kind="winback")
    with pytest.raises(ConfigError, match=r"--model models:/t-winback@champion: version 1 of "
                       r"'t-winback' is a winback model \(by its training run's model_kind "
                       r"tag\), but the attrition model is expected.*t-attrition@champion"):
        registry.load_registered("models:/t-winback@champion", cfg, kind="attrition")
    assert registry.load_registered("models:/t-winback@champion", cfg, kind="winback")[1] == (
        "t-winback/1")


def test_the_training_tag_decides_the_kind_over_the_registered_name(cfg, tmp_path):
    _champion(cfg, tmp_path, 9, "t-attrition", model_kind="winback")  # registered by mistake
    with pytest.raises(ConfigError, match="is a winback model"):
        registry.load_registered("models:/t-attrition@champion", cfg, kind="attrition")


def test_without_the_training_tag_the_registered_name_decides_the_kind(cfg, tmp_path):
    _champion(cfg, tmp_path, 9, "t-attrition")  # a run that predates the tag
    assert registry.load_registered("models:/t-attrition@champion", cfg, kind="attrition")[1]
    with pytest.raises(ConfigError, match=r"is an attrition model \(by its registered name"):
        registry.load_registered("models:/t-attrition@champion", cfg, kind="winback")
    _champion(cfg, tmp_path, 8, "t-other")
    with pytest.raises(ConfigError, match="is a model of unknown kind"):
        registry.load_registered("models:/t-other@champion", cfg, kind="attrition")


def test_an_unknown_alias_or_model_name_is_a_config_error_listing_what_exists(cfg, tmp_path):
    _champion(cfg, tmp_path, 9, "t-attrition", model_kind="attrition")
    _log(cfg, tmp_path, 7)
    with pytest.raises(ConfigError, match=r"'t-attrition' has no alias 'nosuch'.*"
                       r"aliases: champion -> version 1; versions: 1, 2"):
        registry.load_registered("models:/t-attrition@nosuch", cfg, kind="attrition")
    with pytest.raises(ConfigError, match=r"no registered model named 't-atrition'.*"
                       r"registered models: t-attrition\)"):
        registry.load_registered("models:/t-atrition@champion", cfg)
