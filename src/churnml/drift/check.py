"""Drift decisions: per-feature status from thresholds, the run's ok / warn / refuse gate."""

from __future__ import annotations

import fnmatch
import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from churnml.drift.profile import feature_psi
from churnml.errors import ChurnmlError, ConfigError

log = logging.getLogger(__name__)
STATUSES = ("ok", "warn", "refuse")
MODEL_KINDS = ("attrition", "winback")  # the models the scoring job checks


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
    snapshot_margin: float = 1.5
    warn_only: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, cfg: dict[str, Any], kind: str | None = None) -> Thresholds:
        """Build from the ``score.drift`` section (unknown keys are ignored).

        For model ``kind``, its ``warn_only_by_model`` entries add to ``warn_only``.
        """
        keys = ("psi_warn", "psi_refuse", "new_category_warn", "new_category_refuse",
                "snapshot_margin")
        values: dict[str, Any] = {k: float(cfg[k]) for k in keys if k in cfg}
        if "min_rows" in cfg:
            values["min_rows"] = int(cfg["min_rows"])
        by_model = cfg.get("warn_only_by_model") or {}
        unknown = sorted(set(by_model) - set(MODEL_KINDS))
        if unknown:
            raise ConfigError(f"score.drift.warn_only_by_model: unknown model {unknown}; "
                              f"choose from {list(MODEL_KINDS)}")
        own = (by_model.get(kind) or ()) if kind else ()
        own = (own,) if isinstance(own, str) else tuple(own)
        values["warn_only"] = (*tuple(cfg.get("warn_only") or ()), *own)
        return cls(**values)

    def psi_limits(self, spread: float) -> tuple[float, float]:
        """Warn and refuse PSI for a feature that moves ``spread`` between training
        snapshots anyway (``snapshot_psi_max`` of its profile)."""
        return max(self.psi_warn, spread), max(self.psi_refuse, self.snapshot_margin * spread)

    def status(self, name: str, psi_value: float, new_share: float, rows: int,
               spread: float = 0.0) -> str:
        """``ok``, ``warn`` or ``refuse`` for feature ``name``."""
        warn_at, refuse_at = self.psi_limits(spread)
        if psi_value >= refuse_at or new_share >= self.new_category_refuse:
            can_refuse = rows >= self.min_rows and not self.is_warn_only(name)
            return "refuse" if can_refuse else "warn"
        if psi_value >= warn_at or new_share >= self.new_category_warn:
            return "warn"
        return "ok"

    def is_warn_only(self, name: str) -> bool:
        """Whether ``name`` matches a ``warn_only`` entry (shell-style patterns allowed)."""
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.warn_only)


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
    for kind in ("numeric", "categorical"):
        for name, entry in profile[kind].items():
            psi_value, new_share = feature_psi(kind, entry, frame[name])
            spread = float(entry.get("snapshot_psi_max", 0.0))
            report.features[name] = {
                "psi": round(psi_value, 6), "new_category_share": round(new_share, 6),
                "psi_refuse_at": round(thresholds.psi_limits(spread)[1], 6),
                "status": thresholds.status(name, psi_value, new_share, len(frame), spread)}
    report.features = dict(sorted(report.features.items()))
    return report


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
    Thresholds.from_config(cfg)  # a config error before any work
    results, refusals = {}, []
    for kind, frame in rows.items():
        thresholds = Thresholds.from_config(cfg, kind)
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
