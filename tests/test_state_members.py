"""The member state machine: every transition, down intervals, observations, restarts, the real samples.

The traces here are built from real message texts (copied from ``sample_logs/failover-failback.log`` and
``stats-85.log``, plugin-facts §0, §2.2 to §2.5) with the server names, threads and times changed; the
``WARNING ... has reached maximum connections`` and ``Marking X up`` texts are the [U] forms of §2.4 and §2.5.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, write
from tracelens.api import reconstruct
from tracelens.parse import events as ev
from tracelens.parse.parser import RecordParser
from tracelens.read.reader import RawRecord
from tracelens.routing.model import availability
from tracelens.routing.topology import infer_retry_interval
from tracelens.state.members import (
    HISTORY,
    TRANSITIONS,
    DownReason,
    EndReason,
    MemberState,
    MemberTracker,
    Signal,
)

M1 = "was1node_PluginMember1"
M2 = "was2Node_PluginMember2"
PID_A = "00001a2c"
PID_B = "00001b40"
TID_1 = "00000f10"
TID_2 = "00000e78"
HOST_1 = "app1.itso.ibm.com"
T0 = datetime(2004, 6, 7, 10, 15, 20)

# ---------------------------------------------------------------- message texts (bodies after the header)


def mark_down(server: str) -> str:
    return f"ERROR: ws_server: serverSetFailoverStatus: Marking {server} down"


def mark_up(server: str) -> str:
    return f"TRACE: ws_server: serverSetFailoverStatus: Marking {server} up"


def status(server: str, marked_down: int, retry_now: int = 0, retry_in: int | str | None = None,
           max_reached: int = 0) -> str:
    """The status line; ``retry_in`` None gives the 5.1 form (no retryInSec), else the 8.5 form."""
    retry = "" if retry_in is None else f", retryInSec {retry_in}"
    return (f"STATS: ws_server_group: serverGroupCheckServerStatus: Checking status of {server}, ignoreWeights 1, "
            f"markedDown {marked_down}, retryNow {retry_now}{retry}, wlbAllows 0 "
            f"reachedMaxConnectionsLimit {max_reached}")


def retry_in(server: str, seconds: int) -> str:
    return f"TRACE: ws_server_group: serverGroupCheckServerStatus: Server {server} is marked down; retry in {seconds}"


def time_to_retry(server: str) -> str:
    return f"TRACE: ws_server_group: serverGroupCheckServerStatus: Time to retry server {server}"


def pick(server: str, total: int = 1) -> str:
    return (f"TRACE: ws_server_group: serverGroupIncrementConnectionCount: Server {server} picked, "
            f"pendingConnectionCount 1 totalConnectionsCount {total}.")


def connect_refused(host: str = HOST_1) -> str:
    return f"ERROR: ws_common: websphereGetStream: Failed to connect to app server on host '{host}', OS err=10061"


CONNECT_TIMEOUT = "ERROR: ws_common: websphereGetStream: Connect timeout fired"
SERVER_IO_TIMEOUT = ("ERROR: ServerIOTimeout fired. Time out 60. retry count 0. serverIOTimeoutRetry -1, retry YES, "
                     "rc 10")
STREAM_FAILED = "ERROR: ws_common: websphereExecute: Failed to create the stream"
READ_FAILED = ("ERROR: ws_common: websphereExecute: Failed to read from a new stream; App Server may have gone down "
               "during read")
END = "TRACE: ws_common: websphereEndRequest: Ending the request"
PLUGINS_LOADED = "PLUGIN: Plugins loaded."


def response(status_code: int = 200, reason: str = "OK") -> str:
    return f"TRACE:    HTTP/1.1 {status_code} {reason}"


def stats(server: str, failed: int, affinity: int, total: int) -> str:
    return (f"STATS: ws_server: serverSetFailoverStatus: Server {server} : pendingRequests 0 "
            f"failedRequests {failed} affinityRequests {affinity} totalRequests {total}.")


def max_reached(server: str) -> str:
    return (f"WARNING: ws_server_group: serverGroupCheckServerStatus: Server {server} has reached maximum connections "
            "and is not selected")


class Trace:
    """A log being written: each :meth:`add` appends one headered record and returns its line number."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, body: str, pid: str = PID_A, tid: str = TID_1) -> int:
        t = T0 + timedelta(seconds=len(self.lines))
        self.lines.append(f"[{t:%a %b %d %H:%M:%S %Y}] {pid} {tid} - {body}")
        return len(self.lines)

    def events(self) -> list[ev.Event]:
        parser = RecordParser()
        out = [parser.parse(RawRecord("t.log", i, text)) for i, text in enumerate(self.lines, start=1)]
        # the builders must produce typed events, or the tests below would test nothing
        assert not [e for e in out if isinstance(e, (ev.Unparsed, ev.Message))], out
        return out

    def track(self, finish: bool = True) -> MemberTracker:
        tracker = MemberTracker()
        events = self.events()
        tracker.feed(events)
        if finish:
            tracker.finish(events[-1].time, events[-1].line)
        return tracker

    @property
    def last(self) -> int:
        return len(self.lines)


