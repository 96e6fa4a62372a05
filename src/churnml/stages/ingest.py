"""Stage ``ingest``: raw tables -> validated canonical tables + quarantine + report."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from churnml import calendar, contract, io
from churnml.errors import ContractError, QuarantineToleranceError
from churnml.ingest import IngestResult, ingest_tables, over_tolerance
from churnml.stages.common import read_raw_table

log = logging.getLogger(__name__)
PARAMS = ["data.raw_dir", "ingest"]


def read_folder(folder: Path) -> tuple[dict, dict]:
    """Read every canonical table present in ``folder`` (never its ``truth/``)."""
    if not folder.is_dir():
        raise ContractError(str(folder), None, "data folder not found")
    raw, files = {}, {}
    for name in contract.TABLES:
        found = read_raw_table(folder, name)
        if found is not None:
            raw[name], files[name] = found
    return raw, files


def check(folder: Path, cfg: dict[str, Any]) -> IngestResult:
    """Validate ``folder`` without writing anything (used by ``churnml validate``)."""
    raw, files = read_folder(folder)
    return ingest_tables(raw, files, cfg)


def run(raw_dir: Path, out_dir: Path, cfg: dict[str, Any]) -> dict[str, Any]:
    """Ingest ``raw_dir`` into ``out_dir``; exit code 3 past the quarantine tolerance."""
    result = check(raw_dir, cfg)
    written = [io.write_parquet(frame, out_dir / f"{name}.parquet")
               for name, frame in result.tables.items()]
    written.append(io.write_parquet(result.quarantine, out_dir / "quarantine.parquet"))
    events = result.tables.get("events")
    start, end = calendar.observation_window(result.tables["transactions"]["ts"],
                                             None if events is None else events["ts"])
    manifest = io.write_manifest(out_dir / "manifest.json", written, counts=result.counts,
                                 data_start=start.isoformat(), data_end=end.isoformat())
    too_many = over_tolerance(result.counts, float(cfg["quarantine_tolerance"]))
    if too_many:
        shares = ", ".join(f"{t}: {s:.1%}" for t, s in too_many.items())
        raise QuarantineToleranceError(
            f"quarantined more rows than ingest.quarantine_tolerance="
            f"{cfg['quarantine_tolerance']} ({shares}); see {out_dir / 'quarantine.parquet'}")
    return manifest
