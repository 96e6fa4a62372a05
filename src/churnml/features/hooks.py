"""Post-steps: features computed in pandas after the Ibis families, one snapshot at a time.

Some features are a model fitted on the snapshot's own rows rather than an
expression, e.g. the BG/NBD probability that a customer is still alive and their
expected purchases. They plug in through ``features.post_steps``: a list of entries
``{fn: "package.module:function", params: {...}}`` (or just the ``"module:function"``
string). Each function is called as ``fn(frame, params)`` with one snapshot's
feature frame (``customer_id, as_of`` and every Ibis feature, including
``frequency``, ``recency_days``, ``days_since_first_purchase``, ``tenure_days``)
and returns the frame with its columns added. It must be pure and must use only
the frame it is given, which holds data from before the snapshot, so post-steps are
point-in-time by construction.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from churnml.errors import ConfigError

PostStepFn = Callable[[pd.DataFrame, Mapping[str, Any]], pd.DataFrame]


@dataclass(frozen=True)
class PostStep:
    """A resolved post-step: the function, its parameters and its config name."""

    name: str
    fn: PostStepFn
    params: dict[str, Any] = field(default_factory=dict)

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Apply the step; it may add columns but must keep every row and key."""
        out = self.fn(frame.copy(), self.params)
        if len(out) != len(frame) or list(out.columns[:2]) != list(frame.columns[:2]):
            raise ConfigError(f"features.post_steps {self.name}: must keep the rows and the "
                              "leading customer_id, as_of columns")
        return out


def _resolve(path: str) -> PostStepFn:
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"features.post_steps entry {path!r}: use 'package.module:function'")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"features.post_steps entry {path!r} cannot be imported: {exc}") from exc
    if not callable(fn):
        raise ConfigError(f"features.post_steps entry {path!r} is not callable")
    return fn


def load_post_steps(entries: list[Any] | None) -> list[PostStep]:
    """Resolve the ``features.post_steps`` config entries (imported only when listed)."""
    steps = []
    for entry in entries or []:
        spec = {"fn": entry} if isinstance(entry, str) else dict(entry)
        if "fn" not in spec:
            raise ConfigError(f"features.post_steps entry {entry!r} needs an 'fn'")
        steps.append(PostStep(str(spec["fn"]), _resolve(str(spec["fn"])),
                              dict(spec.get("params") or {})))
    return steps


def apply_post_steps(frame: pd.DataFrame, steps: list[PostStep]) -> pd.DataFrame:
    """Run every post-step on one snapshot's frame, in order."""
    for step in steps:
        frame = step(frame)
    return frame