def served(trace: Trace, server: str, pid: str = PID_A, tid: str = TID_2) -> int:
    """A request answered by ``server``: pick, 200, end. Returns the line of the response."""
    trace.add(pick(server), pid, tid)
    line = trace.add(response(), pid, tid)
    trace.add(END, pid, tid)
    return line


# ---------------------------------------------------------------- every transition of the table

# How to bring (PID_A, M1) into a state; returns the line that put it there (None for UNKNOWN).
def _into(trace: Trace, state: MemberState) -> int | None:
    if state is MemberState.UNKNOWN:
        trace.add(status(M2, 0))  # some evidence in the process, none about M1
        return None
    if state is MemberState.UP:
        return trace.add(status(M1, 0))
    line = trace.add(mark_down(M1))
    if state is MemberState.RETRY_DUE:
        trace.add(status(M1, 1, 1))
    return line


# The signal as a log writes it; returns its line.
def _emit(trace: Trace, signal: Signal) -> int:
    if signal is Signal.MARK_DOWN:
        return trace.add(mark_down(M1))
    if signal is Signal.MARK_UP:
        return trace.add(mark_up(M1))
    if signal is Signal.STATUS_DOWN:
        return trace.add(status(M1, 1, 0))
    if signal is Signal.STATUS_RETRY:
        return trace.add(status(M1, 1, 1))
    if signal is Signal.STATUS_UP:
        return trace.add(status(M1, 0))
    return served(trace, M1, tid=TID_2)


S, G = MemberState, Signal
# (state, signal) -> (next state, what happens to the down intervals), written from the module's theory
# of operation, independently of the table it checks
EXPECTED: dict[tuple[MemberState, Signal], tuple[MemberState, str]] = {
    (S.UNKNOWN, G.MARK_DOWN): (S.DOWN, "open marked_down"),
    (S.UNKNOWN, G.STATUS_DOWN): (S.DOWN, "open before_log"),
    (S.UNKNOWN, G.STATUS_RETRY): (S.RETRY_DUE, "open before_log"),
    (S.UNKNOWN, G.STATUS_UP): (S.UP, "nothing"),
    (S.UNKNOWN, G.MARK_UP): (S.UP, "nothing"),
    (S.UNKNOWN, G.SERVED): (S.UP, "nothing"),
    (S.UP, G.MARK_DOWN): (S.DOWN, "open marked_down"),
    (S.UP, G.STATUS_DOWN): (S.DOWN, "open unseen"),
    (S.UP, G.STATUS_RETRY): (S.RETRY_DUE, "open unseen"),
    (S.UP, G.STATUS_UP): (S.UP, "nothing"),
    (S.UP, G.MARK_UP): (S.UP, "nothing"),
    (S.UP, G.SERVED): (S.UP, "nothing"),
    (S.DOWN, G.MARK_DOWN): (S.DOWN, "repeat"),
    (S.DOWN, G.STATUS_DOWN): (S.DOWN, "nothing"),
    (S.DOWN, G.STATUS_RETRY): (S.RETRY_DUE, "retry due"),
    (S.DOWN, G.STATUS_UP): (S.UP, "close status_up contradiction"),
    (S.DOWN, G.MARK_UP): (S.UP, "close marked_up"),
    (S.DOWN, G.SERVED): (S.UP, "close served"),
    (S.RETRY_DUE, G.MARK_DOWN): (S.DOWN, "repeat"),
    (S.RETRY_DUE, G.STATUS_DOWN): (S.DOWN, "repeat"),
    (S.RETRY_DUE, G.STATUS_RETRY): (S.RETRY_DUE, "nothing"),
    (S.RETRY_DUE, G.STATUS_UP): (S.UP, "close status_up"),
    (S.RETRY_DUE, G.MARK_UP): (S.UP, "close marked_up"),
    (S.RETRY_DUE, G.SERVED): (S.UP, "close served"),
}


def test_the_expectations_cover_every_pair_of_the_table() -> None:
    assert set(EXPECTED) == set(TRANSITIONS) == {(s, g) for s in MemberState for g in Signal}
    assert {k: v[0] for k, v in EXPECTED.items()} == {k: v[0] for k, v in TRANSITIONS.items()}


