"""Reporter: member state and routed requests per web-server process, as lanes across time.

Theory of operation
-------------------
One lane per ``(process, member)`` (the plug-in keeps member state per process), plus one
``(no member)`` lane per process that had requests no member could take. Time runs left to right in
``Scale.cells`` equal buckets; the step is the smallest "nice" one (1-2-5 steps, then 15 s, 30 s,
minutes, hours, days) that fits the window into the lane area, and the origin is aligned to a
multiple of the step, so bucket ``i`` is ``[t0 + i*step, t0 + (i+1)*step)`` exactly.

A cell shows what the process believed about the member during its bucket, and when several states
meet in one bucket the strongest wins (:class:`CellState`: marked down > retry window > up > unknown):

- *unknown* until the first timed evidence of the member in that process (a status line, a STATS
  summary, a response, a mark-down), and again after a restart until new evidence;
- *marked down* from the mark-down until the retry is due: the last logged countdown
  (``retry in N``) says when, else the retry interval, else the logged ``Time to retry`` if earlier;
- *retry window* from then until the member is back (or the log ends);
- *up* otherwise.

Requests are placed at the time they began, on the lane of the member they were finally routed to
(the ``(no member)`` lane for ``no_member``), one mark per cell by :class:`Mark` priority. Everything
is bucketed in one pass over the requests and one over the intervals: the cost is
``O(requests + intervals + lanes * cells)``, whatever the length of the trace.

No I/O here: :func:`render` returns renderables and one-line messages, the command prints them.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from rich.cells import cell_len
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from tracelens.config.plugin_cfg import DEFAULT_RETRY_INTERVAL
from tracelens.errors import TracelensError
from tracelens.read.logset import split_process
from tracelens.report import Report
from tracelens.reporters.console import safe, safe_text
from tracelens.requests.assemble import Request
from tracelens.requests.cookies import CookieOutcome
from tracelens.requests.sessions import Session
from tracelens.routing.replay import RequestVerdict, Verdict
from tracelens.state.members import DownInterval, EndReason, MemberRecord

MIN_WIDTH = 80
#: the left-hand label: 80 columns leave 80 - 32 = 48 cells (at least 40 were wanted)
LABEL_WIDTH = 31
NO_MEMBER = "(no member)"
#: the label of the row under a lane that shows its state where requests' marks cover it
STATE_ROW_LABEL = "state under the marks"
ELLIPSIS = "…"

_MS = 1_000  # microseconds
_S = 1_000_000
_MAX_SECONDS = timedelta.max // timedelta(seconds=1)
#: the distances between two ticks of the axis, in microseconds: round times
_TICKS = (
    1 * _MS, 2 * _MS, 5 * _MS, 10 * _MS, 20 * _MS, 50 * _MS, 100 * _MS, 200 * _MS, 500 * _MS,
    1 * _S, 2 * _S, 5 * _S, 10 * _S, 15 * _S, 30 * _S,
    60 * _S, 120 * _S, 300 * _S, 600 * _S, 900 * _S, 1800 * _S,
    3600 * _S, 7200 * _S, 10800 * _S, 21600 * _S, 43200 * _S, 86400 * _S,
)
#: the steps a cell may stand for: the ticks, and steps between them that divide a tick, so that the
#: chart fills more of the width it is given (82 s in 68 cells: 1.5 s a cell, not 2 s)
_STEPS = tuple(sorted({*_TICKS, 1_500 * _MS, 3 * _S, 4 * _S, 6 * _S, 20 * _S, 40 * _S, 180 * _S, 240 * _S,
                       360 * _S, 1200 * _S, 2400 * _S, 14400 * _S, 28800 * _S}))


def _shifted(t: datetime, delta: timedelta | float) -> datetime:
    """``t`` moved by ``delta`` (a timedelta or seconds), held at the calendar's ends instead of overflowing.

    NOTE: the seconds come from the log (``retry in N`` with up to 30 digits) and the times may be in
    year 9999: a plain ``t + timedelta(seconds=N)`` raised OverflowError.
    """
    try:
        return t + (delta if isinstance(delta, timedelta) else timedelta(seconds=delta))
    except OverflowError:
        forward = delta > timedelta(0) if isinstance(delta, timedelta) else delta > 0
        return datetime.max if forward else datetime.min


class CellState(enum.IntEnum):
    """What a process believed about a member during a bucket; the higher value wins a shared bucket."""

    UNKNOWN = 0
    UP = 1
    RETRY = 2
    DOWN = 3


class Mark(enum.IntEnum):
    """A request's mark; the higher value wins a shared cell."""

    NONE = 0
    OTHER = 1  # kept, load balanced, new session, clone unknown, unexplained, incomplete
    FAILBACK = 2
    FAILOVER = 3
    SESSION_LOST = 4  # failover or failback, and the member issued a new session ID
    NO_MEMBER = 5


