"""ChurnClassifier: estimator conventions, calibration, determinism, robustness."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from churnml.models import ChurnClassifier
from churnml.models.classifier import as_levels
from tests.conftest import make_classification_frame

SMALL = {"max_rounds": 60, "early_stopping_rounds": 10, "min_child_samples": 10}


@pytest.fixture
def fitted(classification_data):
    X, y = classification_data
    return ChurnClassifier(**SMALL).fit(X[:400], y[:400], eval_set=(X[400:], y[400:]))


def test_fit_returns_self_and_learns_state(classification_data):
    X, y = classification_data
    model = ChurnClassifier(**SMALL)
    assert model.fit(X, y) is model
    assert model.n_features_in_ == X.shape[1] and model.categories_["region"]


def test_unfitted_model_raises_not_fitted():
    with pytest.raises(NotFittedError):
        ChurnClassifier().predict_proba(pd.DataFrame({"a": [1.0]}))


def test_probabilities_are_valid_and_informative(fitted):
    X, y = make_classification_frame(seed=1)
    p = fitted.predict_proba(X)[:, 1]
    assert np.all((p >= 0) & (p <= 1)) and np.isfinite(p).all()
    assert roc_auc_score(y, p) > 0.7


def test_same_data_and_seed_give_identical_model(classification_data):
    X, y = classification_data
    a = ChurnClassifier(**SMALL).fit(X[:400], y[:400], eval_set=(X[400:], y[400:])).to_dict()
    b = ChurnClassifier(**SMALL).fit(X[:400], y[:400], eval_set=(X[400:], y[400:])).to_dict()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_serialisation_round_trip_gives_identical_scores(fitted):
    X, _ = make_classification_frame(seed=2)
    again = ChurnClassifier.from_dict(json.loads(json.dumps(fitted.to_dict())))
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))


def test_shuffled_column_order_gives_identical_scores(fitted):
    X, _ = make_classification_frame(seed=3)
    shuffled = X[list(reversed(X.columns))]
    np.testing.assert_array_equal(fitted.predict_proba(shuffled), fitted.predict_proba(X))


def test_unseen_category_scores_like_missing(fitted):
    X, _ = make_classification_frame(seed=4)
    unseen, missing = X.copy(), X.copy()
    unseen["region"] = "atlantis"
    missing["region"] = None
    np.testing.assert_array_equal(fitted.predict_proba(unseen), fitted.predict_proba(missing))


def test_category_order_at_scoring_does_not_matter(fitted):
    X, _ = make_classification_frame(seed=5)
    recoded = X.assign(region=pd.Categorical(X["region"], categories=["south", "east", "north"]))
    np.testing.assert_array_equal(fitted.predict_proba(recoded), fitted.predict_proba(X))


def test_missing_feature_is_refused(fitted):
    X, _ = make_classification_frame(seed=6)
    with pytest.raises(ValueError, match="recency_days"):
        fitted.predict_proba(X.drop(columns="recency_days"))


def test_calibration_is_fitted_on_validation(classification_data):
    X, y = classification_data
    none = ChurnClassifier(**SMALL, calibration="none").fit(X, y, eval_set=(X[400:], y[400:]))
    iso = ChurnClassifier(**SMALL, calibration="isotonic").fit(X, y, eval_set=(X[400:], y[400:]))
    assert none.calibrator_["method"] == "none" and iso.calibrator_["method"] == "isotonic"
    p = iso.predict_proba(X)[:, 1]
    assert p.min() >= 0 and p.max() <= 1


def test_contributions_have_one_column_per_feature(fitted):
    X, _ = make_classification_frame(seed=7)
    contrib = fitted.contributions(X.head(10))
    assert list(contrib.columns) == list(fitted.feature_names_in_)
    assert contrib.shape == (10, X.shape[1])


def test_missing_where_training_had_none_scores_as_zero_and_the_drift_check_says_so(
        fitted, classification_data):
    """LightGBM sends a missing value of a feature it never saw missing down the branch
    of 0 (docs/models.md); the scoring job's drift check flags the jump in missing share."""
    from churnml.drift import check_drift, training_profile
    from churnml.drift.check import Thresholds

    X, _ = classification_data
    assert X["frequency"].notna().all()
    nan_rows, zero_rows = X.copy(), X.copy()
    nan_rows.loc[::2, "frequency"], zero_rows.loc[::2, "frequency"] = np.nan, 0.0
    np.testing.assert_array_equal(fitted.predict_proba(nan_rows), fitted.predict_proba(zero_rows))
    report = check_drift(training_profile(X), nan_rows, Thresholds())
    assert report.features["frequency"]["status"] == "refuse"


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "1", ""]),
                                 st.integers(0, 2)), max_size=12),
       levels=st.lists(st.sampled_from(["a", "b", "1", "2", ""]), unique=True, max_size=4),
       dtype=st.sampled_from(["object", "str", "string", "category"]))
def test_as_levels_matches_the_text_isin_encoding_it_replaced(values, levels, dtype):
    """Arrow's lookup gives the codes of pandas' text-then-isin: missing and unseen
    values -> NaN, numbers matched by their text, whatever the input dtype."""
    if dtype != "object":
        values = [None if v is None else str(v) for v in values]
    series = pd.Series(values, dtype=dtype)
    text = series.astype("string").astype(object)
    expected = pd.Categorical(text.where(text.isin(levels)), categories=sorted(levels))
    actual = as_levels(series, sorted(levels))
    np.testing.assert_array_equal(actual.codes, expected.codes)
    assert list(actual.categories) == sorted(levels)


def _tiny() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=120)})
    return X, (X["a"] + rng.normal(size=120) > 0).astype(int).to_numpy()


@pytest.mark.parametrize("method", ["platt", "Sigmoid", ""])
def test_an_unknown_calibration_is_a_config_error_not_silently_sigmoid(method):
    from churnml.errors import ConfigError

    X, y = _tiny()
    with pytest.raises(ConfigError, match=rf"model\.calibration = '{method}'.*isotonic"):
        ChurnClassifier(calibration=method, max_rounds=5).fit(X, y, eval_set=(X, y))


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrating_on_a_one_class_validation_set_is_a_clear_error(method):
    from churnml.errors import ConfigError

    X, y = _tiny()
    Xv, yv = X[:20], np.zeros(20, int)  # validation: nobody churned
    with pytest.raises(ConfigError, match=r"validation rows.*20 of class 0, 0 of class 1"):
        ChurnClassifier(calibration=method, max_rounds=5, min_child_samples=5).fit(
            X, y, eval_set=(Xv, yv))
    # without calibration the one-class validation set only early-stops: allowed
    ChurnClassifier(calibration="none", max_rounds=5, min_child_samples=5).fit(
        X, y, eval_set=(Xv, yv))
