"""Stage ``train_uplift`` on hand-built folders: a campaign history, and none."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnml import io
from churnml.models.uplift import predict_uplift
from churnml.stages import train_uplift
from tests.offer_frames import offers_config

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
SENDS = ["2024-03-02", "2024-07-02"]


def _params(mode: str = "events") -> dict:
    cfg = offers_config()["uplift"] | {"min_arm_rows": 30}
    cfg["lightgbm"] = cfg["lightgbm"] | {"n_estimators": 30}
    lines = {"enabled": True, "prior_rows": 200, "min_control_rows": 30}
    return {"offers": {"uplift": cfg, "response_lines": lines},
            "labels": {"horizon_days": 60, "lapse_days": 90}, "features": {}, "engine": {},
            "data": {"mode": mode}}


def _world(folder, n: int = 1200, seed: int = 0) -> tuple:
    """Two randomised campaigns; ``double_points`` makes high spenders buy again."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i:04d}" for i in range(n)]
    spend = rng.gamma(2.0, 50.0, n)
    rows, buys = [], []
    for send in SENDS:
        arm = rng.choice(["control", "double_points", "price_match"], n)
        p = 0.3 + 0.4 * ((arm == "double_points") & (spend > 100))
        rows.append(pd.DataFrame({"customer_id": ids, "ts": pd.Timestamp(send),
                                  "offer_id": arm, "cost": 1.0}))
        bought = rng.random(n) < p
        buys.append(pd.DataFrame({"customer_id": np.array(ids)[bought],
                                  "ts": pd.Timestamp(send) + pd.Timedelta(days=10),
                                  "amount": 20.0}))
    interim = folder / "interim"
    io.write_parquet(pd.concat(rows, ignore_index=True), interim / "campaigns.parquet")
    io.write_parquet(pd.concat(buys, ignore_index=True), interim / "transactions.parquet")
    io.write_json({"data_start": "2023-01-01", "data_end": "2024-12-31",
                   "table_ends": {"transactions": "2024-12-31", "campaigns": "2024-12-31"}},
                  interim / "manifest.json")
    snaps = pd.DataFrame({"customer_id": np.tile(ids, 2),
                          "as_of": np.repeat(pd.to_datetime(["2024-03-01", "2024-07-01"]), n)
                          .astype("datetime64[us]"),
                          "spend_180d": np.tile(spend, 2), "noise": rng.random(2 * n)})
    features = folder / "features.parquet"
    io.write_parquet(snaps, features)
    return interim, features, snaps


def test_stage_trains_arms_and_writes_json(tmp_path):
    interim, features, snaps = _world(tmp_path)
    metrics = train_uplift.run(interim, features, tmp_path / "models", _params())
    assert set(metrics["learners"]) == {"double_points", "price_match"}
    assert (tmp_path / "models" / "uplift" / "metrics.json").is_file()
    model = train_uplift.load_model(tmp_path / "models")
    last = snaps.loc[snaps["as_of"] == snaps["as_of"].max()]
    pred = predict_uplift(model, last).pivot(index="customer_id", columns="offer_id",
                                             values="uplift").loc[last["customer_id"]]
    high = (last["spend_180d"] > 100).to_numpy()
    assert pred.loc[high, "double_points"].mean() > pred.loc[~high, "double_points"].mean() + 0.1
    # no attrition model in this folder: no response lines, the catalogue priors apply
    assert train_uplift.load_lines(tmp_path / "models") == {"skipped": "no attrition model",
                                                            "priors": {}}


@pytest.mark.parametrize("mode", ["events", "snapshot"])
def test_without_history_the_stage_leaves_an_empty_model(tmp_path, mode):
    interim = tmp_path / "interim"
    interim.mkdir()
    result = train_uplift.run(interim, tmp_path / "f.parquet", tmp_path / "models", _params(mode))
    assert "skipped" in result
    assert train_uplift.load_model(tmp_path / "models") is None
    assert train_uplift.load_lines(tmp_path / "models")["priors"] == {}


def test_a_header_only_campaigns_table_leaves_an_empty_model(tmp_path):
    interim, features, _snaps = _world(tmp_path, n=20)
    empty = pd.DataFrame({"customer_id": pd.Series([], dtype="str"),
                          "ts": pd.Series([], dtype="datetime64[us]"),
                          "offer_id": pd.Series([], dtype="str")})
    io.write_parquet(empty, interim / "campaigns.parquet")
    result = train_uplift.run(interim, features, tmp_path / "models", _params())
    assert result["skipped"] == "the campaigns table has no rows"
    assert train_uplift.load_model(tmp_path / "models") is None
