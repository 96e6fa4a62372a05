"""Exceptions that map to the CLI's documented exit codes (DESIGN §12)."""

from __future__ import annotations


class ChurnmlError(Exception):
    """Base class; ``exit_code`` is what the CLI returns."""

    exit_code = 1


class ConfigError(ChurnmlError):
    """Invalid configuration or arguments (exit code 2)."""

    exit_code = 2


class ContractError(ChurnmlError):
    """Input data that breaks the data contract as a whole (exit code 2).

    The message names the file, the column, the rule and example values.
    """

    exit_code = 2

    def __init__(self, file: str, column: str | None, rule: str, examples: object = None):
        self.file, self.column, self.rule, self.examples = file, column, rule, examples
        where = f"{file}" + (f", column '{column}'" if column else "")
        tail = f"; examples: {examples!r}" if examples is not None else ""
        super().__init__(f"{where}: {rule}{tail}")


class QuarantineToleranceError(ChurnmlError):
    """More rows were quarantined than the configured tolerance (exit code 3)."""

    exit_code = 3
