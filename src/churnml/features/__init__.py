"""Point-in-time features as Ibis expressions (DuckDB by default, Spark when configured)."""

from churnml.features.core import FEATURE_KEY, build_features, feature_columns
from churnml.features.engine import connect, load_tables

__all__ = ["FEATURE_KEY", "build_features", "connect", "feature_columns", "load_tables"]
