"""Fuzz ``churnml ingest`` with many malformed inputs and print the reliability figures.

    python benchmarks/fuzz.py --examples 600 [--seed 0]

Generates malformed data folders with the hypothesis strategy of
``tests/fuzz_cases.py`` (the same one ``tests/test_fuzz_ingest.py`` runs in CI with
fewer examples), runs the ``ingest`` CLI on each, and prints: inputs tried, exit codes,
uncaught tracebacks (exit 1 or a traceback in the output), other broken invariants
(an error that does not name file/column/rule, a bad row not quarantined) and rows
lost (rows in a file that are neither kept nor quarantined).
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.fuzz_cases: the strategy and the checks

from tests import fuzz_cases  # noqa: E402

from churnml import config  # noqa: E402

SHOWN = 5
PROGRESS_EVERY = 50


def fuzz(examples: int, rng_seed: int, scratch: Path) -> list[tuple[fuzz_cases.Case,
                                                                    fuzz_cases.Outcome]]:
    """Run ``examples`` generated cases; return each case with its outcome (no shrinking)."""
    params = scratch / "params.yaml"
    params.write_text(config.dump_params(config.compose(ROOT / "conf")))
    results = []

    @seed(rng_seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=fuzz_cases.cases())
    def one(case: fuzz_cases.Case) -> None:
        results.append((case, fuzz_cases.run_case(case, params, scratch)))
        if len(results) % PROGRESS_EVERY == 0:
            bad = sum(bool(o.problems) for _, o in results)
            print(f"... {len(results)} inputs, {bad} breaking an invariant", flush=True)

    one()
    return results


def report(results: list[tuple[fuzz_cases.Case, fuzz_cases.Outcome]], seconds: float) -> str:
    """The figures as text."""
    codes = collections.Counter(o.code for _, o in results)
    crashes = [(c, o) for c, o in results
               if o.code not in (0, 2, 3) or "Traceback" in o.text]
    broken = [(c, o) for c, o in results if o.problems]
    kinds = collections.Counter(c.notes[-1].split()[0] for c, _ in results if c.notes)
    lines = [
        f"inputs tried: {len(results)} ({seconds:.0f} s, "
        f"{seconds / max(len(results), 1):.2f} s per input)",
        f"exit codes: {dict(sorted(codes.items()))}",
        f"structural mutations: {dict(sorted(kinds.items()))}",
        f"uncaught tracebacks (exit 1 or a traceback printed): {len(crashes)}",
        f"inputs breaking another invariant: {len(broken) - len(crashes)}",
        f"rows lost (neither kept nor quarantined): {sum(o.rows_lost for _, o in results)}",
    ]
    for case, outcome in broken[:SHOWN]:
        lines.append(f"  - {case.notes}: {outcome.problems}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="churnml-fuzz-") as scratch:
        start = time.perf_counter()
        results = fuzz(args.examples, args.seed, Path(scratch))
        print(report(results, time.perf_counter() - start))
    return 0 if all(not o.problems and o.rows_lost == 0 for _, o in results) else 1


if __name__ == "__main__":
    sys.exit(main())
