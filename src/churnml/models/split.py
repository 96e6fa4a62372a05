"""Split stacked customer × snapshot rows by time (no label-window overlap), or a single
snapshot at random by class."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnml.errors import ConfigError


def time_split(as_of: pd.Series, horizon_days: int, test_snapshots: int,
               validation_snapshots: int) -> pd.Series:
    """Assign each row to ``train``, ``validation``, ``test`` or ``gap``.

    The last ``test_snapshots`` dates are test, the ones before them validation.
    A training (validation) snapshot must have its whole label window
    ``[t, t + horizon)`` end no later than the first validation (test) snapshot, so
    no label is observed after the period it is evaluated on; rows in between are
    ``gap`` and unused.

    Parameters
    ----------
    as_of
        Snapshot date of each row.
    horizon_days
        ``labels.horizon_days``, the label window length.
    test_snapshots, validation_snapshots
        ``model.split`` counts of the latest snapshots held out for test and
        validation; each must be at least 1.

    Raises
    ------
    ConfigError
        A count below 1, or too few snapshots for the split.
    """
    for key, count in (("test_snapshots", test_snapshots),
                       ("validation_snapshots", validation_snapshots)):
        if int(count) < 1:
            raise ConfigError(f"model.split.{key} = {count}: must be at least 1 (the number "
                              f"of latest snapshots held out for that role), e.g. 1")
    dates = sorted(pd.Series(as_of.unique()))
    if len(dates) < test_snapshots + validation_snapshots + 1:
        raise ConfigError(
            f"need at least {test_snapshots + validation_snapshots + 1} labelled snapshots for "
            f"the time split, found {len(dates)}: lengthen the data or shorten labels.horizon_days")
    horizon = pd.Timedelta(days=int(horizon_days))
    test = dates[-test_snapshots:]
    remaining = [d for d in dates[:-test_snapshots] if d + horizon <= test[0]]
    if len(remaining) <= validation_snapshots:
        raise ConfigError(
            f"not enough snapshots before {test[0].date()} for validation and training")
    validation = remaining[-validation_snapshots:]
    train = [d for d in remaining[:-validation_snapshots] if d + horizon <= validation[0]]
    if not train:
        raise ConfigError(
            f"no training snapshot ends its label window before {validation[0].date()}")
    role = pd.Series("gap", index=as_of.index)
    role[as_of.isin(train)] = "train"
    role[as_of.isin(validation)] = "validation"
    role[as_of.isin(test)] = "test"
    return role


def stratified_split(target: pd.Series, test_fraction: float, validation_fraction: float,
                     seed: int) -> pd.Series:
    """Assign rows of a single snapshot to ``train``, ``validation`` or ``test`` at random.

    Used in snapshot mode, where there is one labelled date and no time to split
    on. Each class is shuffled with ``seed`` and cut by the fractions, so every role
    keeps the overall churn rate; the same target and seed give the same roles.
    Every role gets at least one row of each class (rounding a small class's share
    to 0 would leave nothing to calibrate or test on): a class with fewer than 3
    rows is a :class:`~churnml.errors.ConfigError` naming the class counts.

    Parameters
    ----------
    target
        The 0/1 label of each row (rows in a stable order, e.g. by customer id).
    """
    test_fraction, validation_fraction = float(test_fraction), float(validation_fraction)
    if min(test_fraction, validation_fraction) <= 0 or test_fraction + validation_fraction >= 1:
        raise ConfigError(f"data.snapshot: test_fraction={test_fraction} and "
                          f"validation_fraction={validation_fraction} must be > 0 and sum < 1")
    counts = {int(v): int(n) for v, n in target.dropna().value_counts().sort_index().items()}
    for value, n in {0: 0, 1: 0, **counts}.items():
        if n < 3:
            raise ConfigError(
                f"data.snapshot: class {value} has {n} rows (class counts {counts}); train, "
                "validation and test each need at least one row of every class, so at least 3")
    rng = np.random.default_rng(int(seed))
    role = pd.Series("train", index=target.index)
    for value in sorted(target.dropna().unique()):
        rows = rng.permutation(target.index[target == value].to_numpy())
        n_test = min(max(1, round(test_fraction * len(rows))), len(rows) - 2)
        n_valid = min(max(1, round(validation_fraction * len(rows))), len(rows) - 1 - n_test)
        role[rows[:n_test]] = "test"
        role[rows[n_test:n_test + n_valid]] = "validation"
    return role
