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


def test_stratified_split_puts_each_class_in_every_role_when_it_can():
    from churnml.models.split import stratified_split

    target = pd.Series([1, 1, 1] + [0] * 57)  # round(0.2 * 3) would be 1, round(0.1 * 3) 0
    role = stratified_split(target, 0.1, 0.2, seed=3)
    counts = pd.crosstab(role, target)
    assert (counts > 0).all().all() and set(counts.index) == {"train", "validation", "test"}


def test_stratified_split_with_too_few_of_a_class_is_a_config_error():
    from churnml.models.split import stratified_split

    target = pd.Series([1, 1] + [0] * 58)  # round(0.2 * 2) = 0: no churner to test on
    with pytest.raises(ConfigError, match=r"class 1 has 2 rows.*\{0: 58, 1: 2\}"):
        stratified_split(target, 0.2, 0.2, seed=3)
    with pytest.raises(ConfigError, match=r"class 1 has 0 rows.*\{0: 60\}"):
        stratified_split(pd.Series([0] * 60), 0.2, 0.2, seed=3)
