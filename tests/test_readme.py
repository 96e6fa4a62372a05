"""The README opens with exactly the two commands a new user needs."""

from __future__ import annotations

import re


def test_readme_opens_with_the_two_commands(project_root):
    text = (project_root / "README.md").read_text()
    block = re.match(r"```(?:bash|sh)?\n(.*?)\n```", text, re.S)
    assert block, "README.md must open with a fenced code block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert [c for c in commands if c] == ["make run", "make test"]


def test_ci_runs_the_readme_test_command(project_root):
    assert "make test" in (project_root / ".ci" / "run").read_text()
