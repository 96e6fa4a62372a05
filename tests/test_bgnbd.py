"""BG/NBD: published CDNOW estimates, closed forms vs simulation, properties, baseline."""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import approx_fprime
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from churnml.models.bgnbd import BGNBD, BGNBDBaseline, rfm_from_features, rfm_from_transactions
from churnml.models.bgnbd_likelihood import common_dropout_loglik, loglik, loglik_grad

CDNOW = Path(__file__).parent / "data" / "cdnow_sample.txt"
CDNOW_SHA256 = "6fae10155c0b0ba363c2c386e30f77990d22328220efd862a5edd1443420d94a"
CDNOW_CUSTOMERS = 2357
CDNOW_CUTOFF = "1997-10-01"  # calibration = 1997-01-01 .. 1997-09-30 (39 weeks)
WEEK = 7.0
# Fader, Hardie & Lee (2005), table 1 / lifetimes' test suite.
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LOGLIK = -9582.4
PARAM_TOL, LOGLIK_TOL = 1e-3, 0.1
CDNOW_MEAN_T = 32.716  # weeks, the classic calibration summary
# Hardie's spreadsheet: E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226.
HARDIE_CASE, HARDIE_EXPECTED = (39.0, 2, 30.43, 38.86), 1.226
FIT_SECONDS = 2.0
SIM_PARAMS = {"r": 0.8, "alpha": 6.0, "a": 1.6, "b": 4.0}
SIM_N, SIM_SEED, SIM_HORIZON = 40_000, 20050101, 26.0
SIM_Z = 4.0  # allowed Monte-Carlo error, in standard errors
SIM_GROUPS = [0, 1, 2, 3]  # x values checked one by one; 3 means "3 or more"
# Drop-out without heterogeneity: a, b so large that every customer has p = 0.1.
COMMON_DROP, COMMON_SCALE = 0.1, 1e9
COMMON_PARAMS = {
    "r": 0.8,
    "alpha": 6.0,
    "a": COMMON_DROP * COMMON_SCALE,
    "b": (1 - COMMON_DROP) * COMMON_SCALE,
}
COMMON_N, COMMON_T = 1000, (10.0, 40.0)
RUN_OFF_SEED = 0  # a sample whose MLE is at a, b = inf
FINITE_SEED = 4  # a sample whose MLE is finite (a = 31.5, b = 286): chance heterogeneity


def _model(r: float, alpha: float, a: float, b: float) -> BGNBD:
    return BGNBD.from_dict({"r": r, "alpha": alpha, "a": a, "b": b})


@pytest.fixture(scope="module")
def cdnow_rfm() -> pd.DataFrame:
    raw = pd.read_csv(
        CDNOW,
        sep=r"\s+",
        header=None,
        dtype={2: str},
        names=["master_id", "customer_id", "date", "cds", "dollars"],
    )
    log = pd.DataFrame(
        {"customer_id": raw["customer_id"], "ts": pd.to_datetime(raw["date"], format="%Y%m%d")}
    )
    return rfm_from_transactions(log, CDNOW_CUTOFF, WEEK)


def test_cdnow_file_is_the_documented_one() -> None:
    assert hashlib.sha256(CDNOW.read_bytes()).hexdigest() == CDNOW_SHA256


def test_cdnow_calibration_summary_matches_literature(cdnow_rfm: pd.DataFrame) -> None:
    assert len(cdnow_rfm) == CDNOW_CUSTOMERS
    assert cdnow_rfm["T"].mean() == pytest.approx(CDNOW_MEAN_T, abs=1e-3)
    assert cdnow_rfm["T"].max() == pytest.approx(272 / WEEK)  # Jan 1 .. Sep 30
    assert (cdnow_rfm["recency"] <= cdnow_rfm["T"]).all()


def test_cdnow_reproduces_published_estimates(cdnow_rfm: pd.DataFrame) -> None:
    start = time.perf_counter()
    model = BGNBD().fit(cdnow_rfm["frequency"], cdnow_rfm["recency"], cdnow_rfm["T"])
    assert time.perf_counter() - start < FIT_SECONDS
    fitted = model.to_dict()
    for name, value in PUBLISHED.items():
        assert fitted[name] == pytest.approx(value, abs=PARAM_TOL), name
    assert model.loglik_ == pytest.approx(PUBLISHED_LOGLIK, abs=LOGLIK_TOL)
    total = model.log_likelihood(cdnow_rfm["frequency"], cdnow_rfm["recency"], cdnow_rfm["T"])
    assert total.sum() == pytest.approx(model.loglik_)
    assert model.expected_purchases(*HARDIE_CASE) == pytest.approx(HARDIE_EXPECTED, abs=1e-3)


