"""Stage ``score`` and the batch scoring job: features as of a date -> scored list."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from churnml import io
from churnml.errors import ConfigError
from churnml.models import ChurnClassifier
from churnml.scoring import score_customers
from churnml.stages.common import model_file
from churnml.stages.features import compute, data_window

log = logging.getLogger(__name__)
PARAMS = ["score", "features", "engine", "labels.lapse_days", "tracking"]
REGISTRY_PREFIX = "models:/"


def load_models(model: str, params: dict[str, Any]) -> tuple[dict[str, ChurnClassifier],
                                                             dict[str, str]]:
    """Load attrition and win-back models from a models folder or a registry URI.

    ``model`` is a folder holding ``attrition/`` and ``winback/`` (as written by the
    train stages), or ``models:/NAME@ALIAS`` for the attrition model, in which case the
    win-back model is the registered win-back model under the same alias.
    """
    if model.startswith(REGISTRY_PREFIX):
        from churnml import tracking

        alias = model.split("@", 1)[1] if "@" in model else None
        if alias is None:
            raise ConfigError(f"--model {model}: give an alias, e.g. models:/NAME@champion")
        winback_uri = f"{REGISTRY_PREFIX}{params['tracking']['winback_model_name']}@{alias}"
        attrition, v_att = tracking.load_registered(model, params["tracking"])
        winback, v_win = tracking.load_registered(winback_uri, params["tracking"])
        return {"attrition": attrition, "winback": winback}, {"attrition": v_att, "winback": v_win}
    folder = Path(model)
    models, versions = {}, {}
    for kind in ("attrition", "winback"):
        path = model_file(kind, folder)
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


def resolve_as_of(as_of: str | None, data_dir: Path) -> pd.Timestamp:
    """The scoring date: the one given, else the end of the data."""
    if as_of:
        try:
            return pd.Timestamp(as_of).normalize().as_unit("us")
        except ValueError as exc:
            raise ConfigError(f"--as-of {as_of!r} is not a date (use YYYY-MM-DD)") from exc
    return data_window(data_dir)[1].as_unit("us")


def run(data_dir: Path, model: str, as_of: str | None, out_dir: Path,
        params: dict[str, Any]) -> pd.DataFrame:
    """Score every customer as of ``as_of`` and write Parquet, CSV and the manifest."""
    cfg = params["score"]
    window = int(cfg["value_window_days"])
    if window not in [int(w) for w in params["features"]["windows_days"]]:
        raise ConfigError(f"score.value_window_days={window} must be one of "
                          f"features.windows_days={params['features']['windows_days']}")
    models, versions = load_models(model, params)
    date = resolve_as_of(as_of, data_dir)
    features = compute(data_dir, [date], params["features"], params["engine"])
    scored = score_customers(features, models["attrition"], models["winback"],
                             lapse_days=int(params["labels"]["lapse_days"]), cfg=cfg,
                             versions=versions)
    outputs = [io.write_parquet(scored, out_dir / "scored_customers.parquet"),
               io.write_csv(scored, out_dir / "scored_customers.csv")]
    inputs = {p.name: io.sha256_file(p) for p in sorted(data_dir.glob("*.parquet"))}
    io.write_manifest(out_dir / "manifest.json", outputs, rows=len(scored),
                      as_of=date.isoformat(), model_versions=versions, inputs=inputs,
                      status_counts=scored["status"].value_counts().sort_index().to_dict())
    log.info("scored %d customers as of %s (%s)", len(scored), date.date(),
             scored["status"].value_counts().to_dict())
    return scored
