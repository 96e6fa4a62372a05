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
# # Customer journeys
#
# How customers move up and down the loyalty ladder, how the burned and the lured
# leave (and whether they come back), and what one incident does to everyone it
# touched. Reads the segments of every snapshot (`data/segments/`), the canonical
# tables (`data/interim/`) and the labels (`data/features/labels.parquet`).
#
# Run it from the project folder or `notebooks/`, or point `CHURNML_PROJECT` at a
# project whose pipeline has run.

# %%
import matplotlib.pyplot as plt
import pandas as pd

from churnml import io
from churnml.notebook_helpers import load_params, project_root
from churnml.segments import RUNGS, agreement, plot_transition_matrix, transition_matrix
from churnml.stages.common import INTERIM_DIR, LABELS_FILE

ROOT = project_root()
params = load_params(ROOT)
segments = io.read_parquet(ROOT / "data/segments/segments.parquet")
labels = io.read_parquet(ROOT / LABELS_FILE)
transactions = io.read_parquet(ROOT / INTERIM_DIR / "transactions.parquet")
print(f"project {ROOT}: {segments['customer_id'].nunique()} customers over "
      f"{segments['as_of'].nunique()} snapshots")

# %% [markdown]
# ## The loyalty ladder over time
#
# Share of customers on each rung at each snapshot, then the moves between
# consecutive snapshots (`churnml.segments.transition_matrix`). The diagonal is
# staying put; below it, moving down.

# %%
shares = pd.crosstab(segments["as_of"], segments["ladder_rung"], normalize="index")
shares = shares[[r for r in RUNGS if r in shares.columns]]
fig, ax = plt.subplots(figsize=(9, 3.5))
ax.stackplot(shares.index, shares.T.to_numpy(), labels=shares.columns, alpha=0.85)
ax.set(title="Loyalty ladder: share of customers per rung", ylabel="share", ylim=(0, 1))
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize=8)
fig.tight_layout()

# %%
moves = transition_matrix(segments)
plot_transition_matrix(moves)

# %%
down = moves[moves["from_ladder_rung"] != moves["to_ladder_rung"]]
down.sort_values("customers", ascending=False).head(8)

# %% [markdown]
# ## Burned vs lured
#
# A lapsed customer's churn cause is typed from the evidence before the lapse:
# complaints, incidents and failed deliveries (**burned**) or competitor inquiries,
# port-out requests and price comparisons (**lured**). Each cohort starts at the
# first snapshot where a customer carries that cause.

# %%
COHORTS = ("burned", "lured")
typed = segments[segments["churn_cause"].isin(COHORTS)].sort_values("as_of", kind="stable")
first = typed.groupby("customer_id", as_index=False).first()
first["churn_cause"].value_counts()

# %%
evidence = [c for c in segments.columns if c.startswith("evidence_")]
(first.groupby("churn_cause")[evidence].mean().transpose()
 .rename(index=lambda c: c.removeprefix("evidence_")).round(2))

# %% [markdown]
# Monthly spend around the first typed snapshot (month 0), averaged per cohort. A
# cause is typed once a customer has lapsed (no purchase for `labels.lapse_days`), so
# the months just before month 0 are empty; compare how each cohort's spend ran down
# before that, and whether any of it returns afterwards.

# %%
bought = transactions[~transactions["is_return"].fillna(False).astype(bool)]
bought = bought.merge(first[["customer_id", "as_of", "churn_cause"]], on="customer_id")
offset = ((bought["ts"].dt.year - bought["as_of"].dt.year) * 12
          + bought["ts"].dt.month - bought["as_of"].dt.month)
bought = bought.assign(month=offset)[offset.between(-12, 3)]
per_customer = bought.groupby(["churn_cause", "customer_id", "month"])["amount"].sum()
grid = per_customer.unstack("month", fill_value=0.0).reindex(columns=range(-12, 4), fill_value=0.0)
trajectory = grid.groupby(level="churn_cause").mean()
fig, ax = plt.subplots(figsize=(7, 3.5))
for cause, row in trajectory.iterrows():
    ax.plot(row.index, row.to_numpy(), marker="o", label=f"{cause} (n={len(grid.loc[cause])})")