def test_analytic_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(SIM_SEED)
    x = rng.integers(0, 6, 50).astype(float)
    t_end = rng.uniform(1.0, 40.0, 50)
    tx = np.where(x > 0, rng.uniform(0.0, 1.0, 50) * t_end, 0.0)
    for params in (PUBLISHED, SIM_PARAMS):
        point = np.array(list(params.values()))
        numeric = approx_fprime(point, lambda p: loglik(p, x, tx, t_end).sum(), 1e-7)
        analytic = loglik_grad(point, x, tx, t_end)[1].sum(axis=1)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-4)


def test_l2_penalty_shrinks_log_parameters(cdnow_rfm: pd.DataFrame) -> None:
    data = (cdnow_rfm["frequency"], cdnow_rfm["recency"], cdnow_rfm["T"])
    plain, shrunk = BGNBD().fit(*data), BGNBD(l2=0.1).fit(*data)
    norm = [np.linalg.norm(np.log([m.r_, m.alpha_, m.a_, m.b_])) for m in (plain, shrunk)]
    assert norm[1] < norm[0]
    assert shrunk.loglik_ < plain.loglik_


def test_loglik_stays_accurate_as_a_and_b_grow() -> None:
    # betaln(a, b + x) - betaln(a, b) lost ~1e-4 at a + b = 1e12 (round-off of numbers
    # of size 1e11): the optimizer then stopped on noise ("ABNORMAL") on such data.
    rng = np.random.default_rng(SIM_SEED)
    x = rng.integers(0, 30, 200).astype(float)
    t_end = rng.uniform(1.0, 40.0, 200)
    tx = np.where(x > 0, rng.uniform(0.0, 1.0, 200) * t_end, 0.0)
    r, alpha, scale = 1.1, 2.8, 1e12
    params = np.array([r, alpha, COMMON_DROP * scale, (1 - COMMON_DROP) * scale])
    limit = common_dropout_loglik(r, alpha, COMMON_DROP, x, tx, t_end)
    np.testing.assert_allclose(loglik(params, x, tx, t_end), limit, rtol=0, atol=1e-8)
    log_point = np.log(params)
    numeric = approx_fprime(log_point, lambda q: loglik(np.exp(q), x, tx, t_end).sum(), 1e-6)
    analytic = loglik_grad(params, x, tx, t_end)[1].sum(axis=1) * params
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-4)


