"""State stage: what each web-server process believed about each cluster member, over time.

Theory of operation
-------------------
The plug-in keeps its view of the cluster **per web-server process** (facts §4.6): a member marked
down in pid A says nothing about pid B, and a successful response on another connection of the same
process clears the mark. So the key of everything here is ``(pid, member)``.

Each key moves through :class:`MemberState`: ``UNKNOWN`` (no evidence yet) → ``UP`` / ``DOWN``
(``RETRY_DUE`` once the retry interval has passed) → ``UP`` again ("back up"). Events become
:class:`Signal` s, and the whole behaviour is the table :data:`TRANSITIONS`:
``(state, signal) -> (next state, action)``. Rules every change must keep:

1. A transition is looked up, never improvised: a pair missing from the table is a bug.
2. A line that contradicts the model (``markedDown 0`` while the member is down and no recovery was
   seen; ``markedDown 1`` while it is up and no mark-down was seen) is recorded as an
   :class:`Observation` with both line numbers. The model then follows the log: the log is what the
   process believed.
3. Down intervals are facts from the log (start line, reason, end line and how it ended). Retry
   countdowns are kept as logged; computing them from the retry interval is the routing stage's job.
4. A process restart (``Plugins loaded.``) or a STATS counter that goes down (restart or configuration
   reload) closes every open interval of that process and returns its members to ``UNKNOWN``.
5. No I/O, no exceptions for odd input: the tracker accepts any event sequence.

Why a mark-down happened comes from the same thread's preceding failure (connect refused, connect
timeout, ServerIOTimeout, a 5xx response): the tracker remembers the last failure per ``(pid, tid)``.
"""

from __future__ import annotations

import enum
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from tracelens.parse import events as ev
from tracelens.parse.order import log_order


class MemberState(str, enum.Enum):
    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"
    RETRY_DUE = "retry_due"


class DownReason(str, enum.Enum):
    """Why a member was marked down, from the failure the same thread logged just before."""

    CONNECT_REFUSED = "connect_refused"
    CONNECT_TIMEOUT = "connect_timeout"
    SERVER_IO_TIMEOUT = "server_io_timeout"
    HTTP_5XX = "http_5xx"
    STREAM_FAILED = "stream_failed"
    MARKED_DOWN = "marked_down"  # an explicit `Marking X down` with no failure seen before it
    BEFORE_LOG = "before_log"  # first seen already down: the mark-down is not in the log
    UNSEEN = "unseen"  # was up, then reported down with no mark-down line in between


#: How reports say what failed, by the value a DownReason or an attempt outcome shares.
FAILURE_PHRASES: dict[str, str] = {
    "connect_refused": "the connection was refused",
    "connect_timeout": "the connect timeout fired",
    "server_io_timeout": "the ServerIOTimeout fired",
    "http_5xx": "it answered with a 5xx status",
    "error_status": "it answered with a 5xx status",
    "stream_failed": "the stream to it failed",
    "marked_down": "the log gives no cause",
    "before_log": "it was already down when the log starts",
    "unseen": "the process reported it down without logging a mark-down",
}


class EndReason(str, enum.Enum):
    """How a down interval ended."""

    MARKED_UP = "marked_up"
    SERVED = "served"  # a response from the member in this process
    STATUS_UP = "status_up"  # a status line with markedDown 0
    RESTART = "restart"  # the process restarted or reloaded its configuration
    LOG_END = "log_end"  # still down when the log ends


class Signal(str, enum.Enum):
    MARK_DOWN = "mark_down"
    MARK_UP = "mark_up"
    STATUS_DOWN = "status_down"  # markedDown 1, retryNow 0 (or `is marked down; retry in N`)
    STATUS_RETRY = "status_retry"  # markedDown 1, retryNow 1 (or `Time to retry server`)
    STATUS_UP = "status_up"  # markedDown 0
    SERVED = "served"


