"""Lanes stage: what each process believed about each member, and where each request went, across time.

The chart that ``tracelens timeline`` draws as text, as data: a :class:`LaneChart` holds a
:class:`~tracelens.lanes.scale.Scale` (equal buckets of a round step) and one :class:`Lane` per
``(process, member)``. A lane is a list of :class:`Stretch` es (up, marked down, retry window, each with
its :class:`Cause` and :class:`Evidence` lines ``file:line``), one :class:`CellState` per bucket, and
its requests as :class:`RequestMark` s (time, verdict, :class:`Mark`). Build one with
:func:`build_lanes` from the report and :class:`LaneFilters`; draw it in a reporter.

This stage sits between the findings and the report: it imports no reporter, no terminal and no file
(import-linter contracts in pyproject.toml keep it so).
"""

from tracelens.lanes.chart import (
    NO_MEMBER,
    Cause,
    CellState,
    Empty,
    Evidence,
    Lane,
    LaneChart,
    LaneFilters,
    LaneSource,
    Mark,
    RequestMark,
    Stretch,
    build_lanes,
    lane_of,
    mark_of,
    same_pid,
)
from tracelens.lanes.scale import Scale, choose_scale, describe_step, ticks

__all__ = [
    "NO_MEMBER",
    "Cause",
    "CellState",
    "Empty",
    "Evidence",
    "Lane",
    "LaneChart",
    "LaneFilters",
    "LaneSource",
    "Mark",
    "RequestMark",
    "Scale",
    "Stretch",
    "build_lanes",
    "choose_scale",
    "describe_step",
    "lane_of",
    "mark_of",
    "same_pid",
    "ticks",
]