@pytest.mark.parametrize(("state", "signal"), list(EXPECTED), ids=lambda x: x.value)
def test_transition(state: MemberState, signal: Signal) -> None:
    trace = Trace()
    entered = _into(trace, state)
    line = _emit(trace, signal)
    tracker = trace.track(finish=False)
    rec = tracker.record(PID_A, M1)
    nxt, effect = EXPECTED[(state, signal)]
    assert rec.state is nxt
    ivs = rec.intervals
    obs = [o for o in tracker.observations if o.member == M1]

    if effect.startswith("open"):
        assert len(ivs) == 1 + (state in (S.DOWN, S.RETRY_DUE))
        iv = ivs[-1]
        assert (iv.pid, iv.member, iv.file, iv.start_line, iv.end_line, iv.end_reason) == (PID_A, M1, "t.log", line,
                                                                                          None, None)
        assert iv.start == T0 + timedelta(seconds=line - 1)
        reason = effect.split()[1]
        assert iv.reason.value == reason and iv.reason_line is None
        if reason == "unseen":
            # markedDown 1 while up with no mark-down: an observation naming both lines
            assert [(o.line, o.previous_line) for o in obs] == [(line, entered)]
        else:
            assert obs == []
        return

    assert len(ivs) == (0 if state in (S.UNKNOWN, S.UP) else 1)
    if not ivs:
        assert effect == "nothing" and obs == []
        return
    iv = ivs[0]
    assert iv.start_line == entered and iv.reason is DownReason.MARKED_DOWN
    if effect.startswith("close"):
        end_reason = effect.split()[1]
        assert (iv.end_line, iv.end_reason) == (line, EndReason(end_reason))
        assert iv.end == T0 + timedelta(seconds=line - 1)
        if effect.endswith("contradiction"):
            # markedDown 0 while down with no recovery: an observation naming the mark-down line
            assert [(o.line, o.previous_line) for o in obs] == [(line, entered)]
        else:
            assert obs == []
        assert rec.open_interval is None
        return
    assert iv.end_line is None and rec.open_interval is iv and obs == []
    if effect == "repeat":
        assert iv.repeats == [line]
        assert iv.retry_due_line is None  # a failed probe starts a new countdown
    elif effect == "retry due":
        assert (iv.retry_due_line, iv.retry_due) == (line, T0 + timedelta(seconds=line - 1))
    else:
        assert iv.repeats == []
        assert iv.retry_due_line == (None if state is S.DOWN else entered + 1)


def test_a_failed_retry_probe_restarts_the_retry_timer() -> None:
    # the plug-in counts the retry interval from the last failure (APAR PK28197): the view and each
    # countdown say when the timer last started, the mark-down or the failed probe
    trace = Trace()
    down = trace.add(mark_down(M1))
    first = trace.add(retry_in(M1, 60))
    trace.add(time_to_retry(M1))
    probe = trace.add(mark_down(M1))  # the probe failed
    trace.add(STREAM_FAILED)
    later = trace.add(retry_in(M1, 58))
    tracker = trace.track(finish=False)
    (iv,) = tracker.record(PID_A, M1).intervals
    assert (iv.start_line, iv.repeats) == (down, [probe])
    assert iv.retry_from == T0 + timedelta(seconds=probe - 1)
    assert [(c.line, c.seconds, c.after) for c in iv.countdowns] == [(first, 60, 1), (later, 58, 2)]
    (view,) = tracker.snapshot(PID_A)
    assert iv.start == T0 + timedelta(seconds=down - 1) and view.retry_from == iv.retry_from


def test_after_a_failed_probe_the_replay_waits_a_whole_interval_again() -> None:
    # the tracker's view through the routing model: marked down, probed after 60 s, failed again;
    # 40 s after the probe (100 s after the first mark-down) the member is still skipped
    trace = Trace()
    trace.add(mark_down(M1))
    for _ in range(59):
        trace.add(pick(M2), tid=TID_2)
    trace.add(time_to_retry(M1))
    probe = trace.add(mark_down(M1))
    tracker = trace.track(finish=False)
    view = {v.member: v for v in tracker.snapshot(PID_A)}[M1]
    now = T0 + timedelta(seconds=probe - 1 + 40)
    a = availability(M1, view, [], now, 60)
    assert not a.available and a.retry_in == 20
    assert availability(M1, view, [], now + timedelta(seconds=20), 60).available


def test_the_retry_interval_is_inferred_from_countdowns_after_failed_probes_too() -> None:
    # RetryInterval 5: one record a second; after the failed probe the countdown starts again, and
    # counting it back to the first mark-down would make the interval 11 s
    trace = Trace()
    trace.add(mark_down(M1))
    trace.add(retry_in(M1, 4))
    trace.add(retry_in(M1, 3))
    trace.add(pick(M2), tid=TID_2)
    trace.add(pick(M2), tid=TID_2)
    trace.add(time_to_retry(M1))
    trace.add(mark_down(M1))  # the probe failed
    for left in (4, 3, 2):
        trace.add(retry_in(M1, left))
    assert infer_retry_interval(trace.track().intervals()) == 5


