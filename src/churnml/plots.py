"""Matplotlib figures for evaluation reports (pure: returns figures, writes nothing)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

# Figures are built with the object API (no pyplot state, no GUI backend): they are
# only ever saved to files.

FIGSIZE = (5.0, 4.0)
TOP_FEATURES = 15


def roc_figure(roc: pd.DataFrame, title: str) -> Figure:
    """ROC curves, one line per ``model`` (columns ``model, fpr, tpr``)."""
    fig = Figure(figsize=FIGSIZE)
    ax = fig.subplots()
    for name, curve in roc.groupby("model", sort=False):
        ax.plot(curve["fpr"], curve["tpr"], label=name)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    ax.legend(loc="lower right")
    fig.set_layout_engine("tight")
    return fig


def gain_figure(gain: pd.DataFrame, title: str) -> Figure:
    """Cumulative gain curves (columns ``model, share_targeted, capture``)."""
    fig = Figure(figsize=FIGSIZE)
    ax = fig.subplots()
    for name, curve in gain.groupby("model", sort=False):
        ax.plot(curve["share_targeted"], curve["capture"], marker=".", label=name)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set(xlabel="share of customers targeted", ylabel="share of positives captured",
           title=title)
    ax.legend(loc="lower right")
    fig.set_layout_engine("tight")
    return fig


def calibration_figure(table: pd.DataFrame, title: str) -> Figure:
    """Observed rate vs mean prediction per bin (columns ``predicted, observed, n``)."""
    fig = Figure(figsize=FIGSIZE)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.scatter(table["predicted"], table["observed"], s=10 + 200 * table["n"] / table["n"].max())
    ax.set(xlabel="mean predicted probability", ylabel="observed rate", title=title,
           xlim=(0, 1), ylim=(0, 1))
    fig.set_layout_engine("tight")
    return fig


def importance_figure(importance: pd.DataFrame, title: str) -> Figure:
    """Horizontal bars of the top features by gain (columns ``feature, gain``)."""
    top = importance.nlargest(TOP_FEATURES, "gain").iloc[::-1]
    fig = Figure(figsize=(FIGSIZE[0] + 1, FIGSIZE[1] + 1))
    ax = fig.subplots()
    ax.barh(top["feature"], top["gain"])
    ax.set(xlabel="total gain", title=title)
    fig.set_layout_engine("tight")
    return fig


FIGURES = {"roc": roc_figure, "gain": gain_figure, "calibration": calibration_figure,
           "importance": importance_figure}
