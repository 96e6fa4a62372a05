"""`churnml score` end to end on a tiny world: registry model resolved once, identical
bytes on rerun, quick looks, drift refusal with exit code 2."""

from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd
import pytest

from churnml import io
from churnml.stages.score_outputs import OUTPUT_FILES
from tests import scoring_world

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("score_world")]
CHAMPION = "models:/churnml-attrition@champion"


@pytest.fixture(scope="module")
def world():
    return scoring_world.world()


def score(world, out, *extra, data="data/interim") -> subprocess.CompletedProcess:
    as_of = scoring_world.snapshot_dates(world)[-1]
    return subprocess.run(["churnml", "score", "--data", data,
                           "--as-of", as_of, "--out", str(out), *extra], cwd=world,
                          env=scoring_world.env(), capture_output=True, text=True, timeout=300)


def hashes(out) -> dict[str, str]:
    return {name: io.sha256_file(out / name) for name in OUTPUT_FILES}


def test_champion_scoring_twice_gives_identical_files(world, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second, first):
        done = score(world, out, "--model", CHAMPION)
        assert done.returncode == 0, done.stderr[-2000:]
    assert hashes(first) == hashes(second)
    manifest = io.read_json(first / "manifest.json")
    version = manifest["model_versions"]["attrition"]
    assert version.startswith("churnml-attrition/")
    scored = pd.read_parquet(first / "scored_customers.parquet")
    assert (scored["attrition_model_version"] == version).all()
    assert manifest["drift"]["attrition"]["decision"] in ("ok", "warn")
    assert "Customer churn summary" in (first / "summary.html").read_text()


def test_model_folder_and_registry_give_the_same_scores(world, tmp_path):
    assert score(world, tmp_path / "reg", "--model", CHAMPION).returncode == 0
    assert score(world, tmp_path / "dir", "--model", "models").returncode == 0
    reg = pd.read_parquet(tmp_path / "reg/scored_customers.parquet")
    folder = pd.read_parquet(tmp_path / "dir/scored_customers.parquet")
    pd.testing.assert_series_equal(reg["p_attrition"], folder["p_attrition"])


def test_quick_look_scores_a_labelled_subset(world, tmp_path):
    done = score(world, tmp_path, "--model", "models", "--limit", "25")
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(pd.read_parquet(tmp_path / "scored_customers.parquet")) == 25
    assert "--limit 25" in io.read_json(tmp_path / "manifest.json")["subset"]
    assert "Quick look only" in (tmp_path / "summary.html").read_text()


def test_drift_beyond_thresholds_exits_2_naming_features_and_keeps_outputs(world, tmp_path):
    out = tmp_path / "out"
    assert score(world, out, "--model", "models").returncode == 0
    before = hashes(out)
    renamed = tmp_path / "interim"  # upstream renamed every region: unknown to the models
    shutil.copytree(world / "data/interim", renamed)
    customers = pd.read_parquet(renamed / "customers.parquet")
    customers["region"] = "Region " + customers["region"].astype(str).str.upper()
    customers.to_parquet(renamed / "customers.parquet", index=False)
    done = score(world, out, "--model", "models", data=str(renamed))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "drift check refused" in done.stderr
    assert re.search(r"region \(PSI [0-9.]+, 100\.0 % new categories\)", done.stderr)
    assert hashes(out) == before


@pytest.mark.parametrize(("model", "message"), [
    ("models:/churnml-winback@champion",
     r"--model models:/churnml-winback@champion: version \d+ of 'churnml-winback' is a "
     r"winback model .*the attrition model is expected"),
    ("models:/churnml-attrition@nosuch", r"has no alias 'nosuch'.*aliases: champion"),
    ("models:/churnml-atrition@champion", r"no registered model named 'churnml-atrition'"),
])
def test_a_wrong_registered_model_exits_2_and_writes_nothing(world, tmp_path, model, message):
    done = score(world, tmp_path, "--model", model)
    assert done.returncode == 2, done.stderr[-2000:]
    assert re.search(message, done.stderr) and "internal error" not in done.stderr
    assert not (tmp_path / "manifest.json").exists()


def test_a_raw_data_folder_exits_2_saying_it_is_not_an_ingest_output(world, tmp_path):
    done = score(world, tmp_path, "--model", "models", data="data/raw/synthetic")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "data/raw/synthetic is not an ingest output" in done.stderr


@pytest.mark.parametrize(("change", "message"), [
    ("drop plan", r"the attrition model \(churnml-attrition/\d+\) lacks column 'plan' of "
                  r"customers\.parquet"),
    ("no events", r"computed from events\.parquet, absent from"),
])
def test_data_without_a_model_input_exits_2_naming_it(world, tmp_path, change, message):
    interim = tmp_path / "interim"  # optional parts that ingest accepts when absent
    shutil.copytree(world / "data/interim", interim)
    if change == "drop plan":
        customers = pd.read_parquet(interim / "customers.parquet").drop(columns=["plan"])
        customers.to_parquet(interim / "customers.parquet", index=False)
    else:
        (interim / "events.parquet").unlink()
    done = score(world, tmp_path / "out", "--model", "models", data=str(interim))
    assert done.returncode == 2, done.stderr[-2000:]
    assert re.search(message, done.stderr) and "retrain without them" in done.stderr
