"""Run the feature expressions on a backend, snapshot by snapshot.

The prepared inputs are stored on the backend once (:func:`materialized`), the
per-snapshot query is compiled once (:func:`snapshot_runner`) - on DuckDB while the
inputs are being stored - and each snapshot's result comes back as an Arrow table in
``customer_id`` order, with the pandas post-steps (:mod:`churnml.features.hooks`)
applied. Memory holds one snapshot at a time, so the caller can stream a long
calendar to disk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from churnml.features.base import ORDER
from churnml.features.core import FEATURE_KEY, snapshot_features, validate
from churnml.features.engine import key_strategy, materialized, snapshot_runner
from churnml.features.hooks import apply_post_steps, load_post_steps
from churnml.features.inputs import FAMILIES, FeatureInputs, prepare

log = logging.getLogger(__name__)


def _ranked(customers: ir.Table) -> ir.Table:
    """Prepared customers with their rank by ``customer_id`` (stored once per calendar)."""
    return customers.mutate(**{ORDER: ibis.row_number().over(order_by=customers.customer_id)})


def _ordered_query(inputs: FeatureInputs, cfg: dict[str, Any], families: Collection[str],
                   data_start: pd.Timestamp | None) -> Callable[[pd.Timestamp], ir.Table]:
    """One snapshot's features sorted by the customers' integer ``_order`` on the backend.

    The backend sorts (by an integer, several times cheaper than by a million text
    ids) while it builds the result, so Python never holds a second, sorted copy.
    """
    ranked = ORDER in inputs.customers.columns  # else (one snapshot) sort by the ids themselves
    return lambda date: snapshot_features(inputs, date, cfg, families, keep_order=ranked,
                                          data_start=data_start
                                          ).order_by(ORDER if ranked else "customer_id")


def iter_features(con: ibis.BaseBackend, tables: dict[str, ir.Table], dates: list[pd.Timestamp],
                  cfg: dict[str, Any], families: Collection[str] = FAMILIES,
                  data_start: pd.Timestamp | None = None) -> Iterator[pa.Table]:
    """Features snapshot by snapshot, sharing the prepared inputs, post-steps applied.

    Parameters
    ----------
    con
        The backend holding ``tables``.
    tables
        Canonical Ibis tables (see :func:`churnml.features.core.build_features`).
    dates
        Snapshot dates.
    cfg
        The ``features`` config section.
    families
        Which families to compute (default: all).
    data_start
        The first day of data, the ingest manifest's ``data_start`` (see
        :func:`churnml.features.core.snapshot_features`).

    Yields
    ------
    pyarrow.Table
        One snapshot's features in ``customer_id`` order, snapshots in date order.
    """
    validate(cfg, dates)
    steps = load_post_steps(cfg.get("post_steps"))
    inputs = prepare(tables, cfg, families, key_strategy(con, tables["customers"]))
    if len(dates) > 1:  # the rank costs one sort of the ids, then every snapshot sorts cheaply
        inputs = inputs.with_tables({"customers": _ranked(inputs.customers)})
    with materialized(con, inputs.shared()) as (stored, wait_until_stored):
        ready = inputs.with_tables(stored)
        run = snapshot_runner(con, _ordered_query(ready, cfg, families, data_start))  # storing
        wait_until_stored()
        for date in sorted(dates):
            table = run(date)
            table = table.drop_columns([ORDER]) if ORDER in table.column_names else table
            if steps:
                frame = apply_post_steps(table.to_pandas(), steps)
                table = pa.Table.from_pandas(frame, preserve_index=False)
            log.debug("features as of %s: %d rows", pd.Timestamp(date).date(), table.num_rows)
            yield table
            del table  # not held while the next snapshot is computed


def compute_features(con: ibis.BaseBackend, tables: dict[str, ir.Table],
                     dates: list[pd.Timestamp], cfg: dict[str, Any],
                     families: Collection[str] = FAMILIES,
                     data_start: pd.Timestamp | None = None) -> pd.DataFrame:
    """:func:`iter_features` collected into one frame ordered by ``customer_id, as_of``."""
    parts = [t.to_pandas() for t in iter_features(con, tables, dates, cfg, families,
                                                  data_start)]
    if len(parts) == 1:  # one snapshot comes in customer order already
        return parts[0]
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(FEATURE_KEY, kind="stable", ignore_index=True)
