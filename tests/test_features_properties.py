"""Property tests of the Ibis features (hypothesis): leakage-proof, order-free, = oracle.

Worlds are small random canonical tables whose timestamps often fall exactly on a
window edge (``t - d``); the feature SQL is compiled once per module and run on
each world (:class:`oracle_features.FeatureHarness`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.oracle_features import (
    FeatureHarness,
    assert_frames_close,
    load_config,
    oracle_features,
    random_world,
)

DATES = [pd.Timestamp("2023-08-01"), pd.Timestamp("2024-03-15")]
EXAMPLES = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
worlds = st.builds(lambda seed, c, t, e, i: (seed, c, t, e, i), st.integers(0, 2**31 - 1),
                   st.integers(1, 8), st.integers(0, 60), st.integers(0, 40), st.integers(0, 3))


@pytest.fixture(scope="module")
def cfg() -> dict:
    return load_config("features")


@pytest.fixture(scope="module")
def harness(cfg: dict) -> FeatureHarness:
    harness = FeatureHarness(DATES, cfg, random_world(0, 4, 10, 10, 2, DATES))
    harness.con.raw_sql("SET threads = 1")  # tiny worlds: threads only add overhead
    return harness


def _world(spec: tuple[int, int, int, int, int]) -> dict[str, pd.DataFrame]:
    return random_world(*spec, dates=DATES)


def _features(harness: FeatureHarness, world: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return harness.run(world).sort_values(["customer_id", "as_of"], ignore_index=True)


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
    before, after = _features(harness, world), _features(harness, grown)
    before, after = before[before["as_of"] == which], after[after["as_of"] == which]
    assert_frames_close(after.reset_index(drop=True), before.reset_index(drop=True),
                        _value_columns(before))


@EXAMPLES
@given(spec=worlds, seed=st.integers(0, 2**31 - 1))
def test_shuffling_rows_changes_nothing(harness: FeatureHarness, spec, seed: int) -> None:
    world = _world(spec)
    rng = np.random.default_rng(seed)
    shuffled = {name: frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
                for name, frame in world.items()}
    expected = _features(harness, world)
    actual = _features(harness, shuffled)
    assert_frames_close(actual, expected, _value_columns(expected))
    for column in ("region", "plan", "channel"):
        assert actual[column].tolist() == expected[column].tolist()


@EXAMPLES
@given(spec=worlds)
def test_ibis_features_equal_the_pandas_oracle(harness: FeatureHarness, cfg: dict, spec) -> None:
    world = _world(spec)
    expected = oracle_features(world, DATES, cfg)
    actual = _features(harness, world)
    columns = [c for c in expected.columns if c not in ("customer_id", "as_of")]
    assert_frames_close(actual, expected, columns)