def test_the_two_other_texts_of_the_status_signals() -> None:
    # `is marked down; retry in N` acts like markedDown 1 retryNow 0, `Time to retry server` like retryNow 1
    trace = Trace()
    down = trace.add(mark_down(M1))
    first = trace.add(retry_in(M1, 60))
    due = trace.add(time_to_retry(M1))
    probe_failed = trace.add(retry_in(M1, 60))  # a new countdown without a mark-down: the probe failed
    tracker = trace.track(finish=False)
    rec = tracker.record(PID_A, M1)
    assert rec.state is MemberState.DOWN
    (iv,) = rec.intervals
    assert iv.start_line == down
    assert [(c.line, c.seconds) for c in iv.countdowns] == [(first, 60), (probe_failed, 60)]
    assert iv.repeats == [probe_failed] and iv.retry_due_line is None
    assert due not in iv.repeats

    trace = Trace()
    due = trace.add(time_to_retry(M1))  # first evidence: it went down before the log began
    iv = trace.track(finish=False).record(PID_A, M1).intervals[0]
    assert (iv.start_line, iv.reason) == (due, DownReason.BEFORE_LOG)


# ---------------------------------------------------------------- why it was marked down


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ([connect_refused(), STREAM_FAILED], DownReason.CONNECT_REFUSED),  # the generic line does not win
        ([CONNECT_TIMEOUT, STREAM_FAILED], DownReason.CONNECT_TIMEOUT),
        ([SERVER_IO_TIMEOUT], DownReason.SERVER_IO_TIMEOUT),
        ([STREAM_FAILED], DownReason.STREAM_FAILED),
        ([READ_FAILED], DownReason.STREAM_FAILED),
        ([response(503, "Service Unavailable")], DownReason.HTTP_5XX),
        ([], DownReason.MARKED_DOWN),
    ],
    ids=["refused", "timeout", "server-io-timeout", "stream", "read", "5xx", "none"],
)
def test_reason_is_the_same_threads_preceding_failure(failure: list[str], reason: DownReason) -> None:
    trace = Trace()
    trace.add(pick(M1))
    lines = [trace.add(body) for body in failure]
    down = trace.add(mark_down(M1))
    (iv,) = trace.track().record(PID_A, M1).intervals
    assert (iv.start_line, iv.reason, iv.reason_line) == (down, reason, lines[0] if lines else None)


def test_reason_is_not_taken_from_another_thread_or_a_finished_request() -> None:
    trace = Trace()
    trace.add(connect_refused(), tid=TID_2)  # another thread of the same process
    first = trace.add(mark_down(M1), tid=TID_1)
    trace.add(CONNECT_TIMEOUT, tid=TID_1)
    trace.add(END, tid=TID_1)  # the request that failed ended without a mark-down
    trace.add(mark_up(M2), tid=TID_1)
    second = trace.add(mark_down(M2), tid=TID_1)
    tracker = trace.track()
    (iv1,) = tracker.record(PID_A, M1).intervals
    (iv2,) = tracker.record(PID_A, M2).intervals
    assert (iv1.start_line, iv1.reason, iv1.reason_line) == (first, DownReason.MARKED_DOWN, None)
    assert (iv2.start_line, iv2.reason, iv2.reason_line) == (second, DownReason.MARKED_DOWN, None)


def test_a_failure_belongs_to_the_attempt_it_happened_in() -> None:
    # member1 refused and the request moved on to member2 (its mark-down not logged); member2 was then
    # marked down with no failure of its own: member1's refusal is not member2's reason
    trace = Trace()
    trace.add(pick(M1))
    trace.add(connect_refused())
    trace.add(pick(M2))
    down2 = trace.add(mark_down(M2))
    trace.add(pick(M1))
    refused = trace.add(connect_refused())
    trace.add(STREAM_FAILED)
    down1 = trace.add(mark_down(M1))
    tracker = trace.track()
    assert [(iv.member, iv.start_line, iv.reason, iv.reason_line) for iv in tracker.intervals()] == [
        (M2, down2, DownReason.MARKED_DOWN, None),
        (M1, down1, DownReason.CONNECT_REFUSED, refused),
    ]


# ---------------------------------------------------------------- countdowns, observations, log end


