"""Progress of a long command: a live rich display on a terminal, log lines otherwise.

Library code announces its steps through :class:`Steps`; only the CLI decides
whether a live display is shown (never in logs, CI or the DVC pipeline's output).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

log = logging.getLogger(__name__)


class Steps:
    """Named steps of a run, timed and logged; optionally shown as a live progress bar.

    Parameters
    ----------
    names
        The steps in order (for the bar's total).
    live
        Show a rich progress display on stderr (only if stderr is a terminal).
    """

    def __init__(self, names: Sequence[str], live: bool = False):
        self.names = list(names)
        self.live = live and sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None
        self.durations: dict[str, float] = {}

    def __enter__(self) -> Steps:
        if self.live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                      BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                      console=Console(stderr=True), transient=False)
            self._progress.start()
            self._task = self._progress.add_task("starting", total=len(self.names))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time one step; log its duration and advance the display."""
        if self._progress is not None:
            self._progress.update(self._task, description=name)
        start = time.perf_counter()
        yield
        self.durations[name] = time.perf_counter() - start
        log.info("%s: done in %.1f s", name, self.durations[name])
        if self._progress is not None:
            self._progress.advance(self._task)
