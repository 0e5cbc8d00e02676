"""The lane model (`tracelens.lanes`): lanes, stretches with cause and evidence, request marks, filters — as data."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES, run_cli
from tracelens.api import analyze
from tracelens.errors import TracelensError
from tracelens.lanes import (
    NO_MEMBER,
    Cause,
    CellState,
    Empty,
    Evidence,
    Lane,
    LaneChart,
    LaneFilters,
    Mark,
    build_lanes,
)
from tracelens.reporters.lanes_text import LABEL_WIDTH
from tracelens.routing.model import availability, retry_due_at
from tracelens.routing.replay import Verdict
from tracelens.state.members import DownReason

FAILOVER = SAMPLES / "failover-failback.log"
CFG = SAMPLES / "plugin-cfg.xml"
TRACES = ROOT / "tests" / "traces"
M1, M2 = "was1node_PluginMember1", "was2Node_PluginMember2"


def at(hms: str) -> datetime:
    return datetime.fromisoformat(f"2004-06-07 {hms}")


@pytest.fixture(scope="module")
def chart() -> LaneChart:
    return build_lanes(analyze([str(FAILOVER)]), LaneFilters(), 48)


def test_the_failover_sample_as_lanes(chart: LaneChart) -> None:
    assert chart.empty is None and chart.scale is not None
    assert (chart.since, chart.until) == (at("10:15:01"), at("10:16:23"))
    assert [(lane.pid, lane.member) for lane in chart.lanes] == [("00001a2c", M1), ("00001a2c", M2)]
    member1 = chart.lanes[0]
    assert [(s.state, s.start, s.end, s.cause) for s in member1.stretches] == [
        (CellState.UP, at("10:15:06"), at("10:15:20"), Cause.SEEN),
        (CellState.DOWN, at("10:15:20"), at("10:16:20"), Cause.MARKED_DOWN),
        (CellState.RETRY, at("10:16:20"), at("10:16:23"), Cause.RETRY_INTERVAL),
        (CellState.UP, at("10:16:23"), at("10:16:23"), Cause.BACK_UP),
    ]
    down = member1.stretches[1]
    assert down.failure is DownReason.CONNECT_REFUSED
    # the connect failure (line 61), the mark-down (line 63), and the countdowns `retry in 60`, `retry in 55`
    assert [str(e) for e in down.evidence] == [f"{FAILOVER}:{n}" for n in (61, 63, 78, 119)]
    assert down.evidence[0] == Evidence(str(FAILOVER), 61)
    # due 60 s after the mark-down (RetryInterval, inferred from the countdowns); `retryNow 1` logged later
    assert [e.line for e in member1.stretches[2].evidence] == [63, 159]
    assert member1.retry_interval == 60 and chart.lanes[1].retry_interval == 60
    back = member1.stretches[-1]
    assert back.closed and back.evidence == (Evidence(str(FAILOVER), 188),)  # the response that served it


def test_cells_follow_the_stretches(chart: LaneChart) -> None:
    scale = chart.scale
    assert scale is not None
    member1 = chart.lanes[0]
    assert member1.cells is not None and len(member1.cells) == scale.cells == len(member1.marks)
    assert member1.cells[scale.index(at("10:15:01"))] is CellState.UNKNOWN
    assert member1.cells[scale.index(at("10:15:10"))] is CellState.UP
    assert member1.cells[scale.index(at("10:15:40"))] is CellState.DOWN
    assert member1.cells[scale.index(at("10:16:20"))] is CellState.RETRY


def test_requests_are_marked_by_verdict_with_their_first_line(chart: LaneChart) -> None:
    member1, member2 = chart.lanes
    assert [(m.time, m.verdict, m.mark) for m in member2.requests] == [
        (at("10:15:20"), Verdict.FAILOVER, Mark.FAILOVER), (at("10:15:25"), Verdict.FAILOVER, Mark.FAILOVER)]
    assert [(m.verdict, m.mark) for m in member1.requests] == [(Verdict.KEPT, Mark.OTHER),
                                                              (Verdict.FAILBACK, Mark.FAILBACK)]
    assert chart.scale is not None
    assert member1.marks[chart.scale.index(at("10:16:22"))] is Mark.FAILBACK
    assert all(m.evidence.file.endswith("failover-failback.log") and m.evidence.line > 0
               for lane in chart.lanes for m in lane.requests)


def test_the_model_is_frozen(chart: LaneChart) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        chart.lanes[0].stretches[0].end = at("10:20:00")  # type: ignore[misc]
    assert isinstance(chart.lanes, tuple) and isinstance(chart.lanes[0].cells, tuple)


def test_filters_by_process_member_and_window() -> None:
    report = analyze([str(FAILOVER)])
    only = build_lanes(report, LaneFilters(member=M2), 48)
    assert [lane.member for lane in only.lanes] == [M2]
    window = build_lanes(report, LaneFilters(since=at("10:15:20").time(), until=at("10:15:30").time()), 48)
    assert (window.since, window.until) == (at("10:15:20"), at("10:15:30"))
    assert sum(len(lane.requests) for lane in window.lanes) == 2
    with pytest.raises(TracelensError, match="process 0000beef does not appear"):
        build_lanes(report, LaneFilters(pid="0000beef"), 48)


def test_no_member_lane_has_no_state() -> None:
    chart = build_lanes(analyze([str(TRACES / "no-member.log")]), LaneFilters(), 48)
    lane = next(lane for lane in chart.lanes if lane.member == NO_MEMBER)
    assert lane.no_member and lane.cells is None and lane.stretches == ()
    assert {m.verdict for m in lane.requests} == {Verdict.NO_MEMBER}


def test_a_header_less_excerpt_is_an_empty_chart_that_says_why() -> None:
    report = analyze([str(FAILOVER)])
    untimed = dataclasses.replace(report, first_time=None, last_time=None,
                                  requests=[dataclasses.replace(r, begin=None) for r in report.requests])
    chart = build_lanes(untimed, LaneFilters(), 48)
    assert chart.empty is Empty.NO_TIMESTAMPS and chart.lanes == () and chart.untimed_requests == 4


# ---------------------------------------------------------------- the retry rule is the routing model's


def _retimed(lines: list[str], first: int, last: int, when: str, tid: str | None = None) -> list[str]:
    """Sample lines ``first..last`` (1-based, inclusive) at time ``when``, on thread ``tid`` if given."""
    out = []
    for line in lines[first - 1:last]:
        line = re.sub(r"^\[Mon Jun 07 \d\d:\d\d:\d\d 2004\]", f"[Mon Jun 07 {when} 2004]", line)
        if tid is not None:
            line = re.sub(r"^(\[[^]]+\] 00001a2c) [0-9a-f]{8} ", rf"\1 {tid} ", line)
        out.append(line)
    return out


def marked_down_twice(tmp_path: Path) -> Path:
    """The failover sample, with member1 marked down a second time while it is down.

    Thread 00001100 picked member1 at 10:15:18, before thread 00000f10 marked it down at 10:15:20; its
    connect fails at 10:15:23 and marks member1 down again, so the process starts the retry timer again
    (APAR PK28197: from the last failure) and its countdowns say so (`retry in 60` at 10:15:23,
    `retry in 58` at 10:15:25, `retry in 2` at 10:16:21). The retry is due at 10:16:23; the failback
    request comes at 10:16:24.
    """
    lines = FAILOVER.read_text(encoding="utf-8").splitlines()
    assert "Enter" in lines[40] and "Marking" in lines[62] and "retry in 55" in lines[118] and "Enter" in lines[144]
    out = lines[:40]  # the start, and the first request (10:15:06)
    out += _retimed(lines, 41, 60, "10:15:18", "00001100")  # begins, picks member1 while it is up
    out += lines[40:102]  # 00000f10: member1 fails, marked down at 10:15:20, failover to member2
    out += [line.replace("failedConnections 1 affinityConnections 2 totalConnections 2",
                         "failedConnections 2 affinityConnections 3 totalConnections 3")
            for line in _retimed(lines, 61, 102, "10:15:23", "00001100")]  # marked down again, on to member2
    out += [line.replace("retry in 55", "retry in 58") for line in lines[102:144]]  # 10:15:25, to member2
    out += [line.replace("retry in 55", "retry in 2")
            for line in _retimed(lines, 103, 144, "10:16:21", "00001234")]  # still down at 10:16:21
    out += [line.replace("10:16:23 2004]", "10:16:25 2004]").replace("10:16:22 2004]", "10:16:24 2004]")
            for line in lines[144:]]  # the failback, after the retry interval from 10:15:23
    log = tmp_path / "marked-down-twice.log"
    log.write_text("\n".join(out) + "\n", encoding="utf-8")
    return log


def state_at(lane: Lane, t: datetime) -> CellState:
    """The lane's state at instant ``t`` by its stretches (the strongest wins)."""
    return max((s.state for s in lane.stretches if s.start <= t < s.end or (s.closed and t == s.end)),
               default=CellState.UNKNOWN)


