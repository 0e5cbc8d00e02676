"""The Python API: what the command line calls, usable from a notebook too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tracelens.parse.events import Event
from tracelens.parse.parser import parse_records
from tracelens.parse.summary import ParseSummary
from tracelens.read.reader import ReadStats, check_inputs, read_records
from tracelens.requests.assemble import Request, RequestAssembler, sort_requests
from tracelens.requests.sessions import Session, group_sessions
from tracelens.state.members import MemberTracker


def iter_events(paths: Sequence[str], stats: ReadStats, *, lenient: bool = False) -> Iterator[Event]:
    """Every record of ``paths`` as a typed event, in input order.

    Raises :class:`tracelens.errors.InputError` before yielding anything when a path cannot be
    opened at all; ``stats`` fills in while the iterator is consumed.
    """
    check_inputs(paths)
    return parse_records(read_records(paths, stats, lenient=lenient), lenient=lenient)


@dataclass(slots=True)
class Reconstruction:
    """Per-process member state, requests and sessions rebuilt from the logs."""

    stats: ReadStats
    summary: ParseSummary
    tracker: MemberTracker
    requests: list[Request] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    first_time: datetime | None = None
    last_time: datetime | None = None


def reconstruct(
    paths: Sequence[str],
    *,
    lenient: bool = False,
    affinity_cookies: Sequence[str] = ("JSESSIONID",),
    separator: str = ":",
) -> Reconstruction:
    """Read, parse, and rebuild what each process believed and what each request did, in one pass."""
    stats = ReadStats()
    summary = ParseSummary()
    tracker = MemberTracker()
    assembler = RequestAssembler(tracker.snapshot, affinity_cookies=affinity_cookies, separator=separator)
    requests: list[Request] = []
    first_time = last_time = None
    last_line = None
    for event in iter_events(paths, stats, lenient=lenient):
        summary.add(event)
        # the request opens (and snapshots its process's view) before the event changes that view
        requests.extend(assembler.feed(event))
        tracker.on_event(event)
        if event.time is not None:
            first_time = first_time or event.time
            last_time = event.time
        last_line = event.line
    requests.extend(assembler.finish())
    tracker.finish(last_time, last_line)
    requests = sort_requests(requests, stats.files)
    return Reconstruction(stats, summary, tracker, requests, group_sessions(requests), first_time, last_time)
