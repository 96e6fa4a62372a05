"""The scoring job's output rules on hand-built features (fast; the CLI world is in
test_score_job_cli.py): whitelisted columns, CSV neutralising, checked scores,
manifest last, byte-identical reruns, drift refusal, temp-file sweep, one writer.

The scorer here is the model part only (:func:`churnml.scoring.score_customers`);
segments, reasons and offers need canonical tables and are covered end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnml import config, io
from churnml.drift import DriftRefusedError, training_profile
from churnml.errors import ConfigError
from churnml.models import ChurnClassifier
from churnml.progress import Steps
from churnml.scored_list import ScoredListError
from churnml.scoring import score_customers
from churnml.stages import score
from churnml.stages.score_inputs import Subset
from churnml.stages.score_outputs import OUTPUT_FILES, OutputBusyError, exclusive, sweep
from tests.conftest import make_classification_frame

VERSIONS = {"attrition": "churnml-attrition/4", "winback": "churnml-winback/2"}
FILES = OUTPUT_FILES


@pytest.fixture(scope="module")
def params(project_root) -> dict:
    composed = config.compose(project_root / "conf")
    return {"score": composed["score"], "labels": {"lapse_days": 90},
            "data": {"mode": "events", "snapshot": None}, "tracking": composed["tracking"]}


@pytest.fixture(scope="module")
def models() -> dict:
    X, y = make_classification_frame(800, seed=1)
    fit = {"max_rounds": 30, "min_child_samples": 10}
    return {"attrition": ChurnClassifier(**fit).fit(X, y),
            "winback": ChurnClassifier(**fit).fit(X, 1 - y)}


@pytest.fixture(scope="module")
def profiles() -> dict:
    X, _ = make_classification_frame(800, seed=1)
    return {"attrition": training_profile(X), "winback": training_profile(X)}


def features(n: int = 600, seed: int = 2) -> pd.DataFrame:
    X, _ = make_classification_frame(n, seed=seed)
    X["recency_days"] = X["recency_days"].clip(upper=80.0)
    lapsed = X.index[: n // 4]
    X.loc[lapsed, "recency_days"] = 200.0 + X.loc[lapsed, "frequency"]
    ids = [f"C{i:05d}" for i in range(n)]
    ids[1], ids[2] = "=HYPERLINK(\"http://x\")", "-5+3"  # formula-looking ids
    return X.assign(customer_id=ids, as_of=pd.Timestamp("2025-07-01"),
                    spend_180d=X["monetary"], days_since_first_purchase=X["tenure_days"])


def model_scorer(models, params):
    return lambda f: score_customers(f, models["attrition"], models["winback"],
                                     lapse_days=90, cfg=params["score"], versions=VERSIONS)


def run_job(frame, models, profiles, params, out_dir, scorer=None) -> pd.DataFrame:
    scorer = scorer or model_scorer(models, params)
    with exclusive(out_dir):
        sweep(out_dir)
        return score.score_and_write(frame, scorer, profiles, out_dir, params,
                                     as_of="2025-07-01T00:00:00", versions=VERSIONS,
                                     steps=Steps(score.STEPS),
                                     manifest_fields={"inputs": {}, "subset": None})


def hashes(out_dir) -> dict:
    return {name: io.sha256_file(out_dir / name) for name in FILES}


def test_writes_four_files_manifest_describes_them_and_reruns_are_identical(
        tmp_path, models, profiles, params):
    written = run_job(features(), models, profiles, params, tmp_path)
    first = hashes(tmp_path)
    manifest = io.read_json(tmp_path / "manifest.json")
    for name in FILES[:-1]:
        assert manifest["outputs"][name]["sha256"] == first[name]
    assert manifest["rows"] == len(written) == 600
    assert manifest["model_versions"] == VERSIONS
    assert manifest["drift"]["attrition"]["decision"] in ("ok", "warn")
    run_job(features(), models, profiles, params, tmp_path)
    assert hashes(tmp_path) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)


def test_scored_list_rules_hold_in_both_files(tmp_path, models, profiles, params):
    run_job(features(), models, profiles, params, tmp_path)
    parquet = pd.read_parquet(tmp_path / "scored_customers.parquet")
    csv = pd.read_csv(tmp_path / "scored_customers.csv", dtype={"customer_id": str})
    assert set(parquet.columns) <= set(params["score"]["columns"])
    assert list(csv.columns) == list(parquet.columns)
    assert parquet["customer_id"].is_unique and len(parquet) == len(csv)
    active = parquet[parquet["status"] == "active"]
    assert np.isfinite(active["p_attrition"]).all() and active["p_attrition"].between(0, 1).all()
    ranked = active.sort_values("p_attrition")
    assert ranked["risk_percentile"].is_monotonic_increasing
    assert (parquet["attrition_model_version"] == VERSIONS["attrition"]).all()
    assert "=HYPERLINK(\"http://x\")" in set(parquet["customer_id"])
    assert "'=HYPERLINK(\"http://x\")" in set(csv["customer_id"])
    assert "'-5+3" in set(csv["customer_id"])
    assert not csv["customer_id"].str.match(r"^[=+\-@]").any()


def test_columns_outside_the_whitelist_never_reach_the_files(tmp_path, models, profiles,
                                                              params):
    base = model_scorer(models, params)
    leaky = lambda f: base(f).assign(email="a@b.c", note="called, angry")  # noqa: E731
    run_job(features(), models, profiles, params, tmp_path, scorer=leaky)
    for name in ("scored_customers.parquet",):
        assert not {"email", "note"} & set(pd.read_parquet(tmp_path / name).columns)
    assert "a@b.c" not in (tmp_path / "scored_customers.csv").read_text()
    assert "a@b.c" not in (tmp_path / "summary.html").read_text()


@pytest.mark.parametrize("breakage", ["duplicate", "out_of_range", "inconsistent_rank"])
def test_broken_output_rules_stop_the_run_and_keep_the_previous_files(
        tmp_path, models, profiles, params, breakage):
    run_job(features(), models, profiles, params, tmp_path)
    before = hashes(tmp_path)
    base = model_scorer(models, params)

    def broken(frame):
        out = base(frame)
        active = out.index[out["status"] == "active"]
        if breakage == "duplicate":
            out.loc[out.index[1], "customer_id"] = out.loc[out.index[0], "customer_id"]
        elif breakage == "out_of_range":
            out.loc[active[0], "p_attrition"] = 1.5
        else:
            out.loc[active, "risk_percentile"] = out.loc[active, "risk_percentile"].to_numpy()[::-1]
        return out

    with pytest.raises(ScoredListError):
        run_job(features(), models, profiles, params, tmp_path, scorer=broken)
    assert hashes(tmp_path) == before


def test_drift_refusal_exits_2_names_features_and_writes_nothing(tmp_path, models, profiles,
                                                                 params):
    run_job(features(), models, profiles, params, tmp_path)
    before = hashes(tmp_path)
    drifted = features()
    drifted["monetary"] = drifted["monetary"] * 20 + 1000
    drifted["region"] = "atlantis"
    with pytest.raises(DriftRefusedError, match=r"region \(PSI .*new categories") as exc:
        run_job(drifted, models, profiles, params, tmp_path)
    assert exc.value.exit_code == 2
    assert "monetary" not in str(exc.value)  # warn_only in conf: it may warn, never refuse
    assert hashes(tmp_path) == before


def test_stale_temp_files_of_our_outputs_are_swept_others_kept(tmp_path, models, profiles,
                                                                params):
    stale = [tmp_path / ".scored_customers.csv.k1ll3d.tmp", tmp_path / ".manifest.json.x.tmp"]
    foreign = tmp_path / ".someone_else.csv.abc.tmp"
    for path in [*stale, foreign]:
        path.write_text("half a file")
    run_job(features(), models, profiles, params, tmp_path)
    assert not any(p.exists() for p in stale) and foreign.exists()


def test_a_second_writer_is_turned_away(tmp_path, models, profiles, params):
    with exclusive(tmp_path), pytest.raises(OutputBusyError, match="another scoring run"):
        run_job(features(), models, profiles, params, tmp_path)
    run_job(features(), models, profiles, params, tmp_path)  # lock released


def test_quick_look_subsets_are_deterministic():
    ids = pd.Series([f"C{i:03d}" for i in range(100)][::-1])
    assert Subset(limit=3).choose(ids).tolist() == ["C000", "C001", "C002"]
    sample = Subset(sample=10, seed=7).choose(ids)
    assert sample.tolist() == Subset(sample=10, seed=7).choose(ids.sample(frac=1.0)).tolist()
    assert len(sample) == 10 and sample.is_monotonic_increasing
    assert "--limit 3" in Subset(limit=3).describe(3, 100)
    with pytest.raises(Exception, match="not both"):
        Subset(limit=1, sample=1)


def test_snapshot_mode_scores_current_customers_with_the_attrition_model_only(
        tmp_path, params, monkeypatch):
    from churnml import snapshot

    monkeypatch.setattr(score, "_file_version", lambda kind, path, cfg: f"file:{kind}")
    rng = np.random.default_rng(5)
    n, as_of = 400, pd.Timestamp("2022-10-01")
    customers = pd.DataFrame({
        "customer_id": [f"T{i:04d}" for i in range(n)],
        "signup_date": as_of - pd.to_timedelta(rng.integers(30, 2000, n), unit="D"),
        "region": rng.choice(["a", "b"], n), "monthly_charge": rng.uniform(20, 100, n).round(2),
        "churned": rng.random(n) < 0.25, "churn_category": "Price"})
    data, models_dir = tmp_path / "interim", tmp_path / "models"
    data.mkdir()
    customers.to_parquet(data / "customers.parquet", index=False)
    io.write_json({"data_start": "2020-01-01T00:00:00", "data_end": as_of.isoformat()},
                  data / "manifest.json")
    X = snapshot.snapshot_features(customers, as_of).drop(columns=["customer_id", "as_of"])
    model = ChurnClassifier(max_rounds=20, min_child_samples=10).fit(X, customers["churned"])
    path = io.write_json(model.to_dict(), models_dir / "attrition" / "model.json")
    io.write_json({**training_profile(X), "model_sha256": io.sha256_file(path)},
                  models_dir / "attrition" / "profile.json")
    snap_params = {**params, "data": {"mode": "snapshot", "snapshot": {
        "value_column": "monthly_charge", "value_periods_per_year": 12}}}
    scored = score.run(data, str(models_dir), None, tmp_path / "out", snap_params)
    assert len(scored) == n and (scored["winback_model_version"] == "none").all()
    assert (scored["attrition_model_version"] == "file:attrition").all()
    assert scored.loc[scored["status"] == "lapsed", "p_attrition"].isna().all()
    manifest = io.read_json(tmp_path / "out" / "manifest.json")
    assert manifest["drift"]["attrition"]["decision"] in ("ok", "warn")
    assert set(manifest["drift"]) == {"attrition"}


def _interim(tmp_path, start="2023-01-01", end="2025-07-01"):
    io.write_json({"data_start": f"{start}T00:00:00", "data_end": f"{end}T00:00:00",
                   "table_ends": {"transactions": f"{end}T00:00:00"}},
                  tmp_path / "manifest.json")
    return tmp_path


@pytest.mark.parametrize(("given", "expected"), [
    (None, "2025-07-01"),  # the default: the day after the last day of data
    ("2025-07-01", "2025-07-01"),
    ("2023-01-02", "2023-01-02"),
])
def test_the_scoring_date_is_a_day_within_the_data(tmp_path, given, expected):
    assert score.resolve_as_of(given, _interim(tmp_path)) == pd.Timestamp(expected)


@pytest.mark.parametrize("given", ["2025-07-02", "2026-01-01", "2023-01-01", "2022-06-30"])
def test_a_scoring_date_outside_the_data_is_refused(tmp_path, given):
    # Past the end, the days without data would read as every customer going quiet.
    with pytest.raises(ConfigError, match=r"outside the data .*last day is 2025-06-30"):
        score.resolve_as_of(given, _interim(tmp_path))


@pytest.mark.parametrize("given", ["01/06/2025", "June 2025", "2025-06-01T23:59",
                                   "2024-03-15 13:30", "20250601", "2025-W22-1", "2025-6-1"])
def test_a_scoring_date_is_written_yyyy_mm_dd_and_nothing_else(tmp_path, given):
    # pandas would read 01/06/2025 as 6 January, and drop a time of day without a word
    with pytest.raises(ConfigError, match=r"not a date written YYYY-MM-DD"):
        score.resolve_as_of(given, _interim(tmp_path))


def test_a_scoring_date_needs_the_ingest_manifest(tmp_path):
    with pytest.raises(ConfigError, match=r"manifest\.json is missing"):
        score.resolve_as_of("2024-01-01", tmp_path)
    with pytest.raises(ConfigError, match="not a date"):
        score.resolve_as_of("someday", _interim(tmp_path))


def test_snapshot_mode_scores_as_of_the_data_date_whatever_is_given(tmp_path, caplog):
    interim = _interim(tmp_path, start="2015-01-01", end="2022-10-01")
    params = {"data": {"mode": "snapshot"}}
    assert score.resolve_date(None, interim, params) == pd.Timestamp("2022-10-01")
    with caplog.at_level("WARNING"):
        assert score.resolve_date("2030-01-01", interim, params) == pd.Timestamp("2022-10-01")
    assert "--as-of 2030-01-01 is ignored" in caplog.text


def test_a_whitelist_without_status_still_writes_and_counts_statuses(tmp_path, models,
                                                                      profiles, params):
    narrow = {**params, "score": {**params["score"], "columns": [
        "customer_id", "p_attrition", "risk_band", "risk_percentile"]}}
    written = run_job(features(), models, profiles, narrow, tmp_path)
    assert list(written.columns) == ["customer_id", "p_attrition", "risk_band",
                                     "risk_percentile"]
    manifest = io.read_json(tmp_path / "manifest.json")
    assert manifest["status_counts"] == {"active": 450, "lapsed": 150}


@pytest.mark.parametrize("columns", [["p_attrition", "status"], "customer_id", []])
def test_a_whitelist_without_customer_id_is_refused_before_any_work(params, columns):
    bad = {**params, "score": {**params["score"], "columns": columns},
           "features": {"windows_days": [params["score"]["value_window_days"]]}}
    with pytest.raises(ConfigError, match=r"score\.columns.*customer_id"):
        score.score_inputs.check_config(bad)


@pytest.mark.parametrize("floor", [0, 181, "30", None, True])
def test_a_value_floor_outside_one_day_to_the_value_window_is_refused(params, floor):
    bad = {**params, "score": {**params["score"], "value_min_days": floor},
           "features": {"windows_days": [params["score"]["value_window_days"]]}}
    with pytest.raises(ConfigError, match=r"score\.value_min_days"):
        score.score_inputs.check_config(bad)


def test_params_composed_before_value_min_days_are_refused_with_the_remedy(params):
    stale = {**params, "score": {k: v for k, v in params["score"].items()
                                 if k != "value_min_days"},
             "features": {"windows_days": [params["score"]["value_window_days"]]}}
    with pytest.raises(ConfigError, match=r"value_min_days is missing.*churnml compose"):
        score.score_inputs.check_config(stale)


def test_the_summary_shows_offer_spend_against_the_budget(tmp_path, models, profiles, params):
    base = model_scorer(models, params)

    def with_offers(frame: pd.DataFrame) -> pd.DataFrame:
        out = base(frame)
        sent = np.arange(len(out)) < 10  # ten offers of 30 each; the first held out
        return out.assign(offer_id=np.where(sent, "discount", "none"),
                          expected_net_value=np.where(sent, 4.0, 0.0),
                          holdout=np.arange(len(out)) == 0, offer_cost=np.where(sent, 30.0, 0.0))

    with_budget = {**params, "offers": {"budget": 2000.0}}
    run_job(features(), models, profiles, with_budget, tmp_path, scorer=with_offers)
    page = (tmp_path / "summary.html").read_text()
    assert "270 of 2,000" in page and "budget used" in page
    assert "offer costs not in this run" not in page


def test_the_manifest_names_the_offer_settings_and_uplift_files_behind_the_list(tmp_path,
                                                                                 caplog):
    from churnml.stages import score_inputs

    params = {"offers": {"budget": 2000}, "reasons": {"top_k": 3}, "segments": {"x": 1},
              "data": {"mode": "event_log"}}
    absent = score_inputs.offer_provenance(params, tmp_path)
    assert absent["uplift_files"] == {"model.json": "absent", "response_lines.json": "absent"}
    assert "no uplift model" in caplog.text and str(tmp_path / "uplift") in caplog.text
    (tmp_path / "uplift").mkdir()
    (tmp_path / "uplift" / "model.json").write_text("{}")
    present = score_inputs.offer_provenance(params, tmp_path)
    assert present["uplift_files"]["model.json"] == io.sha256_file(tmp_path / "uplift/model.json")
    assert present["offers_config"] == {"budget": 2000}
    cheaper = score_inputs.offer_provenance({**params, "offers": {"budget": 300}}, tmp_path)
    assert cheaper["offers_config"] != present["offers_config"]
    assert set(present["config_sha256"]) == {"reasons", "segments"}
    other = score_inputs.offer_provenance({**params, "reasons": {"top_k": 2}}, tmp_path)
    assert other["config_sha256"]["reasons"] != present["config_sha256"]["reasons"]
    assert score_inputs.offer_provenance({**params, "data": {"mode": "snapshot"}}, tmp_path) == {}


def test_the_event_log_scorer_bounds_value_by_the_start_of_the_data(tmp_path, monkeypatch,
                                                                    params):
    seen = {}

    def recording(features, attrition, winback, **kwargs):
        seen.update(kwargs)
        return features

    monkeypatch.setattr(score, "score_customers", recording)
    monkeypatch.setattr(score.score_enrich, "enrich", lambda scored, *a: scored)
    scorer = score.make_scorer({"attrition": None, "winback": None}, {}, params,
                               _interim(tmp_path, start="2023-03-01"))
    scorer(pd.DataFrame({"customer_id": ["a"]}))
    assert seen["data_start"] == pd.Timestamp("2023-03-01")
