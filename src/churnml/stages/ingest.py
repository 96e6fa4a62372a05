"""Stage ``ingest``: raw tables -> validated canonical tables + quarantine + report.

Reads ``<data.raw_dir>/<table>.parquet|csv`` (and ``source.json`` when a source
adapter wrote the folder: which user file each table came from and how to parse its
dates), writes ``data/interim/<table>.parquet``, ``quarantine.parquet`` (one reason
per set-aside row) and ``manifest.json`` (counts, observation window, the end of each
timestamped table, mode). Later stages read the window and the table ends from it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from churnml import calendar, contract, io, sources
from churnml.errors import ConfigError, ContractError, QuarantineToleranceError
from churnml.ingest import (
    IngestResult,
    ingest_tables,
    over_tolerance,
    rule_summary,
    tolerance_message,
)
from churnml.sources.parsing import TableSpec
from churnml.stages.common import read_raw_table

log = logging.getLogger(__name__)
PARAMS = ["data.raw_dir", "data.mode", "data.snapshot", "ingest"]
MANIFEST = "manifest.json"  # written last; its presence means the tables are complete
TIME_COLUMNS = {"transactions": "ts", "events": "ts", "campaigns": "ts", "incidents": "start"}


def read_folder(folder: Path, default_tz: str, strict: bool = True,
                ) -> tuple[dict[str, pd.DataFrame], dict[str, TableSpec], str | None,
                           list[ContractError]]:
    """Read every canonical table present in ``folder`` (never its ``truth/``).

    Returns
    -------
    raw, specs, mode, errors
        Frames and parse specs by table; the mode recorded in ``source.json`` (None
        when the folder has none); files that could not be read (only when not
        ``strict``, else the first one is raised).
    """
    if not folder.is_dir():
        raise ContractError(str(folder), None, "data folder not found")
    desc = sources.read_description(folder)
    raw, specs, errors = {}, {}, []
    for name in contract.TABLES:
        try:
            found = read_raw_table(folder, name)
        except ContractError as exc:
            if strict:
                raise
            errors.append(exc)
            continue
        if found is not None:
            raw[name] = found[0]
            specs[name] = sources.spec_from_description(desc, name, found[1], default_tz)
    return raw, specs, (desc or {}).get("mode"), errors


def check(folder: Path, cfg: dict[str, Any], mode: str | None = None,
          strict: bool = True) -> IngestResult:
    """Validate ``folder`` without writing anything (used by ``churnml validate``).

    ``mode`` defaults to the one recorded in ``source.json``, else ``events``.
    """
    raw, specs, recorded, errors = read_folder(folder, cfg.get("default_timezone") or "UTC",
                                               strict)
    result = ingest_tables(raw, specs, cfg, mode or recorded or "events", strict=strict)
    result.errors[:0] = errors
    return result


def observation_window(result: IngestResult, mode: str,
                       snapshot: dict[str, Any] | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Start and end of the data; in snapshot mode the end is ``data.snapshot.as_of``."""
    if mode == "snapshot":
        if not snapshot or not snapshot.get("as_of"):
            raise ConfigError("data.mode=snapshot needs data.snapshot.as_of (the date the "
                              "customers table describes)")
        start = result.tables["customers"]["signup_date"].min().normalize()
        return start, pd.Timestamp(snapshot["as_of"]).normalize()
    events = result.tables.get("events")
    return calendar.observation_window(result.tables["transactions"]["ts"],
                                       None if events is None else events["ts"])


def table_ends(result: IngestResult, start: pd.Timestamp) -> dict[str, pd.Timestamp]:
    """The end of each timestamped table present: the day after its last timestamp.

    ``start`` (the first day of data) is the end of a table without timestamps.
    """
    return calendar.table_ends(start, {name: result.tables[name][column]
                                       for name, column in TIME_COLUMNS.items()
                                       if name in result.tables})


def log_quarantine(result: IngestResult) -> None:
    """One line per table and rule, so a run within tolerance still shows what was set aside."""
    for table in result.counts:
        for row in rule_summary(result.quarantine, table).itertuples():
            log.warning("%s: %d rows quarantined by rule '%s' (column '%s'), e.g. %s at rows %s",
                        result.files.get(table, table), row.rows, row.rule,
                        result.column_label(table, row.column), row.examples, row.at_rows)


def _remove_stale(out_dir: Path, produced: dict[str, pd.DataFrame]) -> None:
    """Drop canonical tables a previous run left in ``out_dir`` that this run does not write.

    Called after :func:`_start_writing` has withdrawn the manifest, so a run killed here
    leaves no manifest naming a table that is gone.
    """
    for name in set(contract.TABLES) - set(produced):
        (out_dir / f"{name}.parquet").unlink(missing_ok=True)


def _window(result: IngestResult, mode: str, snapshot: dict[str, Any] | None,
            too_many: dict[str, float]) -> dict[str, Any]:
    """The manifest's ``data_start``, ``data_end`` (ISO dates) and ``table_ends`` (table ->
    ISO date); None when too many rows were quarantined to place them (then the tolerance
    error, naming file, rule and examples, is the one to show)."""
    try:
        start, end = observation_window(result, mode, snapshot)
    except ConfigError:
        if too_many:
            return {"data_start": None, "data_end": None, "table_ends": None}
        raise
    ends = {name: day.isoformat() for name, day in table_ends(result, start).items()}
    return {"data_start": start.isoformat(), "data_end": end.isoformat(), "table_ends": ends}


def _start_writing(out_dir: Path) -> None:
    """Before any output changes: withdraw the manifest (so a killed run never leaves one
    describing a mix of old and new tables) and sweep temp files a killed run left."""
    (out_dir / MANIFEST).unlink(missing_ok=True)
    names = [f"{t}.parquet" for t in contract.TABLES] + ["quarantine.parquet", MANIFEST]
    stale = io.sweep_temp_files(out_dir, names)
    if stale:
        log.warning("removed %d temp files left by an interrupted run in %s", len(stale), out_dir)


def run(raw_dir: Path, out_dir: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Ingest ``raw_dir`` into ``out_dir``; exit code 3 past the quarantine tolerance.

    Parameters
    ----------
    params
        ``data.mode``, ``data.snapshot`` and the ``ingest`` section.
    """
    cfg, mode = params["ingest"], params["data"]["mode"]
    result = check(raw_dir, cfg, mode)
    _start_writing(out_dir)  # the manifest goes first: it must never list a deleted table
    _remove_stale(out_dir, result.tables)
    written = [io.write_parquet(frame, out_dir / f"{name}.parquet")
               for name, frame in result.tables.items()]
    written.append(io.write_parquet(result.quarantine, out_dir / "quarantine.parquet"))
    too_many = over_tolerance(result.counts, cfg)
    window = _window(result, mode, params["data"]["snapshot"], too_many)
    manifest = io.write_manifest(out_dir / MANIFEST, written, counts=result.counts, mode=mode,
                                 **window)
    log_quarantine(result)
    if too_many:
        raise QuarantineToleranceError(
            f"{tolerance_message(result, too_many, cfg)}; all set-aside rows and their reasons "
            f"are in {out_dir / 'quarantine.parquet'} (raise ingest.quarantine_tolerance "
            f"only if these rows are expected)")
    return manifest
