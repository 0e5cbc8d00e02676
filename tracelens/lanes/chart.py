"""Lanes stage: member state and routed requests per web-server process, as lanes of cells across time.

Theory of operation
-------------------
One lane per ``(process, member)`` (the plug-in keeps member state per process), plus one
``(no member)`` lane per process that had requests no member could take. Time runs left to right in
:class:`~tracelens.lanes.scale.Scale` buckets.

A lane is first a list of :class:`Stretch` es — what the process believed about the member from when to
when, why, and on which lines — and then one :class:`CellState` per bucket, where the strongest state
of the stretches that meet the bucket wins (marked down > retry window > up > unknown):

- *unknown* until the first timed evidence of the member in that process (a status line, a STATS
  summary, a response, a mark-down), and again after a restart until new evidence;
- *marked down* from the mark-down until the retry is due, and again from each failed retry probe;
- *retry window* from then until the member is back (or the log ends);

When a retry is due is not decided here: the routing model says it (:func:`tracelens.routing.model.retry_timers`,
the rule the replay judges every request by), so that a request marked on a lane in its retry window is
one the model let through, and a lane marked down is one it would skip.
- *up* otherwise.

Requests are placed at the time they began, on the lane of the member they were finally routed to
(the ``(no member)`` lane for ``no_member``), one :class:`Mark` per bucket by priority. Everything is
bucketed in one pass over the requests and one over the intervals: the cost is
``O(requests + intervals + lanes * cells)``, whatever the length of the trace.

No I/O and no terminal here: the reporters draw a :class:`LaneChart` (as text, or as pictures).
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Protocol

from tracelens.config.plugin_cfg import DEFAULT_RETRY_INTERVAL
from tracelens.config.topology import Topology
from tracelens.errors import TracelensError
from tracelens.lanes.scale import Scale, choose_scale
from tracelens.read.logset import split_process
from tracelens.read.reader import ReadStats
from tracelens.requests.assemble import Request
from tracelens.requests.cookies import CookieOutcome
from tracelens.requests.sessions import Session
from tracelens.routing.model import retry_timers
from tracelens.routing.replay import RequestVerdict, Verdict
from tracelens.state.members import DownInterval, DownReason, EndReason, MemberRecord, MemberTracker

#: the member of the lane that holds a process's requests no member could take
NO_MEMBER = "(no member)"


class CellState(enum.IntEnum):
    """What a process believed about a member during a bucket; the higher value wins a shared bucket."""

    UNKNOWN = 0
    UP = 1
    RETRY = 2
    DOWN = 3


class Mark(enum.IntEnum):
    """A request's mark; the higher value wins a shared bucket."""

    NONE = 0
    OTHER = 1  # kept, load balanced, new session, clone unknown, unexplained, incomplete
    FAILBACK = 2
    FAILOVER = 3
    SESSION_LOST = 4  # failover or failback, and the member issued a new session ID
    NO_MEMBER = 5


class Cause(str, enum.Enum):
    """Why a stretch of a lane is in its state."""

    SEEN = "seen"  # up: the process logged the member (a status line, STATS, a weight, a response)
    BACK_UP = "back_up"  # up: a down interval ended (marked up, served, status up)
    MARKED_DOWN = "marked_down"  # marked down: the mark-down (or the first evidence of it), its failure beside it
    # marked down again while down (a failed retry probe, or a connection that failed meanwhile): the retry
    # timer starts again from this failure (APAR PK28197)
    MARKED_DOWN_AGAIN = "marked_down_again"
    RETRY_INTERVAL = "retry_interval"  # retry window: the retry interval has passed since the last failure
    RETRY_LOGGED = "retry_logged"  # retry window: the process logged the retry due before the interval passed


class Empty(str, enum.Enum):
    """Why a chart has nothing to draw."""

    NO_TIMESTAMPS = "no_timestamps"  # a header-less excerpt: nothing can be placed in time
    OUTSIDE_SESSION = "outside_session"  # --since/--until do not meet the session's requests
    NOTHING_IN_WINDOW = "nothing_in_window"  # no request and no down interval in the window


