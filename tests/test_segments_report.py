"""Transition matrix, its plot, and agreement with a reference."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.figure import Figure

from churnml.segments.ladder import RUNGS
from churnml.segments.report import agreement, plot_transition_matrix, transition_matrix


@pytest.fixture
def rungs():
    dates = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])
    return pd.DataFrame({
        "customer_id": ["a"] * 3 + ["b"] * 3 + ["c"],
        "as_of": list(dates) * 2 + [dates[2]],
        "ladder_rung": ["customer", "client", "client", "prospect", "prospect", "customer",
                        "advocate"],
    })


def test_transition_matrix_counts_consecutive_moves(rungs):
    matrix = transition_matrix(rungs).set_index(["from_ladder_rung", "to_ladder_rung"])
    assert len(matrix) == len(RUNGS) ** 2
    assert matrix["customers"].sum() == 4  # c appears once: no move
    assert matrix.loc[("customer", "client"), "customers"] == 1
    assert matrix.loc[("prospect", "prospect"), "share"] == pytest.approx(0.5)
    assert matrix.loc[("terrorist", "terrorist"), "share"] == 0.0
    shares = matrix.groupby(level=0)["share"].sum()
    assert set(shares.round(9)) <= {0.0, 1.0}


def test_plot_is_a_figure(rungs):
    figure = plot_transition_matrix(transition_matrix(rungs))
    assert isinstance(figure, Figure)
    assert figure.axes[0].get_title() == "Loyalty ladder transitions"


def test_agreement_and_confusion():
    share, confusion = agreement(pd.Series(["burned", "lured", "unknown", None]),
                                 pd.Series(["burned", "price", "unknown", "lured"]))
    assert share == pytest.approx(2 / 3)
    assert confusion.loc["price", "lured"] == 1
