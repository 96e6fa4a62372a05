"""The scoring job's output folder: one writer at a time, no debris, manifest last.

Each file is written atomically by :mod:`churnml.io` (temp file beside it, fsync,
rename). On top of that:

* a run holds an exclusive lock on the output folder (``flock`` on the folder
  itself, released by the kernel even after ``kill -9``), so two runs never
  interleave their files;
* temp files left by a killed run (``.<output>.*.tmp``) are swept at the start of
  the next run, under the lock, so they cannot belong to a live writer;
* the old ``manifest.json`` is removed before the first output changes and the new
  one is written last, so *a manifest exists only beside the complete set of files
  it describes*. A reader who finds no manifest (or a hash mismatch) must wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from churnml import io
from churnml.errors import ChurnmlError

log = logging.getLogger(__name__)
PARQUET_FILE = "scored_customers.parquet"
CSV_FILE = "scored_customers.csv"
SUMMARY_FILE = "summary.html"
MANIFEST_FILE = "manifest.json"
OUTPUT_FILES = (PARQUET_FILE, CSV_FILE, SUMMARY_FILE, MANIFEST_FILE)


class OutputBusyError(ChurnmlError):
    """Another scoring run holds the output folder (exit code 1)."""


@contextlib.contextmanager
def exclusive(out_dir: Path) -> Iterator[Path]:
    """Hold an exclusive, non-blocking lock on ``out_dir`` (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(out_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise OutputBusyError(f"another scoring run is writing to {out_dir}; "
                                  f"wait for it to finish") from exc
        yield out_dir
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def stale_temp_files(out_dir: Path, names: tuple[str, ...] = OUTPUT_FILES) -> list[Path]:
    """Temp files that :func:`churnml.io.atomic_path` left for our outputs."""
    return sorted(p for name in names for p in out_dir.glob(f".{name}.*.tmp") if p.is_file())


def sweep(out_dir: Path) -> list[Path]:
    """Delete temp files of our outputs left by a killed run (call under the lock)."""
    stale = stale_temp_files(out_dir)
    for path in stale:
        path.unlink(missing_ok=True)
    if stale:
        log.warning("removed %d temp files left by an interrupted run in %s", len(stale),
                    out_dir)
    return stale


def withdraw_manifest(out_dir: Path) -> None:
    """Remove the old manifest (durably) before any output file changes."""
    manifest = out_dir / MANIFEST_FILE
    if manifest.exists():
        manifest.unlink()
        _fsync_dir(out_dir)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(out_dir: Path, scored: pd.DataFrame, summary_html: str,
            fields: dict[str, Any]) -> dict[str, Any]:
    """Write Parquet, CSV and summary, then the manifest listing their hashes.

    Parameters
    ----------
    out_dir
        The output folder (locked by the caller).
    scored
        The scored list, already restricted to whitelisted columns and checked.
    summary_html
        The marketing summary page.
    fields
        Extra manifest entries (as_of, model versions, drift results, ...).

    Returns
    -------
    dict
        The manifest as written.
    """
    log.info("writing outputs to %s", out_dir)
    withdraw_manifest(out_dir)
    # Parquet is written by Arrow without the GIL, so it overlaps the CSV's building
    # (~1 s of the 10^6-customer job); each file is still atomic on its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        parquet = pool.submit(io.write_parquet, scored, out_dir / PARQUET_FILE)
        csv = io.write_csv(scored, out_dir / CSV_FILE)
        written = [parquet.result(), csv, io.write_text(summary_html, out_dir / SUMMARY_FILE)]
    manifest = io.write_manifest(out_dir / MANIFEST_FILE, written, rows=len(scored), **fields)
    log.info("wrote %s (manifest last)", ", ".join(p.name for p in written))
    return manifest
