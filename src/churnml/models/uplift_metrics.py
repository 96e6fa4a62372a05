"""Uplift metrics on randomised data: Qini and uplift curves, their areas, uplift@k.

For one arm against the control: sort customers by predicted uplift, best first; after
the top ``k`` of ``n``,

* Qini curve ``Q(k) = Y_t(k) - Y_c(k) * N_t(k) / N_c(k)``: incremental outcomes so far;
* uplift curve ``U(k) = (Y_t(k) / N_t(k) - Y_c(k) / N_c(k)) * k``,

where ``Y`` counts outcomes and ``N`` customers of the treated (t) and control (c)
groups among the top ``k`` (ties in the score are kept together). Areas are taken
with the x axis as the share targeted (0..1) and the curve per customer (divided by
``n``), so they read as "incremental outcomes per customer". Random targeting is the
straight line to the curve's end, whose area is half of it: :func:`qini_coefficient`
and :func:`auuc_gain` are the model's area above that line (0 for random targeting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from churnml.evaluate import top_weights


@dataclass(frozen=True)
class Curve:
    """A curve at the distinct score thresholds: share targeted and value per customer."""

    share: np.ndarray
    value: np.ndarray

    @property
    def area(self) -> float:
        """Trapezoidal area under the curve."""
        return float(np.trapezoid(self.value, self.share))

    @property
    def random_area(self) -> float:
        """Area under random targeting: the straight line to the curve's end."""
        return float(self.value[-1] / 2.0)


def _cumulative(y: np.ndarray, score: np.ndarray, treated: np.ndarray) -> tuple[np.ndarray, ...]:
    y, score = np.asarray(y, dtype=float), np.asarray(score, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    order = np.argsort(-score, kind="mergesort")
    y, score, treated = y[order], score[order], treated[order]
    cut = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    n_t = np.cumsum(treated)[cut].astype(float)
    n_all = (cut + 1).astype(float)
    y_t = np.cumsum(y * treated)[cut]
    y_c = np.cumsum(y * ~treated)[cut]
    return n_all, n_t, n_all - n_t, y_t, y_c


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


def qini_curve(y: np.ndarray, score: np.ndarray, treated: np.ndarray) -> Curve:
    """The Qini curve (see the module docstring), starting at (0, 0)."""
    n_all, n_t, n_c, y_t, y_c = _cumulative(y, score, treated)
    value = y_t - y_c * _ratio(n_t, n_c)
    n = float(len(y))
    return Curve(np.r_[0.0, n_all / n], np.r_[0.0, value / n])


def uplift_curve(y: np.ndarray, score: np.ndarray, treated: np.ndarray) -> Curve:
    """The uplift curve (see the module docstring), starting at (0, 0)."""
    n_all, n_t, n_c, y_t, y_c = _cumulative(y, score, treated)
    value = (_ratio(y_t, n_t) - _ratio(y_c, n_c)) * n_all
    n = float(len(y))
    return Curve(np.r_[0.0, n_all / n], np.r_[0.0, value / n])


def qini_coefficient(y: np.ndarray, score: np.ndarray, treated: np.ndarray) -> float:
    """Area between the Qini curve and random targeting (higher is better; 0 = random)."""
    curve = qini_curve(y, score, treated)
    return curve.area - curve.random_area


def auuc_gain(y: np.ndarray, score: np.ndarray, treated: np.ndarray) -> float:
    """Area between the uplift curve and random targeting (0 = random)."""
    curve = uplift_curve(y, score, treated)
    return curve.area - curve.random_area


def uplift_at_k(y: np.ndarray, score: np.ndarray, treated: np.ndarray, k: float = 0.3) -> float:
    """Outcome rate of the treated minus that of the control among the top ``k`` share
    of all customers by score (scikit-uplift's ``uplift_at_k``, strategy "overall"; the
    customers tied at the cut-off share its places, :func:`churnml.evaluate.top_weights`)."""
    if not 0 < k < 1:
        raise ValueError(f"k must be in (0, 1), got {k}")
    y, treated = np.asarray(y, dtype=float), np.asarray(treated, dtype=bool)
    weight = top_weights(score, math.ceil(len(y) * k))  # ties at the cut-off shared
    w_t, w_c = weight * treated, weight * ~treated
    if w_t.sum() == 0 or w_c.sum() == 0:
        return float("nan")
    return float(w_t @ y / w_t.sum() - w_c @ y / w_c.sum())


def arm_metrics(y: np.ndarray, score: np.ndarray, treated: np.ndarray,
                k: float = 0.3) -> dict[str, float]:
    """Qini and AUUC areas of the model and of random targeting, and uplift@k
    (model, and the overall uplift that random targeting gets at any k)."""
    qini, lift = qini_curve(y, score, treated), uplift_curve(y, score, treated)
    y, treated = np.asarray(y, dtype=float), np.asarray(treated, dtype=bool)
    overall = float(y[treated].mean() - y[~treated].mean()) if treated.any() and (
        ~treated).any() else float("nan")
    return {"rows": float(len(y)), "qini_area": qini.area, "qini_area_random": qini.random_area,
            "qini_coefficient": qini.area - qini.random_area, "auuc": lift.area,
            "auuc_random": lift.random_area, "auuc_gain": lift.area - lift.random_area,
            f"uplift_at_{round(k * 100)}": uplift_at_k(y, score, treated, k),
            f"uplift_at_{round(k * 100)}_random": overall}
