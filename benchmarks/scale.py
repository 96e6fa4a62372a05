"""Benchmark: features at scale — DuckDB under a memory limit, and DuckDB against Spark.

Generates a world of N transactions in chunks (memory stays bounded whatever N), then
builds the full feature set for the last ``--snapshots`` month starts, streamed to
Parquet as the ``features`` stage does, each engine in a fresh process:

* ``duckdb`` with ``memory_limit`` / ``temp_directory`` / ``threads`` as in
  ``conf/engine/duckdb.yaml``;
* with ``--spark``, the same on Spark in local mode (``--spark-master``), and the
  ratio of the two wall times, once both give the same column sums.

Reported per engine: wall time, CPU time and peak memory — the Python process's max
RSS, plus the Spark JVM's peak RSS and CPU read from ``/proc`` before it stops.

    python benchmarks/scale.py --transactions 1000000 --spark          # a quick check
    python benchmarks/scale.py --transactions 100000000 --memory-limit 8GB \\
        --temp-directory /scratch/duckdb --data /scratch/world_1e8     # 10^8 on DuckDB
    python benchmarks/scale.py --transactions 10000000 --spark --spark-master 'local[*]'
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.oracle_features, benchmarks.features

from benchmarks.features import (  # noqa: E402
    EVENT_MIX,
    EVENTS_PER_TRANSACTION,
    INCIDENTS,
    MONTHS,
    START,
    calendar,
    features_cfg,
)

CHECK = ["frequency", "monetary", "count_30d", "spend_90d", "recency_days", "tenure_days"]


# --- the world, in chunks -------------------------------------------------------------------

def _span_days() -> int:
    return (START + pd.DateOffset(months=MONTHS) - START).days


def _write_chunks(path: Path, total: int, chunk: int, make) -> None:
    """Write ``total`` rows made ``chunk`` at a time by ``make(n, seed)`` into one file."""
    writer = None
    for i, start in enumerate(range(0, total, chunk)):
        table = pa.Table.from_pandas(make(min(chunk, total - start), i), preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table.cast(writer.schema))
    if writer is not None:
        writer.close()


def generate(folder: Path, customers: int, transactions: int, chunk: int = 5_000_000,
             seed: int = 11) -> None:
    """Customers, transactions, events (0.2 per transaction) and incidents, as Parquet."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    span = _span_days()
    ids = np.char.add("C", np.char.zfill(np.arange(1, customers + 1).astype(str), 9))
    signup = START + pd.to_timedelta(rng.integers(-700, span - 30, customers), unit="D")
    pd.DataFrame({"customer_id": ids, "signup_date": signup.astype("datetime64[us]"),
                  "region": rng.choice(["north", "south", "east", "west"], customers),
                  "plan": rng.choice(["basic", "plus", "premium"], customers),
                  "channel": rng.choice(["web", "store", "app"], customers)}
                 ).to_parquet(folder / "customers.parquet", index=False)
    weight = rng.gamma(2.0, 1.0, customers)
    weight /= weight.sum()
    first = np.maximum((signup.to_numpy() - START.to_datetime64()) / np.timedelta64(1, "s"), 0)

    def purchases(n: int, part: int) -> pd.DataFrame:
        r = np.random.default_rng([seed, 1, part])
        owner = r.choice(customers, n, p=weight)
        seconds = first[owner] + r.random(n) * (span * 86400 - first[owner])
        returned = r.random(n) < 0.03
        amount = np.round(np.exp(r.normal(3.4, 0.6, n)), 2)
        category = r.choice(np.array(["core", "substitute", "discount"]), n, p=[0.7, 0.2, 0.1])
        return pd.DataFrame({
            "customer_id": ids[owner],
            "ts": (START.to_datetime64() + seconds.astype("timedelta64[s]")).astype(
                "datetime64[us]"),
            "amount": np.where(returned, -amount, amount), "category": category,
            "discount": np.where(category == "discount", np.round(0.2 * amount, 2), 0.0),
            "is_return": returned})

    def events(n: int, part: int) -> pd.DataFrame:
        r = np.random.default_rng([seed, 2, part])
        kind = r.choice(np.array(list(EVENT_MIX)), n, p=np.array(list(EVENT_MIX.values())))
        when = START.to_datetime64() + (r.random(n) * span * 86400).astype("timedelta64[s]")
        value = np.where(kind == "survey_score", r.integers(0, 11, n),
                         np.where(kind == "complaint", r.integers(0, 2, n), np.nan))
        return pd.DataFrame({"customer_id": ids[r.integers(0, customers, n)],
                             "ts": when.astype("datetime64[us]"), "event_type": kind,
                             "value": value})

    starts = START + pd.to_timedelta(rng.integers(0, span - 20, INCIDENTS), unit="D")
    pd.DataFrame({"incident_id": [f"INC{j:04d}" for j in range(INCIDENTS)],
                  "start": starts.astype("datetime64[us]"),
                  "end": (starts + pd.Timedelta(days=14)).astype("datetime64[us]"),
                  "scope": "region", "severity": rng.integers(1, 4, INCIDENTS).astype(float),
                  "region": rng.choice(["north", "south", "east", "west"], INCIDENTS)}
                 ).to_parquet(folder / "incidents.parquet", index=False)
    _write_chunks(folder / "transactions.parquet", transactions, chunk, purchases)
    _write_chunks(folder / "events.parquet", int(transactions * EVENTS_PER_TRANSACTION), chunk,
                  events)


