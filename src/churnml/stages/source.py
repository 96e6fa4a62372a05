"""Stage ``source``: materialise the configured data source into ``data.raw_dir``.

``data.source: synthetic`` runs the simulator (``churnml.stages.simulate``); any
other source is an adapter in ``churnml.sources`` that reads ``data.input_dir`` and
writes raw tables with canonical column names, values as written. Either way the
folder gets ``<table>.parquet``, ``source.json`` (where each table came from and how
to parse it) and ``manifest.json``; ``ingest`` validates it next.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from churnml import contract, io, sources
from churnml.errors import ConfigError
from churnml.sources import RawData
from churnml.sources.parsing import TableSpec

log = logging.getLogger(__name__)
PARAMS = ["data"]
SYNTHETIC = "synthetic"
OWN_FILES = (sources.SOURCE_FILE, "manifest.json")


def _prepare(raw_dir: Path, data_cfg: dict[str, Any], root: Path) -> None:
    """Refuse to write into the input folder; clear tables an earlier run left behind."""
    configured = data_cfg.get("input_dir")
    if configured and (root / str(configured)).resolve() == raw_dir.resolve():
        raise ConfigError(f"data.raw_dir and data.input_dir are the same folder ({raw_dir}): "
                          f"the source stage would overwrite your files")
    if any((raw_dir / f).is_file() for f in OWN_FILES):
        for name in contract.TABLES:
            (raw_dir / f"{name}.parquet").unlink(missing_ok=True)


def _synthetic(data_cfg: dict[str, Any], raw_dir: Path) -> RawData:
    """Simulate the world (tables are already canonical and typed, in UTC)."""
    from churnml.stages import simulate

    simulate.run(dict(data_cfg["world"]), raw_dir)
    names = [n for n in contract.TABLES if (raw_dir / f"{n}.parquet").is_file()]
    specs = {n: TableSpec(file=str(raw_dir / f"{n}.parquet")) for n in names}
    return RawData({}, specs, mode="events")


def write(raw: RawData, raw_dir: Path, source: str) -> dict[str, Any]:
    """Write the raw tables, ``source.json`` and the manifest."""
    written = [io.write_parquet(frame, raw_dir / f"{name}.parquet")
               for name, frame in raw.tables.items()]
    io.write_json(sources.describe(raw, source), raw_dir / sources.SOURCE_FILE)
    rows = {name: len(frame) for name, frame in raw.tables.items()}
    return io.write_manifest(raw_dir / "manifest.json", written, rows=rows, source=source,
                             mode=raw.mode)


def run(data_cfg: dict[str, Any], raw_dir: Path, root: Path) -> dict[str, Any]:
    """Materialise ``data_cfg['source']`` into ``raw_dir``.

    Parameters
    ----------
    data_cfg
        The ``data`` config section.
    raw_dir
        Output folder (``data.raw_dir``).
    root
        Project root, against which ``data.input_dir`` is resolved.
    """
    source = data_cfg.get("source")
    mode = data_cfg.get("mode") or "events"
    if mode not in contract.MODES:
        raise ConfigError(f"data.mode={mode!r}; use one of {list(contract.MODES)}")
    _prepare(raw_dir, data_cfg, root)
    if source == SYNTHETIC:
        raw = _synthetic(data_cfg, raw_dir)
        io.write_json(sources.describe(raw, source), raw_dir / sources.SOURCE_FILE)
        log.info("source %s: simulated world in %s", source, raw_dir)
        return io.read_json(raw_dir / "manifest.json")
    raw = sources.load(data_cfg, root)
    if raw.mode != mode:
        raise ConfigError(f"data.source={source!r} gives {raw.mode!r} data but data.mode={mode!r}")
    manifest = write(raw, raw_dir, source)
    log.info("source %s: wrote %s to %s", source, manifest["rows"], raw_dir)
    return manifest
