"""Segment columns as model features and as evaluation slices.

The ``segments`` stage types every customer at every snapshot (ladder rung, lifecycle
stage, churn cause; DESIGN §8). ``model.segment_features`` names the columns a model
takes as features: by default the win-back model takes ``churn_cause``, because a
customer burned by a bad experience comes back less readily than one lured away by a
price. Training and evaluation join the segments of the same snapshot (they are
computed from rows dated before it, like the features); scoring joins the segments as
of the scoring date. The evaluation also slices its metrics by rung, stage and cause.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from churnml.errors import ConfigError

KEY = ("customer_id", "as_of")


def join_segments(frame: pd.DataFrame, segments: pd.DataFrame,
                  columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` with ``columns`` of ``segments`` added (a new frame; inputs untouched).

    Parameters
    ----------
    frame
        ``customer_id`` (and ``as_of`` when ``segments`` has it) plus anything else.
    segments
        ``customer_id``, optionally ``as_of``, and ``columns``; one row per key.
    columns
        Segment columns to add. A row of ``frame`` without a segment gets missing
        values (the model treats them as missing; slices leave the row out).

    Raises
    ------
    ConfigError
        When a requested column is not a segments column.
    """
    wanted = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if not wanted:
        return frame
    unknown = [c for c in wanted if c not in segments.columns]
    if unknown:
        raise ConfigError(f"model.segment_features / evaluate.slices: {unknown} are not "
                          f"segment columns; choose from {sorted(segments.columns)}")
    on = [k for k in KEY if k in segments.columns and k in frame.columns]
    right = segments[[*on, *wanted]]
    if "as_of" in on:
        right = right.astype({"as_of": frame["as_of"].dtype})
    return frame.merge(right, on=on, how="left", validate="many_to_one")


def model_segment_columns(feature_names: Iterable[str], segments: pd.DataFrame) -> list[str]:
    """The segment columns among a model's features (what scoring must join)."""
    return [c for c in feature_names if c in segments.columns and c not in KEY]
