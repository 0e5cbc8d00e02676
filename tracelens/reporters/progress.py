"""Reporter: a progress bar on the terminal for long inputs (bytes read, lines per second).

Drawn on standard error whenever standard error is a terminal and the run is not in CI (the ``CI``
variable that GitHub Actions, GitLab CI and Jenkins set) and not ``--quiet``: `tracelens analyze
big.log > report.txt` shows it; a CI log or a piped standard error never does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn

from tracelens.read.reader import STDIN, ReadStats
from tracelens.reporters.console import terminal

# below this size the bar would only flicker
MIN_BYTES = 8 * 1024 * 1024


def wanted(paths: Sequence[str]) -> bool:
    if not terminal().progress_allowed():
        return False
    total = 0
    for p in paths:
        if p == STDIN:
            return True
        try:
            total += os.path.getsize(p)
        except OSError:
            return False
    return total >= MIN_BYTES


@contextmanager
def progress_bar(paths: Sequence[str]) -> Iterator[Callable[[ReadStats, int], None] | None]:
    """Yields a callback ``(stats, records) -> None`` for the pipeline to call now and then, or None."""
    if not wanted(paths):
        yield None
        return
    sizes = [os.path.getsize(p) for p in paths if p != STDIN]
    total = sum(sizes) if len(sizes) == len(paths) else None
    columns = (
        TextColumn("reading"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        TextColumn("{task.fields[lines]:,} records, {task.fields[rate]:,.0f}/s"), TimeElapsedColumn(),
    )
    # NOTE: the bar's own console on stderr: rich's default console is stdout's, which a redirected
    # report would receive, and which is not a terminal then (no bar at all)
    with Progress(*columns, transient=True, console=terminal().stderr(), redirect_stdout=False,
                  redirect_stderr=False) as bar:
        task = bar.add_task("read", total=total, lines=0, rate=0.0)

        def update(stats: ReadStats, records: int) -> None:
            # records, not stats.physical_lines: the reader counts a file's lines when it ends
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = records / elapsed if elapsed else 0.0
            bar.update(task, completed=stats.bytes_read, lines=records, rate=rate)

        yield update
