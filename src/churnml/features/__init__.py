"""Point-in-time features as Ibis expressions (DuckDB by default, Spark when configured).

One module per family (DESIGN §6): ``purchases`` (RFM, spend dynamics), ``cadence``
(inter-purchase gaps, overdue), ``signals`` (competitor switch), ``experience``
(complaints, support, returns, surveys), ``incidents`` (shared-cause exposure),
``attributes`` (static attributes); ``core`` assembles them per snapshot, ``inputs``
prepares what every snapshot shares, ``runner`` executes a calendar, ``engine`` talks
to the backend and ``hooks`` runs pandas post-steps such as BG/NBD. See docs/features.md.
"""

from churnml.features.core import (
    CORE_FAMILIES,
    FEATURE_KEY,
    build_features,
    feature_columns,
    snapshot_features,
)
from churnml.features.engine import connect, load_tables
from churnml.features.runner import compute_features, iter_features

__all__ = ["CORE_FAMILIES", "FEATURE_KEY", "build_features", "compute_features", "connect",
           "feature_columns", "iter_features", "load_tables", "snapshot_features"]