def _common_dropout_sample(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t_end = rng.uniform(*COMMON_T, COMMON_N)
    sample = _simulate(COMMON_PARAMS, t_end, 0.0, rng)
    return sample["x"], sample["tx"], t_end


def test_fit_says_when_a_and_b_run_off() -> None:
    # The built-in world's win-back rows fit like this: before, "BG/NBD fit: ABNORMAL".
    data = _common_dropout_sample(RUN_OFF_SEED)
    with pytest.warns(ConvergenceWarning, match="a and b grow without bound") as caught:
        model = BGNBD().fit(*data)
    message = str(caught[0].message)
    assert "no heterogeneity in the drop-out probability" in message and "l2" in message
    assert model.a_ / (model.a_ + model.b_) == pytest.approx(COMMON_DROP, abs=0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        shrunk = BGNBD(l2=1e-3).fit(*data)
    assert shrunk.a_ + shrunk.b_ < model.a_ + model.b_


def test_fit_at_a_finite_mle_does_not_warn() -> None:
    # Before, the line search failed on round-off here ("ABNORMAL") at this very estimate.
    data = _common_dropout_sample(FINITE_SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = BGNBD().fit(*data)
    assert 10 < model.a_ + model.b_ < 1e3


def test_p_alive_is_one_without_repeat_purchases() -> None:
    model = _model(**PUBLISHED)
    assert np.all(model.p_alive([0, 0, 0], [0, 0, 0], [0.0, 5.0, 80.0]) == 1.0)
    repeat = model.p_alive([1, 5], [2.0, 3.0], [30.0, 30.0])
    assert np.all((repeat > 0) & (repeat < 1))


def test_expected_purchases_continuous_through_a_equal_one() -> None:
    args = ([1.0, 20.0, 100.0], 3, 10.0, 20.0)
    at_one = _model(r=0.5, alpha=4.0, a=1.0, b=2.0).expected_purchases(*args)
    for a in (1 - 1e-4, 1 + 1e-4):
        near = _model(r=0.5, alpha=4.0, a=a, b=2.0).expected_purchases(*args)
        np.testing.assert_allclose(at_one, near, rtol=1e-3)


rfm_points = st.integers(0, 40).flatmap(
    lambda x: st.tuples(st.just(x), st.floats(0.0, 1.0), st.floats(0.01, 150.0))
)
param_sets = st.sampled_from([PUBLISHED, SIM_PARAMS])


@settings(max_examples=150, deadline=None)
@given(rfm_points, st.floats(0.0, 100.0), param_sets)
def test_p_alive_decreases_as_T_grows(point: tuple, extra: float, params: dict) -> None:
    x, share, t_end = point
    model = _model(**params)
    tx = share * t_end if x > 0 else 0.0
    before, after = model.p_alive(x, tx, t_end), model.p_alive(x, tx, t_end + extra)
    assert after <= before + 1e-12


@settings(max_examples=150, deadline=None)
@given(rfm_points, st.floats(0.0, 100.0), st.floats(0.0, 100.0), param_sets)
def test_expected_purchases_grow_and_quiet_shrinks_with_t(
    point: tuple, t1: float, t2: float, params: dict
) -> None:
    x, share, t_end = point
    model = _model(**params)
    tx = share * t_end if x > 0 else 0.0
    short, long_ = sorted([t1, t2])
    e_short, e_long = (model.expected_purchases(t, x, tx, t_end) for t in (short, long_))
    q_short, q_long = (model.prob_no_purchase(t, x, tx, t_end) for t in (short, long_))
    assert 0.0 <= e_short <= e_long * (1 + 1e-9) + 1e-12
    assert 0.0 <= q_long <= q_short + 1e-12 <= 1.0 + 1e-12
    assert model.expected_purchases(0.0, x, tx, t_end) == pytest.approx(0.0, abs=1e-12)
    assert model.prob_no_purchase(0.0, x, tx, t_end) == pytest.approx(1.0)


def _simulate(params: dict, t_end: np.ndarray, horizon: float, rng: np.random.Generator) -> dict:
    """BG/NBD customers over [0, T + horizon]: (x, t_x) up to T, alive at T, purchases after."""
    n = len(t_end)
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    drop = rng.beta(params["a"], params["b"], n)
    now, x, tx = np.zeros(n), np.zeros(n), np.zeros(n)
    future, death = np.zeros(n), np.full(n, np.inf)
    running = np.ones(n, dtype=bool)
    while running.any():
        idx = np.flatnonzero(running)
        now[idx] += rng.exponential(1 / lam[idx])
        buys = now[idx] <= t_end[idx] + horizon
        running[idx[~buys]] = False
        idx = idx[buys]
        early = now[idx] <= t_end[idx]
        x[idx[early]] += 1
        tx[idx[early]] = now[idx[early]]
        future[idx[~early]] += 1
        dies = rng.random(len(idx)) < drop[idx]
        death[idx[dies]] = now[idx[dies]]
        running[idx[dies]] = False
    return {"x": x, "tx": tx, "alive": death > t_end, "future": future}


@pytest.fixture(scope="module")
def simulated() -> dict:
    rng = np.random.default_rng(SIM_SEED)
    t_end = rng.uniform(10.0, 40.0, SIM_N)
    return {"T": t_end, **_simulate(SIM_PARAMS, t_end, SIM_HORIZON, rng)}


def _close(predicted: np.ndarray, observed: np.ndarray) -> None:
    """Mean prediction within SIM_Z standard errors of the observed mean."""
    se = observed.std(ddof=1) / np.sqrt(len(observed))
    assert abs(predicted.mean() - observed.mean()) <= SIM_Z * se + 1e-3


@pytest.mark.parametrize("group", SIM_GROUPS)
def test_closed_forms_match_monte_carlo(simulated: dict, group: int) -> None:
    model = _model(**SIM_PARAMS)
    sel = simulated["x"] >= group if group == SIM_GROUPS[-1] else simulated["x"] == group
    x, tx, t_end = simulated["x"][sel], simulated["tx"][sel], simulated["T"][sel]
    future = simulated["future"][sel]
    _close(model.p_alive(x, tx, t_end), simulated["alive"][sel].astype(float))
    _close(model.prob_no_purchase(SIM_HORIZON, x, tx, t_end), (future == 0).astype(float))
    _close(model.expected_purchases(SIM_HORIZON, x, tx, t_end), future)


def test_fit_recovers_simulated_parameters(simulated: dict) -> None:
    model = BGNBD().fit(simulated["x"], simulated["tx"], simulated["T"])
    for name, value in SIM_PARAMS.items():
        assert model.to_dict()[name] == pytest.approx(value, rel=0.15), name


def test_to_dict_round_trip_through_json() -> None:
    model = BGNBD(l2=0.01).fit([0, 1, 3, 2, 0], [0.0, 4.0, 9.0, 2.0, 0.0], [10.0, 12, 10, 8, 3])
    again = BGNBD.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.to_dict() == model.to_dict()
    assert again.get_params() == model.get_params()
    args = (5.0, [0, 2], [0.0, 3.0], [10.0, 10.0])
    np.testing.assert_array_equal(again.expected_purchases(*args), model.expected_purchases(*args))


def test_unfitted_and_invalid_inputs_raise() -> None:
    with pytest.raises(NotFittedError):
        BGNBD().p_alive(1, 1.0, 2.0)
    model = _model(**PUBLISHED)
    with pytest.raises(ValueError, match="recency"):
        model.p_alive(1, 5.0, 2.0)
    with pytest.raises(ValueError, match="finite"):
        model.p_alive(np.nan, 1.0, 2.0)
    with pytest.raises(ValueError, match="t must"):
        model.prob_no_purchase(-1.0, 1, 1.0, 2.0)


def test_rfm_from_transactions_dedupes_days_and_respects_cutoff() -> None:
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c"],
            "ts": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 17:00",
                    "2024-01-15 00:00",
                    "2024-02-01 00:00",
                    "2024-01-29 23:00",
                    "2024-01-31 00:00",
                ]
            ),
        }
    )
    rfm = rfm_from_transactions(log, "2024-01-31", unit_days=WEEK)
    assert list(rfm.index) == ["a", "b"]
    assert rfm.loc["a"].tolist() == [1.0, 2.0, 29 / WEEK]
    assert rfm.loc["b"].tolist() == [0.0, 0.0, 1 / WEEK]


