"""Parallel writers (``dvc exp run --queue`` with several workers) share one sqlite store.

Without the store lock in ``churnml.tracking`` the first processes to open a new
store race its schema migration ("table runs already exists"), and two promotions
race the alias ("UNIQUE constraint failed: registered_model_aliases").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from churnml import registry

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("mlflow")]
WORKERS, RUNS = 4, 2
WORKER = """
import sys
from pathlib import Path
from churnml import io, tracking
from churnml.models import ChurnClassifier
sys.path.insert(0, sys.argv[3])
from tests.conftest import make_classification_frame
root, wid = Path(sys.argv[1]), int(sys.argv[2])
cfg = {"uri": f"sqlite:///{root}/mlflow.db", "experiment": "parallel",
       "artifact_location": str(root / "artifacts"), "champion_alias": "champion"}
for i in range(int(sys.argv[4])):
    X, y = make_classification_frame(seed=wid * 10 + i)
    model = ChurnClassifier(max_rounds=5 + i, min_child_samples=10).fit(X, y)
    path = io.write_json(model.to_dict(), root / f"model_{wid}_{i}.json")
    info = tracking.log_training_run(
        cfg, registered_name="parallel", model_file=path, model=model, example=X.head(3),
        params={"worker": wid, "run": i}, metrics={"x": 1.0},
        tags={tracking.MODEL_SHA_TAG: io.sha256_file(path)})
    tracking.promote_if_better(cfg, "parallel", info["version"], "roc_auc",
                               0.5 + wid / 100 + i / 1000, 0.0)
"""


def test_parallel_workers_log_register_and_promote_without_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    root = Path(__file__).resolve().parents[1]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path), str(w), str(root),
                               str(RUNS)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for w in range(1, WORKERS + 1)]
    outputs = [p.communicate(timeout=900) for p in procs]
    failed = [err[-2000:] for p, (_, err) in zip(procs, outputs, strict=True) if p.returncode]
    assert not failed, failed
    cfg = {"uri": f"sqlite:///{tmp_path}/mlflow.db", "champion_alias": "champion"}
    _, version = registry.load_registered("models:/parallel@champion", cfg)
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=cfg["uri"])
    versions = client.search_model_versions("name='parallel'")
    assert len(versions) == WORKERS * RUNS
    best = max(versions, key=lambda v: float(v.tags["test_roc_auc"]))
    assert version == f"parallel/{best.version}"  # the best of all, whatever the order
