"""Stage ``score`` and the batch scoring job: features as of a date -> scored list.

``run`` loads the models once (a folder, or ``models:/NAME@ALIAS`` resolved to one
version), computes features for one date, checks them for drift against the
training profile saved with each model, scores, checks the output rules, and
writes Parquet, CSV and ``summary.html`` atomically, ``manifest.json`` last
(see :mod:`churnml.stages.score_outputs`). Snapshot mode (``data.mode: snapshot``)
scores the customers table with the attrition model only.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from churnml import calendar, drift, io, scored_list, snapshot
from churnml.errors import ConfigError
from churnml.labels import cancellation_event
from churnml.leakage import refuse_outcome_columns
from churnml.models import ChurnClassifier
from churnml.progress import Steps
from churnml.report import build_summary, context_from
from churnml.scoring import score_customers
from churnml.segment_features import join_segments, model_segment_columns
from churnml.stages import score_enrich, score_inputs
from churnml.stages.common import MODELS_DIR, model_file
from churnml.stages.features import data_window, features_window, warn_ending_early
from churnml.stages.score_inputs import Subset
from churnml.stages.score_outputs import exclusive, publish, sweep
from churnml.status import ACTIVE, CANCELLED, LAPSED, status_of

log = logging.getLogger(__name__)
PARAMS = ["score", "features", "engine", "labels.lapse_days", "labels.attrition", "tracking",
          "data.mode",
          "data.snapshot", *score_enrich.PARAMS]
REGISTRY_PREFIX = "models:/"
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")  # --as-of: a day, written YYYY-MM-DD
STEPS = ("load models", "features", "drift check", "score", "check output", "summary", "write")
Scorer = Callable[[pd.DataFrame], pd.DataFrame]


def model_kinds(params: dict[str, Any]) -> tuple[str, ...]:
    """The models this run needs: both, or attrition only in snapshot mode."""
    return snapshot.KINDS if snapshot.is_snapshot(params["data"]) else ("attrition", "winback")


def load_models(model: str, params: dict[str, Any]) -> tuple[dict[str, ChurnClassifier],
                                                             dict[str, str]]:
    """Load the models from a models folder or a registry URI, each resolved once.

    ``model`` is a folder holding ``attrition/`` and ``winback/`` (as written by the
    train stages), or ``models:/NAME@ALIAS`` for the attrition model, in which case the
    win-back model is the registered win-back model under the same alias. Versions
    are ``NAME/VERSION``; a model not needed in this mode has version ``none``.

    Raises
    ------
    ConfigError
        A folder without the models; an unknown registered name or alias; a registered
        version of the wrong kind (``NAME`` a win-back model, say; see
        :func:`churnml.registry.registered_kind`).
    """
    kinds = model_kinds(params)
    versions = {"attrition": "none", "winback": "none"}
    if model.startswith(REGISTRY_PREFIX):
        from churnml import registry

        alias = model.split("@", 1)[1] if "@" in model else None
        if alias is None:
            raise ConfigError(f"--model {model}: give an alias, e.g. models:/NAME@champion")
        uris = {"attrition": model,
                "winback": f"{REGISTRY_PREFIX}{params['tracking']['winback_model_name']}@{alias}"}
        models = {}
        for kind in kinds:
            models[kind], versions[kind] = registry.load_registered(
                uris[kind], params["tracking"], kind=kind)
        return models, versions
    models = {}
    for kind in kinds:
        path = model_file(kind, Path(model))
        if not path.is_file():
            raise ConfigError(f"--model {model}: {path} not found (run `dvc repro` first?)")
        models[kind] = ChurnClassifier.from_dict(io.read_json(path))
        versions[kind] = _file_version(kind, path, params["tracking"])
    return models, versions


def _file_version(kind: str, path: Path, tracking_cfg: dict[str, Any]) -> str:
    """``NAME/VERSION`` of the registered model with this file's hash, else ``file:<sha>``."""
    from churnml import tracking

    sha = io.sha256_file(path)
    info = tracking.find_version(tracking_cfg, tracking_cfg[f"{kind}_model_name"], sha)
    return f"{info['name']}/{info['version']}" if info else f"file:{sha[:12]}"


