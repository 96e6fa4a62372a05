"""The time split never lets a training label window overlap later periods."""

from __future__ import annotations

import pandas as pd
import pytest

from churnml.errors import ConfigError
from churnml.models import time_split


def _dates(n: int) -> pd.Series:
    return pd.Series(pd.date_range("2024-01-01", periods=n, freq="MS").repeat(2))


def test_roles_are_ordered_in_time_with_gaps():
    as_of = _dates(12)
    role = time_split(as_of, horizon_days=90, test_snapshots=1, validation_snapshots=1)
    last = {r: as_of[role == r].max() for r in ("train", "validation", "test")}
    first = {r: as_of[role == r].min() for r in ("train", "validation", "test")}
    assert last["train"] + pd.Timedelta(days=90) <= first["validation"]
    assert last["validation"] + pd.Timedelta(days=90) <= first["test"]
    assert (role == "gap").any()


def test_too_few_snapshots_is_a_clear_config_error():
    with pytest.raises(ConfigError, match="labelled snapshots"):
        time_split(_dates(2), horizon_days=90, test_snapshots=1, validation_snapshots=1)


@pytest.mark.parametrize(("test", "validation", "wrong"),
                         [(0, 1, "test_snapshots = 0"), (1, 0, "validation_snapshots = 0"),
                          (-1, 1, "test_snapshots = -1")])
def test_zero_test_or_validation_snapshots_is_a_config_error_naming_the_key(test, validation,
                                                                             wrong):
    # dates[-0:] is every date: 0 used to make all snapshots test and fail obscurely
    with pytest.raises(ConfigError, match=rf"model\.split\.{wrong}: must be at least 1"):
        time_split(_dates(12), horizon_days=90, test_snapshots=test,
                   validation_snapshots=validation)
