"""Multi-treatment uplift models: fitting with causalml, selection, JSON round trip,
and the training rows built from campaign history."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from churnml.models.uplift import UpliftModel, predict_uplift
from churnml.models.uplift_data import (
    assign_roles,
    campaign_outcomes,
    campaign_records,
    features_at_send,
    uplift_feature_columns,
    uplift_training_frame,
)
from churnml.models.uplift_fit import fit_learner, fit_uplift
from churnml.models.uplift_metrics import qini_coefficient

# causalml imports shap, whose colour maps warn on matplotlib's deprecations.
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
CFG = {"control": "control", "learners": ["t", "x"], "min_arm_rows": 50, "seed": 3,
       "refit": True, "lightgbm": {"n_estimators": 60, "learning_rate": 0.1, "num_leaves": 7,
                                   "min_child_samples": 30, "n_jobs": 1}}


def _campaign(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Arms a (works where x > 0) and b (works for region 'south'), plus a control."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    region = rng.choice(["north", "south"], n)
    arm = rng.choice(["control", "a", "b"], n)
    p = 0.3 + 0.3 * ((arm == "a") & (x > 0)) + 0.3 * ((arm == "b") & (region == "south"))
    return pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)], "x": x, "noise": rng.random(n),
                         "region": region, "treatment": arm,
                         "outcome": (rng.random(n) < p).astype(int),
                         "role": np.where(rng.random(n) < 0.3, "validation", "train")})


@pytest.fixture(scope="module")
def fitted():
    frame = _campaign()
    return frame, fit_uplift(frame, ["x", "noise", "region"], CFG)


def test_each_arm_learns_its_own_effect(fitted):
    _, fit = fitted
    test = _campaign(2000, seed=9)
    pred = predict_uplift(fit.model, test).pivot(index="customer_id", columns="offer_id",
                                                 values="uplift").loc[test["customer_id"]]
    assert pred.loc[(test["x"] > 0.5).to_numpy(), "a"].mean() > 0.15
    assert pred.loc[(test["x"] < -0.5).to_numpy(), "a"].mean() < 0.1
    assert pred.loc[(test["region"] == "south").to_numpy(), "b"].mean() > 0.15
    for arm in ("a", "b"):
        rows = test["treatment"].isin([arm, "control"]).to_numpy()
        score = pred[arm].to_numpy()[rows]
        assert qini_coefficient(test["outcome"].to_numpy()[rows], score,
                                (test["treatment"] == arm).to_numpy()[rows]) > 0.01


def test_learner_is_chosen_per_arm_by_validation_qini(fitted):
    _, fit = fitted
    for arm, spec in fit.model.arms.items():
        scores = fit.validation[arm]
        assert spec["learner"] == max(scores, key=scores.get)
    assert fit.rows["control"]["train"] > 0


def test_json_round_trip_predicts_the_same(fitted):
    frame, fit = fitted
    restored = UpliftModel.from_dict(json.loads(json.dumps(fit.model.to_dict())))
    pd.testing.assert_frame_equal(predict_uplift(fit.model, frame),
                                  predict_uplift(restored, frame))


@pytest.mark.parametrize("kind", ["t", "x"])
def test_boosters_reproduce_causalml_predictions(kind):
    from causalml.inference.meta import BaseTClassifier, BaseXClassifier
    from lightgbm import LGBMClassifier, LGBMRegressor

    frame = _campaign(1500, seed=4)
    X = frame[["x", "noise"]].astype(float)
    y, t = frame["outcome"].to_numpy(), frame["treatment"].to_numpy()
    params = CFG["lightgbm"]
    spec = fit_learner(kind, X, y, t, "control", params, 3)
    model = UpliftModel(["x", "noise"], {}, spec["arms"], spec["control"])
    kw = {"random_state": 3, "verbose": -1, "deterministic": True, "force_row_wise": True}
    if kind == "t":
        ref = BaseTClassifier(learner=LGBMClassifier(**params, **kw), control_name="control")
        ref.fit(X, treatment=t, y=y)
        expected = ref.predict(X)
    else:
        share = {a: (t == a).sum() / ((t == a).sum() + (t == "control").sum()) for a in "ab"}
        ref = BaseXClassifier(outcome_learner=LGBMClassifier(**params, **kw),
                              effect_learner=LGBMRegressor(**params, **kw), control_name="control")
        p = {a: np.full(len(X), share[a]) for a in "ab"}
        ref.fit(X, treatment=t, y=y, p=p)
        expected = ref.predict(X, p=p)
    for i, arm in enumerate(sorted(spec["arms"])):
        np.testing.assert_allclose(model.predict_arm(arm, X), expected[:, i], atol=1e-9)


def test_an_arm_with_too_few_rows_gets_no_model():
    frame = _campaign(900)
    frame.loc[frame["treatment"] == "b", "treatment"] = np.where(
        np.arange((frame["treatment"] == "b").sum()) < 20, "b", "control")
    fit = fit_uplift(frame, ["x", "region"], CFG)
    assert set(fit.model.arms) == {"a"}


def test_no_model_predicts_nothing():
    assert predict_uplift(None, pd.DataFrame({"customer_id": ["C1"]})).empty


def test_outcome_is_a_purchase_in_the_window_after_the_send():
    records = campaign_records(pd.DataFrame({
        "customer_id": ["A", "B", "C"], "offer_id": ["control", "a", "a"],
        "ts": pd.to_datetime(["2024-01-03 10:00", "2024-01-03 00:00", "2024-01-03 23:59"])}))
    tx = pd.DataFrame({"customer_id": ["A", "B", "B", "C"],
                       "ts": pd.to_datetime(["2024-01-02", "2024-02-01", "2024-02-02",
                                             "2024-05-01"]),
                       "amount": [10.0, 10.0, -10.0, 5.0],
                       "is_return": [False, False, True, False]})
    assert records["send_date"].eq(pd.Timestamp("2024-01-03")).all()
    outcome = campaign_outcomes(records, tx, 90)
    assert dict(zip(records["customer_id"], outcome, strict=True)) == {"A": 0, "B": 1, "C": 0}
    assert campaign_outcomes(records, tx, 90, start_days=30).tolist() == [0, 0, 0]


def test_one_send_per_customer_and_day_whatever_the_row_order():
    sends = pd.DataFrame({"customer_id": ["A", "A", "A", "B", "B"],
                          "offer_id": ["late", "b", "a", "x", "y"],
                          "ts": pd.to_datetime(["2024-01-03 18:00", "2024-01-03 09:00",
                                                "2024-01-03 09:00", "2024-01-03 12:00",
                                                "2024-01-04 08:00"])})
    expected = {("A", "a"), ("B", "x"), ("B", "y")}  # earliest send; at a tie, lowest offer
    for order in ([0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [1, 0, 3, 2, 4]):
        records = campaign_records(sends.iloc[order])
        assert set(zip(records["customer_id"], records["treatment"], strict=True)) == expected
        assert list(records.columns) == ["customer_id", "send_date", "treatment"]


def _snapshots(dates: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": np.repeat(["A", "B"], len(dates)),
                         "as_of": pd.to_datetime(dates * 2).astype("datetime64[us]"),
                         "f": np.arange(2 * len(dates), dtype=float)})


def test_features_come_from_the_snapshot_before_the_send_or_are_computed():
    records = pd.DataFrame({"customer_id": ["A", "B"], "treatment": ["a", "control"],
                            "send_date": pd.to_datetime(["2024-02-03", "2024-03-20"])
                            .astype("datetime64[us]")})
    snaps = _snapshots(["2024-01-01", "2024-02-01", "2024-03-01"])
    seen = []

    def compute(days):
        seen.extend(days)
        return pd.DataFrame({"customer_id": ["B"], "as_of": days, "f": [-1.0]})

    out = features_at_send(records, snaps, 7, compute).set_index("customer_id")
    assert out.loc["A", "f"] == 1.0  # the 2024-02-01 snapshot of A
    assert out.loc["B", "f"] == -1.0 and seen == [pd.Timestamp("2024-03-20")]
    assert list(features_at_send(records, snaps, 7)["customer_id"]) == ["A"]


def test_training_frame_drops_incomplete_horizons_and_splits_by_campaign():
    campaigns = pd.DataFrame({"customer_id": ["A", "B", "A", "B"],
                              "offer_id": ["a", "control", "control", "a"],
                              "ts": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-02-02",
                                                    "2024-06-02"])})
    tx = pd.DataFrame({"customer_id": ["A"], "ts": pd.to_datetime(["2024-01-20"]),
                       "amount": [3.0]})
    snaps = _snapshots(["2024-01-01", "2024-02-01", "2024-06-01"])
    cfg = {"max_feature_staleness_days": 7, "validation_campaigns": 1}
    frame = uplift_training_frame(campaigns, tx, snaps, pd.Timestamp("2024-06-15"), 60, cfg)
    assert len(frame) == 3 and frame["role"].tolist() == ["train", "train", "validation"]
    assert frame["outcome"].tolist() == [1, 0, 0]
    assert uplift_feature_columns(frame) == ["f"]
    assert assign_roles(frame["send_date"], 0).tolist() == ["train"] * 3


@pytest.mark.parametrize("id_dtype", ["str", object])
def test_header_only_campaigns_give_an_empty_training_frame(id_dtype):
    # a header-only campaigns.csv comes out of ingest as zero rows of string ids: the
    # id columns used to disagree in dtype (object vs str) and the merge failed
    campaigns = pd.DataFrame({"customer_id": pd.Series([], dtype=id_dtype),
                              "ts": pd.Series([], dtype="datetime64[us]"),
                              "offer_id": pd.Series([], dtype=id_dtype)})
    tx = pd.DataFrame({"customer_id": ["A"], "ts": pd.to_datetime(["2024-01-20"]),
                       "amount": [3.0]})
    cfg = {"max_feature_staleness_days": 7, "validation_campaigns": 1}
    frame = uplift_training_frame(campaigns, tx, _snapshots(["2024-01-01"]),
                                  pd.Timestamp("2024-06-15"), 60, cfg)
    assert frame.empty
    assert {"customer_id", "send_date", "treatment", "outcome", "role"} <= set(frame.columns)
    assert uplift_feature_columns(frame) == ["f"]


def test_ids_match_whatever_their_dtype_in_each_table():
    campaigns = pd.DataFrame({"customer_id": pd.Series(["A"], dtype=object),
                              "ts": pd.to_datetime(["2024-01-02"]), "offer_id": ["a"]})
    tx = pd.DataFrame({"customer_id": pd.Series(["A"], dtype="str"),
                       "ts": pd.to_datetime(["2024-01-20"]), "amount": [3.0]})
    snaps = _snapshots(["2024-01-01"]).astype({"customer_id": object})
    cfg = {"max_feature_staleness_days": 7, "validation_campaigns": 0}
    frame = uplift_training_frame(campaigns, tx, snaps, pd.Timestamp("2024-06-15"), 60, cfg)
    assert frame["outcome"].tolist() == [1] and frame["customer_id"].tolist() == ["A"]
