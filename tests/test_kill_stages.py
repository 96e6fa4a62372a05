"""`kill -9` the ingest and features stages at random points: a final output path never
holds a partial file, ingest's manifest never describes files that are not there, and
a clean rerun sweeps the temp files and gives the same outputs as an uninterrupted run.

Ingest alternates between two raw worlds (different seeds), so a mix of two runs'
tables would be caught; the kill delays are uniform over a calibrated run time, half
of them over its last third, where the files are written.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from churnml import io
from tests.scoring_world import env
from tests.scoring_world import run as run_ok

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("kill_stages")]
KILLS_PER_STAGE = 12
MAX_ATTEMPTS = 30
SEED = 20261124
WORLD = ["--customers", "200", "--months", "12"]
INGEST_FILES = ("customers.parquet", "transactions.parquet", "events.parquet",
                "incidents.parquet", "campaigns.parquet", "quarantine.parquet", "manifest.json")
FEATURES = Path("data/features/features.parquet")


@pytest.fixture(scope="module")
def world(project_root, tmp_path_factory) -> Path:
    """Two tiny raw worlds, a params file, and the first world ingested to data/interim."""
    root = tmp_path_factory.mktemp("kill_world")
    run_ok(["churnml", "compose", "--conf", str(project_root / "conf"), "--out", "params.yaml"],
           root)
    for name, seed in (("raw_a", "1"), ("raw_b", "2")):
        run_ok(["churnml", "simulate", *WORLD, "--seed", seed, "--out", name], root)
    run_ok(["churnml", "ingest", "--data", "raw_a", "--out", "data/interim"], root)
    return root


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(["churnml", *args], cwd=cwd, env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(proc: subprocess.Popen, marker: str | None) -> None:
    """Read the log until ``marker`` (or the end); the rest is drained in a thread."""
    if marker is not None:
        for line in proc.stderr:
            if marker in line:
                break
    threading.Thread(target=proc.stderr.read, daemon=True).start()


def _timed(args: list[str], cwd: Path, marker: str | None = None) -> tuple[float, float]:
    """Run time, and the time from the log ``marker`` to the end (the write phase)."""
    start = time.monotonic()
    proc = _start(args, cwd)
    _wait_for(proc, marker)
    marked = time.monotonic()
    assert proc.wait(timeout=600) == 0, args
    end = time.monotonic()
    return end - start, end - marked


def _kill_after(args: list[str], cwd: Path, delay: float, marker: str | None = None) -> bool:
    """Start, SIGKILL ``delay`` seconds after start (or after the log ``marker``); True if
    it was still running."""
    proc = _start(args, cwd)
    if marker is None:
        threading.Thread(target=proc.stderr.read, daemon=True).start()
    else:
        _wait_for(proc, marker)
    time.sleep(delay)
    alive = proc.poll() is None
    if alive:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    return alive


def _hashes(folder: Path, names: tuple[str, ...]) -> dict[str, str]:
    return {n: io.sha256_file(folder / n) for n in names if (folder / n).is_file()}


def _temp_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp"))


def _delays(rng: np.random.Generator, total: float) -> float:
    return float(rng.uniform(0.66 * total, total) if rng.random() < 0.5 else
                 rng.uniform(0, total))


WRITE_MARKER = "campaigns: "  # ingest logs each table's counts, campaigns last, then writes


def test_kill_minus_9_during_ingest_never_leaves_partial_or_mixed_output(world):
    refs = {}
    for raw in ("raw_a", "raw_b"):
        out = world / f"ref_{raw}"
        refs[raw] = (_timed(["ingest", "--data", raw, "--out", str(out)], world, WRITE_MARKER),
                     _hashes(out, INGEST_FILES))
    complete = {n: {h[n] for _, h in refs.values() if n in h} for n in INGEST_FILES}
    assert len(complete["customers.parquet"]) == len(complete["transactions.parquet"]) == 2
    out = world / "interim_kill"
    shutil.copytree(world / "ref_raw_a", out)
    rng, kills, debris = np.random.default_rng(SEED), 0, 0
    for attempt in range(MAX_ATTEMPTS):
        raw = ("raw_a", "raw_b")[attempt % 2]
        total, writing = refs[raw][0]
        args = ["ingest", "--data", raw, "--out", str(out)]
        if attempt % 3 == 2:  # one kill in three lands in the write phase
            kills += _kill_after(args, world, float(rng.uniform(0, writing)), WRITE_MARKER)
        else:
            kills += _kill_after(args, world, _delays(rng, total))
        current = _hashes(out, INGEST_FILES)
        for name, digest in current.items():
            assert digest in complete[name], f"{name} is not a complete run's file"
        if "manifest.json" in current:
            listed = io.read_json(out / "manifest.json")["outputs"]
            assert {n: e["sha256"] for n, e in listed.items()} == {
                n: d for n, d in current.items() if n != "manifest.json"}
        debris += bool(_temp_files(out))
        if kills >= KILLS_PER_STAGE:
            break
    assert kills >= KILLS_PER_STAGE
    assert _start(["ingest", "--data", "raw_b", "--out", str(out)], world).wait(600) == 0
    assert _hashes(out, INGEST_FILES) == refs["raw_b"][1] and _temp_files(out) == []
    print(f"ingest kill test: {attempt + 1} runs, {kills} killed, temp debris after {debris}")


def test_kill_minus_9_during_features_never_leaves_a_partial_file(world):
    target = world / FEATURES
    total, _ = _timed(["features"], world)
    reference = io.sha256_file(target)
    rng, kills, debris = np.random.default_rng(SEED + 1), 0, 0
    for attempt in range(MAX_ATTEMPTS):
        if attempt % 3 == 0:
            target.unlink(missing_ok=True)  # also runs with no previous file to fall back on
        kills += _kill_after(["features"], world, _delays(rng, total))
        assert not target.exists() or io.sha256_file(target) == reference
        debris += bool(_temp_files(target.parent))
        if kills >= KILLS_PER_STAGE:
            break
    assert kills >= KILLS_PER_STAGE
    assert _start(["features"], world).wait(600) == 0
    assert io.sha256_file(target) == reference and _temp_files(target.parent) == []
    print(f"features kill test: {attempt + 1} runs, {kills} killed, temp debris after {debris}")
