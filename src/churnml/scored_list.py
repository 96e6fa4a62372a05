"""Rules of the scored list handed to the CRM (DESIGN §10): pure checks, no I/O.

Before anything is written, the job keeps only whitelisted columns and checks the
rows: one per customer, probabilities finite in [0, 1], percentiles consistent with
the scores. A violation is a bug upstream, so the run stops and nothing is written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnml.errors import ChurnmlError

PROBABILITY_COLUMNS = ("p_attrition", "p_winback")


class ScoredListError(ChurnmlError):
    """The scored list breaks an output rule (exit code 1: a bug, not bad input)."""

    exit_code = 1


def select_columns(scored: pd.DataFrame, whitelist: list[str]) -> pd.DataFrame:
    """Keep only whitelisted columns, in whitelist order (absent ones are skipped).

    Parameters
    ----------
    scored
        The scored list; needs ``customer_id``.
    whitelist
        The ``score.columns`` config entry.
    """
    if "customer_id" not in whitelist:
        raise ScoredListError("score.columns must include customer_id")
    return scored[[c for c in whitelist if c in scored.columns]]


def problems(scored: pd.DataFrame) -> list[str]:
    """Every output rule the scored list breaks (empty when it is fine).

    Parameters
    ----------
    scored
        Needs ``customer_id``; checks ``status``, ``p_attrition``, ``p_winback`` and
        ``risk_percentile`` when present.
    """
    found = []
    ids = scored["customer_id"]
    if ids.isna().any() or not ids.is_unique:
        found.append(f"customer_id must be unique and present ({ids.duplicated().sum()} "
                     f"duplicates, {ids.isna().sum()} missing)")
    for column in scored.select_dtypes("number").columns:
        if np.isinf(scored[column].to_numpy(dtype=float, na_value=np.nan)).any():
            found.append(f"{column} has infinite values")
    for column in (c for c in PROBABILITY_COLUMNS if c in scored):
        p = scored[column].dropna()
        if not p.between(0.0, 1.0).all():
            found.append(f"{column} outside [0, 1] for {(~p.between(0.0, 1.0)).sum()} rows")
    if {"status", "p_attrition"} <= set(scored.columns):
        unscored = (scored["status"] == "active") & scored["p_attrition"].isna()
        if unscored.any():
            found.append(f"{unscored.sum()} active customers have no p_attrition")
    if {"p_attrition", "risk_percentile"} <= set(scored.columns):
        found.extend(rank_problems(scored["p_attrition"], scored["risk_percentile"]))
    return found


def rank_problems(score: pd.Series, percentile: pd.Series) -> list[str]:
    """Percentiles must be missing exactly where scores are, lie in [0, 100] and never
    fall as the score rises (ties share a percentile; rounding may merge neighbours)."""
    found = []
    if not (score.isna() == percentile.isna()).all():
        found.append("risk_percentile is missing where p_attrition is not (or vice versa)")
    both = score.notna().to_numpy() & percentile.notna().to_numpy()
    s = score.to_numpy(dtype=float, na_value=np.nan)[both]
    p = percentile.to_numpy(dtype=float, na_value=np.nan)[both]
    if s.size == 0:
        return found
    if not ((p >= 0.0) & (p <= 100.0)).all():
        found.append("risk_percentile outside [0, 100]")
    order = np.lexsort((p, s))  # by score, then percentile
    s, p = s[order], p[order]
    if (np.diff(p) < 0).any():
        found.append("risk_percentile falls while p_attrition rises")
    if ((np.diff(s) == 0) & (np.diff(p) != 0)).any():
        found.append("equal p_attrition with different risk_percentile")
    return found


def check(scored: pd.DataFrame) -> None:
    """Raise :class:`ScoredListError` listing every broken rule."""
    found = problems(scored)
    if found:
        raise ScoredListError("the scored list breaks output rules: " + "; ".join(found))