class Action(str, enum.Enum):
    NONE = "none"
    OPEN = "open"  # open a down interval
    OPEN_UNSEEN = "open_unseen"  # open one, and record a contradiction: no mark-down was seen
    OPEN_BEFORE_LOG = "open_before_log"  # first evidence is "down": it began before the log
    CLOSE = "close"  # close the open interval (recovery seen)
    CLOSE_CONTRADICTION = "close_contradiction"  # close it, and record: no recovery was seen
    NOTE_RETRY_DUE = "note_retry_due"
    NOTE_REPEAT = "note_repeat"  # marked down again while down: a failed retry probe


S, G, A = MemberState, Signal, Action

#: The state machine. Every (state, signal) pair is here.
TRANSITIONS: dict[tuple[MemberState, Signal], tuple[MemberState, Action]] = {
    (S.UNKNOWN, G.MARK_DOWN): (S.DOWN, A.OPEN),
    (S.UNKNOWN, G.STATUS_DOWN): (S.DOWN, A.OPEN_BEFORE_LOG),
    (S.UNKNOWN, G.STATUS_RETRY): (S.RETRY_DUE, A.OPEN_BEFORE_LOG),
    (S.UNKNOWN, G.STATUS_UP): (S.UP, A.NONE),
    (S.UNKNOWN, G.MARK_UP): (S.UP, A.NONE),
    (S.UNKNOWN, G.SERVED): (S.UP, A.NONE),
    (S.UP, G.MARK_DOWN): (S.DOWN, A.OPEN),
    (S.UP, G.STATUS_DOWN): (S.DOWN, A.OPEN_UNSEEN),
    (S.UP, G.STATUS_RETRY): (S.RETRY_DUE, A.OPEN_UNSEEN),
    (S.UP, G.STATUS_UP): (S.UP, A.NONE),
    (S.UP, G.MARK_UP): (S.UP, A.NONE),
    (S.UP, G.SERVED): (S.UP, A.NONE),
    (S.DOWN, G.MARK_DOWN): (S.DOWN, A.NOTE_REPEAT),
    (S.DOWN, G.STATUS_DOWN): (S.DOWN, A.NONE),
    (S.DOWN, G.STATUS_RETRY): (S.RETRY_DUE, A.NOTE_RETRY_DUE),
    (S.DOWN, G.STATUS_UP): (S.UP, A.CLOSE_CONTRADICTION),
    (S.DOWN, G.MARK_UP): (S.UP, A.CLOSE),
    # TUNE61: a response on another connection of the same process marks the member up again
    (S.DOWN, G.SERVED): (S.UP, A.CLOSE),
    (S.RETRY_DUE, G.MARK_DOWN): (S.DOWN, A.NOTE_REPEAT),
    # a new countdown without a mark-down line: the retry probe failed where the log does not say
    (S.RETRY_DUE, G.STATUS_DOWN): (S.DOWN, A.NOTE_REPEAT),
    (S.RETRY_DUE, G.STATUS_RETRY): (S.RETRY_DUE, A.NONE),
    (S.RETRY_DUE, G.STATUS_UP): (S.UP, A.CLOSE),
    (S.RETRY_DUE, G.MARK_UP): (S.UP, A.CLOSE),
    (S.RETRY_DUE, G.SERVED): (S.UP, A.CLOSE),
}

_END_BY_SIGNAL = {G.MARK_UP: EndReason.MARKED_UP, G.SERVED: EndReason.SERVED, G.STATUS_UP: EndReason.STATUS_UP}


@dataclass(frozen=True, slots=True)
class Countdown:
    """A retry countdown as the log wrote it (``retry in N``, ``retryInSec N``)."""

    time: datetime | None
    line: int
    seconds: int
    after: int | None = None  # whole seconds since the retry timer last started (DownInterval.retry_from)
    file: str | None = None  # the file of ``line`` when it is not the interval's (a rotated set)


@dataclass(frozen=True, slots=True)
class TimerRestart:
    """A further mark-down of a member already down (a failed retry probe): its retry timer starts again.

    The retry due that the process had logged before it (``Time to retry``, ``retryNow 1``), if any, is
    kept here: the interval's own ``retry_due`` is cleared by the restart, and the lanes of the timeline
    show every run of the timer, not only the last.
    """

    line: int
    time: datetime | None
    file: str | None  # None: the interval's own file
    retry_due: datetime | None = None
    retry_due_line: int | None = None
    retry_due_file: str | None = None


