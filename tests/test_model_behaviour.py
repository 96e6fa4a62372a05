"""Behavioural tests of the attrition model on a small seeded world (Made-With-ML style)."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from churnml import calendar, config
from churnml.features import build_features, connect
from churnml.ingest import ingest_tables
from churnml.labels import make_labels, purchase_windows
from churnml.simulate import simulate_world
from churnml.sources.parsing import TableSpec
from churnml.stages.train import fit_model, training_frame

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(project_root):
    params = config.compose(project_root / "conf", ["data.world.customers=1500"])
    world = simulate_world(params["data"]["world"])
    specs = {name: TableSpec(f"{name}.parquet") for name in world.tables}
    tables = ingest_tables(world.tables, specs, params["ingest"]).tables
    con = connect(params["engine"])
    t = {k: ibis.memtable(v) for k, v in tables.items() if k in ("customers", "transactions",
                                                                 "events")}
    start, _ = calendar.observation_window(tables["transactions"]["ts"], tables["events"]["ts"])
    end = calendar.day_after(tables["transactions"]["ts"].max(), start)  # as the stages do
    snaps = params["features"]["snapshots"]
    dates = calendar.snapshot_dates(start, end, snaps["freq"], snaps["min_history_days"])
    features = con.execute(build_features(t, dates, params["features"]))
    horizon = params["labels"]["horizon_days"]
    windows = con.execute(purchase_windows(t["customers"], t["transactions"],
                                           calendar.labelled(dates, end, horizon), horizon))
    labels = make_labels(windows, params["labels"]["lapse_days"])
    frame = training_frame(features, labels, "attrition", params["model"]["split"], horizon)
    model = fit_model(frame, params["model"]["attrition"], params["model"]["calibration"], 0)
    return frame, model, params


def test_model_beats_chance_on_test(trained):
    frame, model, _ = trained
    test = frame[frame["role"] == "test"]
    assert roc_auc_score(test["target"], model.predict_proba(test)[:, 1]) > 0.7


def test_longer_since_last_purchase_never_lowers_risk_on_average(trained):
    frame, model, _ = trained
    test = frame[frame["role"] == "test"]
    later = test.assign(recency_days=test["recency_days"] + 30)
    delta = model.predict_proba(later)[:, 1] - model.predict_proba(test)[:, 1]
    assert delta.mean() >= 0


def test_permuted_labels_give_chance_level_auc(trained):
    frame, _, params = trained
    rng = np.random.default_rng(0)
    shuffled = frame.assign(target=rng.permutation(frame["target"].to_numpy()))
    model = fit_model(shuffled, params["model"]["attrition"], params["model"]["calibration"], 0)
    test = shuffled[shuffled["role"] == "test"]
    auc = roc_auc_score(frame.loc[test.index, "target"], model.predict_proba(test)[:, 1])
    assert abs(auc - 0.5) < 0.08


def test_shuffled_columns_give_identical_scores(trained):
    frame, model, _ = trained
    test = frame[frame["role"] == "test"]
    reordered = test[list(np.random.default_rng(1).permutation(test.columns))]
    np.testing.assert_array_equal(model.predict_proba(reordered), model.predict_proba(test))
    assert isinstance(reordered, pd.DataFrame)
