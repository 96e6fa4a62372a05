"""``churnml validate --data DIR``: check a data folder against the contract, no writes.

Either ``DIR`` holds canonical tables (``customers.csv``, ``transactions.parquet``,
...; a ``source.json`` beside them says how to parse their dates), or ``--mapping``
names a data config (``conf/data/<name>.yaml`` or a path) whose column mapping is
applied to the user's own files in ``DIR``. The report lists, per table, rows in,
kept and quarantined, and the failures by rule with example values.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from churnml import sources
from churnml.errors import ConfigError
from churnml.ingest import (
    IngestResult,
    ingest_tables,
    over_tolerance,
    rule_summary,
    tolerance,
    tolerance_message,
)
from churnml.stages import ingest

log = logging.getLogger(__name__)
REPORT_WIDTH = 170
EXIT_OK, EXIT_INVALID, EXIT_QUARANTINE = 0, 2, 3


def load_mapping(mapping: str, conf_dir: Path) -> dict[str, Any]:
    """A data config from a path, or by name from ``conf_dir/data/<name>.yaml``."""
    path = Path(mapping)
    if not path.is_file():
        path = conf_dir / "data" / f"{mapping}.yaml"
    if not path.is_file():
        raise ConfigError(f"--mapping {mapping!r}: neither a file nor a config in {conf_dir}/data/")
    try:
        data_cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data_cfg, dict) or "source" not in data_cfg:
        raise ConfigError(f"{path} is not a data config (it needs at least `source:`)")
    return data_cfg


def check(data_dir: Path, cfg: dict[str, Any], mapping: str | None, mode: str | None,
          conf_dir: Path) -> IngestResult:
    """Validate ``data_dir`` (mapped through ``mapping`` when given); never raises on
    a table-level problem, which is collected in ``result.errors`` instead."""
    if mapping is None:
        return ingest.check(data_dir, cfg, mode, strict=False)
    data_cfg = {**load_mapping(mapping, conf_dir), "input_dir": str(data_dir.resolve())}
    raw = sources.load(data_cfg, Path.cwd())
    return ingest_tables(raw.tables, raw.specs, cfg, mode or raw.mode, strict=False)


def exit_code(result: IngestResult, cfg: dict[str, Any]) -> int:
    """2 for table-level errors, 3 past the quarantine tolerance, else 0."""
    if result.errors:
        return EXIT_INVALID
    return EXIT_QUARANTINE if over_tolerance(result.counts, cfg) else EXIT_OK


def report_table(result: IngestResult, cfg: dict[str, Any], title: str) -> Table:
    """Per table: rows in, kept, quarantined; then one line per rule with examples."""
    files = "; ".join(f"{t}: {f}" for t, f in result.files.items())
    table = Table(title=escape(title), title_justify="left", caption=escape(f"files - {files}"),
                  caption_justify="left")
    for column in ("table", "rows in", "kept", "quarantined", "rule"):
        table.add_column(column, no_wrap=True)
    for column in ("column", "examples (source row)"):
        table.add_column(column, overflow="fold")
    for name, counts in result.counts.items():
        share = counts["rows_quarantined"] / max(counts["rows_in"], 1)
        flag = " over tolerance" if share > tolerance(cfg, name) else ""
        table.add_row(name, str(counts["rows_in"]), str(counts["rows_kept"]),
                      f"{counts['rows_quarantined']} ({share:.1%}){flag}", "", "", "")
        for row in rule_summary(result.quarantine, name).itertuples():
            table.add_row("", "", "", str(row.rows), escape(row.rule),
                          escape(result.column_label(name, row.column)),
                          escape(", ".join(f"{v!r} (row {n})"
                                           for v, n in zip(row.examples, row.at_rows,
                                                           strict=True))))
    return table


def render(result: IngestResult, cfg: dict[str, Any], title: str) -> Group:
    """The whole report: the table, table-level errors and a verdict line."""
    parts: list[Any] = [report_table(result, cfg, title)]
    for error in result.errors:
        parts.append(Text(f"ERROR {error}", style="bold red"))
    code = exit_code(result, cfg)
    verdict = {EXIT_OK: "OK: the data meets the contract (within the quarantine tolerance)",
               EXIT_INVALID: "INVALID: fix the errors above (exit code 2)",
               EXIT_QUARANTINE: "TOO MANY ROWS QUARANTINED: see the rules above (exit code 3)"}
    parts.append(Text(verdict[code], style="bold green" if code == EXIT_OK else "bold red"))
    return Group(*parts)


def print_report(result: IngestResult, cfg: dict[str, Any], title: str) -> int:
    """Print the report to stdout, log the verdict's reason in one line; return the exit code."""
    Console(file=sys.stdout, width=REPORT_WIDTH, soft_wrap=False).print(render(result, cfg, title))
    code = exit_code(result, cfg)
    if code == EXIT_QUARANTINE:
        log.error("%s", tolerance_message(result, over_tolerance(result.counts, cfg), cfg))
    for error in result.errors:
        log.error("%s", error)
    return code