@dataclass(frozen=True, slots=True)
class Evidence:
    """A log line: its file and line number (``str()`` gives ``file:line``)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Stretch:
    """A time during which one process believed one thing about one member.

    ``[start, end)``, or ``[start, end]`` when ``closed`` (the member was still so when the log ended,
    or was marked down and back within one instant). ``failure`` is the failure that marked it down
    (for a marked-down stretch); ``evidence`` the lines the stretch rests on.
    """

    state: CellState
    start: datetime
    end: datetime
    cause: Cause
    evidence: tuple[Evidence, ...] = ()
    failure: DownReason | None = None
    closed: bool = False


@dataclass(frozen=True, slots=True)
class RequestMark:
    """A request placed on a lane: when it began, its verdict, its mark and its first line."""

    index: int  # in the analysis's requests and verdicts
    time: datetime
    verdict: Verdict
    mark: Mark
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class Lane:
    """One ``(process, member)``: its stretches, a state per bucket, and the requests routed to it.

    The ``(no member)`` lane (``member == NO_MEMBER``) has no state: ``cells`` is None.
    """

    pid: str
    member: str
    stretches: tuple[Stretch, ...]
    cells: tuple[CellState, ...] | None
    marks: tuple[Mark, ...]  # per bucket, Mark.NONE where no request began
    requests: tuple[RequestMark, ...]
    retry_interval: int | None = None  # seconds, of the member's cluster (None for the no-member lane)

    @property
    def no_member(self) -> bool:
        return self.member == NO_MEMBER


@dataclass(frozen=True, slots=True)
class LaneFilters:
    """What to show; ``since``/``until`` as a time of day are on the log's first day."""

    pid: str | None = None
    member: str | None = None
    session: str | None = None
    since: datetime | time | None = None
    until: datetime | time | None = None


@dataclass(frozen=True, slots=True)
class LaneChart:
    """The lanes of a window of the log, ready to draw.

    ``empty`` says why there is nothing to draw (``lanes`` is then empty); ``since``/``until`` are the
    window shown (None without timestamps), ``scale`` its buckets (None when empty). The counts are what
    could not be placed: requests and down intervals without a timestamp, requests without a routing
    decision in the log.
    """

    since: datetime | None
    until: datetime | None
    scale: Scale | None
    lanes: tuple[Lane, ...]
    session: Session | None
    untimed_requests: int
    untimed_intervals: int
    unrouted: int
    empty: Empty | None = None


class LaneSource(Protocol):
    """What the lanes are built from (the report has it all; the lanes stage sits below it)."""

    @property
    def stats(self) -> ReadStats: ...
    @property
    def tracker(self) -> MemberTracker: ...
    @property
    def requests(self) -> Sequence[Request]: ...
    @property
    def verdicts(self) -> Sequence[RequestVerdict]: ...
    @property
    def topology(self) -> Topology: ...
    @property
    def first_time(self) -> datetime | None: ...
    @property
    def last_time(self) -> datetime | None: ...
    @property
    def processes(self) -> list[str]: ...
    def session(self, session_id: str) -> Session | None: ...


def mark_of(request: Request, verdict: RequestVerdict) -> Mark:
    """The mark of a request by its verdict (a failover or failback that lost the session: SESSION_LOST)."""
    v = verdict.verdict
    if v is Verdict.NO_MEMBER:
        return Mark.NO_MEMBER
    if v in (Verdict.FAILOVER, Verdict.FAILBACK, Verdict.SECONDARY_USED):
        if request.cookie_outcome is CookieOutcome.NEW_SESSION:
            return Mark.SESSION_LOST
        # a WebLogic session that went to its secondary failed over as well
        return Mark.FAILBACK if v is Verdict.FAILBACK else Mark.FAILOVER
    return Mark.OTHER


def lane_of(request: Request, verdict: RequestVerdict) -> tuple[str, str] | None:
    """The lane a request is drawn on; None when the log shows no routing decision for it."""
    if verdict.verdict is Verdict.NO_MEMBER:
        return (request.pid, NO_MEMBER)
    member = verdict.routed_to or request.served_by
    return (request.pid, member) if member is not None else None


def same_pid(a: str, b: str) -> bool:
    """Whether process key ``a`` is the process ``b`` names: a bare pid names it in every web server."""
    if "@" not in b:
        a = split_process(a)[1]
    return a.lower() == b.lower() or a.lower().lstrip("0") == b.lower().lstrip("0")


