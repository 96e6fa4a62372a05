"""Logging set-up for the CLI (library modules only call ``logging.getLogger``)."""

from __future__ import annotations

import logging
import os
import sys

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY_LOGGERS = ("alembic", "mlflow", "urllib3", "git", "matplotlib", "numexpr")


def configure(verbose: bool = False) -> None:
    """Configure root logging once, to stderr: rich on a terminal, plain lines otherwise.

    Plain lines are never wrapped, so logs and CI output stay greppable.
    """
    level = logging.DEBUG if verbose else logging.INFO
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=Console(stderr=True), show_path=False)
        handler.setFormatter(logging.Formatter("%(message)s", datefmt="%H:%M:%S"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT, datefmt="%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
