"""Point-in-time helpers shared by the segment rules: rows before a date, per-customer
windows, purchases vs returns.

Segments are computed in pandas, one snapshot at a time: the rules are per-customer
windows whose bounds differ by customer (e.g. "the 90 days around *their* last
purchase"), which are plain vectorised comparisons here, and the snapshot count is
small (monthly), so a loop over snapshots with vectorised work inside scales linearly
in rows. The heavy, fixed-window feature families stay in Ibis (``churnml.features``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS_PER_MONTH = 30.44


def encode_customer_ids(tables: dict[str, pd.DataFrame | None]
                        ) -> tuple[dict[str, pd.DataFrame | None], pd.Index]:
    """Tables with ``customer_id`` replaced by integer codes into the customers' ids.

    Grouping and matching on integers is many times faster than on strings at 10^6
    customers. Rows of customers absent from the customers table are dropped (ingest
    quarantines them anyway). Undo with :func:`decode_customer_ids`.
    """
    ids = pd.Index(tables["customers"]["customer_id"].astype("str").unique())
    coded: dict[str, pd.DataFrame | None] = {}
    for name, frame in tables.items():
        if frame is None or "customer_id" not in frame:
            coded[name] = frame
            continue
        codes = ids.get_indexer(frame["customer_id"].astype("str"))
        coded[name] = frame.assign(customer_id=codes).loc[codes >= 0]
    return coded, ids


def decode_customer_ids(frame: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """``frame`` with integer ``customer_id`` codes turned back into the ids."""
    return frame.assign(customer_id=ids.take(frame["customer_id"].to_numpy()))


def before(frame: pd.DataFrame | None, as_of: pd.Timestamp, column: str = "ts") -> pd.DataFrame:
    """Rows of ``frame`` dated strictly before ``as_of`` (an empty frame for ``None``)."""
    if frame is None:
        return pd.DataFrame({"customer_id": pd.Series(dtype="str"),
                             column: pd.Series(dtype="datetime64[us]")})
    return frame.loc[frame[column] < as_of]


def purchases(transactions: pd.DataFrame) -> pd.DataFrame:
    """Purchase lines: positive amounts that are not returns."""
    returned = _is_return(transactions)
    return transactions.loc[(transactions["amount"] >= 0) & ~returned]


def returns(transactions: pd.DataFrame) -> pd.DataFrame:
    """Returned lines: flagged returns or negative amounts."""
    return transactions.loc[_is_return(transactions) | (transactions["amount"] < 0)]


def _is_return(transactions: pd.DataFrame) -> pd.Series:
    if "is_return" not in transactions:
        return pd.Series(False, index=transactions.index)
    return transactions["is_return"].fillna(False).astype(bool)


def in_windows(rows: pd.DataFrame, start: pd.Series, end: pd.Series) -> pd.DataFrame:
    """Rows whose ``ts`` falls in their customer's window ``[start, end)``.

    Parameters
    ----------
    rows
        Needs ``customer_id, ts``.
    start, end
        Window bounds indexed by ``customer_id``; customers absent from the index
        keep no rows.
    """
    if start.empty or rows.empty:
        return rows.iloc[0:0]
    lo = rows["customer_id"].map(start)
    hi = rows["customer_id"].map(end)
    return rows.loc[(rows["ts"] >= lo) & (rows["ts"] < hi)]


def counts_by(rows: pd.DataFrame, column: str, index: pd.Index) -> pd.DataFrame:
    """Wide counts per customer (rows of ``index``) and value of ``column``; 0 if none."""
    if rows.empty:
        return pd.DataFrame(index=index)
    wide = rows.groupby(["customer_id", column]).size().unstack(fill_value=0)
    wide.columns = [str(c) for c in wide.columns]
    return wide.reindex(index, fill_value=0)


def per_customer(values: pd.Series, keys: pd.Series, index: pd.Index, how: str) -> pd.Series:
    """Aggregate ``values`` by customer ``keys`` with ``how`` (sum, size, max, min) on ``index``.

    A sum adds each customer's values in ascending order, so a float total does not
    change in its last bits when the input rows come in another order.
    """
    if how == "sum":
        order = np.lexsort((values.to_numpy(), keys.astype(str).to_numpy()))
        values, keys = values.iloc[order], keys.iloc[order]
    grouped = values.groupby(keys.to_numpy())
    out = grouped.size() if how == "size" else grouped.agg(how)
    fill = 0 if how in ("sum", "size") else None
    out = out.reindex(index)
    return out.fillna(fill) if fill is not None else out


def months_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """Months (of 30.44 days) from ``earlier`` to ``later``; negative spans become 0."""
    days = (later - earlier) / pd.Timedelta(days=1)
    return (days / DAYS_PER_MONTH).clip(lower=0.0)


def signal_score(counts: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """Weighted sum of the ``counts`` columns named in ``weights`` (absent columns are 0)."""
    score = pd.Series(0.0, index=counts.index)
    for name, weight in weights.items():
        if name in counts:
            score = score + float(weight) * counts[name].astype("float64")
    return score


def latest_on_or_before(values: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """``values`` clipped so that no date is after ``as_of`` (NaT stays NaT)."""
    return values.where(values.isna() | (values <= as_of), as_of)


def nan_to_zero(values: pd.Series) -> np.ndarray:
    """Float array with NaN as 0 (rule inputs never propagate missing values)."""
    return np.nan_to_num(values.to_numpy(dtype="float64"), nan=0.0)
