"""Thin DVC stages: read inputs, call pure functions, write outputs, log.

Each stage module declares ``PARAMS``, the dotted params.yaml keys it reads; dvc.yaml
declares the same keys (a test checks they agree).
"""
