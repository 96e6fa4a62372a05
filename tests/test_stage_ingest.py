"""Stage ``ingest`` on tiny folders: what a run killed part-way leaves behind."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from churnml.stages import ingest

PARAMS = {"ingest": {"pii_columns": [], "quarantine_tolerance": 0.02, "default_timezone": "UTC",
                     "extra_event_types": [], "date_range": None},
          "data": {"mode": "events", "snapshot": None}}


def _raw(folder: Path, campaigns: bool) -> Path:
    folder.mkdir(parents=True)
    tables = {"customers": pd.DataFrame({"customer_id": ["a"], "signup_date": ["2023-01-01"]}),
              "transactions": pd.DataFrame({"customer_id": ["a"], "ts": ["2024-01-01"],
                                            "amount": ["5"]})}
    if campaigns:
        tables["campaigns"] = pd.DataFrame({"customer_id": ["a"], "ts": ["2024-01-02"],
                                            "offer_id": ["x"]})
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_a_run_killed_after_removing_stale_tables_leaves_no_manifest_claiming_them(
        tmp_path, monkeypatch):
    out = tmp_path / "out"
    ingest.run(_raw(tmp_path / "first", campaigns=True), out, PARAMS)
    assert (out / "campaigns.parquet").is_file()
    real = ingest._remove_stale

    def killed_after(out_dir, produced):
        real(out_dir, produced)
        raise KeyboardInterrupt("killed after removing stale tables")

    monkeypatch.setattr(ingest, "_remove_stale", killed_after)
    with pytest.raises(KeyboardInterrupt):
        ingest.run(_raw(tmp_path / "second", campaigns=False), out, PARAMS)
    assert not (out / "campaigns.parquet").exists()
    manifest = out / ingest.MANIFEST
    if manifest.exists():  # a manifest left behind must describe files that are there
        claimed = json.loads(manifest.read_text())["outputs"]
        assert [f for f in claimed if not (out / f).is_file()] == []
