"""State stage: each process's clock as its records show it, and where it goes backwards.

One web-server process writes its records in the order it lives them, so within one file and one
process the timestamps only go forward — up to the small reorderings of threads racing to write
(:data:`TOLERANCE`). When they go back further, the file is not what it seems: logs of several
servers or of several days concatenated, a rotated file pasted in the wrong order, a clock set back
(NTP, a DST change on a server that logs local time). Sessions and the routing replay order
requests by their times; member state follows the log's order. This module only finds the jumps, so
that the report can say where the times are not to be trusted. No I/O; any event sequence is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tracelens.parse import events as ev
from tracelens.parse.order import log_order

#: How far back a timestamp may be and still be a race between threads, not a jump of the clock.
TOLERANCE = timedelta(seconds=1)
#: Line numbers kept per (file, process); every jump is counted.
MAX_LINES = 50


@dataclass(slots=True)
class TimeJumps:
    """Where the time of one process in one file went backwards."""

    file: str
    pid: str
    count: int = 0
    lines: list[int] = field(default_factory=list)  # the first MAX_LINES records that went back
    first_from: datetime | None = None  # the first jump: from this time ...
    first_to: datetime | None = None  # ... back to this one
    first_previous_line: int | None = None
    largest: timedelta = timedelta(0)


class ClockWatch:
    """Feed events in log order; :attr:`jumps` lists, per (file, pid), where time went back."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], ev.Event] = {}  # the last timed record of each (file, pid)
        self._jumps: dict[tuple[str, str], TimeJumps] = {}

    @property
    def jumps(self) -> list[TimeJumps]:
        return list(self._jumps.values())

    @classmethod
    def merge(cls, parts: Sequence[ClockWatch], files: Sequence[str]) -> ClockWatch:
        """The jumps of parts fed disjoint processes (a process's clock is its own), in log order."""
        order = log_order(files)
        out = cls()
        jumps = sorted((j for part in parts for j in part._jumps.values()),
                       key=lambda j: order(j.file, j.lines[0] if j.lines else 0))
        out._jumps = {(j.file, j.pid): j for j in jumps}
        return out

    def on_event(self, event: ev.Event) -> None:
        time, pid = event.time, event.pid
        if time is None or pid is None:
            return
        key = (event.file, pid)
        last = self._last.get(key)
        # NOTE: the event itself is kept, not a new (time, line) pair: this runs for every record
        self._last[key] = event
        if last is None:
            return
        before = last.time
        assert before is not None  # only records with a time are kept
        if time >= before or before - time <= TOLERANCE:
            return
        jumps = self._jumps.get(key)
        if jumps is None:
            jumps = self._jumps[key] = TimeJumps(event.file, pid, first_from=before, first_to=time,
                                                 first_previous_line=last.line)
        jumps.count += 1
        if len(jumps.lines) < MAX_LINES:
            jumps.lines.append(event.line)
        jumps.largest = max(jumps.largest, before - time)