def test_a_second_mark_down_restarts_the_retry_window(tmp_path: Path) -> None:
    """Marked down twice: the retry is due 60 s after the second failure, as the model and the process say.

    The timeline's own rule took the first countdown (`retry in 60` at 10:15:20) for the retry time and
    drew a retry window from 10:16:20; then the process's `retry in 2` at 10:16:21 read to it as a failed
    retry probe that nobody logged, down again. The routing model counts from the last failure.
    """
    log = marked_down_twice(tmp_path)
    report = analyze([str(log)], config=str(CFG))
    lane = next(lane for lane in build_lanes(report, LaneFilters(member=M1), 200).lanes)
    assert [(s.state, s.start, s.end, s.cause) for s in lane.stretches] == [
        (CellState.UP, at("10:15:06"), at("10:15:20"), Cause.SEEN),
        (CellState.DOWN, at("10:15:20"), at("10:15:23"), Cause.MARKED_DOWN),
        (CellState.DOWN, at("10:15:23"), at("10:16:23"), Cause.MARKED_DOWN_AGAIN),
        (CellState.RETRY, at("10:16:23"), at("10:16:25"), Cause.RETRY_INTERVAL),
        (CellState.UP, at("10:16:25"), at("10:16:25"), Cause.BACK_UP),
    ]
    again = lane.stretches[2]
    text = log.read_text(encoding="utf-8").splitlines()
    said = [text[e.line - 1] for e in again.evidence]
    assert "Marking was1node_PluginMember1 down" in said[0] and "10:15:23" in said[0]
    assert [re.search(r"retry in \d+", s).group() for s in said[1:]] == [  # type: ignore[union-attr]
        "retry in 60", "retry in 58", "retry in 2"]
    # the model judged the request of 10:16:21 the same way: member1 skipped, retry in 2 s
    at_21 = next(v for r, v in zip(report.requests, report.verdicts, strict=True) if r.begin == at("10:16:21"))
    assert [(a.member, a.available, a.retry_in) for a in at_21.skipped] == [(M1, False, 2)]
    assert not at_21.disagreements
    failback = next(v for r, v in zip(report.requests, report.verdicts, strict=True) if r.begin == at("10:16:24"))
    assert failback.verdict is Verdict.FAILBACK


