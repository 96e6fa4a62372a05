"""Stage ``labels``: attrition and win-back labels for every labelled snapshot.

The attrition definition and horizon come from ``labels`` (see :mod:`churnml.labels`);
events are read for the ``cancellation`` definition.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from churnml import calendar, io, snapshot
from churnml.features import connect, load_tables
from churnml.labels import make_labels, purchase_windows
from churnml.stages.features import data_window

log = logging.getLogger(__name__)
PARAMS = ["features.snapshots", "labels", "engine", "data.mode"]


def run(interim_dir: Path, out_file: Path, params: dict[str, Any]) -> pd.DataFrame:
    """Label customers at each snapshot whose horizon ends within the data."""
    start, end = data_window(interim_dir)
    if snapshot.is_snapshot(params["data"]):  # the customers table carries the label
        labels = snapshot.snapshot_labels(io.read_parquet(interim_dir / "customers.parquet"), end)
        io.write_parquet(labels, out_file)
        log.info("labels (snapshot mode): %d customers, churn rate %.3f", len(labels),
                 labels["attrition"].mean())
        return labels
    snaps, cfg = params["features"]["snapshots"], params["labels"]
    dates = calendar.snapshot_dates(start, end, snaps["freq"], snaps["min_history_days"])
    dates = calendar.labelled(dates, end, cfg["horizon_days"])
    con = connect(params["engine"])
    tables = load_tables(con, interim_dir, ("customers", "transactions", "events"))
    windows = con.execute(purchase_windows(tables["customers"], tables["transactions"], dates,
                                           cfg["horizon_days"], events=tables.get("events"),
                                           labels_cfg=cfg))
    labels = make_labels(windows, cfg["lapse_days"], cfg)
    io.write_parquet(labels, out_file)
    rates = labels.groupby("status")[["attrition", "winback"]].mean().round(3).to_dict()
    log.info("labels: %d rows over %d snapshots; rates %s", len(labels), len(dates), rates)
    return labels