# --- one measured engine run (in its own process) -----------------------------------------

def _jvm_usage() -> dict:
    """Peak RSS (GB) and CPU seconds of this process's child processes (the Spark JVM)."""
    try:
        import psutil
    except ImportError:
        return {"jvm_peak_gb": float("nan"), "jvm_cpu_s": float("nan")}
    peak = cpu = 0.0
    for child in psutil.Process().children(recursive=True):
        status = Path(f"/proc/{child.pid}/status").read_text()
        hwm = [line for line in status.splitlines() if line.startswith("VmHWM")]
        peak += int(hwm[0].split()[1]) / 1e6 if hwm else 0.0
        times = child.cpu_times()
        cpu += times.user + times.system
    return {"jvm_peak_gb": peak, "jvm_cpu_s": cpu}


def run_engine(engine: dict, folder: Path, snapshots: int) -> dict:
    """Features for the last ``snapshots`` month starts on ``engine``; measures of the run."""
    from churnml.features import connect, iter_features, load_tables
    from churnml.stages.features import write_features

    dates = calendar()[-snapshots:]
    cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])  # noqa: E731
    wall0, cpu0 = time.perf_counter(), cpu()
    con = connect(engine)
    sums = dict.fromkeys(CHECK, 0.0)

    def counted(tables):
        for table in tables:
            for column in CHECK:
                sums[column] += float(pd.to_numeric(table[column].to_pandas()).sum())
            yield table

    with tempfile.TemporaryDirectory() as out:
        written = write_features(counted(iter_features(con, load_tables(con, folder), dates,
                                                       features_cfg())),
                                 Path(out) / "features.parquet")
    result = {"engine": engine["name"], "wall_s": time.perf_counter() - wall0,
              "cpu_s": cpu() - cpu0,
              "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
              "rows": written.rows, "columns": written.columns, "sums": sums}
    if engine["name"] == "spark":
        result.update(_jvm_usage())
    return result


def measure(engine: dict, folder: Path, snapshots: int) -> dict:
    """:func:`run_engine` in a fresh Python process."""
    done = subprocess.run([sys.executable, __file__, "--part", json.dumps(engine), "--data",
                           str(folder), "--snapshots", str(snapshots)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{engine['name']} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(results: list[dict], transactions: int) -> None:
    print(f"\n{transactions:,} transactions")
    print(f"{'engine':<8}{'wall s':>9}{'cpu s':>9}{'peak GB':>9}{'JVM GB':>8}{'JVM cpu s':>10}"
          f"{'rows':>12}")
    for r in results:
        print(f"{r['engine']:<8}{r['wall_s']:>9.1f}{r['cpu_s']:>9.1f}{r['peak_gb']:>9.2f}"
              f"{r.get('jvm_peak_gb', 0.0):>8.2f}{r.get('jvm_cpu_s', 0.0):>10.1f}"
              f"{r['rows']:>12,}")
    if len(results) == 2:
        duck, spark = results
        for column in CHECK:
            if not np.isclose(spark["sums"][column], duck["sums"][column], rtol=1e-9):
                raise SystemExit(f"spark disagrees with duckdb on {column}: "
                                 f"{spark['sums'][column]} vs {duck['sums'][column]}")
        print(f"spark / duckdb wall time: {spark['wall_s'] / duck['wall_s']:.1f}x "
              f"(column sums agree within 1e-9)")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=None,
                        help="default: one per 10 transactions")
    parser.add_argument("--snapshots", type=int, default=1, help="last N month starts")
    parser.add_argument("--memory-limit", default="8GB", help="DuckDB memory_limit")
    parser.add_argument("--temp-directory", default=None, help="DuckDB temp_directory")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads")
    parser.add_argument("--spark", action="store_true", help="also run Spark local mode")
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--spark-memory", default="4g", help="spark.driver.memory")
    parser.add_argument("--data", type=Path, default=None,
                        help="folder for the generated world (reused when present)")
    parser.add_argument("--part", help=argparse.SUPPRESS)
    args = parser.parse_args()
    customers = args.customers or max(args.transactions // 10, 100)
    folder = args.data or Path(tempfile.gettempdir()) / (
        f"churnml_scale_{customers}_{args.transactions}")
    if args.part:
        print(json.dumps(run_engine(json.loads(args.part), folder, args.snapshots)))
        return
    if not (folder / "events.parquet").is_file():
        print(f"generating {customers:,} customers, {args.transactions:,} transactions into "
              f"{folder} ...", flush=True)
        generate(folder, customers, args.transactions)
    engines = [{"name": "duckdb", "memory_limit": args.memory_limit,
                "temp_directory": args.temp_directory, "threads": args.threads}]
    if args.spark:  # conf/engine/spark.yaml with this run's master and driver memory
        spark = yaml.safe_load((ROOT / "conf" / "engine" / "spark.yaml").read_text())
        spark["conf"]["spark.driver.memory"] = args.spark_memory
        engines.append({**spark, "master": args.spark_master})
    results = []
    for engine in engines:
        print(f"running {engine['name']} ...", flush=True)
        results.append(measure(engine, folder, args.snapshots))
    report(results, args.transactions)


if __name__ == "__main__":
    main()
