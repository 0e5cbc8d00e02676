"""Property test: MemberTracker against a small reference model written from its theory of operation.

Hypothesis generates what processes log about their members (mark-downs with the failure before them,
mark-ups, status lines, ``retry in N``, ``Time to retry server``, answered requests, restarts, STATS
counters, MaxConnections) as real events with increasing line numbers, feeds them to the tracker and to
the model below, and checks after every step that both tell the same story. The model does not use the
tracker's table: its rules are the module docstring's and plugin-facts §4.5 and §4.6:

- the key is (pid, member); a mark-down or ``markedDown 1`` means down, ``retryNow 1`` / ``Time to retry
  server`` means the retry is due, a mark-up, ``markedDown 0`` or an answer from the member means up;
- a down interval opens when a member that was not down goes down, and closes when it comes up;
- ``markedDown 1`` with no mark-down while up, and ``markedDown 0`` while down (retry not due) with no
  recovery, are contradictions;
- ``Plugins loaded.`` or a STATS counter going down makes every member of that process unknown, and a
  restarted process counts its STATS from zero again;
- ``100 Continue`` is not an answer, and a 5xx is a failure, not an answer.

Compared after every step: the state of every key, its down intervals (start, reason and its line, end
and how it ended, number of countdowns, failed probes, retry-due line), MaxConnections, the number of
answers, and the observations with both their lines; and the interval invariants (at most one open,
the last; in line order; never overlapping; none ending before it starts), also after the log ends.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tracelens.parse import events as ev
from tracelens.state.members import MemberRecord, MemberTracker

PIDS = ("00001a2c", "00001b40")
MEMBERS = ("was1node_PluginMember1", "was2Node_PluginMember2")
TIDS = ("00000e78", "00000f10")
T0 = datetime(2004, 6, 7, 10, 15, 0)

pids, members, tids = st.sampled_from(PIDS), st.sampled_from(MEMBERS), st.sampled_from(TIDS)

# the failure a thread logs before the mark-down, and the reason it must give: (events, reason)
FAILURES: dict[str, tuple[tuple[str, ...], str]] = {
    "refused": (("connect_failed", "stream_create_failed"), "connect_refused"),
    "timeout": (("connect_timeout_fired", "stream_create_failed"), "connect_timeout"),
    "server_io": (("server_io_timeout_fired",), "server_io_timeout"),
    "stream": (("stream_create_failed",), "stream_failed"),
    "read": (("read_failed",), "stream_failed"),
    "5xx": (("response_503",), "http_5xx"),
    "none": ((), "marked_down"),
}

# ---------------------------------------------------------------- the reference model


@dataclass
class ModelInterval:
    start: int
    reason: str
    reason_line: int | None
    end: int | None = None
    end_reason: str | None = None
    countdowns: int = 0
    repeats: list[int] = field(default_factory=list)
    retry_due_line: int | None = None  # the first retry-due line since it opened or since the last failed probe
    afters: list[int] = field(default_factory=list)  # per countdown: lines (= seconds) since the timer started

    @property
    def timer_line(self) -> int:
        """The line the retry timer last started at: the mark-down, or the last failed probe (PK28197)."""
        return self.repeats[-1] if self.repeats else self.start


@dataclass
class ModelMember:
    state: str = "unknown"  # unknown, up, down, retry_due
    up_line: int | None = None  # the line that last made it up
    intervals: list[ModelInterval] = field(default_factory=list)
    at_max: bool = False
    served: int = 0

    @property
    def open(self) -> ModelInterval | None:
        return self.intervals[-1] if self.intervals and self.intervals[-1].end is None else None


class Model:
    def __init__(self) -> None:
        self.members: dict[tuple[str, str], ModelMember] = {}
        self.observations: list[tuple[str, str, int, int | None]] = []  # pid, member, line, previous line
        self.counters: dict[tuple[str, str], tuple[int, int, int, int]] = {}  # since the last restart

    def get(self, pid: str, member: str) -> ModelMember:
        return self.members.setdefault((pid, member), ModelMember())

    def down(self, pid: str, member: str, line: int, *, marked: bool, reason: str = "", reason_line: int | None = None,
             retry_due: bool = False) -> None:
        """A mark-down (``marked``) or a status saying down (retry due or not)."""
        m = self.get(pid, member)
        if m.state in ("unknown", "up"):
            if marked:
                m.intervals.append(ModelInterval(line, reason, reason_line))
            elif m.state == "unknown":
                m.intervals.append(ModelInterval(line, "before_log", None))
            else:
                self.observations.append((pid, member, line, m.up_line))
                m.intervals.append(ModelInterval(line, "unseen", None))
            if retry_due:
                m.intervals[-1].retry_due_line = line
            m.state = "retry_due" if retry_due else "down"
            return
        iv = m.open
        assert iv is not None
        if marked or (m.state == "retry_due" and not retry_due):
            iv.repeats.append(line)  # down again after the retry was due (or re-marked): a failed probe
            iv.retry_due_line = None
        elif retry_due and iv.retry_due_line is None:
            iv.retry_due_line = line
        m.state = "retry_due" if retry_due else "down"

    def up(self, pid: str, member: str, line: int, how: str) -> None:
        m = self.get(pid, member)
        iv = m.open
        if iv is not None:
            if how == "status_up" and m.state == "down":
                self.observations.append((pid, member, line, iv.start))
            iv.end, iv.end_reason = line, how
        if m.state != "up":
            m.up_line = line
        m.state = "up"

    def countdown(self, pid: str, member: str, line: int) -> None:
        iv = self.get(pid, member).open
        if iv is not None:
            iv.countdowns += 1
            iv.afters.append(line - iv.timer_line)

    def restart(self, pid: str, line: int) -> None:
        for (p, _), m in self.members.items():
            if p != pid:
                continue
            iv = m.open
            if iv is not None:
                iv.end, iv.end_reason = line, "restart"
            m.state = "unknown"
        for key in [k for k in self.counters if k[0] == pid]:
            del self.counters[key]

    def stats(self, pid: str, member: str, line: int, failed: int, affinity: int, total: int) -> None:
        prev = self.counters.get((pid, member))
        if prev is not None and (failed < prev[0] or affinity < prev[1] or total < prev[2]):
            self.observations.append((pid, member, line, prev[3]))
            self.restart(pid, line)
        self.counters[(pid, member)] = (failed, affinity, total, line)

    def finish(self, line: int) -> None:
        for m in self.members.values():
            iv = m.open
            if iv is not None:
                iv.end, iv.end_reason = line, "log_end"


# ---------------------------------------------------------------- the machine


class TrackerVersusModel(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.tracker = MemberTracker()
        self.model = Model()
        self.line = 0
        # STATS values the generator writes; they only go down in the `counters_go_down` rule
        self.written: dict[tuple[str, str], tuple[int, int, int]] = {}

    def emit(self, cls: type[ev.Event], pid: str, tid: str, **fields: Any) -> int:
        self.line += 1
        event = cls("model.log", self.line, T0 + timedelta(seconds=self.line), pid, tid, None, None, None, **fields)
        self.tracker.on_event(event)
        return self.line

    def pick(self, pid: str, tid: str, member: str) -> int:
        return self.emit(ev.ConnectionCount, pid, tid, server=member, pending=1, total=self.line)

    def failure(self, name: str, pid: str, tid: str) -> int:
        if name == "connect_failed":
            return self.emit(ev.ConnectFailed, pid, tid, host="app1.itso.ibm.com", errno=10061, local_port=None)
        if name == "connect_timeout_fired":
            return self.emit(ev.ConnectTimeoutFired, pid, tid)
        if name == "server_io_timeout_fired":
            return self.emit(ev.ServerIOTimeoutFired, pid, tid, timeout=60, retry_count=0, retry_limit=-1, retry=True,
                             rc=10)
        if name == "stream_create_failed":
            return self.emit(ev.StreamCreateFailed, pid, tid)
        if name == "read_failed":
            return self.emit(ev.ReadFailed, pid, tid, detail=None)
        assert name == "response_503"
        return self.emit(ev.ResponseStatus, pid, tid, version="HTTP/1.1", status=503, reason="Service Unavailable")

    # ------------------------------------------------------------ rules

    @rule(pid=pids, tid=tids, member=members, kind=st.sampled_from(sorted(FAILURES)))
    def mark_down_after_failure(self, pid: str, tid: str, member: str, kind: str) -> None:
        names, reason = FAILURES[kind]
        self.pick(pid, tid, member)
        lines = [self.failure(name, pid, tid) for name in names]
        line = self.emit(ev.MarkedDown, pid, tid, server=member)
        self.emit(ev.RequestEnd, pid, tid)
        self.model.down(pid, member, line, marked=True, reason=reason, reason_line=lines[0] if lines else None)

    @rule(pid=pids, tid=tids, member=members)
    def mark_up(self, pid: str, tid: str, member: str) -> None:
        line = self.emit(ev.MarkedUp, pid, tid, server=member)
        self.model.up(pid, member, line, "marked_up")

    @rule(pid=pids, tid=tids, member=members, marked_down=st.integers(0, 1), retry_now=st.integers(0, 1),
          retry_in=st.one_of(st.none(), st.integers(-5, 60)), max_reached=st.one_of(st.none(), st.integers(0, 1)))
    def status(self, pid: str, tid: str, member: str, marked_down: int, retry_now: int, retry_in: int | None,
               max_reached: int | None) -> None:
        line = self.emit(ev.StatusCheck, pid, tid, server=member, ignore_weights=1, marked_down=marked_down,
                         retry_now=retry_now, retry_in_sec=retry_in, wlb_allows=0, reached_max_connections=max_reached)
        if marked_down:
            self.model.down(pid, member, line, marked=False, retry_due=bool(retry_now))
            if retry_in is not None:
                self.model.countdown(pid, member, line)
        else:
            self.model.up(pid, member, line, "status_up")
        if max_reached is not None:
            self.model.get(pid, member).at_max = bool(max_reached)

    @rule(pid=pids, tid=tids, member=members, seconds=st.integers(0, 60))
    def retry_in(self, pid: str, tid: str, member: str, seconds: int) -> None:
        line = self.emit(ev.MarkedDownRetry, pid, tid, server=member, retry_in=seconds)
        self.model.down(pid, member, line, marked=False)
        self.model.countdown(pid, member, line)

    @rule(pid=pids, tid=tids, member=members)
    def time_to_retry(self, pid: str, tid: str, member: str) -> None:
        line = self.emit(ev.RetryDue, pid, tid, server=member)
        self.model.down(pid, member, line, marked=False, retry_due=True)

    @rule(pid=pids, tid=tids, member=members, code=st.sampled_from([200, 302, 404]), expect_continue=st.booleans())
    def served(self, pid: str, tid: str, member: str, code: int, expect_continue: bool) -> None:
        self.pick(pid, tid, member)
        if expect_continue:  # `100 Continue` comes before the answer and is not one
            self.emit(ev.ResponseStatus, pid, tid, version="HTTP/1.1", status=100, reason="Continue")
        line = self.emit(ev.ResponseStatus, pid, tid, version="HTTP/1.1", status=code, reason="X")
        self.emit(ev.RequestEnd, pid, tid)
        self.model.up(pid, member, line, "served")
        self.model.get(pid, member).served += 1

    @rule(pid=pids, tid=tids, member=members)
    def error_answer_without_mark_down(self, pid: str, tid: str, member: str) -> None:
        # a 5xx is a failure, not an answer that marks the member up, and not a mark-down either
        self.pick(pid, tid, member)
        self.emit(ev.ResponseStatus, pid, tid, version="HTTP/1.1", status=500, reason="Internal Server Error")
        self.emit(ev.RequestEnd, pid, tid)

    @rule(pid=pids, tid=tids)
    def process_restart(self, pid: str, tid: str) -> None:
        line = self.emit(ev.PluginsLoaded, pid, tid)
        self.model.restart(pid, line)
        for key in self.written:
            if key[0] == pid:  # a restarted process counts from zero again
                self.written[key] = (0, 0, 0)

    # counters grow, start again from 0 after `Plugins loaded.`, and go down without one in `counters_go_down`
    @rule(pid=pids, tid=tids, member=members, failed=st.integers(0, 2), affinity=st.integers(0, 3),
          other=st.integers(0, 3))
    def counters_grow(self, pid: str, tid: str, member: str, failed: int, affinity: int, other: int) -> None:
        f, a, t = self.written.get((pid, member), (0, 0, 0))
        self.write_stats(pid, tid, member, f + failed, a + affinity, t + affinity + other)

    @precondition(lambda self: bool(self.written))
    @rule(data=st.data(), tid=tids, which=st.sampled_from(["failed", "affinity", "total"]))
    def counters_go_down(self, data: st.DataObject, tid: str, which: str) -> None:
        pid, member = data.draw(st.sampled_from(sorted(self.written)))
        f, a, t = self.written[(pid, member)]
        # one counter lower than the last snapshot (0 if it was 0: then the others are lowered too)
        f, a, t = {"failed": (f - 1, a, t), "affinity": (f, a - 1, t), "total": (f, a, t - 1)}[which]
        if min(f, a, t) < 0:
            f, a, t = 0, max(a - 1, 0), max(t - 1, 0)
            if (f, a, t) == self.written[(pid, member)]:
                return
        self.write_stats(pid, tid, member, f, a, t)

    def write_stats(self, pid: str, tid: str, member: str, f: int, a: int, t: int) -> None:
        self.written[(pid, member)] = (f, a, t)
        line = self.emit(ev.ServerStats, pid, tid, server=member, pending=0, failed=f, affinity=a, total=t,
                         keys=ev.StatsKeys.REQUESTS)
        self.model.stats(pid, member, line, f, a, t)

    @rule(pid=pids, tid=tids, member=members)
    def max_connections_warning(self, pid: str, tid: str, member: str) -> None:
        self.emit(ev.MaxConnectionsReached, pid, tid, server=member)
        self.model.get(pid, member).at_max = True

    # ------------------------------------------------------------ invariants

    def keys(self) -> set[tuple[str, str]]:
        return set(self.tracker.members) | set(self.model.members)

    @invariant()
    def same_state_per_key(self) -> None:
        for key in self.keys():
            rec = self.tracker.members.get(key)
            got = rec.state.value if rec is not None else "unknown"
            model = self.model.members.get(key, ModelMember())
            assert got == model.state, (key, got, model.state)
            assert (rec.at_max_connections if rec is not None else False) == model.at_max, key
            assert (rec.requests_served if rec is not None else 0) == model.served, key

    @invariant()
    def same_intervals_per_key(self) -> None:
        for key in self.keys():
            rec = self.tracker.members.get(key)
            got = rec.intervals if rec is not None else []
            want = self.model.members.get(key, ModelMember()).intervals
            assert len(got) == len(want), (key, got, want)
            for iv, m in zip(got, want, strict=True):
                assert (iv.start_line, iv.reason.value, iv.reason_line) == (m.start, m.reason, m.reason_line), (iv, m)
                end_reason = iv.end_reason.value if iv.end_reason is not None else None
                assert (iv.end_line, end_reason) == (m.end, m.end_reason), (iv, m)
                assert (len(iv.countdowns), iv.repeats) == (m.countdowns, m.repeats), (iv, m)
                assert iv.retry_due_line == m.retry_due_line, (iv, m)
                # one record a second: the retry timer's start and each countdown's seconds since it
                assert iv.retry_from == T0 + timedelta(seconds=m.timer_line), (iv, m)
                assert [c.after for c in iv.countdowns] == m.afters, (iv, m)

    @invariant()
    def intervals_are_ordered_and_never_overlap(self) -> None:
        for rec in self.tracker.members.values():
            check_intervals(rec)
            # the state says down exactly when an interval is open
            assert (rec.open_interval is not None) == (rec.state.value in ("down", "retry_due"))

    @invariant()
    def same_observations(self) -> None:
        got = [(o.pid, o.member, o.line, o.previous_line) for o in self.tracker.observations]
        assert len(got) == len(self.model.observations)
        assert got == self.model.observations

    def teardown(self) -> None:
        if not getattr(self, "line", 0):
            return
        self.tracker.finish(T0 + timedelta(seconds=self.line), self.line)
        self.model.finish(self.line)
        self.same_intervals_per_key()
        for rec in self.tracker.members.values():
            check_intervals(rec)
            assert rec.open_interval is None


def check_intervals(rec: MemberRecord) -> None:
    """At most one open interval, the last; in line order; never overlapping; each ends after it starts."""
    ivs = rec.intervals
    assert all(iv.end_reason is not None for iv in ivs[:-1]), "only the last interval may be open"
    for iv in ivs:
        assert (iv.pid, iv.member) == (rec.pid, rec.member)
        assert (iv.end_line is None) == (iv.end_reason is None)
        if iv.end_line is not None:
            assert iv.end_line >= iv.start_line
        assert all(iv.start_line <= c.line for c in iv.countdowns)
        assert all(iv.start_line < r for r in iv.repeats)
    for a, b in itertools.pairwise(ivs):
        assert a.end_line is not None and a.end_line < b.start_line


TrackerVersusModel.TestCase.settings = settings(
    max_examples=100, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestTrackerVersusModel = TrackerVersusModel.TestCase
