"""Classification metrics with bootstrap intervals, and the data behind the plots."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve

from churnml.errors import ConfigError

# The point metrics of :func:`point_metrics`, by direction; ``lift_<pct>`` and
# ``capture_<pct>`` (one per ``evaluate.top_fractions`` entry) are higher-is-better too.
HIGHER_IS_BETTER = ("roc_auc", "pr_auc")
LOWER_IS_BETTER = ("brier", "ece")


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Weighted mean |observed rate - mean prediction| over equal-width probability bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(y[mask].mean() - p[mask].mean())
    return float(total)


def top_weights(score: np.ndarray, k: int) -> np.ndarray:
    """How much each row counts among the ``k`` best scores, whatever the row order.

    Rows above the ``k``-th best score count 1, rows below 0, and the rows tied at it
    share the places left: each counts ``(k - above) / tied``, the expected share of a
    random tie-break. So capture, lift or uplift at ``k`` never depend on which tied
    customer happens to come first (ties are common: isotonic calibration, day-level
    recency baselines).
    """
    score = np.asarray(score, dtype=float)
    k = min(k, len(score))
    if k <= 0:
        return np.zeros(len(score))
    kth = np.partition(score, len(score) - k)[len(score) - k]
    above, tied = score > kth, score == kth
    return above + tied * ((k - above.sum()) / tied.sum())


def top_share_metrics(y: np.ndarray, p: np.ndarray, fraction: float) -> tuple[float, float]:
    """Lift and capture rate when targeting the top ``fraction`` by score (ties shared,
    see :func:`top_weights`)."""
    k = max(1, round(fraction * len(p)))
    base = y.mean()
    hits = float(top_weights(p, k) @ y)
    lift = float((hits / k) / base) if base > 0 else float("nan")
    capture = float(hits / y.sum()) if y.sum() > 0 else float("nan")
    return lift, capture


def point_metrics(y: np.ndarray, p: np.ndarray, bins: int,
                  top_fractions: Sequence[float]) -> dict[str, float]:
    """ROC-AUC, PR-AUC, Brier, ECE, lift and capture at each top fraction.

    The two ranking metrics are NaN when ``y`` holds one class (see
    :func:`single_class_note`): no ranking can be judged then, and scikit-learn would
    report 0 or 1 for the PR-AUC.
    """
    both = single_class_note(y) is None
    out = {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p, bins),
    }
    for fraction in top_fractions:
        pct = round(100 * fraction)
        out[f"lift_{pct}"], out[f"capture_{pct}"] = top_share_metrics(y, p, fraction)
    return out


def single_class_note(y: np.ndarray) -> str | None:
    """Why the rankings of outcomes ``y`` cannot be judged, or None when both classes occur."""
    values = np.unique(y)
    if len(values) > 1:
        return None
    return f"holds one class only: {len(y)} rows, all {values[0] if len(values) else '-'}"


def metric_names(top_fractions: Sequence[float]) -> list[str]:
    """The point metrics :func:`point_metrics` reports for these top fractions."""
    tops = [f"{kind}_{round(100 * fraction)}" for fraction in top_fractions
            for kind in ("lift", "capture")]
    return [*HIGHER_IS_BETTER, *LOWER_IS_BETTER, *tops]


def lower_is_better(metric: str, top_fractions: Sequence[float] | None = None) -> bool:
    """Whether a smaller value of ``metric`` (a name :func:`point_metrics` reports) is better.

    Parameters
    ----------
    metric
        The metric name, e.g. ``evaluate.promotion_metric``.
    top_fractions
        ``evaluate.top_fractions``; when given, ``lift_<pct>``/``capture_<pct>`` must
        match one of them, else any percentage is accepted.

    Raises
    ------
    ConfigError
        ``metric`` is not one of the reported metrics.
    """
    if metric in LOWER_IS_BETTER:
        return True
    if metric in HIGHER_IS_BETTER:
        return False
    if top_fractions is not None:
        known = metric in metric_names(top_fractions)
    else:
        head, _, pct = metric.partition("_")
        known = head in ("lift", "capture") and pct.isdigit()
    if not known:
        allowed = metric_names(top_fractions if top_fractions is not None else (0.1, 0.2))
        raise ConfigError(f"evaluate.promotion_metric = {metric!r} is not a reported test "
                          f"metric; choose one of {allowed}")
    return False


def metrics_with_intervals(y: np.ndarray, p: np.ndarray, *, bins: int = 10,
                           top_fractions: Sequence[float] = (0.1, 0.2), samples: int = 200,
                           seed: int = 0, level: float = 0.95) -> dict[str, float]:
    """Point metrics plus percentile bootstrap intervals (``<name>_lo``, ``<name>_hi``).

    Parameters
    ----------
    y
        Binary outcomes.
    p
        Predicted probabilities of the positive class.
    """
    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    point = point_metrics(y, p, bins, top_fractions)
    rng = np.random.default_rng(seed)
    draws = {k: [] for k in point}
    for _ in range(samples):
        idx = rng.integers(0, len(y), len(y))
        if y[idx].min() == y[idx].max():
            continue
        for k, v in point_metrics(y[idx], p[idx], bins, top_fractions).items():
            draws[k].append(v)
    out = {"n": len(y), "positive_rate": float(y.mean()), **point}
    tail = (1 - level) / 2
    for k, values in draws.items():
        if values:
            out[f"{k}_lo"], out[f"{k}_hi"] = (float(np.quantile(values, tail)),
                                              float(np.quantile(values, 1 - tail)))
    return out


def roc_points(y: np.ndarray, p: np.ndarray, name: str, max_points: int = 200) -> pd.DataFrame:
    """ROC curve thinned to at most ``max_points`` points, labelled with ``name`` (no
    points when ``y`` holds one class: the curve is undefined)."""
    if single_class_note(y) is not None:
        return pd.DataFrame({"model": pd.Series(dtype=object), "fpr": pd.Series(dtype=float),
                             "tpr": pd.Series(dtype=float)})
    fpr, tpr, _ = roc_curve(y, p)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(max_points, len(fpr))).astype(int))
    return pd.DataFrame({"model": name, "fpr": fpr[keep].round(5), "tpr": tpr[keep].round(5)})


def calibration_table(y: np.ndarray, p: np.ndarray, name: str, bins: int = 10) -> pd.DataFrame:
    """Mean prediction vs observed rate per probability bin."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    frame = pd.DataFrame({"bin": which, "y": y, "p": p}).groupby("bin", as_index=False)
    table = frame.agg(predicted=("p", "mean"), observed=("y", "mean"), n=("y", "size"))
    return table.assign(model=name).round(5)


