"""Summaries of segments for reports: the ladder transition matrix (table and plot) and
agreement of an assignment with a reference (confusion matrix), e.g. typed causes vs
the synthetic world's truth or Telco's Churn Category.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from churnml.segments.ladder import RUNGS


def transition_matrix(segments: pd.DataFrame, column: str = "ladder_rung",
                      levels: tuple[str, ...] = RUNGS) -> pd.DataFrame:
    """Moves between consecutive snapshots, as a long table.

    Parameters
    ----------
    segments
        ``customer_id, as_of`` and ``column`` (one row per customer and snapshot).

    Returns
    -------
    DataFrame
        ``from_<column>, to_<column>, customers, share`` for every pair of ``levels``
        (``share`` is of the customers who started in ``from``; 0 when none did), over
        all pairs of consecutive snapshots a customer appears in.
    """
    frame = segments[["customer_id", "as_of", column]].sort_values(["customer_id", "as_of"])
    nxt = frame.groupby("customer_id")[column].shift(-1)
    moves = pd.DataFrame({"src": frame[column].astype("string"),
                          "dst": nxt.astype("string")}).dropna()
    counts = pd.crosstab(moves["src"], moves["dst"]).reindex(
        index=list(levels), columns=list(levels), fill_value=0)
    shares = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    long = counts.stack().rename("customers").to_frame()
    long["share"] = shares.stack()
    long.index.names = [f"from_{column}", f"to_{column}"]
    return long.reset_index().astype({"customers": "int64"})


def plot_transition_matrix(matrix: pd.DataFrame, title: str = "Loyalty ladder transitions"
                           ) -> Figure:
    """A heatmap of :func:`transition_matrix` shares, with the counts in the cells."""
    src, dst = matrix.columns[0], matrix.columns[1]
    share = matrix.pivot(index=src, columns=dst, values="share")
    count = matrix.pivot(index=src, columns=dst, values="customers")
    order = list(dict.fromkeys(matrix[src]))
    share, count = share.loc[order, order], count.loc[order, order]
    fig = Figure(figsize=(7.5, 6.0))
    ax = fig.subplots()
    image = ax.imshow(share.to_numpy(), cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(order)), order, rotation=45, ha="right")
    ax.set_yticks(range(len(order)), order)
    ax.set_xlabel("rung at the next snapshot")
    ax.set_ylabel("rung at a snapshot")
    for i in range(len(order)):
        for j in range(len(order)):
            value = share.iat[i, j]
            ax.text(j, i, f"{value:.0%}\n{count.iat[i, j]}", ha="center", va="center",
                    fontsize=7, color="white" if value > 0.6 else "black")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="share of the row")
    fig.tight_layout()
    return fig


def agreement(assigned: pd.Series, reference: pd.Series) -> tuple[float, pd.DataFrame]:
    """Share of rows where ``assigned`` equals ``reference``, and the confusion matrix
    (rows: reference, columns: assigned), over rows where both are known."""
    both = pd.DataFrame({"reference": reference.astype("string"),
                         "assigned": assigned.astype("string")}).dropna()
    if both.empty:
        return float("nan"), pd.DataFrame()
    share = float((both["reference"] == both["assigned"]).mean())
    return share, pd.crosstab(both["reference"], both["assigned"])
