"""churnml.notebook_helpers: finding the project and the budget what-if."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from churnml import io
from churnml.errors import ConfigError
from churnml.notebook_helpers import (
    PROJECT_ENV,
    budget_summary,
    offers_at_budgets,
    project_root,
    scoring_offers_config,
)
from tests.offer_frames import offers_config, scored_frame


def _project(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dvc.yaml").write_text("stages: {}\n")
    return folder


def test_project_root_prefers_the_environment(tmp_path, monkeypatch):
    chosen = _project(tmp_path / "elsewhere")
    _project(tmp_path / "here")
    monkeypatch.setenv(PROJECT_ENV, str(chosen))
    assert project_root(tmp_path / "here") == chosen.resolve()


def test_project_root_finds_the_folder_or_its_parent(tmp_path, monkeypatch):
    monkeypatch.delenv(PROJECT_ENV, raising=False)
    project = _project(tmp_path / "project")
    (project / "notebooks").mkdir()
    assert project_root(project) == project.resolve()
    assert project_root(project / "notebooks") == project.resolve()


def test_project_root_without_a_project_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.setenv(PROJECT_ENV, str(tmp_path))
    with pytest.raises(ConfigError, match=PROJECT_ENV):
        project_root()


def test_a_larger_budget_never_chooses_less_value():
    # as offer_inputs returns it: with the scoring date, which keys the holdout draw
    scored = scored_frame(300, seed=3).assign(as_of=pd.Timestamp("2025-03-01"))
    cfg = offers_config()
    allocations = offers_at_budgets(scored, None, cfg, [100.0, 400.0, 1600.0])
    summary = budget_summary(allocations)
    assert list(summary.index) == [100.0, 400.0, 1600.0]
    assert (summary["spend"] <= summary.index.to_numpy() + 1e-9).all()
    chosen = allocations[allocations["offer_id"] != "none"]
    assert chosen.groupby("budget")["expected_net_value"].sum().is_monotonic_increasing
    assert summary["offers_sent"].iloc[-1] > summary["offers_sent"].iloc[0]
    one = allocations[allocations["budget"] == 400.0]
    assert len(one) == len(scored) and one["customer_id"].tolist() == scored["customer_id"].tolist()


def test_budget_summary_counts_holdouts_as_chosen_not_sent():
    allocations = pd.DataFrame({
        "budget": [10.0, 10.0, 10.0, 20.0],
        "offer_id": ["a", "a", "none", "b"],
        "holdout": [False, True, False, False],
        "offer_cost": [3.0, 3.0, 0.0, 5.0],
        "expected_net_value": [7.0, 6.0, 0.0, 4.0],
    })
    summary = budget_summary(allocations)
    assert summary.loc[10.0].to_dict() == {"offers_chosen": 2, "offers_sent": 1, "spend": 3.0,
                                           "expected_net_value": 7.0}
    assert summary.loc[20.0, "spend"] == 5.0


def test_the_notebook_reallocates_with_the_priors_the_scoring_job_used(tmp_path):
    cfg = offers_config()
    params = {"offers": cfg}
    assert scoring_offers_config(tmp_path, params) == cfg  # no fitted lines: config priors
    offer = next(iter(cfg["catalogue"]))
    fitted = {"protect": {"lured": 0.2}, "rescue": {"lured": 0.1}, "return": {"default": 0.0}}
    io.write_json({"priors": {offer: fitted}},
                  tmp_path / "models" / "uplift" / "response_lines.json")
    assert scoring_offers_config(tmp_path, params)["catalogue"][offer]["prior"] == fitted
