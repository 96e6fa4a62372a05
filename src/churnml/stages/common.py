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
SEGMENTS_FILE = Path("data/segments/segments.parquet")
MODELS_DIR = Path("models")
REPORTS_DIR = Path("reports")
SCORED_DIR = Path("data/scored")
RAW_SUFFIXES = (".parquet", ".csv", ".csv.gz")


def stage_params(path: Path | str, keys: list[str]) -> dict[str, Any]:
    """Load ``params.yaml`` and keep only the declared ``keys``."""
    return config.select(config.load_params(path), keys)


def read_raw_table(folder: Path, name: str) -> tuple[pd.DataFrame, str] | None:
    """Read ``<name>.parquet``, ``<name>.csv`` or ``<name>.csv.gz`` from ``folder``.

    CSV cells are read as text and parsed later; a file that cannot be read is a
    ContractError naming it. Returns None when the table is absent.
    """
    from churnml.contract import REQUIRED
    from churnml.sources.files import read_file

    found = [folder / f"{name}{suffix}" for suffix in RAW_SUFFIXES
             if (folder / f"{name}{suffix}").is_file()]
    if len(found) > 1:
        raise ContractError(str(folder), None, f"table '{name}' is given twice; keep one file",
                            examples=[p.name for p in found])
    return (read_file(found[0], expected=REQUIRED[name]), str(found[0])) if found else None


def model_file(kind: str, models_dir: Path = MODELS_DIR) -> Path:
    """Where the ``attrition`` or ``winback`` model JSON lives."""
    return models_dir / kind / "model.json"
