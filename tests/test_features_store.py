"""Storing the shared inputs on DuckDB while the snapshot query compiles."""

from __future__ import annotations

import threading
from pathlib import Path

import ibis
import pandas as pd
import pytest

from churnml.features import compute_features, connect, load_tables
from churnml.features import runner as runner_module
from tests.oracle_features import load_config
from tests.test_features_engine import DATES, _table_names, folder  # noqa: F401

FILL = "INSERT INTO"


def test_the_snapshot_query_is_compiled_while_the_inputs_are_stored(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    con = connect({"name": "duckdb"})
    compiling, stores_waited = threading.Event(), []
    raw_sql, compile_query = con.raw_sql, runner_module.snapshot_runner

    def store_after_compiling_began(sql: str, **kwargs):
        if str(sql).startswith(FILL):  # a sequential runner stores before it compiles: no event
            stores_waited.append(compiling.wait(timeout=10))
        return raw_sql(sql, **kwargs)

    def flag_compiling(*args, **kwargs):
        compiling.set()
        return compile_query(*args, **kwargs)

    monkeypatch.setattr(con, "raw_sql", store_after_compiling_began)
    monkeypatch.setattr(runner_module, "snapshot_runner", flag_compiling)
    frame = compute_features(con, load_tables(con, folder), DATES, load_config("features"))
    assert stores_waited and all(stores_waited)
    assert len(frame) > 0


def test_a_failed_store_raises_its_error_and_leaves_no_table(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    con = connect({"name": "duckdb"})
    tables = load_tables(con, folder)
    before, raw_sql, fills = _table_names(con), con.raw_sql, []

    def second_store_fails(sql: str, **kwargs):
        if str(sql).startswith(FILL):
            fills.append(sql)
            if len(fills) == 2:
                raise RuntimeError("out of memory while storing")
        return raw_sql(sql, **kwargs)

    monkeypatch.setattr(con, "raw_sql", second_store_fails)
    with pytest.raises(RuntimeError, match="out of memory"):
        compute_features(con, tables, DATES, load_config("features"))
    assert _table_names(con) == before


def test_in_memory_inputs_are_stored_like_parquet_ones(folder: Path) -> None:  # noqa: F811
    con, cfg = connect({"name": "duckdb"}), load_config("features")
    from_files = load_tables(con, folder)
    in_memory = {name: ibis.memtable(pd.read_parquet(folder / f"{name}.parquet"))
                 for name in from_files}
    expected = compute_features(con, from_files, DATES, cfg)
    pd.testing.assert_frame_equal(compute_features(con, in_memory, DATES, cfg), expected)