def _feature_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["loyal", "lapsed", "single", "never"],
            "frequency": [12, 12, 1, 0],
            "recency_days": [3.0, 200.0, 40.0, np.nan],
            "days_since_first_purchase": [300.0, 300.0, 40.0, np.nan],
        }
    )


def test_rfm_from_features_conventions() -> None:
    rfm = rfm_from_features(_feature_frame(), unit_days=WEEK)
    np.testing.assert_allclose(rfm["frequency"], [11, 11, 0, 0])
    np.testing.assert_allclose(rfm["T"], [300 / WEEK, 300 / WEEK, 40 / WEEK, 0])
    np.testing.assert_allclose(rfm["recency"], [297 / WEEK, 100 / WEEK, 0, 0])
    with pytest.raises(KeyError, match="days_since_first_purchase"):
        rfm_from_features(_feature_frame().drop(columns="days_since_first_purchase"), WEEK)


def test_baseline_on_hand_built_features() -> None:
    X, y = _feature_frame(), np.array([0, 1, 1, 1])
    base = clone(BGNBDBaseline(horizon_days=60, l2=0.01)).fit(X, y)
    proba = base.predict_proba(X)
    assert proba.shape == (4, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    rfm = rfm_from_features(X, WEEK)
    expected = base.model_.prob_no_purchase(60 / WEEK, rfm["frequency"], rfm["recency"], rfm["T"])
    np.testing.assert_allclose(proba[:, 1], expected)
    assert proba[0, 1] < proba[1, 1]  # recent regular buyer less likely to go quiet
    alive = base.p_alive(X)
    assert alive[0] > alive[1] and alive[2] == alive[3] == 1.0
    assert np.all(base.expected_purchases(X, 120) >= base.expected_purchases(X))
    np.testing.assert_array_equal(base.predict(X), base.classes_[proba.argmax(axis=1)])
    with pytest.raises(ValueError, match="0/1"):
        BGNBDBaseline().fit(X, [0, 1, 2, 1])
