"""Stage ``features``: point-in-time features for every snapshot of the calendar.

Snapshots are computed one after the other on the configured engine (sharing the
prepared inputs) and streamed into one Parquet file: while a snapshot is written (on
a second thread), the next one is computed, so memory holds at most two snapshots
however long the calendar.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from churnml import calendar, io, snapshot
from churnml.errors import ConfigError
from churnml.features import FEATURE_KEY, compute_features, connect, iter_features, load_tables

log = logging.getLogger(__name__)
PARAMS = ["features", "engine", "data.mode"]
LOG_TABLES = ("events",)  # read by the features besides the transactions, dated rows


@dataclass(frozen=True)
class WrittenFeatures:
    """What :func:`write_features` wrote: rows, columns and snapshots of the file."""

    path: Path
    rows: int
    columns: int
    snapshots: int

    def __len__(self) -> int:
        return self.rows


def read_manifest(interim_dir: Path) -> dict[str, Any]:
    """The manifest ``ingest`` wrote beside the canonical tables in ``interim_dir``.

    Raises
    ------
    ConfigError
        ``interim_dir`` has no manifest, or one without the window (it is not an output
        of ``churnml ingest``: e.g. the raw tables of ``churnml source`` or ``simulate``).
    """
    path = Path(interim_dir) / "manifest.json"
    if not path.is_file():
        raise ConfigError(f"{path} is missing: the data's time span is read from the manifest "
                          "that `churnml ingest` writes beside the canonical tables")
    manifest = io.read_json(path)
    if not isinstance(manifest, dict) or not {"data_start", "data_end"} <= manifest.keys():
        raise ConfigError(
            f"{interim_dir} is not an ingest output: its manifest.json has no data_start / "
            "data_end (raw tables, as `churnml source` or `churnml simulate` write them, are "
            f"not validated yet); run `churnml ingest --data {interim_dir} --out "
            "data/interim` and pass the ingest output (data/interim by default)")
    return manifest


def data_window(interim_dir: Path) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The observation window recorded by ``ingest``: the first day of data and the end of
    the latest table (in snapshot mode, the snapshot date). For the end of the features
    calendar and of the scoring dates see :func:`features_window`."""
    manifest = read_manifest(interim_dir)
    return pd.Timestamp(manifest["data_start"]), pd.Timestamp(manifest["data_end"])


def table_ends(interim_dir: Path) -> dict[str, pd.Timestamp]:
    """The end of each timestamped table (the day after its last timestamp), from the manifest.

    Raises
    ------
    ConfigError
        The manifest predates the per-table ends: rerun ``churnml ingest``.
    """
    path = Path(interim_dir) / "manifest.json"
    return calendar.recorded_ends(read_manifest(interim_dir), str(path))


