"""Stage ``simulate``: write the synthetic world's canonical tables and its truth."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from churnml import io
from churnml.simulate import simulate_world

log = logging.getLogger(__name__)
PARAMS = ["data"]
TRUTH_DIR = "truth"
REQUIRED_TABLES = ("customers", "transactions")


def run(world_cfg: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """Simulate and write ``out_dir/<table>.parquet`` and ``out_dir/truth/*.parquet``.

    Parameters
    ----------
    world_cfg
        The ``data.world`` section (sizes, seed, mechanism strengths).
    out_dir
        Destination. Each folder (``out_dir`` and ``out_dir/truth``) gets a manifest
        with row counts and the sha256 of every file, written last.
    """
    world = simulate_world(world_cfg)
    tables = {name: frame for name, frame in world.tables.items()
              if name in REQUIRED_TABLES or not frame.empty}
    for name in sorted(set(world.tables) - set(tables)):
        (out_dir / f"{name}.parquet").unlink(missing_ok=True)
        log.info("table %s is empty in this world (too small or short): not written", name)
    written = [io.write_parquet(frame, out_dir / f"{name}.parquet")
               for name, frame in tables.items()]
    truth = {"customers": world.truth_customers, "uplift": world.truth_uplift,
             **world.truth_extra}
    truth_written = [io.write_parquet(frame, out_dir / TRUTH_DIR / f"{name}.parquet")
                     for name, frame in truth.items()]
    io.write_manifest(out_dir / TRUTH_DIR / "manifest.json", truth_written,
                      rows={name: len(frame) for name, frame in truth.items()})
    rows = {name: len(frame) for name, frame in tables.items()}
    manifest = io.write_manifest(out_dir / "manifest.json", written, rows=rows,
                                 end=world.end.isoformat(), seed=int(world_cfg["seed"]))
    log.info("wrote world to %s: %s", out_dir, rows)
    return manifest
