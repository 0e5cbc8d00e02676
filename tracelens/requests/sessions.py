"""Requests stage: requests grouped into sessions, across every process, in time order.

A session is keyed by its session ID without the cache ID (the cache ID changes mid-session
without meaning anything, facts §4.3). A request belongs to the session it carried; a request that
carried none belongs to the session its response created.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tracelens.requests.assemble import Request


@dataclass(frozen=True, slots=True)
class SessionStep:
    """One request of a session: when, where, and who served it."""

    index: int  # position of the request in the analysis's request list
    time: datetime | None
    pid: str
    tid: str | None
    file: str
    line: int
    served_by: str | None
    clone_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    steps: tuple[SessionStep, ...]

    @property
    def members(self) -> tuple[str, ...]:
        """The members that served it, in the order they first did."""
        seen: dict[str, None] = {}
        for s in self.steps:
            if s.served_by is not None:
                seen.setdefault(s.served_by, None)
        return tuple(seen)

    @property
    def switches(self) -> int:
        """How many times consecutive served requests went to a different member."""
        served = [s.served_by for s in self.steps if s.served_by is not None]
        return sum(1 for a, b in zip(served, served[1:]) if a != b)

    @property
    def processes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.pid for s in self.steps))


def _when(step: SessionStep) -> tuple[int, datetime, str, int]:
    # requests without a time (header-less excerpts) keep their input order
    return (0, step.time, step.file, step.line) if step.time is not None else (1, datetime.min, step.file, step.line)


def group_sessions(requests: Iterable[Request]) -> list[Session]:
    by_id: dict[str, list[SessionStep]] = {}
    for index, r in enumerate(requests):
        sid = r.session_id
        if sid is None:
            continue
        clones = r.cookie.clone_ids if r.cookie is not None and r.cookie.valid else ()
        by_id.setdefault(sid, []).append(
            SessionStep(index, r.begin, r.pid, r.tid, r.file, r.first_line, r.served_by, clones)
        )
    sessions = [Session(sid, tuple(sorted(steps, key=_when))) for sid, steps in by_id.items()]
    sessions.sort(key=lambda s: _when(s.steps[0]))
    return sessions
