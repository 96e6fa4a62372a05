"""End to end: the whole DVC pipeline on a tiny world in a throw-away copy of the repo."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.tiny_pipeline import TINY_WORLD
from tests.tiny_pipeline import run as _run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]


# train_uplift fits the offer response lines on P(attrition) from models/attrition.
ATTRITION_DEPENDANTS = {"train_attrition", "train_uplift", "evaluate", "score"}


def _ran(output: str) -> set[str]:
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}


@pytest.fixture(scope="module")
def project(tiny_pipeline) -> Path:
    """The session's tiny pipeline (shared with tests/test_notebooks.py)."""
    return tiny_pipeline


def test_pipeline_writes_scored_list_for_every_customer(project):
    scored = pd.read_parquet(project / "data/scored/scored_customers.parquet")
    csv = pd.read_csv(project / "data/scored/scored_customers.csv")
    customers = pd.read_parquet(project / "data/interim/customers.parquet")
    assert len(scored) == len(csv) == len(customers) == 600
    active = scored[scored["status"] == "active"]
    assert len(active) > 0 and active["p_attrition"].between(0, 1).all()
    assert (project / "data/scored/manifest.json").is_file()
    assert not {"name", "email", "phone"} & set(scored.columns)


def test_scored_list_explains_segments_and_offers(project):
    scored = pd.read_parquet(project / "data/scored/scored_customers.parquet")
    for column in ("ladder_rung", "lifecycle_stage", "churn_cause", "reason_1", "offer_id",
                   "expected_net_value", "holdout"):
        assert column in scored.columns, column
    assert scored["offer_id"].notna().all() and scored["ladder_rung"].notna().all()
    at_risk = scored[scored["risk_band"] == "high"]
    assert at_risk["reason_1"].notna().mean() > 0.5
    unexplained = (scored["risk_band"] == "low") & (scored["offer_id"] == "none")
    assert scored.loc[unexplained, "reason_1"].isna().all()  # reasons.explain: actionable
    no_spend = scored["ladder_rung"].isin(["terrorist", "toxic"])
    assert (scored.loc[no_spend, "offer_id"] == "none").all()


def test_metrics_and_plots_exist(project):
    out = _run(["dvc", "metrics", "show", "--json"], project)
    assert "roc_auc" in out
    assert (project / "reports/plots/attrition_roc.csv").is_file()


def test_second_repro_reruns_nothing(project):
    assert _ran(_run(["dvc", "repro"], project)) == set()


def test_changed_param_reruns_exactly_its_dependants(project):
    _run(["churnml", "compose", *TINY_WORLD, "model.attrition.learning_rate=0.08"], project)
    assert _ran(_run(["dvc", "repro"], project)) == ATTRITION_DEPENDANTS


def test_dvc_exp_run_with_hydra_override(project):
    _run(["git", "add", "-A"], project)
    _run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "lr"], project)
    overrides = [arg for kv in [*TINY_WORLD, "model.attrition.learning_rate=0.1"]
                 for arg in ("-S", kv)]
    out = _run(["dvc", "exp", "run", *overrides], project)
    assert _ran(out) == ATTRITION_DEPENDANTS
    assert "learning_rate: 0.1" in (project / "params.yaml").read_text()
