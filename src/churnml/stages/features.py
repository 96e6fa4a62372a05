"""Stage ``features``: point-in-time features for every snapshot of the calendar."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from churnml import calendar, io, snapshot
from churnml.features import build_features, connect, load_tables

log = logging.getLogger(__name__)
PARAMS = ["features", "engine", "data.mode"]


def data_window(interim_dir: Path) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The observation window recorded by ``ingest`` in its manifest."""
    manifest = io.read_json(interim_dir / "manifest.json")
    return pd.Timestamp(manifest["data_start"]), pd.Timestamp(manifest["data_end"])


def compute(interim_dir: Path, dates: list[pd.Timestamp], features_cfg: dict[str, Any],
            engine_cfg: dict[str, Any]) -> pd.DataFrame:
    """Run the feature expressions for ``dates`` on the configured engine."""
    con = connect(engine_cfg)
    tables = load_tables(con, interim_dir)
    return con.execute(build_features(tables, dates, features_cfg))


def run(interim_dir: Path, out_file: Path, params: dict[str, Any]) -> pd.DataFrame:
    """Build features for the snapshot calendar and write them to ``out_file``."""
    start, end = data_window(interim_dir)
    if snapshot.is_snapshot(params["data"]):  # one date; features = customer attributes
        frame = snapshot.snapshot_features(io.read_parquet(interim_dir / "customers.parquet"), end)
        io.write_parquet(frame, out_file)
        log.info("features (snapshot mode): %d customers x %d columns as of %s", len(frame),
                 frame.shape[1], end.date())
        return frame
    snaps = params["features"]["snapshots"]
    dates = calendar.snapshot_dates(start, end, snaps["freq"], snaps["min_history_days"])
    frame = compute(interim_dir, dates, params["features"], params["engine"])
    io.write_parquet(frame, out_file)
    log.info("features: %d rows x %d columns over %d snapshots (%s .. %s)", len(frame),
             frame.shape[1], len(dates), dates[0].date(), dates[-1].date())
    return frame
