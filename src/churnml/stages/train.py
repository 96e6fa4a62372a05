"""Stages ``train_attrition`` and ``train_winback``: fit, save, log to MLflow, register."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from churnml import drift, io, provenance, snapshot
from churnml.errors import ConfigError
from churnml.features import FEATURE_KEY, feature_columns
from churnml.leakage import refuse_outcome_columns
from churnml.models import ChurnClassifier, time_split
from churnml.segment_features import join_segments
from churnml.stages.common import SEGMENTS_FILE, model_file

log = logging.getLogger(__name__)
KINDS = {"attrition": "active", "winback": "lapsed"}
EXAMPLE_ROWS = 5


def params_for(kind: str) -> list[str]:
    """The params.yaml keys the training of ``kind`` reads."""
    return ["model.split", "model.seed", "model.calibration", f"model.{kind}",
            f"model.segment_features.{kind}", "labels.horizon_days", "tracking", "data.mode",
            "data.snapshot"]


def training_frame(features: pd.DataFrame, labels: pd.DataFrame, kind: str,
                   split_cfg: dict[str, Any], horizon_days: int,
                   data_cfg: dict[str, Any] | None = None) -> pd.DataFrame:
    """Labelled rows of the right status, with a ``role`` column from the time split
    (in snapshot mode, ``data_cfg['mode'] == 'snapshot'``, a stratified random split).

    Parameters
    ----------
    features
        ``customer_id, as_of`` plus feature columns.
    labels
        ``customer_id, as_of, status, attrition, winback``.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown model kind {kind!r}; choose one of {sorted(KINDS)}")
    rows = labels.loc[labels["status"] == KINDS[kind], [*FEATURE_KEY, kind]]
    frame = features.merge(rows, on=FEATURE_KEY, how="inner", validate="one_to_one")
    frame = frame.rename(columns={kind: "target"}).astype({"target": "int8"})
    if data_cfg is not None and snapshot.is_snapshot(data_cfg):
        frame["role"] = snapshot.snapshot_roles(frame, data_cfg["snapshot"])
        return frame
    frame["role"] = time_split(frame["as_of"], horizon_days, int(split_cfg["test_snapshots"]),
                               int(split_cfg["validation_snapshots"]))
    return frame


def fit_model(frame: pd.DataFrame, model_cfg: dict[str, Any], calibration: str,
              seed: int) -> ChurnClassifier:
    """Fit on the train rows, early-stopping and calibrating on the validation rows."""
    columns = [c for c in feature_columns(frame) if c not in ("target", "role")]
    refuse_outcome_columns(columns, "the training frame (features + segment features)")
    train, valid = frame[frame["role"] == "train"], frame[frame["role"] == "validation"]
    model = ChurnClassifier(**model_cfg, calibration=calibration, random_state=seed)
    return model.fit(train[columns], train["target"], eval_set=(valid[columns], valid["target"]))


def skip_model(kind: str, models_dir: Path) -> dict[str, Any]:
    """Snapshot mode has no win-back model: leave a note instead of a model file."""
    model_file(kind, models_dir).unlink(missing_ok=True)
    reason = "snapshot mode: no one is observed coming back, so no win-back model"
    io.write_json({"kind": kind, "skipped": reason}, models_dir / kind / snapshot.SKIPPED_FILE)
    log.info("%s: skipped (%s)", kind, reason)
    return {}


def write_profile(frame: pd.DataFrame, model: ChurnClassifier, path: Path) -> Path:
    """Save the drift profile of the training rows next to the model file ``path``."""
    rows = frame[frame["role"] == "train"]
    profile = drift.training_profile(rows[list(model.feature_names_in_)],
                                     snapshots=rows["as_of"])
    profile["model_sha256"] = io.sha256_file(path)
    return io.write_json(profile, path.with_name(drift.PROFILE_FILE))


def with_segment_features(features: pd.DataFrame, segments_file: Path, kind: str,
                          params: dict[str, Any]) -> pd.DataFrame:
    """The features plus the segment columns ``model.segment_features.<kind>`` names."""
    columns = list(params["model"]["segment_features"][kind] or [])
    if not columns:
        return features
    if snapshot.is_snapshot(params["data"]):
        raise ConfigError(f"model.segment_features.{kind} = {columns}: segment features "
                          "need event-log data; set it to [] in snapshot mode")
    return join_segments(features, io.read_parquet(segments_file), columns)


def run(kind: str, features_file: Path, labels_file: Path, models_dir: Path,
        params: dict[str, Any], segments_file: Path | None = None) -> dict[str, Any]:
    """Train the ``kind`` model, write it, and log and register it in MLflow.

    ``segments_file`` (the segments stage's table) supplies the segment features.
    """
    from churnml import tracking

    if snapshot.is_snapshot(params["data"]) and kind not in snapshot.KINDS:
        return skip_model(kind, models_dir)
    (models_dir / kind / snapshot.SKIPPED_FILE).unlink(missing_ok=True)
    features, labels = io.read_parquet(features_file), io.read_parquet(labels_file)
    features = with_segment_features(features, segments_file or SEGMENTS_FILE, kind, params)
    cfg = params["model"]
    frame = training_frame(features, labels, kind, cfg["split"], params["labels"]["horizon_days"],
                           params["data"])
    model = fit_model(frame, cfg[kind], cfg["calibration"], int(cfg["seed"]))
    path = io.write_json(model.to_dict(), model_file(kind, models_dir))
    write_profile(frame, model, path)
    counts = frame["role"].value_counts().to_dict()
    log.info("%s: %s rows by role, best iteration %d", kind, counts, model.best_iteration_)
    example = frame.loc[frame["role"] == "test", list(model.feature_names_in_)].head(EXAMPLE_ROWS)
    flat = {f"{kind}.{k}": v for k, v in cfg[kind].items()}
    flat.update({"calibration": cfg["calibration"], "seed": cfg["seed"],
                 "horizon_days": params["labels"]["horizon_days"]})
    metrics = {f"rows_{role}": float(n) for role, n in counts.items()}
    metrics["best_iteration"] = float(model.best_iteration_)
    tags = {"git_commit": provenance.git_commit(), tracking.KIND_TAG: kind,
            tracking.MODEL_SHA_TAG: io.sha256_file(path),
            **{f"input_sha256.{Path(p).name}": h
               for p, h in provenance.input_hashes([features_file, labels_file]).items()}}
    run_info = tracking.log_training_run(
        params["tracking"], registered_name=params["tracking"][f"{kind}_model_name"],
        model_file=path, model=model, example=example, params=flat, metrics=metrics, tags=tags,
        config=params)
    return run_info
