"""Static attributes: the customer grid of a snapshot, with tenure and attributes.

Features
--------
tenure_days
    Days since signup.
<attribute>
    Each column of ``categorical_attributes`` (text, kept as categories by the
    model) and ``numeric_attributes`` (cast to float) found in the customers table;
    configured attributes the data lacks are skipped.

Only customers who signed up before the snapshot are in its grid. The grid also
carries ``_observed_days``, the days from ``max(signup_date, data_start)`` to the
snapshot (how much of the customer's history the data can show; the spend baseline
and trend of :mod:`churnml.features.purchases` use it), the region column as the
helper ``_home`` (for regional rates), and the
customers' ``_order`` (their rank by ``customer_id``) when the prepared customers
have it (see :func:`churnml.features.runner.iter_features`).

Required columns: customers ``key, customer_id, signup_date``.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from churnml.features.base import KEY, ORDER, days_between
from churnml.features.engine import timestamp


def observed_since(signup: ir.TimestampValue, data_start: pd.Timestamp | None
                   ) -> ir.TimestampValue:
    """``max(signup, data_start)``: since when the data can show a customer's behaviour.

    Parameters
    ----------
    signup
        The customers' ``signup_date``.
    data_start
        The first day of data (the ingest manifest's ``data_start``); None when the
        data covers every customer since signup.
    """
    if data_start is None:
        return signup
    return ibis.greatest(signup, timestamp(data_start))


def customer_grid(customers: ir.Table, as_of: ir.TimestampScalar, cfg: dict[str, Any],
                  data_start: pd.Timestamp | None = None) -> ir.Table:
    """``key, customer_id, as_of, tenure_days`` and the attributes, for customers before ``as_of``.

    Parameters
    ----------
    customers
        Keyed customers (:func:`churnml.features.inputs.keyed_customers`).
    cfg
        The ``features`` config section.
    data_start
        The first day of data (see :func:`observed_since`).
    """
    grid = customers.filter(customers.signup_date < as_of)
    categorical = [c for c in cfg.get("categorical_attributes", []) if c in grid.columns]
    numeric = {c: grid[c].cast("float64") for c in cfg.get("numeric_attributes", [])
               if c in grid.columns}
    region = cfg["incidents"].get("region_column")
    home = {"_home": grid[region]} if region and region in grid.columns else {}
    order = [ORDER] if ORDER in grid.columns else []
    return grid.select(KEY, "customer_id", *categorical, *order, as_of=as_of,
                       tenure_days=days_between(as_of, grid.signup_date), **numeric, **home,
                       _observed_days=days_between(as_of, observed_since(grid.signup_date,
                                                                         data_start)))
