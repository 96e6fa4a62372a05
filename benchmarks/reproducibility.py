"""Two clean copies of the repository, `dvc repro` in each: are the outputs identical?

    python benchmarks/reproducibility.py --customers 600 --months 24

Extracts commit HEAD twice (``git archive``; each copy becomes a fresh git
repository), composes a world of the given size, runs `dvc repro` in both at once with
each copy's own ``src`` on ``PYTHONPATH``, compares the output hashes recorded in the
two ``dvc.lock`` files, then runs `dvc repro` again in the first copy and counts the
stages it reran (expected: 0).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def copy_tracked(dest: Path) -> None:
    """The files of commit HEAD in ``dest``, committed as a new repository."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "xf", "-"], cwd=dest, input=archive, check=True)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.name=r", "-c", "user.email=r@r", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=dest, check=True, capture_output=True)


def env_for(copy: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(copy / "src")
    return env


def output_hashes(lock: Path) -> dict[tuple[str, str], str]:
    stages = yaml.safe_load(lock.read_text(encoding="utf-8"))["stages"]
    return {(s, o["path"]): o["md5"] for s, body in stages.items() for o in body.get("outs", [])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=600)
    parser.add_argument("--months", type=int, default=24)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="churnml-repro-") as tmp:
        copies = [Path(tmp) / name for name in ("a", "b")]
        for copy in copies:
            copy_tracked(copy)
            subprocess.run(["churnml", "compose", f"data.world.customers={args.customers}",
                            f"data.world.months={args.months}"], cwd=copy, env=env_for(copy),
                           check=True, capture_output=True)
        runs = [subprocess.Popen(["dvc", "repro"], cwd=c, env=env_for(c),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for c in copies]
        if any(run.wait() != 0 for run in runs):
            print("dvc repro failed")
            return 1
        a, b = (output_hashes(c / "dvc.lock") for c in copies)
        same = sum(a[k] == b.get(k) for k in a)
        again = subprocess.run(["dvc", "repro"], cwd=copies[0], env=env_for(copies[0]),
                               capture_output=True, text=True, check=True).stdout
        rerun = sum(line.startswith("Running stage") for line in again.splitlines())
    print(f"outputs in dvc.lock: {len(a)}; identical in both copies: {same}")
    for key in sorted(k for k in a if a[k] != b.get(k)):
        print(f"  differs: {key}")
    print(f"stages rerun by a second dvc repro: {rerun}")
    return 0 if same == len(a) == len(b) and rerun == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
