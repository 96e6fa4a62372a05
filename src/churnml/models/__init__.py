"""Models: the calibrated LightGBM classifier, baselines, and the time split."""

from churnml.models.classifier import ChurnClassifier
from churnml.models.split import time_split

__all__ = ["ChurnClassifier", "time_split"]
