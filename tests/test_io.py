"""Atomic writes, byte-stable output, CSV injection, manifests."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from churnml import io


def test_parquet_write_is_byte_stable(tmp_path):
    frame = pd.DataFrame({"customer_id": ["a", "b"], "p": [0.1, 0.2]})
    first = io.sha256_file(io.write_parquet(frame, tmp_path / "x.parquet"))
    second = io.sha256_file(io.write_parquet(frame, tmp_path / "x.parquet"))
    assert first == second
    pd.testing.assert_frame_equal(io.read_parquet(tmp_path / "x.parquet"), frame)


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.json"
    io.write_json({"v": 1}, target)
    with pytest.raises(TypeError), io.atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise TypeError("crash mid-write")
    assert io.read_json(target) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_follow_the_umask_like_any_other_file(tmp_path, umask):
    previous = os.umask(umask)
    try:
        written = [io.write_parquet(pd.DataFrame({"a": [1]}), tmp_path / "x.parquet"),
                   io.write_json({"a": 1}, tmp_path / "x.json")]
        plain = tmp_path / "plain"
        plain.touch()
    finally:
        os.umask(previous)
    expected = plain.stat().st_mode & 0o777
    assert expected == 0o666 & ~umask
    assert [p.stat().st_mode & 0o777 for p in written] == [expected, expected]


def test_csv_cells_that_look_like_formulas_are_neutralised(tmp_path):
    frame = pd.DataFrame({"note": ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "plain"],
                          "value": [1.0, -2.0, 3.0, 4.0, 5.0]})
    back = pd.read_csv(io.write_csv(frame, tmp_path / "x.csv"))
    assert back["note"].tolist() == ["'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "plain"]
    assert back["value"].tolist() == frame["value"].tolist()  # numbers are left alone


def test_manifest_lists_hashes_of_outputs(tmp_path):
    out = io.write_json({"a": 1}, tmp_path / "a.json")
    manifest = io.write_manifest(tmp_path / "manifest.json", [out], rows=1)
    assert manifest["outputs"]["a.json"]["sha256"] == io.sha256_file(out)
    assert io.read_json(tmp_path / "manifest.json")["rows"] == 1


def test_sweep_removes_only_the_temp_files_of_the_named_outputs(tmp_path):
    for name in (".a.parquet.x1.tmp", ".a.parquet.x2.tmp", ".b.json.x3.tmp", "a.parquet"):
        (tmp_path / name).write_text("x")
    removed = io.sweep_temp_files(tmp_path, ["a.parquet"])
    assert [p.name for p in removed] == [".a.parquet.x1.tmp", ".a.parquet.x2.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".b.json.x3.tmp", "a.parquet"]


def test_metrics_json_writes_undefined_values_as_null(tmp_path):
    import json
    import math

    obj = {"auc": float("nan"), "lift": [1.5, float("inf")], "n": 3,
           "nested": {"x": np.float64("nan")}}
    path = io.write_json(obj, tmp_path / "m.json", undefined_as_null=True)
    assert json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(c)) == {
        "auc": None, "lift": [1.5, None], "n": 3, "nested": {"x": None}}
    assert math.isnan(obj["auc"])  # the input is not changed
    assert "NaN" in io.write_json(obj, tmp_path / "plain.json").read_text()