@dataclass(slots=True)
class DownInterval:
    """A member marked down in one process: from the mark-down (or first evidence) to recovery."""

    pid: str
    member: str
    file: str
    start_line: int
    start: datetime | None
    reason: DownReason
    reason_line: int | None = None
    end_line: int | None = None
    end: datetime | None = None
    end_reason: EndReason | None = None
    end_file: str | None = None  # the file of end_line, when a later file continued the log
    countdowns: list[Countdown] = field(default_factory=list)
    retry_due_line: int | None = None  # first `retryNow 1` / `Time to retry server`
    retry_due: datetime | None = None
    repeats: list[int] = field(default_factory=list)  # lines of further mark-downs (failed retry probes)
    # NOTE: the files of the lines above when a rotation put them in another file than ``file``: None,
    # and absent from repeat_files, for the interval's own file, so that one file's intervals carry nothing
    reason_file: str | None = None
    retry_due_file: str | None = None
    repeat_files: dict[int, str] = field(default_factory=dict)  # index in repeats -> file
    # when the retry timer last started: the mark-down, then each failed probe (the plug-in counts the
    # retry interval from the last failure, APAR PK28197)
    retry_from: datetime | None = None
    # every restart of the retry timer, in log order (the lines are also in ``repeats``)
    timer_restarts: list[TimerRestart] = field(default_factory=list)

    def countdown(self, time: datetime | None, line: int, seconds: int, file: str | None = None) -> Countdown:
        since = self.retry_from
        after = whole_seconds(since, time) if since is not None and time is not None else None
        if after is not None and after < 0:
            after = None  # the clock went back since the timer started: no elapsed time to tell
        return Countdown(time, line, seconds, after, file if file != self.file else None)

    @property
    def seconds(self) -> float | None:
        """How long it was down; None when a time is missing or the end is before the start (a clock set
        back: a negative duration is never reported, the contradiction is)."""
        if self.start is None or self.end is None or self.end < self.start:
            return None
        return (self.end - self.start).total_seconds()

    @property
    def backwards(self) -> bool:
        """The interval ends before it starts: the process's clock went back while the member was down."""
        return self.start is not None and self.end is not None and self.end < self.start

    def locations(self) -> list[tuple[str, int]]:
        """Every line the interval rests on, with its file: start, cause, retry due, failed retries, end."""
        out = [(self.file, self.start_line)]
        if self.reason_line is not None:
            out.append((self.reason_file or self.file, self.reason_line))
        if self.retry_due_line is not None:
            out.append((self.retry_due_file or self.file, self.retry_due_line))
        out.extend((self.repeat_files.get(i, self.file), line) for i, line in enumerate(self.repeats))
        if self.end_line is not None:
            out.append((self.end_file or self.file, self.end_line))
        return sorted(set(out), key=lambda fl: (fl[0] != self.file, fl[0] == self.end_file, fl[1]))


@dataclass(frozen=True, slots=True)
class Observation:
    """A log line that contradicts what the model believed, with the line that made it believe so."""

    pid: str
    member: str
    file: str
    line: int
    previous_line: int | None
    message: str


@dataclass(frozen=True, slots=True)
class CounterSnapshot:
    """A STATS summary: cumulative per process (pending, failed, affinity, total)."""

    time: datetime | None
    line: int
    pending: int
    failed: int
    affinity: int
    total: int


#: How many of the latest STATS summaries and weights each member keeps (the reports show 20).
HISTORY = 20
EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class WeightSeen:
    time: datetime | None
    line: int
    source: str  # "picked" (lockedServerGroupUseServer), "state" (weights_need_reset/assureWeightsValid)
    current: int
    maximum: int | None


def whole_seconds(start: datetime, end: datetime) -> int:
    """The seconds from ``start`` to ``end`` as the plug-in's clock counts them: whole seconds
    (``retryInSec`` = RetryInterval − seconds since the mark-down, plugin-facts §2.3)."""
    return int((end.replace(microsecond=0) - start.replace(microsecond=0)).total_seconds())


