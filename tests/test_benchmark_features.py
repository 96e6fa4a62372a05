"""The features benchmark's own arithmetic (the measured parts run in ``benchmarks/``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("features_benchmark",
                                                  ROOT / "benchmarks" / "features.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_part_is_reported_by_its_median_run_not_its_fastest(bench: ModuleType) -> None:
    runs = [{"wall_s": 10.3, "cpu_s": 1.0}, {"wall_s": 9.7, "cpu_s": 2.0},
            {"wall_s": 10.0, "cpu_s": 3.0}]
    assert bench.median_run(runs) == {"wall_s": 10.0, "cpu_s": 3.0, "range": (9.7, 10.3)}


def test_of_an_even_number_of_runs_the_slower_middle_one_is_kept(bench: ModuleType) -> None:
    runs = [{"wall_s": 9.9}, {"wall_s": 10.1}]
    assert bench.median_run(runs) == {"wall_s": 10.1, "range": (9.9, 10.1)}
    assert bench.median_run([{"wall_s": 5.0}]) == {"wall_s": 5.0, "range": (5.0, 5.0)}
