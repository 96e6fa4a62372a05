"""The CLI: documented exit codes and one-line errors, never a traceback."""

from __future__ import annotations

import pandas as pd
import pytest

from churnml.cli import build_parser, main


def test_every_design_command_exists():
    commands = build_parser()._subparsers._group_actions[0].choices
    for name in ("compose", "simulate", "validate", "ingest", "features", "labels", "train",
                 "evaluate", "score"):
        assert name in commands


def test_missing_params_file_exits_2_with_a_hint(tmp_path, capsys):
    assert main(["--params", str(tmp_path / "params.yaml"), "features"]) == 2
    err = capsys.readouterr()
    text = err.err + err.out
    assert "churnml compose" in text and "Traceback" not in text


def test_score_with_missing_model_folder_exits_2(tmp_path, project_root, capsys):
    code = main(["--params", str(project_root / "params.yaml"), "score", "--data",
                 str(tmp_path), "--model", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "not found" in capsys.readouterr().err


def test_compose_writes_params_with_overrides(tmp_path, project_root):
    out = tmp_path / "params.yaml"
    assert main(["compose", "--conf", str(project_root / "conf"), "--out", str(out),
                 "labels.horizon_days=45"]) == 0
    assert "horizon_days: 45" in out.read_text()


def test_simulate_then_validate_a_small_world(tmp_path, project_root):
    params = str(project_root / "params.yaml")
    out = tmp_path / "world"
    assert main(["--params", params, "simulate", "--customers", "200", "--months", "12",
                 "--seed", "3", "--out", str(out)]) == 0
    for table in ("customers", "transactions", "events", "incidents", "campaigns"):
        assert (out / f"{table}.parquet").is_file()
    assert (out / "truth" / "customers.parquet").is_file()
    assert len(pd.read_parquet(out / "customers.parquet")) == 200
    assert main(["--params", params, "validate", "--data", str(out)]) == 0


@pytest.mark.parametrize("argv", [["train", "nonsense"], ["no-such-stage"]])
def test_bad_arguments_exit_2(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
