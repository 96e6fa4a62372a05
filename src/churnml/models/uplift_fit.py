"""Fit the multi-treatment uplift models with causalml and pick a learner per arm.

Both meta-learners are fitted on the training rows; each arm keeps the learner with the
higher Qini coefficient on the validation rows (:func:`fit_uplift`), then (``refit``)
the chosen learners are fitted again on training + validation rows. Arms with too few
rows get no model: the offer engine falls back to the catalogue's priors for them.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from churnml.models.uplift import LEARNERS, UpliftModel, categories_of, encode
from churnml.models.uplift_metrics import qini_coefficient

log = logging.getLogger(__name__)


@dataclass
class UpliftFit:
    """The chosen model and what the choice was based on."""

    model: UpliftModel
    validation: dict[str, dict[str, float]] = field(default_factory=dict)
    rows: dict[str, dict[str, int]] = field(default_factory=dict)


def _lgbm(params: Mapping[str, Any], seed: int, regressor: bool = False) -> Any:
    from lightgbm import LGBMClassifier, LGBMRegressor

    cls = LGBMRegressor if regressor else LGBMClassifier
    return cls(**dict(params), random_state=seed, verbose=-1, deterministic=True,
               force_row_wise=True)


def _propensity(treatment: np.ndarray, arms: Sequence[str], control: str) -> dict[str, float]:
    """Each arm's share among its arm-or-control rows (the randomisation's propensity)."""
    n_c = float((treatment == control).sum())
    return {a: float((treatment == a).sum()) / (float((treatment == a).sum()) + n_c) for a in arms}


def validation_qini(model: UpliftModel, arm: str, X: pd.DataFrame, y: np.ndarray,
                    treatment: np.ndarray, control: str) -> float:
    """Qini coefficient of ``arm`` on the validation rows of that arm and the control."""
    rows = (treatment == arm) | (treatment == control)
    if not rows.any():
        return float("nan")
    score = model.predict_arm(arm, X.loc[rows])
    return qini_coefficient(y[rows], score, treatment[rows] == arm)


def fit_learner(kind: str, X: pd.DataFrame, y: np.ndarray, treatment: np.ndarray,
                control: str, params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """Fit a causalml ``kind`` (``t`` or ``x``) learner; return its boosters per arm.

    Returns
    -------
    dict
        ``{"control": booster text or None, "arms": {arm: spec}}`` in the form
        :class:`~churnml.models.uplift.UpliftModel` stores.
    """
    from causalml.inference.meta import BaseTClassifier, BaseXClassifier

    arms = sorted(set(treatment) - {control})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        if kind == "t":
            learner = BaseTClassifier(learner=_lgbm(params, seed), control_name=control)
            learner.fit(X, treatment=treatment, y=y)
            return {"control": learner.model_c.booster_.model_to_string(),
                    "arms": {a: {"learner": "t", "treated":
                                 learner.models_t[a].booster_.model_to_string()} for a in arms}}
        p = _propensity(treatment, arms, control)
        learner = BaseXClassifier(outcome_learner=_lgbm(params, seed),
                                  effect_learner=_lgbm(params, seed, regressor=True),
                                  control_name=control)
        learner.fit(X, treatment=treatment, y=y, p={a: np.full(len(X), p[a]) for a in arms})
    return {"control": None, "arms": {a: {
        "learner": "x", "propensity": p[a],
        "effect_control": learner.models_tau_c[a].booster_.model_to_string(),
        "effect_treated": learner.models_tau_t[a].booster_.model_to_string()} for a in arms}}


def usable_arms(treatment: np.ndarray, roles: np.ndarray, control: str,
                min_rows: int) -> list[str]:
    """Arms with at least ``min_rows`` rows, and a control as large, in every role."""
    arms = sorted(set(treatment) - {control})
    ok = []
    for arm in arms:
        counts = [int(((treatment == g) & (roles == r)).sum())
                  for g in (arm, control) for r in set(roles)]
        if min(counts) >= min_rows:
            ok.append(arm)
        else:
            log.warning("uplift: arm %s has too few rows (%s), no model: priors apply",
                        arm, counts)
    return ok


def _model(fitted: Mapping[str, dict[str, Any]], choice: Mapping[str, str],
           features: list[str], categories: dict[str, list[str]]) -> UpliftModel:
    arms = {arm: fitted[kind]["arms"][arm] for arm, kind in choice.items()}
    control = fitted["t"]["control"] if "t" in fitted else None
    return UpliftModel(features, categories, arms, control if "t" in choice.values() else None)


def fit_uplift(frame: pd.DataFrame, features: Sequence[str], cfg: Mapping[str, Any]) -> UpliftFit:
    """Fit, select per arm by validation Qini, and refit.

    Parameters
    ----------
    frame
        One row per campaign record: the ``features``, ``treatment`` (arm id),
        ``outcome`` (0/1) and ``role`` (``train`` / ``validation``).
    cfg
        The ``offers.uplift`` section: ``control, learners, min_arm_rows, lightgbm,
        seed`` and ``refit`` (default true).
    """
    control, seed = str(cfg["control"]), int(cfg["seed"])
    features = list(features)
    categories = categories_of(frame, features)
    treatment = frame["treatment"].astype(str).to_numpy()
    roles = frame["role"].astype(str).to_numpy()
    arms = usable_arms(treatment, roles, control, int(cfg["min_arm_rows"]))
    rows = {a: {r: int(((treatment == a) & (roles == r)).sum()) for r in ("train", "validation")}
            for a in [*arms, control]}
    keep = np.isin(treatment, [*arms, control])
    X, y = encode(frame.loc[keep], features, categories), frame.loc[keep, "outcome"].to_numpy(int)
    treatment, roles = treatment[keep], roles[keep]
    if not arms:
        return UpliftFit(UpliftModel(features, categories, {}), {}, rows)
    train, valid = roles == "train", roles == "validation"
    kinds = [k for k in cfg.get("learners", LEARNERS) if k in LEARNERS]
    fitted = {k: fit_learner(k, X[train], y[train], treatment[train], control,
                             cfg["lightgbm"], seed) for k in kinds}
    scores = {a: {k: validation_qini(_model(fitted, {a: k}, features, categories), a,
                                     X[valid], y[valid], treatment[valid], control)
                  for k in kinds} for a in arms}
    choice = {a: max(kinds, key=lambda k, a=a: np.nan_to_num(scores[a][k], nan=-np.inf))
              for a in arms}
    log.info("uplift: validation Qini by arm %s -> learners %s", scores, choice)
    if cfg.get("refit", True):
        fitted = {k: fit_learner(k, X, y, treatment, control, cfg["lightgbm"], seed)
                  for k in sorted(set(choice.values()))}
    return UpliftFit(_model(fitted, choice, features, categories), scores, rows)
