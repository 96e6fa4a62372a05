"""The offer catalogue (``offers.catalogue``): what each offer costs, who may get it,
and its prior effect when no campaign history has trained a model for it.

Eligibility is a boolean matrix customers × offers. A customer passes an offer's list
(``statuses``, ``rungs``, ``stages``, ``causes``) when their value is in it, when the
list is left out, or when their value is unknown (null); ``causes`` only ever filters
lapsed customers (an active customer has no churn cause yet). ``shared_cause: true``
keeps customers exposed to an incident only; ``min_value`` a floor on customer value.
Rungs in ``never_costed_rungs`` (terrorist, toxic) never get an offer with a cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from churnml.errors import ConfigError

NONE = "none"
LAPSED = "lapsed"
DEFAULT = "default"
LIKELY_CAUSE = "likely_cause"
FILTERS = {"statuses": "status", "rungs": "ladder_rung", "stages": "lifecycle_stage"}
SHARED_CAUSE_COLUMNS = ("shared_cause_flag", "shared_cause_outreach")


@dataclass(frozen=True)
class Offer:
    """One catalogue entry (see ``conf/offers/default.yaml`` for the fields)."""

    offer_id: str
    cost: float
    channel: str
    statuses: tuple[str, ...] | None = None
    rungs: tuple[str, ...] | None = None
    stages: tuple[str, ...] | None = None
    causes: tuple[str, ...] | None = None
    shared_cause: bool = False
    min_value: float | None = None
    prior_rescue: Mapping[str, float] = field(default_factory=dict)
    prior_protect: Mapping[str, float] = field(default_factory=dict)
    prior_return: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalogue:
    """The offers plus the rules that hold for all of them."""

    offers: tuple[Offer, ...]
    never_costed_rungs: tuple[str, ...] = ("terrorist", "toxic")

    @property
    def ids(self) -> list[str]:
        """Offer ids in catalogue order."""
        return [o.offer_id for o in self.offers]

    @property
    def costs(self) -> np.ndarray:
        """Cost per offer, in catalogue order."""
        return np.array([o.cost for o in self.offers], dtype=float)


def _names(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def _by_cause(value: Any) -> dict[str, float]:
    """A prior given as one number (``{"default": x}``) or as a mapping by cause."""
    if isinstance(value, Mapping):
        return {str(k): float(v) for k, v in value.items()}
    return {DEFAULT: float(value)}


def _offer(offer_id: str, spec: Mapping[str, Any]) -> Offer:
    if offer_id == NONE:
        raise ConfigError(f"offers.catalogue: '{NONE}' is reserved for 'no offer'")
    if float(spec.get("cost", -1)) < 0:
        raise ConfigError(f"offers.catalogue.{offer_id}: give a cost >= 0")
    prior = spec.get("prior") or {}
    return Offer(offer_id=offer_id, cost=float(spec["cost"]), channel=str(spec.get("channel", "")),
                 statuses=_names(spec.get("statuses")), rungs=_names(spec.get("rungs")),
                 stages=_names(spec.get("stages")), causes=_names(spec.get("causes")),
                 shared_cause=bool(spec.get("shared_cause", False)),
                 min_value=None if spec.get("min_value") is None else float(spec["min_value"]),
                 prior_rescue=_by_cause(prior.get("rescue", 0.0)),
                 prior_protect=_by_cause(prior.get("protect", 0.0)),
                 prior_return=_by_cause(prior.get("return") or {}))


def load_catalogue(offers_cfg: Mapping[str, Any]) -> Catalogue:
    """Build the catalogue from the ``offers`` config section.

    Raises
    ------
    ConfigError
        An offer with a cost lists a never-costed rung, or an entry is malformed.
    """
    banned = tuple(str(r) for r in offers_cfg.get("never_costed_rungs") or ())
    offers = tuple(_offer(str(k), v) for k, v in (offers_cfg.get("catalogue") or {}).items())
    for offer in offers:
        clash = sorted(set(offer.rungs or ()) & set(banned))
        if offer.cost > 0 and clash:
            raise ConfigError(f"offers.catalogue.{offer.offer_id} costs {offer.cost} but lists "
                              f"rungs {clash}, which never get an offer with a cost")
    return Catalogue(offers=offers, never_costed_rungs=banned)


def _passes(values: pd.Series, allowed: tuple[str, ...] | None) -> np.ndarray:
    """True where the value is in ``allowed``, unknown (null), or nothing is listed."""
    if allowed is None:
        return np.ones(len(values), dtype=bool)
    text = values.astype("string")
    return (text.isna() | text.isin(allowed)).to_numpy(dtype=bool)


def shared_cause_flag(customers: pd.DataFrame) -> np.ndarray:
    """The shared-cause flag (``shared_cause_flag``, else the segments'
    ``shared_cause_outreach``); False when neither column is present."""
    for column in SHARED_CAUSE_COLUMNS:
        if column in customers:
            return customers[column].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return np.zeros(len(customers), dtype=bool)


def _column(customers: pd.DataFrame, name: str) -> pd.Series:
    if name in customers:
        return customers[name]
    return pd.Series(pd.NA, index=customers.index, dtype="string")


def offer_eligible(offer: Offer, customers: pd.DataFrame, banned: tuple[str, ...]) -> np.ndarray:
    """Which customers may get ``offer`` (see the module docstring for the rules)."""
    ok = np.ones(len(customers), dtype=bool)
    for key, column in FILTERS.items():
        ok &= _passes(_column(customers, column), getattr(offer, key))
    lapsed = (_column(customers, "status").astype("string") == LAPSED).fillna(False)
    causes = _passes(_column(customers, "churn_cause"), offer.causes)
    ok &= causes | ~lapsed.to_numpy(dtype=bool)
    if offer.shared_cause:
        ok &= shared_cause_flag(customers)
    if offer.min_value is not None:
        value = pd.to_numeric(_column(customers, "value"), errors="coerce").to_numpy(float)
        ok &= np.nan_to_num(value, nan=-np.inf) >= offer.min_value
    if offer.cost > 0:
        rung = _column(customers, "ladder_rung").astype("string")
        ok &= ~rung.isin(banned).fillna(False).to_numpy(dtype=bool)
    return ok


def eligibility(catalogue: Catalogue, customers: pd.DataFrame) -> np.ndarray:
    """Boolean matrix customers × offers (catalogue order).

    Parameters
    ----------
    customers
        One row per customer with ``status, ladder_rung, lifecycle_stage, churn_cause,
        value`` and optionally ``shared_cause_flag`` (a missing column counts as unknown).
    """
    columns = [offer_eligible(o, customers, catalogue.never_costed_rungs)
               for o in catalogue.offers]
    return np.column_stack(columns) if columns else np.zeros((len(customers), 0), dtype=bool)


def _by(causes: pd.Series, table: Mapping[str, float]) -> np.ndarray:
    """``table[cause]`` per row, else ``table["default"]`` (else 0)."""
    default = float(table.get(DEFAULT, 0.0))
    codes, seen = pd.factorize(causes)  # a lookup per distinct cause, not per row
    lookup = np.array([float(table.get(str(c), default)) for c in seen] + [default])
    return np.where(np.isnan(lookup), default, lookup)[codes]  # code -1 (missing): default


def prior_matrix(catalogue: Catalogue, customers: pd.DataFrame) -> np.ndarray:
    """Uplift from the catalogue's priors, customers × offers (catalogue order).

    Active customers: ``protect[c] + rescue[c] × p_attrition`` with ``c`` the likely
    cause (:mod:`churnml.offers.likely_cause`; a cause not listed takes ``default``):
    ``rescue`` is the share of would-be leavers the offer keeps, ``protect`` the lift
    in P(stay) it gives whatever the predicted risk (leavers the attrition model does
    not see yet, and the hazard it removes while it lasts). Lapsed:
    ``return[churn_cause]`` (else ``return.default``). Clipped to [0, 1]. Reads
    ``status, p_attrition, churn_cause`` and optionally ``likely_cause``.
    """
    lapsed = (_column(customers, "status").astype("string") == LAPSED).fillna(False).to_numpy(bool)
    risk = pd.to_numeric(_column(customers, "p_attrition"), errors="coerce").fillna(0.0)
    cause = _column(customers, "churn_cause").astype("string")
    likely = _column(customers, LIKELY_CAUSE).astype("string")
    out = np.zeros((len(customers), len(catalogue.offers)))
    risk = risk.to_numpy(float)
    for j, offer in enumerate(catalogue.offers):
        kept = _by(likely, offer.prior_protect) + _by(likely, offer.prior_rescue) * risk
        out[:, j] = np.where(lapsed, _by(cause, offer.prior_return), kept)
    return np.clip(out, 0.0, 1.0)


def prior_uplift(catalogue: Catalogue, customers: pd.DataFrame) -> pd.DataFrame:
    """:func:`prior_matrix` in long format: ``customer_id, offer_id, uplift``.

    Parameters
    ----------
    customers
        ``customer_id, status, p_attrition, churn_cause``.
    """
    matrix = prior_matrix(catalogue, customers)
    ids = customers["customer_id"].astype(str).to_numpy()
    return pd.DataFrame({"customer_id": np.repeat(ids, len(catalogue.ids)),
                         "offer_id": np.tile(np.asarray(catalogue.ids, dtype=object), len(ids)),
                         "uplift": matrix.ravel()})
