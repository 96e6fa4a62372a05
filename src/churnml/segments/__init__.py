"""Customer understanding (DESIGN §2, §8): loyalty ladder, lifecycle stage, churn-cause
type and shared-cause risk, as pure functions over canonical tables (pandas, one
snapshot at a time; see :mod:`churnml.segments.common` for why pandas here).

Thresholds live in ``conf/segments/``; ``docs/segments.md`` explains the rules.
"""

from churnml.segments.build import segment_customers, segment_snapshot, segment_snapshot_table
from churnml.segments.causes import (
    cause_signals,
    lapsed_customers,
    snapshot_cause_signals,
    type_causes,
)
from churnml.segments.ladder import RUNGS, assign_rungs, ladder_inputs
from churnml.segments.lifecycle import STAGES, lifecycle_stage, purchase_history
from churnml.segments.report import agreement, plot_transition_matrix, transition_matrix
from churnml.segments.shared_cause import incident_exposure, outreach_list, shared_cause_exposure

__all__ = [
    "RUNGS", "STAGES", "agreement", "assign_rungs", "cause_signals", "incident_exposure",
    "ladder_inputs", "lapsed_customers", "lifecycle_stage", "outreach_list",
    "plot_transition_matrix", "purchase_history", "segment_customers", "segment_snapshot",
    "segment_snapshot_table", "shared_cause_exposure", "snapshot_cause_signals",
    "transition_matrix", "type_causes",
]
