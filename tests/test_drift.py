"""Drift check: training profile, PSI, new-category share, warn / refuse decisions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnml import drift
from churnml.drift import DriftRefusedError, Thresholds, check_drift, psi, training_profile
from churnml.errors import ConfigError

THRESHOLDS = Thresholds(psi_warn=0.1, psi_refuse=0.25, new_category_warn=0.01,
                        new_category_refuse=0.05, min_rows=200)


def population(n: int, seed: int, spend_shift: float = 0.0, regions=("north", "south", "east"),
               ) -> pd.DataFrame:
    """Customers with a skewed amount, a zero-heavy count, a gappy ratio and a category."""
    rng = np.random.default_rng(seed)
    ratio = rng.gamma(2.0, 0.5, n)
    ratio[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame({
        "spend_90d": rng.lognormal(4.0 + spend_shift, 0.6, n),
        "complaint_90d": rng.poisson(0.1, n).astype("int64"),
        "spend_ratio_90d": ratio,
        "region": rng.choice(list(regions), n),
    })


@pytest.fixture(scope="module")
def profile() -> dict:
    return training_profile(population(20_000, seed=1))


def test_profile_is_json_ready_deterministic_and_shares_sum_to_one(profile):
    again = training_profile(population(20_000, seed=1))
    assert json.dumps(profile, sort_keys=True) == json.dumps(again, sort_keys=True)
    for entry in profile["numeric"].values():
        assert sum(entry["shares"]) == pytest.approx(1.0)
        assert len(entry["shares"]) == len(entry["edges"]) + 2  # bins + missing
    region = profile["categorical"]["region"]
    assert sum(region["shares"].values()) + region["missing_share"] == pytest.approx(1.0)
    assert profile["numeric"]["spend_ratio_90d"]["shares"][-1] == pytest.approx(0.2, abs=0.01)


def test_tied_values_collapse_bins(profile):
    edges = profile["numeric"]["spend_ratio_90d"]["edges"]
    assert edges == sorted(set(edges))
    tied = drift.profile.numeric_edges(np.r_[np.zeros(50), np.arange(1.0, 51.0)])
    assert tied[0] == 0.0 and len(tied) == len(set(tied)) < drift.profile.PROFILE_BINS - 1


def test_a_few_distinct_values_get_one_bin_each(profile):
    counts = population(20_000, seed=1)["complaint_90d"]
    shares = profile["numeric"]["complaint_90d"]["shares"]
    # below the smallest value, one bin per value, above the largest, missing
    assert len(shares) == counts.nunique() + 3
    assert shares[1:-2] == pytest.approx(counts.value_counts(normalize=True).sort_index())


@pytest.mark.parametrize("trained_rate", [0.05, 0.5, 0.95])
def test_a_flag_whose_rate_shifts_is_refused(trained_rate):
    n = 1_000
    flag = lambda rate: (np.arange(n) < rate * n).astype(float)  # noqa: E731
    profile = training_profile(pd.DataFrame({"flag": flag(trained_rate)}))
    now = 0.6 if trained_rate < 0.5 else 0.05
    entry = check_drift(profile, pd.DataFrame({"flag": flag(now)}), THRESHOLDS).features["flag"]
    assert entry["psi"] > 2 * THRESHOLDS.psi_refuse and entry["status"] == "refuse"
    same = check_drift(profile, pd.DataFrame({"flag": flag(trained_rate)}), THRESHOLDS)
    assert same.features["flag"]["psi"] == 0.0


@pytest.mark.parametrize("now", [4.0, 6.0, -np.inf, np.inf])
def test_a_constant_that_moves_either_way_is_refused(now):
    profile = training_profile(pd.DataFrame({"plan": np.full(500, 5.0)}))
    entry = check_drift(profile, pd.DataFrame({"plan": np.full(500, now)}),
                        THRESHOLDS).features["plan"]
    assert entry["status"] == "refuse" and np.isfinite(entry["psi"])


def test_same_population_is_ok(profile):
    report = check_drift(profile, population(3_000, seed=2), THRESHOLDS)
    assert report.decision == "ok"
    assert max(f["psi"] for f in report.features.values()) < 0.05


def test_shifted_feature_is_refused_and_named(profile):
    report = check_drift(profile, population(3_000, seed=3, spend_shift=0.8), THRESHOLDS)
    assert report.decision == "refuse"
    assert report.named("refuse") == ["spend_90d"]
    assert report.features["spend_90d"]["psi"] > 0.25


def test_moderate_shift_warns(profile):
    report = check_drift(profile, population(20_000, seed=4, spend_shift=0.25), THRESHOLDS)
    assert report.features["spend_90d"]["status"] == "warn"
    assert report.decision == "warn"


@pytest.mark.parametrize(("new_share", "status"), [(0.02, "warn"), (0.10, "refuse")])
def test_unseen_categories_warn_then_refuse(profile, new_share, status):
    rows = population(5_000, seed=5)
    rows.loc[rows.index[: int(new_share * len(rows))], "region"] = "atlantis"
    entry = check_drift(profile, rows, THRESHOLDS).features["region"]
    assert entry["new_category_share"] == pytest.approx(new_share)
    assert entry["status"] == status
    assert entry["psi"] < 0.1  # new categories are not counted twice


def test_a_feature_that_goes_missing_is_refused(profile):
    rows = population(3_000, seed=6)
    rows["spend_ratio_90d"] = np.nan
    assert check_drift(profile, rows, THRESHOLDS).features["spend_ratio_90d"]["status"] == "refuse"


def test_values_beyond_the_training_range_land_in_the_end_bins(profile):
    rows = population(3_000, seed=7)
    rows["spend_90d"] = 1e9
    entry = check_drift(profile, rows, THRESHOLDS).features["spend_90d"]
    assert entry["status"] == "refuse" and np.isfinite(entry["psi"])


def test_warn_only_features_and_small_samples_never_refuse(profile):
    shifted = population(3_000, seed=8, spend_shift=1.0)
    lenient = Thresholds(warn_only=("spend_90d",))
    assert check_drift(profile, shifted, lenient).features["spend_90d"]["status"] == "warn"
    small = check_drift(profile, shifted.head(150), THRESHOLDS)
    assert small.features["spend_90d"]["status"] == "warn" and small.decision == "warn"


def test_no_rows_gives_an_empty_ok_report(profile):
    report = check_drift(profile, population(10, seed=9).head(0), THRESHOLDS)
    assert report.decision == "ok" and report.features == {} and report.rows == 0


def test_missing_profiled_column_is_an_error(profile):
    with pytest.raises(ValueError, match="lack profiled features"):
        check_drift(profile, population(100, seed=9).drop(columns="region"), THRESHOLDS)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=12),
       st.lists(st.floats(0.0, 1.0), min_size=2, max_size=12))
def test_psi_is_zero_for_identical_shares_and_never_negative(a, b):
    size = min(len(a), len(b))
    expected = np.array(a[:size]) / max(sum(a[:size]), 1e-9)
    actual = np.array(b[:size]) / max(sum(b[:size]), 1e-9)
    assert psi(expected, expected) == pytest.approx(0.0, abs=1e-12)
    assert psi(expected, actual) >= -1e-12


def test_gate_refuses_with_exit_code_2_naming_features(profile):
    rows = {"attrition": population(3_000, seed=10, spend_shift=0.8),
            "winback": population(500, seed=11)}
    with pytest.raises(DriftRefusedError, match=r"attrition: spend_90d \(PSI") as exc:
        drift.gate(rows, {"attrition": profile, "winback": profile}, {"psi_refuse": 0.25})
    assert exc.value.exit_code == 2 and "winback" not in str(exc.value)


def test_warn_only_by_model_spares_one_model_and_still_refuses_for_the_other(profile):
    shifted = population(3_000, seed=10, spend_shift=0.8)
    rows = {"attrition": shifted, "winback": shifted}
    cfg = {"psi_refuse": 0.25, "warn_only_by_model": {"winback": ["spend_*"]}}
    with pytest.raises(DriftRefusedError, match=r"attrition: spend_90d") as exc:
        drift.gate(rows, {"attrition": profile, "winback": profile}, cfg)
    assert "winback" not in str(exc.value)
    results = drift.gate({"winback": shifted}, {"winback": profile}, cfg)
    assert results["winback"]["decision"] == "warn"
    assert results["winback"]["features"]["spend_90d"]["status"] == "warn"
    assert Thresholds.from_config({"warn_only_by_model": {"winback": "spend_*"}},
                                  "winback").warn_only == ("spend_*",)
    with pytest.raises(ConfigError, match=r"warn_only_by_model: unknown model"):
        drift.gate(rows, {"attrition": profile}, {"warn_only_by_model": {"win_back": []}})


def test_gate_reports_unavailable_profiles_or_refuses_when_configured(profile):
    rows = {"attrition": population(300, seed=12)}
    results = drift.gate(rows, {"attrition": None}, {"missing_profile": "warn"})
    assert results == {"attrition": {"rows": 300, "decision": "unavailable"}}
    with pytest.raises(DriftRefusedError, match="no training profile"):
        drift.gate(rows, {"attrition": None}, {"missing_profile": "refuse"})


def test_a_feature_that_swings_between_training_snapshots_is_held_to_its_own_past():
    rng = np.random.default_rng(13)
    months = np.repeat(np.arange(10), 1_000)
    incident = np.isin(months, [3, 7])  # two training months with an incident
    train = pd.DataFrame({"stable": rng.normal(0, 1, months.size),
                          "exposure": rng.normal(0, 1, months.size) + 1.5 * incident})
    profile = training_profile(train, snapshots=pd.Series(months))
    assert profile["snapshots"] == 10
    swing = profile["numeric"]["exposure"]["snapshot_psi_max"]
    assert swing > 0.25 > profile["numeric"]["stable"]["snapshot_psi_max"]
    month_with_incident = pd.DataFrame({"stable": rng.normal(0, 1, 1_000),
                                        "exposure": rng.normal(1.5, 1, 1_000)})
    report = check_drift(profile, month_with_incident, THRESHOLDS)
    assert report.features["exposure"]["psi"] > 0.25
    assert report.features["exposure"]["status"] != "refuse"
    assert report.features["exposure"]["psi_refuse_at"] == pytest.approx(1.5 * swing, abs=1e-5)
    month_with_incident["stable"] += 1.0
    assert check_drift(profile, month_with_incident, THRESHOLDS).named("refuse") == ["stable"]


def test_warn_only_accepts_patterns():
    lenient = Thresholds(warn_only=("days_since_*",))
    assert lenient.is_warn_only("days_since_incident") and not lenient.is_warn_only("spend_90d")
