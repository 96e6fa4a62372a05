"""features.base.exact_sum: float sums that do not depend on row order or threads."""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from churnml.features.base import exact_sum

AMOUNTS = st.floats(-1e9, 1e9, allow_nan=False).map(lambda x: round(x, 4))


def _sums(values: list[float], threads: int) -> tuple[float, float]:
    """(exact_sum, plain float sum) of ``values`` in one group, on DuckDB."""
    con = ibis.duckdb.connect(threads=threads)
    table = ibis.memtable(pd.DataFrame({"g": 1, "x": np.asarray(values, float)}))
    row = con.execute(table.aggregate(by="g", exact=exact_sum(table.x),
                                      half=exact_sum(table.x, table.x > 0)))
    return float(row["exact"].iloc[0]), float(row["half"].iloc[0])


@settings(max_examples=40, deadline=None)
@given(values=st.lists(AMOUNTS, min_size=1, max_size=30), seed=st.integers(0, 2**16))
def test_exact_sum_is_the_same_for_any_row_order(values, seed):
    shuffled = list(np.random.default_rng(seed).permutation(values))
    first, second = _sums(values, 1), _sums(shuffled, 1)
    np.testing.assert_array_equal(first, second)  # to the last bit (NaN: no row selected)
    assert math.isclose(first[0], math.fsum(values), rel_tol=1e-12, abs_tol=1e-6)
    positive = [v for v in values if v > 0]
    if positive:
        assert math.isclose(first[1], math.fsum(positive), rel_tol=1e-12, abs_tol=1e-6)
    else:
        assert math.isnan(first[1])  # a sum over no rows is null, as sum() gives


def test_exact_sum_is_the_same_on_every_parallel_run():
    """A float ``sum`` over many groups on two threads changes in the last bit between
    runs; ``exact_sum`` does not (it is exact, so the order of partial sums is moot)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"g": rng.integers(0, 1000, 2_000_000),
                          "x": rng.random(2_000_000) * 500})
    con = ibis.duckdb.connect(threads=2)
    table = ibis.memtable(frame)
    expr = table.aggregate(by="g", s=exact_sum(table.x)).order_by("g")
    runs = [con.execute(expr)["s"].to_numpy() for _ in range(4)]
    assert all(np.array_equal(runs[0], r) for r in runs[1:])
    np.testing.assert_allclose(runs[0], frame.groupby("g")["x"].sum().to_numpy(), rtol=1e-12)