def _resolve(when: datetime | time | None, day: datetime) -> datetime | None:
    if when is None or isinstance(when, datetime):
        return when
    return datetime.combine(day.date(), when)


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def build_lanes(analysis: LaneSource, filters: LaneFilters, cells: int) -> LaneChart:
    """The lanes of ``analysis`` that ``filters`` keep, in at most ``cells`` buckets.

    Raises :class:`TracelensError` for an unknown process, member or session, and for a window that is
    empty, reversed or outside the log.
    """
    verdicts = {v.index: v for v in analysis.verdicts}
    session = _session(analysis, filters)
    _check_filters(analysis, filters)

    def wanted(pid: str, member: str | None) -> bool:
        if filters.pid is not None and not same_pid(pid, filters.pid):
            return False
        return filters.member is None or member == filters.member

    session_indices = {st.index for st in session.steps} if session else None
    untimed_requests = sum(
        1 for i, r in enumerate(analysis.requests)
        if r.begin is None and wanted(r.pid, r.served_by if filters.member else None)
        and (session_indices is None or i in session_indices)
    )
    untimed_intervals = sum(
        1 for (pid, member), rec in analysis.tracker.members.items() if wanted(pid, member) and session is None
        for iv in rec.intervals if iv.start is None
    )

    def empty(why: Empty, lo: datetime | None = None, hi: datetime | None = None,
              scale: Scale | None = None, unrouted: int = 0) -> LaneChart:
        return LaneChart(lo, hi, scale, (), session, untimed_requests, untimed_intervals, unrouted, why)

    lo, hi = _window(analysis, filters, session)
    if lo is None or hi is None:
        return empty(Empty.NO_TIMESTAMPS)
    if hi < lo:  # --since after the session's last request, or --until before its first
        return empty(Empty.OUTSIDE_SESSION, lo, hi)

    scale = choose_scale(lo, hi, cells)
    placed = _place_requests(analysis, scale, lo, hi, session_indices, wanted, verdicts)

    session_lanes = set(placed.marks) if session is not None else None
    session_pids = {st.pid for st in session.steps} if session is not None else set()
    stretches: dict[tuple[str, str], list[Stretch]] = {}
    shown_intervals = 0
    for key, rec in analysis.tracker.members.items():
        if not wanted(*key):
            continue
        timed = [iv for iv in rec.intervals if iv.start is not None]
        overlapping = [iv for iv in timed if iv.start is not None and iv.start <= hi and (iv.end or hi) >= lo]
        if session_lanes is not None and key not in session_lanes and not (key[0] in session_pids and overlapping):
            continue
        shown_intervals += len(overlapping)
        stretches[key] = _member_stretches(rec, timed, placed.evidence.get(key, []),
                                           _retry_interval(analysis.topology, key[1]), hi)

    if not placed.count and not shown_intervals:
        return empty(Empty.NOTHING_IN_WINDOW, lo, hi, scale, placed.unrouted)

    lanes: list[Lane] = []
    for key in sorted(set(stretches) | set(placed.marks), key=lambda k: (k[0], k[1] == NO_MEMBER, k[1])):
        row_marks = placed.marks.get(key)
        own = stretches.get(key)
        states = _paint(own, scale) if own is not None else None
        if states is not None and row_marks is None and not any(states):
            continue  # nothing known about this member in the window: no lane
        if states is None and key[1] != NO_MEMBER:
            states = bytearray(scale.cells)  # requests went to it, but the process logged nothing of its state
        lanes.append(Lane(
            pid=key[0], member=key[1], stretches=tuple(own or ()),
            cells=tuple(CellState(s) for s in states) if states is not None else None,
            marks=tuple(Mark(m) for m in row_marks) if row_marks is not None else (Mark.NONE,) * scale.cells,
            requests=tuple(placed.requests.get(key, ())),
            retry_interval=None if key[1] == NO_MEMBER else _retry_interval(analysis.topology, key[1]),
        ))
    return LaneChart(lo, hi, scale, tuple(lanes), session, untimed_requests, untimed_intervals, placed.unrouted)


@dataclass(slots=True)
class _Placed:
    marks: dict[tuple[str, str], bytearray]  # lane -> Mark per bucket
    requests: dict[tuple[str, str], list[RequestMark]]
    evidence: dict[tuple[str, str], list[datetime]]  # lane -> times its process logged the member's state
    count: int = 0
    unrouted: int = 0


