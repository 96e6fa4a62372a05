"""A tiny project world for the scoring-job tests, built once per test process.

The world is made the way a user makes it: ``churnml compose`` with small-world
overrides, then every DVC stage command before ``score``, in dvc.yaml order, in a
temporary folder with its own MLflow database.
"""

from __future__ import annotations

import atexit
import functools
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OVERRIDES = ["data.world.customers=400", "data.world.months=30",
             "evaluate.bootstrap_samples=20"]


def env() -> dict[str, str]:
    """The environment for churnml subprocesses: this venv first, no outside MLflow."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    clean["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{clean.get('PATH', '')}"
    return clean


def run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run a command in ``cwd``; fail with its output if it fails."""
    done = subprocess.run(args, cwd=cwd, env=env(), capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{args} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done


def stage_commands() -> list[list[str]]:
    """The dvc.yaml stage commands that come before ``score``."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return [shlex.split(stage["cmd"]) for name, stage in stages.items() if name != "score"]


@functools.cache
def world() -> Path:
    """Build the world once; return its folder (holds params.yaml, data/, models/)."""
    folder = Path(tempfile.mkdtemp(prefix="churnml-score-world-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    run(["churnml", "compose", "--conf", str(ROOT / "conf"), "--out", "params.yaml",
         *OVERRIDES], folder)
    for command in stage_commands():
        run(command, folder)
    return folder


def snapshot_dates(folder: Path) -> list[str]:
    """The last two snapshot dates of the world's features (ISO dates)."""
    import pandas as pd

    dates = pd.read_parquet(folder / "data/features/features.parquet", columns=["as_of"])
    return [str(d.date()) for d in sorted(dates["as_of"].unique())[-2:]]
