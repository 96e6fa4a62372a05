"""conf/ is the source of truth; params.yaml must be its composition."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from churnml import config
from churnml.errors import ConfigError


def test_params_yaml_matches_composed_conf(project_root):
    composed = config.compose(project_root / "conf")
    committed = yaml.safe_load((project_root / "params.yaml").read_text())
    assert committed == composed, "params.yaml is stale: run `churnml compose` and commit it"


def test_compose_applies_overrides(project_root):
    params = config.compose(project_root / "conf", ["labels.horizon_days=60",
                                                     "model.attrition.learning_rate=0.1"])
    assert params["labels"]["horizon_days"] == 60
    assert params["model"]["attrition"]["learning_rate"] == 0.1


def test_compose_rejects_unknown_group_with_config_error(project_root):
    with pytest.raises(ConfigError, match="no_such_source"):
        config.compose(project_root / "conf", ["data=no_such_source"])


def test_dump_then_load_round_trips(tmp_path, project_root):
    params = config.compose(project_root / "conf")
    path = tmp_path / "params.yaml"
    path.write_text(config.dump_params(params))
    assert config.load_params(path) == params


def test_select_keeps_only_declared_keys():
    params = {"a": {"b": 1, "c": 2}, "d": 3}
    assert config.select(params, ["a.b", "d"]) == {"a": {"b": 1}, "d": 3}


def test_missing_key_names_the_key():
    with pytest.raises(ConfigError, match=r"'a\.x'"):
        config.get({"a": {"b": 1}}, "a.x.y")


def test_missing_params_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="churnml compose"):
        config.load_params(tmp_path / "params.yaml")


@pytest.mark.parametrize("data", sorted(
    p.stem for p in (Path(__file__).resolve().parents[1] / "conf" / "data").glob("*.yaml")))
def test_cause_typing_reads_a_complaint_outcome_when_the_features_do(project_root, data):
    # A complaint's resolved flag is known resolution_delay_days after the complaint;
    # the segments' resolved_complaint signal must not read it any earlier.
    params = config.compose(project_root / "conf", [f"data={data}"])
    complaint = params["features"]["experience"]["complaint_event"]
    delays = {spec["known_after_days"] for spec in params["segments"]["causes"]["value_signals"]
              if spec["event_type"] == complaint}
    assert delays == {params["features"]["experience"]["resolution_delay_days"]}
