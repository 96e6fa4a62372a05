"""Uplift training rows from campaign history: one row per offer sent (or withheld).

For each campaign record: the features as of the send day (only data before it), the
arm (``offer_id``, ``control`` for the randomised control group) and the outcome - a
purchase within ``horizon_days`` of the send (for an active customer: still buying; for
a lapsed one: came back). Records whose horizon runs past the end of the data are
dropped; the last send months are the validation campaigns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from churnml.features import FEATURE_KEY

log = logging.getLogger(__name__)
ComputeFeatures = Callable[[list[pd.Timestamp]], pd.DataFrame]
RECORD_COLUMNS = ["customer_id", "send_date", "treatment"]
ID_DTYPE = "str"  # customer ids in every frame joined here, so the merge keys agree


def _ids(ids: pd.Series) -> pd.api.extensions.ExtensionArray:
    """``ids`` as strings of one dtype, positionally (no index), however many rows.

    Going through ``to_numpy()`` instead gives an object array that pandas re-infers as
    ``str`` when it holds strings but leaves ``object`` when it is empty, and a merge
    refuses ``object`` against ``str`` keys (a header-only campaigns table).
    """
    return ids.astype(ID_DTYPE).array


def campaign_records(campaigns: pd.DataFrame) -> pd.DataFrame:
    """``customer_id, send_date`` (the send day), ``treatment``; one row per customer and
    day: the day's earliest send (of sends at the same instant, the lowest ``offer_id``),
    whatever the order of the rows.

    Parameters
    ----------
    campaigns
        The canonical ``campaigns`` table: ``customer_id, ts, offer_id``.
    """
    sent = pd.to_datetime(campaigns["ts"])
    out = pd.DataFrame({"customer_id": _ids(campaigns["customer_id"]),
                        "send_date": sent.dt.normalize().astype("datetime64[us]").to_numpy(),
                        "treatment": _ids(campaigns["offer_id"]),
                        "_sent": sent.to_numpy()})
    out = out.sort_values(["customer_id", "_sent", "treatment"], kind="stable")
    out = out.drop_duplicates(["customer_id", "send_date"], keep="first").drop(columns="_sent")
    return out.sort_values(["send_date", "customer_id"], kind="stable", ignore_index=True)


def campaign_outcomes(records: pd.DataFrame, transactions: pd.DataFrame, horizon_days: int,
                      start_days: int = 0) -> np.ndarray:
    """1 if the customer bought in ``[send + start_days, send + horizon_days)``, else 0.

    Parameters
    ----------
    records
        :func:`campaign_records`.
    transactions
        ``customer_id, ts, amount`` (+ ``is_return``); returns and refunds do not count.
    """
    tx = transactions
    bought = tx["amount"].to_numpy(float) > 0
    if "is_return" in tx:
        bought &= ~tx["is_return"].astype("boolean").fillna(False).to_numpy(bool)
    buys = pd.DataFrame({"customer_id": _ids(tx.loc[bought, "customer_id"]),
                         "ts": pd.to_datetime(tx.loc[bought, "ts"]).astype("datetime64[us]")
                         .to_numpy()})
    keyed = records[["customer_id", "send_date"]].reset_index(names="_row")
    keyed["customer_id"] = _ids(keyed["customer_id"])
    hits = keyed.merge(buys, on="customer_id", how="inner")
    start = hits["send_date"] + pd.Timedelta(days=int(start_days))
    end = hits["send_date"] + pd.Timedelta(days=int(horizon_days))
    rows = hits.loc[(hits["ts"] >= start) & (hits["ts"] < end), "_row"].unique()
    out = np.zeros(len(records), dtype=np.int8)
    out[rows] = 1
    return out


def features_at_send(records: pd.DataFrame, features: pd.DataFrame, max_staleness_days: int,
                     compute: ComputeFeatures | None = None) -> pd.DataFrame:
    """Each record joined to the customer's features as of its send day.

    A record takes the latest snapshot of ``features`` on or before its send day when
    that snapshot is at most ``max_staleness_days`` old; the others get features
    computed by ``compute(send_days)`` (dropped, with a log line, without it).

    Parameters
    ----------
    features
        ``customer_id, as_of`` and feature columns (snapshots).
    """
    snaps = features.assign(customer_id=_ids(features["customer_id"])).sort_values("as_of")
    snaps = snaps.rename(columns={"as_of": "snapshot"})
    snaps["snapshot"] = snaps["snapshot"].astype("datetime64[us]")
    left = records.assign(customer_id=_ids(records["customer_id"]))
    left = left.sort_values("send_date", kind="stable")
    joined = pd.merge_asof(left, snaps, left_on="send_date", right_on="snapshot",
                           by="customer_id", direction="backward")
    stale = joined["snapshot"].isna() | (
        joined["send_date"] - joined["snapshot"] > pd.Timedelta(days=int(max_staleness_days)))
    fresh = joined.loc[~stale].drop(columns="snapshot")
    if not stale.any():
        return fresh.reset_index(drop=True)
    days = sorted(joined.loc[stale, "send_date"].unique())
    if compute is None:
        log.warning("uplift: %d campaign records have no snapshot within %d days; dropped",
                    int(stale.sum()), max_staleness_days)
        return fresh.reset_index(drop=True)
    extra = compute([pd.Timestamp(d) for d in days]).rename(columns={"as_of": "send_date"})
    extra = extra.assign(customer_id=_ids(extra["customer_id"]),
                         send_date=extra["send_date"].astype("datetime64[us]"))
    computed = joined.loc[stale, list(records.columns)].merge(
        extra, on=["customer_id", "send_date"], how="inner")
    return pd.concat([fresh, computed], ignore_index=True)


def assign_roles(send_date: pd.Series, validation_campaigns: int) -> np.ndarray:
    """``validation`` for the last ``validation_campaigns`` send months, else ``train``."""
    month = send_date.dt.to_period("M")
    last = sorted(month.unique())[-int(validation_campaigns):] if validation_campaigns else []
    return np.where(month.isin(last), "validation", "train")


def uplift_training_frame(campaigns: pd.DataFrame, transactions: pd.DataFrame,
                          features: pd.DataFrame, data_end: pd.Timestamp, horizon_days: int,
                          cfg: dict[str, Any],
                          compute: ComputeFeatures | None = None) -> pd.DataFrame:
    """Rows for :func:`churnml.models.uplift_fit.fit_uplift`.

    Parameters
    ----------
    campaigns, transactions
        Canonical tables (see :func:`campaign_records`, :func:`campaign_outcomes`).
    features
        Feature snapshots (``customer_id, as_of`` + features).
    data_end
        End of the data: records whose horizon runs past it have no outcome yet.
    cfg
        ``offers.uplift``: ``max_feature_staleness_days, outcome_start_days,
        validation_campaigns``.

    Returns
    -------
    DataFrame
        ``customer_id, send_date, treatment``, the feature columns, ``outcome`` and
        ``role``, ordered by send day and customer.
    """
    records = campaign_records(campaigns)
    complete = records["send_date"] + pd.Timedelta(days=int(horizon_days)) <= pd.Timestamp(
        data_end)
    records = records.loc[complete].reset_index(drop=True)
    records["outcome"] = campaign_outcomes(records, transactions, horizon_days,
                                           int(cfg.get("outcome_start_days", 0)))
    frame = features_at_send(records, features, int(cfg["max_feature_staleness_days"]), compute)
    frame = frame.sort_values(["send_date", "customer_id"], kind="stable", ignore_index=True)
    frame["role"] = assign_roles(frame["send_date"], int(cfg["validation_campaigns"]))
    log.info("uplift: %d campaign records with outcomes (%d without a complete horizon), "
             "outcome rate %.3f", len(frame), int((~complete).sum()), frame["outcome"].mean())
    return frame


def uplift_feature_columns(frame: pd.DataFrame) -> list[str]:
    """The model inputs of an uplift training frame (features only)."""
    skip = {*FEATURE_KEY, *RECORD_COLUMNS, "outcome", "role"}
    return [c for c in frame.columns if c not in skip]
