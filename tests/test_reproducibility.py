"""Two clean copies, one `dvc repro` each: the same outputs, byte for byte (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.tiny_pipeline import build, built_lock

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]


def output_hashes(lock: Path) -> dict[tuple[str, str], str]:
    """``(stage, path) -> md5`` of every output recorded in a ``dvc.lock``."""
    stages = yaml.safe_load(lock.read_text(encoding="utf-8"))["stages"]
    return {(name, out["path"]): out["md5"]
            for name, body in stages.items() for out in body.get("outs", [])}


def test_a_second_clean_copy_reproduces_every_output(tiny_pipeline, project_root, tmp_path):
    first = output_hashes(built_lock(tiny_pipeline))
    second = output_hashes(build(project_root, tmp_path / "second") / "dvc.lock")
    assert len(first) >= 20
    differ = sorted(key for key in first if first[key] != second.get(key))
    assert not differ, f"outputs that differ between two clean copies: {differ}"
    assert first.keys() == second.keys()