def test_countdowns_are_kept_as_logged() -> None:
    trace = Trace()
    trace.add(status(M1, 0, 0, "--"))
    down = trace.add(mark_down(M1))
    c1 = trace.add(status(M1, 1, 0, 45))
    c2 = trace.add(retry_in(M1, 45))  # the same countdown written twice is kept twice: as logged
    c3 = trace.add(status(M1, 1, 0, -3))  # PK67423: retryInSec going negative
    due = trace.add(status(M1, 1, 1, 0))
    up = trace.add(status(M1, 0, 0, "--"))
    rec = trace.track().record(PID_A, M1)
    (iv,) = rec.intervals
    assert [(c.line, c.seconds) for c in iv.countdowns] == [(c1, 45), (c2, 45), (c3, -3), (due, 0)]
    assert iv.countdowns[0].time == T0 + timedelta(seconds=c1 - 1)
    assert (iv.start_line, iv.retry_due_line, iv.end_line, iv.end_reason) == (down, due, up, EndReason.STATUS_UP)
    assert iv.seconds == up - down
    assert rec.state is MemberState.UP


def test_observation_markeddown_0_while_down_with_no_recovery() -> None:
    trace = Trace()
    down = trace.add(mark_down(M1))
    trace.add(retry_in(M1, 60))
    contradiction = trace.add(status(M1, 0))
    tracker = trace.track()
    (o,) = tracker.observations
    assert (o.pid, o.member, o.file, o.line, o.previous_line) == (PID_A, M1, "t.log", contradiction, down)
    assert "markedDown 0" in o.message and str(down) in o.message
    (iv,) = tracker.record(PID_A, M1).intervals
    assert (iv.end_line, iv.end_reason) == (contradiction, EndReason.STATUS_UP)
    assert tracker.record(PID_A, M1).state is MemberState.UP  # the model follows the log


def test_observation_markeddown_1_while_up_with_no_mark_down() -> None:
    trace = Trace()
    up_line = served(trace, M1)
    trace.add(status(M1, 0))  # seen up again: the observation still names the line that made it up
    contradiction = trace.add(status(M1, 1, 0, 30))
    tracker = trace.track()
    (o,) = tracker.observations
    assert (o.pid, o.member, o.line, o.previous_line) == (PID_A, M1, contradiction, up_line)
    (iv,) = tracker.record(PID_A, M1).intervals
    assert (iv.start_line, iv.reason, iv.reason_line) == (contradiction, DownReason.UNSEEN, None)
    assert [(c.line, c.seconds) for c in iv.countdowns] == [(contradiction, 30)]
    assert (iv.end_line, iv.end_reason) == (contradiction, EndReason.LOG_END)


def test_no_observation_for_a_consistent_story() -> None:
    trace = Trace()
    trace.add(status(M1, 0))
    trace.add(mark_down(M1))
    trace.add(status(M1, 1, 0))
    trace.add(status(M1, 1, 1))
    trace.add(status(M1, 0))  # retry was due: markedDown 0 is the recovery, not a contradiction
    trace.add(mark_down(M1))
    trace.add(mark_up(M1))
    tracker = trace.track()
    assert tracker.observations == []
    assert [iv.end_reason for iv in tracker.intervals()] == [EndReason.STATUS_UP, EndReason.MARKED_UP]


def test_still_down_at_the_end_of_the_log() -> None:
    trace = Trace()
    down = trace.add(mark_down(M1))
    trace.add(status(M2, 0))
    last = trace.add(status(M2, 0))
    tracker = trace.track()
    (iv,) = tracker.intervals()
    assert (iv.start_line, iv.end_line, iv.end_reason) == (down, last, EndReason.LOG_END)
    assert iv.end == T0 + timedelta(seconds=last - 1)
    assert tracker.record(PID_A, M1).state is MemberState.DOWN


# ---------------------------------------------------------------- one state per process


def test_a_mark_down_in_one_process_leaves_the_other_up() -> None:
    trace = Trace()
    trace.add(status(M1, 0), pid=PID_A)
    trace.add(status(M1, 0), pid=PID_B)
    trace.add(connect_refused(), pid=PID_A)
    down = trace.add(mark_down(M1), pid=PID_A)
    trace.add(status(M1, 0), pid=PID_B)  # B never saw the failure: no contradiction
    b_served = served(trace, M1, pid=PID_B)  # a response in B says nothing about A
    trace.add(retry_in(M1, 50), pid=PID_A)
    tracker = trace.track(finish=False)
    a, b = tracker.record(PID_A, M1), tracker.record(PID_B, M1)
    assert (a.state, b.state) == (MemberState.DOWN, MemberState.UP)
    assert [iv.start_line for iv in a.intervals] == [down] and a.open_interval is not None
    assert b.intervals == [] and b.requests_served == 1
    assert tracker.observations == []
    assert {v.member: v.state for v in tracker.snapshot(PID_A)} == {M1: MemberState.DOWN}
    assert {v.member: v.state for v in tracker.snapshot(PID_B)} == {M1: MemberState.UP}
    view = tracker.snapshot(PID_A)[0]
    assert (view.retry_from, view.reason) == (T0 + timedelta(seconds=down - 1), DownReason.CONNECT_REFUSED)
    assert b_served > down


