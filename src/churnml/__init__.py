"""churnml: reproducible churn prediction, win-back and reengagement offers."""

__version__ = "0.1.0"
