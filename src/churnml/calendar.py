"""Snapshot calendar: the dates "as of" which features and labels are computed."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from churnml.errors import ConfigError

ACTIVITY_TABLE = "transactions"  # purchases define activity: the features end with them
END_TOLERANCE_DAYS = 7  # default of features.snapshots.end_tolerance_days


def observation_window(*timestamps: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First day of data and the end of data (the day after the last timestamp).

    The end is that of the latest table. The features calendar and the scoring date
    end instead with the transactions (:func:`activity_end`): after the purchase log
    stops, purchases are unobserved, not absent.

    Parameters
    ----------
    *timestamps
        Timestamp columns of the observed tables (e.g. transactions ``ts``, events ``ts``).
    """
    present = [s.dropna() for s in timestamps if s is not None and s.notna().any()]
    if not present:
        raise ConfigError("no timestamps in the data: cannot place snapshots")
    start = min(s.min() for s in present).normalize()
    return start, day_after(max(s.max() for s in present), start)


def snapshot_dates(start: pd.Timestamp, end: pd.Timestamp, freq: str,
                   min_history_days: int) -> list[pd.Timestamp]:
    """Snapshot dates ``t`` with ``start + min_history_days <= t <= end`` on ``freq``.

    Parameters
    ----------
    start, end
        The observation window (see :func:`observation_window`).
    freq
        A pandas offset alias, e.g. ``MS`` (month starts) or ``W-MON``.
    min_history_days
        Snapshots need this much history before them.
    """
    first = start + pd.Timedelta(days=int(min_history_days))
    try:
        dates = pd.date_range(first, end, freq=freq)
    except ValueError as exc:
        raise ConfigError(f"features.snapshots.freq={freq!r} is not a pandas frequency") from exc
    return [pd.Timestamp(d).as_unit("us") for d in dates]


def labelled(dates: list[pd.Timestamp], end: pd.Timestamp, horizon_days: int) -> list[pd.Timestamp]:
    """The snapshots whose label window ``[t, t + horizon)`` ends within the data.

    ``end`` should be the end of the tables the labels read (see
    :func:`churnml.labels.label_tables`), not of every table: a purchase log that
    stops before the events log cannot show who bought after it stops.
    """
    horizon = pd.Timedelta(days=int(horizon_days))
    return [t for t in dates if t + horizon <= end]


def day_after(last: pd.Timestamp | None, start: pd.Timestamp) -> pd.Timestamp:
    """The end of one table's data: the day after its ``last`` timestamp.

    A table without timestamps (``last`` None or NaT) ends at ``start``, the first
    day of data, so no snapshot's horizon fits within it.
    """
    if last is None or pd.isna(last):
        return start
    return pd.Timestamp(last).normalize() + pd.Timedelta(days=1)


def table_ends(start: pd.Timestamp,
               timestamps: Mapping[str, pd.Series | None]) -> dict[str, pd.Timestamp]:
    """The end of each table: the day after its last timestamp (:func:`day_after`).

    Parameters
    ----------
    start
        The first day of data: the end of a table without timestamps.
    timestamps
        Timestamp column by table name; None entries (absent tables) are skipped.
    """
    return {name: day_after(ts.max() if ts.notna().any() else None, start)
            for name, ts in timestamps.items() if ts is not None}


def recorded_ends(manifest: Mapping[str, object], where: str) -> dict[str, pd.Timestamp]:
    """The table ends (``table_ends``) recorded in an ingest manifest, as timestamps.

    Parameters
    ----------
    manifest
        The ingest manifest read from ``where`` (named in the error).

    Raises
    ------
    ConfigError
        The manifest predates the per-table ends: rerun ``churnml ingest``.
    """
    ends = manifest.get("table_ends")
    if not isinstance(ends, dict):
        raise ConfigError(f"{where} has no table_ends (the end of each table): it was written "
                          "by an older `churnml ingest`; rerun `churnml ingest` (or `dvc repro "
                          "ingest`)")
    return {str(name): pd.Timestamp(day) for name, day in ends.items()}


def activity_end(ends: Mapping[str, pd.Timestamp]) -> pd.Timestamp:
    """The end of the features calendar and of the scoring dates: the transactions' end.

    Every purchase feature at a date after it (recency, spend, drops, overdue ratios)
    would read the unobserved days as a silence, whatever the other tables hold.

    Raises
    ------
    ConfigError
        ``ends`` has no end for the transactions.
    """
    if ACTIVITY_TABLE not in ends:
        raise ConfigError(f"no end of the {ACTIVITY_TABLE} among the table ends {sorted(ends)}: "
                          "cannot place snapshots")
    return pd.Timestamp(ends[ACTIVITY_TABLE])


def ending_early(ends: Mapping[str, pd.Timestamp], tables: tuple[str, ...],
                 tolerance_days: int) -> dict[str, int]:
    """Tables among ``tables`` that end more than ``tolerance_days`` before the transactions.

    Returns
    -------
    dict
        Table name -> days between its end and the transactions' end. Features from
        such a table undercount at the snapshots after it ends.
    """
    end = activity_end(ends)
    gaps = {name: (end - pd.Timestamp(ends[name])).days for name in tables if name in ends}
    return {name: gap for name, gap in gaps.items() if gap > int(tolerance_days)}
