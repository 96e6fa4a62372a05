"""Stage ``segments``: loyalty ladder, lifecycle stage, churn cause and shared-cause risk
for every customer × snapshot (DESIGN §8), plus the ladder transition matrix and the
proactive-outreach list.

Reads the canonical tables in ``data/interim``; writes ``data/segments/segments.parquet``,
``data/segments/outreach.parquet`` and ``reports/segments/`` (transition matrix CSV and
PNG, ``summary.json``). A folder without transactions (snapshot mode, e.g. Telco) gets
churn causes from customer attributes, as of the end of the data.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from churnml import calendar, io
from churnml.labels import cancellation_event
from churnml.segments import (
    outreach_list,
    plot_transition_matrix,
    segment_customers,
    segment_snapshot_table,
    transition_matrix,
)

log = logging.getLogger(__name__)
PARAMS = ["segments", "features.snapshots", "features.incidents.max_open_days",
          "labels.lapse_days", "labels.attrition"]
SEGMENTS_DIR = Path("data/segments")
TABLES = ("customers", "transactions", "events", "incidents")


def read_tables(interim_dir: Path) -> dict[str, pd.DataFrame]:
    """The canonical tables the segments read, those present in ``interim_dir``."""
    return {name: io.read_parquet(interim_dir / f"{name}.parquet") for name in TABLES
            if (interim_dir / f"{name}.parquet").is_file()}


def data_window(interim_dir: Path) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The span the segments take, from the manifest ``ingest`` wrote: the first day of
    data and the end of the transactions (the end of the features calendar and the
    default scoring date: after it, every customer would look lapsed); without
    transactions (snapshot mode), the end of the data."""
    manifest = io.read_json(interim_dir / "manifest.json")
    start, end = pd.Timestamp(manifest["data_start"]), pd.Timestamp(manifest["data_end"])
    if not (interim_dir / "transactions.parquet").is_file():
        return start, end
    ends = calendar.recorded_ends(manifest, str(interim_dir / "manifest.json"))
    return start, calendar.activity_end(ends)


def snapshot_dates(interim_dir: Path, snaps: dict[str, Any]) -> list[pd.Timestamp]:
    """The features' snapshot calendar plus the end of the transactions (the default
    scoring date)."""
    start, end = data_window(interim_dir)
    dates = calendar.snapshot_dates(start, end, snaps["freq"], snaps["min_history_days"])
    end = end.as_unit("us")
    return dates if end in dates else [*dates, end]


def summarise(segments: pd.DataFrame, outreach: pd.DataFrame) -> dict[str, Any]:
    """Counts by rung, stage and cause at the last snapshot, for ``summary.json``."""
    last = segments.loc[segments["as_of"] == segments["as_of"].max()]

    def counts(column: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in last[column].value_counts().sort_index().items()}

    return {"as_of": str(last["as_of"].max()), "customers": len(last),
            "ladder_rung": counts("ladder_rung"), "lifecycle_stage": counts("lifecycle_stage"),
            "churn_cause": counts("churn_cause"), "outreach": len(outreach)}


def write_reports(segments: pd.DataFrame, outreach: pd.DataFrame, reports_dir: Path) -> None:
    """Transition matrix (CSV + PNG) and the summary into ``reports_dir``."""
    io.write_json(summarise(segments, outreach), reports_dir / "summary.json")
    # Always written (dvc.yaml declares both): without rungs (snapshot mode) or with a
    # single snapshot the matrix is all zeros, which is what was observed.
    matrix = transition_matrix(segments)
    io.write_csv(matrix, reports_dir / "transition_matrix.csv")
    observed = int(matrix["customers"].sum())
    figure = plot_transition_matrix(matrix, title="Loyalty ladder transitions" + (
        "" if observed else " (none observed: no ladder or a single snapshot)"))
    with io.atomic_path(reports_dir / "transition_matrix.png") as tmp:
        figure.savefig(tmp, format="png", dpi=120, metadata={"Software": None})


def run(interim_dir: Path, out_dir: Path, reports_dir: Path,
        params: dict[str, Any]) -> pd.DataFrame:
    """Segment every customer at every snapshot and write the outputs."""
    cfg, tables = params["segments"], read_tables(interim_dir)
    start, end = data_window(interim_dir)
    if "transactions" not in tables:
        segments = segment_snapshot_table(tables["customers"], end, cfg)
    else:
        dates = snapshot_dates(interim_dir, params["features"]["snapshots"])
        segments = segment_customers(
            tables, dates, cfg, int(params["labels"]["lapse_days"]), start.as_unit("us"),
            max_open_days=params["features"]["incidents"]["max_open_days"],
            cancellation_event=cancellation_event(params["labels"]))
    last = segments.loc[segments["as_of"] == segments["as_of"].max()]
    outreach = outreach_list(last) if "shared_cause_outreach" in last else last.iloc[0:0]
    io.write_parquet(segments, out_dir / "segments.parquet")
    io.write_parquet(outreach, out_dir / "outreach.parquet")
    write_reports(segments, outreach, reports_dir)
    log.info("segments: %d rows over %d snapshots; at %s: %s; %d customers to reach out to",
             len(segments), segments["as_of"].nunique(), last["as_of"].max(),
             last["ladder_rung"].value_counts().to_dict(), len(outreach))
    return segments
