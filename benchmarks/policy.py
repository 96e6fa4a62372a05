"""Benchmark (issue 8): churnml's offer policy against ground truth on the default world.

Usage (in a project copy where ``dvc repro`` has run on the synthetic world)::

    .venv/bin/python benchmarks/policy.py --project DIR [--budget 1000 2000 4000]
        [--model-weight W] [--out r.json]

The last complete campaign of the world is the test: its customers (everyone it
reached, every arm) are the population, and the world's true uplift of every offer for
each of them on the send day is the yardstick. Uplift models are trained on the
earlier campaigns only (validation = the one before the test). Features, attrition and
win-back scores and segments are those of the feature snapshot on or just before the
send day. Four policies spend the same budget on the same offers (the catalogue
offers the world ran, so that each has a true effect):

* **churnml**: :func:`churnml.offers.choose_offers` on predicted uplift x value - cost
  (the models shrunk towards the priors by ``offers.model_weight``, as in scoring);
* **model_only** / **priors_only**: the same with the uplift models alone / the
  priors alone (diagnostics: which part of the prediction carries the value);
* **config_priors** / **config_priors_only**: churnml / priors_only with the config
  priors instead of the response lines fitted on the training campaigns
  (:mod:`churnml.offers.response_lines`; the priors churnml uses when
  ``offers.response_lines.enabled``);
* **risk**: active customers by descending P(attrition) (lapsed ones, who have no
  attrition score, after them by 1 - P(win-back)), each given the eligible offer with
  the best predicted net value;
* **random**: the same in random order (mean over ``--random-draws`` orders);
* **oracle**: :func:`choose_offers` on the *true* uplift (same eligibility and solver).

Reported: incremental retained value (sum of true uplift x value over the offers
sent), spend and net value, and churnml's ratios to risk and oracle. No holdouts here
(every policy would lose the same share). Truth is read here, by evaluation code only.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churnml import calendar, config, io
from churnml.models import ChurnClassifier
from churnml.models.uplift import predict_uplift
from churnml.models.uplift_data import uplift_feature_columns, uplift_training_frame
from churnml.models.uplift_fit import fit_uplift
from churnml.offers import Catalogue, choose_offers, evaluate_policy, load_catalogue, ranked_policy
from churnml.offers.allocation import Solver
from churnml.offers.likely_cause import likely_cause
from churnml.offers.response_lines import (
    campaign_response_rows,
    fit_response_lines,
    with_fitted_priors,
)
from churnml.status import LAPSED, customer_status

log = logging.getLogger("benchmarks.policy")
SEGMENT_COLUMNS = ["ladder_rung", "lifecycle_stage", "churn_cause", "shared_cause_outreach"]


def load(project: Path) -> dict[str, Any]:
    """Pipeline outputs of a project folder, plus the world's true uplift."""
    data = project / "data"
    params = config.load_params(project / "params.yaml")
    manifest = io.read_json(data / "interim" / "manifest.json")
    raw = Path(params["data"]["raw_dir"])
    raw = raw if raw.is_absolute() else project / raw
    return {
        # campaign outcomes are purchases: complete only within the transactions
        "params": params, "data_end": calendar.activity_end(
            calendar.recorded_ends(manifest, str(data / "interim" / "manifest.json"))),
        "campaigns": io.read_parquet(data / "interim" / "campaigns.parquet"),
        "transactions": io.read_parquet(data / "interim" / "transactions.parquet"),
        "features": io.read_parquet(data / "features" / "features.parquet"),
        "segments": io.read_parquet(data / "segments" / "segments.parquet"),
        "models": {k: ChurnClassifier.from_dict(io.read_json(project / "models" / k /
                                                             "model.json"))
                   for k in ("attrition", "winback")},
        "true_uplift": io.read_parquet(raw / "truth" / "uplift.parquet"),
    }