def parse_date(as_of: str) -> pd.Timestamp:
    """``--as-of`` as a day (midnight), or a ConfigError saying it is not a date.

    Only ``YYYY-MM-DD``: pandas would guess a format (01/06/2025 as 6 January) and
    drop a time of day without a word.
    """
    text = str(as_of).strip()
    try:
        if not ISO_DAY.fullmatch(text):
            raise ValueError(text)
        return pd.Timestamp(dt.date.fromisoformat(text)).as_unit("us")
    except ValueError as exc:
        raise ConfigError(f"--as-of {as_of!r} is not a date written YYYY-MM-DD "
                          f"(e.g. 2025-06-01)") from exc


def resolve_as_of(as_of: str | None, data_dir: Path) -> pd.Timestamp:
    """The scoring date: the one given, else the end of the transactions.

    Raises
    ------
    ConfigError
        ``as_of`` is not a date, or falls outside the data: after the end of the
        transactions the features would read the days without purchase data as a silence
        (every customer would look as if they had stopped buying), even when another
        table (events) runs further; at or before the start there is no history.
    """
    start, end = features_window(data_dir)
    if not as_of:
        return end.as_unit("us")
    date = parse_date(as_of)
    if not start < date <= end:
        last_day = (end - pd.Timedelta(days=1)).date()
        raise ConfigError(
            f"--as-of {date.date()} is outside the data in {data_dir}, which runs from "
            f"{start.date()} to {last_day} (its last day is {last_day}: the "
            f"{calendar.ACTIVITY_TABLE} end on {end.date()}, so the latest date to score as "
            f"of is {end.date()}, the default): after the end of the {calendar.ACTIVITY_TABLE}"
            ", the days without purchase data would read as every customer going quiet, "
            "whatever the other tables hold; at or before the start there is no history")
    return date


def resolve_date(as_of: str | None, data_dir: Path, params: dict[str, Any]) -> pd.Timestamp:
    """The scoring date; in snapshot mode always the data's own date."""
    if not snapshot.is_snapshot(params["data"]):
        warn_ending_early(data_dir, params["features"]["snapshots"], "score")
        return resolve_as_of(as_of, data_dir)
    date = data_window(data_dir)[1].as_unit("us")
    if as_of and parse_date(as_of) != date:
        log.warning("snapshot mode scores as of the data's date %s; --as-of %s is ignored",
                    date.date(), as_of)
    return date


