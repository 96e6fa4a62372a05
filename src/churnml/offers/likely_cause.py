"""The likely cause of an *active* customer's risk, from their own recent signals.

A lapsed customer has a churn cause (:mod:`churnml.segments.causes`); an active one
has none yet, but the offer that keeps a would-be leaver depends on why they would
leave (a price match for one lured by a competitor, service recovery for one burned by
a bad experience). The same decision list (``segments.causes.rules``) is applied to the
customer's signal counts over one feature window - the feature columns
``<signal>_<window_days>d`` (``signal_columns`` maps signals kept under another name,
e.g. ``incident_exposure`` -> ``incidents_exposed``) - so the active customer's
cause means the same as the lapsed customer's. The catalogue's priors then give each
offer's rescue rate by that cause (:func:`churnml.offers.catalogue.prior_matrix`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from churnml.offers.catalogue import LIKELY_CAUSE
from churnml.segments.causes import classify, signal_names

log = logging.getLogger(__name__)


def signal_counts(features: pd.DataFrame, causes_cfg: Mapping[str, Any], window_days: int,
                  signal_columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``customer_id, as_of`` and one count per rule signal, read from the features.

    Parameters
    ----------
    features
        ``customer_id`` (and ``as_of`` if present) plus signal count columns; a signal
        whose column is missing counts 0 (logged once).
    causes_cfg
        The ``segments.causes`` section (``rules``, ``fallback``).
    """
    mapping = dict(signal_columns or {})
    out = pd.DataFrame({"customer_id": features["customer_id"].astype(str).to_numpy(),
                        "as_of": features["as_of"].to_numpy() if "as_of" in features
                        else pd.NaT})
    missing = []
    for name in signal_names(dict(causes_cfg)):
        column = mapping.get(name, f"{name}_{int(window_days)}d")
        if column in features:
            out[name] = pd.to_numeric(features[column], errors="coerce").fillna(0.0).to_numpy()
        else:
            out[name] = 0.0
            missing.append(column)
    if missing:
        log.info("likely cause: no feature columns %s; those signals count 0", missing)
    return out


def likely_cause(features: pd.DataFrame, causes_cfg: Mapping[str, Any],
                 cfg: Mapping[str, Any]) -> pd.DataFrame:
    """``customer_id, likely_cause`` for every row of ``features``.

    Parameters
    ----------
    features
        One row per customer, see :func:`signal_counts`.
    causes_cfg
        The ``segments.causes`` section.
    cfg
        The ``offers.likely_cause`` section: ``window_days`` and optional
        ``signal_columns``.
    """
    signals = signal_counts(features, causes_cfg, int(cfg["window_days"]),
                            cfg.get("signal_columns"))
    cause, _ = classify(signals, dict(causes_cfg))
    return pd.DataFrame({"customer_id": signals["customer_id"].to_numpy(),
                         LIKELY_CAUSE: pd.array(cause, dtype="str")})
