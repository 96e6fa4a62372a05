"""Has the population drifted away from the training data? Pure functions, no I/O.

At training time :func:`training_profile` summarises each model feature: quantile
bin edges and bin shares for numeric features, category shares for categorical
ones, and the share of missing values. At scoring time :func:`check_drift`
compares the rows about to be scored with that profile:

* **PSI** (population stability index) per feature, ``sum((a - e) * ln(a / e))``
  over the bins (missing values are a bin of their own; shares of zero are floored
  at ``SHARE_FLOOR``);
* **new-category share** per categorical feature: the share of rows whose value
  was never seen in training (the model treats those as missing). Such rows are
  left out of that feature's PSI, so the two measures do not count the same rows.

Each feature gets a status ``ok``, ``warn`` or ``refuse`` from the thresholds in
the ``score.drift`` config section; the run's decision is the worst status.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from churnml.errors import ChurnmlError

log = logging.getLogger(__name__)

PROFILE_FORMAT = 1
PROFILE_FILE = "profile.json"
PROFILE_BINS = 10
SHARE_FLOOR = 1e-4
STATUSES = ("ok", "warn", "refuse")


def is_categorical(series: pd.Series) -> bool:
    """Whether a column is treated as categorical (not numeric and not boolean)."""
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def numeric_edges(values: np.ndarray, bins: int = PROFILE_BINS) -> list[float]:
    """Interior quantile edges of the non-missing ``values`` (ties collapse bins)."""
    present = values[~np.isnan(values)]
    if present.size == 0:
        return []
    quantiles = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])
    return [float(q) for q in np.unique(quantiles)]


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


def training_profile(frame: pd.DataFrame, bins: int = PROFILE_BINS) -> dict[str, Any]:
    """Profile every column of ``frame`` (the model's training rows and features).

    Parameters
    ----------
    frame
        One column per model feature; no key or target columns.
    bins
        Number of quantile bins per numeric feature (fewer when values tie).

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
    return {"format_version": PROFILE_FORMAT, "rows": len(frame), "numeric": numeric,
            "categorical": categorical}


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
    counts = seen.value_counts(dropna=True)
    actual = np.array([counts.get(k, 0) for k in known] + [seen.isna().sum()], dtype=float)
    actual = actual / max(len(seen), 1)
    expected = np.array([entry["shares"][k] for k in known] + [entry["missing_share"]])
    return psi(expected, actual), new_share


@dataclass(frozen=True)
class Thresholds:
    """Drift thresholds (the ``score.drift`` config section).

    A feature warns at ``psi_warn`` or ``new_category_warn`` and refuses at
    ``psi_refuse`` or ``new_category_refuse``. Features in ``warn_only`` (those that
    drift by construction as history accumulates, e.g. days since the first observed
    purchase) and runs with fewer than ``min_rows`` rows (estimates too noisy) can
    warn but never refuse.
    """

    psi_warn: float = 0.1
    psi_refuse: float = 0.25
    new_category_warn: float = 0.01
    new_category_refuse: float = 0.05
    min_rows: int = 500
    warn_only: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> Thresholds:
        """Build from the ``score.drift`` section (unknown keys are ignored)."""
        keys = ("psi_warn", "psi_refuse", "new_category_warn", "new_category_refuse")
        values: dict[str, Any] = {k: float(cfg[k]) for k in keys if k in cfg}
        if "min_rows" in cfg:
            values["min_rows"] = int(cfg["min_rows"])
        values["warn_only"] = tuple(cfg.get("warn_only") or ())
        return cls(**values)

    def status(self, name: str, psi_value: float, new_share: float, rows: int) -> str:
        """``ok``, ``warn`` or ``refuse`` for feature ``name``."""
        if psi_value >= self.psi_refuse or new_share >= self.new_category_refuse:
            can_refuse = rows >= self.min_rows and name not in self.warn_only
            return "refuse" if can_refuse else "warn"
        if psi_value >= self.psi_warn or new_share >= self.new_category_warn:
            return "warn"
        return "ok"


@dataclass
class DriftReport:
    """Drift of one model's input rows against its training profile."""

    rows: int
    features: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def decision(self) -> str:
        """The worst feature status (``ok`` when there are no features)."""
        worst = max((STATUSES.index(f["status"]) for f in self.features.values()), default=0)
        return STATUSES[worst]

    def named(self, status: str) -> list[str]:
        """Features with exactly this status, sorted by name."""
        return sorted(n for n, f in self.features.items() if f["status"] == status)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary for the manifest."""
        return {"rows": self.rows, "decision": self.decision, "refused": self.named("refuse"),
                "warned": self.named("warn"), "features": self.features}


def check_drift(profile: dict[str, Any], frame: pd.DataFrame,
                thresholds: Thresholds) -> DriftReport:
    """Compare the rows about to be scored with a training profile.

    Parameters
    ----------
    profile
        Output of :func:`training_profile`.
    frame
        The rows one model will score; needs every profiled feature as a column.
    thresholds
        Warn / refuse thresholds.

    Returns
    -------
    DriftReport
        Per feature ``psi``, ``new_category_share`` and ``status``.
    """
    missing = [n for n in (*profile["numeric"], *profile["categorical"]) if n not in frame]
    if missing:
        raise ValueError(f"rows to score lack profiled features {missing[:5]}")
    report = DriftReport(rows=len(frame))
    if frame.empty:
        return report
    for name, entry in profile["numeric"].items():
        values = pd.to_numeric(frame[name]).to_numpy(dtype=float, na_value=np.nan)
        report.features[name] = _entry(psi(entry["shares"], numeric_shares(values, entry["edges"])),
                                       0.0, name, len(frame), thresholds)
    for name, entry in profile["categorical"].items():
        psi_value, new_share = categorical_drift(entry, frame[name])
        report.features[name] = _entry(psi_value, new_share, name, len(frame), thresholds)
    report.features = dict(sorted(report.features.items()))
    return report


def _entry(psi_value: float, new_share: float, name: str, rows: int,
           thresholds: Thresholds) -> dict[str, Any]:
    return {"psi": round(psi_value, 6), "new_category_share": round(new_share, 6),
            "status": thresholds.status(name, psi_value, new_share, rows)}


class DriftRefusedError(ChurnmlError):
    """The rows to score drifted beyond the refuse thresholds (exit code 2)."""

    exit_code = 2


def _describe(report: dict[str, Any], names: list[str]) -> str:
    parts = []
    for name in names:
        entry = report["features"][name]
        text = f"{name} (PSI {entry['psi']:.2f}"
        if entry["new_category_share"]:
            text += f", {100 * entry['new_category_share']:.1f} % new categories"
        parts.append(text + ")")
    return ", ".join(parts)


def gate(rows: dict[str, pd.DataFrame], profiles: dict[str, dict[str, Any] | None],
         cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Check each model's rows against its profile; refuse or pass with warnings.

    Parameters
    ----------
    rows
        Per model kind, the feature rows it will score.
    profiles
        Per model kind, its training profile or None (decision ``unavailable``).
    cfg
        The ``score.drift`` config section (thresholds, ``missing_profile``).

    Returns
    -------
    dict
        Per model kind, the drift report as a dict (for the manifest and summary).

    Raises
    ------
    DriftRefusedError
        Naming every feature over a refuse threshold (or a model without profile
        when ``missing_profile: refuse``).
    """
    thresholds = Thresholds.from_config(cfg)
    results, refusals = {}, []
    for kind, frame in rows.items():
        profile = profiles.get(kind)
        if profile is None:
            results[kind] = {"rows": len(frame), "decision": "unavailable"}
            if cfg.get("missing_profile", "warn") == "refuse":
                refusals.append(f"{kind}: no training profile saved with the model")
            continue
        report = check_drift(profile, frame, thresholds).to_dict()
        results[kind] = report
        if report["warned"]:
            log.warning("drift warning, %s model: %s", kind, _describe(report, report["warned"]))
        if report["refused"]:
            refusals.append(f"{kind}: {_describe(report, report['refused'])}")
    if refusals:
        raise DriftRefusedError("drift check refused to score (thresholds in score.drift): "
                                + "; ".join(refusals))
    return results