#: (glyph, style): distinct glyphs, so that the chart reads without colour
STATE_GLYPH: dict[CellState, tuple[str, str]] = {
    CellState.UNKNOWN: ("·", "dim"),
    CellState.UP: ("─", "green"),
    CellState.RETRY: ("░", "yellow"),
    CellState.DOWN: ("█", "red"),
}
MARK_GLYPH: dict[Mark, tuple[str, str]] = {
    Mark.OTHER: ("o", "bold cyan"),
    Mark.FAILBACK: ("B", "bold green"),
    Mark.FAILOVER: ("F", "bold yellow"),
    Mark.SESSION_LOST: ("L", "bold magenta"),
    Mark.NO_MEMBER: ("!", "bold white on red"),
}
MARK_NAME = {
    Mark.OTHER: "kept or other",
    Mark.FAILBACK: "failback",
    Mark.FAILOVER: "failover",
    Mark.SESSION_LOST: "session lost",
    Mark.NO_MEMBER: "no member",
}
_LEGEND_STATES = (
    (CellState.UP, "up"),
    (CellState.DOWN, "marked down"),
    (CellState.RETRY, "retry window (retry due)"),
    (CellState.UNKNOWN, "unknown"),
)


@dataclass(frozen=True, slots=True)
class TimelineOptions:
    """What to show; ``since``/``until`` as a time of day are on the log's first day."""

    pid: str | None = None
    member: str | None = None
    session: str | None = None
    since: datetime | time | None = None
    until: datetime | time | None = None


@dataclass(frozen=True, slots=True)
class Timeline:
    """The chart to print on stdout (empty when there is nothing to draw) and one-line messages for stderr."""

    renderables: tuple[RenderableType, ...]
    messages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scale:
    """``cells`` buckets of ``step`` from ``t0``."""

    t0: datetime
    step: timedelta
    cells: int

    def index(self, t: datetime) -> int:
        return (t - self.t0) // self.step

    def cell_range(self, start: datetime, end: datetime, *, inclusive: bool = False) -> range:
        """The buckets ``[start, end)`` touches (``[start, end]`` if inclusive), clipped to the chart."""
        if end < start or (end == start and not inclusive):
            return range(0)
        first = self.index(start)
        last = self.index(end) if inclusive else self.index(_shifted(end, -timedelta(microseconds=1)))
        return range(max(first, 0), min(last, self.cells - 1) + 1)


def _steps(steps: tuple[int, ...] = _STEPS) -> Iterator[int]:
    yield from steps
    days = 1
    while True:  # 2, 5, 10, 20, 50 ... days
        for k in (2, 5, 10):
            yield days * k * 86400 * _S
        days *= 10


