"""Scored list, part two: segments, reason codes and offers (event-log mode).

Adds to the output of :func:`churnml.scoring.score_customers`: ``ladder_rung``,
``lifecycle_stage``, ``churn_cause`` and the shared-cause columns (from
:mod:`churnml.segments`), ``reason_1..3`` (from each model's own feature
contributions, :mod:`churnml.explain`; for the customers ``reasons.explain`` selects)
and ``offer_id, expected_net_value, holdout, offer_cost``
(from :mod:`churnml.offers`, with uplift models from ``models/uplift`` when trained,
else the catalogue's priors).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.extensions import take

from churnml import io
from churnml.errors import ConfigError
from churnml.explain import reason_codes
from churnml.labels import cancellation_event
from churnml.models import ChurnClassifier
from churnml.models.uplift import predict_uplift
from churnml.offers.allocation import choose_offers_from_config
from churnml.offers.catalogue import NONE
from churnml.offers.likely_cause import likely_cause
from churnml.offers.response_lines import with_fitted_priors
from churnml.segments import segment_snapshot
from churnml.stages.features import data_window
from churnml.stages.train_uplift import load_lines
from churnml.stages.train_uplift import load_model as load_uplift_model

log = logging.getLogger(__name__)
PARAMS = ["segments", "reasons", "offers"]
SEGMENT_TABLES = ("customers", "transactions", "events", "incidents")
SEGMENT_COLUMNS = ["ladder_rung", "lifecycle_stage", "churn_cause", "shared_cause_outreach",
                   "shared_cause_incident", "shared_cause_complaint_rate"]
# offer_cost feeds the summary's "budget used" tile (score.columns decides what is written)
OFFER_COLUMNS = ["offer_id", "expected_net_value", "holdout", "offer_cost"]


def segments_for(data_dir: Path, as_of: pd.Timestamp, params: dict[str, Any],
                 keep: Iterable[str] = ()) -> pd.DataFrame:
    """Segments of every customer as of ``as_of`` from the canonical tables.

    Parameters
    ----------
    keep
        Names of further columns to keep besides ``SEGMENT_COLUMNS`` (those of them the
        segments have): the features of the models, so that a model trained with any
        segment column (``model.segment_features``) finds it at scoring.

    Returns
    -------
    DataFrame
        ``customer_id``, the ``SEGMENT_COLUMNS`` present, then the ``keep`` columns.
    """
    tables = {name: io.read_parquet(data_dir / f"{name}.parquet") for name in SEGMENT_TABLES
              if (data_dir / f"{name}.parquet").is_file()}
    start = data_window(data_dir)[0]
    seg = segment_snapshot(tables, as_of, params["segments"], int(params["labels"]["lapse_days"]),
                           start, max_open_days=params["features"]["incidents"]["max_open_days"],
                           cancellation_event=cancellation_event(params["labels"]))
    listed = [c for c in SEGMENT_COLUMNS if c in seg.columns]
    extra = [c for c in dict.fromkeys(keep) if c in seg.columns and c not in
             {"customer_id", "as_of", *listed}]
    return seg[["customer_id", *listed, *extra]]


def reasons_for(scored: pd.DataFrame, features: pd.DataFrame, segments: pd.DataFrame,
                models: dict[str, ChurnClassifier], reasons_cfg: dict[str, Any]) -> pd.DataFrame:
    """``reason_1..k`` per customer from the model that scored them.

    Each model speaks through its own templates (``model: attrition`` or ``winback`` in
    ``reasons.templates``): the attrition model's risk reasons, the win-back model's
    reasons a lapsed customer may come back. Strengths (``reasons.strengths``) fill
    empty slots only for customers outside ``reasons.explain_risk_bands``, those on
    the list for an offer: for a customer in those bands a strength ("bought something
    28 days ago") would read as the reason for their risk.

    The columns are there even when no row of ``scored`` is explained (empty string
    columns), so the scored list keeps its schema from run to run.

    Parameters
    ----------
    scored
        ``customer_id, p_attrition, p_winback, risk_band`` per customer to explain.
    """
    by_id = features.set_index("customer_id")
    context = segments.set_index("customer_id")
    at_risk = scored["risk_band"].isin(reasons_cfg["explain_risk_bands"])
    strengths = bool(reasons_cfg.get("strengths", True))
    groups = [("attrition", scored["p_attrition"].notna() & at_risk, False),
              ("attrition", scored["p_attrition"].notna() & ~at_risk, strengths),
              ("winback", scored["p_winback"].notna(), False)]
    parts = []
    for kind, rows, with_strengths in groups:
        ids = scored.loc[rows, "customer_id"]
        if ids.empty or kind not in models:
            continue
        X = by_id.loc[ids, list(models[kind].feature_names_in_)]
        parts.append(reason_codes(models[kind], X, reasons_cfg["templates"],
                                  top_k=int(reasons_cfg["top_k"]),
                                  context=context.reindex(X.index),
                                  min_contribution=float(reasons_cfg["min_contribution"]),
                                  strengths=with_strengths, kind=kind))
    names = [f"reason_{k + 1}" for k in range(int(reasons_cfg["top_k"]))]
    none = pd.DataFrame({n: pd.array([], dtype="string") for n in names},
                        index=pd.Index([], name="customer_id"))
    reasons = pd.concat(parts) if parts else none  # no one to explain: same columns, empty
    return reasons.rename_axis("customer_id").reset_index()


def to_explain(scored: pd.DataFrame, reasons_cfg: dict[str, Any]) -> pd.Series:
    """Which rows of the scored list get reason codes (``reasons.explain``, at most
    ``reasons.max_customers`` of them when set: see :func:`first_to_explain`).

    Parameters
    ----------
    scored
        ``risk_band`` and ``offer_id`` per customer (``actionable`` reads them), and
        ``p_attrition`` when a cap applies.
    """
    scope = reasons_cfg["explain"]
    if scope == "all":
        chosen = pd.Series(True, index=scored.index)
    elif scope == "actionable":
        at_risk = scored["risk_band"].isin(list(reasons_cfg["explain_risk_bands"]))
        chosen = (at_risk | (scored["offer_id"] != NONE)).fillna(False).astype(bool)
    else:
        raise ConfigError(f"reasons.explain = {scope!r}; choose 'actionable' or 'all'")
    cap = reasons_cfg.get("max_customers")
    if cap is None or int(chosen.sum()) <= int(cap):
        return chosen
    kept = first_to_explain(scored.loc[chosen], int(cap))
    log.warning("reasons.max_customers = %d: %d customers selected by reasons.explain, "
                "%d of them left without reasons", int(cap), int(chosen.sum()),
                int(chosen.sum()) - int(cap))
    return pd.Series(scored.index.isin(kept), index=scored.index)


def first_to_explain(candidates: pd.DataFrame, cap: int) -> pd.Index:
    """The index of the ``cap`` candidates explained first: those offered something,
    then by falling ``p_attrition`` (missing last), ties in list order.

    Parameters
    ----------
    candidates
        ``offer_id`` and ``p_attrition`` (or neither column: list order).
    """
    if cap < 0:
        raise ConfigError(f"reasons.max_customers = {cap}; give a count >= 0 or null")
    n = len(candidates)
    offered = (candidates["offer_id"] != NONE).fillna(False).to_numpy(bool) \
        if "offer_id" in candidates else np.zeros(n, dtype=bool)
    risk = pd.to_numeric(candidates["p_attrition"], errors="coerce").to_numpy(float) \
        if "p_attrition" in candidates else np.zeros(n)
    order = np.lexsort((np.arange(n), np.nan_to_num(-risk, nan=np.inf), ~offered))
    return candidates.index[np.sort(order[:cap])]


def same_ids(ids: pd.Series, among: pd.Series) -> np.ndarray:
    """Which of ``ids`` are in ``among``, as text (Arrow's hash set: pandas' ``isin`` on
    Arrow-backed strings takes about 20 s for 10^6 ids)."""
    as_text = [pa.array(s.astype(str)).cast(pa.large_string()) for s in (ids, among)]
    return pc.is_in(as_text[0], value_set=as_text[1]).to_numpy(zero_copy_only=False)


def join_customers(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """``left.merge(right, on="customer_id", how="left", validate="one_to_one")`` by
    Arrow's hash lookup and a take per column (pandas' merge hashes Arrow-backed text
    slowly); the same frame, dtypes included (missing rows as merge fills them).

    Parameters
    ----------
    left, right
        Frames with ``customer_id``; no other column in both (else pandas merges).
    """
    if set(left.columns) & set(right.columns) != {"customer_id"}:
        return left.merge(right, on="customer_id", how="left", validate="one_to_one")
    ids = [pa.array(f["customer_id"].astype(str)).cast(pa.large_string()) for f in (left, right)]
    if _same_unique(*ids):  # the usual case: right lists left's customers in left's order
        at = np.arange(len(left), dtype=np.intp)
    else:
        for side, text in zip(("left", "right"), ids, strict=True):
            if pc.count_distinct(text, mode="all").as_py() != len(text):
                raise pd.errors.MergeError(f"Merge keys are not unique in {side} dataset; "
                                           "not a one-to-one merge")
        at = pc.fill_null(pc.index_in(ids[0], value_set=ids[1]), -1).to_numpy().astype(np.intp)
    out = left.reset_index(drop=True)
    extra = {c: take(right[c].array, at, allow_fill=True) for c in right.columns
             if c != "customer_id"}
    return pd.concat([out, pd.DataFrame(extra, index=out.index)], axis=1)


def _same_unique(left: pa.Array, right: pa.Array) -> bool:
    """Both hold the same ids in the same strictly increasing order (no hashing)."""
    if len(left) != len(right) or left.null_count or right.null_count:
        return False
    if len(left) > 1 and not pc.all(pc.greater(left[1:], left[:-1])).as_py():
        return False
    return bool(pc.all(pc.equal(left, right)).as_py()) if len(left) else True


def offer_inputs(scored: pd.DataFrame, features: pd.DataFrame, models_dir: Path,
                 offers_cfg: dict[str, Any], causes_cfg: dict[str, Any]
                 ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The customers and predicted uplift that :func:`offers_for` allocates over
    (also used by :mod:`churnml.notebook_helpers` to re-allocate under other budgets).

    ``causes_cfg`` (``segments.causes``) types each customer's likely cause from their
    recent signals, which the priors of active customers read. ``scored`` is the scored
    list with its ``as_of``, which keys the holdout draw (``offers.holdout_rotation``).
    """
    uplift_model = load_uplift_model(models_dir)
    ids = same_ids(features["customer_id"], scored["customer_id"])
    rows = features if ids.all() else features.loc[ids]
    uplift = predict_uplift(uplift_model, rows) if uplift_model else None
    causes = likely_cause(rows, causes_cfg, offers_cfg["likely_cause"])
    customers = join_customers(scored, causes)
    return customers, uplift