def features_window(interim_dir: Path) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first day of data and the end of the transactions: the span the features
    calendar and the scoring dates may take (:func:`churnml.calendar.activity_end`)."""
    return data_window(interim_dir)[0], calendar.activity_end(table_ends(interim_dir))


def warn_ending_early(interim_dir: Path, snapshots_cfg: dict[str, Any], stage: str) -> None:
    """Warn for each table the features read that ends well before the transactions.

    The calendar is not cut for it (purchases define activity): its features undercount
    at the snapshots after it ends. ``snapshots_cfg`` is ``features.snapshots``; a gap of
    up to ``end_tolerance_days`` is ordinary export lag and is not reported.
    """
    ends = table_ends(interim_dir)
    tolerance = int(snapshots_cfg.get("end_tolerance_days", calendar.END_TOLERANCE_DAYS))
    end = calendar.activity_end(ends)
    for name, gap in calendar.ending_early(ends, LOG_TABLES, tolerance).items():
        log.warning("%s: %s end on %s, %d days before the %s (%s); features from %s "
                    "undercount at snapshots after %s", stage, name, ends[name].date(), gap,
                    calendar.ACTIVITY_TABLE, end.date(), name, ends[name].date())


def compute(interim_dir: Path, dates: list[pd.Timestamp], features_cfg: dict[str, Any],
            engine_cfg: dict[str, Any], data_start: pd.Timestamp | None = None) -> pd.DataFrame:
    """Features for ``dates`` from the canonical tables in ``interim_dir``, as one frame.

    ``data_start`` defaults to the one in ``interim_dir``'s manifest; pass it when the
    tables are a copy without one (a subset of the customers has the data's start).
    """
    start = data_window(interim_dir)[0] if data_start is None else data_start
    con = connect(engine_cfg)
    return compute_features(con, load_tables(con, interim_dir), dates, features_cfg,
                            data_start=start)


def parquet_options(schema: pa.Schema) -> dict[str, Any]:
    """How the features file is encoded: zstd; dictionaries and statistics where they pay.

    Dictionary encoding is asked for the integer, text and date columns only: a float
    feature rarely repeats a value, so its dictionary either overflows and falls back
    to plain pages (10^6 customers: wasted work) or, in a small snapshot, costs more
    than plain values (2,000-20,000 customers: the file is 14 % smaller without it).
    Column statistics (min / max per row group, for readers that skip row groups) are
    kept on ``customer_id, as_of`` only, the columns a reader selects snapshots by.
    At 10^6 customers x 85 columns a snapshot takes 1.9 s to write instead of 2.1 s,
    in a file 2 % larger (docs/features.md).
    """
    return {"compression": "zstd",
            "use_dictionary": [f.name for f in schema if not pa.types.is_floating(f.type)],
            "write_statistics": [name for name in FEATURE_KEY if name in schema.names]}


def write_features(snapshots: Iterable[pa.Table], out_file: Path) -> WrittenFeatures:
    """Stream snapshot tables into one Parquet file, atomically (one row group each).

    Every snapshot must have the first snapshot's columns; types are cast to it. A
    snapshot is written on a second thread while the next one is computed (the
    engine and the Parquet encoder each release the GIL): 12 snapshots of 10^6
    customers took 68-74 s instead of 78-83 s, at the same peak memory (docs/features.md).
    At most one write is in flight, so at most two snapshots are held.
    """
    rows = count = 0
    schema: pa.Schema | None = None
    writer: pq.ParquetWriter | None = None
    pending: Future | None = None
    with io.atomic_path(out_file) as tmp, ThreadPoolExecutor(1, "write-features") as pool:
        try:
            for table in snapshots:
                if writer is None:
                    schema = table.schema
                    writer = pq.ParquetWriter(tmp, schema, **parquet_options(schema))
                table = table.select(schema.names).cast(schema)
                if pending is not None:
                    pending.result()  # the previous write: its error surfaces here
                pending = pool.submit(writer.write_table, table)
                rows, count = rows + table.num_rows, count + 1
                del table  # held by the write in flight only
            if pending is not None:
                pending.result()
        finally:
            if pending is not None:
                wait([pending])  # never close the file under a running write
            if writer is not None:
                writer.close()
        if writer is None:
            raise ValueError("no snapshots to write")
    return WrittenFeatures(Path(out_file), rows, len(schema.names), count)


def run(interim_dir: Path, out_file: Path,
        params: dict[str, Any]) -> pd.DataFrame | WrittenFeatures:
    """Build features for the snapshot calendar and write them to ``out_file``."""
    if io.sweep_temp_files(Path(out_file).parent, [Path(out_file).name]):
        log.warning("removed temp files of %s left by an interrupted run", out_file)
    if snapshot.is_snapshot(params["data"]):  # one date; features = customer attributes
        end = data_window(interim_dir)[1]
        frame = snapshot.snapshot_features(io.read_parquet(interim_dir / "customers.parquet"), end)
        io.write_parquet(frame, out_file)
        log.info("features (snapshot mode): %d customers x %d columns as of %s", len(frame),
                 frame.shape[1], end.date())
        return frame
    snaps = params["features"]["snapshots"]
    start, end = features_window(interim_dir)  # later days have no purchase data
    warn_ending_early(interim_dir, snaps, "features")
    dates = calendar.snapshot_dates(start, end, snaps["freq"], snaps["min_history_days"])
    con = connect(params["engine"])
    written = write_features(iter_features(con, load_tables(con, interim_dir), dates,
                                           params["features"], data_start=start), out_file)
    log.info("features: %d rows x %d columns over %d snapshots (%s .. %s; the %s end on %s) "
             "on %s", written.rows, written.columns, written.snapshots, dates[0].date(),
             dates[-1].date(), calendar.ACTIVITY_TABLE, end.date(),
             params["engine"].get("name", "duckdb"))
    return written
