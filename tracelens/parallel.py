"""Both cores (or more): work split into tasks run by worker processes, results in task order.

The first task runs in this process while the others run in workers, so ``--jobs 2`` starts one
process, not two. Workers are forked where the platform allows it (they start with the grammar
already compiled); elsewhere they are spawned. Results come back in the order of the tasks, whatever
order the workers finish in: what is merged from them is the same for any number of jobs.
"""

from __future__ import annotations

import os
import re
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from tracelens.read.header import header_layout

T = TypeVar("T")

#: ``--jobs`` splits a file only from this size on: below it, starting a worker costs more than it saves.
MIN_SPLIT_BYTES = 16 << 20


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: The analysis splits by web-server process automatically only from this many cores on. Every part
#: reads every line and the parts' requests are sent back and merged: with two cores (often two
#: threads of one core on virtual machines) that costs what it saves, and the parts' memory adds up.
ANALYSIS_MIN_CORES = 4


def resolve_jobs(jobs: int | None, analysis: bool = False) -> int:
    """``--jobs``: None or 0 means automatic; at least 1.

    Automatic is every available core for counting (``parse --summary``); for the analysis it is every
    core from :data:`ANALYSIS_MIN_CORES` on, else one process.
    """
    if not jobs:
        cores = available_cores()
        return cores if not analysis or cores >= ANALYSIS_MIN_CORES else 1
    return max(1, jobs)


def run_tasks(fn: Callable[..., T], tasks: Sequence[tuple[Any, ...]], jobs: int) -> list[T]:
    """``[fn(*task) for task in tasks]``, with up to ``jobs`` processes; results in task order."""
    if jobs < 2 or len(tasks) < 2:
        return [fn(*task) for task in tasks]
    import multiprocessing  # here: a run in one process does not pay for importing them
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)) - 1, mp_context=context,
                             initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        try:
            futures = [pool.submit(fn, *task) for task in tasks[1:]]
            first = fn(*tasks[0])
            return [first, *(f.result() for f in futures)]
        except BaseException:
            # interrupted (Ctrl-C) or failed: the workers' parts are not wanted, and leaving the block would
            # wait for each of them to finish its whole part first
            _kill_workers(pool)
            raise


def _kill_workers(pool: Any) -> None:
    """Kill the worker processes of a ``ProcessPoolExecutor``.

    NOTE: ``kill_workers`` is public from Python 3.14 only; before it, the executor's own table of its
    processes is the one way to reach them.
    """
    kill = getattr(pool, "kill_workers", None)
    if kill is not None:
        kill()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.kill()


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    """In a worker: be killed when ``parent`` (the tracelens process that started it) dies.

    NOTE: a parent killed (SIGKILL, or SIGTERM before any handler ran) cannot stop its workers, and
    a worker forked from it holds both ends of the task queue's pipe, so it never sees the queue
    close: it waited forever, orphaned, holding its part's memory. On Linux the kernel sends the
    worker SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``); if the parent died before that
    was set, the worker has been re-parented already and ends at once.
    """
    import ctypes
    import ctypes.util
    import signal

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return  # not Linux: the executor's own shutdown is all there is
    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


class ProcessParts:
    """Which part of the analysis each web-server process belongs to.

    The plug-in keeps its state per process, so the analysis splits by process: each part reads
    every line and rebuilds the processes it owns. ``assigned`` (from :func:`plan_parts`) balances the
    processes seen at the start of the log; any other process goes by a hash of its id, the same in
    every part. Records without a process id belong to part 0.
    """

    def __init__(self, parts: int, assigned: dict[str, int]) -> None:
        self.parts = parts
        self.assigned = assigned

    def part_of(self, pid: str | None) -> int:
        if pid is None:
            return 0
        got = self.assigned.get(pid)
        return got if got is not None else zlib.crc32(pid.encode("utf-8", "surrogateescape")) % self.parts

    def keeper(self, part: int) -> Callable[[str | None], bool]:
        return lambda pid: self.part_of(pid) == part


def plan_parts(head: str, parts: int) -> dict[str, int]:
    """Processes balanced over ``parts`` by their records in ``head`` (the start of the log): the busiest
    first, each to the part with the fewest records so far; ties by process id, so the plan is the same
    for the same input."""
    seen = Counter(_PID.findall(head))
    load = [0] * parts
    assigned: dict[str, int] = {}
    for pid, n in sorted(seen.items(), key=lambda t: (-t[1], t[0])):
        part = min(range(parts), key=lambda i: (load[i], i))
        assigned[pid] = part
        load[part] += n
    return assigned


#: the process id of each record of a head of the log: the header's layout, loose (the plan needs no more)
_PID = re.compile("(?m)^" + header_layout(r"[^\]\n]*", r"(\S+)", r"\S+"))