def test_a_response_on_another_connection_of_the_same_process_marks_it_up() -> None:
    # TUNE61: a response on another connection of the same process clears the mark
    trace = Trace()
    down = trace.add(mark_down(M1), tid=TID_1)
    answer = served(trace, M1, tid=TID_2)
    (iv,) = trace.track().intervals()
    assert (iv.start_line, iv.end_line, iv.end_reason) == (down, answer, EndReason.SERVED)


# ---------------------------------------------------------------- restarts


def test_plugins_loaded_restarts_only_its_own_process(tmp_path: Path) -> None:
    trace = Trace()
    trace.add(PLUGINS_LOADED, pid=PID_A, tid=TID_2)
    trace.add(PLUGINS_LOADED, pid=PID_B, tid=TID_2)
    trace.add(status(M2, 0), pid=PID_A)
    down_a = trace.add(mark_down(M1), pid=PID_A)
    down_b = trace.add(mark_down(M1), pid=PID_B)
    restart = trace.add(PLUGINS_LOADED, pid=PID_A, tid=TID_2)
    after = trace.add(status(M1, 1, 0, 20), pid=PID_A)  # down again at once: not a contradiction after a restart
    # the same, through the whole pipeline on a file
    result = reconstruct([str(write(tmp_path, "restart.log", "\n".join(trace.lines) + "\n"))])
    tracker = result.tracker
    a, a2, b = tracker.record(PID_A, M1), tracker.record(PID_A, M2), tracker.record(PID_B, M1)
    assert [(iv.start_line, iv.end_line, iv.end_reason) for iv in a.intervals] == [
        (down_a, restart, EndReason.RESTART),
        (after, after, EndReason.LOG_END),
    ]
    assert a.intervals[1].reason is DownReason.BEFORE_LOG
    assert a2.state is MemberState.UNKNOWN  # every member of the restarted process is unknown again
    assert [(iv.start_line, iv.end_reason) for iv in b.intervals] == [(down_b, EndReason.LOG_END)]
    assert b.state is MemberState.DOWN
    assert tracker.restarts == [(PID_A, restart)]  # the first banner of a process is no restart
    assert tracker.observations == []


def test_stats_counters_going_down_is_a_restart() -> None:
    trace = Trace()
    first = trace.add(stats(M1, 0, 400, 412), pid=PID_A)
    trace.add(stats(M1, 0, 380, 390), pid=PID_B)
    trace.add(stats(M1, 0, 401, 413), pid=PID_A)
    last_before = trace.add(stats(M2, 0, 877, 889), pid=PID_A)
    down_a = trace.add(mark_down(M1), pid=PID_A)
    trace.add(mark_down(M1), pid=PID_B)
    drop = trace.add(stats(M2, 0, 3, 5), pid=PID_A)
    tracker = trace.track(finish=False)
    a, a2, b = tracker.record(PID_A, M1), tracker.record(PID_A, M2), tracker.record(PID_B, M1)
    (o,) = tracker.observations
    assert (o.pid, o.member, o.line, o.previous_line) == (PID_A, M2, drop, last_before)
    assert "889 -> 5" in o.message
    assert a2.counter_resets == [drop] and a.counter_resets == []
    assert [(iv.start_line, iv.end_line, iv.end_reason) for iv in a.intervals] == [(down_a, drop, EndReason.RESTART)]
    assert (a.state, a2.state) == (MemberState.UNKNOWN, MemberState.UNKNOWN)
    assert b.state is MemberState.DOWN and b.open_interval is not None
    assert tracker.restarts == [(PID_A, drop)]
    assert [(c.line, c.total) for c in a.counters] == [(first, 412), (first + 2, 413)]


@pytest.mark.parametrize("key", ["failed", "affinity"])
def test_any_cumulative_counter_going_down_is_a_restart(key: str) -> None:
    trace = Trace()
    trace.add(stats(M1, 2, 400, 412))
    values = {"failed": 2, "affinity": 400}
    values[key] -= 1
    drop = trace.add(stats(M1, values["failed"], values["affinity"], 413))
    tracker = trace.track()
    assert tracker.record(PID_A, M1).counter_resets == [drop]


