"""Tiny hand-built scored lists, uplift tables and catalogues for the offer tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from tests.conftest import ROOT

RUNGS = ["terrorist", "toxic", "prospect", "customer", "client", "supporter", "advocate"]
CAUSES = ["burned", "lured", "price", "involuntary", "unknown"]
STAGES = ["exposure", "adoption", "retention"]


def offers_config() -> dict:
    """The default ``offers`` config section (conf/offers/default.yaml)."""
    return yaml.safe_load((ROOT / "conf" / "offers" / "default.yaml").read_text())


def scored_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` customers of every rung, status, stage and cause, with values and risks."""
    rng = np.random.default_rng(seed)
    status = rng.choice(["active", "lapsed"], n)
    return pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(n)],
        "status": status,
        "p_attrition": np.where(status == "active", rng.random(n), np.nan),
        "p_winback": np.where(status == "lapsed", rng.random(n), np.nan),
        "value": rng.gamma(2.0, 400.0, n).round(2),
        "ladder_rung": rng.choice(RUNGS, n),
        "lifecycle_stage": rng.choice(STAGES, n),
        "churn_cause": np.where(status == "lapsed", rng.choice(CAUSES, n), None),
        "shared_cause_flag": rng.random(n) < 0.2,
    })


def uplift_frame(scored: pd.DataFrame, offers: list[str], seed: int = 0,
                 high: float = 0.6) -> pd.DataFrame:
    """Random predicted uplift (long format) for every customer and offer."""
    rng = np.random.default_rng(seed)
    ids = scored["customer_id"].to_numpy()
    return pd.DataFrame({"customer_id": np.repeat(ids, len(offers)),
                         "offer_id": np.tile(offers, len(ids)),
                         "uplift": rng.uniform(-0.05, high, len(ids) * len(offers))})
