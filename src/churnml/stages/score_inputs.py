"""Inputs of the scoring job: config checks, training profiles, features for one date,
quick-look subsets, input hashes."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from churnml import drift, io, snapshot
from churnml.errors import ConfigError, ContractError
from churnml.models import ChurnClassifier
from churnml.stages import train_uplift
from churnml.stages.common import MODELS_DIR, model_file
from churnml.stages.features import compute, data_window

log = logging.getLogger(__name__)
REGISTRY_PREFIX = "models:/"
MISSING_PROFILE_POLICIES = ("warn", "refuse")
# Optional canonical tables some features are computed from (DESIGN §4).
OPTIONAL_FEATURE_TABLES = ("events", "incidents")
SHOWN_COLUMNS = 5


@dataclass(frozen=True)
class Subset:
    """A quick look at some customers: the first ``limit`` by id, or ``sample`` at random."""

    limit: int | None = None
    sample: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.limit is not None and self.sample is not None:
            raise ConfigError("give --limit or --sample, not both")
        for name in ("limit", "sample"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"--{name} must be a positive number of customers")

    @property
    def active(self) -> bool:
        """Whether this is a subset at all."""
        return self.limit is not None or self.sample is not None

    def choose(self, ids: pd.Series) -> pd.Series:
        """The chosen customer ids, sorted (deterministic for a given seed)."""
        ordered = pd.Series(np.sort(ids.astype(str).unique()), dtype=object)
        if self.limit is not None:
            return ordered.head(self.limit)
        rng = np.random.default_rng(self.seed)
        picked = rng.choice(len(ordered), size=min(int(self.sample), len(ordered)), replace=False)
        return ordered.iloc[np.sort(picked)].reset_index(drop=True)

    def describe(self, chosen: int, total: int) -> str | None:
        """A sentence for the manifest and summary, or None for a full run."""
        if self.limit is not None:
            return f"first {chosen:,} of {total:,} customers by id (--limit {self.limit})"
        if self.sample is not None:
            return (f"{chosen:,} of {total:,} customers at random "
                    f"(--sample {self.sample}, seed {self.seed})")
        return None


def check_config(params: dict[str, Any]) -> None:
    """Fail early, with exit code 2, on score settings that cannot work."""
    cfg = params["score"]
    window = int(cfg["value_window_days"])
    if not snapshot.is_snapshot(params["data"]) and window not in [
            int(w) for w in params["features"]["windows_days"]]:
        raise ConfigError(f"score.value_window_days={window} must be one of "
                          f"features.windows_days={params['features']['windows_days']}")
    check_value_min_days(cfg, window)
    check_columns(cfg.get("columns"))
    policy = cfg["drift"].get("missing_profile", "warn")
    if policy not in MISSING_PROFILE_POLICIES:
        raise ConfigError(f"score.drift.missing_profile={policy!r}: use one of "
                          f"{list(MISSING_PROFILE_POLICIES)}")


def check_value_min_days(cfg: dict[str, Any], window: int) -> None:
    """``score.value_min_days`` (the shortest span a value is a run-rate over) must be a
    number of days in ``[1, value_window_days]``.

    Raises
    ------
    ConfigError
        Naming the setting, the rule and the value given.
    """
    if "value_min_days" not in cfg:
        raise ConfigError("score.value_min_days is missing from the params: recompose them "
                          "from conf/ with `churnml compose`")
    floor = cfg["value_min_days"]
    if isinstance(floor, bool) or not isinstance(floor, int | float) or not 1 <= floor <= window:
        raise ConfigError(f"score.value_min_days = {floor!r}: give a number of days from 1 to "
                          f"score.value_window_days ({window})")


def check_columns(columns: Any) -> None:
    """``score.columns`` must be a list of column names that includes ``customer_id``
    (the key the CRM joins on); names the scored list lacks are skipped at writing.

    Raises
    ------
    ConfigError
        Naming ``score.columns``, the rule and the value given.
    """
    if not isinstance(columns, list | tuple) or not all(isinstance(c, str) for c in columns):
        raise ConfigError(f"score.columns = {columns!r}: give a list of column names, e.g. "
                          "[customer_id, p_attrition, risk_band, offer_id]")
    if "customer_id" not in columns:
        raise ConfigError(f"score.columns = {list(columns)}: must include customer_id, the "
                          "key the CRM joins the scored list on")


def fingerprint(model: ChurnClassifier) -> str:
    """Identity of a loaded model's content (independent of where it was loaded from)."""
    import hashlib

    text = json.dumps(model.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_profiles(model: str, models: dict[str, ChurnClassifier],
                  params: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    """The training profile saved with each model, or None when there is none.

    For a models folder, ``<kind>/profile.json`` must name the sha256 of the
    ``model.json`` beside it. For ``models:/NAME@ALIAS``, the project's
    ``models/<kind>/`` profile is used when the model file there has the same
    content as the registered version.
    """
    registry = model.startswith(REGISTRY_PREFIX)
    folder = MODELS_DIR if registry else Path(model)
    return {kind: _profile(kind, loaded, folder, registry) for kind, loaded in models.items()}


def _profile(kind: str, loaded: ChurnClassifier, folder: Path,
             registry: bool) -> dict[str, Any] | None:
    path = model_file(kind, folder)
    profile_path = path.with_name(drift.PROFILE_FILE)
    if not (path.is_file() and profile_path.is_file()):
        log.warning("%s: no training profile at %s; drift cannot be checked", kind, profile_path)
        return None
    profile = io.read_json(profile_path)
    same_file = profile.get("model_sha256") == io.sha256_file(path)
    if registry and same_file:
        same_file = fingerprint(ChurnClassifier.from_dict(io.read_json(path))) == fingerprint(
            loaded)
    if not same_file:
        log.warning("%s: %s belongs to another model; drift cannot be checked", kind,
                    profile_path)
        return None
    return profile


def features_for(data_dir: Path, date: pd.Timestamp, params: dict[str, Any],
                 subset: Subset) -> tuple[pd.DataFrame, int]:
    """Features of every customer (or the subset) as of ``date``, and the customer count.

    The features are those of the ``features`` stage (same code, one date). A subset
    is taken by copying the chosen customers' rows of every table to a temporary
    folder first, so a quick look does not pay for the whole base.

    Raises
    ------
    ConfigError
        When there is no customers table or no customer signed up before ``date``.
    """
    customers_file = data_dir / "customers.parquet"
    if not customers_file.is_file():
        raise ConfigError(f"--data {data_dir}: no customers.parquet (canonical tables?)")
    total = pq.ParquetFile(customers_file).metadata.num_rows
    with tempfile.TemporaryDirectory(prefix="churnml-subset-") as tmp:
        source = _restricted_copy(data_dir, Path(tmp), subset) if subset.active else data_dir
        if snapshot.is_snapshot(params["data"]):
            frame = snapshot.snapshot_features(io.read_parquet(source / "customers.parquet"),
                                               date)
        else:
            frame = compute(source, [date], params["features"], params["engine"],
                            data_start=data_window(data_dir)[0])
    if frame.empty:
        raise ConfigError(f"no customer in {data_dir} signed up before {date.date()}")
    return frame.reset_index(drop=True), total


def check_model_inputs(features: pd.DataFrame, models: dict[str, ChurnClassifier],
                       versions: dict[str, str], data_dir: Path,
                       params: dict[str, Any]) -> None:
    """Refuse data that lacks inputs a model was trained with, before any scoring.

    Optional columns (``plan``) and tables (``events``) pass ``ingest`` when absent,
    but a model trained with them cannot score without them.

    Parameters
    ----------
    features
        The feature frame as scored (segment columns joined).
    models, versions
        The loaded models and their ``NAME/VERSION`` per kind.
    data_dir
        The canonical tables the features were computed from.

    Raises
    ------
    ContractError
        Naming each model (kind, version), its missing columns with the source table
        they come from where that is known, and the remedy.
    """
    lacking = {kind: [c for c in model.feature_names_in_ if c not in features.columns]
               for kind, model in models.items()}
    lines = [f"the {kind} model ({versions.get(kind, 'unversioned')}) lacks "
             f"{_sources(missing, data_dir, params)}"
             for kind, missing in lacking.items() if missing]
    if lines:
        raise ContractError(
            f"--data {data_dir}", None,
            "the data no longer has inputs the models were trained with: "
            + "; ".join(lines) + ". A model cannot score without its inputs: restore them "
            "upstream and rerun `churnml ingest`, or retrain without them (drop the column "
            "from features.categorical_attributes / numeric_attributes, or the family "
            "from the features config, then `dvc repro`)")


def _sources(missing: list[str], data_dir: Path, params: dict[str, Any]) -> str:
    """The missing columns grouped by where they come from, as one phrase."""
    cfg = params.get("features") or {}
    attributes = {*cfg.get("categorical_attributes", []), *cfg.get("numeric_attributes", [])}
    from_customers = [c for c in missing if c in attributes
                      or snapshot.is_snapshot(params["data"])]
    computed = [c for c in missing if c not in from_customers]
    parts = [f"column {c!r} of customers.parquet" for c in from_customers]
    if computed:
        absent = [f"{t}.parquet" for t in OPTIONAL_FEATURE_TABLES
                  if not (data_dir / f"{t}.parquet").is_file()]
        origin = (f"computed from {' / '.join(absent)}, absent from {data_dir}" if absent
                  else "features computed from the tables: is the features config the one "
                  "the model was trained with?")
        shown = ", ".join(computed[:SHOWN_COLUMNS]) + (
            f" and {len(computed) - SHOWN_COLUMNS} more" if len(computed) > SHOWN_COLUMNS
            else "")
        parts.append(f"{len(computed)} feature(s): {shown} ({origin})")
    return ", and ".join(parts)


def _restricted_copy(data_dir: Path, dest: Path, subset: Subset) -> Path:
    """Copy ``data_dir``'s tables to ``dest``, keeping only the chosen customers' rows."""
    ids = pq.read_table(data_dir / "customers.parquet", columns=["customer_id"])
    chosen = pa.array(subset.choose(ids.column("customer_id").to_pandas()).tolist())
    for path in sorted(data_dir.iterdir()):
        if path.suffix == ".parquet" and "customer_id" in pq.read_schema(path).names:
            table = pq.read_table(path)
            keep = pc.is_in(table.column("customer_id").cast(pa.string()), value_set=chosen)
            pq.write_table(table.filter(keep), dest / path.name)
        elif path.is_file():
            shutil.copy2(path, dest / path.name)
    return dest


def offer_provenance(params: dict[str, Any], models_dir: Path) -> dict[str, Any]:
    """What decides the offers, for the manifest (event-log mode; empty in snapshot mode).

    The ``offers`` config in full (budget, catalogue, seeds: what a reviewer asks first),
    the sha256 of the canonical JSON of the ``reasons`` and ``segments`` sections, and
    of each uplift file in ``models_dir`` (``absent`` when missing: the catalogue's
    priors apply, which is logged as a warning).
    """
    if snapshot.is_snapshot(params["data"]):
        return {}
    folder = train_uplift.model_path(models_dir).parent
    files = {name: io.sha256_file(folder / name) if (folder / name).is_file() else "absent"
             for name in (train_uplift.MODEL_FILE, train_uplift.LINES_FILE)}
    if "absent" in files.values():
        log.warning("no uplift model or response lines in %s (%s): offers use the "
                    "catalogue's priors there", folder, ", ".join(
                        name for name, sha in files.items() if sha == "absent"))
    config_sha = {section: hashlib.sha256(json.dumps(
        params.get(section), sort_keys=True, default=str).encode()).hexdigest()
        for section in ("reasons", "segments")}
    return {"offers_config": params["offers"], "config_sha256": config_sha,
            "uplift_files": files}


def input_hashes(data_dir: Path) -> dict[str, str]:
    """sha256 of each input table (and the ingest manifest) in ``data_dir``."""
    files = [*sorted(data_dir.glob("*.parquet")), data_dir / "manifest.json"]
    return {p.name: io.sha256_file(p) for p in files if p.is_file()}
