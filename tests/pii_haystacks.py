"""Everything a pipeline run left behind, as text, for the PII scanner.

Sources: the MLflow store (every text cell of every table of ``mlflow.db``), and every
file under ``data/`` (but the raw input folder), ``models/``, ``reports/``,
``mlartifacts/`` and ``mlruns/``. Parquet files are read (their bytes are compressed);
other files are decoded as UTF-8 with replacement.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from churnml.privacy import frame_text

FOLDERS = ("data", "models", "reports", "mlartifacts", "mlruns")
PARQUET = (".parquet", ".pq")


def raw_tables(raw_dir: Path) -> list[pd.DataFrame]:
    """The raw input tables (Parquet or CSV) the PII values come from."""
    frames = [pd.read_parquet(p) for p in sorted(raw_dir.rglob("*.parquet"))]
    frames += [pd.read_csv(p, dtype=str) for p in sorted(raw_dir.rglob("*.csv"))]
    return frames


def mlflow_text(db: Path) -> dict[str, str]:
    """``mlflow.db:<table>`` -> every cell of that table as text, one row a line."""
    out = {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for name in names:
            rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
            out[f"mlflow.db:{name}"] = "\n".join(
                " | ".join(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                           for v in row) for row in rows)
    return out


def file_text(path: Path) -> str:
    """A file's content as text (Parquet: its columns and text values)."""
    if path.name.lower().endswith(PARQUET):
        return frame_text(pd.read_parquet(path))
    return path.read_bytes().decode("utf-8", errors="replace")


def haystacks(project: Path, raw_dir: Path) -> dict[str, str]:
    """Text by source for everything a run wrote in ``project`` except ``raw_dir``."""
    raw_dir = raw_dir.resolve()
    out = {}
    if (project / "mlflow.db").is_file():
        out.update(mlflow_text(project / "mlflow.db"))
    for folder in FOLDERS:
        for path in sorted((project / folder).rglob("*")):
            if path.is_file() and not path.resolve().is_relative_to(raw_dir):
                out[str(path.relative_to(project))] = file_text(path)
    return out
