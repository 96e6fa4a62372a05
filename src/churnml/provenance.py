"""Where a result came from: git commit and input file hashes (no wall-clock time)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from churnml.io import sha256_file


def git_commit(cwd: Path | str = ".") -> str:
    """The checked-out commit (with ``-dirty`` if the tree has changes), or ``unknown``."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, check=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty.strip() else "")


def input_hashes(paths: list[Path]) -> dict[str, str]:
    """sha256 of each input file, keyed by its path."""
    return {str(p): sha256_file(p) for p in paths}
