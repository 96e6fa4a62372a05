"""Snapshot calendar: the dates "as of" which features and labels are computed."""

from __future__ import annotations

import pandas as pd

from churnml.errors import ConfigError


def observation_window(*timestamps: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First day of data and the end of data (the day after the last timestamp).

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
