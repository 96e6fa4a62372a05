"""Checks on one ``offers.catalogue`` entry, so that a slip in the YAML stops the run.

Every key must be one the catalogue reads (a typo such as ``min_vaule`` would otherwise
drop the rule silently); the eligibility lists must be lists (``rungs: client`` would
otherwise be read letter by letter) of known names (rungs of the loyalty ladder,
lifecycle stages, customer statuses; churn causes are configured in ``segments.causes``
and so are not checked here); numbers must be numbers and flags true or false. Each
error names ``offers.catalogue.<offer_id>.<key>``, the rule and the value given.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from functools import cache
from typing import Any

from churnml.errors import ConfigError

ENTRY_KEYS = ("cost", "channel", "statuses", "rungs", "stages", "causes", "shared_cause",
              "min_value", "cap", "holdout_share", "prior")
PRIOR_KEYS = ("rescue", "protect", "return")
LIST_KEYS = ("statuses", "rungs", "stages", "causes")
DEFAULT = "default"  # the prior of a cause not listed
EXAMPLE = {"statuses": "active", "rungs": "client", "stages": "retention", "causes": "lured"}


@cache
def allowed_names() -> dict[str, tuple[str, ...] | None]:
    """Names each eligibility list may hold (None: any name).

    Imported on first use: :mod:`churnml.segments` pulls in the plotting stack, which
    ``import churnml.offers`` should not pay for.
    """
    from churnml.segments.ladder import RUNGS
    from churnml.segments.lifecycle import STAGES
    from churnml.status import ACTIVE, LAPSED

    return {"statuses": (ACTIVE, LAPSED), "rungs": tuple(RUNGS), "stages": tuple(STAGES),
            "causes": None}


def _fail(where: str, rule: str, value: Any) -> ConfigError:
    return ConfigError(f"{where}: {rule}; got {value!r}")


def _unknown_keys(where: str, given: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for key in given:
        if key not in known:
            near = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            raise _fail(f"{where}.{key}", f"unknown key{hint}; known keys: {', '.join(known)}",
                        given[key])


def check_entry(offer_id: str, spec: Any) -> Mapping[str, Any]:
    """``spec`` when it is a mapping of known keys (``prior`` too), else a ConfigError.

    Parameters
    ----------
    offer_id
        The entry's key under ``offers.catalogue``.
    spec
        The entry as read from the config.

    Returns
    -------
    Mapping
        ``spec`` itself.
    """
    where = f"offers.catalogue.{offer_id}"
    if not isinstance(spec, Mapping):
        raise _fail(where, "an offer is a mapping of keys (cost, channel, rungs, ...)", spec)
    _unknown_keys(where, spec, ENTRY_KEYS)
    if "cost" not in spec:
        raise ConfigError(f"{where}.cost: missing; give the cost per recipient (>= 0)")
    prior = spec.get("prior")
    if prior is not None and not isinstance(prior, Mapping):
        raise _fail(f"{where}.prior", f"give a mapping with keys {', '.join(PRIOR_KEYS)}", prior)
    _unknown_keys(f"{where}.prior", prior or {}, PRIOR_KEYS)
    for key in ("cap", "holdout_share"):
        if spec.get(key) is not None:
            number(offer_id, key, spec[key], minimum=0.0)
    return spec


def names(offer_id: str, key: str, value: Any) -> tuple[str, ...] | None:
    """An eligibility list (``key`` in :data:`LIST_KEYS`) as a tuple; None when left out.

    Raises
    ------
    ConfigError
        ``value`` is not a list, or names something :func:`allowed_names` does not know.
    """
    if value is None:
        return None
    where = f"offers.catalogue.{offer_id}.{key}"
    if not isinstance(value, list | tuple):
        raise _fail(where, f"give a list, e.g. {key}: [{EXAMPLE[key]}], not a "
                    f"{type(value).__name__}", value)
    out = tuple(str(v) for v in value)
    allowed = allowed_names()[key]
    unknown = [v for v in out if allowed is not None and v not in allowed]
    if unknown:
        raise _fail(where, f"unknown names {unknown}; allowed: {', '.join(allowed)}", value)
    return out


def number(offer_id: str, key: str, value: Any, minimum: float | None = None) -> float:
    """``value`` as a float (at least ``minimum`` when given), else a ConfigError."""
    where = f"offers.catalogue.{offer_id}.{key}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, "give a number", value)
    if minimum is not None and not value >= minimum:
        raise _fail(where, f"give a number >= {minimum:g}", value)
    return float(value)


def flag(offer_id: str, key: str, value: Any) -> bool:
    """``value`` when it is true or false, else a ConfigError."""
    if not isinstance(value, bool):
        raise _fail(f"offers.catalogue.{offer_id}.{key}", "give true or false", value)
    return value


def by_cause(offer_id: str, kind: str, value: Any) -> dict[str, float]:
    """A prior (``kind`` in :data:`PRIOR_KEYS`) given as one number (``{"default": x}``)
    or as a mapping by cause, with numbers only."""
    if isinstance(value, Mapping):
        return {str(k): number(offer_id, f"prior.{kind}.{k}", v) for k, v in value.items()}
    return {DEFAULT: number(offer_id, f"prior.{kind}", value)}
