"""No personal data from the input anywhere a pipeline run writes.

The synthetic world's raw customers carry names, e-mails and phone numbers and its
complaint events carry free text naming the customer. After ``dvc repro`` on a tiny
world, none of those values may appear in the run's log, the MLflow store (every table
of ``mlflow.db``), MLflow artifacts, or any file under data/ (but the raw input),
models/ and reports/, scored files included.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from churnml.privacy import pii_needles, scan
from tests.pii_haystacks import haystacks, raw_tables
from tests.tiny_pipeline import TINY_WORLD, copy_project, run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("privacy")]


@pytest.fixture(scope="module")
def project(project_root, tmp_path_factory) -> tuple[Path, str]:
    """A git copy of the repository after `dvc repro` on a tiny world, and the run's log."""
    dest = copy_project(project_root, tmp_path_factory.mktemp("privacy_project"))
    run(["churnml", "compose", *TINY_WORLD], dest)
    return dest, run(["dvc", "repro"], dest, timeout=1800)


def test_no_name_email_phone_or_free_text_leaves_the_raw_input(project):
    root, log = project
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    raw_dir = root / params["data"]["raw_dir"]
    needles = pii_needles(raw_tables(raw_dir), params["ingest"]["pii_columns"])
    assert {"name", "email", "phone", "text"} <= set(needles)
    assert min(len(needles[c]) for c in ("name", "email", "phone")) >= 500
    texts = {"dvc repro log": log, **haystacks(root, raw_dir)}
    assert any(k.startswith("mlflow.db:") for k in texts) and any(
        k.startswith("data/scored/") for k in texts) and any(k.startswith("mlartifacts/")
                                                             for k in texts)
    assert scan(texts, needles) == []
    # the scanner is not blind: the raw input itself is full of hits
    raw = {"raw customers": "\n".join(f.to_csv() for f in raw_tables(raw_dir))}
    assert len(scan(raw, needles)) >= len(needles["email"])
