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
# # Model diagnostics
#
# Is the model worth more than the simple baselines, where is it weak, what does it
# rely on, and has the population moved since training? Reads `reports/metrics.json`
# and `reports/plots/` (written by `evaluate`), the models in `models/`, the features
# and labels in `data/features/` and the segments in `data/segments/`.
#
# Run it from the project folder or `notebooks/`, or point `CHURNML_PROJECT` at a
# project whose pipeline has run.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from churnml import drift, evaluate, io, plots
from churnml.models import ChurnClassifier
from churnml.notebook_helpers import load_params, project_root
from churnml.stages.common import FEATURES_FILE, LABELS_FILE, model_file
from churnml.stages.train import training_frame
from churnml.status import ACTIVE, customer_status

ROOT = project_root()
params = load_params(ROOT)
metrics = io.read_json(ROOT / "reports/metrics.json")
KIND = "attrition"
print(f"project {ROOT}; {KIND} test snapshot {metrics[KIND]['test_as_of']}")

# %% [markdown]
# ## Baselines vs the model
#
# Test-snapshot metrics with 95 % bootstrap intervals: `recency` (days since the last
# purchase), `rfm_logistic`, `bgnbd` (BG/NBD) and the calibrated LightGBM `model`.

# %%
SCORERS = [name for name in ("recency", "rfm_logistic", "bgnbd", "model") if name in metrics[KIND]]
COLUMNS = ["roc_auc", "pr_auc", "lift_10", "capture_10", "brier", "ece"]


def with_interval(m: dict, name: str) -> str:
    """``value [lo, hi]`` for one metric."""
    if f"{name}_lo" not in m:
        return f"{m[name]:.3f}"
    return f"{m[name]:.3f} [{m[f'{name}_lo']:.3f}, {m[f'{name}_hi']:.3f}]"


pd.DataFrame({name: {c: with_interval(metrics[KIND][name], c) for c in COLUMNS
                     if c in metrics[KIND][name]} for name in SCORERS}).transpose()

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for ax, metric in zip(axes, ("roc_auc", "pr_auc"), strict=True):
    values = np.array([metrics[KIND][s][metric] for s in SCORERS])
    lo = np.array([metrics[KIND][s].get(f"{metric}_lo", v) for s, v in zip(SCORERS, values,
                                                                           strict=True)])
    hi = np.array([metrics[KIND][s].get(f"{metric}_hi", v) for s, v in zip(SCORERS, values,
                                                                           strict=True)])
    ax.bar(SCORERS, values, yerr=[values - lo, hi - values], capsize=4,
           color=["grey"] * (len(SCORERS) - 1) + ["tab:blue"])
    ax.set(title=f"{KIND}: test {metric}", ylim=(0, 1))
fig.tight_layout()

# %%
plots.roc_figure(pd.read_csv(ROOT / f"reports/plots/{KIND}_roc.csv"), f"{KIND}: ROC")

# %% [markdown]
# ## Slices
#
# Per value of the `evaluate.slices` columns, from `metrics.json`; then per loyalty
# rung and lifecycle stage, recomputed here from the saved model on the same test
# rows with `churnml.evaluate.sliced_metrics`.

# %%
rows = [{"slice": column, "value": value, **entry}
        for column, values in metrics[KIND]["slices"].items() for value, entry in values.items()]
pd.DataFrame(rows).set_index(["slice", "value"]).round(3)

# %%
features = io.read_parquet(ROOT / FEATURES_FILE)
labels = io.read_parquet(ROOT / LABELS_FILE)
frame = training_frame(features, labels, KIND, params["model"]["split"],
                       params["labels"]["horizon_days"], params["data"])
test = frame[frame["role"] == "test"]
model = ChurnClassifier.from_dict(io.read_json(model_file(KIND, ROOT / "models")))
p_test = model.predict_proba(test)[:, 1]
segments = io.read_parquet(ROOT / "data/segments/segments.parquet")
segments = segments[["customer_id", "as_of", "ladder_rung", "lifecycle_stage"]]
test_segments = test[["customer_id", "as_of"]].merge(segments, on=["customer_id", "as_of"],
                                                     how="left", validate="one_to_one")
by_segment = evaluate.sliced_metrics(test["target"].to_numpy(), p_test,
                                     test_segments[["ladder_rung", "lifecycle_stage"]],
                                     int(params["evaluate"]["min_slice_rows"]))
segment_table = pd.DataFrame([{"slice": c, "value": v, **e} for c, vs in by_segment.items()
                              for v, e in vs.items()]).set_index(["slice", "value"])
segment_table.round(3)

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
rungs = segment_table.loc["ladder_rung"]
ax.bar(rungs.index, rungs["positive_rate"], color="lightgrey", label="leaver rate")
mean_p = pd.Series(p_test).groupby(test_segments["ladder_rung"].to_numpy()).mean()
ax.plot(mean_p.index, mean_p.to_numpy(), "o", color="tab:red", label="mean P(attrition)")
ax.set(title="Observed vs predicted by loyalty rung (test)", ylabel="rate")
ax.tick_params(axis="x", rotation=45)
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## What the model relies on
#
# Total LightGBM gain per feature (`reports/plots/<kind>_importance.csv`).

# %%
importance = pd.read_csv(ROOT / f"reports/plots/{KIND}_importance.csv")
plots.importance_figure(importance, f"{KIND}: importance (gain)")

# %% [markdown]
# ## Drift
#
# The training profile saved with the model (`models/<kind>/profile.json`) against
# the active customers of every snapshot, with the scoring job's thresholds
# (`score.drift`). Training snapshots should be quiet; the later ones show what the
# scoring job's drift check sees. Features that grow with the observed history
# (tenure, frequency, ...) drift by construction and are warn-only; so do incident and
# regional complaint-rate features, which swing with each incident.

# %%
profile = io.read_json(ROOT / "models" / KIND / drift.PROFILE_FILE)
thresholds = drift.Thresholds.from_config(params["score"]["drift"], KIND)
status = customer_status(features["recency_days"], features["tenure_days"],
                         int(params["labels"]["lapse_days"]))
active = features[(status == ACTIVE).to_numpy()]
reports = {as_of: drift.check_drift(profile, rows, thresholds)
           for as_of, rows in active.groupby("as_of")}
psi = pd.DataFrame({as_of: {f: e["psi"] for f, e in r.features.items()}
                    for as_of, r in reports.items()})
decisions = pd.Series({as_of: r.decision for as_of, r in reports.items()}, name="decision")
decisions.value_counts()

# %%
top = psi.max(axis=1).sort_values(ascending=False).head(12).index
fig, ax = plt.subplots(figsize=(10, 4.5))
cap = 2 * thresholds.psi_refuse  # the colour saturates here: the interesting range is 0-cap
image = ax.imshow(psi.loc[top].to_numpy(), aspect="auto", cmap="Reds", vmin=0, vmax=cap)
ax.set_yticks(range(len(top)), top)
ax.set_xticks(range(psi.shape[1]), [f"{d:%Y-%m}" for d in psi.columns], rotation=90)
ax.set_title(f"{KIND}: PSI against the training profile (top features)")
fig.colorbar(image, ax=ax, label=f"PSI (colour capped at {cap:.2f})")
fig.tight_layout()

# %%
scoring_drift = io.read_json(ROOT / "data/scored/manifest.json").get("drift", {})
pd.DataFrame({kind: {"rows": r.get("rows"), "decision": r.get("decision"),
                     "warned": ", ".join(r.get("warned", [])) or "-"}
              for kind, r in scoring_drift.items() if isinstance(r, dict)}).transpose()
