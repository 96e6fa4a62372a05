"""Engine selection, the calendar runner, post-steps and the features stage."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import ClassVar

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from churnml.errors import ConfigError
from churnml.features import build_features, compute_features, connect, load_tables
from churnml.features import engine as engine_module
from churnml.features import inputs as inputs_module
from churnml.features.core import snapshot_features
from churnml.features.engine import key_strategy, literal_sql
from churnml.features.hooks import load_post_steps
from churnml.stages import features as features_stage
from churnml.stages import labels as labels_stage
from tests.oracle_features import assert_frames_close, load_config, random_world

DATES = [pd.Timestamp("2023-08-01"), pd.Timestamp("2024-03-15")]
TEXT = ("customer_id", "as_of", "region", "plan", "channel")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A tiny canonical data folder, as ``ingest`` leaves it."""
    for name, frame in random_world(3, 12, 150, 120, 2, DATES).items():
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"data_start": "2023-01-01", "data_end": "2024-06-24",
         "table_ends": {"transactions": "2024-06-24", "events": "2024-06-24"}}))
    return tmp_path


def double_frequency(frame: pd.DataFrame, params: dict) -> pd.DataFrame:
    """A post-step for the tests: adds ``frequency x factor``."""
    return frame.assign(frequency_scaled=frame["frequency"] * params.get("factor", 2))


def _table_names(con: ibis.BaseBackend) -> set[str]:
    return {row[0] for row in con.raw_sql(
        "SELECT table_name FROM information_schema.tables").fetchall()}


def drop_first_row(frame: pd.DataFrame, params: dict) -> pd.DataFrame:
    """A broken post-step: loses a row."""
    return frame.iloc[1:]


def test_unknown_engine_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not supported"):
        connect({"name": "oracle"})


def test_load_tables_registers_the_parquet_tables_present(folder: Path) -> None:
    (folder / "incidents.parquet").unlink()
    con = connect({"name": "duckdb", "threads": 1})
    tables = load_tables(con, folder)
    assert sorted(tables) == ["customers", "events", "transactions"]
    assert con.execute(tables["customers"].count()) == 12


def test_the_calendar_runner_equals_the_plain_expression(folder: Path) -> None:
    cfg = load_config("features")
    con = connect({"name": "duckdb"})
    tables = load_tables(con, folder)
    before = _table_names(con)
    stored = compute_features(con, tables, DATES, cfg)  # hash keys, stored inputs, SQL template
    plain = con.execute(build_features(tables, DATES, cfg))  # text keys, one expression
    assert list(stored.columns) == list(plain.columns)
    assert_frames_close(stored, plain, [c for c in plain.columns if c not in TEXT])
    assert _table_names(con) == before  # the stored inputs are dropped afterwards


def test_hash_keys_are_used_only_when_no_two_customers_collide(monkeypatch) -> None:
    customers = ibis.memtable(pd.DataFrame({"customer_id": ["a", "bb", "cc"]}))
    con = connect({"name": "duckdb"})
    assert key_strategy(con, customers) == inputs_module.HASH_KEYS
    monkeypatch.setattr(inputs_module, "_duckdb_hash", lambda ids: ids.length())
    assert key_strategy(con, customers) == inputs_module.ID_KEYS


def test_a_repeated_customer_id_falls_back_to_text_keys() -> None:
    customers = ibis.memtable(pd.DataFrame({"customer_id": ["a", "bb", "a"]}))
    assert key_strategy(connect({"name": "duckdb"}), customers) == inputs_module.ID_KEYS


def test_the_date_literal_is_swapped_exactly(folder: Path) -> None:
    con = connect({"name": "duckdb"})
    sentinel = literal_sql(con, engine_module.SENTINEL)
    assert "2199" in sentinel and literal_sql(con, DATES[0]) != sentinel