def split_campaigns(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(earlier campaigns with roles re-assigned, the last campaign month as test)."""
    month = frame["send_date"].dt.to_period("M")
    test = month == month.max()
    train = frame.loc[~test].copy()
    last = train["send_date"].dt.to_period("M").max()
    train["role"] = np.where(train["send_date"].dt.to_period("M") == last, "validation",
                             "train")
    return train, frame.loc[test].copy()


def scored_population(test: pd.DataFrame, world: dict[str, Any]) -> pd.DataFrame:
    """The test customers as the scoring job would see them on the send day."""
    params = world["params"]
    status = customer_status(test["recency_days"], test["tenure_days"],
                             int(params["labels"]["lapse_days"])).to_numpy()
    p_att, p_win = np.full(len(test), np.nan), np.full(len(test), np.nan)
    active, lapsed = status != LAPSED, status == LAPSED
    # Segment columns a model takes as features (e.g. the win-back model's churn cause),
    # as of the snapshot the features come from, like scoring.
    inputs = _with_segments(test[["customer_id"]].astype(str).reset_index(drop=True), test,
                            world["segments"], ["churn_cause"])
    inputs = pd.concat([test.reset_index(drop=True),
                        inputs.drop(columns="customer_id")], axis=1)
    p_att[active] = world["models"]["attrition"].predict_proba(inputs.loc[active])[:, 1]
    p_win[lapsed] = world["models"]["winback"].predict_proba(inputs.loc[lapsed])[:, 1]
    window = int(params["score"]["value_window_days"])
    scored = pd.DataFrame({
        "customer_id": test["customer_id"].astype(str).to_numpy(),
        "send_date": test["send_date"].to_numpy(), "status": status,
        "p_attrition": p_att, "p_winback": p_win,
        "value": (test[f"spend_{window}d"].fillna(0.0) * 365.0 / window).to_numpy()})
    causes = likely_cause(test, params["segments"]["causes"], params["offers"]["likely_cause"])
    scored["likely_cause"] = causes["likely_cause"].to_numpy()
    return _with_segments(scored, test, world["segments"])


def _with_segments(scored: pd.DataFrame, test: pd.DataFrame, segments: pd.DataFrame,
                   columns: list[str] = SEGMENT_COLUMNS) -> pd.DataFrame:
    snap = test["send_date"].dt.to_period("M").dt.to_timestamp().astype("datetime64[us]")
    key = pd.DataFrame({"customer_id": scored["customer_id"], "as_of": snap.to_numpy()})
    seg = segments[["customer_id", "as_of", *columns]].astype({"customer_id": str})
    seg = seg.assign(as_of=seg["as_of"].astype("datetime64[us]"))
    merged = key.merge(seg, on=["customer_id", "as_of"], how="left")
    for column in columns:
        scored[column] = merged[column].to_numpy()
    return scored.rename(columns={"shared_cause_outreach": "shared_cause_flag"})


def world_catalogue(offers_cfg: dict[str, Any], true_uplift: pd.DataFrame) -> Catalogue:
    """The configured catalogue, restricted to the offers the world ran (with a truth)."""
    full = load_catalogue(offers_cfg)
    known = set(true_uplift["offer_id"].astype(str))
    return Catalogue(tuple(o for o in full.offers if o.offer_id in known),
                     full.never_costed_rungs)


def prepare(world: dict[str, Any]) -> dict[str, Any]:
    """Train on the earlier campaigns; the test customers, their predicted and true uplift."""
    params = world["params"]
    cfg, horizon = params["offers"], int(params["labels"]["horizon_days"])
    frame = uplift_training_frame(world["campaigns"], world["transactions"], world["features"],
                                  world["data_end"], horizon, cfg["uplift"])
    train, test = split_campaigns(frame)
    fit = fit_uplift(train, uplift_feature_columns(train), cfg["uplift"])
    lines = fitted_lines(train, world)
    scored = scored_population(test, world)
    rows = world["true_uplift"].assign(as_of=lambda t: t["as_of"].dt.normalize())
    key = scored[["customer_id", "send_date"]].rename(columns={"send_date": "as_of"})
    actual = rows.merge(key.astype({"as_of": "datetime64[us]"}), on=["customer_id", "as_of"])
    catalogue = world_catalogue(with_fitted_priors(cfg, lines), actual)
    return {"cfg": cfg, "fit": fit, "test": test, "scored": scored, "actual": actual,
            "catalogue": catalogue, "config_catalogue": world_catalogue(cfg, actual),
            "lines": lines, "predicted": predict_uplift(fit.model, test, catalogue.ids)}


def fitted_lines(train: pd.DataFrame, world: dict[str, Any]) -> dict[str, Any] | None:
    """Response lines fitted on the training campaigns, as stage train_uplift fits
    them on the whole history (None when ``offers.response_lines.enabled`` is false)."""
    params = world["params"]
    cfg = params["offers"]
    if not cfg["response_lines"]["enabled"]:
        return None
    rows = campaign_response_rows(train, world["models"]["attrition"], world["segments"],
                                  int(params["labels"]["lapse_days"]),
                                  params["segments"]["causes"], cfg["likely_cause"])
    priors = {o: spec.get("prior") or {} for o, spec in cfg["catalogue"].items()}
    return fit_response_lines(rows, priors, cfg["response_lines"], cfg["uplift"]["control"])


def compare(case: dict[str, Any], budget: float, draws: int) -> dict[str, Any]:
    """The policies at one budget, evaluated with the true uplift."""
    cfg, scored, catalogue = case["cfg"], case["scored"], case["catalogue"]
    predicted, actual, weight = case["predicted"], case["actual"], case["model_weight"]
    solver = Solver(method=cfg["method"], exact_max_choices=int(cfg["exact_max_choices"]),
                    time_limit=float(cfg["exact_time_limit_seconds"]))
    risk = np.where(scored["status"] == LAPSED, -scored["p_winback"], 1 + scored["p_attrition"])

    def ours(w: float, offers: Catalogue = catalogue) -> Any:
        return choose_offers(scored, predicted, offers, budget, 0.0, 0, solver=solver,
                             model_weight=w)

    policies = {
        "churnml": ours(weight), "model_only": ours(1.0), "priors_only": ours(0.0),
        "config_priors": ours(weight, case["config_catalogue"]),
        "config_priors_only": ours(0.0, case["config_catalogue"]),
        "risk": ranked_policy(scored, predicted, catalogue, budget, np.nan_to_num(risk),
                              model_weight=weight),
        "oracle": choose_offers(scored, actual.rename(columns={"true_uplift": "uplift"}),
                                catalogue, budget, 0.0, 0, solver=solver),
    }
    value = scored[["customer_id", "value"]]
    results = {name: evaluate_policy(a, actual, value) for name, a in policies.items()}
    rng = np.random.default_rng(int(cfg["seed"]))
    randoms = [evaluate_policy(ranked_policy(scored, predicted, catalogue, budget,
                                             rng.random(len(scored)), model_weight=weight),
                               actual, value)
               for _ in range(draws)]
    results["random"] = {k: float(np.mean([r[k] for r in randoms])) for k in randoms[0]}
    ours = results["churnml"]["retained_value"]
    return {"budget": budget, "model_weight": weight,
            "policies": {k: {m: round(v, 2) for m, v in r.items()} for k, r in results.items()},
            **{f"churnml_vs_{k}": round(ours / results[k]["retained_value"], 3)
               for k in ("risk", "random", "oracle")},
            "churnml_offers": policies["churnml"]["offer_id"].value_counts().to_dict()}


def run(world: dict[str, Any], budgets: list[float], draws: int,
        model_weight: float | None = None) -> dict[str, Any]:
    """Train once, compare the policies at each budget (``model_weight``: default
    ``offers.model_weight``)."""
    case = prepare(world)
    default = float(case["cfg"].get("model_weight", 1.0))
    case["model_weight"] = default if model_weight is None else float(model_weight)
    fit, test = case["fit"], case["test"]
    return {"test_campaign": str(test["send_date"].min().date()),
            "response_lines": case["lines"],
            "customers": len(case["scored"]),
            "statuses": case["scored"]["status"].value_counts().to_dict(),
            "validation_qini": fit.validation,
            "learners": {a: s["learner"] for a, s in fit.model.arms.items()},
            "budgets": [compare(case, b, draws) for b in budgets]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument("--budget", type=float, nargs="*", help="default: offers.budget")
    parser.add_argument("--random-draws", type=int, default=20)
    parser.add_argument("--model-weight", type=float,
                        help="shrinkage towards the priors; default: offers.model_weight")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("causalml").setLevel(logging.WARNING)
    world = load(args.project.resolve())
    budgets = args.budget or [float(world["params"]["offers"]["budget"])]
    report = run(world, budgets, args.random_draws, args.model_weight)
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
