"""Per-cause response lines of each offer, fitted on the randomised campaign history.

The catalogue's prior for an active customer is ``protect[c] + rescue[c] x P(attrition)``
(``c`` the likely cause) and for a lapsed one ``return[churn_cause]``
(:func:`churnml.offers.catalogue.prior_matrix`). Here those numbers are estimated from
past campaigns, whose arms were randomised: within each likely cause ``c`` the outcome
(a purchase within the horizon) of active customers is regressed on

    1, P, T_o, T_o x P     (T_o = 1 if the customer got offer o, P = P(attrition))

so that ``T_o`` is the offer's ``protect`` and ``T_o x P`` its ``rescue``; within each churn
cause of lapsed customers on ``1, T_o`` (``return``). Coefficients are shrunk towards the
config priors by a ridge penalty worth ``prior_rows`` customers (empirical-Bayes flavour:
a cell with few treated customers stays close to its prior, one with many follows its
data); the baseline terms are not shrunk. A cause with fewer than ``min_control_rows``
control customers keeps the priors. All functions are pure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from churnml.offers.catalogue import DEFAULT

log = logging.getLogger(__name__)
KINDS = ("protect", "rescue", "return")
ROW_COLUMNS = ["treatment", "outcome", "status", "p_attrition", "likely_cause", "churn_cause"]


def _prior(table: Any, cause: str) -> float:
    """``table[cause]``, else ``table["default"]``, else 0 (a number holds for all)."""
    if not isinstance(table, Mapping):
        return float(table or 0.0)
    return float(table.get(cause, table.get(DEFAULT, 0.0)))


def _ridge(x: np.ndarray, y: np.ndarray, penalty: np.ndarray, target: np.ndarray) -> np.ndarray:
    """argmin ||y - x b||^2 + sum penalty (b - target)^2 (closed form)."""
    gram = x.T @ x + np.diag(penalty)
    return np.linalg.solve(gram, x.T @ y + penalty * target)


def _cell_fit(cell: pd.DataFrame, offers: list[str], priors: dict[str, tuple[float, float]],
              cfg: Mapping[str, Any], control: str, slope: bool) -> dict[str, tuple[float, float]]:
    """(level, slope) per offer for one cause; the priors where the data cannot tell."""
    treat = cell["treatment"].astype(str).to_numpy()
    y = cell["outcome"].to_numpy(float)
    if int((treat == control).sum()) < int(cfg["min_control_rows"]):
        return priors
    p = cell["p_attrition"].to_numpy(float) if slope else np.zeros(len(cell))
    dummies = np.column_stack([treat == o for o in offers]).astype(float)
    blocks = [np.ones(len(cell)), p, *dummies.T] + ([*(dummies * p[:, None]).T] if slope else [])
    x = np.column_stack(blocks)
    k = float(cfg["prior_rows"])
    base_penalty = [1e-9, 1e-9 if slope else 1.0]
    level_penalty = [max(k, 1e-9)] * len(offers)
    slope_penalty = [max(k * float(np.mean(p ** 2)), 1e-9)] * len(offers) if slope else []
    target = np.array([0.0, 0.0, *[priors[o][0] for o in offers],
                       *([priors[o][1] for o in offers] if slope else [])])
    beta = _ridge(x, y, np.array(base_penalty + level_penalty + slope_penalty), target)
    levels = beta[2:2 + len(offers)]
    slopes = beta[2 + len(offers):] if slope else np.zeros(len(offers))
    return {o: (float(levels[i]), float(slopes[i])) for i, o in enumerate(offers)}


def fit_response_lines(rows: pd.DataFrame, priors_cfg: Mapping[str, Mapping[str, Any]],
                       cfg: Mapping[str, Any], control: str = "control") -> dict[str, Any]:
    """Fit ``protect``/``rescue`` per (offer, likely cause) and ``return`` per
    (offer, churn cause) from randomised campaign rows, shrunk towards the priors.

    Parameters
    ----------
    rows
        One row per campaign record: ``treatment`` (offer id or ``control``),
        ``outcome`` (0/1), ``status`` (active / lapsed), ``p_attrition`` (active rows),
        ``likely_cause`` (active rows) and ``churn_cause`` (lapsed rows).
    priors_cfg
        Offer id -> its config ``prior`` mapping (``protect``, ``rescue``, ``return``;
        each a number or a mapping by cause with ``default``).
    cfg
        ``offers.response_lines``: ``prior_rows`` (ridge strength, in customers) and
        ``min_control_rows``.

    Returns
    -------
    dict
        ``priors``: offer id -> ``{protect, rescue, return}`` mappings by cause (the
        config priors with the fitted cells written over them) and ``cells``: treated
        and control counts per status, cause and offer.
    """
    missing = [c for c in ROW_COLUMNS if c not in rows]
    if missing:
        raise ValueError(f"response lines: campaign rows lack columns {missing}")
    out = {o: {k: _as_table(p.get(k, 0.0)) for k in KINDS} for o, p in priors_cfg.items()}
    rows = _catalogued(rows, [control, *out])
    cells: dict[str, Any] = {}
    lapsed = rows["status"].astype(str).eq("lapsed").to_numpy()
    plans = [("active", rows.loc[~lapsed], "likely_cause", ("protect", "rescue")),
             ("lapsed", rows.loc[lapsed], "churn_cause", ("return", None))]
    for status, part, column, (level_kind, slope_kind) in plans:
        causes = part[column].astype("string").fillna("unknown")
        for cause, cell in part.groupby(causes.to_numpy(), sort=True):
            cause = str(cause)
            offers = sorted(o for o in set(cell["treatment"].astype(str)) if o in out)
            if not offers:
                continue
            priors = {o: (_prior(priors_cfg[o].get(level_kind, 0.0), cause),
                          _prior(priors_cfg[o].get(slope_kind, 0.0), cause) if slope_kind
                          else 0.0) for o in offers}
            fitted = _cell_fit(cell, offers, priors, cfg, control, slope_kind is not None)
            counts = cell["treatment"].astype(str).value_counts()
            cells.setdefault(status, {})[cause] = {o: int(counts.get(o, 0))
                                                   for o in [control, *offers]}
            for offer, (level, slope) in fitted.items():
                out[offer][level_kind][cause] = round(level, 5)
                if slope_kind:
                    out[offer][slope_kind][cause] = round(slope, 5)
    log.info("response lines: fitted %d active and %d lapsed cause cells",
             len(cells.get("active", {})), len(cells.get("lapsed", {})))
    return {"priors": out, "cells": cells}


def _catalogued(rows: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    """The rows whose treatment is the control or a catalogue offer. Others (a retired
    offer, a typo) are left out with a warning: kept, they would have no dummy and be
    fitted as if they were the control."""
    treatment = rows["treatment"].astype(str)
    unknown = ~treatment.isin(arms)
    if unknown.any():
        counts = treatment[unknown].value_counts().sort_index()
        log.warning("response lines: %d campaign rows left out, their offers are not in the "
                    "catalogue: %s", int(unknown.sum()), counts.to_dict())
    return rows.loc[~unknown.to_numpy()]


def _as_table(value: Any) -> dict[str, float]:
    if isinstance(value, Mapping):
        return {str(k): float(v) for k, v in value.items()}
    return {DEFAULT: float(value or 0.0)}


def with_fitted_priors(offers_cfg: Mapping[str, Any], lines: Mapping[str, Any] | None
                       ) -> dict[str, Any]:
    """The ``offers`` config section with each catalogue prior replaced by its fitted
    lines (offers without fitted lines, or no lines at all: the config priors)."""
    fitted = (lines or {}).get("priors") or {}
    catalogue = {o: (dict(spec) | {"prior": fitted[o]} if o in fitted else spec)
                 for o, spec in (offers_cfg.get("catalogue") or {}).items()}
    return dict(offers_cfg) | {"catalogue": catalogue}


def campaign_response_rows(frame: pd.DataFrame, attrition_model: Any,
                           segments: pd.DataFrame | None, lapse_days: int,
                           causes_cfg: Mapping[str, Any],
                           likely_cfg: Mapping[str, Any]) -> pd.DataFrame:
    """The rows :func:`fit_response_lines` reads, from the uplift training frame.

    Parameters
    ----------
    frame
        :func:`churnml.models.uplift_data.uplift_training_frame` (features as of each
        send day, ``treatment``, ``outcome``); in a contractual business also
        ``cancelled`` per send day (:func:`churnml.status.cancelled_at`), which makes
        the record lapsed.
    attrition_model
        Anything with ``predict_proba`` over the feature columns (the attrition model).
    segments
        ``customer_id, as_of, churn_cause`` (the segments table): each lapsed record
        takes the customer's latest segment row on or before the send day; None:
        every lapsed cause is unknown.
    causes_cfg, likely_cfg
        ``segments.causes`` and ``offers.likely_cause``.
    """
    from churnml.offers.likely_cause import likely_cause
    from churnml.status import status_of

    rows = frame.reset_index(drop=True)
    status = status_of(rows, int(lapse_days))
    status = status.astype(str).to_numpy()
    active = status != "lapsed"
    p_att = np.full(len(rows), np.nan)
    if active.any():
        p_att[active] = attrition_model.predict_proba(rows.loc[active])[:, 1]
    likely = likely_cause(rows, causes_cfg, likely_cfg)["likely_cause"].to_numpy()
    return pd.DataFrame({"treatment": rows["treatment"].astype(str).to_numpy(),
                         "outcome": rows["outcome"].to_numpy(int), "status": status,
                         "p_attrition": p_att, "likely_cause": likely,
                         "churn_cause": _cause_at_send(rows, segments)})


def _cause_at_send(rows: pd.DataFrame, segments: pd.DataFrame | None) -> np.ndarray:
    if segments is None or "churn_cause" not in segments:
        return np.full(len(rows), "unknown", dtype=object)
    left = pd.DataFrame({"customer_id": rows["customer_id"].astype(str),
                         "send_date": rows["send_date"].astype("datetime64[us]"),
                         "_row": np.arange(len(rows))}).sort_values("send_date")
    right = pd.DataFrame({"customer_id": segments["customer_id"].astype(str),
                          "as_of": segments["as_of"].astype("datetime64[us]"),
                          "churn_cause": segments["churn_cause"].astype("string")})
    joined = pd.merge_asof(left, right.sort_values("as_of"), left_on="send_date",
                           right_on="as_of", by="customer_id", direction="backward")
    out = np.full(len(rows), "unknown", dtype=object)
    out[joined["_row"].to_numpy()] = joined["churn_cause"].fillna("unknown").to_numpy(object)
    return out
