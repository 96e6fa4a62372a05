"""Stage ``evaluate``: test metrics vs baselines, plot data, MLflow logging, promotion."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from churnml import evaluate, io, leakage, plots, snapshot
from churnml.models import ChurnClassifier
from churnml.models.baselines import RecencyBaseline, RFMLogistic
from churnml.models.bgnbd import BGNBDBaseline
from churnml.segment_features import join_segments, model_segment_columns
from churnml.stages.common import SEGMENTS_FILE, model_file
from churnml.stages.train import KINDS, training_frame

log = logging.getLogger(__name__)
PARAMS = ["evaluate", "model.split", "labels.horizon_days", "tracking", "data.mode",
          "data.snapshot"]


def score_test(frame: pd.DataFrame, model: ChurnClassifier, kind: str,
               horizon_days: int, purchase_log: bool = True,
               bgnbd_l2: float = 0.0) -> dict[str, pd.Series]:
    """Test-set probabilities of the model and of the baselines (fitted on train rows).

    The BG/NBD baseline predicts "no purchase within the horizon"; for win-back (the
    positive class is "buys again") its complement is used; ``bgnbd_l2`` is its
    penalty (``evaluate.bgnbd_l2``). Without a purchase log (snapshot mode) there is
    no BG/NBD baseline.
    """
    train, test = frame[frame["role"] == "train"], frame[frame["role"] == "test"]
    scores = {"model": model.predict_proba(test)[:, 1]}
    for name, baseline in (("recency", RecencyBaseline()), ("rfm_logistic", RFMLogistic())):
        scores[name] = baseline.fit(train, train["target"]).predict_proba(test)[:, 1]
    if not purchase_log:
        return {name: pd.Series(p, index=test.index) for name, p in scores.items()}
    no_purchase = BGNBDBaseline(horizon_days=horizon_days, l2=bgnbd_l2).fit(train,
                                                                           train["target"])
    p_none = no_purchase.predict_proba(test)[:, 1]
    scores["bgnbd"] = p_none if kind == "attrition" else 1.0 - p_none
    return {name: pd.Series(p, index=test.index) for name, p in scores.items()}


def evaluate_kind(frame: pd.DataFrame, model: ChurnClassifier, kind: str, horizon_days: int,
                  cfg: dict[str, Any], purchase_log: bool = True,
                  ) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Metrics (with bootstrap intervals) and plot tables for one model and its baselines."""
    y = frame.loc[frame["role"] == "test", "target"].to_numpy()
    scores = score_test(frame, model, kind, horizon_days, purchase_log,
                        float(cfg["bgnbd_l2"]))
    metrics = {name: evaluate.metrics_with_intervals(
        y, p.to_numpy(), bins=int(cfg["calibration_bins"]), top_fractions=cfg["top_fractions"],
        samples=int(cfg["bootstrap_samples"]), seed=int(cfg["bootstrap_seed"]))
        for name, p in scores.items()}
    metrics["test_as_of"] = str(frame.loc[frame["role"] == "test", "as_of"].max().date())
    if (note := evaluate.single_class_note(y)) is not None:
        metrics["test_set"] = note
        log.warning("%s: the test set (as of %s) %s; its ROC-AUC and PR-AUC are undefined",
                    kind, metrics["test_as_of"], note)
    test = frame[frame["role"] == "test"]
    columns = [c for c in cfg["slices"] if c in test.columns]
    metrics["slices"] = evaluate.sliced_metrics(y, scores["model"].to_numpy(), test[columns],
                                                int(cfg["min_slice_rows"]))
    tables = {
        "roc": pd.concat([evaluate.roc_points(y, p.to_numpy(), n) for n, p in scores.items()]),
        "gain": pd.concat([evaluate.gain_table(y, p.to_numpy(), n) for n, p in scores.items()]),
        "calibration": evaluate.calibration_table(y, scores["model"].to_numpy(), "model",
                                                  int(cfg["calibration_bins"])),
        "importance": model.importance().rename_axis("feature").reset_index(name="gain")
        .assign(gain=lambda d: d["gain"].round(3)),
    }
    return metrics, tables


def leakage_guard(frame: pd.DataFrame, features: list[str], cfg: dict[str, Any]) -> dict[str, Any]:
    """Single-feature test AUCs against ``evaluate.leakage_max_single_feature_auc``; the
    result's ``blocked`` stops promotion (see :mod:`churnml.leakage`)."""
    aucs = leakage.single_feature_auc(frame, features)
    return leakage.leakage_check(aucs, float(cfg["leakage_max_single_feature_auc"]),
                                 cfg.get("leakage_reviewed_features") or [])


