"""Shared fixtures: tiny hand-built frames and the project root."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def require_spark() -> None:
    """Skip the calling test without PySpark or a Java runtime (Spark is optional)."""
    import shutil

    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime")


def local_spark_engine(master: str, warehouse: Path) -> dict:
    """``conf/engine/spark.yaml`` in local mode on ``master`` (see :func:`require_spark`)."""
    import yaml

    require_spark()
    engine = yaml.safe_load((ROOT / "conf" / "engine" / "spark.yaml").read_text())
    engine["master"] = master
    engine["conf"]["spark.sql.warehouse.dir"] = str(warehouse)
    return engine


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The repository root (tests never depend on the working directory)."""
    return ROOT


@pytest.fixture(scope="session")
def tiny_pipeline(project_root, tmp_path_factory) -> Path:
    """A copy of the repository after ``dvc repro`` on a tiny world (built once per
    session; see :mod:`tests.tiny_pipeline`). Tests may run more commands in it."""
    from tests.tiny_pipeline import build

    return build(project_root, tmp_path_factory.mktemp("tiny_pipeline"))


def make_classification_frame(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A small churn-like frame: risk rises with recency, falls with frequency."""
    rng = np.random.default_rng(seed)
    recency = rng.exponential(40, n)
    frequency = rng.poisson(5, n).astype(float)
    region = rng.choice(["north", "south", "east"], n)
    logit = -2.0 + 0.03 * recency - 0.2 * frequency + (region == "south") * 0.8
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({
        "recency_days": recency, "frequency": frequency, "region": region,
        "tenure_days": recency + rng.exponential(200, n), "monetary": frequency * 30.0,
    })
    return frame, y


@pytest.fixture
def classification_data() -> tuple[pd.DataFrame, np.ndarray]:
    """Features and labels for classifier tests."""
    return make_classification_frame()
