"""Benchmark: generate and write a large synthetic world, report wall time and peak memory.

Usage::

    .venv/bin/python benchmarks/simulate.py                      # 10^6 customers, 30 months
    .venv/bin/python benchmarks/simulate.py --customers 200000 --keep out/

Targets (issue 3): 10^6 customers with at least 10^7 transactions in under 2 minutes
and under 6 GB peak resident memory on a 2-core machine. Runs the same code path as
``churnml simulate`` (generation + Parquet writes + manifests) in this process.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from churnml import config
from churnml.stages import simulate

TARGET_SECONDS = 120.0
TARGET_RSS_GB = 6.0
MIN_TRANSACTIONS = 10**7


def peak_rss_gb() -> float:
    """Peak resident set size of this process so far, in GB (10^9 bytes; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit code 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument("--seed", type=int, default=None, help="default: params.yaml")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--keep", type=Path, help="write here and keep (default: temp dir)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    world = dict(config.get(config.load_params(args.params), "data.world"))
    world.update(customers=args.customers, months=args.months)
    if args.seed is not None:
        world["seed"] = args.seed
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "world"
        started = time.perf_counter()
        manifest = simulate.run(world, out)
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in out.rglob("*.parquet"))
    rows = manifest["rows"]
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    report = {"customers": args.customers, "months": args.months, "wall_seconds": round(seconds, 1),
              "cpu_seconds": round(cpu.ru_utime + cpu.ru_stime, 1),
              "load_average_1min": round(os.getloadavg()[0], 1),
              "peak_rss_gb": round(peak_rss_gb(), 2), "parquet_mb": round(size / 1e6, 1),
              "rows": rows}
    print(json.dumps(report, indent=2))
    ok = (seconds < TARGET_SECONDS and peak_rss_gb() < TARGET_RSS_GB
          and (args.customers < 10**6 or rows["transactions"] >= MIN_TRANSACTIONS))
    print("targets met" if ok else "TARGET MISSED (see issue 3: <2 min, <6 GB, >=1e7 transactions)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
