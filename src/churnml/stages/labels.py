"""Stage ``labels``: attrition and win-back labels for every labelled snapshot.

The attrition definition and horizon come from ``labels`` (see :mod:`churnml.labels`);
events are read for the ``cancellation`` definition. Snapshots are labelled only while
their horizon ends within the tables the labels read (:func:`label_end`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from churnml import calendar, io, snapshot
from churnml.features import connect, load_tables
from churnml.labels import label_tables, make_labels, purchase_windows
from churnml.stages.features import data_window, table_ends

log = logging.getLogger(__name__)
PARAMS = ["features.snapshots", "labels", "engine", "data.mode"]


def label_end(ends: Mapping[str, pd.Timestamp], labels_cfg: dict[str, Any],
              end: pd.Timestamp) -> pd.Timestamp:
    """The end of the data the labels read: the earliest end of :func:`label_tables`.

    Parameters
    ----------
    ends
        The end of each table, as recorded by ``ingest`` (:func:`table_ends`); a table
        without an entry (absent) is skipped.
    end
        The end of data (the day after the last row of any table). When the
        transactions (or, for ``cancellation``, the events) stop earlier, a horizon past
        their end would show every customer as not buying (not cancelling), so those
        snapshots are left unlabelled and a warning names the table.
    """
    out, short = end, None
    for name in label_tables(labels_cfg):
        if name in ends and ends[name] < out:
            out, short = pd.Timestamp(ends[name]), name
    if short is not None:
        log.warning("labels: %s end on %s, before the end of data %s; only snapshots whose "
                    "%s-day horizon ends by %s are labelled", short, out.date(), end.date(),
                    labels_cfg["horizon_days"], out.date())
    return out


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
    con = connect(params["engine"])
    tables = load_tables(con, interim_dir, ("customers", "transactions", "events"))
    dates = calendar.labelled(dates, label_end(table_ends(interim_dir), cfg, end),
                              cfg["horizon_days"])
    windows = con.execute(purchase_windows(tables["customers"], tables["transactions"], dates,
                                           cfg["horizon_days"], events=tables.get("events"),
                                           labels_cfg=cfg, data_start=start))
    labels = make_labels(windows, cfg["lapse_days"], cfg)
    io.write_parquet(labels, out_file)
    rates = labels.groupby("status")[["attrition", "winback"]].mean().round(3).to_dict()
    log.info("labels: %d rows over %d snapshots; rates %s", len(labels), len(dates), rates)
    return labels
