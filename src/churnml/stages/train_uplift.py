"""Stage ``train_uplift``: offer-response (uplift) models from the campaign history.

Reads ``data/interim`` (campaigns, transactions, the ingest manifest) and the feature
snapshots ``data/features/features.parquet``; writes ``models/uplift/model.json`` (per
arm LightGBM booster text, see :mod:`churnml.models.uplift`) and
``models/uplift/metrics.json`` (validation Qini per arm and learner, rows per arm).
With ``offers.response_lines.enabled`` it also fits each offer's response lines on the
same rows (:mod:`churnml.offers.response_lines`; P(attrition) from ``models/attrition``,
lapsed causes from ``data/segments``) and writes ``models/uplift/response_lines.json``,
which the scoring job uses as the catalogue's priors.
Without a campaigns table, or in snapshot mode, it writes a model with no arms and the
reason: the offer engine then uses the catalogue's priors for every offer.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from churnml import calendar, io, snapshot
from churnml.labels import cancellation_event
from churnml.models import ChurnClassifier
from churnml.models.uplift import UpliftModel
from churnml.models.uplift_data import uplift_feature_columns, uplift_training_frame
from churnml.models.uplift_fit import fit_uplift
from churnml.offers.response_lines import campaign_response_rows, fit_response_lines
from churnml.segments.common import purchases
from churnml.status import cancelled_at

log = logging.getLogger(__name__)
PARAMS = ["offers.uplift", "offers.response_lines", "offers.catalogue", "offers.likely_cause",
          "segments.causes", "labels.horizon_days", "labels.lapse_days", "labels.attrition",
          "features", "engine", "data.mode"]
UPLIFT_DIR = "uplift"
MODEL_FILE = "model.json"
METRICS_FILE = "metrics.json"
LINES_FILE = "response_lines.json"
SEGMENTS_FILE = Path("segments") / "segments.parquet"


def model_path(models_dir: Path) -> Path:
    """Where the uplift model JSON lives."""
    return Path(models_dir) / UPLIFT_DIR / MODEL_FILE


def load_model(models_dir: Path) -> UpliftModel | None:
    """The trained uplift model, or None when there is none (priors apply)."""
    path = model_path(models_dir)
    if not path.is_file():
        return None
    model = UpliftModel.from_dict(io.read_json(path))
    return model if model.arms else None


def load_lines(models_dir: Path) -> dict[str, Any] | None:
    """The fitted response lines, or None (the catalogue's priors apply)."""
    path = model_path(models_dir).with_name(LINES_FILE)
    return io.read_json(path) if path.is_file() else None


def _no_history(models_dir: Path, reason: str) -> dict[str, Any]:
    log.info("train_uplift: %s; every offer uses its prior", reason)
    empty = UpliftModel([], {}, {}).to_dict() | {"skipped": reason}
    io.write_json(empty, model_path(models_dir))
    io.write_json({"skipped": reason}, model_path(models_dir).with_name(METRICS_FILE))
    io.write_json({"skipped": reason, "priors": {}}, model_path(models_dir).with_name(LINES_FILE))
    return {"skipped": reason}


def compute_features(interim_dir: Path, params: dict[str, Any]):
    """Features as of given days from the canonical tables (for stale campaign dates)."""
    from churnml.stages.features import compute

    def run(dates: list[pd.Timestamp]) -> pd.DataFrame:
        log.info("train_uplift: computing features as of %d send days", len(dates))
        return compute(interim_dir, dates, params["features"], params["engine"])

    return run


def run(interim_dir: Path, features_file: Path, models_dir: Path,
        params: dict[str, Any]) -> dict[str, Any]:
    """Build the uplift training rows, fit and select per arm, write the model."""
    if snapshot.is_snapshot(params["data"]):
        return _no_history(models_dir, "snapshot mode has no campaign history")
    if not (interim_dir / "campaigns.parquet").is_file():
        return _no_history(models_dir, "no campaigns table")
    campaigns = io.read_parquet(interim_dir / "campaigns.parquet")
    if campaigns.empty:
        return _no_history(models_dir, "the campaigns table has no rows")
    cfg, labels = params["offers"]["uplift"], params["labels"]
    manifest_file = interim_dir / "manifest.json"
    # outcomes are purchases: complete only while the horizon ends within the transactions
    tx_end = calendar.activity_end(calendar.recorded_ends(io.read_json(manifest_file),
                                                          str(manifest_file)))
    transactions = io.read_parquet(interim_dir / "transactions.parquet")
    frame = uplift_training_frame(
        campaigns, transactions, io.read_parquet(features_file),
        tx_end, int(labels["horizon_days"]),
        cfg | {"lapse_days": int(labels["lapse_days"])},
        compute=compute_features(interim_dir, params))
    if frame.empty or frame["role"].nunique() < 2:
        return _no_history(models_dir, "no campaign with a complete outcome horizon to "
                           "train and validate on")
    fit = fit_uplift(frame, uplift_feature_columns(frame), cfg)
    io.write_json(fit.model.to_dict(), model_path(models_dir))
    metrics = {"validation_qini": fit.validation, "rows": fit.rows,
               "learners": {a: s["learner"] for a, s in fit.model.arms.items()}}
    io.write_json(metrics, model_path(models_dir).with_name(METRICS_FILE))
    log.info("train_uplift: arms %s, learners %s", sorted(fit.model.arms), metrics["learners"])
    lines = response_lines(with_cancelled(frame, interim_dir, transactions, labels),
                           models_dir, interim_dir.parent, params)
    io.write_json(lines, model_path(models_dir).with_name(LINES_FILE))
    return metrics | {"response_line_cells": lines.get("cells", {})}


def with_cancelled(frame: pd.DataFrame, interim_dir: Path, transactions: pd.DataFrame,
                   labels: dict[str, Any]) -> pd.DataFrame:
    """``frame`` plus ``cancelled`` at each send day when cancellations decide status
    (:mod:`churnml.status`), so response lines see the scoring job's statuses."""
    event = cancellation_event(labels)
    if event is None:
        return frame
    events_file = interim_dir / "events.parquet"
    events = io.read_parquet(events_file) if events_file.is_file() else None
    return frame.assign(cancelled=cancelled_at(frame, "send_date", purchases(transactions),
                                               events, event))


def response_lines(frame: pd.DataFrame, models_dir: Path, data_dir: Path,
                   params: dict[str, Any]) -> dict[str, Any]:
    """Per-cause response lines fitted on the campaign rows (see
    :mod:`churnml.offers.response_lines`), or a reason why the priors stay."""
    offers = params["offers"]
    attrition = Path(models_dir) / "attrition" / MODEL_FILE
    if not offers["response_lines"]["enabled"]:
        return {"skipped": "offers.response_lines.enabled is false", "priors": {}}
    if not attrition.is_file():
        return {"skipped": "no attrition model", "priors": {}}
    segments = data_dir / SEGMENTS_FILE
    rows = campaign_response_rows(
        frame, ChurnClassifier.from_dict(io.read_json(attrition)),
        io.read_parquet(segments) if segments.is_file() else None,
        int(params["labels"]["lapse_days"]), params["segments"]["causes"],
        offers["likely_cause"])
    priors = {o: spec.get("prior") or {} for o, spec in offers["catalogue"].items()}
    return fit_response_lines(rows, priors, offers["response_lines"], offers["uplift"]["control"])
