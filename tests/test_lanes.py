"""The lane model (`tracelens.lanes`): lanes, stretches with cause and evidence, request marks, filters — as data."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from tests.conftest import SAMPLES
from tracelens.api import analyze
from tracelens.errors import TracelensError
from tracelens.lanes import (
    NO_MEMBER,
    Cause,
    CellState,
    Empty,
    Evidence,
    LaneChart,
    LaneFilters,
    Mark,
    build_lanes,
)
from tracelens.routing.replay import Verdict
from tracelens.state.members import DownReason

FAILOVER = SAMPLES / "failover-failback.log"
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
        (CellState.RETRY, at("10:16:20"), at("10:16:23"), Cause.RETRY_DUE),
        (CellState.UP, at("10:16:23"), at("10:16:23"), Cause.BACK_UP),
    ]
    down = member1.stretches[1]
    assert down.failure is DownReason.CONNECT_REFUSED
    # the connect failure (line 61) and the mark-down (line 63) of the sample
    assert [str(e) for e in down.evidence] == [f"{FAILOVER}:61", f"{FAILOVER}:63"]
    assert down.evidence[0] == Evidence(str(FAILOVER), 61)
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
    chart = build_lanes(analyze([str(SAMPLES.parent / "tests" / "traces" / "no-member.log")]), LaneFilters(), 48)
    lane = next(lane for lane in chart.lanes if lane.member == NO_MEMBER)
    assert lane.no_member and lane.cells is None and lane.stretches == ()
    assert {m.verdict for m in lane.requests} == {Verdict.NO_MEMBER}


def test_a_header_less_excerpt_is_an_empty_chart_that_says_why() -> None:
    report = analyze([str(FAILOVER)])
    untimed = dataclasses.replace(report, first_time=None, last_time=None,
                                  requests=[dataclasses.replace(r, begin=None) for r in report.requests])
    chart = build_lanes(untimed, LaneFilters(), 48)
    assert chart.empty is Empty.NO_TIMESTAMPS and chart.lanes == () and chart.untimed_requests == 4
