"""The ``segments`` stage on a tiny canonical folder: outputs, snapshot mode, the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from churnml import io
from churnml.cli import build_parser
from churnml.stages import segments as stage
from tests.segment_frames import (
    customers,
    default_cfg,
    events,
    incidents,
    monthly_purchases,
    transactions,
)

PARAMS = {"features": {"snapshots": {"freq": "MS", "min_history_days": 60},
                       "incidents": {"max_open_days": 90}},
          "labels": {"lapse_days": 60}}


def _folder(tmp_path, tables: dict[str, pd.DataFrame], end: str = "2024-07-01"):
    for name, frame in tables.items():
        io.write_parquet(frame, tmp_path / f"{name}.parquet")
    io.write_json({"data_start": "2024-01-01T00:00:00", "data_end": f"{end}T00:00:00",
                   "table_ends": {"transactions": f"{end}T00:00:00"}},
                  tmp_path / "manifest.json")
    return tmp_path


@pytest.fixture
def interim(tmp_path):
    ids = ["a", "b", "c", "d"]
    cust = customers(*ids, signup="2024-01-01", region=["north", "north", "north", "south"])
    tx = transactions(monthly_purchases("a", "2024-01-01", 6, per_month=3)
                      + monthly_purchases("b", "2024-01-01", 2)
                      + monthly_purchases("c", "2024-01-01", 6)
                      + monthly_purchases("d", "2024-01-01", 6))
    ev = events([("b", "2024-02-10", "port_out_request"), ("c", "2024-03-10", "complaint")],
                incident_id=[None, "INC1"])
    inc = incidents([("INC1", "2024-03-01", "2024-03-05", "region")])
    return _folder(tmp_path / "interim", {"customers": cust, "transactions": tx, "events": ev,
                                          "incidents": inc})


def test_stage_writes_segments_outreach_and_reports(interim, tmp_path):
    cfg = default_cfg()
    cfg["shared_cause"]["min_complainers"] = 1
    out, reports = tmp_path / "segments", tmp_path / "reports"
    result = stage.run(interim, out, reports, {"segments": cfg, **PARAMS})
    written = pd.read_parquet(out / "segments.parquet")
    assert len(written) == len(result) and written["as_of"].nunique() == 5  # Mar .. Jul (the end)
    last = written.loc[written["as_of"] == written["as_of"].max()].set_index("customer_id")
    assert last.loc["b", "churn_cause"] == "lured"
    assert pd.isna(last.loc["a", "churn_cause"])
    assert (reports / "transition_matrix.csv").is_file()
    assert (reports / "transition_matrix.png").stat().st_size > 1000
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["customers"] == 4 and summary["churn_cause"] == {"lured": 1}
    assert set(pd.read_parquet(out / "outreach.parquet")["customer_id"]) <= {"a", "b"}


def test_rerunning_gives_identical_outputs(interim, tmp_path):
    params = {"segments": default_cfg(), **PARAMS}
    stage.run(interim, tmp_path / "one", tmp_path / "r1", params)
    stage.run(interim, tmp_path / "two", tmp_path / "r2", params)
    for name in ("one/segments.parquet", "r1/transition_matrix.csv", "r1/transition_matrix.png"):
        other = name.replace("one", "two").replace("r1", "r2")
        assert (tmp_path / name).read_bytes() == (tmp_path / other).read_bytes()


def test_snapshot_mode_types_causes_from_attributes(tmp_path):
    cust = customers("x", "y", churned=[True, False], total_refunds=[20.0, 0.0])
    folder = _folder(tmp_path / "snap", {"customers": cust}, end="2022-10-01")
    result = stage.run(folder, tmp_path / "out", tmp_path / "rep",
                       {"segments": default_cfg(), **PARAMS})
    cause = result.set_index("customer_id")["churn_cause"]
    assert cause["x"] == "burned" and pd.isna(cause["y"])  # y stayed: no cause
    assert (tmp_path / "rep" / "summary.json").is_file()
    # dvc.yaml declares the transition matrix: snapshot mode writes it too (no moves seen)
    matrix = pd.read_csv(tmp_path / "rep" / "transition_matrix.csv")
    assert matrix["customers"].sum() == 0
    assert (tmp_path / "rep" / "transition_matrix.png").is_file()


def test_cli_knows_the_stage():
    args = build_parser().parse_args(["segments"])
    assert args.func.__name__ == "cmd_segments"


def test_stage_passes_features_incidents_max_open_days_to_the_shared_cause(tmp_path):
    # the segments end an end-less incident where the features do
    cust = customers("a", "b", signup="2024-01-01", region=["north", "north"])
    tx = transactions(monthly_purchases("a", "2024-01-01", 6)
                      + monthly_purchases("b", "2024-01-01", 6))
    ev = events([("a", "2024-03-03", "complaint")], incident_id=["INC1"])
    inc = incidents([("INC1", "2024-03-01", None, "region")])
    folder = _folder(tmp_path / "interim", {"customers": cust, "transactions": tx, "events": ev,
                                            "incidents": inc})
    cfg = default_cfg()
    cfg["shared_cause"].update(min_complainers=1, at_risk_days=30)

    def exposed_at_the_end(max_open_days: int | None) -> bool:
        params = {"segments": cfg, **PARAMS,
                  "features": {**PARAMS["features"], "incidents": {"max_open_days": max_open_days}}}
        out = stage.run(folder, tmp_path / f"out{max_open_days}", tmp_path / "r", params)
        return bool(out.loc[out["as_of"] == out["as_of"].max(), "shared_cause_exposed"].any())

    assert not exposed_at_the_end(5)  # over on Mar 6, at risk until Apr 5
    assert exposed_at_the_end(None)  # open until an end is recorded
