"""Reengagement offers (DESIGN §9): the catalogue, the budgeted choice of one offer (or
none) per customer by expected net value, holdouts, the policy report and the campaign
history a run feeds back. See docs/offers.md.

The scoring job calls :func:`choose_offers` (or :func:`choose_offers_from_config`) with
the scored list and :func:`churnml.models.uplift.predict_uplift`'s predictions.
"""

from churnml.offers.allocation import (
    Solver,
    choose_offers,
    choose_offers_from_config,
    holdout_draw,
    net_value,
    uplift_matrix,
)
from churnml.offers.catalogue import (
    NONE,
    Catalogue,
    Offer,
    eligibility,
    load_catalogue,
    prior_uplift,
)
from churnml.offers.policy import evaluate_policy, policy_report, ranked_policy, to_campaign_history

__all__ = [
    "NONE", "Catalogue", "Offer", "Solver", "choose_offers", "choose_offers_from_config",
    "eligibility", "evaluate_policy", "holdout_draw", "load_catalogue", "net_value",
    "policy_report", "prior_uplift", "ranked_policy", "to_campaign_history", "uplift_matrix",
]
