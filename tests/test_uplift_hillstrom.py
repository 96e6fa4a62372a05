"""The uplift models on Hillstrom's randomised e-mail test (../shared/data; skipped when
absent): the Womens e-mail arm on visits reaches scikit-uplift's tutorial figure."""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.realdata, pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")]


@pytest.fixture(scope="module")
def benchmark():
    spec = importlib.util.spec_from_file_location("hillstrom_uplift",
                                                  ROOT / "benchmarks" / "hillstrom_uplift.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not (module.DATA / module.FILE).is_file():
        pytest.skip(f"{module.DATA / module.FILE} not found: the real data sets live in "
                    "../shared/data")
    return module


@pytest.fixture(scope="module")
def report(benchmark):
    return benchmark.evaluate(benchmark.load(), "visit")


def test_womens_email_uplift_at_30_reaches_the_tutorial_figure(report, benchmark):
    womens = report["arms"]["womens_email"]
    assert womens["uplift_at_30"] >= benchmark.TUTORIAL_UPLIFT_AT_30
    assert womens["uplift_at_30"] > womens["uplift_at_30_random"]


@pytest.mark.parametrize("arm", ["mens_email", "womens_email"])
def test_each_arm_beats_random_targeting(report, arm):
    metrics = report["arms"][arm]
    assert metrics["qini_coefficient"] > 0
    assert metrics["auuc"] > metrics["auuc_random"]
