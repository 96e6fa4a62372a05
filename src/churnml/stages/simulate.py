"""Stage ``simulate``: write the synthetic world's canonical tables and its truth."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from churnml import io
from churnml.simulate import simulate_world

log = logging.getLogger(__name__)
PARAMS = ["data"]


def run(world_cfg: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """Simulate and write ``out_dir/<table>.parquet`` and ``out_dir/truth/*.parquet``."""
    world = simulate_world(world_cfg)
    written = [io.write_parquet(frame, out_dir / f"{name}.parquet")
               for name, frame in world.tables.items()]
    written.append(io.write_parquet(world.truth_customers, out_dir / "truth" / "customers.parquet"))
    written.append(io.write_parquet(world.truth_uplift, out_dir / "truth" / "uplift.parquet"))
    rows = {name: len(frame) for name, frame in world.tables.items()}
    manifest = io.write_manifest(out_dir / "manifest.json", written, rows=rows,
                                 end=world.end.isoformat(), seed=int(world_cfg["seed"]))
    log.info("wrote world to %s: %s", out_dir, rows)
    return manifest
