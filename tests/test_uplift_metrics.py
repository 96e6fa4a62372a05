"""Qini, AUUC and uplift@k on small randomised data with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from churnml.models.uplift_metrics import (
    arm_metrics,
    auuc_gain,
    qini_coefficient,
    qini_curve,
    uplift_at_k,
)


def _experiment(n: int = 4000, seed: int = 0):
    """Half treated; the offer works only for x > 0 (+0.3 on a 0.2 base rate)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    treated = rng.random(n) < 0.5
    y = (rng.random(n) < 0.2 + 0.3 * treated * (x > 0)).astype(int)
    return x, treated, y


def test_a_score_that_knows_the_effect_beats_random_targeting():
    x, treated, y = _experiment()
    good = qini_coefficient(y, x, treated)
    rng = np.random.default_rng(1)
    random = np.mean([qini_coefficient(y, rng.random(len(y)), treated) for _ in range(20)])
    assert good > 0.01  # the ideal is 0.0188: a rise to 0.075 at half, then flat
    assert abs(random) < 0.01
    assert qini_coefficient(y, -x, treated) < 0
    assert auuc_gain(y, x, treated) > 0.02  # ideal 0.0375


def test_qini_curve_starts_at_zero_and_ends_at_the_total_incremental_outcomes():
    x, treated, y = _experiment()
    curve = qini_curve(y, x, treated)
    assert curve.share[0] == 0 and curve.value[0] == 0 and curve.share[-1] == 1
    total = (y[treated].sum() - y[~treated].sum() * treated.sum() / (~treated).sum()) / len(y)
    assert curve.value[-1] == pytest.approx(total)


def test_uplift_at_k_by_hand():
    y = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 0])
    treated = np.array([1, 0, 1, 0, 1, 0, 1, 0, 1, 0], dtype=bool)
    score = np.arange(10, 0, -1).astype(float)
    # top 3: rows 0 (t, 1), 1 (c, 0), 2 (t, 1) -> 1.0 - 0.0
    assert uplift_at_k(y, score, treated, 0.3) == pytest.approx(1.0)
    # top 6: treated rows 0, 2, 4 -> 2/3; control rows 1, 3, 5 -> 1/3
    assert uplift_at_k(y, score, treated, 0.6) == pytest.approx(1 / 3)


def test_uplift_at_k_shares_the_places_of_customers_tied_at_the_cut_off():
    y = np.array([1, 0, 1, 0, 0, 1])
    score = np.array([0.9, 0.9, 0.9, 0.9, 0.1, 0.1])
    treated = np.array([1, 1, 0, 0, 1, 0], dtype=bool)
    # 3 places for 4 tied customers: each counts 3/4; treated 1, 0 and control 1, 0
    for order in ([0, 1, 2, 3, 4, 5], [1, 0, 3, 2, 4, 5], [3, 2, 1, 0, 5, 4]):
        assert uplift_at_k(y[order], score[order], treated[order], 0.5) == pytest.approx(0.0)


def test_arm_metrics_reports_model_and_random():
    x, treated, y = _experiment()
    metrics = arm_metrics(y, x, treated)
    assert metrics["qini_coefficient"] == pytest.approx(
        metrics["qini_area"] - metrics["qini_area_random"])
    assert metrics["uplift_at_30"] > metrics["uplift_at_30_random"]