def test_a_member_keeps_its_latest_summaries_and_weights_and_the_time_of_all() -> None:
    # memory: a summary and a weight per request would grow with the log; the reports show the
    # latest, the timeline the time of each; a restart and a counter drop are still seen after trimming
    trace = Trace()
    for total in range(1, 3 * HISTORY + 1):
        trace.add(pick(M1, total))
        trace.add(f"TRACE: ws_server_group: lockedServerGroupUseServer: Server {M1} picked, weight {total}.")
        trace.add(stats(M1, 0, total, total))
    restart = trace.add(PLUGINS_LOADED, tid=TID_2)
    trace.add(stats(M1, 0, 1, 1))  # after a restart: no drop
    trace.add(stats(M1, 0, 2, 2))
    drop = trace.add(stats(M1, 0, 1, 1))
    tracker = trace.track()
    rec = tracker.record(PID_A, M1)
    assert HISTORY <= len(rec.counters) < 2 * HISTORY and HISTORY <= len(rec.weights) < 2 * HISTORY
    assert [w.current for w in rec.weights[-HISTORY:]] == list(range(2 * HISTORY + 1, 3 * HISTORY + 1))
    assert rec.counters[-1].line == drop and rec.counter_resets == [drop]
    assert tracker.restarts == [(PID_A, restart), (PID_A, drop)]
    timed = [e.time for e in trace.events() if isinstance(e, (ev.ServerPicked, ev.ServerStats))]
    assert rec.seen_times() == timed and len(timed) == 2 * 3 * HISTORY + 3


def test_counters_start_again_after_plugins_loaded() -> None:
    # regression: the first small counters after a restart were compared with the last snapshot from before
    # it, counted as a second restart, and closed the interval that had opened since (fixed in 898334e)
    trace = Trace()
    trace.add(PLUGINS_LOADED, tid=TID_2)
    trace.add(stats(M1, 0, 5, 9))
    restart = trace.add(PLUGINS_LOADED, tid=TID_2)
    trace.add(connect_refused())
    down = trace.add(mark_down(M1))
    trace.add(stats(M1, 1, 1, 1))  # the first request after the restart failed: counters start from 0
    tracker = trace.track(finish=False)
    rec = tracker.record(PID_A, M1)
    assert tracker.restarts == [(PID_A, restart)]
    assert tracker.observations == []
    assert rec.state is MemberState.DOWN
    assert [(iv.start_line, iv.end_reason) for iv in rec.intervals] == [(down, None)]


def test_a_failure_before_a_restart_is_not_the_reason_of_a_mark_down_after_it() -> None:
    trace = Trace()
    trace.add(status(M2, 0))  # the process has member evidence
    trace.add(connect_refused())
    trace.add(PLUGINS_LOADED, tid=TID_2)
    down = trace.add(mark_down(M1))
    (iv,) = trace.track().intervals()
    assert (iv.start_line, iv.reason, iv.reason_line) == (down, DownReason.MARKED_DOWN, None)


def test_a_failure_before_a_restart_is_forgotten_even_without_member_evidence() -> None:
    trace = Trace()
    trace.add(connect_refused())
    trace.add(PLUGINS_LOADED, tid=TID_2)
    down = trace.add(mark_down(M1))
    (iv,) = trace.track().intervals()
    assert (iv.start_line, iv.reason, iv.reason_line) == (down, DownReason.MARKED_DOWN, None)


# ---------------------------------------------------------------- MaxConnections


def test_max_connections_from_status_lines_and_the_warning() -> None:
    trace = Trace()
    trace.add(status(M1, 0, max_reached=0))
    full = trace.add(status(M1, 0, max_reached=1))
    tracker = trace.track(finish=False)
    rec = tracker.record(PID_A, M1)
    assert rec.at_max_connections and rec.max_connections_lines == [full]
    assert tracker.snapshot(PID_A)[0].reached_max_connections
    assert rec.state is MemberState.UP  # a full member is not down

    trace.add(status(M1, 0, max_reached=0))
    warned = trace.add(max_reached(M1))
    trace.add(status(M2, 0))
    tracker = trace.track(finish=False)
    rec = tracker.record(PID_A, M1)
    assert rec.at_max_connections and rec.max_connections_lines == [full, warned]
    assert rec.last_line == warned

    trace.add(status(M1, 0, max_reached=0))
    rec = trace.track(finish=False).record(PID_A, M1)
    assert not rec.at_max_connections and rec.max_connections_lines == [full, warned]


# ---------------------------------------------------------------- regressions (found by these tests, fixed in 898334e)


@pytest.mark.parametrize("prefix", ["unknown", "up"])
def test_an_interval_first_seen_as_retry_due_knows_its_retry_due_line(prefix: str) -> None:
    # the interval opened in RETRY_DUE, and later retry-due lines are (RETRY_DUE, STATUS_RETRY) -> NONE:
    # its retry_due_line was never set
    trace = Trace()
    if prefix == "up":
        trace.add(status(M1, 0))
    due = trace.add(status(M1, 1, 1))
    trace.add(time_to_retry(M1))
    (iv,) = trace.track().record(PID_A, M1).intervals
    assert iv.retry_due_line == due


