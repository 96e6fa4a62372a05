"""``churnml``: one entry point; subcommands are the DVC stages plus compose,
simulate, validate and the batch ``score`` job. Exit codes: 0 success, 2 invalid
input or config, 3 too many rows quarantined, 1 anything else.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from churnml.errors import ChurnmlError

log = logging.getLogger("churnml")


def _params(args: argparse.Namespace, keys: list[str]) -> dict:
    from churnml.stages.common import stage_params

    return stage_params(args.params, keys)


def cmd_compose(args: argparse.Namespace) -> int:
    from churnml import config, io

    params = config.compose(Path(args.conf), args.overrides)
    io.write_text(config.dump_params(params), args.out)
    log.info("wrote %s from %s/ with overrides %s", args.out, args.conf, args.overrides or "none")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from churnml import config
    from churnml.stages import simulate

    params = _params(args, simulate.PARAMS)["data"]
    world = dict(config.get(params, "world"))
    for key in ("customers", "months", "seed"):
        if getattr(args, key) is not None:
            world[key] = getattr(args, key)
    simulate.run(world, Path(args.out or params["raw_dir"]))
    return 0


def cmd_source(args: argparse.Namespace) -> int:
    from churnml.stages import source

    data = _params(args, source.PARAMS)["data"]
    source.run(data, Path(args.out or data["raw_dir"]), Path(args.params).resolve().parent)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from churnml.stages import ingest
    from churnml.stages.common import INTERIM_DIR

    params = _params(args, ingest.PARAMS)
    ingest.run(Path(args.data or params["data"]["raw_dir"]), Path(args.out or INTERIM_DIR),
               params)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from churnml.stages import validate

    cfg = _params(args, ["ingest"])["ingest"]
    result = validate.check(Path(args.data), cfg, args.mapping, args.mode, Path(args.conf))
    title = f"churnml validate {args.data}" + (f" (mapping {args.mapping})" if args.mapping else "")
    return validate.print_report(result, cfg, title)


def cmd_features(args: argparse.Namespace) -> int:
    from churnml.stages import features
    from churnml.stages.common import FEATURES_FILE, INTERIM_DIR

    features.run(INTERIM_DIR, FEATURES_FILE, _params(args, features.PARAMS))
    return 0


def cmd_labels(args: argparse.Namespace) -> int:
    from churnml.stages import labels
    from churnml.stages.common import INTERIM_DIR, LABELS_FILE

    labels.run(INTERIM_DIR, LABELS_FILE, _params(args, labels.PARAMS))
    return 0


def cmd_segments(args: argparse.Namespace) -> int:
    from churnml.stages import segments
    from churnml.stages.common import INTERIM_DIR, REPORTS_DIR

    segments.run(INTERIM_DIR, segments.SEGMENTS_DIR, REPORTS_DIR / "segments",
                 _params(args, segments.PARAMS))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from churnml.stages import train
    from churnml.stages.common import FEATURES_FILE, LABELS_FILE, MODELS_DIR

    train.run(args.kind, FEATURES_FILE, LABELS_FILE, MODELS_DIR,
              _params(args, train.params_for(args.kind)))
    return 0


def cmd_train_uplift(args: argparse.Namespace) -> int:
    from churnml.stages import train_uplift
    from churnml.stages.common import FEATURES_FILE, INTERIM_DIR, MODELS_DIR

    train_uplift.run(INTERIM_DIR, FEATURES_FILE, MODELS_DIR, _params(args, train_uplift.PARAMS))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from churnml.stages import evaluate
    from churnml.stages.common import FEATURES_FILE, LABELS_FILE, MODELS_DIR, REPORTS_DIR

    evaluate.run(FEATURES_FILE, LABELS_FILE, MODELS_DIR, REPORTS_DIR,
                 _params(args, evaluate.PARAMS))
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from churnml.progress import Steps
    from churnml.stages import score
    from churnml.stages.common import INTERIM_DIR, MODELS_DIR, SCORED_DIR
    from churnml.stages.score_inputs import Subset

    params = _params(args, score.PARAMS)
    subset = Subset(limit=args.limit, sample=args.sample, seed=int(params["score"]["sample_seed"]))
    with Steps(score.STEPS, live=not args.no_progress) as steps:
        score.run(Path(args.data or INTERIM_DIR), args.model or str(MODELS_DIR),
                  args.as_of or params["score"]["as_of"], Path(args.out or SCORED_DIR), params,
                  subset=subset, steps=steps)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog="churnml", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="composed params file")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], text: str):
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(func=func)
        return p

    p = add("compose", cmd_compose, "write params.yaml from conf/ plus Hydra overrides")
    p.add_argument("overrides", nargs="*", help="e.g. data=synthetic labels.horizon_days=60")
    p.add_argument("--conf", default="conf")
    p.add_argument("--out", default="params.yaml")
    p = add("simulate", cmd_simulate, "write a synthetic world (canonical tables + truth/)")
    p.add_argument("--customers", type=int)
    p.add_argument("--months", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--out", help="output folder (default: data.raw_dir)")
    p = add("source", cmd_source, "materialise the configured data source into data.raw_dir")
    p.add_argument("--out", help="output folder (default: data.raw_dir)")
    p = add("ingest", cmd_ingest, "validate raw tables into data/interim with a quarantine")
    p.add_argument("--data", help="raw folder (default: data.raw_dir)")
    p.add_argument("--out")
    p = add("validate", cmd_validate, "check a data folder against the contract; no writes")
    p.add_argument("--data", required=True, help="folder of canonical tables, or of your own "
                   "files with --mapping")
    p.add_argument("--mapping", help="data config (conf/data/NAME.yaml or its NAME) whose "
                   "column mapping applies to the files in --data")
    p.add_argument("--mode", choices=["events", "snapshot"],
                   help="default: as recorded in DIR/source.json, else events")
    p.add_argument("--conf", default="conf", help="config folder for --mapping NAME")
    add("features", cmd_features, "point-in-time features for every snapshot")
    add("labels", cmd_labels, "attrition and win-back labels")
    add("segments", cmd_segments, "loyalty ladder, lifecycle, churn cause, shared-cause risk")
    p = add("train", cmd_train, "train the attrition or win-back model, log it to MLflow")
    p.add_argument("kind", choices=["attrition", "winback"])
    add("train_uplift", cmd_train_uplift, "offer-response (uplift) models from campaign history")
    add("evaluate", cmd_evaluate, "test metrics vs baselines, plots, champion promotion")
    p = add("score", cmd_score, "score customers as of a date (the batch scoring job)")
    p.add_argument("--data", help="canonical tables folder (default data/interim)")
    p.add_argument("--model", help="models folder or models:/NAME@ALIAS (default models)")
    p.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: the end of the "
                   "transactions; a later date is refused)")
    p.add_argument("--out", help="output folder (default data/scored)")
    quick = p.add_mutually_exclusive_group()
    quick.add_argument("--limit", type=int, metavar="N",
                       help="quick look: score only the first N customers by id")
    quick.add_argument("--sample", type=int, metavar="N",
                       help="quick look: score N customers at random (seed: score.sample_seed)")
    p.add_argument("--no-progress", dest="no_progress", action="store_true",
                   help="no live progress display (it only shows on a terminal anyway)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    from churnml import logs

    args = build_parser().parse_args(argv)
    logs.configure(args.verbose)
    try:
        return args.func(args)
    except ChurnmlError as exc:
        log.error("%s", exc)
        return exc.exit_code
    except Exception as exc:  # the documented catch-all: exit 1 with a one-line reason
        log.error("internal error: %s: %s (rerun with -v for the traceback)",
                  type(exc).__name__, exc)
        log.debug("traceback", exc_info=True)
        return 1
