"""Requests stage: requests grouped into sessions, across every process, in time order.

A session is keyed by its session ID without the cache ID (the cache ID changes mid-session
without meaning anything, facts §4.3). A request belongs to the session it carried; a request that
carried none belongs to the session its response created.

A session's requests are in time order, as the routing replay takes them: across files and processes
only the clock can order them (logs of several servers, rotated files given in any order, files
concatenated in the wrong order). Where a process's clock went backwards the report says so
(``input.time-backwards``).

At most :data:`SESSION_LIMIT` sessions are tracked, the first ones met: a log with more (a load test,
a crawler without cookies) must not make memory grow without bound. The requests of the others are
still replayed and judged; they are only in no session, and :class:`Untracked` counts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from tracelens.requests.assemble import Request

#: The most sessions one analysis tracks; read at every call, so that a test can lower it.
SESSION_LIMIT = 100_000
#: At most this many requests are kept for the replay (a few KB each, about 15 million log lines):
#: the ones after it are counted and reported (input.limit), so that memory stays bounded on a log
#: of any size.
REQUEST_LIMIT = 500_000


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
        return sum(1 for a, b in pairwise(served) if a != b)

    @property
    def processes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.pid for s in self.steps))


@dataclass(frozen=True, slots=True)
class Untracked:
    """The sessions beyond :data:`SESSION_LIMIT`, and their requests."""

    sessions: int = 0
    requests: int = 0
    limit: int = SESSION_LIMIT
    requests_not_kept: int = 0  # requests after the first REQUEST_LIMIT: counted, not replayed
    request_limit: int = REQUEST_LIMIT


def _when(step: SessionStep) -> tuple[int, datetime, str, int]:
    # requests without a time (header-less excerpts) keep their input order
    return (0, step.time, step.file, step.line) if step.time is not None else (1, datetime.min, step.file, step.line)


def group_sessions(requests: Iterable[Request]) -> tuple[list[Session], Untracked]:
    """The sessions of ``requests`` (in input order) and what was not tracked beyond the limit."""
    limit = SESSION_LIMIT
    by_id: dict[str, list[SessionStep]] = {}
    beyond: set[str] = set()
    beyond_requests = 0
    for index, r in enumerate(requests):
        sid = r.session_id
        if sid is None:
            continue
        steps = by_id.get(sid)
        if steps is None:
            if len(by_id) >= limit:
                beyond.add(sid)
                beyond_requests += 1
                continue
            steps = by_id[sid] = []
        clones = r.cookie.clone_ids if r.cookie is not None and r.cookie.valid else ()
        steps.append(SessionStep(index, r.begin, r.pid, r.tid, r.file, r.first_line, r.served_by, clones))
    sessions = [Session(sid, tuple(sorted(steps, key=_when))) for sid, steps in by_id.items()]
    sessions.sort(key=lambda s: _when(s.steps[0]))
    return sessions, Untracked(len(beyond), beyond_requests, limit)