def _place_requests(analysis: LaneSource, scale: Scale, lo: datetime, hi: datetime, only: set[int] | None,
                    wanted: Callable[[str, str | None], bool], verdicts: dict[int, RequestVerdict]) -> _Placed:
    """One pass over the requests: their marks, and the evidence of member state they carry."""
    placed = _Placed(defaultdict(lambda: bytearray(scale.cells)), defaultdict(list), defaultdict(list))
    for i, r in enumerate(analysis.requests):
        if r.begin is None:
            continue
        for s in r.status_checks:
            placed.evidence[(r.pid, s.member)].append(r.begin)
        if r.served_by is not None:
            placed.evidence[(r.pid, r.served_by)].append(r.end or r.begin)
        if (only is not None and i not in only) or not lo <= r.begin <= hi:
            continue
        v = verdicts[i]
        lane = lane_of(r, v)
        if lane is None:
            placed.unrouted += wanted(r.pid, None)
            continue
        if not wanted(*lane):
            continue
        cell = scale.index(r.begin)
        mark = mark_of(r, v)
        row = placed.marks[lane]
        if mark > row[cell]:
            row[cell] = mark
        placed.requests[lane].append(RequestMark(i, r.begin, v.verdict, mark, Evidence(*r.locate(r.first_line))))
        placed.count += 1
    return placed


def _session(analysis: LaneSource, filters: LaneFilters) -> Session | None:
    if filters.session is None:
        return None
    session = analysis.session(filters.session)
    if session is None:
        raise TracelensError(f"session {filters.session} does not appear in {', '.join(analysis.stats.files)}")
    return session


def _check_filters(analysis: LaneSource, filters: LaneFilters) -> None:
    if filters.pid is not None and not any(same_pid(p, filters.pid) for p in analysis.processes):
        raise TracelensError(f"process {filters.pid} does not appear in the log (processes: "
                             f"{', '.join(analysis.processes) or 'none'})")
    if filters.member is not None:
        known = {m for _, m in analysis.tracker.members} | {r.served_by for r in analysis.requests if r.served_by}
        known |= {v.routed_to for v in analysis.verdicts if v.routed_to}
        if filters.member not in known:
            raise TracelensError(f"member {filters.member} does not appear in the log (members: "
                                 f"{', '.join(sorted(known)) or 'none'})")


def _window(analysis: LaneSource, filters: LaneFilters,
            session: Session | None) -> tuple[datetime | None, datetime | None]:
    """The window shown: --since/--until, else the session's requests, else the whole log."""
    lo, hi = analysis.first_time, analysis.last_time
    if session is not None:
        times = [t for st in session.steps for t in (st.time, analysis.requests[st.index].end) if t is not None]
        lo, hi = (min(times), max(times)) if times else (None, None)
    day = analysis.first_time or lo
    if day is None:
        return None, None
    since = _resolve(filters.since, day)
    until = _resolve(filters.until, day)
    if since is not None and until is not None and until <= since:
        # NOTE: a time of day is on the log's first day, so a window across midnight is written with
        # dates; `--since 10:16 --until 10:15` is a slip of the keyboard, not a request for 24 hours
        raise TracelensError(f"--since {_ts(since)} --until {_ts(until)}: the window is "
                             f"{'empty' if until == since else 'reversed'}; to cross midnight give dates "
                             "(YYYY-MM-DD HH:MM:SS)")
    first, last = analysis.first_time, analysis.last_time
    if first is not None and last is not None:
        outside = (f"--since {_ts(since)}" if since is not None and since > last
                   else f"--until {_ts(until)}" if until is not None and until < first else None)
        if outside is not None:
            raise TracelensError(f"{outside}: the window is outside the log, which runs from {_ts(first)} to "
                                 f"{_ts(last)}")
    return since or lo, until or hi


def _retry_interval(topology: Topology, member: str) -> int:
    cluster = topology.cluster_of(member)
    return cluster.retry_interval if cluster else DEFAULT_RETRY_INTERVAL


def _where(iv: DownInterval, line: int | None, file: str | None) -> tuple[Evidence, ...]:
    return (Evidence(file or iv.file, line),) if line is not None else ()


