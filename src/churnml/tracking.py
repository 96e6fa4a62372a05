"""MLflow tracking: the only module that imports mlflow (:mod:`churnml.registry`, which
reads registered models, gets it through :func:`mlflow_module`).

Runs go to ``MLFLOW_TRACKING_URI`` when set, else to the configured
``sqlite:///mlflow.db``. Models are logged as pyfunc with a signature and an input
example, registered under a stable name, and promoted with the ``champion`` alias
(not stages) only when they beat the current champion on the test metric.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from churnml.evaluate import lower_is_better
from churnml.models.classifier import ChurnClassifier

log = logging.getLogger(__name__)
MODEL_SHA_TAG = "model_sha256"
# Tagged on every training run: the registry version holding its model, whether the run
# registered it or found a version with the same file hash (see _register_once).
VERSION_TAG = "registered_version"
# Tagged on every training run by the train stage: which model it trained.
KIND_TAG = "model_kind"
MODEL_KINDS = ("attrition", "winback")
SQLITE_PREFIX = "sqlite:///"


def mlflow_module():  # imported lazily: mlflow is slow to import and has import-time side effects
    import warnings

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    # We log a small PythonModel instance on purpose; its code lives in this module.
    warnings.filterwarnings("ignore", message=".*Passing a Python object as `python_model`.*")
    return mlflow

def resolve_uri(cfg: dict[str, Any]) -> str:
    """The tracking URI: ``MLFLOW_TRACKING_URI`` wins over ``tracking.uri``."""
    return os.environ.get("MLFLOW_TRACKING_URI") or cfg["uri"]

@contextmanager
def _store_lock(uri: str) -> Iterator[None]:
    """Hold an exclusive lock on ``<db>.lock`` next to a sqlite store (else nothing).

    The first process to open a new sqlite store creates its schema; two processes
    doing it at once (parallel ``dvc exp run --queue`` workers) fail with "table
    already exists". Opening the store and creating the experiment under this lock
    serialises that; later writes are short transactions sqlite itself serialises.
    """
    if not uri.startswith(SQLITE_PREFIX):
        yield
        return
    import fcntl

    lock_file = Path(uri[len(SQLITE_PREFIX):].split("?")[0] + ".lock")
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _setup(cfg: dict[str, Any]) -> str:
    mlflow = mlflow_module()
    uri = resolve_uri(cfg)
    mlflow.set_tracking_uri(uri)
    with _store_lock(uri):
        client = mlflow.MlflowClient()
        experiment = client.get_experiment_by_name(cfg["experiment"])
        if experiment is not None:
            return experiment.experiment_id
        location = Path(cfg["artifact_location"]).resolve().as_uri()
        return client.create_experiment(cfg["experiment"], artifact_location=location)

def _pyfunc_class():
    mlflow = mlflow_module()

    class ChurnModelPyfunc(mlflow.pyfunc.PythonModel):
        """Serves calibrated churn probabilities from a churnml model JSON artifact."""

        def load_context(self, context):
            import json

            with open(context.artifacts["model"], encoding="utf-8") as handle:
                self.model = ChurnClassifier.from_dict(json.load(handle))

        def predict(self, context, model_input: pd.DataFrame, params=None):
            return pd.Series(self.model.predict_proba(model_input)[:, 1], name="probability")

    return ChurnModelPyfunc

def log_training_run(cfg: dict[str, Any], *, registered_name: str, model_file: Path,
                     model: ChurnClassifier, example: pd.DataFrame, params: dict[str, Any],
                     metrics: dict[str, float], tags: dict[str, str],
                     config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Log one training run with its model; register it; return run id and version.

    ``params`` become MLflow params (flat, searchable); ``config``, when given, is the
    whole composed configuration the stage read, logged as ``config/params.yaml``.
    A model whose file hash (``tags[MODEL_SHA_TAG]``) a version already carries is
    not registered again: the run is logged and tagged with that version, which is
    returned (``registered`` False). A rerun on the same inputs (``dvc repro -f``)
    so leaves the registry, and the scored list naming the version, unchanged.
    """
    mlflow = mlflow_module()
    from mlflow.models import infer_signature

    experiment_id = _setup(cfg)
    # Integer columns cannot carry missing values in an MLflow schema: declare them as doubles.
    example = example.reset_index(drop=True)
    ints = example.select_dtypes("integer").columns
    example = example.astype(dict.fromkeys(ints, "float64"))
    signature = _declare_categories_as_text(
        infer_signature(example, pd.Series(model.predict_proba(example)[:, 1],
                                           name="probability")), model)
    with mlflow.start_run(experiment_id=experiment_id, run_name=registered_name) as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.set_tags(tags)
        if config is not None:
            mlflow.log_dict(config, "config/params.yaml")
        info = mlflow.pyfunc.log_model(
            name="model", python_model=_pyfunc_class()(), artifacts={"model": str(model_file)},
            signature=signature, input_example=example, pip_requirements=_requirements())
        version, registered = _register_once(registered_name, info.model_uri,
                                             tags[MODEL_SHA_TAG])
        mlflow.set_tag(VERSION_TAG, version)
    log.info("logged run %s, %s %s version %s", run.info.run_id,
             "registered" if registered else "same model as", registered_name, version)
    return {"run_id": run.info.run_id, "name": registered_name, "version": version,
            "registered": registered}


