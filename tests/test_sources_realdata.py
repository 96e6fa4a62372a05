"""The adapters on the real data sets in ../shared/data (skipped when it is absent).

Point CHURNML_SHARED_DATA at the folder when it lives elsewhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from churnml import config, sources
from churnml.ingest import ingest_tables, over_tolerance
from churnml.stages import ingest as ingest_stage
from tests.tiny_pipeline import copy_project, run

pytestmark = pytest.mark.realdata
SHARED = Path(os.environ.get("CHURNML_SHARED_DATA")
              or Path(__file__).resolve().parents[2] / "shared" / "data")
FOLDERS = {"online_retail": "online_retail", "telco": "telco_ibm", "hillstrom": "hillstrom",
           "completejourney": "completejourney"}
REPRO_TIMEOUT = 1800  # seconds: a whole dvc repro on a real data set


def _load(project_root: Path, name: str):
    folder = SHARED / FOLDERS[name]
    if not folder.is_dir():
        pytest.skip(f"{folder} not found: the real data sets live in ../shared/data "
                    f"(or set CHURNML_SHARED_DATA)")
    params = config.compose(project_root / "conf", [f"data={name}",
                                                    f"data.input_dir={folder}"])
    raw = sources.load(params["data"], project_root)
    result = ingest_tables(raw.tables, raw.specs, params["ingest"], params["data"]["mode"])
    return raw, result, params


def test_online_retail_keeps_every_line_and_quarantines_those_without_a_customer(project_root):
    _, result, params = _load(project_root, "online_retail")
    assert result.counts["transactions"]["rows_in"] == 541_909
    assert len(result.tables["customers"]) == 4_372
    rules = result.quarantine.groupby(["table", "rule"]).size().to_dict()
    assert rules[("transactions", "missing_customer_id")] == 135_080
    assert set(rules) == {("transactions", "missing_customer_id"),
                          ("events", "missing_customer_id")}
    assert over_tolerance(result.counts, params["ingest"]) == {}
    tx = result.tables["transactions"]
    assert tx["is_return"].sum() == 8_905 and (tx.loc[tx["is_return"], "amount"] <= 0).all()
    assert tx["ts"].min() == pd.Timestamp("2010-12-01 08:26")
    assert set(result.tables["events"]["event_type"]) == {"order_cancellation"}


def test_telco_is_one_labelled_snapshot(project_root):
    _, result, _ = _load(project_root, "telco")
    customers = result.tables["customers"]
    assert len(customers) == 7_043 and result.quarantine.empty
    assert customers["churned"].sum() == 1_869
    assert customers["churn_category"].value_counts()["Competitor"] == 841
    leaks = {"satisfaction_score", "churn_score", "cltv", "churn_reason", "customer_status"}
    assert not leaks & set(customers.columns)


def test_hillstrom_arms_and_conversion_rates(project_root):
    _, result, _ = _load(project_root, "hillstrom")
    campaigns = result.tables["campaigns"]
    assert campaigns["offer_id"].value_counts().to_dict() == {
        "womens_email": 21_387, "mens_email": 21_307, "control": 21_306}
    rates = campaigns.groupby("offer_id")["redeemed"].mean()
    assert rates["mens_email"] > rates["womens_email"] > rates["control"]
    assert result.quarantine.empty


def test_completejourney_campaign_history(project_root):
    _, result, _ = _load(project_root, "completejourney")
    assert result.counts["transactions"]["rows_kept"] == 75_000
    assert result.tables["campaigns"]["redeemed"].sum() == 792
    assert result.quarantine.empty


def test_real_rows_as_csv_and_as_parquet_give_identical_canonical_tables(project_root,
                                                                        tmp_path):
    _, result, params = _load(project_root, "online_retail")
    tables = {"customers": result.tables["customers"],
              "transactions": result.tables["transactions"].head(50_000)}
    for fmt in ("csv", "parquet"):
        (tmp_path / fmt).mkdir()
        for name, frame in tables.items():
            if fmt == "csv":
                frame.to_csv(tmp_path / fmt / f"{name}.csv", index=False)
            else:
                frame.to_parquet(tmp_path / fmt / f"{name}.parquet", index=False)
    a = ingest_stage.check(tmp_path / "csv", params["ingest"])
    b = ingest_stage.check(tmp_path / "parquet", params["ingest"])
    for name in tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
        pd.testing.assert_frame_equal(a.tables[name], tables[name].reset_index(drop=True))


@pytest.mark.slow
@pytest.mark.xdist_group("e2e")
def test_dvc_repro_on_online_retail_ends_with_a_scored_list(project_root, tmp_path):
    folder = SHARED / FOLDERS["online_retail"]
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    project = copy_project(project_root, tmp_path)
    run(["churnml", "compose", "data=online_retail", f"data.input_dir={folder}"], project)
    run(["dvc", "repro"], project, timeout=REPRO_TIMEOUT)
    scored = pd.read_parquet(project / "data/scored/scored_customers.parquet")
    assert len(scored) == 4_372 and scored["p_attrition"].dropna().between(0, 1).all()
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert metrics["attrition"]["model"]["roc_auc"] > metrics["attrition"]["recency"]["roc_auc"]


@pytest.mark.slow
@pytest.mark.xdist_group("e2e")
def test_dvc_repro_trains_and_evaluates_telco_in_snapshot_mode(project_root, tmp_path):
    folder = SHARED / FOLDERS["telco"]
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    project = copy_project(project_root, tmp_path)
    run(["churnml", "compose", "data=telco", f"data.input_dir={folder}"], project)
    run(["dvc", "repro", "evaluate"], project, timeout=REPRO_TIMEOUT)
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert metrics["attrition"]["model"]["roc_auc"] > metrics["attrition"]["recency"]["roc_auc"]
    assert "skipped" in metrics["winback"]
    assert (project / "models/winback/skipped.json").is_file()