@dataclass(frozen=True, slots=True)
class MemberView:
    """What a process believed about one member at one moment (for the routing replay)."""

    member: str
    state: MemberState
    retry_from: datetime | None  # when its retry timer last started (DownInterval.retry_from)
    reason: DownReason | None
    reached_max_connections: bool


@dataclass(slots=True)
class MemberRecord:
    """Everything tracked for one ``(pid, member)``."""

    pid: str
    member: str
    state: MemberState = MemberState.UNKNOWN
    state_line: int | None = None  # the line that put it in this state
    intervals: list[DownInterval] = field(default_factory=list)
    # the latest STATS summaries and weights (at least HISTORY of each; what the reports show), and the
    # time of every one of them (what the timeline paints), as whole microseconds since EPOCH: a
    # million-line log has a summary and a weight per request, 290 bytes a request as records.
    # Added through add_counters and add_weight, which keep the three together.
    counters: list[CounterSnapshot] = field(default_factory=list)
    counter_resets: list[int] = field(default_factory=list)
    weights: list[WeightSeen] = field(default_factory=list)
    seen: array[int] = field(default_factory=lambda: array("q"))
    max_connections_lines: list[int] = field(default_factory=list)
    first_line: int | None = None
    last_line: int | None = None
    requests_served: int = 0
    last_wlb_allows: int | None = None
    counting: bool = False  # a STATS summary was seen since the process (re)started: the next is compared with it
    at_max_connections: bool = False  # the latest status line or warning said MaxConnections was reached

    def add_counters(self, snap: CounterSnapshot) -> None:
        self._keep(self.counters, snap, snap.time)
        self.counting = True

    def add_weight(self, seen: WeightSeen) -> None:
        self._keep(self.weights, seen, seen.time)

    def _keep(self, history: list[_T], item: _T, time: datetime | None) -> None:
        """``item`` appended to ``history`` (trimmed to the latest HISTORY once twice as long), its time
        to :attr:`seen`."""
        history.append(item)
        if len(history) >= 2 * HISTORY:
            del history[:-HISTORY]
        if time is not None:
            self.seen.append((time - EPOCH) // _MICROSECOND)

    def seen_times(self) -> list[datetime]:
        """The time of every STATS summary and weight seen, in the order seen."""
        return [EPOCH + timedelta(microseconds=us) for us in self.seen]

    @property
    def open_interval(self) -> DownInterval | None:
        if self.intervals and self.intervals[-1].end_reason is None:
            return self.intervals[-1]
        return None

    def view(self) -> MemberView:
        iv = self.open_interval
        return MemberView(
            member=self.member,
            state=self.state,
            retry_from=iv.retry_from if iv else None,
            reason=iv.reason if iv else None,
            reached_max_connections=self.at_max_connections,
        )


# NOTE: which event reports which failure is one table, ev.FAILURES, shared with request assembly; a
# failure is the DownReason of the same value (a Failure without one fails here, at import).
_DOWN_BY_FAILURE: dict[ev.Failure, DownReason] = {f: DownReason(f.value) for f in ev.Failure}
# a more specific failure of the same attempt is not overwritten by the generic one that follows it
_GENERIC = {DownReason.STREAM_FAILED}


class MemberTracker:
    """Consumes events in log order; answers what each process believed about each member."""

    def __init__(self) -> None:
        self.members: dict[tuple[str, str], MemberRecord] = {}
        self.observations: list[Observation] = []
        self.restarts: list[tuple[str, int]] = []  # (pid, line)
        self._failure: dict[tuple[str, str | None], tuple[DownReason, int, str]] = {}
        self._current: dict[tuple[str, str | None], str] = {}
        # per file: its last record, and its last record with a time (kept whole: taking their line and
        # time apart for every record cost more than the rest of the bookkeeping)
        self._last_record: dict[str, ev.Event] = {}
        self._last_timed: dict[str, ev.Event] = {}
        self._by_pid: dict[str, dict[str, MemberRecord]] = {}
        self._snapshots: dict[str, tuple[MemberView, ...]] = {}  # per process, until its view changes
        self._at: ev.Event | None = None  # the event being taken
        self._created: dict[tuple[str, str], tuple[str, int]] = {}  # (file, line) where each record began
        self._restart_files: list[str] = []

    # ---------------------------------------------------------------- queries

    def record(self, pid: str, member: str) -> MemberRecord:
        key = (pid, member)
        rec = self.members.get(key)
        if rec is None:
            rec = self.members[key] = MemberRecord(pid, member)
            self._by_pid.setdefault(pid, {})[member] = rec
            self._snapshots.pop(pid, None)
            at = self._at
            self._created[key] = (at.file, at.line) if at is not None else ("", 0)
        return rec

    def snapshot(self, pid: str) -> tuple[MemberView, ...]:
        """What process ``pid`` believes now about every member it has evidence of."""
        # Requests keep their snapshots: one shared tuple per state of the process, not one per request
        # (a million-line log has tens of thousands of requests and few state changes).
        cached = self._snapshots.get(pid)
        if cached is not None:
            return cached
        own = self._by_pid.get(pid)
        snap = tuple(own[m].view() for m in sorted(own)) if own else ()
        self._snapshots[pid] = snap
        return snap

    def intervals(self) -> list[DownInterval]:
        out = [iv for rec in self.members.values() for iv in rec.intervals]
        out.sort(key=lambda iv: (iv.file, iv.start_line, iv.pid, iv.member))
        return out

    # ---------------------------------------------------------------- input

    def feed(self, events: Iterable[ev.Event]) -> None:
        for event in events:
            self.on_event(event)

    def on_event(self, event: ev.Event) -> None:
        pid = event.pid
        if pid is None:
            if event.time is not None or not event.line:
                return
            pid = "-"  # header-less excerpts: one anonymous process
        self._at = event
        self._last_record[event.file] = event
        if event.time is not None:
            self._last_timed[event.file] = event
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, pid, event)

    @classmethod
    def merge(cls, parts: Sequence[MemberTracker], files: Sequence[str]) -> MemberTracker:
        """One tracker from trackers fed the records of disjoint sets of processes (before :meth:`finish`).

        The plug-in keeps its state per process, so each process's records are whole in one part;
        what spans processes is put back in log order — the members by the record that first named
        them, observations and restarts by their line, each file's last record — so that the result
        is the tracker one pass over every record would have built.
        """
        at = log_order(files)
        out = cls()
        created = sorted(((at(*part._created[key]), i, n, key, rec, part._created[key])
                          for i, part in enumerate(parts) for n, (key, rec) in enumerate(part.members.items())),
                         key=lambda t: t[:3])
        for *_, key, rec, where in created:
            out.members[key] = rec
            out._by_pid.setdefault(key[0], {})[key[1]] = rec
            out._created[key] = where
        out.observations = sorted((o for part in parts for o in part.observations), key=lambda o: at(o.file, o.line))
        restarts = sorted(((at(f, r[1]), r, f) for part in parts for r, f in zip(part.restarts, part._restart_files,
                                                                                   strict=True)), key=lambda t: t[0])
        out.restarts = [r for _, r, _ in restarts]
        out._restart_files = [f for _, _, f in restarts]
        for part in parts:
            for file, last in part._last_record.items():
                if file not in out._last_record or last.line > out._last_record[file].line:
                    out._last_record[file] = last
            for file, timed in part._last_timed.items():
                if file not in out._last_timed or timed.line > out._last_timed[file].line:
                    out._last_timed[file] = timed
        return out

    def finish(self, last_time: datetime | None = None, last_line: int | None = None,
               last_file: Callable[[str], str] | None = None) -> None:
        """Close what is still open when the log ends: at ``last_line`` if given, else at the last record
        of the interval's own file (several files need not be one log), or of the last file that continues
        it (``last_file``: a rotated set)."""
        for rec in self.members.values():
            iv = rec.open_interval
            if iv is None:
                continue
            iv.end_reason = EndReason.LOG_END
            if last_line is not None:
                iv.end_line, iv.end = last_line, last_time
            else:
                file = iv.end_file or iv.file
                if last_file is not None and last_file(file) in self._last_record:
                    file = last_file(file)
                    if file != iv.file:
                        iv.end_file = file
                if file in self._last_record:
                    timed = self._last_timed.get(file)
                    iv.end_line, iv.end = self._last_record[file].line, timed.time if timed else None
                else:
                    iv.end_line, iv.end = iv.start_line, iv.start
        self._backwards()

    def _backwards(self) -> None:
        """An interval that ends before it starts is a contradiction, never a negative duration (rule 2)."""
        for rec in self.members.values():
            for iv in rec.intervals:
                if not iv.backwards or iv.end is None or iv.start is None:
                    continue
                end_file = iv.end_file or iv.file
                where = f"line {iv.end_line}" if end_file == iv.file else f"{end_file}:{iv.end_line}"
                self.observations.append(Observation(
                    iv.pid, iv.member, end_file, iv.end_line or iv.start_line, iv.start_line,
                    f"{iv.member} in process {iv.pid}: marked down at {iv.start:%Y-%m-%d %H:%M:%S} (line "
                    f"{iv.start_line}), its down time ends at {iv.end:%Y-%m-%d %H:%M:%S} ({where}), "
                    f"{(iv.start - iv.end).total_seconds():.0f} s earlier: the process's clock went back while it "
                    "was down, so no duration is reported",
                ))

    # ---------------------------------------------------------------- signals

    def signal(self, pid: str, member: str, sig: Signal, event: ev.Event, reason: DownReason | None = None,
               reason_line: int | None = None, reason_file: str | None = None) -> None:
        rec = self.record(pid, member)
        rec.first_line = rec.first_line if rec.first_line is not None else event.line
        rec.last_line = event.line
        nxt, action = TRANSITIONS[(rec.state, sig)]
        previous_line = rec.state_line
        iv = rec.open_interval
        if action is A.OPEN:
            self._open(rec, event, reason or DownReason.MARKED_DOWN, reason_line)
            if reason_file is not None and reason_file != event.file:
                rec.intervals[-1].reason_file = reason_file
        elif action is A.OPEN_BEFORE_LOG:
            self._open(rec, event, DownReason.BEFORE_LOG, None)
        elif action is A.OPEN_UNSEEN:
            self.observations.append(Observation(
                pid, member, event.file, event.line, previous_line,
                f"{member} reported marked down in process {pid}, but no mark-down was logged since it was last "
                "seen up",
            ))
            self._open(rec, event, DownReason.UNSEEN, None)
        elif action in (A.CLOSE, A.CLOSE_CONTRADICTION) and iv is not None:
            if action is A.CLOSE_CONTRADICTION:
                self.observations.append(Observation(
                    pid, member, event.file, event.line, iv.start_line,
                    f"{member} reported up (markedDown 0) in process {pid} while marked down since line "
                    f"{iv.start_line}, with no recovery logged",
                ))
            iv.end_reason = _END_BY_SIGNAL[sig]
            iv.end, iv.end_line = event.time, event.line
            if event.file != iv.file:
                iv.end_file = event.file
        elif action is A.NOTE_RETRY_DUE and iv is not None:
            iv.retry_due_line, iv.retry_due = event.line, event.time
            iv.retry_due_file = event.file if event.file != iv.file else None
        elif action is A.NOTE_REPEAT and iv is not None:
            if event.file != iv.file:
                iv.repeat_files[len(iv.repeats)] = event.file
            iv.repeats.append(event.line)
            iv.timer_restarts.append(TimerRestart(
                event.line, event.time, event.file if event.file != iv.file else None,
                iv.retry_due, iv.retry_due_line, iv.retry_due_file,
            ))
            iv.retry_due_line = iv.retry_due = iv.retry_due_file = None
            if event.time is not None:
                iv.retry_from = event.time
        if nxt is MemberState.RETRY_DUE and action in (A.OPEN_BEFORE_LOG, A.OPEN_UNSEEN):
            opened = rec.intervals[-1]
            opened.retry_due_line, opened.retry_due = event.line, event.time
            opened.retry_due_file = None  # opened at this very line
        if nxt is not rec.state or action is not A.NONE:
            rec.state_line = event.line
        if nxt is not rec.state or action is not A.NONE:
            self._snapshots.pop(pid, None)  # what the process believes changed
        rec.state = nxt

    def _open(self, rec: MemberRecord, event: ev.Event, reason: DownReason, reason_line: int | None) -> None:
        rec.intervals.append(DownInterval(
            pid=rec.pid, member=rec.member, file=event.file, start_line=event.line, start=event.time,
            reason=reason, reason_line=reason_line, retry_from=event.time,
        ))

    def restart(self, pid: str, event: ev.Event) -> None:
        """The process restarted or reloaded: every member of it is unknown again.

        Recorded as a restart only when the process had state to lose (its first start is not one).
        """
        if any(p == pid for p, _ in self.members):
            self.restarts.append((pid, event.line))
            self._restart_files.append(event.file)
        for (p, _), rec in self.members.items():
            if p != pid:
                continue
            iv = rec.open_interval
            if iv is not None:
                iv.end_reason, iv.end, iv.end_line = EndReason.RESTART, event.time, event.line
                if event.file != iv.file:
                    iv.end_file = event.file
            rec.state, rec.state_line = MemberState.UNKNOWN, event.line
            self._snapshots.pop(pid, None)
            rec.counting = False  # a restarted process counts from zero again
        for key in [k for k in self._current if k[0] == pid]:
            del self._current[key]
        for key in [k for k in self._failure if k[0] == pid]:
            del self._failure[key]

    # ---------------------------------------------------------------- event handlers

    def _on_status(self, pid: str, e: ev.Event) -> None:
        assert isinstance(e, ev.StatusCheck)
        sig = (Signal.STATUS_RETRY if e.retry_now else Signal.STATUS_DOWN) if e.marked_down else Signal.STATUS_UP
        self.signal(pid, e.server, sig, e)
        rec = self.record(pid, e.server)
        if e.retry_in_sec is not None and e.marked_down and (iv := rec.open_interval) is not None:
            iv.countdowns.append(iv.countdown(e.time, e.line, e.retry_in_sec, e.file))
        if e.reached_max_connections is not None:
            if rec.at_max_connections != bool(e.reached_max_connections):
                self._snapshots.pop(pid, None)
            rec.at_max_connections = bool(e.reached_max_connections)
            if e.reached_max_connections:
                rec.max_connections_lines.append(e.line)
        if rec.last_wlb_allows != e.wlb_allows:  # kept only when it changes: status lines are frequent
            rec.last_wlb_allows = e.wlb_allows
            rec.add_weight(WeightSeen(e.time, e.line, "wlb_allows", e.wlb_allows, None))

    def _on_retry_in(self, pid: str, e: ev.Event) -> None:
        assert isinstance(e, ev.MarkedDownRetry)
        self.signal(pid, e.server, Signal.STATUS_DOWN, e)
        iv = self.record(pid, e.server).open_interval
        if iv is not None:
            iv.countdowns.append(iv.countdown(e.time, e.line, e.retry_in, e.file))

    def _on_retry_due(self, pid: str, e: ev.Event) -> None:
        assert isinstance(e, ev.RetryDue)
        self.signal(pid, e.server, Signal.STATUS_RETRY, e)

    def _on_mark_down(self, pid: str, e: ev.Event) -> None:
        assert isinstance(e, ev.MarkedDown)
        failure = self._failure.pop((pid, e.tid), None)
        if self._current.get((pid, e.tid)) == e.server:
            del self._current[(pid, e.tid)]  # a later response on this thread is not this member's
        reason, line, file = failure if failure else (DownReason.MARKED_DOWN, None, None)
        self.signal(pid, e.server, Signal.MARK_DOWN, e, reason, line, file)

    def _on_mark_up(self, pid: str, e: ev.Event) -> None:
        assert isinstance(e, ev.MarkedUp)
        self.signal(pid, e.server, Signal.MARK_UP, e)

    def _on_failure(self, pid: str, e: ev.Event) -> None:
        reason = _DOWN_BY_FAILURE[ev.FAILURES[type(e)]]
        key = (pid, e.tid)
        prior = self._failure.get(key)
        if prior is None or reason not in _GENERIC:
            self._failure[key] = (reason, e.line, e.file)

    def _on_pick(self, pid: str, e: ev.Event) -> None:
        server = getattr(e, "server", None)
        if server is None or (isinstance(e, ev.ConnectionCount) and not e.is_increment):
            return
        key = (pid, e.tid)
        if self._current.get(key) != server:
            self._failure.pop(key, None)  # a new attempt: earlier failures belong to the previous one
        self._current[key] = server
        rec = self.record(pid, server)
        if isinstance(e, ev.ServerPicked):
            rec.add_weight(WeightSeen(e.time, e.line, "picked", e.weight, None))

    def _on_response(self, pid: str, e: ev.Event) -> None:
        assert isinstance(e, ev.ResponseStatus)
        key = (pid, e.tid)
        member = self._current.get(key)
        if member is None or e.status < 200:
            return  # `100 Continue` is not the answer
        if e.status >= 500:
            self._failure[key] = (DownReason.HTTP_5XX, e.line, e.file)
            return
        self._failure.pop(key, None)
        self.record(pid, member).requests_served += 1
        self.signal(pid, member, Signal.SERVED, e)

    def _on_request_end(self, pid: str, e: ev.Event) -> None:
        self._current.pop((pid, e.tid), None)
        self._failure.pop((pid, e.tid), None)

    def _on_stats(self, pid: str, e: ev.Event) -> None:
        assert isinstance(e, ev.ServerStats)
        rec = self.record(pid, e.server)
        snap = CounterSnapshot(e.time, e.line, e.pending, e.failed, e.affinity, e.total)
        if rec.counting:
            prev = rec.counters[-1]
            fell = [f"{name} {a} -> {b}" for name, a, b in (("total", prev.total, snap.total),
                                                            ("affinity", prev.affinity, snap.affinity),
                                                            ("failed", prev.failed, snap.failed)) if b < a]
            if fell:
                # cumulative counters only go down when the process restarted or reloaded its configuration
                rec.counter_resets.append(e.line)
                self.observations.append(Observation(
                    pid, e.server, e.file, e.line, prev.line,
                    f"STATS counters of {e.server} went down in process {pid} ({', '.join(fell)}): "
                    "the process restarted or reloaded its configuration",
                ))
                self.restart(pid, e)
        rec.add_counters(snap)

    def _on_weight(self, pid: str, e: ev.Event) -> None:
        assert isinstance(e, ev.WeightState)
        self.record(pid, e.server).add_weight(WeightSeen(e.time, e.line, "state", e.cur_weight, e.max_weight))

    def _on_max_reached(self, pid: str, e: ev.Event) -> None:
        assert isinstance(e, ev.MaxConnectionsReached)
        rec = self.record(pid, e.server)
        rec.max_connections_lines.append(e.line)
        if not rec.at_max_connections:
            self._snapshots.pop(pid, None)
        rec.at_max_connections = True
        rec.last_line = e.line

    def _on_restart(self, pid: str, e: ev.Event) -> None:
        self.restart(pid, e)


_HANDLERS = {
    ev.StatusCheck: MemberTracker._on_status,
    ev.MarkedDownRetry: MemberTracker._on_retry_in,
    ev.RetryDue: MemberTracker._on_retry_due,
    ev.MarkedDown: MemberTracker._on_mark_down,
    ev.MarkedUp: MemberTracker._on_mark_up,
    **dict.fromkeys(ev.FAILURES, MemberTracker._on_failure),
    ev.ServerPicked: MemberTracker._on_pick,
    ev.ConnectionCount: MemberTracker._on_pick,
    ev.AffinityServerSet: MemberTracker._on_pick,
    ev.CloneNextUp: MemberTracker._on_pick,
    ev.ResponseStatus: MemberTracker._on_response,
    ev.RequestEnd: MemberTracker._on_request_end,
    ev.ServerStats: MemberTracker._on_stats,
    ev.WeightState: MemberTracker._on_weight,
    ev.MaxConnectionsReached: MemberTracker._on_max_reached,
    ev.PluginsLoaded: MemberTracker._on_restart,
}

#: Every event kind the tracker reads.
READS: frozenset[type[ev.Event]] = frozenset(_HANDLERS)
