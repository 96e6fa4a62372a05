"""Ground truth (``<world>/truth/``) is read by evaluation code only (DESIGN §5).

Two checks: a static scan of the package for any reference to the truth folder or
the World's truth fields outside the generator and evaluation modules, and a run of
ingest on a simulated world showing that nothing from ``truth/`` reaches the
canonical tables.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd
import pytest

from churnml import config
from churnml.stages import ingest
from churnml.stages import simulate as simulate_stage

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "churnml"
# Who may touch truth: the generator (writes it) and evaluation (reads it).
ALLOWED = ("simulate/", "stages/simulate.py", "evaluate.py", "stages/evaluate.py",
           "evaluation/")
TRUTH_PATH = re.compile(r"(^|[/\\])truth([/\\]|$)")
TRUTH_NAME = re.compile(r"truth", re.IGNORECASE)
TRUTH_COLUMNS = {"exit_cause", "exit_date", "return_date", "rung", "true_uplift"}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes (documentation may mention ground truth)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def truth_references(source: str) -> list[str]:
    """Code (not docstrings or comments) that names the truth folder or a truth field."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if TRUTH_PATH.search(node.value.strip()):
                hits.append(f"line {node.lineno}: string {node.value!r}")
        elif isinstance(node, ast.Name) and TRUTH_NAME.search(node.id):
            hits.append(f"line {node.lineno}: name {node.id}")
        elif isinstance(node, ast.Attribute) and TRUTH_NAME.search(node.attr):
            hits.append(f"line {node.lineno}: attribute .{node.attr}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            hits += [f"line {node.lineno}: import {n}" for n in names if TRUTH_NAME.search(n)]
    return hits


def test_the_scanner_sees_reads_and_ignores_prose():
    assert truth_references('pd.read_parquet(folder / "truth" / "customers.parquet")')
    assert truth_references("world.truth_uplift")
    assert truth_references("from churnml.simulate import truth")
    assert truth_references('path = "data/raw/synthetic/truth/uplift.parquet"')
    assert not truth_references('"""Never read from ground truth."""\nx = 1  # truth')
    assert not truth_references('log.info("conf/ is the source of truth")')


def test_no_module_outside_evaluation_refers_to_truth():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(ALLOWED) or relative in ALLOWED:
            continue
        hits = truth_references(path.read_text(encoding="utf-8"))
        if hits:
            offenders[relative] = hits
    assert not offenders, f"only evaluation code may read truth/: {offenders}"


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory, project_root) -> Path:
    params = config.compose(project_root / "conf", ["data.world.customers=600",
                                                    "data.world.months=18"])
    out = tmp_path_factory.mktemp("world") / "raw"
    simulate_stage.run(params["data"]["world"], out)
    return out


def test_ingest_reads_the_observable_tables_only(world_dir, project_root):
    assert (world_dir / "truth" / "customers.parquet").is_file()
    cfg = config.compose(project_root / "conf")["ingest"]
    result = ingest.check(world_dir, cfg)
    assert set(result.tables) == {"customers", "transactions", "events", "incidents",
                                  "campaigns"}
    for name, frame in result.tables.items():
        leaked = TRUTH_COLUMNS & set(frame.columns)
        assert not leaked, f"{name} carries truth columns {leaked}"
        assert not any(c.startswith("_") for c in frame.columns), name


def test_observable_tables_carry_no_truth_columns(world_dir):
    for path in world_dir.glob("*.parquet"):
        columns = set(pd.read_parquet(path).columns)
        assert not TRUTH_COLUMNS & columns, path.name
