"""The snapshot calendar: where snapshots fall and which ones can be labelled."""

from __future__ import annotations

import pandas as pd
import pytest

from churnml import calendar
from churnml.errors import ConfigError


def test_observation_window_spans_all_tables_to_the_day_after_the_last_row() -> None:
    a = pd.Series(pd.to_datetime(["2023-01-05 10:00", "2023-06-01"], format="mixed"))
    b = pd.Series(pd.to_datetime(["2022-12-31 23:00", None], format="mixed"))
    start, end = calendar.observation_window(a, b, None)
    assert (start, end) == (pd.Timestamp("2022-12-31"), pd.Timestamp("2023-06-02"))
    with pytest.raises(ConfigError, match="no timestamps"):
        calendar.observation_window(pd.Series([], dtype="datetime64[us]"))


def test_monthly_snapshots_start_after_the_minimum_history() -> None:
    dates = calendar.snapshot_dates(pd.Timestamp("2023-01-01"), pd.Timestamp("2023-12-15"),
                                    "MS", 180)
    assert dates[0] == pd.Timestamp("2023-07-01") and dates[-1] == pd.Timestamp("2023-12-01")
    assert all(d.unit == "us" for d in dates)


def test_other_frequencies_and_bad_ones() -> None:
    weekly = calendar.snapshot_dates(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01"),
                                     "W-MON", 0)
    assert all(d.dayofweek == 0 for d in weekly) and len(weekly) == 5
    with pytest.raises(ConfigError, match="not a pandas frequency"):
        calendar.snapshot_dates(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01"),
                                "fortnightly", 0)


def test_only_snapshots_whose_horizon_ends_within_the_data_are_labelled() -> None:
    dates = [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01")]
    end = pd.Timestamp("2024-05-01")
    assert calendar.labelled(dates, end, 61) == dates      # 03-01 + 61 d ends exactly at the end
    assert calendar.labelled(dates, end, 62) == dates[:2]  # ... one day more runs past it
    assert calendar.labelled(dates, end, 90) == dates[:2]  # 02-01 + 90 d = 05-01
