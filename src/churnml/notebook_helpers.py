"""Small helpers the notebooks in ``notebooks/`` share: find the project whose pipeline
outputs they read, load its composed params, and re-run the offer allocation of the
scored list under other budgets (a what-if that reuses :mod:`churnml.offers`).

Everything here reads the outputs of ``dvc repro``; nothing writes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from churnml import config, io
from churnml.errors import ConfigError
from churnml.stages.common import INTERIM_DIR, MODELS_DIR, SCORED_DIR

PROJECT_ENV = "CHURNML_PROJECT"
SCORED_FILE = SCORED_DIR / "scored_customers.parquet"


def project_root(start: Path | str | None = None, env_var: str = PROJECT_ENV) -> Path:
    """The churnml project to read: ``$CHURNML_PROJECT``, else ``start`` (default: the
    current folder) or its parent, whichever holds ``dvc.yaml``.

    Raises
    ------
    ConfigError
        When no candidate folder holds a ``dvc.yaml``.
    """
    if os.environ.get(env_var):
        candidates = [Path(os.environ[env_var])]
    else:
        here = Path(start) if start is not None else Path.cwd()
        candidates = [here, here.parent]
    for folder in candidates:
        if (folder / "dvc.yaml").is_file():
            return folder.resolve()
    raise ConfigError(f"no churnml project (dvc.yaml) in {[str(c) for c in candidates]}: "
                      f"set {env_var} to the project folder")


def load_params(root: Path) -> dict[str, Any]:
    """The composed ``params.yaml`` of the project at ``root``."""
    return config.load_params(Path(root) / config.PARAMS_FILE)


def read_scored(root: Path) -> pd.DataFrame:
    """The scored list written by the ``score`` stage (one row per customer)."""
    return io.read_parquet(Path(root) / SCORED_FILE)


def offer_inputs(root: Path, params: dict[str, Any],
                 scored: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The customers and predicted uplift the ``score`` stage allocated offers over.

    Rebuilt from the pipeline's outputs with the scoring job's own functions: segments
    of the scoring date (:func:`churnml.stages.score_enrich.segments_for`), features of
    that date (the ``features`` stage's code), then
    :func:`churnml.stages.score_enrich.offer_inputs` (uplift from ``models/uplift``,
    or None for the catalogue's priors, and each customer's likely cause).

    Parameters
    ----------
    scored
        The scored list: ``customer_id, as_of, status, p_attrition, value`` at least.
    """
    from churnml.stages import score_enrich
    from churnml.stages.features import compute

    root = Path(root)
    as_of = pd.Timestamp(scored["as_of"].iloc[0])
    segments = score_enrich.segments_for(root / INTERIM_DIR, as_of, params)
    base = scored.drop(columns=[c for c in segments.columns if c != "customer_id"],
                       errors="ignore")
    base = base.merge(segments, on="customer_id", how="left", validate="one_to_one")
    features = compute(root / INTERIM_DIR, [as_of], params["features"], params["engine"])
    return score_enrich.offer_inputs(base, features, root / MODELS_DIR, params["offers"],
                                     params["segments"]["causes"])


def scoring_offers_config(root: Path | str, params: dict[str, Any]) -> dict[str, Any]:
    """The ``offers`` section as the scoring job used it: the catalogue priors replaced
    by the response lines ``train_uplift`` fitted on the campaign history, if any
    (:func:`churnml.stages.score_enrich.offers_config`)."""
    from churnml.stages import score_enrich

    return score_enrich.offers_config(Path(root) / MODELS_DIR, params["offers"])


def offers_at_budgets(base: pd.DataFrame, uplift: pd.DataFrame | None,
                      offers_cfg: dict[str, Any], budgets: Iterable[float]) -> pd.DataFrame:
    """Re-allocate offers under each budget with the configured catalogue and solver.

    Parameters
    ----------
    base, uplift
        From :func:`offer_inputs` (``base`` carries the scoring date ``as_of``, which
        keys the holdout draw: ``offers.holdout_rotation``).
    offers_cfg
        The ``offers`` config section as scoring used it (:func:`scoring_offers_config`);
        only ``budget`` changes between runs.

    Returns
    -------
    DataFrame
        :func:`churnml.offers.choose_offers_from_config`'s columns plus ``budget``,
        one block of rows per budget.
    """
    from churnml.offers import choose_offers_from_config

    runs = [choose_offers_from_config(base, uplift, {**offers_cfg, "budget": float(b)})
            .assign(budget=float(b)) for b in budgets]
    return pd.concat(runs, ignore_index=True)


def budget_summary(allocations: pd.DataFrame) -> pd.DataFrame:
    """Per budget: offers sent (holdouts excluded), spend and expected net value.

    Parameters
    ----------
    allocations
        :func:`offers_at_budgets`' output: ``budget, offer_id, holdout, offer_cost,
        expected_net_value``.
    """
    chosen = allocations[allocations["offer_id"] != "none"]
    sent = chosen[~chosen["holdout"]]
    out = pd.DataFrame({
        "offers_chosen": chosen.groupby("budget").size(),
        "offers_sent": sent.groupby("budget").size(),
        "spend": sent.groupby("budget")["offer_cost"].sum(),
        "expected_net_value": sent.groupby("budget")["expected_net_value"].sum(),
    })
    budgets = pd.Index(sorted(allocations["budget"].unique()), name="budget")
    return out.reindex(budgets).fillna(0.0)
