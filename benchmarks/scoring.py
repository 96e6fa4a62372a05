"""Benchmark: score 10^6 customers end to end (features ready -> scored list with
segments, reasons and offers, written).

Usage::

    .venv/bin/python benchmarks/scoring.py                    # 10^6 customers
    .venv/bin/python benchmarks/scoring.py --customers 200000 --keep out/
    .venv/bin/python benchmarks/scoring.py --like data/features/features.parquet
    .venv/bin/python benchmarks/scoring.py --set 'reasons.explain_risk_bands=[high,medium]'
    .venv/bin/python benchmarks/scoring.py --profile /tmp/scoring.prof  # cProfile, timed part

Feature rows are generated with numpy in the shape ``churnml.features`` produces
(``--like`` resamples the rows of a real features file instead, whatever its
columns), and so are the customers' segments (rung, lifecycle stage, churn cause,
shared-cause flags), which the job otherwise computes from the canonical tables.
Two small models are trained on a sample. The timed part is exactly the scoring job
after features and segments (:func:`churnml.stages.score.score_and_write` with the
production scorer): drift check, scoring, reason codes, offers under the budget
(catalogue priors, or ``--models DIR`` with ``uplift/``), output checks, summary
page, Parquet + CSV + HTML + manifest written atomically. As a reference the same
rows go through the raw LightGBM ``booster.predict`` alone (no encoding, calibration
or writes); the ratio says what the job costs on top of the models. Targets (issue
9), 2-core machine: under 20 s and under 4 GB peak resident memory.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from churnml import config, drift
from churnml.models import ChurnClassifier
from churnml.progress import Steps
from churnml.segments import RUNGS, STAGES
from churnml.stages import score, score_enrich

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 20.0
TARGET_RSS_GB = 4.0
AS_OF = pd.Timestamp("2025-07-01")
VERSIONS = {"attrition": "bench-attrition/1", "winback": "bench-winback/1"}
EVENT_RATES = {"complaint_90d": 0.03, "support_contact_90d": 0.35,
               "competitor_inquiry_90d": 0.07, "price_comparison_90d": 0.1,
               "cancel_page_visit_90d": 0.04, "port_out_request_90d": 0.014,
               "payment_failure_90d": 0.018, "returns_90d": 0.16}


def peak_rss_gb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _windows(out: dict, rate: np.ndarray, aov: np.ndarray, rng: np.random.Generator) -> None:
    for w in (30, 90, 180):
        for prefix, scale in (("", 1.0), ("prev_", 1.15)):
            count = rng.poisson(rate * w * scale)
            out[f"count_{prefix}{w}d"] = count
            out[f"spend_{prefix}{w}d"] = np.round(count * aov * rng.lognormal(0, 0.2, len(aov)), 2)
        prev = out[f"spend_prev_{w}d"]
        out[f"spend_ratio_{w}d"] = np.where(prev > 0, out[f"spend_{w}d"] / np.maximum(prev, 1e-9),
                                            np.nan)


def generate(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` customers' feature rows as of one date, like ``churnml.features`` output."""
    rng = np.random.default_rng(seed)
    tenure = rng.uniform(1, 2000, n).round()
    lapsed = rng.random(n) < 0.3
    rate = rng.gamma(2.0, 1.0, n) / 30 * np.where(lapsed, 0.0, 1.0)  # purchases per day
    aov = rng.lognormal(3.4, 0.5, n)
    history = np.minimum(tenure, 900.0)
    frequency = rng.poisson(rng.gamma(2.0, 1.0, n) / 30 * history)
    out: dict[str, np.ndarray] = {
        "customer_id": np.char.add("C", np.char.zfill(np.arange(n).astype(str), 8)),
        "as_of": np.full(n, AS_OF.to_datetime64()).astype("datetime64[us]"),
        "region": rng.choice(["east", "north", "south", "west"], n),
        "plan": rng.choice(["basic", "plus", "premium"], n, p=[0.52, 0.32, 0.16]),
        "channel": rng.choice(["app", "store", "web"], n),
        "tenure_days": tenure, "frequency": frequency,
        "monetary": np.round(frequency * aov, 2)}
    _windows(out, rate, aov, rng)
    for name, lam in EVENT_RATES.items():
        out[name] = rng.poisson(lam, n)
    recency = np.where(lapsed, rng.uniform(91, 900, n), rng.exponential(20, n).clip(0.01, 90))
    out["recency_days"] = np.where(frequency > 0, recency, np.nan)
    out["days_since_first_purchase"] = np.where(frequency > 0, history * rng.uniform(0.8, 1, n),
                                                np.nan)
    out["avg_order_value"] = np.where(frequency > 0, out["monetary"] / np.maximum(frequency, 1),
                                      np.nan)
    frame = pd.DataFrame(out)
    return frame.astype({"region": "str", "plan": "str", "channel": "str", "customer_id": "str"})


