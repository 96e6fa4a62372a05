"""Has the population drifted away from the training data? Pure functions, no I/O.

At training time :func:`training_profile` summarises each model feature: quantile
bin edges and bin shares for numeric features, category shares for categorical
ones, and the share of missing values. At scoring time :func:`check_drift`
compares the rows about to be scored with that profile:

* **PSI** (population stability index) per feature, ``sum((a - e) * ln(a / e))``
  over the bins (missing values are a bin of their own; shares of zero are floored
  at ``SHARE_FLOOR``);
* **new-category share** per categorical feature: the share of rows whose value
  was never seen in training (the model treats those as missing). Such rows are
  left out of that feature's PSI, so the two measures do not count the same rows.

Each feature gets a status ``ok``, ``warn`` or ``refuse`` from the thresholds in
the ``score.drift`` config section; the run's decision is the worst status. A
feature that moves a lot from one training snapshot to the next anyway (incident
exposure, regional complaint rates) is held to its own past: it warns only beyond
that movement and refuses only beyond ``snapshot_margin`` times it.
"""

from churnml.drift.check import (
    STATUSES,
    DriftRefusedError,
    DriftReport,
    Thresholds,
    check_drift,
    gate,
)
from churnml.drift.profile import (
    PROFILE_BINS,
    PROFILE_FILE,
    feature_psi,
    numeric_edges,
    numeric_shares,
    psi,
    training_profile,
)

__all__ = ["PROFILE_BINS", "PROFILE_FILE", "STATUSES", "DriftRefusedError", "DriftReport",
           "Thresholds", "check_drift", "feature_psi", "gate", "numeric_edges",
           "numeric_shares", "psi", "training_profile"]