def _declare_categories_as_text(signature: Any, model: ChurnClassifier) -> Any:
    """``signature`` with the model's categorical inputs typed ``string``: a category that
    is missing from every example row is inferred as ``Any``, which checks nothing."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, DataType, Schema

    specs = [ColSpec(DataType.string, spec.name, required=spec.required)
             if spec.name in model.categories_ else spec for spec in signature.inputs.inputs]
    return ModelSignature(inputs=Schema(specs), outputs=signature.outputs)


def _register_once(name: str, model_uri: str, model_sha256: str) -> tuple[str, bool]:
    """The version of ``name`` carrying ``model_sha256``, registering ``model_uri`` as a
    new one (tagged with the hash) only if none does; and whether it registered.

    Checked and registered under the store lock, so parallel runs of one model register
    it once."""
    mlflow = mlflow_module()
    client = mlflow.MlflowClient()
    with _store_lock(mlflow.get_tracking_uri()):
        existing = _newest_with_sha(client, name, model_sha256)
        if existing is not None:
            return str(existing.version), False
        version = str(mlflow.register_model(model_uri, name).version)
        client.set_model_version_tag(name, version, MODEL_SHA_TAG, model_sha256)
    return version, True


def _newest_with_sha(client: Any, name: str, model_sha256: str) -> Any | None:
    """The newest version of ``name`` tagged with ``model_sha256`` (None if none, or no
    such registered model)."""
    try:
        versions = client.search_model_versions(f"name='{name}'")
    except mlflow_module().exceptions.MlflowException:
        return None
    matches = [v for v in versions if v.tags.get(MODEL_SHA_TAG) == model_sha256]
    return max(matches, key=lambda v: int(v.version)) if matches else None


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{pkg}=={version(pkg)}" for pkg in
            ("churnml", "lightgbm", "pandas", "numpy", "scikit-learn", "mlflow")]

def log_evaluation(cfg: dict[str, Any], run_id: str, metrics: dict[str, float],
                   artifacts: list[Path]) -> None:
    """Add test metrics and plot files to an existing training run."""
    mlflow = mlflow_module()
    _setup(cfg)
    with mlflow.start_run(run_id=run_id):
        mlflow.log_metrics(metrics)
        for path in artifacts:
            mlflow.log_artifact(str(path), artifact_path="evaluation")

def promote_if_better(cfg: dict[str, Any], name: str, version: str, metric: str, value: float,
                      min_improvement: float) -> dict[str, Any]:
    """Point the champion alias at ``version`` if it beats the current champion.

    Beating means ``value`` above the champion's by more than ``min_improvement`` for
    higher-is-better metrics (``roc_auc``, ...), below it by more than that for
    ``brier`` and ``ece``. The decision and its reason are recorded as tags on the
    model version. An undefined ``value`` (NaN: e.g. a one-class test set) is never
    promoted, and a champion whose recorded value is undefined gives way to any defined
    one. An unknown ``metric`` raises :class:`~churnml.errors.ConfigError`.
    """
    lower = lower_is_better(metric)
    mlflow = mlflow_module()
    _setup(cfg)
    client = mlflow.MlflowClient()
    alias = cfg["champion_alias"]
    with _store_lock(resolve_uri(cfg)):  # read, compare and move the alias as one step
        client.set_model_version_tag(name, version, f"test_{metric}", repr(float(value)))
        try:
            current = client.get_model_version_by_alias(name, alias)
        except mlflow.exceptions.MlflowException:
            current = None
        if not math.isfinite(value):
            promoted, reason = False, f"test {metric} is undefined ({value})"
        elif current is None or str(current.version) == str(version):
            promoted, reason = True, "no champion yet" if current is None else "already champion"
        else:
            best = float(current.tags.get(f"test_{metric}", "nan"))
            if not math.isfinite(best):  # not recorded, or undefined: any defined value wins
                best = math.inf if lower else -math.inf
            promoted = (value < best - min_improvement if lower
                        else value > best + min_improvement)
            need = f"< -{min_improvement}" if lower else f"> +{min_improvement}"
            reason = (f"test {metric} {value:.4f} vs champion v{current.version} {best:.4f}"
                      f" (needs {need})")
        if promoted:
            client.set_registered_model_alias(name, alias, version)
        client.set_model_version_tag(name, version, "promotion", ("promoted: " if promoted else
                                                                  "not promoted: ") + reason)
    log.info("%s v%s %s (%s)", name, version, "promoted" if promoted else "not promoted", reason)
    return {"promoted": promoted, "reason": reason}

def find_version(cfg: dict[str, Any], name: str, model_sha256: str) -> dict[str, Any] | None:
    """The newest registered version of ``name`` whose model file has this sha256.

    Model files are deterministic, so their hash (not a random run id kept on disk)
    links a DVC output to its MLflow run and registered version.
    """
    _setup(cfg)
    newest = _newest_with_sha(mlflow_module().MlflowClient(), name, model_sha256)
    if newest is None:
        return None
    return {"run_id": newest.run_id, "name": name, "version": str(newest.version)}
