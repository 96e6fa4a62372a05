# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Explore the scores
#
# The scored list of the last `dvc repro` (`data/scored/`), next to the evaluation
# reports (`reports/`): how risk is spread, how much a top-k campaign finds (lift and
# gain), whether the probabilities can be taken at face value (calibration), which
# offers go to which segments, one customer's reasons and offer, and what a smaller or
# larger budget would change.
#
# Run it from the project folder or `notebooks/`, or point `CHURNML_PROJECT` at a
# project whose pipeline has run.

# %%
import matplotlib.pyplot as plt
import pandas as pd

from churnml import io, plots
from churnml.notebook_helpers import (
    budget_summary,
    load_params,
    offer_inputs,
    offers_at_budgets,
    project_root,
    read_scored,
    scoring_offers_config,
)

ROOT = project_root()
params = load_params(ROOT)
scored = read_scored(ROOT)
manifest = io.read_json(ROOT / "data/scored/manifest.json")
print(f"project {ROOT}: {len(scored)} customers scored as of {scored['as_of'].iloc[0]:%Y-%m-%d}")
scored["status"].value_counts()

# %% [markdown]
# ## Risk distribution
#
# `p_attrition` for active customers, with the risk-band thresholds of
# `score.risk_bands`; `p_winback` for lapsed ones.

# %%
active = scored[scored["status"] == "active"]
lapsed = scored[scored["status"] == "lapsed"]
bands = params["score"]["risk_bands"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
ax1.hist(active["p_attrition"], bins=30, color="tab:red", alpha=0.8)
for name, threshold in bands.items():
    ax1.axvline(threshold, color="black", linestyle="--", linewidth=1)
    ax1.text(threshold, ax1.get_ylim()[1] * 0.9, f" {name}", fontsize=8)
ax1.set(title="Active customers", xlabel="P(attrition)", ylabel="customers")
ax2.hist(lapsed["p_winback"].dropna(), bins=30, color="tab:green", alpha=0.8)
ax2.set(title="Lapsed customers", xlabel="P(win-back)")
fig.tight_layout()

# %%
by_band = active.groupby("risk_band").agg(customers=("customer_id", "size"),
                                          mean_p=("p_attrition", "mean"),
                                          yearly_value=("value", "sum"))
by_band.assign(value_at_risk=by_band["mean_p"] * by_band["yearly_value"]).round(2)

# %% [markdown]
# ## Lift and gain (test snapshot)
#
# From `reports/plots/attrition_gain.csv`, written by `evaluate` for the model and
# the baselines: the share of all leavers found when targeting the top share of
# customers by score. The diagonal is random targeting.

# %%
gain = pd.read_csv(ROOT / "reports/plots/attrition_gain.csv")
plots.gain_figure(gain, "Attrition: cumulative gain")

# %%
gain.pivot(index="share_targeted", columns="model", values="lift").head(6).round(2)

# %% [markdown]
# ## Calibration
#
# Offers weigh probabilities by customer value, so a predicted 30 % should mean 30 %.
# Points on the diagonal are well calibrated; the ECE is the row-weighted mean gap.

# %%
metrics = io.read_json(ROOT / "reports/metrics.json")
calibration = pd.read_csv(ROOT / "reports/plots/attrition_calibration.csv")
model_metrics = metrics["attrition"]["model"]
print(f"ECE {model_metrics['ece']:.3f} "
      f"[{model_metrics.get('ece_lo', float('nan')):.3f}, "
      f"{model_metrics.get('ece_hi', float('nan')):.3f}]")
plots.calibration_figure(calibration, "Attrition: calibration")

# %% [markdown]
# ## Segment × offer
#
# Who gets which offer: loyalty rung and churn cause against the chosen offer.
# Terrorist and toxic customers never get offer spend.

# %%
def heatmap(table: pd.DataFrame, title: str) -> plt.Figure:
    """Counts as a heatmap with the numbers in the cells."""
    fig, ax = plt.subplots(figsize=(1.2 * table.shape[1] + 2, 0.45 * table.shape[0] + 1.5))
    ax.imshow(table.to_numpy(), cmap="Blues")
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=45, ha="right")
    ax.set_yticks(range(table.shape[0]), table.index)
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            ax.text(j, i, int(table.iat[i, j]), ha="center", va="center", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


rung_by_offer = pd.crosstab(scored["ladder_rung"], scored["offer_id"])
heatmap(rung_by_offer, "Loyalty rung × offer")

# %%
cause_by_offer = pd.crosstab(scored["churn_cause"].fillna("(active)"), scored["offer_id"])
heatmap(cause_by_offer, "Churn cause × offer")

# %% [markdown]
# ## One customer
#
# The customer with the highest expected net value from an offer: their scores,
# segment, the three reasons (plain sentences from the model's own feature
# contributions) and the offer.

# %%
with_offer = scored[scored["offer_id"] != "none"]
pick = (with_offer if len(with_offer) else scored).sort_values(
    "expected_net_value", ascending=False, kind="stable").iloc[0]
pick.to_frame("value")

# %%
for i in (1, 2, 3):
    if isinstance(pick.get(f"reason_{i}"), str):
        print(f"{i}. {pick[f'reason_{i}']}")
print(f"offer: {pick['offer_id']} (expected net value {pick['expected_net_value']:.2f},"
      f" holdout {pick['holdout']})")

# %% [markdown]
# ## What if the budget changed?
#
# The offers are re-allocated with `churnml.offers.choose_offers_from_config` on the
# same inputs the scoring job used (segments and uplift of the scoring date); only
# `offers.budget` changes. At the configured budget the allocation must be the
# scored list's. When the budget is not binding (every offer worth sending is sent),
# the smaller budgets show where the money goes first.

# %%
offers_cfg = scoring_offers_config(ROOT, params)  # priors fitted on the campaign history
budget = float(offers_cfg["budget"])
base, uplift = offer_inputs(ROOT, params, scored)
configured = offers_at_budgets(base, uplift, offers_cfg, [budget])
spent = budget_summary(configured)["spend"].iloc[0]
print(f"configured budget {budget:.0f}, spent {spent:.0f}")
budgets = sorted({budget, 2 * budget, *(round(min(spent, budget) * f) for f in (0.1, 0.25, 0.5))})
allocations = offers_at_budgets(base, uplift, offers_cfg, budgets)
same = allocations[allocations["budget"] == budget].set_index("customer_id")["offer_id"]
agreement = (same.reindex(scored["customer_id"]).to_numpy() == scored["offer_id"].to_numpy())
print(f"configured budget {budget:.0f}: {agreement.mean():.1%} of offers as in the scored list")
assert agreement.all(), "re-allocation at the configured budget differs from the scored list"
summary = budget_summary(allocations)
summary.round(1)

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(summary["spend"], summary["expected_net_value"], marker="o")
for b, row in summary.iterrows():
    ax.annotate(f"budget {b:.0f}", (row["spend"], row["expected_net_value"]), fontsize=8)
ax.set(xlabel="spend", ylabel="expected net value (sent offers)",
       title="Diminishing returns of the offer budget")
fig.tight_layout()

# %%
mix = allocations[allocations["offer_id"] != "none"]
pd.crosstab(mix["budget"], mix["offer_id"])
