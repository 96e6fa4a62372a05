"""Thin DVC stages: read inputs, call pure functions, write outputs, log.

Each stage module declares ``PARAMS``, the dotted params.yaml keys it reads (or a
``params_for(*args)`` function when the keys depend on the command's arguments);
dvc.yaml declares the same keys, and a test checks that they agree.
"""

from __future__ import annotations

import importlib


def declared_params(command: list[str]) -> list[str]:
    """The params keys read by ``churnml <command...>`` (e.g. ``["train", "winback"]``)."""
    module = importlib.import_module(f"churnml.stages.{command[0]}")
    if hasattr(module, "params_for"):
        return list(module.params_for(*command[1:]))
    return list(module.PARAMS)