def offers_config(models_dir: Path, offers_cfg: dict[str, Any]) -> dict[str, Any]:
    """The ``offers`` section with the catalogue priors replaced by the response lines
    that ``train_uplift`` fitted on the campaign history (when it wrote any)."""
    return with_fitted_priors(offers_cfg, load_lines(models_dir))


def offers_for(scored: pd.DataFrame, features: pd.DataFrame, models_dir: Path,
               offers_cfg: dict[str, Any], causes_cfg: dict[str, Any]) -> pd.DataFrame:
    """The chosen offer per customer under the budget (``none`` for no offer)."""
    customers, uplift = offer_inputs(scored, features, models_dir, offers_cfg, causes_cfg)
    chosen = choose_offers_from_config(customers, uplift, offers_config(models_dir, offers_cfg))
    return chosen[["customer_id", *OFFER_COLUMNS]]


def enrich(scored: pd.DataFrame, features: pd.DataFrame, models: dict[str, ChurnClassifier],
           params: dict[str, Any], data_dir: Path, models_dir: Path,
           segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """The scored list with segments, reasons and offers, one row per customer.

    ``segments`` as :func:`segments_for` returns them (computed here when None).
    """
    if segments is None:
        segments = segments_for(data_dir, pd.Timestamp(scored["as_of"].iloc[0]), params)
    repeated = [c for c in segments.columns if c in scored.columns and c != "customer_id"]
    out = join_customers(scored.drop(columns=repeated), segments)
    offers = offers_for(out, features, models_dir, params["offers"], params["segments"]["causes"])
    out = join_customers(out, offers)
    log.info("offers: %s", out["offer_id"].value_counts().to_dict())
    explain = to_explain(out, params["reasons"])
    reasons = reasons_for(out[explain], features, segments, models, params["reasons"])
    out = join_customers(out, reasons)
    log.info("reasons for %d of %d customers (reasons.explain: %s)", int(explain.sum()),
             len(out), params["reasons"]["explain"])
    return out
