"""Snapshot mode: one customers table with a provided label -> features, labels, split,
scores; and the stage branches that choose it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnml import io, snapshot
from churnml.errors import ConfigError
from churnml.models.split import stratified_split
from churnml.stages import features as features_stage
from churnml.stages import labels as labels_stage
from churnml.stages import train as train_stage

AS_OF = pd.Timestamp("2022-10-01")
SNAPSHOT_CFG = {"as_of": "2022-10-01", "test_fraction": 0.2, "validation_fraction": 0.2,
                "seed": 7, "value_column": "monthly_charge", "value_periods_per_year": 12}


def _customers(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "customer_id": [f"c{i:03d}" for i in range(n)][::-1],
        "signup_date": (AS_OF - pd.to_timedelta(rng.integers(30, 2000, n), unit="D"))
        .astype("datetime64[us]"),
        "churned": rng.random(n) < 0.3,
        "churn_category": np.where(rng.random(n) < 0.5, "Price", "Competitor"),
        "contract": rng.choice(["monthly", "yearly"], n),
        "monthly_charge": rng.uniform(10, 100, n).round(2),
        "monetary": rng.uniform(10, 5000, n).round(2),
        "last_upgrade": (AS_OF - pd.Timedelta(days=10)),
    })


def test_features_are_the_attributes_plus_tenure_and_never_the_label():
    frame = snapshot.snapshot_features(_customers(), AS_OF)
    assert not {"churned", "churn_category", "signup_date"} & set(frame.columns)
    assert frame["customer_id"].is_monotonic_increasing
    assert frame["recency_days"].isna().all() and (frame["frequency"] == 0).all()
    assert frame["monetary"].gt(0).all() and frame["tenure_days"].between(30, 2000).all()
    assert (frame["last_upgrade"] == 10).all()  # datetime attributes: days before as_of
    assert (frame["as_of"] == AS_OF).all() and str(frame["as_of"].dtype) == "datetime64[us]"


def test_labels_are_the_provided_flag_for_every_customer():
    customers = _customers()
    labels = snapshot.snapshot_labels(customers, AS_OF)
    assert (labels["status"] == "active").all() and labels["winback"].isna().all()
    by_id = customers.set_index("customer_id")["churned"]
    assert (labels["attrition"].astype(bool).to_numpy()
            == labels["customer_id"].map(by_id).to_numpy()).all()


def test_stratified_split_keeps_the_churn_rate_in_every_role_and_is_deterministic():
    target = pd.Series(np.r_[np.ones(300), np.zeros(700)].astype(int))
    roles = stratified_split(target, 0.2, 0.2, seed=3)
    assert roles.value_counts().to_dict() == {"train": 600, "test": 200, "validation": 200}
    assert target.groupby(roles).mean().round(3).to_dict() == {
        "test": 0.3, "train": 0.3, "validation": 0.3}
    assert roles.equals(stratified_split(target, 0.2, 0.2, seed=3))
    assert not roles.equals(stratified_split(target, 0.2, 0.2, seed=4))


@pytest.mark.parametrize(("test", "valid"), [(0.0, 0.2), (0.5, 0.5), (-0.1, 0.2)])
def test_bad_split_fractions_are_config_errors(test, valid):
    with pytest.raises(ConfigError, match="test_fraction"):
        stratified_split(pd.Series([0, 1, 0, 1]), test, valid, seed=0)


def test_training_frame_in_snapshot_mode_splits_at_random_not_by_time():
    customers = _customers(200)
    features = snapshot.snapshot_features(customers, AS_OF)
    labels = snapshot.snapshot_labels(customers, AS_OF)
    data_cfg = {"mode": "snapshot", "snapshot": SNAPSHOT_CFG}
    frame = train_stage.training_frame(features, labels, "attrition", {}, 90, data_cfg)
    assert set(frame["role"]) == {"train", "validation", "test"}
    shuffled = train_stage.training_frame(features.sample(frac=1, random_state=1), labels,
                                          "attrition", {}, 90, data_cfg)
    by_id = frame.set_index("customer_id")["role"]
    assert (shuffled.set_index("customer_id")["role"] == by_id.loc[shuffled["customer_id"]]
            .to_numpy()).all()  # roles depend on the customers, not on row order


def _interim(tmp_path: Path) -> Path:
    folder = tmp_path / "interim"
    io.write_parquet(_customers(), folder / "customers.parquet")
    io.write_json({"mode": "snapshot", "data_start": "2017-01-01T00:00:00",
                   "data_end": AS_OF.isoformat()}, folder / "manifest.json")
    return folder


def test_feature_and_label_stages_branch_on_the_mode(tmp_path):
    folder = _interim(tmp_path)
    params = {"data": {"mode": "snapshot"}, "features": {}, "engine": {}, "labels": {}}
    frame = features_stage.run(folder, tmp_path / "f.parquet", params)
    labels = labels_stage.run(folder, tmp_path / "l.parquet", params)
    assert len(frame) == len(labels) == 50
    assert (pd.read_parquet(tmp_path / "l.parquet")["churn_category"].notna()).all()


def test_winback_training_is_skipped_with_a_note(tmp_path):
    stale = tmp_path / "models" / "winback" / "model.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    params = {"data": {"mode": "snapshot", "snapshot": SNAPSHOT_CFG}}
    assert train_stage.run("winback", tmp_path / "f", tmp_path / "l", tmp_path / "models",
                           params) == {}
    assert not stale.exists()
    note = json.loads((tmp_path / "models" / "winback" / snapshot.SKIPPED_FILE).read_text())
    assert "snapshot mode" in note["skipped"]


class _Model:
    """Stands in for a fitted classifier: risk grows with the monthly charge."""

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = (X["monthly_charge"].to_numpy() / 100.0).clip(0, 1)
        return np.column_stack([1 - p, p])


def test_scored_list_scores_current_customers_and_marks_those_who_left():
    from churnml.scoring import SCORED_COLUMNS

    customers = _customers()
    features = snapshot.snapshot_features(customers, AS_OF)
    scored = snapshot.snapshot_scored(features, customers, _Model(),
                                      {"risk_bands": {"high": 0.5, "medium": 0.25}},
                                      SNAPSHOT_CFG, {"attrition": "m/1", "winback": "none"})
    assert list(scored.columns) == SCORED_COLUMNS and len(scored) == len(customers)
    left = scored["customer_id"].map(customers.set_index("customer_id")["churned"])
    assert (scored.loc[left, "status"] == "lapsed").all()
    assert scored.loc[left, "p_attrition"].isna().all()
    assert scored.loc[~left, "p_attrition"].between(0, 1).all()
    charge = features.set_index("customer_id")["monthly_charge"]
    assert np.allclose(scored["value"], scored["customer_id"].map(charge) * 12, atol=0.01)