def with_segments(features: pd.DataFrame, segments_file: Path, model: ChurnClassifier,
                  slices: list[str]) -> pd.DataFrame:
    """The features plus the model's segment features and the segment slice columns."""
    if not segments_file.is_file():
        return features
    segments = io.read_parquet(segments_file)
    wanted = [*model_segment_columns(model.feature_names_in_, segments),
              *[c for c in slices if c in segments.columns and c not in features.columns]]
    return join_segments(features, segments, wanted)


def run(features_file: Path, labels_file: Path, models_dir: Path, reports_dir: Path,
        params: dict[str, Any], segments_file: Path = SEGMENTS_FILE) -> dict[str, Any]:
    """Evaluate both models on the test snapshot, write reports, log and promote.

    The segments of each snapshot (``segments_file``) give the models their segment
    features and the metrics their rung, stage and cause slices.
    """
    from churnml import tracking

    cfg, results, written = params["evaluate"], {}, {}
    evaluate.lower_is_better(cfg["promotion_metric"], cfg["top_fractions"])  # fail early
    features, labels = io.read_parquet(features_file), io.read_parquet(labels_file)
    in_snapshot = snapshot.is_snapshot(params["data"])
    kinds = snapshot.KINDS if in_snapshot else tuple(KINDS)
    for kind in kinds:
        model = ChurnClassifier.from_dict(io.read_json(model_file(kind, models_dir)))
        frame = training_frame(with_segments(features, segments_file, model, cfg["slices"]),
                               labels, kind, params["model"]["split"],
                               params["labels"]["horizon_days"], params["data"])
        results[kind], tables = evaluate_kind(frame, model, kind,
                                              params["labels"]["horizon_days"], cfg,
                                              purchase_log=not in_snapshot)
        results[kind]["leakage"] = leakage_guard(frame, list(model.feature_names_in_), cfg)
        written[kind] = [io.write_csv(table, reports_dir / "plots" / f"{kind}_{name}.csv")
                         for name, table in tables.items()]
        written[kind] += [io.write_figure(draw(tables[name], f"{kind}: {name}"),
                                          reports_dir / "figures" / f"{kind}_{name}.png")
                          for name, draw in plots.FIGURES.items()]
        m, base = results[kind]["model"], results[kind]["recency"]
        log.info("%s test ROC-AUC: %s", kind, {name: round(r["roc_auc"], 3)
                                               for name, r in results[kind].items()
                                               if isinstance(r, dict) and "roc_auc" in r})
        log.info("%s test ROC-AUC %.3f [%.3f, %.3f] vs recency %.3f; PR-AUC %.3f vs %.3f; ECE %.3f",
                 kind, m["roc_auc"], m.get("roc_auc_lo", float("nan")),
                 m.get("roc_auc_hi", float("nan")), base["roc_auc"], m["pr_auc"], base["pr_auc"],
                 m["ece"])
    for kind in set(KINDS) - set(kinds):  # snapshot mode: DVC plots need the files
        results[kind] = {"skipped": "no win-back model in snapshot mode"}
        for name, table in tables.items():
            io.write_csv(table.iloc[0:0], reports_dir / "plots" / f"{kind}_{name}.csv")
    io.write_json(results, reports_dir / "metrics.json", undefined_as_null=True)
    for kind in kinds:
        name = params["tracking"][f"{kind}_model_name"]
        run_info = tracking.find_version(params["tracking"], name,
                                         io.sha256_file(model_file(kind, models_dir)))
        if run_info is None:
            log.warning("%s: no registered version matches %s; not logged or promoted", kind,
                        model_file(kind, models_dir))
            continue
        test = {f"test_{k}": v for k, v in results[kind]["model"].items()
                if isinstance(v, float)}
        tracking.log_evaluation(params["tracking"], run_info["run_id"], test, written[kind])
        if results[kind]["leakage"]["blocked"]:
            log.warning("%s v%s not promoted: leakage suspects %s (single-feature test AUC > "
                        "%s); review them, then list them in evaluate.leakage_reviewed_features",
                        run_info["name"], run_info["version"],
                        results[kind]["leakage"]["suspects"],
                        cfg["leakage_max_single_feature_auc"])
            continue
        if "test_set" in results[kind]:
            log.warning("%s v%s not promoted: the test set %s", run_info["name"],
                        run_info["version"], results[kind]["test_set"])
            continue
        metric = cfg["promotion_metric"]
        tracking.promote_if_better(params["tracking"], run_info["name"], run_info["version"],
                                   metric, results[kind]["model"][metric],
                                   float(cfg["min_improvement"]))
    return results