def test_100_continue_is_not_a_second_served_request() -> None:
    # `100 Continue` was counted as an answer: requests_served 2 for one request, and a down interval
    # closed at the 100 line rather than at the answer
    trace = Trace()
    trace.add(mark_down(M1), tid=TID_2)
    trace.add(pick(M1))
    trace.add(response(100, "Continue"))
    answer = trace.add(response(200, "OK"))
    trace.add(END)
    rec = trace.track().record(PID_A, M1)
    assert rec.requests_served == 1
    assert [(iv.end_line, iv.end_reason) for iv in rec.intervals] == [(answer, EndReason.SERVED)]


def test_an_interval_open_at_the_end_of_one_of_several_files_ends_in_its_own_file(tmp_path: Path) -> None:
    first = Trace()
    first.add(status(M2, 0))
    down = first.add(mark_down(M1))
    first.add(retry_in(M1, 59))
    second = Trace()
    second.add(PLUGINS_LOADED, pid=PID_B)  # another process's log, one line long
    a = write(tmp_path, "a.log", "\n".join(first.lines) + "\n")
    b = write(tmp_path, "b.log", "\n".join(second.lines) + "\n")
    (iv,) = reconstruct([str(a), str(b)]).tracker.intervals()
    assert (iv.file, iv.start_line) == (str(a), down)
    assert iv.end_line is not None and down <= iv.end_line <= first.last  # a line of a.log, after the start


# ---------------------------------------------------------------- the real samples


def test_failover_failback_sample_has_exactly_one_down_interval() -> None:
    result = reconstruct([str(SAMPLES / "failover-failback.log")])
    tracker = result.tracker
    (iv,) = tracker.intervals()
    assert (iv.pid, iv.member) == ("00001a2c", M1)
    assert (iv.start_line, iv.reason, iv.reason_line) == (63, DownReason.CONNECT_REFUSED, 61)
    assert [(c.line, c.seconds) for c in iv.countdowns] == [(78, 60), (119, 55)]
    assert iv.retry_due_line == 159
    assert (iv.end_line, iv.end_reason) == (188, EndReason.SERVED)
    assert iv.start == datetime(2004, 6, 7, 10, 15, 20) and iv.end == datetime(2004, 6, 7, 10, 16, 23)
    assert iv.repeats == []
    assert tracker.observations == [] and tracker.restarts == []
    assert {k: (r.state, r.requests_served) for k, r in tracker.members.items()} == {
        ("00001a2c", M1): (MemberState.UP, 2),
        ("00001a2c", M2): (MemberState.UP, 2),
    }


def test_failover_failback_sample_in_the_85_header_form_gives_the_same_interval() -> None:
    a = reconstruct([str(SAMPLES / "failover-failback.log")]).tracker.intervals()
    b = reconstruct([str(SAMPLES / "failover-failback-85.log")]).tracker.intervals()

    def key(iv: object) -> tuple[object, ...]:
        return tuple(getattr(iv, f) for f in ("pid", "member", "start_line", "reason", "reason_line", "end_line",
                                              "end_reason", "retry_due_line", "repeats"))

    assert [key(iv) for iv in a] == [key(iv) for iv in b]


def test_stats_sample_is_down_in_one_process_only() -> None:
    tracker = reconstruct([str(SAMPLES / "stats-85.log")]).tracker
    (iv,) = tracker.intervals()
    assert (iv.pid, iv.member) == ("006a00f8", "Node01_member1")
    assert (iv.start_line, iv.reason, iv.reason_line) == (24, DownReason.CONNECT_REFUSED, 22)
    assert [(c.line, c.seconds) for c in iv.countdowns] == [(31, 45), (36, 28), (41, 13), (46, 0)]
    assert iv.retry_due_line == 46
    assert (iv.end_line, iv.end_reason) == (50, EndReason.STATUS_UP)
    assert [r.intervals for (pid, _), r in tracker.members.items() if pid == "006a0114"] == [[], []]
    assert tracker.observations == [] and tracker.restarts == []
    assert all(r.state is MemberState.UP for r in tracker.members.values())
    final = {k: (r.counters[-1].failed, r.counters[-1].affinity, r.counters[-1].total)
             for k, r in tracker.members.items()}
    assert final == {
        ("006a00f8", "Node01_member1"): (1, 404, 416),
        ("006a00f8", "Node02_member2"): (0, 881, 893),
        ("006a0114", "Node01_member1"): (0, 388, 401),
        ("006a0114", "Node02_member2"): (0, 854, 863),
    }
