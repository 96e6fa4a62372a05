"""The whole DVC pipeline on a tiny world in a throw-away copy of the repository.

Shared by the slow end-to-end tests (``tests/test_pipeline_e2e.py``) and the notebook
tests (``tests/test_notebooks.py``) through the session fixture ``tiny_pipeline`` in
``tests/conftest.py``, so one test session builds it once. Both test modules carry
``xdist_group("e2e")``, so under ``pytest -n 2 --dist loadgroup`` they share a worker
(and the fixture) instead of building it twice at the same time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

TINY_WORLD = ["data.world.customers=600", "data.world.months=24"]


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None,
        timeout: int = 900) -> str:
    """Run a command of the venv in ``cwd``; fail the test with its output tail."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    base["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"
    done = subprocess.run(args, cwd=cwd, env={**base, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def copy_project(root: Path, dest: Path) -> Path:
    """Copy the tracked and untracked-but-not-ignored files of ``root`` into a new git repo."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=root, capture_output=True, text=True, check=True).stdout.split()
    for rel in listed:
        if (root / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, dest / rel)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=dest, check=True, capture_output=True)
    return dest


def build(root: Path, dest: Path) -> Path:
    """Copy the project to ``dest``, compose the tiny world and ``dvc repro`` it."""
    project = copy_project(root, dest)
    run(["churnml", "compose", *TINY_WORLD], project)
    run(["dvc", "repro"], project)
    # dvc.lock as built, before any test reruns stages with other params
    shutil.copy2(project / "dvc.lock", built_lock(project))
    return project


def built_lock(project: Path) -> Path:
    """Where :func:`build` keeps the project's ``dvc.lock`` as first built."""
    return project.parent / f"{project.name}.dvc.lock"