def gain_table(y: np.ndarray, p: np.ndarray, name: str, steps: int = 20) -> pd.DataFrame:
    """Cumulative gain (capture) and lift by share targeted, best scores first (ties
    shared, see :func:`top_weights`); the share is the ``k / n`` actually targeted."""
    k = np.maximum(1, np.round(np.linspace(1 / steps, 1.0, steps) * len(y)).astype(int))
    hits = np.array([top_weights(p, int(n)) @ y for n in k])
    shares = k / len(y)
    capture = hits / max(y.sum(), 1)
    return pd.DataFrame({"model": name, "share_targeted": shares.round(4),
                         "capture": capture.round(5), "lift": (capture / shares).round(5)})


def sliced_metrics(y: np.ndarray, p: np.ndarray, slices: pd.DataFrame,
                   min_rows: int = 30) -> dict[str, dict[str, dict[str, float]]]:
    """ROC-AUC, PR-AUC, Brier, size and positive rate per value of each slice column.

    Parameters
    ----------
    y, p
        Outcomes and probabilities, aligned with ``slices``' rows.
    slices
        One column per slicing dimension (e.g. ``region``, ``ladder_rung``).
    min_rows
        Slices smaller than this, or with a single class, report size and rate only.
    """
    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for column in slices.columns:
        values = slices[column].astype("string").fillna("<missing>").to_numpy()
        out[column] = {}
        for value in sorted(set(values)):
            mask = values == value
            entry = {"n": int(mask.sum()), "positive_rate": float(y[mask].mean())}
            if mask.sum() >= min_rows and 0 < y[mask].sum() < mask.sum():
                entry.update(roc_auc=float(roc_auc_score(y[mask], p[mask])),
                             pr_auc=float(average_precision_score(y[mask], p[mask])),
                             brier=float(brier_score_loss(y[mask], p[mask])))
            out[column][str(value)] = entry
    return out