def _interval_parts(iv: DownInterval, end: datetime, retry_interval: int) -> list[Stretch]:
    """A down interval as marked-down and retry-window stretches, one pair per run of its retry timer.

    NOTE: when the retry is due is the routing model's answer (:func:`tracelens.routing.model.retry_timers`:
    the retry interval from the last failure, in whole seconds, or earlier when the process logged it due),
    the rule by which the replay judged every request. The countdowns the log shows (``retry in N``) are
    the process's statements: they are evidence of the marked-down stretch they fall in, and where they
    disagree with the model the findings say so; they do not move the retry window.
    """
    timers = retry_timers(iv, retry_interval)
    parts: list[Stretch] = []
    for k, timer in enumerate(timers):
        start = max(timer.started, parts[-1].end) if parts else timer.started
        until = min(max(timers[k + 1].started, start), end) if k + 1 < len(timers) else end
        due = min(max(timer.due, start), until)
        said = tuple(Evidence(c.file or iv.file, c.line) for c in iv.countdowns
                     if c.time is not None and start <= c.time < due)
        if timer.restart:
            parts.append(Stretch(CellState.DOWN, start, due, Cause.MARKED_DOWN_AGAIN,
                                 (Evidence(timer.file, timer.line), *said)))
        else:
            parts.append(Stretch(CellState.DOWN, start, due, Cause.MARKED_DOWN,
                                 (*_where(iv, iv.reason_line, iv.reason_file), Evidence(timer.file, timer.line), *said),
                                 iv.reason))
        logged = (Evidence(timer.due_file or iv.file, timer.due_line),) if timer.due_line is not None else ()
        if timer.logged:
            cause, evidence = Cause.RETRY_LOGGED, logged
        else:  # the interval counted from where the timer started; the retry due line, if logged later
            cause, evidence = Cause.RETRY_INTERVAL, (Evidence(timer.file, timer.line), *logged)
        parts.append(Stretch(CellState.RETRY, due, until, cause, evidence))
    return [p for p in parts if p.end > p.start]


def _member_stretches(rec: MemberRecord, intervals: list[DownInterval], evidence: list[datetime],
                      retry_interval: int, hi: datetime) -> list[Stretch]:
    """What one process believed about one member, from its first evidence to ``hi``, stretch by stretch."""
    out: list[Stretch] = []
    times = sorted(
        evidence
        + rec.seen_times()
        + [iv.start for iv in intervals if iv.start is not None]
    )
    cursor = times[0] if times else None
    up_cause, up_evidence = Cause.SEEN, tuple[Evidence, ...]()
    for iv in sorted(intervals, key=lambda iv: iv.start or hi):
        assert iv.start is not None
        end = iv.end if iv.end is not None and iv.end >= iv.start else hi
        if cursor is not None and cursor < iv.start:
            out.append(Stretch(CellState.UP, cursor, iv.start, up_cause, up_evidence))
        parts = _interval_parts(iv, end, retry_interval)
        # still down when the log ends: the last bucket is down too, not the start of something else
        still_down = iv.end_reason in (EndReason.LOG_END, None)
        if parts and still_down:
            last = parts[-1]
            parts[-1] = Stretch(last.state, last.start, last.end, last.cause, last.evidence, last.failure, True)
        out.extend(parts)
        if not parts:  # marked down and back within the same instant
            out.append(Stretch(CellState.DOWN, iv.start, end, Cause.MARKED_DOWN,
                               _where(iv, iv.start_line, None), iv.reason, True))
        # NOTE: a restart while the member was up is not placed: the tracker keeps its line, not its time
        if still_down:
            cursor = None
        elif iv.end_reason is EndReason.RESTART:
            later = bisect_right(times, end)
            cursor = times[later] if later < len(times) else None
            up_cause, up_evidence = Cause.SEEN, ()
        else:
            cursor = end
            up_cause, up_evidence = Cause.BACK_UP, _where(iv, iv.end_line, iv.end_file)
    if cursor is not None:
        out.append(Stretch(CellState.UP, cursor, hi, up_cause, up_evidence, closed=True))
    return out


def _paint(stretches: list[Stretch], scale: Scale) -> bytearray:
    """One state per bucket: the strongest of the stretches that meet it."""
    cells = bytearray(scale.cells)
    for s in stretches:
        for i in scale.cell_range(s.start, s.end, inclusive=s.closed):
            if s.state > cells[i]:
                cells[i] = s.state
    return cells