def resample(path: Path, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows drawn with replacement from a real features file's last snapshot."""
    real = pd.read_parquet(path)
    last = real[real["as_of"] == real["as_of"].max()]
    rows = last.sample(n=n, replace=True, random_state=seed).reset_index(drop=True)
    rows["customer_id"] = [f"C{i:08d}" for i in range(n)]
    rows["as_of"] = AS_OF.as_unit("us")
    return rows


def segments(frame: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    """Segments per customer as :func:`churnml.stages.score_enrich.segments_for` returns."""
    rng = np.random.default_rng(seed)
    n = len(frame)
    lapsed = frame["recency_days"].fillna(999).to_numpy() > 90
    cause = rng.choice(["burned", "lured", "price", "involuntary", "natural"], n)
    outreach = rng.random(n) < 0.05
    return pd.DataFrame({
        "customer_id": frame["customer_id"].to_numpy(),
        "ladder_rung": rng.choice(RUNGS, n, p=[0.01, 0.04, 0.1, 0.5, 0.25, 0.06, 0.04]),
        "lifecycle_stage": rng.choice(STAGES, n, p=[0.05, 0.15, 0.8]),
        "churn_cause": np.where(lapsed, cause, None),
        "shared_cause_outreach": outreach,
        "shared_cause_incident": np.where(outreach, "INC-7", None),
        "shared_cause_complaint_rate": np.where(outreach, 0.08, np.nan)})


def train(frame: pd.DataFrame, params: dict, rows: int = 60_000) -> tuple[dict, dict]:
    """Two small models (and their drift profiles) on a sample with synthetic labels."""
    rng = np.random.default_rng(1)
    status = score.rows_by_model(frame, params)
    models, profiles = {}, {}
    for kind, part in status.items():
        sample = part.sample(n=min(rows, len(part)), random_state=2)
        X = sample.drop(columns=["customer_id", "as_of"])
        logit = (0.02 * X["recency_days"].fillna(200) - 0.05 * X["count_90d"]
                 + 0.8 * X["complaint_90d"] - 1.5)
        y = (rng.random(len(X)) < 1 / (1 + np.exp(-logit))).astype(int)
        cut = int(0.75 * len(X))
        model = ChurnClassifier(max_rounds=200, num_leaves=15, early_stopping_rounds=20)
        models[kind] = model.fit(X.iloc[:cut], y[:cut], eval_set=(X.iloc[cut:], y[cut:]))
        profiles[kind] = drift.training_profile(X[list(model.feature_names_in_)].iloc[:cut])
    return models, profiles


def reference_seconds(frame: pd.DataFrame, models: dict, params: dict) -> float:
    """Raw ``booster.predict`` on the same rows (inputs encoded beforehand, untimed)."""
    parts = score.rows_by_model(frame, params)
    encoded = {kind: models[kind]._encode(rows) for kind, rows in parts.items()}
    start = time.perf_counter()
    for kind, rows in encoded.items():
        models[kind].booster_.predict(rows, num_iteration=models[kind].best_iteration_)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit code 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--like", type=Path, help="resample rows of this features file")
    parser.add_argument("--keep", type=Path, help="write here and keep (default: temp dir)")
    parser.add_argument("--models", type=Path, help="models folder with uplift/ (default: "
                        "none, offers from the catalogue's priors)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override, e.g. 'reasons.explain_risk_bands=[high]'")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="write a cProfile of the timed part here (slows it down)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    composed = config.compose(ROOT / "conf", args.set)
    params = {**{k: composed[k] for k in ("score", "labels", *score_enrich.PARAMS)},
              "data": {"mode": "events", "snapshot": None}}
    load_before = os.getloadavg()
    frame = resample(args.like, args.customers) if args.like else generate(args.customers)
    ready = segments(frame)
    score_enrich.segments_for = lambda data_dir, as_of, params: ready  # segments are ready
    models, profiles = train(frame, params)
    ref = reference_seconds(frame, models, params)
    steps = Steps(score.STEPS)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "scored"
        scorer = score.make_scorer(models, VERSIONS, params, Path(tmp), args.models or Path(tmp))
        profiler = cProfile.Profile() if args.profile else None
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        written = score.score_and_write(
            frame, scorer, profiles, out, params,
            as_of=AS_OF.isoformat(), versions=VERSIONS, steps=steps,
            manifest_fields={"inputs": {}, "subset": None})
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        sizes = {p.name: round(p.stat().st_size / 1e6, 1) for p in sorted(out.iterdir())}
    report = {"customers": len(written), "columns_in": frame.shape[1], "overrides": args.set,
              "customers_with_reasons": int(written["reason_1"].notna().sum())
              if "reason_1" in written
              else 0,
              "columns_out": list(written.columns),
              "offers": written["offer_id"].value_counts().to_dict(),
              "wall_seconds": round(seconds, 2), "rows_per_second": round(len(written) / seconds),
              "cpu_seconds_all_threads": round(cpu_seconds, 2),
              "reference_predict_seconds": round(ref, 2),
              "ratio_to_reference": round(seconds / ref, 1),
              "peak_rss_gb": round(peak_rss_gb(), 2),
              "steps_seconds": {k: round(v, 2) for k, v in steps.durations.items()},
              "output_mb": sizes, "load_average_before_after": [
                  round(load_before[0], 2), round(os.getloadavg()[0], 2)], "cpus": os.cpu_count()}
    print(json.dumps(report, indent=2))
    ok = seconds < TARGET_SECONDS and peak_rss_gb() < TARGET_RSS_GB
    print("targets met" if ok else "TARGET MISSED (issue 9: < 20 s, < 4 GB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