def test_post_steps_run_per_snapshot_and_are_checked(folder: Path) -> None:
    cfg = {**load_config("features"), "post_steps": [
        {"fn": "tests.test_features_engine:double_frequency", "params": {"factor": 3}}]}
    con = connect({"name": "duckdb"})
    frame = compute_features(con, load_tables(con, folder), DATES, cfg)
    assert (frame["frequency_scaled"] == 3 * frame["frequency"]).all()
    with pytest.raises(ConfigError, match="module:function"):
        load_post_steps(["no_colon_here"])
    with pytest.raises(ConfigError, match="cannot be imported"):
        load_post_steps(["tests.test_features_engine:missing"])
    (dropper,) = load_post_steps(["tests.test_features_engine:drop_first_row"])
    with pytest.raises(ConfigError, match="keep the rows"):
        dropper(frame)


def test_write_features_streams_snapshots_into_one_parquet_file(tmp_path: Path) -> None:
    parts = [pa.table({"customer_id": ["a", "b"], "x": [1, 2]}),
             pa.table({"customer_id": ["a"], "x": pa.array([3], type=pa.int32())})]
    written = features_stage.write_features(iter(parts), tmp_path / "f.parquet")
    assert (written.rows, written.columns, written.snapshots) == (3, 2, 2)
    assert len(written) == 3
    back = pq.ParquetFile(tmp_path / "f.parquet")
    assert back.metadata.num_row_groups == 2 and back.schema_arrow.field("x").type == pa.int64()
    assert [p.name for p in tmp_path.iterdir()] == ["f.parquet"]


def test_features_file_keeps_dictionaries_and_statistics_where_they_pay(tmp_path: Path) -> None:
    as_of = pd.Timestamp("2024-01-01").as_unit("us")
    part = pa.table({"customer_id": ["a", "b", "c"], "as_of": pa.array([as_of] * 3),
                     "count_30d": pa.array([1, 1, 2], type=pa.int32()),
                     "spend_30d": [1.5, 2.25, 1.5]})
    features_stage.write_features(iter([part]), tmp_path / "f.parquet")
    group = pq.ParquetFile(tmp_path / "f.parquet").metadata.row_group(0)
    chunks = {group.column(i).path_in_schema: group.column(i) for i in range(group.num_columns)}
    dictionary = {name for name, chunk in chunks.items()
                  if any("DICTIONARY" in encoding for encoding in chunk.encodings)}
    assert dictionary == {"customer_id", "as_of", "count_30d"}
    assert {name for name, chunk in chunks.items() if chunk.is_stats_set} == {"customer_id",
                                                                               "as_of"}
    assert chunks["customer_id"].statistics.min == "a"
    assert pq.read_table(tmp_path / "f.parquet").equals(part)


class _WaitingWriter(pq.ParquetWriter):
    """A Parquet writer whose writes first wait for ``go`` (and record whether it came)."""

    go: ClassVar[threading.Event] = threading.Event()
    came: ClassVar[list[bool]] = []
    fail_on: ClassVar[int | None] = None

    def write_table(self, table: pa.Table, *args, **kwargs) -> None:
        type(self).came.append(type(self).go.wait(timeout=10))
        if len(type(self).came) == type(self).fail_on:
            raise OSError("disk full")
        super().write_table(table, *args, **kwargs)


@pytest.fixture
def waiting_writer(monkeypatch: pytest.MonkeyPatch) -> type[_WaitingWriter]:
    monkeypatch.setattr(_WaitingWriter, "go", threading.Event())
    monkeypatch.setattr(_WaitingWriter, "came", [])
    monkeypatch.setattr(_WaitingWriter, "fail_on", None)
    monkeypatch.setattr(features_stage.pq, "ParquetWriter", _WaitingWriter)
    return _WaitingWriter


def test_the_next_snapshot_is_computed_while_the_previous_one_is_written(
        tmp_path: Path, waiting_writer: type[_WaitingWriter]) -> None:
    def snapshots():
        yield pa.table({"x": [1]})
        waiting_writer.go.set()  # the first write may only finish once we are asked again
        yield pa.table({"x": [2]})

    written = features_stage.write_features(snapshots(), tmp_path / "f.parquet")
    assert waiting_writer.came == [True, True]  # a write run before the ask waits in vain
    assert written.rows == 2 and pq.read_table(tmp_path / "f.parquet")["x"].to_pylist() == [1, 2]