def rows_by_model(features: pd.DataFrame, params: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The rows each model will score: active -> attrition, lapsed -> win-back."""
    if snapshot.is_snapshot(params["data"]):
        return {"attrition": features}
    status = status_of(features, int(params["labels"]["lapse_days"])).to_numpy()
    return {"attrition": features[status == ACTIVE], "winback": features[status == LAPSED]}


def make_scorer(models: dict[str, ChurnClassifier], versions: dict[str, str],
                params: dict[str, Any], data_dir: Path,
                models_dir: Path = MODELS_DIR,
                segments: pd.DataFrame | None = None) -> Scorer:
    """The function that turns the feature frame into the scored list in this mode.

    In event-log mode the list gets segments (``segments``, else computed from
    ``data_dir``), reason codes and offers (:mod:`churnml.stages.score_enrich`);
    ``models_dir`` holds the uplift models.
    """
    cfg = params["score"]
    if snapshot.is_snapshot(params["data"]):
        customers = io.read_parquet(data_dir / "customers.parquet")
        return lambda f: snapshot.snapshot_scored(f, customers, models["attrition"], cfg,
                                                  params["data"]["snapshot"], versions)
    data_start = data_window(data_dir)[0]  # bounds each customer's history for `value`

    def scorer(features: pd.DataFrame) -> pd.DataFrame:
        scored = score_customers(features, models["attrition"], models["winback"],
                                 lapse_days=int(params["labels"]["lapse_days"]), cfg=cfg,
                                 versions=versions, data_start=data_start)
        return score_enrich.enrich(scored, features, models, params, data_dir, models_dir,
                                   segments)

    return scorer


def with_segments(features: pd.DataFrame, data_dir: Path, date: pd.Timestamp,
                  params: dict[str, Any], models: dict[str, ChurnClassifier]
                  ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The features plus the segment columns the models were trained with (and, in a
    contractual business, ``cancelled``, which decides status), and the segments as of
    ``date`` for the scored list (None in snapshot mode, which has none).

    Parameters
    ----------
    features
        One row per customer for ``date``.
    models
        The loaded models; each one's ``feature_names_in_`` names the segment columns
        it reads (``model.segment_features`` at training).
    """
    if snapshot.is_snapshot(params["data"]):
        return features, None
    trained_with = [c for m in models.values() for c in m.feature_names_in_]
    segments = score_enrich.segments_for(data_dir, date, params, keep=[*trained_with, CANCELLED])
    columns = {c for m in models.values() for c in model_segment_columns(m.feature_names_in_,
                                                                          segments)}
    if cancellation_event(params["labels"]):  # status: gone by cancellation is lapsed
        columns.add(CANCELLED)
    return join_segments(features, segments, sorted(columns)), segments


def offer_budget(params: dict[str, Any]) -> float | None:
    """``offers.budget`` for the summary's "budget used" tile; None when this run
    allocates no offers (snapshot mode, or no ``offers`` section)."""
    offers = params.get("offers")
    if snapshot.is_snapshot(params["data"]) or not offers or offers.get("budget") is None:
        return None
    return float(offers["budget"])


def score_and_write(features: pd.DataFrame, scorer: Scorer, profiles: dict[str, Any],
                    out_dir: Path, params: dict[str, Any], *, as_of: str,
                    versions: dict[str, str], steps: Steps,
                    manifest_fields: dict[str, Any]) -> pd.DataFrame:
    """Drift check, score, check the output rules, write the four files.

    Parameters
    ----------
    features
        One row per customer for one ``as_of`` (see :func:`churnml.scoring.score_customers`).
    scorer
        From :func:`make_scorer`.
    profiles
        Training profile per model kind (None when a model has none).
    manifest_fields
        Extra manifest entries (inputs, subset, ...).

    Returns
    -------
    DataFrame
        The scored list as written (whitelisted columns).
    """
    cfg = params["score"]
    with steps.step("drift check"):
        drift_results = drift.gate(rows_by_model(features, params), profiles, cfg["drift"])
    with steps.step("score"):
        scored = scorer(features)
    with steps.step("check output"):
        written = scored_list.select_columns(scored, list(cfg["columns"]))
        scored_list.check(written)
    with steps.step("summary"):
        ctx = context_from(as_of[:10], versions, cfg, drift_results,
                           manifest_fields.get("subset"), offer_budget(params))
        page = build_summary(scored, ctx)
    with steps.step("write"):
        # from the full list: score.columns need not include status
        status = {str(k): int(v) for k, v in
                  scored["status"].value_counts().sort_index().items()}
        publish(out_dir, written, page, {
            "as_of": as_of, "model_versions": versions, "status_counts": status,
            "drift": drift_results, "columns": list(written.columns),
            "score_config": {k: cfg[k] for k in sorted(cfg)}, **manifest_fields})
    log.info("scored %d customers as of %s (%s)", len(written), as_of[:10], status)
    return written


def run(data_dir: Path, model: str, as_of: str | None, out_dir: Path,
        params: dict[str, Any], *, subset: Subset | None = None,
        steps: Steps | None = None) -> pd.DataFrame:
    """Score every customer (or a quick-look ``subset``) as of ``as_of`` and write the
    scored list, summary and manifest to ``out_dir``."""
    steps = steps or Steps(STEPS)
    subset = subset or Subset()
    score_inputs.check_config(params)
    with exclusive(out_dir):
        sweep(out_dir)
        with steps.step("load models"):
            models, versions = load_models(model, params)
            profiles = score_inputs.load_profiles(model, models, params)
        date = resolve_date(as_of, data_dir, params)
        with steps.step("features"):
            features, total = score_inputs.features_for(data_dir, date, params, subset)
            refuse_outcome_columns(features.columns, f"features computed from {data_dir}")
            features, segments = with_segments(features, data_dir, date, params, models)
            score_inputs.check_model_inputs(features, models, versions, data_dir, params)
        models_dir = MODELS_DIR if model.startswith(REGISTRY_PREFIX) else Path(model)
        fields = {"inputs": score_inputs.input_hashes(data_dir),
                  "subset": subset.describe(len(features), total),
                  **score_inputs.offer_provenance(params, models_dir)}
        scorer = make_scorer(models, versions, params, data_dir, models_dir, segments)
        return score_and_write(features, scorer,
                               profiles, out_dir, params, as_of=date.isoformat(),
                               versions=versions, steps=steps, manifest_fields=fields)
