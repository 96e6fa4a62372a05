"""Benchmark (issue 7): how well the customer-understanding rules recover the truth.

Usage::

    .venv/bin/python benchmarks/segments_agreement.py                 # default world
    .venv/bin/python benchmarks/segments_agreement.py --world W --interim I --out r.json
    .venv/bin/python benchmarks/segments_agreement.py --telco-interim DIR --skip-world

On the synthetic world (simulated and ingested first when --world / --interim are not
given): churn-cause agreement with the true exit cause of every exit episode (``natural``
is expected as ``unknown``: no visible reason), ladder-rung agreement at the last
snapshot, precision / recall of traced incident exposure, the exit rate of exposed
customers who never complained vs unexposed ones, and test PR-AUC of the attrition model
without any shared-cause feature, with the features' incident family and with the
segments' shared-cause flags added (--skip-pr-auc: no model fits). On Telco (snapshot
mode, an ingested folder):
agreement of the typed cause with the provided Churn Category. Truth is read here, by
evaluation code, and never by the rules.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from churnml import config
from churnml.cli import main as churnml
from churnml.labels import cancellation_event
from churnml.segments import agreement, incident_exposure, segment_customers
from churnml.segments.build import segment_snapshot_table
from churnml.stages.segments import data_window, read_tables, snapshot_dates

log = logging.getLogger("benchmarks.segments")
TRUE_AS_TYPED = {"natural": "unknown"}
TELCO_CAUSES = {"Competitor": "lured", "Dissatisfaction": "burned", "Attitude": "burned",
                "Price": "price", "Other": "unknown"}
# The features' shared-cause family (churnml.features.incidents), dropped for "none".
INCIDENT_FEATURES = r"^(incidents?_|days_since_incident|region_complaint_rate_)"
SHARED_FLAGS = ["shared_cause_exposed", "shared_cause_incidents", "shared_cause_complaint_rate",
                "shared_cause_outreach"]


def prepare(world: Path | None, interim: Path | None, params_file: str,
            scratch: Path) -> tuple[Path, Path]:
    """Simulate and ingest the configured world unless folders are given."""
    if world is None:
        world = scratch / "world"
        assert churnml(["--params", params_file, "simulate", "--out", str(world)]) == 0
    if interim is None:
        interim = scratch / "interim"
        assert churnml(["--params", params_file, "ingest", "--data", str(world),
                        "--out", str(interim)]) == 0
    return world, interim


def _confusion(share: float, table: pd.DataFrame, n: int, total: int) -> dict[str, Any]:
    recall = (pd.Series({c: table.loc[c, c] if c in table.columns else 0 for c in table.index})
              / table.sum(axis=1)).round(3)
    return {"agreement": round(share, 4), "rows": n, "of": total,
            "recall": recall.to_dict(), "confusion": table.to_dict(orient="index")}


def cause_agreement(segments: pd.DataFrame, exits: pd.DataFrame) -> dict[str, Any]:
    """Each exit episode's typed cause at the first snapshot it shows as a lapse."""
    typed = segments.loc[segments["churn_cause"].notna(), ["customer_id", "as_of", "churn_cause"]]
    pairs = typed.merge(exits, on="customer_id")
    open_ = (pairs["as_of"] >= pairs["exit_date"]) & (
        pairs["return_date"].isna() | (pairs["as_of"] < pairs["return_date"]))
    first = pairs.loc[open_].sort_values("as_of").drop_duplicates(["customer_id", "exit_date"])
    truth = first["exit_cause"].replace(TRUE_AS_TYPED)
    share, table = agreement(first["churn_cause"], truth)
    return _confusion(share, table, len(first), len(exits))


def rung_agreement(segments: pd.DataFrame, truth: pd.DataFrame) -> dict[str, Any]:
    """Ladder rung at the last snapshot vs the true rung at the end."""
    last = segments.loc[segments["as_of"] == segments["as_of"].max()]
    rung = last.set_index("customer_id")["ladder_rung"]
    share, table = agreement(rung, truth.set_index("customer_id")["rung"].reindex(rung.index))
    return _confusion(share, table, len(rung), len(truth))


def tracing_quality(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, cfg: dict[str, Any],
                    true_exposures: pd.DataFrame, max_open_days: int | None) -> dict[str, Any]:
    """Precision and recall of traced exposure (customer, incident) against the truth
    (``max_open_days``: ``features.incidents.max_open_days``)."""
    found = incident_exposure(tables["customers"], tables["transactions"], tables.get("events"),
                              tables.get("incidents"), as_of, cfg, max_open_days=max_open_days)
    key = ["customer_id", "incident_id"]
    hits = len(found[key].drop_duplicates().merge(true_exposures[key].drop_duplicates()))
    return {"traced": len(found), "true": len(true_exposures),
            "precision": round(hits / max(len(found), 1), 3),
            "recall": round(hits / max(len(true_exposures), 1), 3)}


