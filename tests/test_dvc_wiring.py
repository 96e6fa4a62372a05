"""dvc.yaml declares what each stage really reads and writes."""

from __future__ import annotations

import shlex

import pytest
import yaml

from churnml.cli import build_parser
from churnml.stages import declared_params


def _stages(project_root) -> dict:
    return yaml.safe_load((project_root / "dvc.yaml").read_text())["stages"]


def test_pipeline_has_the_design_stages(project_root):
    names = set(_stages(project_root))
    for stage in ("ingest", "features", "labels", "evaluate", "score"):
        assert stage in names
    assert any(name.startswith("train") for name in names)


@pytest.mark.parametrize("name", ["ingest", "features", "labels", "segments",
                                  "train_attrition", "train_winback", "train_uplift", "evaluate",
                                  "score"])
def test_stage_params_equal_what_the_stage_reads(project_root, name):
    stage = _stages(project_root)[name]
    command = shlex.split(stage["cmd"])
    assert command[0] == "churnml"
    assert sorted(stage["params"]) == sorted(declared_params(command[1:]))


def test_every_stage_command_parses_and_declares_deps_and_outputs(project_root):
    parser = build_parser()
    for name, stage in _stages(project_root).items():
        parser.parse_args(shlex.split(stage["cmd"])[1:])
        assert stage.get("deps"), f"{name} declares no deps"
        assert stage.get("outs") or stage.get("metrics"), f"{name} declares no outputs"


def test_hydra_support_is_enabled(project_root):
    dvc_config = (project_root / ".dvc" / "config").read_text()
    assert "[hydra]" in dvc_config and "enabled = True" in dvc_config


def test_data_and_models_are_not_tracked_by_git(project_root):
    ignored = (project_root / ".gitignore").read_text().split()
    for path in ("/data/interim", "/data/features", "/data/scored", "mlflow.db"):
        assert path in ignored