def _align(t: datetime, step: timedelta) -> datetime:
    midnight = datetime.combine(t.date(), time(), tzinfo=t.tzinfo)
    return midnight + ((t - midnight) // step) * step


def choose_scale(lo: datetime, hi: datetime, cells: int) -> Scale:
    """The smallest nice step that fits ``[lo, hi]`` into ``cells`` buckets (1 s for a single instant)."""
    for step_us in _steps():
        if lo == hi and step_us < _S:
            continue
        step = timedelta(microseconds=step_us)
        t0 = _align(lo, step)
        n = (hi - t0) // step + 1
        if n <= cells:
            return Scale(t0, step, n)
    raise AssertionError("unreachable: the steps grow without bound")


def describe_step(step: timedelta) -> str:
    us = step // timedelta(microseconds=1)
    for unit, size in (("d", 86400 * _S), ("h", 3600 * _S), ("min", 60 * _S), ("s", _S), ("ms", _MS)):
        if us >= size and us % size == 0:
            return f"{us // size} {unit}"
    if us > _S:
        return f"{us / _S:g} s"  # 1.5 s
    return f"{us} µs"


def _duration(delta: timedelta) -> str:
    total = delta.total_seconds()
    if total < 10:
        return f"{total:.3g} s"
    if total < 120:
        return f"{total:.0f} s"
    minutes, s = divmod(int(total), 60)
    hours, m = divmod(minutes, 60)
    days, h = divmod(hours, 24)
    if days:
        return f"{days} d {h} h"
    if hours:
        return f"{hours} h {m} min"
    return f"{minutes} min {s} s"


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _ticks(scale: Scale, area: int, multi_day: bool) -> list[tuple[int, str]]:
    """Tick columns and labels: labels at round times, far enough apart to read."""
    step_us = scale.step // timedelta(microseconds=1)
    fmt = "%H:%M:%S"
    tick_us = step_us
    for tick_us in _steps(_TICKS):
        if tick_us < step_us or tick_us % step_us:
            continue
        fmt = ("%Y-%m-%d " if multi_day else "") + ("%H:%M:%S.%f" if tick_us < _S else "%H:%M:%S")
        width = len(_label_for(scale.t0, fmt))
        if tick_us // step_us >= width + 4:
            break
    tick = timedelta(microseconds=tick_us)
    first = _align(scale.t0, tick)
    if first < scale.t0:
        first = _shifted(first, tick)
    ticks = []
    t = first
    while (col := scale.index(t)) < scale.cells:
        label = _label_for(t, fmt)
        if col + len(label) <= area:
            ticks.append((col, label))
        later = _shifted(t, tick)
        if later == t:  # the end of the calendar
            break
        t = later
    return ticks


def _label_for(t: datetime, fmt: str) -> str:
    label = t.strftime(fmt)
    return label[:-3] if fmt.endswith("%f") else label  # milliseconds are enough


def _fit(text: str, width: int) -> str:
    """``text`` in exactly ``width`` cells: padded, or cut in the middle with an ellipsis.

    The middle, because member names of one cluster tend to differ at their start and at their end
    (``was1node_PluginMember1``, ``was2Node_PluginMember2``).
    """
    if cell_len(text) <= width:
        return text + " " * (width - cell_len(text))
    budget = width - 1
    head_budget, tail_budget = budget - budget // 2, budget // 2
    head, used = [], 0
    for ch in text:
        if used + cell_len(ch) > head_budget:
            break
        head.append(ch)
        used += cell_len(ch)
    tail: list[str] = []
    used_tail = 0
    for ch in reversed(text):
        if used_tail + cell_len(ch) > tail_budget:
            break
        tail.append(ch)
        used_tail += cell_len(ch)
    out = "".join(head) + ELLIPSIS + "".join(reversed(tail))
    return out + " " * (width - cell_len(out))


def lane_label(pid: str, member: str) -> Text:
    """``pid member`` in LABEL_WIDTH cells; the member is cut before the process is."""
    pid_s, member_s = safe(pid), safe(member)
    room = LABEL_WIDTH - cell_len(pid_s) - 1
    plain = pid_s + " " + _fit(member_s, room) if room >= 8 else _fit(f"{pid_s} {member_s}", LABEL_WIDTH)
    label = Text(plain)
    label.stylize("dim", 0, min(len(pid_s), len(plain)))
    if member == NO_MEMBER:
        label.stylize("italic", len(pid_s) + 1)
    return label


def mark_of(request: Request, verdict: RequestVerdict) -> Mark:
    v = verdict.verdict
    if v is Verdict.NO_MEMBER:
        return Mark.NO_MEMBER
    if v in (Verdict.FAILOVER, Verdict.FAILBACK):
        if request.cookie_outcome is CookieOutcome.NEW_SESSION:
            return Mark.SESSION_LOST
        return Mark.FAILOVER if v is Verdict.FAILOVER else Mark.FAILBACK
    return Mark.OTHER


def lane_of(request: Request, verdict: RequestVerdict) -> tuple[str, str] | None:
    """The lane a request is drawn on; None when the log shows no routing decision for it."""
    if verdict.verdict is Verdict.NO_MEMBER:
        return (request.pid, NO_MEMBER)
    member = verdict.routed_to or request.served_by
    return (request.pid, member) if member is not None else None


def _same_pid(a: str, b: str) -> bool:
    """Whether process key ``a`` is the process ``b`` names: a bare pid names it in every web server."""
    if "@" not in b:
        a = split_process(a)[1]
    return a.lower() == b.lower() or a.lower().lstrip("0") == b.lower().lstrip("0")


def _resolve(when: datetime | time | None, day: datetime) -> datetime | None:
    if when is None or isinstance(when, datetime):
        return when
    return datetime.combine(day.date(), when)


def _files(report: Report) -> str:
    return ", ".join(safe(f) for f in report.stats.files)


def render(report: Report, options: TimelineOptions, width: int) -> Timeline:
    """The timeline of ``report`` in ``width`` columns (at least MIN_WIDTH).

    Raises :class:`TracelensError` for an unknown process, member or session and for a window that
    ends before it starts.
    """
    width = max(width, MIN_WIDTH)
    verdicts = {v.index: v for v in report.verdicts}
    session = _session(report, options)
    _check_filters(report, options)

    def wanted(pid: str, member: str | None) -> bool:
        if options.pid is not None and not _same_pid(pid, options.pid):
            return False
        return options.member is None or member == options.member

    session_indices = {st.index for st in session.steps} if session else None
    untimed_requests = sum(
        1 for i, r in enumerate(report.requests)
        if r.begin is None and wanted(r.pid, r.served_by if options.member else None)
        and (session_indices is None or i in session_indices)
    )
    untimed_intervals = sum(
        1 for (pid, member), rec in report.tracker.members.items() if wanted(pid, member) and session is None
        for iv in rec.intervals if iv.start is None
    )

    lo, hi = _window(report, options, session)
    if lo is None or hi is None:
        return Timeline((), (f"{_files(report)}: no timestamps (a header-less excerpt?): {untimed_requests} "
                             f"request(s) and {untimed_intervals} down interval(s) cannot be placed on a timeline",))
    if hi < lo:  # --since after the session's last request, or --until before its first
        return Timeline((), (f"nothing to show from {_ts(lo)} to {_ts(hi)}{_filters(options, session)}: "
                             "the window does not meet the session",))

    area = width - LABEL_WIDTH - 1
    scale = choose_scale(lo, hi, area)
    placed = _place_requests(report, scale, lo, hi, session_indices, wanted, verdicts)

    marks, evidence = placed.marks, placed.evidence
    session_lanes = set(marks) if session is not None else None
    session_pids = {st.pid for st in session.steps} if session is not None else set()
    states: dict[tuple[str, str], bytearray] = {}
    shown_intervals = 0
    for key, rec in report.tracker.members.items():
        if not wanted(*key):
            continue
        timed = [iv for iv in rec.intervals if iv.start is not None]
        overlapping = [iv for iv in timed if iv.start is not None and iv.start <= hi and (iv.end or hi) >= lo]
        if session_lanes is not None and key not in session_lanes and not (key[0] in session_pids and overlapping):
            continue
        shown_intervals += len(overlapping)
        states[key] = _paint_member(rec, timed, evidence.get(key, []), scale, _retry_interval(report, key[1]), hi)

    if not placed.count and not shown_intervals:
        return Timeline((), (f"nothing to show from {_ts(lo)} to {_ts(hi)}{_filters(options, session)}: "
                             "no request and no down interval",))

    keys = sorted(set(states) | set(marks), key=lambda k: (k[0], k[1] == NO_MEMBER, k[1]))
    lanes: list[Text] = []
    for key in keys:
        row_state = states.get(key)
        row_marks = marks.get(key)
        if row_state is not None and row_marks is None and not any(row_state):
            continue  # nothing known about this member in the window: no lane
        if row_state is None and key[1] != NO_MEMBER:
            row_state = bytearray(scale.cells)  # requests went to it, but the process logged nothing of its state
        line = lane_label(*key)
        line.append(" ")
        line.append_text(_cells(row_state, row_marks, scale.cells))
        lanes.append(line)
        if row_state is not None and row_marks is not None and any(row_marks):
            # NOTE: a mark hides the state of its cell, and on a busy log every cell holds one: the
            # state then also gets a row of its own, so that it reads without colour
            state_row = Text(STATE_ROW_LABEL.rjust(LABEL_WIDTH), style="dim")
            state_row.append(" ")
            state_row.append_text(_cells(row_state, None, scale.cells))
            lanes.append(state_row)

    out: list[RenderableType] = [*_header(report, options, session, lo, hi, scale)]
    out.extend(_axis(scale, area, lo.date() != hi.date()))
    out.extend(lanes)
    out.extend(_legend())
    notes = []
    if untimed_requests or untimed_intervals:
        notes.append(f"{untimed_requests} request(s) and {untimed_intervals} down interval(s) have no timestamp "
                     "(header-less excerpt): not on the timeline")
    if placed.unrouted:
        notes.append(f"{placed.unrouted} request(s) with no routing decision in the log (cut by its edges): not on the "
                     "timeline")
    out.extend(Text(n, style="dim") for n in notes)
    if session is not None:
        out.extend(_session_list(report, session, verdicts))
    return Timeline(tuple(out), ())


@dataclass(slots=True)
class _Placed:
    marks: dict[tuple[str, str], bytearray]  # lane -> Mark per bucket
    evidence: dict[tuple[str, str], list[datetime]]  # lane -> times its process logged the member's state
    count: int = 0
    unrouted: int = 0


def _place_requests(report: Report, scale: Scale, lo: datetime, hi: datetime, only: set[int] | None,
                    wanted: Callable[[str, str | None], bool], verdicts: dict[int, RequestVerdict]) -> _Placed:
    """One pass over the requests: their marks, and the evidence of member state they carry."""
    placed = _Placed(defaultdict(lambda: bytearray(scale.cells)), defaultdict(list))
    for i, r in enumerate(report.requests):
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
        placed.count += 1
    return placed


def _session(report: Report, options: TimelineOptions) -> Session | None:
    if options.session is None:
        return None
    session = report.session(options.session)
    if session is None:
        raise TracelensError(f"session {options.session} does not appear in {', '.join(report.stats.files)}")
    return session


def _check_filters(report: Report, options: TimelineOptions) -> None:
    if options.pid is not None and not any(_same_pid(p, options.pid) for p in report.processes):
        raise TracelensError(f"process {options.pid} does not appear in the log (processes: "
                             f"{', '.join(report.processes) or 'none'})")
    if options.member is not None:
        known = {m for _, m in report.tracker.members} | {r.served_by for r in report.requests if r.served_by}
        known |= {v.routed_to for v in report.verdicts if v.routed_to}
        if options.member not in known:
            raise TracelensError(f"member {options.member} does not appear in the log (members: "
                                 f"{', '.join(sorted(known)) or 'none'})")


def _window(report: Report, options: TimelineOptions,
            session: Session | None) -> tuple[datetime | None, datetime | None]:
    """The window shown: --since/--until, else the session's requests, else the whole log."""
    lo, hi = report.first_time, report.last_time
    if session is not None:
        times = [t for st in session.steps for t in (st.time, report.requests[st.index].end) if t is not None]
        lo, hi = (min(times), max(times)) if times else (None, None)
    day = report.first_time or lo
    if day is None:
        return None, None
    since = _resolve(options.since, day)
    until = _resolve(options.until, day)
    if since is not None and until is not None and until <= since:
        # NOTE: a time of day is on the log's first day, so a window across midnight is written with
        # dates; `--since 10:16 --until 10:15` is a slip of the keyboard, not a request for 24 hours
        raise TracelensError(f"--since {_ts(since)} --until {_ts(until)}: the window is "
                             f"{'empty' if until == since else 'reversed'}; to cross midnight give dates "
                             "(YYYY-MM-DD HH:MM:SS)")
    first, last = report.first_time, report.last_time
    if first is not None and last is not None:
        outside = (f"--since {_ts(since)}" if since is not None and since > last
                   else f"--until {_ts(until)}" if until is not None and until < first else None)
        if outside is not None:
            raise TracelensError(f"{outside}: the window is outside the log, which runs from {_ts(first)} to "
                                 f"{_ts(last)}")
    return since or lo, until or hi


def _filters(options: TimelineOptions, session: Session | None = None) -> str:
    parts = []
    if session is not None:
        parts.append(f"session {session.session_id}")
    if options.pid:
        parts.append(f"process {options.pid}")
    if options.member:
        parts.append(f"member {options.member}")
    return f" {', '.join(safe(p) for p in parts)}" if parts else ""


def _retry_interval(report: Report, member: str) -> timedelta:
    cluster = report.topology.cluster_of(member)
    seconds = cluster.retry_interval if cluster else DEFAULT_RETRY_INTERVAL
    return timedelta(seconds=max(-_MAX_SECONDS, min(seconds, _MAX_SECONDS)))  # an inferred one may be absurd


def _interval_parts(iv: DownInterval, start: datetime, end: datetime,
                    retry: timedelta) -> list[tuple[datetime, datetime, CellState]]:
    """A down interval as marked-down and retry-window stretches."""
    parts = []
    down_from, due = start, _shifted(start, retry)
    counted = False  # whether a countdown of this down stretch has set `due` yet
    for c in iv.countdowns:
        if c.time is None:
            continue
        logged_due = _shifted(c.time, c.seconds)
        if c.seconds > 0 and c.time >= due and c.time > down_from:
            # a fresh countdown after the retry was due: the retry probe failed, down again
            parts += [(down_from, due, CellState.DOWN), (due, c.time, CellState.RETRY)]
            down_from, counted = c.time, False
        # the first countdown says when the retry is due (the retry interval may only be inferred);
        # later ones only count down to it (a `retryInSec 0` logged late does not postpone it)
        due = min(due, logged_due) if counted else logged_due
        counted = True
    if iv.retry_due is not None and down_from <= iv.retry_due < due:
        due = iv.retry_due  # the log said `Time to retry` before the countdown ran out
    due = min(max(due, down_from), end)
    parts += [(down_from, due, CellState.DOWN), (due, end, CellState.RETRY)]
    return [(a, b, state) for a, b, state in parts if b > a]


def _paint_member(rec: MemberRecord, intervals: list[DownInterval], evidence: list[datetime], scale: Scale,
                  retry: timedelta, hi: datetime) -> bytearray:
    """The state of one ``(pid, member)`` per bucket."""
    cells = bytearray(scale.cells)

    def paint(a: datetime, b: datetime, state: CellState, inclusive: bool = False) -> None:
        for i in scale.cell_range(a, b, inclusive=inclusive):
            if state > cells[i]:
                cells[i] = state

    times = sorted(
        evidence
        + rec.seen_times()
        + [iv.start for iv in intervals if iv.start is not None]
    )
    cursor = times[0] if times else None
    for iv in sorted(intervals, key=lambda iv: iv.start or hi):
        assert iv.start is not None
        end = iv.end if iv.end is not None and iv.end >= iv.start else hi
        if cursor is not None and cursor < iv.start:
            paint(cursor, iv.start, CellState.UP)
        parts = _interval_parts(iv, iv.start, end, retry)
        # still down when the log ends: the last bucket is down too, not the start of something else
        still_down = iv.end_reason in (EndReason.LOG_END, None)
        for n, (a, b, state) in enumerate(parts):
            paint(a, b, state, inclusive=still_down and n == len(parts) - 1)
        if not parts:
            paint(iv.start, end, CellState.DOWN, inclusive=True)  # marked down and back within the same instant
        # NOTE: a restart while the member was up is not placed: the tracker keeps its line, not its time
        if still_down:
            cursor = None
        elif iv.end_reason is EndReason.RESTART:
            later = bisect_right(times, end)
            cursor = times[later] if later < len(times) else None
        else:
            cursor = end
    if cursor is not None:
        paint(cursor, hi, CellState.UP, inclusive=True)
    return cells


def _cells(states: bytearray | None, marks: bytearray | None, n: int) -> Text:
    """One lane's cells as styled runs (one span per run, not per cell)."""
    text = Text()
    run: list[str] = []
    run_style = ""
    for i in range(n):
        mark = Mark(marks[i]) if marks is not None else Mark.NONE
        if mark:
            glyph, style = MARK_GLYPH[mark]
            if states is not None and states[i] >= CellState.RETRY:
                # keep the state visible under the mark when there is colour
                style = f"bold black on {STATE_GLYPH[CellState(states[i])][1]}"
        elif states is None:
            glyph, style = " ", ""  # the (no member) lane has no state
        else:
            glyph, style = STATE_GLYPH[CellState(states[i])]
        if style != run_style and run:
            text.append("".join(run), style=run_style)
            run = []
        run.append(glyph)
        run_style = style
    if run:
        text.append("".join(run), style=run_style)
    return text


def _header(report: Report, options: TimelineOptions, session: Session | None, lo: datetime, hi: datetime,
            scale: Scale) -> list[RenderableType]:
    title = Text("timeline  ", style="bold")
    title.append(_files(report), style="")
    span = Text(f"{_ts(lo)} → {hi.strftime('%H:%M:%S') if lo.date() == hi.date() else _ts(hi)}"
                f" ({_duration(hi - lo)})   ")
    span.append(f"1 cell = {describe_step(scale.step)}", style="bold")
    lines: list[RenderableType] = [title, span]
    shown = _filters(options, session)
    if shown:
        lines.append(Text("only" + shown, style="dim"))
    if session is not None:
        lines.append(Text("lanes: the members it went to, and those down meanwhile in its processes", style="dim"))
    return lines


def _axis(scale: Scale, area: int, multi_day: bool) -> list[Text]:
    labels = [" "] * area
    ruler = [" "] * area
    for col, label in _ticks(scale, area, multi_day):
        labels[col:col + len(label)] = list(label)
        ruler[col] = "|"
    head = " " * (LABEL_WIDTH + 1)
    ruler_line = Text(_fit("process  member", LABEL_WIDTH) + " ", style="dim")
    ruler_line.append("".join(ruler).rstrip(), style="dim")
    return [Text(head + "".join(labels).rstrip()), ruler_line]


def _legend() -> list[Text]:
    states = Text("state:    ", style="dim")
    for state, name in _LEGEND_STATES:
        glyph, style = STATE_GLYPH[state]
        states.append(glyph, style=style)
        states.append(f" {name}  ")
    states.rstrip()
    requests = Text("requests: ", style="dim")
    for mark in (Mark.OTHER, Mark.FAILOVER, Mark.FAILBACK, Mark.SESSION_LOST, Mark.NO_MEMBER):
        glyph, style = MARK_GLYPH[mark]
        requests.append(glyph, style=style)
        requests.append(f" {MARK_NAME[mark]}  ")
    requests.rstrip()
    order = " ".join(MARK_GLYPH[m][0] for m in sorted(MARK_GLYPH, reverse=True))
    rule = Text(f"          on the member it went to, when it began; per cell: first of {order}", style="dim")
    return [Text(), states, requests, rule]


def _session_list(report: Report, session: Session, verdicts: dict[int, RequestVerdict]) -> list[RenderableType]:
    table = Table(box=None, pad_edge=False, padding=(0, 2, 0, 0), show_edge=False)
    for name in ("", "time", "process", "member", "verdict"):
        table.add_column(name, overflow="fold")
    times = [st.time for st in session.steps if st.time is not None]
    fmt = "%H:%M:%S" if times and times[0].date() == times[-1].date() else "%Y-%m-%d %H:%M:%S"
    for st in session.steps:
        r = report.requests[st.index]
        v = verdicts[st.index]
        mark = mark_of(r, v)
        glyph, style = MARK_GLYPH[mark]
        lane = lane_of(r, v)
        verdict = v.verdict.value + (" (session lost)" if mark is Mark.SESSION_LOST else "")
        table.add_row(
            Text(glyph, style=style), Text(st.time.strftime(fmt) if st.time else "-"), safe_text(st.pid),
            safe_text(lane[1]) if lane else Text("-"), Text(verdict),
        )
    head = Text(f"session {safe(session.session_id)}: {len(session.steps)} request(s)", style="bold")
    return [Text(), head, table]