def exit_rates(segments: pd.DataFrame, exits: pd.DataFrame, horizon_days: int) -> dict[str, Any]:
    """True exit rate within the horizon of customers not gone at ``as_of``, by exposure."""
    rows = segments[["customer_id", "as_of", "shared_cause_exposed", "shared_cause_outreach"]]
    pairs = rows.merge(exits, on="customer_id", how="left")
    horizon = pd.Timedelta(days=int(horizon_days))
    gone = (pairs["exit_date"] <= pairs["as_of"]) & (
        pairs["return_date"].isna() | (pairs["return_date"] > pairs["as_of"]))
    leaves = (pairs["exit_date"] > pairs["as_of"]) & (
        pairs["exit_date"] <= pairs["as_of"] + horizon)
    pairs = pairs.assign(gone=gone, leaves=leaves)
    per_row = pairs.groupby(["customer_id", "as_of"]).agg(
        gone=("gone", "any"), leaves=("leaves", "any"), exposed=("shared_cause_exposed", "first"),
        outreach=("shared_cause_outreach", "first"))
    alive = per_row.loc[~per_row["gone"]]
    groups = {"exposed_never_complained": alive["outreach"], "exposed": alive["exposed"],
              "unexposed": ~alive["exposed"]}
    out = {name: {"rows": int(mask.sum()), "exit_rate": round(float(alive.loc[mask, "leaves"]
                                                                    .mean()), 4)}
           for name, mask in groups.items()}
    out["ratio_never_complained_vs_unexposed"] = round(
        out["exposed_never_complained"]["exit_rate"] / out["unexposed"]["exit_rate"], 2)
    return out


def pr_auc_gain(interim: Path, segments: pd.DataFrame, params: dict[str, Any],
                test_snapshots: int | None = None, bootstrap: int = 200) -> dict[str, Any]:
    """Test PR-AUC of the attrition model without any shared-cause feature (``none``:
    the features' incident family dropped), with the features as configured
    (``features``: the incident family) and with the segments' shared-cause flags added
    (``with``), and the gains over ``none`` with a customer-bootstrap interval
    (``bootstrap`` rounds). ``test_snapshots`` overrides ``model.split.test_snapshots``."""
    from churnml import calendar
    from churnml.features import connect, load_tables
    from churnml.labels import make_labels, purchase_windows
    from churnml.stages.features import compute

    start, end = data_window(interim)
    snaps = params["features"]["snapshots"]
    dates = calendar.snapshot_dates(start, end, snaps["freq"], snaps["min_history_days"])
    dates = calendar.labelled(dates, end, params["labels"]["horizon_days"])
    features = compute(interim, dates, params["features"], params["engine"])
    con = connect(params["engine"])
    tables = load_tables(con, interim, ("customers", "transactions", "events"))
    windows = con.execute(purchase_windows(tables["customers"], tables["transactions"], dates,
                                           params["labels"]["horizon_days"],
                                           events=tables.get("events"),
                                           labels_cfg=params["labels"], data_start=start))
    labels = make_labels(windows, params["labels"]["lapse_days"], params["labels"])  # as the stage
    flags = segments[["customer_id", "as_of", *SHARED_FLAGS]].copy()
    flags[SHARED_FLAGS] = flags[SHARED_FLAGS].astype("float64")
    incident_family = [c for c in features.columns if re.match(INCIDENT_FEATURES, c)]
    assert incident_family, "no incident-family feature found: update INCIDENT_FEATURES"
    split = dict(params["model"]["split"])
    if test_snapshots:
        split["test_snapshots"] = int(test_snapshots)
    out: dict[str, Any] = {"test_snapshots": int(split["test_snapshots"]),
                           "incident_family": incident_family}
    variants = {"none": features.drop(columns=incident_family), "features": features,
                "with": features.merge(flags, on=["customer_id", "as_of"], how="left")}
    scored = {name: _fit_and_score(frame, labels, params, split)
              for name, frame in variants.items()}
    for name, (figures, _, _) in scored.items():
        out[name] = figures
    out["gain_vs_none"] = {name: paired_bootstrap(scored["none"], scored[name], bootstrap)
                           for name in ("features", "with")}
    return out


def paired_bootstrap(base: tuple, other: tuple, rounds: int, seed: int = 0) -> dict[str, Any]:
    """PR-AUC of ``other`` minus ``base`` on the same test rows, with a 95 % interval
    from resampling customers (all their snapshots together)."""
    _, test, p_base = base
    _, test_other, p_other = other
    assert test[["customer_id", "as_of"]].equals(test_other[["customer_id", "as_of"]])
    codes = pd.factorize(test["customer_id"])[0]
    y = test["target"].to_numpy()
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(int(rounds)):
        weight = np.bincount(rng.integers(0, codes.max() + 1, codes.max() + 1),
                             minlength=codes.max() + 1)[codes]
        diffs.append(average_precision_score(y, p_other, sample_weight=weight)
                     - average_precision_score(y, p_base, sample_weight=weight))
    point = average_precision_score(y, p_other) - average_precision_score(y, p_base)
    low, high = np.percentile(diffs, [2.5, 97.5]) if diffs else (np.nan, np.nan)
    return {"pr_auc_gain": round(float(point), 4), "ci95": [round(float(low), 4),
                                                           round(float(high), 4)],
            "rounds": int(rounds)}


