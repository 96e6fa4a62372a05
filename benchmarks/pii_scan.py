"""Scan a project folder after `dvc repro` for personal data from its raw input.

    python benchmarks/pii_scan.py PROJECT [--raw data/raw] [--log repro.log ...]

PII values are the input's ``ingest.pii_columns`` (names, e-mails, phones, free text)
found in the raw folder; the haystacks are logs given with ``--log``, every table of
``mlflow.db``, and every file under data/ (but the raw folder), models/, reports/,
mlartifacts/ and mlruns/. Prints the figures and each hit; exit 1 when there is a hit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.pii_haystacks: what a run wrote, as text

from tests.pii_haystacks import haystacks, raw_tables  # noqa: E402

from churnml.privacy import pii_needles, scan  # noqa: E402

SHOWN = 20


def run(project: Path, raw: Path, logs: list[Path]) -> int:
    """Scan and print; return the number of hits."""
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    needles = pii_needles(raw_tables(raw), params["ingest"]["pii_columns"])
    texts = {str(p): p.read_text(encoding="utf-8", errors="replace") for p in logs}
    texts.update(haystacks(project, raw))
    hits = scan(texts, needles)
    print(f"PII values searched: {sum(map(len, needles.values()))} "
          f"({', '.join(f'{c}: {len(v)}' for c, v in sorted(needles.items()))})")
    print(f"sources scanned: {len(texts)} ({sum(map(len, texts.values())):,} characters)")
    print(f"PII hits: {len(hits)}")
    for hit in hits[:SHOWN]:
        print(f"  - {hit.source}: {hit.column} {hit.value!r}")
    return len(hits)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--raw", type=Path, help="raw input folder (default PROJECT/data/raw)")
    parser.add_argument("--log", type=Path, action="append", default=[],
                        help="a log file of the run (repeatable)")
    args = parser.parse_args()
    return 1 if run(args.project, args.raw or args.project / "data/raw", args.log) else 0


if __name__ == "__main__":
    sys.exit(main())
