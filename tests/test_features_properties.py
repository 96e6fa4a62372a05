"""Property tests of the Ibis features (hypothesis): leakage-proof, order-free, = oracle.

Worlds are small random canonical tables whose timestamps often fall exactly on a
window edge (``t - d``); the feature SQL is compiled once per module and run on
each world (:class:`FeatureHarness`).
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnml.features import build_features
from tests.oracle_features import (
    assert_frames_close,
    load_config,
    oracle_features,
    random_world,
)

DATES = [pd.Timestamp("2023-08-01"), pd.Timestamp("2024-03-15")]
# After many signups (the worlds' customers sign up from 2022-06 on) and less than the
# 360-day baseline before the first date: baselines and trends are cut at the data's start.
DATA_START = pd.Timestamp("2023-03-01")


class FeatureHarness:
    """Compile the Ibis features once per date; run them on many worlds.

    Hypothesis tries dozens of worlds; compiling the (large) feature expression
    once and swapping the registered tables keeps each example fast.
    """

    def __init__(self, dates: list[pd.Timestamp], cfg: dict[str, Any],
                 template: dict[str, pd.DataFrame]) -> None:
        self.con = ibis.duckdb.connect()
        self.con.raw_sql("SET threads = 1")  # tiny worlds: threads only add overhead
        self.names = list(template)
        for name, frame in template.items():
            self.con.con.register(name, frame)
        tables = {name: self.con.table(name) for name in self.names}
        self.sql = {pd.Timestamp(t): self.con.compile(build_features(tables, [t], cfg,
                                                                     data_start=DATA_START))
                    for t in dates}

    def run(self, world: dict[str, pd.DataFrame], date: pd.Timestamp) -> pd.DataFrame:
        """The features of ``world`` as of ``date`` (one of the harness's dates)."""
        for name in self.names:
            self.con.con.register(name, world[name])
        return self.con.con.sql(self.sql[pd.Timestamp(date)]).df()


EXAMPLES = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
worlds = st.builds(lambda seed, c, t, e, i: (seed, c, t, e, i), st.integers(0, 2**31 - 1),
                   st.integers(1, 8), st.integers(0, 60), st.integers(0, 40), st.integers(0, 3))


@pytest.fixture(scope="module")
def cfg() -> dict:
    return load_config("features")


@pytest.fixture(scope="module")
def harness(cfg: dict) -> FeatureHarness:
    return FeatureHarness(DATES, cfg, random_world(0, 4, 10, 10, 2, DATES))


def _world(spec: tuple[int, int, int, int, int]) -> dict[str, pd.DataFrame]:
    return random_world(*spec, dates=DATES)


def _features(harness: FeatureHarness, world: dict[str, pd.DataFrame],
              date: pd.Timestamp) -> pd.DataFrame:
    return harness.run(world, date).sort_values(["customer_id", "as_of"], ignore_index=True)


def _value_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ("customer_id", "as_of", "region", "plan",
                                                  "channel")]


def _later_rows(world: dict[str, pd.DataFrame], t: pd.Timestamp,
                seed: int) -> dict[str, pd.DataFrame]:
    """A world of rows dated at or after ``t`` (some exactly at ``t``), sharing customer ids."""
    later = random_world(seed, 5, 30, 30, 2, [t])
    rng = np.random.default_rng(seed)
    shift = pd.to_timedelta(rng.integers(0, 200 * 86400, 200), unit="s")
    ids = world["customers"]["customer_id"].to_numpy()
    for name, column in (("transactions", "ts"), ("events", "ts"), ("incidents", "start")):
        frame = later[name]
        frame[column] = t + shift[: len(frame)]
        frame.loc[frame.index[::3], column] = t
        if "customer_id" in frame:
            frame["customer_id"] = rng.choice(ids, len(frame))
    later["incidents"]["end"] = later["incidents"]["start"] + pd.Timedelta(days=5)
    later["incidents"]["incident_id"] = "new_" + later["incidents"]["incident_id"]
    later["customers"]["customer_id"] = "new_" + later["customers"]["customer_id"]
    later["customers"]["signup_date"] = t + shift[: len(later["customers"])]
    return later


@EXAMPLES
@given(spec=worlds, which=st.sampled_from(DATES), seed=st.integers(0, 2**31 - 1))
def test_rows_dated_at_or_after_a_snapshot_do_not_change_it(harness: FeatureHarness, spec,
                                                            which: pd.Timestamp,
                                                            seed: int) -> None:
    world = _world(spec)
    later = _later_rows(world, which, seed)
    grown = {name: pd.concat([frame, later[name]], ignore_index=True)
             for name, frame in world.items()}
    before, after = _features(harness, world, which), _features(harness, grown, which)
    assert_frames_close(after, before, _value_columns(before))


@EXAMPLES
@given(spec=worlds, which=st.sampled_from(DATES), seed=st.integers(0, 2**31 - 1))
def test_shuffling_rows_changes_nothing(harness: FeatureHarness, spec, which: pd.Timestamp,
                                        seed: int) -> None:
    world = _world(spec)
    rng = np.random.default_rng(seed)
    shuffled = {name: frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
                for name, frame in world.items()}
    expected = _features(harness, world, which)
    actual = _features(harness, shuffled, which)
    assert_frames_close(actual, expected, _value_columns(expected))
    for column in ("region", "plan", "channel"):
        assert actual[column].tolist() == expected[column].tolist()


@EXAMPLES
@given(spec=worlds, which=st.sampled_from(DATES))
def test_ibis_features_equal_the_pandas_oracle(harness: FeatureHarness, cfg: dict, spec,
                                               which: pd.Timestamp) -> None:
    world = _world(spec)
    expected = oracle_features(world, [which], cfg, data_start=DATA_START)
    actual = _features(harness, world, which)
    columns = [c for c in expected.columns if c not in ("customer_id", "as_of")]
    assert_frames_close(actual, expected, columns)