def test_a_failed_write_or_snapshot_leaves_no_file(tmp_path: Path,
                                                     waiting_writer: type[_WaitingWriter]) -> None:
    waiting_writer.go.set()
    waiting_writer.fail_on = 2
    parts = [pa.table({"x": [1]}), pa.table({"x": [2]}), pa.table({"x": [3]})]
    with pytest.raises(OSError, match="disk full"):
        features_stage.write_features(iter(parts), tmp_path / "f.parquet")
    assert list(tmp_path.iterdir()) == []

    def broken():
        yield pa.table({"x": [1]})  # its write may still run when the next one fails
        raise RuntimeError("engine gone")

    waiting_writer.fail_on = None
    with pytest.raises(RuntimeError, match="engine gone"):
        features_stage.write_features(broken(), tmp_path / "f.parquet")
    assert list(tmp_path.iterdir()) == []


def test_features_and_labels_stages_write_their_files(folder: Path, tmp_path: Path) -> None:
    params = {"features": load_config("features"), "labels": load_config("labels"),
              "engine": {"name": "duckdb"}, "data": {"mode": "events"}}
    params["features"]["snapshots"]["min_history_days"] = 150
    written = features_stage.run(folder, tmp_path / "out" / "features.parquet", params)
    frame = pd.read_parquet(tmp_path / "out" / "features.parquet")
    assert written.rows == len(frame) and frame["as_of"].nunique() == written.snapshots
    labels = labels_stage.run(folder, tmp_path / "out" / "labels.parquet", params)
    horizon = pd.Timedelta(days=params["labels"]["horizon_days"])
    assert (labels["as_of"] + horizon <= pd.Timestamp("2024-06-24")).all()
    assert set(labels["as_of"]) < set(frame["as_of"])


def _setting(con: ibis.BaseBackend, name: str) -> str:
    return con.raw_sql(f"SELECT current_setting('{name}')").fetchall()[0][0]


def test_duckdb_memory_limit_temp_directory_and_threads_reach_the_connection(
        tmp_path: Path) -> None:
    spill = tmp_path / "spill dir's"
    con = connect({"name": "duckdb", "threads": 1, "memory_limit": "300MB",
                   "temp_directory": str(spill)})
    assert _setting(con, "memory_limit") == "286.1 MiB"  # 300 * 1000^2 bytes
    assert _setting(con, "threads") == 1
    assert _setting(con, "temp_directory") == str(spill)
    default = connect({"name": "duckdb", "threads": None, "memory_limit": None,
                       "temp_directory": None})
    assert _setting(default, "memory_limit") != "286.1 MiB"


@pytest.mark.parametrize(("key", "value"), [("memory_limit", "lots"), ("memory_limit", "8XB"),
                                            ("threads", 0), ("threads", "two")])
def test_a_bad_duckdb_setting_is_a_config_error_naming_the_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=rf"engine\.{key}="):
        connect({"name": "duckdb", key: value})


def test_the_spark_sql_of_the_features_has_no_decimal_literal() -> None:
    """Spark reads a bare ``2.5`` as DECIMAL(2,1); every float literal must be a cast double."""
    pytest.importorskip("pyspark")
    _ = ibis.pyspark  # registers the pyspark compiler's options (no session is started)
    world = random_world(3, 12, 150, 120, 2, DATES)
    tables = {name: ibis.table(ibis.memtable(frame).schema(), name=name)
              for name, frame in world.items()}
    cfg = load_config("features")
    inputs = inputs_module.prepare(tables, cfg, inputs_module.FAMILIES, inputs_module.ID_KEYS)
    sql = ibis.to_sql(snapshot_features(inputs, DATES[0], cfg), dialect="pyspark")
    code = re.sub(r"'[^']*'", "''", sql)  # string literals (and the cast doubles' text) aside
    assert "AS DOUBLE" in sql and "86400.0" in sql
    assert re.findall(r"(?<![\w.`])\d+\.\d+(?![\w`])", code) == []