def _fit_and_score(frame: pd.DataFrame, labels: pd.DataFrame, params: dict[str, Any],
                   split: dict[str, Any]) -> tuple[dict[str, Any], pd.DataFrame, np.ndarray]:
    """Fit the attrition model on ``frame``'s train rows; PR-AUC and ROC-AUC on test,
    the test rows and their predictions."""
    from churnml.stages.train import fit_model, training_frame

    rows = training_frame(frame, labels, "attrition", split, params["labels"]["horizon_days"])
    model = fit_model(rows, params["model"]["attrition"], params["model"]["calibration"],
                      int(params["model"]["seed"]))
    test = rows.loc[rows["role"] == "test"].sort_values(["customer_id", "as_of"])
    test = test.reset_index(drop=True)
    p = model.predict_proba(test[list(model.feature_names_in_)])[:, 1]
    exposed = test["shared_cause_exposed"] > 0 if "shared_cause_exposed" in test else None
    return {"pr_auc": round(float(average_precision_score(test["target"], p)), 4),
            "test_exposed_rows": None if exposed is None else int(exposed.sum()),
            "roc_auc": round(float(roc_auc_score(test["target"], p)), 4),
            "test_rows": len(test), "features": len(model.feature_names_in_)}, test, p


def telco(interim: Path, cfg: dict[str, Any]) -> dict[str, Any]:
    """Typed cause of churned Telco customers vs the provided Churn Category."""
    customers = pd.read_parquet(interim / "customers.parquet")
    typed = segment_snapshot_table(customers, data_window(interim)[1], cfg).set_index(
        "customer_id")["churn_cause"]
    category = customers.set_index("customer_id")["churn_category"].map(TELCO_CAUSES)
    share, table = agreement(typed, category)
    majority = float(category.loc[typed.dropna().index].value_counts(normalize=True).iloc[0])
    result = _confusion(share, table, int(typed.notna().sum()), len(customers))
    return result | {"mapping": TELCO_CAUSES, "majority_class_share": round(majority, 4)}


def synthetic(world: Path, interim: Path, params: dict[str, Any],
              test_snapshots: list[int], bootstrap: int = 200) -> dict[str, Any]:
    """Every synthetic-world figure of the issue."""
    cfg = params["segments"]
    tables = read_tables(interim)
    start, end = data_window(interim)
    dates = snapshot_dates(interim, params["features"]["snapshots"])
    max_open_days = params["features"]["incidents"]["max_open_days"]
    segments = segment_customers(tables, dates, cfg, int(params["labels"]["lapse_days"]),
                                 start.as_unit("us"), max_open_days=max_open_days,
                                 cancellation_event=cancellation_event(params["labels"]))
    truth = world / "truth"
    exits = (pd.read_parquet(truth / "exits.parquet") if (truth / "exits.parquet").is_file()
             else pd.read_parquet(truth / "customers.parquet").dropna(subset=["exit_date"]))
    result = {"causes": cause_agreement(segments, exits),
              "rungs": rung_agreement(segments, pd.read_parquet(truth / "customers.parquet")),
              "exit_rates": exit_rates(segments, exits, params["labels"]["horizon_days"])}
    if (truth / "exposures.parquet").is_file():
        result["tracing"] = tracing_quality(tables, end.as_unit("us"), cfg["shared_cause"],
                                            pd.read_parquet(truth / "exposures.parquet"),
                                            max_open_days)
    result["pr_auc"] = [pr_auc_gain(interim, segments, params, n, bootstrap)
                        for n in test_snapshots]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--world", type=Path, help="simulated world folder (with truth/)")
    parser.add_argument("--interim", type=Path, help="its ingested canonical tables")
    parser.add_argument("--telco-interim", type=Path, help="ingested Telco folder (data=telco)")
    parser.add_argument("--skip-world", action="store_true", help="Telco only")
    parser.add_argument("--skip-pr-auc", action="store_true",
                        help="no model fits (cause, rung and exposure figures only)")
    parser.add_argument("--test-snapshots", type=int, nargs="*", default=[0, 6],
                        help="PR-AUC test periods in snapshots (0: model.split's)")
    parser.add_argument("--bootstrap", type=int, default=200,
                        help="customer-bootstrap rounds for the PR-AUC gain intervals")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    params = config.load_params(args.params)
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        if not args.skip_world:
            world, interim = prepare(args.world, args.interim, args.params, Path(scratch))
            result["synthetic"] = synthetic(world, interim, params,
                                            [] if args.skip_pr_auc else args.test_snapshots,
                                            args.bootstrap)
    if args.telco_interim:
        result["telco"] = telco(args.telco_interim, params["segments"])
    text = json.dumps(result, indent=2, default=str)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    log.info("segments benchmark:\n%s", text)


if __name__ == "__main__":
    main()
