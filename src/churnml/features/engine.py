"""Engine selection: an Ibis backend from the ``engine`` config section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from churnml.errors import ConfigError


def connect(engine: dict[str, Any]) -> ibis.BaseBackend:
    """Open the configured Ibis backend (only DuckDB so far; Spark comes with issue #11)."""
    name = engine.get("name", "duckdb")
    if name != "duckdb":
        raise ConfigError(f"engine.name={name!r} is not available yet; use 'duckdb'")
    con = ibis.duckdb.connect()
    if engine.get("threads"):
        con.raw_sql(f"SET threads = {int(engine['threads'])}")
    if engine.get("memory_limit"):
        con.raw_sql(f"SET memory_limit = '{engine['memory_limit']}'")
    return con


def load_tables(con: ibis.BaseBackend, folder: Path | str,
                names: tuple[str, ...] = ("customers", "transactions", "events")) -> dict[str, ibis.Table]:
    """Register canonical Parquet tables found in ``folder`` with the backend."""
    tables = {}
    for name in names:
        path = Path(folder) / f"{name}.parquet"
        if path.is_file():
            tables[name] = con.read_parquet(str(path), table_name=name)
    return tables


def snapshot_table(dates: list[pd.Timestamp]) -> ibis.Table:
    """An Ibis table of snapshot dates (column ``as_of``)."""
    frame = pd.DataFrame({"as_of": pd.to_datetime(pd.Series(dates)).astype("datetime64[us]")})
    return ibis.memtable(frame)
