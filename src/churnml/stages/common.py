"""Helpers shared by stages: params by declared keys, reading canonical tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from churnml import config
from churnml.errors import ContractError

INTERIM_DIR = Path("data/interim")
FEATURES_FILE = Path("data/features/features.parquet")
LABELS_FILE = Path("data/features/labels.parquet")
MODELS_DIR = Path("models")
REPORTS_DIR = Path("reports")
SCORED_DIR = Path("data/scored")


def stage_params(path: Path | str, keys: list[str]) -> dict[str, Any]:
    """Load ``params.yaml`` and keep only the declared ``keys``."""
    return config.select(config.load_params(path), keys)


def read_raw_table(folder: Path, name: str) -> tuple[pd.DataFrame, str] | None:
    """Read ``<name>.parquet`` or ``<name>.csv`` from ``folder`` (CSV as text, parsed later)."""
    for suffix in (".parquet", ".csv"):
        path = folder / f"{name}{suffix}"
        if path.is_file():
            try:
                if suffix == ".parquet":
                    return pd.read_parquet(path), str(path)
                return pd.read_csv(path, dtype=str, keep_default_na=False,
                                   na_values=[""], encoding="utf-8"), str(path)
            except (ValueError, OSError, UnicodeDecodeError) as exc:
                raise ContractError(str(path), None, f"cannot read file ({type(exc).__name__})",
                                    examples=str(exc)[:120]) from exc
    return None


def model_file(kind: str, models_dir: Path = MODELS_DIR) -> Path:
    """Where the ``attrition`` or ``winback`` model JSON lives."""
    return models_dir / kind / "model.json"
