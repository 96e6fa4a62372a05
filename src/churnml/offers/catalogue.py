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
from churnml.offers.catalogue_spec import DEFAULT, by_cause, check_entry, flag, names, number

NONE = "none"
LAPSED = "lapsed"
LIKELY_CAUSE = "likely_cause"
FILTERS = {"statuses": "status", "rungs": "ladder_rung", "stages": "lifecycle_stage"}
SHARED_CAUSE_COLUMNS = ("shared_cause_flag", "shared_cause_outreach")
TEXT_COLUMNS = (*FILTERS.values(), "churn_cause")  # factorized once for every offer


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


def _offer(offer_id: str, spec: Any) -> Offer:
    if offer_id == NONE:
        raise ConfigError(f"offers.catalogue: '{NONE}' is reserved for 'no offer'")
    spec = check_entry(offer_id, spec)
    prior = spec.get("prior") or {}
    return Offer(offer_id=offer_id, cost=number(offer_id, "cost", spec["cost"], minimum=0.0),
                 channel=str(spec.get("channel", "")),
                 statuses=names(offer_id, "statuses", spec.get("statuses")),
                 rungs=names(offer_id, "rungs", spec.get("rungs")),
                 stages=names(offer_id, "stages", spec.get("stages")),
                 causes=names(offer_id, "causes", spec.get("causes")),
                 shared_cause=flag(offer_id, "shared_cause", spec.get("shared_cause", False)),
                 min_value=None if spec.get("min_value") is None
                 else number(offer_id, "min_value", spec["min_value"]),
                 prior_rescue=by_cause(offer_id, "rescue", prior.get("rescue", 0.0)),
                 prior_protect=by_cause(offer_id, "protect", prior.get("protect", 0.0)),
                 prior_return=by_cause(offer_id, "return", prior.get("return") or {}))


def load_catalogue(offers_cfg: Mapping[str, Any]) -> Catalogue:
    """Build the catalogue from the ``offers`` config section.

    Raises
    ------
    ConfigError
        An offer with a cost lists a never-costed rung, or an entry is malformed
        (unknown key, a list that is not a list or names an unknown rung, status or
        stage, a cost that is not a number >= 0; see
        :mod:`churnml.offers.catalogue_spec`).
    """
    banned = tuple(str(r) for r in offers_cfg.get("never_costed_rungs") or ())
    offers = tuple(_offer(str(k), v) for k, v in (offers_cfg.get("catalogue") or {}).items())
    for offer in offers:
        clash = sorted(set(offer.rungs or ()) & set(banned))
        if offer.cost > 0 and clash:
            raise ConfigError(f"offers.catalogue.{offer.offer_id} costs {offer.cost} but lists "
                              f"rungs {clash}, which never get an offer with a cost")
    return Catalogue(offers=offers, never_costed_rungs=banned)


@dataclass(frozen=True)
class CodedText:
    """A text column factorized once, so that each offer's test or lookup costs a
    pass over its few distinct values and one ``take`` (not a hash of 10^6 strings
    per offer and list: ~1 s of the 10^6-customer scoring job)."""

    codes: np.ndarray  # per row, -1 for missing
    values: tuple[str, ...]

    @classmethod
    def of(cls, values: pd.Series) -> CodedText:
        """Factorize ``values`` as text (missing stays missing)."""
        codes, seen = pd.factorize(values.astype("string"))
        return cls(np.asarray(codes), tuple(str(v) for v in seen))

    def isin(self, allowed: tuple[str, ...] | None, missing: bool) -> np.ndarray:
        """Where the value is in ``allowed`` (all rows when None); ``missing`` for nulls."""
        if allowed is None:
            return np.ones(len(self.codes), dtype=bool)
        hit = np.array([v in allowed for v in self.values] + [missing], dtype=bool)
        return hit[self.codes]  # code -1 takes the last entry: missing

    def lookup(self, table: Mapping[str, float]) -> np.ndarray:
        """``table[value]`` per row, else ``table["default"]`` (else 0)."""
        default = float(table.get(DEFAULT, 0.0))
        found = np.array([float(table.get(v, default)) for v in self.values] + [default])
        return np.where(np.isnan(found), default, found)[self.codes]


def _coded(customers: pd.DataFrame, column: str) -> CodedText:
    return CodedText.of(_column(customers, column))


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


def offer_eligible(offer: Offer, customers: pd.DataFrame, banned: tuple[str, ...],
                   coded: Mapping[str, CodedText] | None = None) -> np.ndarray:
    """Which customers may get ``offer`` (see the module docstring for the rules).

    ``coded``: the text columns of ``FILTERS``, ``churn_cause`` and ``ladder_rung``
    already factorized (:class:`CodedText`); computed here when None.
    """
    if coded is None:
        coded = {c: _coded(customers, c) for c in TEXT_COLUMNS}
    ok = np.ones(len(customers), dtype=bool)
    for key, column in FILTERS.items():
        ok &= coded[column].isin(getattr(offer, key), missing=True)
    lapsed = coded["status"].isin((LAPSED,), missing=False)
    ok &= coded["churn_cause"].isin(offer.causes, missing=True) | ~lapsed
    if offer.shared_cause:
        ok &= shared_cause_flag(customers)
    if offer.min_value is not None:
        value = pd.to_numeric(_column(customers, "value"), errors="coerce").to_numpy(float)
        ok &= np.nan_to_num(value, nan=-np.inf) >= offer.min_value
    if offer.cost > 0:
        ok &= ~coded["ladder_rung"].isin(banned, missing=False)
    return ok


def eligibility(catalogue: Catalogue, customers: pd.DataFrame) -> np.ndarray:
    """Boolean matrix customers × offers (catalogue order).

    Parameters
    ----------
    customers
        One row per customer with ``status, ladder_rung, lifecycle_stage, churn_cause,
        value`` and optionally ``shared_cause_flag`` (a missing column counts as unknown).
    """
    coded = {c: _coded(customers, c) for c in TEXT_COLUMNS}
    columns = [offer_eligible(o, customers, catalogue.never_costed_rungs, coded)
               for o in catalogue.offers]
    return np.column_stack(columns) if columns else np.zeros((len(customers), 0), dtype=bool)


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
    lapsed = _coded(customers, "status").isin((LAPSED,), missing=False)
    risk = pd.to_numeric(_column(customers, "p_attrition"), errors="coerce").fillna(0.0)
    cause, likely = _coded(customers, "churn_cause"), _coded(customers, LIKELY_CAUSE)
    out = np.zeros((len(customers), len(catalogue.offers)))
    risk = risk.to_numpy(float)
    for j, offer in enumerate(catalogue.offers):
        kept = likely.lookup(offer.prior_protect) + likely.lookup(offer.prior_rescue) * risk
        out[:, j] = np.where(lapsed, cause.lookup(offer.prior_return), kept)
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