ax.axvline(0, color="black", linestyle="--", linewidth=1)
ax.set(title="Spend before and after the cause is typed", xlabel="months from first typed "
       "snapshot", ylabel="mean monthly spend")
ax.legend()
fig.tight_layout()

# %% [markdown]
# Where they stood on the ladder six months earlier, and how many came back within
# the label horizon (the win-back label at that snapshot, where it is known).

# %%
earlier = first[["customer_id", "as_of", "churn_cause"]].assign(
    as_of=lambda d: d["as_of"] - pd.DateOffset(months=6))
before = earlier.merge(segments[["customer_id", "as_of", "ladder_rung"]],
                       on=["customer_id", "as_of"], how="left")
pd.crosstab(before["churn_cause"], before["ladder_rung"].fillna("(not yet a customer)"))

# %%
came_back = first.merge(labels[["customer_id", "as_of", "winback"]],
                        on=["customer_id", "as_of"], how="left")
came_back.groupby("churn_cause")["winback"].agg(["count", "mean"]).rename(
    columns={"count": "labelled", "mean": "win_back_rate"}).round(3)

# %% [markdown]
# On the synthetic world the true exit cause is known (`truth/`, read here for
# evaluation only): how often does the typed cause at the last snapshot match the
# customer's last true exit? `natural` exits leave no evidence and are expected as
# `unknown`. (`benchmarks/segments_agreement.py` measures this per exit episode on
# the default world; see docs/segments.md.)

# %%
truth_file = ROOT / params["data"]["raw_dir"] / "truth" / "exits.parquet"
if truth_file.is_file():
    last = segments[segments["as_of"] == segments["as_of"].max()]
    exits = io.read_parquet(truth_file).drop_duplicates("customer_id", keep="last")
    joined = last.merge(exits[["customer_id", "exit_cause"]], on="customer_id")
    expected = joined["exit_cause"].replace({"natural": "unknown"})
    share, confusion = agreement(joined["churn_cause"], expected)
    print(f"typed cause = true exit cause for {share:.0%} of lapsed customers with both")
else:
    print("no ground truth for this data set")
    confusion = pd.DataFrame()
confusion.astype("int64")

# %% [markdown]
# ## One complaint signals many
#
# For each incident, the customers exposed to it at each snapshot (`shared_cause_*`
# columns of the segments), whether they complained, and their attrition label. If
# the silent exposed customers leave more often than the unexposed (on the default
# world 11.0 % vs 5.6 %, docs/segments.md), reaching them before they complain pays:
# that is the outreach list.

# %%
incidents = io.read_parquet(ROOT / INTERIM_DIR / "incidents.parquet")
incidents[["incident_id", "start", "end", "scope", "scope_value", "severity"]]

# %%
exposed = segments[segments["shared_cause_exposed"].astype(bool)]
per_incident = exposed.groupby("shared_cause_incident").agg(
    exposed_rows=("customer_id", "size"), customers=("customer_id", "nunique"),
    complained=("shared_cause_complained", "mean"),
    outreach=("shared_cause_outreach", "sum"))
per_incident.round(3)

# %%
active = labels[labels["status"] == "active"].merge(
    segments[["customer_id", "as_of", "shared_cause_exposed", "shared_cause_complained"]],
    on=["customer_id", "as_of"], how="left")
group = pd.Series("not exposed", index=active.index)
group[active["shared_cause_exposed"].fillna(False).astype(bool)] = "exposed, silent"
group[active["shared_cause_complained"].fillna(False).astype(bool)] = "exposed, complained"
rates = active.groupby(group)["attrition"].agg(["count", "mean"]).rename(
    columns={"count": "customer_snapshots", "mean": "attrition_rate"})
fig, ax = plt.subplots(figsize=(5.5, 3.2))
ax.bar(rates.index, rates["attrition_rate"], color=["tab:orange", "tab:red", "grey"][:len(rates)])
ax.set(title="Attrition within the horizon, active customers", ylabel="rate")
fig.tight_layout()
rates.round(3)

# %%
outreach = io.read_parquet(ROOT / "data/segments/outreach.parquet")
print(f"outreach list at the last snapshot: {len(outreach)} customers")
outreach.groupby("shared_cause_incident").size().rename("customers").to_frame()
