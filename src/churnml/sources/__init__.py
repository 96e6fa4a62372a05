"""Data sources: adapters that turn a data set into raw tables with canonical names.

An adapter reads the user's (or a public data set's) files as described by
``conf/data/<name>.yaml`` and returns :class:`RawData`: one frame per canonical table
with canonical column names, values still as written, plus a
:class:`~churnml.sources.parsing.TableSpec` per table saying which file it came from
and how to parse its dates. It never drops a row: rows that break the contract are
quarantined later by ``ingest``, with a reason.

The ``source`` stage writes the frames to ``<data.raw_dir>/<table>.parquet`` and the
specs to ``<data.raw_dir>/source.json``, so a raw folder describes itself.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from churnml.errors import ConfigError
from churnml.sources.parsing import TableSpec

SOURCE_FILE = "source.json"


@dataclass
class RawData:
    """Raw tables by canonical name, how to parse each, and the data's mode."""

    tables: dict[str, pd.DataFrame]
    specs: dict[str, TableSpec]
    mode: str = "events"
    notes: dict[str, Any] = field(default_factory=dict)


ADAPTERS = ("mapped", "online_retail", "telco", "hillstrom", "completejourney")


def adapter(name: str) -> Callable[[dict[str, Any], Path], RawData]:
    """The ``load`` function of the adapter module ``churnml.sources.<name>``."""
    return importlib.import_module(f"churnml.sources.{name}").load


def load(data_cfg: dict[str, Any], root: Path) -> RawData:
    """Run the adapter named by ``data_cfg['source']``.

    Parameters
    ----------
    data_cfg
        The ``data`` config section (``source``, ``input_dir``, ``tables``, ...).
    root
        The project root; relative paths in the config are resolved against it.
    """
    name = data_cfg.get("source")
    if name not in ADAPTERS:
        raise ConfigError(f"data.source={name!r} is not an adapter; choose one of "
                          f"{sorted([*ADAPTERS, 'synthetic'])}")
    return adapter(str(name))(data_cfg, root)


def input_dir(data_cfg: dict[str, Any], root: Path) -> Path:
    """``data.input_dir`` resolved against ``root``; a ConfigError naming it when absent."""
    configured = data_cfg.get("input_dir")
    if not configured:
        raise ConfigError(f"data.input_dir is not set for data source {data_cfg.get('name')!r}")
    path = (root / str(configured)).resolve()
    if not path.is_dir():
        raise ConfigError(
            f"data.input_dir={configured!r} resolves to {path}, which does not exist: put the "
            f"files there or override it, e.g. `churnml compose data={data_cfg.get('name')} "
            f"data.input_dir=/path/to/folder`")
    return path


def describe(raw: RawData, source: str) -> dict[str, Any]:
    """The content of ``source.json``: source, mode and each table's spec."""
    return {"source": source, "mode": raw.mode, "notes": raw.notes,
            "tables": {t: asdict(s) for t, s in sorted(raw.specs.items())}}


def read_description(folder: Path) -> dict[str, Any] | None:
    """``folder/source.json`` if present (a raw folder written by ``churnml source``)."""
    path = folder / SOURCE_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}): rerun `churnml source`") from exc


def spec_from_description(desc: dict[str, Any] | None, table: str, file: str,
                          timezone: str) -> TableSpec:
    """The spec of ``table`` recorded in ``source.json``, else a default one for ``file``."""
    entry = ((desc or {}).get("tables") or {}).get(table)
    if entry is None:
        return TableSpec(file=file, timezone=timezone)
    return TableSpec(**entry)
