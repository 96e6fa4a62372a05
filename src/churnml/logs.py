"""Logging set-up for the CLI (library modules only call ``logging.getLogger``)."""

from __future__ import annotations

import logging
import os


def configure(verbose: bool = False) -> None:
    """Configure root logging once, with rich output on a terminal and plain text otherwise."""
    level = logging.DEBUG if verbose else logging.INFO
    try:
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(show_path=False, rich_tracebacks=False)
        fmt = "%(message)s"
    except ImportError:  # pragma: no cover - rich is a declared dependency
        handler, fmt = logging.StreamHandler(), "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(logging.Formatter(fmt, datefmt="%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("alembic", "mlflow", "urllib3", "git", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
