"""Both cores (or more): work split into tasks run by worker processes, results in task order.

The first task runs in this process while the others run in workers, so ``--jobs 2`` starts one
process, not two. Workers are forked where the platform allows it (they start with the grammar
already compiled); elsewhere they are spawned. Results come back in the order of the tasks, whatever
order the workers finish in: what is merged from them is the same for any number of jobs.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

#: ``--jobs`` splits a file only from this size on: below it, starting a worker costs more than it saves.
MIN_SPLIT_BYTES = 16 << 20


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def resolve_jobs(jobs: int | None) -> int:
    """``--jobs``: None or 0 means automatic (every available core); at least 1."""
    if not jobs:
        return available_cores()
    return max(1, jobs)


def run_tasks(fn: Callable[..., T], tasks: Sequence[tuple[Any, ...]], jobs: int) -> list[T]:
    """``[fn(*task) for task in tasks]``, with up to ``jobs`` processes; results in task order."""
    if jobs < 2 or len(tasks) < 2:
        return [fn(*task) for task in tasks]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)) - 1, mp_context=context) as pool:
        futures = [pool.submit(fn, *task) for task in tasks[1:]]
        first = fn(*tasks[0])
        return [first, *(f.result() for f in futures)]
