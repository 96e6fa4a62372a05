"""Leakage guard: a feature that alone separates churners almost perfectly is suspect.

A real churn signal is spread over many weak features; a single feature with a test
ROC-AUC near 1 usually encodes the label (a post-snapshot column, a status that is
only set after churn). :func:`single_feature_auc` scores each feature on its own
(fitted on the train rows, measured on the test rows) and :func:`leakage_check`
lists those above ``evaluate.leakage_max_single_feature_auc`` that are not in the
reviewed allow-list ``evaluate.leakage_reviewed_features``; the evaluate stage does
not promote a model while that list is non-empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from churnml.contract import LABEL_COLUMNS
from churnml.errors import ContractError

# Outcomes known only after a snapshot: the labels of both models and the provided
# labels of snapshot mode. None of them may be a model input.
OUTCOME_COLUMNS = ("attrition", "winback", *LABEL_COLUMNS)


def refuse_outcome_columns(columns: Iterable[str], source: str) -> None:
    """Raise when a label or other post-snapshot outcome is among model inputs.

    Parameters
    ----------
    columns
        The columns a model is about to be fitted on or to score.
    source
        What holds them (a file name or stage), for the message.

    Raises
    ------
    ContractError
        Naming the first such column and the rule (exit code 2).
    """
    found = [c for c in columns if c in OUTCOME_COLUMNS]
    if found:
        raise ContractError(source, found[0], "an outcome known only after the snapshot "
                            "cannot be a model input (leakage)", found)


def _one_feature_scores(train: pd.Series, y_train: np.ndarray, test: pd.Series) -> np.ndarray:
    """A one-feature model: the value itself (missing lowest) for numbers, the train
    churn rate of the category (unseen: the overall rate) for anything else."""
    if pd.api.types.is_bool_dtype(train) or pd.api.types.is_numeric_dtype(train):
        values = test.astype("float64")
        floor = np.nanmin(values.to_numpy()) - 1 if values.notna().any() else 0.0
        return values.fillna(floor).to_numpy()
    rates = pd.Series(y_train, index=train.index).groupby(train.astype("string")).mean()
    mapped = test.astype("string").map(rates).astype("float64")
    return mapped.fillna(float(np.mean(y_train))).to_numpy()


def single_feature_auc(frame: pd.DataFrame, features: Sequence[str]) -> pd.Series:
    """Test ROC-AUC of each feature alone, direction-free (``max(auc, 1 - auc)``).

    Parameters
    ----------
    frame
        Rows with ``role`` (``train`` / ``test``), ``target`` (0/1) and ``features``.

    Returns
    -------
    Series
        AUC by feature, highest first; NaN when the test rows hold one class only.
    """
    train, test = frame[frame["role"] == "train"], frame[frame["role"] == "test"]
    y_train, y_test = train["target"].to_numpy(int), test["target"].to_numpy(int)
    out = {}
    for feature in features:
        if len(np.unique(y_test)) < 2:
            out[feature] = float("nan")
            continue
        auc = roc_auc_score(y_test, _one_feature_scores(train[feature], y_train, test[feature]))
        out[feature] = max(auc, 1.0 - auc)
    return pd.Series(out, dtype="float64").sort_values(ascending=False)


def leakage_check(aucs: pd.Series, max_auc: float,
                  reviewed: Iterable[str] = ()) -> dict[str, Any]:
    """Features above ``max_auc`` that nobody reviewed; ``blocked`` when there is one.

    Returns
    -------
    dict
        ``max_single_feature_auc``, ``suspects`` (feature -> AUC, reviewed excluded),
        ``reviewed`` (flagged but allowed) and ``blocked``.
    """
    allowed = set(reviewed)
    flagged = aucs[aucs > max_auc]
    suspects = {f: round(float(a), 4) for f, a in flagged.items() if f not in allowed}
    return {"max_single_feature_auc": round(float(aucs.max()), 4) if len(aucs) else None,
            "threshold": float(max_auc), "suspects": suspects,
            "reviewed": sorted(set(flagged.index) & allowed), "blocked": bool(suspects)}
