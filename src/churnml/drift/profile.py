"""Training profiles and the population stability index (pure functions, no I/O).

A profile summarises each model feature over the training rows: quantile bin edges
(one bin per value for a feature with few distinct values, see :func:`numeric_edges`)
and bin shares for numeric features (missing values are a bin of their own),
category shares and the missing share for categorical ones, and optionally how far
each feature moves between training snapshots anyway.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PROFILE_FORMAT = 1
PROFILE_FILE = "profile.json"
PROFILE_BINS = 10
SHARE_FLOOR = 1e-4
MIN_SNAPSHOT_ROWS = 30


def is_categorical(series: pd.Series) -> bool:
    """Whether a column is treated as categorical (not numeric and not boolean)."""
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def numeric_edges(values: np.ndarray, bins: int = PROFILE_BINS) -> list[float]:
    """Bin edges of the non-missing ``values`` for :func:`numeric_shares`.

    A feature with at most ``bins`` distinct values (a 0/1 flag, a small count, a
    constant) gets one bin per value, plus a bin below the smallest and one above the
    largest, so a change in the mix of its values, or a value outside them, shows.
    Quantile edges would tie there: a flag that is 1 for most rows has every interior
    quantile at 1, which puts 0 and 1 in the same bin and hides any shift in its rate.
    Other features get interior quantile edges (ties collapse bins).

    Parameters
    ----------
    values
        Float values, NaN for missing.
    bins
        Number of quantile bins; also the most distinct values that get a bin each.

    Returns
    -------
    list of float
        Increasing finite edges; values beyond the first or last fall in the open end
        bins ``(-inf, e1]`` and ``(ek, inf)``.
    """
    present = values[~np.isnan(values)]
    if present.size == 0:
        return []
    distinct = np.unique(present[np.isfinite(present)])
    if 0 < distinct.size <= bins:  # just below the smallest, then each value closes its bin
        return [float(np.nextafter(distinct[0], -np.inf)), *(float(v) for v in distinct)]
    quantiles = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])
    return [float(q) for q in np.unique(quantiles) if np.isfinite(q)]


def numeric_shares(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Shares of ``values`` in the bins ``(-inf, e1], (e1, e2], ..., (ek, inf)``, then missing."""
    missing = np.isnan(values)
    index = np.searchsorted(np.asarray(edges, dtype=float), values[~missing], side="left")
    counts = np.bincount(index, minlength=len(edges) + 1).astype(float)
    counts = np.append(counts, missing.sum())
    return counts / max(len(values), 1)


def _as_text(series: pd.Series) -> pd.Series:
    return series.astype("string")


def category_shares(series: pd.Series) -> dict[str, float]:
    """Share of each category; missing values are left out (see ``missing_share``)."""
    counts = _as_text(series).value_counts(dropna=True).sort_index()
    return {str(k): float(v) / max(len(series), 1) for k, v in counts.items()}


def training_profile(frame: pd.DataFrame, bins: int = PROFILE_BINS,
                     snapshots: pd.Series | None = None) -> dict[str, Any]:
    """Profile every column of ``frame`` (the model's training rows and features).

    Parameters
    ----------
    frame
        One column per model feature; no key or target columns.
    bins
        Number of quantile bins per numeric feature (fewer when values tie); a feature
        with at most this many distinct values gets a bin per value instead.
    snapshots
        The snapshot date of each row (aligned with ``frame``). When given, each
        feature also records ``snapshot_psi_max``: the largest PSI between one training
        snapshot and all training rows, i.e. how far the feature moves from month to
        month anyway (incident exposure swings, a count does not).

    Returns
    -------
    dict
        JSON-ready ``{"format_version", "rows", "numeric": {name: {"edges", "shares"}},
        "categorical": {name: {"shares", "missing_share"}}}``; numeric ``shares`` end
        with the missing share.
    """
    numeric, categorical = {}, {}
    for name in sorted(frame.columns):
        column = frame[name]
        if is_categorical(column):
            categorical[name] = {"shares": category_shares(column),
                                 "missing_share": float(column.isna().mean())}
        else:
            values = pd.to_numeric(column).to_numpy(dtype=float, na_value=np.nan)
            edges = numeric_edges(values, bins)
            shares = numeric_shares(values, edges)
            numeric[name] = {"edges": edges, "shares": [float(s) for s in shares]}
    profile = {"format_version": PROFILE_FORMAT, "rows": len(frame), "numeric": numeric,
               "categorical": categorical}
    if snapshots is not None:
        _add_snapshot_spread(profile, frame.reset_index(drop=True),
                             pd.Series(np.asarray(snapshots)))
    return profile


def _add_snapshot_spread(profile: dict[str, Any], frame: pd.DataFrame,
                         snapshots: pd.Series) -> None:
    groups = [rows for rows in snapshots.groupby(snapshots).indices.values()
              if len(rows) >= MIN_SNAPSHOT_ROWS]
    for kind in ("numeric", "categorical"):
        for name, entry in profile[kind].items():
            spread = [feature_psi(kind, entry, frame[name].iloc[rows])[0] for rows in groups]
            entry["snapshot_psi_max"] = round(max(spread, default=0.0), 6)
    profile["snapshots"] = len(groups)


def feature_psi(kind: str, entry: dict[str, Any], series: pd.Series) -> tuple[float, float]:
    """PSI of ``series`` against one profile entry, and its new-category share.

    ``kind`` is ``numeric`` or ``categorical`` (the profile section of ``entry``).
    """
    if kind == "categorical":
        return categorical_drift(entry, series)
    values = pd.to_numeric(series).to_numpy(dtype=float, na_value=np.nan)
    return psi(entry["shares"], numeric_shares(values, entry["edges"])), 0.0


def psi(expected: np.ndarray, actual: np.ndarray, floor: float = SHARE_FLOOR) -> float:
    """Population stability index between two share vectors over the same bins."""
    e = np.maximum(np.asarray(expected, dtype=float), floor)
    a = np.maximum(np.asarray(actual, dtype=float), floor)
    both_empty = (np.asarray(expected) == 0) & (np.asarray(actual) == 0)
    terms = np.where(both_empty, 0.0, (a - e) * np.log(a / e))
    return float(terms.sum())


def categorical_drift(entry: dict[str, Any], series: pd.Series) -> tuple[float, float]:
    """PSI over the training categories (plus missing) and the new-category share."""
    known = list(entry["shares"])
    text = _as_text(series)
    is_new = text.notna() & ~text.isin(known)
    new_share = float(is_new.mean()) if len(series) else 0.0
    seen = text[~is_new]
    if seen.empty:  # nothing to compare the known mix with: the new share says it all
        return 0.0, new_share
    counts = seen.value_counts(dropna=True)
    actual = np.array([counts.get(k, 0) for k in known] + [seen.isna().sum()], dtype=float)
    actual = actual / max(len(seen), 1)
    expected = np.array([entry["shares"][k] for k in known] + [entry["missing_share"]])
    return psi(expected, actual), new_share
