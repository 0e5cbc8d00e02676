"""Reporter: the progress of a fleet's parts on standard error, one per web server (bytes read of its total).

On a terminal (as the single progress bar: not in CI, not ``--quiet``) one bar per web server, moved
by the events the workers send while they read; elsewhere (a CI log, a redirected standard error) one
line per web server when its part is back, so that a long run in a log file still shows where it is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from tracelens.reporters.console import terminal

if TYPE_CHECKING:
    from tracelens.read.logset import PartProgress


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n} bytes"  # pragma: no cover - the loop returns


@contextmanager
def fleet_progress(sizes: dict[str, int]) -> Iterator[Callable[[PartProgress], None] | None]:
    """Yields the callback the engine calls with each part's progress (from any thread), or None with ``--quiet``."""
    term = terminal()
    if term.quiet:
        yield None
        return
    lock = threading.Lock()
    finished: set[str] = set()
    if not term.progress_allowed():
        def line(p: PartProgress) -> None:
            with lock:
                if not p.done or p.web_server in finished:
                    return
                finished.add(p.web_server)
                term.message("note", f"{p.web_server}: {_size(p.bytes_total)} read ({len(finished)} of "
                                     f"{len(sizes)} web servers done)")
        yield line
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[where]}"),
               TimeElapsedColumn())
    with Progress(*columns, transient=True, console=term.stderr(), redirect_stdout=False,
                  redirect_stderr=False) as bar:
        tasks: dict[str, TaskID] = {ws: bar.add_task(ws, total=size or None, where="waiting")
                                    for ws, size in sizes.items()}

        def update(p: PartProgress) -> None:
            with lock:
                if p.web_server in finished or p.web_server not in tasks:
                    return  # a worker's last event may come after its result
                if p.done:
                    finished.add(p.web_server)
                where = "done" if p.done else (p.worker.removeprefix("tcp://") or "reading")
                bar.update(tasks[p.web_server], completed=p.bytes_read, where=where)

        yield update