def test_the_text_timeline_shows_no_retry_window_before_the_retry_is_due(tmp_path: Path) -> None:
    log = marked_down_twice(tmp_path)
    out = run_cli("timeline", str(log), "--config", str(CFG), "--width", "240").stdout
    row = next(line for line in out.splitlines() if line.startswith(f"00001a2c {M1}"))
    t0, step = at("10:15:01"), timedelta(milliseconds=500)
    assert "1 cell = 500 ms" in out

    def cell(t: datetime) -> str:
        return row[LABEL_WIDTH + 1 + (t - t0) // step]

    assert {cell(at("10:16:20")), cell(at("10:16:21.5")), cell(at("10:16:22.5"))} == {"█"}
    assert cell(at("10:16:23")) == "░" and cell(at("10:16:24")) == "B"


def test_the_retry_is_due_in_whole_seconds_of_the_plug_in_clock(tmp_path: Path) -> None:
    """Marked down at 10:15:15.22399 with a RetryInterval of 60: due at 10:16:15.000, as the model counts
    (`retryInSec` = RetryInterval − whole seconds since the mark-down), not 60.0 s after the mark-down."""
    report = analyze([str(TRACES / "retry-due-failback.log")], config=str(CFG))
    lane = next(lane for lane in build_lanes(report, LaneFilters(member=M1), 200).lanes)
    down, retry = (s for s in lane.stretches if s.state in (CellState.DOWN, CellState.RETRY))
    assert down.start == datetime(2004, 6, 7, 10, 15, 15, 223990)
    assert down.end == retry.start == datetime(2004, 6, 7, 10, 16, 15)
    assert retry_due_at(down.start, 60) == retry.start
    assert retry_due_at(datetime(2004, 6, 7, 10, 15, 15, 999999), 60) == retry.start


def test_a_retry_logged_before_the_interval_opens_the_window_where_the_log_says(tmp_path: Path) -> None:
    """A process that logs `Time to retry` early (premature retry, APAR PK28197): the model holds the member
    available from that line (and the findings report the disagreement), so the window opens there."""
    text = FAILOVER.read_text(encoding="utf-8").replace("10:16:22 2004]", "10:16:02 2004]").replace(
        "10:16:23 2004]", "10:16:03 2004]")
    log = tmp_path / "premature.log"
    log.write_text(text, encoding="utf-8")
    report = analyze([str(log)], config=str(CFG))
    lane = next(lane for lane in build_lanes(report, LaneFilters(member=M1), 200).lanes)
    retry = next(s for s in lane.stretches if s.state is CellState.RETRY)
    assert (retry.start, retry.cause) == (at("10:16:02"), Cause.RETRY_LOGGED)
    assert "retryNow 1" in text.splitlines()[retry.evidence[0].line - 1]
    # the model's answer for the request that logged it: available, and a premature retry
    request = next(r for r in report.requests if r.begin == at("10:16:02"))
    view = next(v for v in request.state_at_begin if v.member == M1)
    answer = availability(M1, view, request.status_checks, request.begin, 60)
    assert answer.available and "premature retry" in (answer.disagreement or "")


CASES = [*sorted(SAMPLES.glob("*.log")), *sorted(TRACES.glob("*.log"))]


def test_every_lane_agrees_with_the_routing_model_at_every_request(tmp_path: Path) -> None:
    """Where a request began, its process's view of each member as the replay used it: the model holds the
    member available exactly where its lane is not marked down. Every sample log and test trace, and the
    trace above; instants where a stretch begins or ends are left out (a line of the same second may come
    before or after the request's first), and so is MaxConnections (not a state of the lane)."""
    checked = 0
    for log in [*CASES, marked_down_twice(tmp_path)]:
        report = analyze([str(log)], config=str(CFG) if log.parent == tmp_path else None,
                         lenient="real-03" in log.name)
        lanes = {(lane.pid, lane.member): lane for lane in build_lanes(report, LaneFilters(), 400).lanes}
        for r in report.requests:
            for view in r.state_at_begin if r.begin is not None else ():
                lane = lanes.get((r.pid, view.member))
                if lane is None or lane.retry_interval is None or view.reached_max_connections \
                        or any(r.begin in (s.start, s.end) for s in lane.stretches):
                    continue
                model = availability(view.member, view, (), r.begin, lane.retry_interval)
                assert model.available == (state_at(lane, r.begin) is not CellState.DOWN), (log.name, r.first_line)
                checked += 1
    assert checked >= 20, checked
