"""Metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from churnml import evaluate


def test_perfect_ranking_metrics():
    y = np.array([0, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    m = evaluate.point_metrics(y, p, bins=10, top_fractions=[0.4])
    assert m["roc_auc"] == 1.0 and m["pr_auc"] == 1.0
    assert m["lift_40"] == pytest.approx(1.0 / 0.4) and m["capture_40"] == 1.0


def test_ece_is_zero_when_calibrated_within_bins():
    y = np.array([0, 1] * 50)
    p = np.full(100, 0.5)
    assert evaluate.expected_calibration_error(y, p, bins=10) == pytest.approx(0.0)


def test_ece_of_overconfident_predictions():
    y = np.zeros(10, dtype=int)
    p = np.full(10, 0.9)
    assert evaluate.expected_calibration_error(y, p, bins=10) == pytest.approx(0.9)


def test_bootstrap_interval_contains_point_estimate():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    p = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    m = evaluate.metrics_with_intervals(y, p, samples=100, seed=1)
    assert m["roc_auc_lo"] <= m["roc_auc"] <= m["roc_auc_hi"]
    assert m["n"] == 400


def test_gain_table_ends_at_full_capture():
    y = np.array([1, 0, 1, 0])
    table = evaluate.gain_table(y, np.array([0.9, 0.8, 0.7, 0.1]), "m", steps=4)
    assert table["capture"].iloc[-1] == 1.0
    assert table["capture"].is_monotonic_increasing


def test_ties_at_the_cut_off_are_shared_whatever_the_row_order():
    # Two customers tie at the top score and only one place is targeted: each counts
    # half, so the one positive among them is half a hit, first in the file or not.
    y, p = np.array([1, 0, 0, 0]), np.array([0.5, 0.5, 0.2, 0.1])
    for order in ([0, 1, 2, 3], [1, 0, 2, 3]):
        assert evaluate.top_share_metrics(y[order], p[order], 0.25) == (2.0, 0.5)
        gain = evaluate.gain_table(y[order], p[order], "m", steps=4)
        assert gain["capture"].tolist() == [0.5, 1.0, 1.0, 1.0]
    assert evaluate.top_weights(p, 1).tolist() == [0.5, 0.5, 0.0, 0.0]
    assert evaluate.top_weights(p, 3).tolist() == [1.0, 1.0, 1.0, 0.0]


def test_gain_table_reports_the_share_actually_targeted():
    # 7 rows, 5 % asked: one row is targeted, 1/7 of them, so the lift is 7, not 20.
    y, p = np.array([1, 0, 0, 0, 0, 0, 0]), np.linspace(0.9, 0.1, 7)
    first = evaluate.gain_table(y, p, "m", steps=20).iloc[0]
    assert first["share_targeted"] == round(1 / 7, 4) and first["lift"] == pytest.approx(7.0)


def test_sliced_metrics_per_value_and_small_slices_report_size_only():
    import pandas as pd

    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 200)
    p = np.clip(0.5 * y + 0.5 * rng.random(200), 0, 1)
    slices = pd.DataFrame({"region": ["a"] * 190 + ["b"] * 10})
    out = evaluate.sliced_metrics(y, p, slices, min_rows=30)
    assert out["region"]["a"]["n"] == 190 and "roc_auc" in out["region"]["a"]
    assert out["region"]["b"] == {"n": 10, "positive_rate": float(y[190:].mean())}


def test_figures_render_to_png(tmp_path):
    from churnml import io, plots

    y = np.array([0, 1, 0, 1, 1, 0])
    p = np.array([0.2, 0.7, 0.4, 0.9, 0.6, 0.1])
    tables = {"roc": evaluate.roc_points(y, p, "m"), "gain": evaluate.gain_table(y, p, "m", 3),
              "calibration": evaluate.calibration_table(y, p, "m", 5)}
    for name, table in tables.items():
        path = io.write_figure(plots.FIGURES[name](table, name), tmp_path / f"{name}.png")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_metric_direction_and_unknown_names():
    from churnml.errors import ConfigError

    assert evaluate.lower_is_better("brier") and evaluate.lower_is_better("ece")
    assert not evaluate.lower_is_better("roc_auc")
    assert not evaluate.lower_is_better("lift_10", [0.1, 0.2])
    for bad in ("lift_30", "Brier", "roc_auc_lo", "n"):
        with pytest.raises(ConfigError, match=r"evaluate\.promotion_metric"):
            evaluate.lower_is_better(bad, [0.1, 0.2])


@pytest.mark.parametrize("label", [0, 1])
def test_one_class_test_set_reports_rankings_as_undefined(recwarn, label):
    y, p = np.full(40, label), np.linspace(0.01, 0.5, 40)
    m = evaluate.metrics_with_intervals(y, p, samples=10)
    assert np.isnan(m["roc_auc"]) and np.isnan(m["pr_auc"])  # not 0.0 or 1.0
    assert m["brier"] == pytest.approx(np.mean((p - label) ** 2))  # still defined
    assert "roc_auc_lo" not in m
    assert evaluate.single_class_note(y) == f"holds one class only: 40 rows, all {label}"
    assert evaluate.single_class_note(np.array([0, 1, 0])) is None
    roc = evaluate.roc_points(y, p, "model")
    assert roc.empty and list(roc.columns) == ["model", "fpr", "tpr"]
    assert not [w for w in recwarn if "y_true" in str(w.message)]  # no sklearn noise
