"""Reporter: the lanes of :mod:`tracelens.lanes` drawn as text, one row of glyphs per lane.

The lane model (scale, states, stretches, request marks, filters) is analysis data built by
:func:`tracelens.lanes.build_lanes`; this module only draws it: a label per lane, a glyph per bucket
(distinct glyphs, so that the chart reads without colour), the axis, the legend, and for ``--session``
the list of its requests. No I/O here: :func:`render` returns renderables and one-line messages, the
command prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.cells import cell_len
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from tracelens.lanes import (
    NO_MEMBER,
    CellState,
    Empty,
    LaneChart,
    LaneFilters,
    Mark,
    Scale,
    build_lanes,
    describe_step,
    lane_of,
    mark_of,
    ticks,
)
from tracelens.report import Report
from tracelens.reporters.console import safe, safe_text
from tracelens.requests.sessions import Session
from tracelens.routing.replay import RequestVerdict

MIN_WIDTH = 80
#: the left-hand label: 80 columns leave 80 - 32 = 48 cells (at least 40 were wanted)
LABEL_WIDTH = 31
#: the label of the row under a lane that shows its state where requests' marks cover it
STATE_ROW_LABEL = "state under the marks"
ELLIPSIS = "…"

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
class Timeline:
    """The chart to print on stdout (empty when there is nothing to draw) and one-line messages for stderr."""

    renderables: tuple[RenderableType, ...]
    messages: tuple[str, ...]


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


def _files(report: Report) -> str:
    return ", ".join(safe(f) for f in report.stats.files)


def render(report: Report, options: LaneFilters, width: int) -> Timeline:
    """The timeline of ``report`` in ``width`` columns (at least MIN_WIDTH).

    Raises :class:`TracelensError` for an unknown process, member or session and for a window that
    ends before it starts.
    """
    width = max(width, MIN_WIDTH)
    area = width - LABEL_WIDTH - 1
    chart = build_lanes(report, options, area)
    return draw(report, chart, options, area)


def draw(report: Report, chart: LaneChart, options: LaneFilters, area: int) -> Timeline:
    """``chart`` as text with its lanes ``area`` cells wide (the scale was chosen for them)."""
    session = chart.session
    lo, hi, scale = chart.since, chart.until, chart.scale
    if chart.empty is Empty.NO_TIMESTAMPS or lo is None or hi is None:
        return Timeline((), (f"{_files(report)}: no timestamps (a header-less excerpt?): {chart.untimed_requests} "
                             f"request(s) and {chart.untimed_intervals} down interval(s) cannot be placed on a "
                             "timeline",))
    if chart.empty is Empty.OUTSIDE_SESSION:
        return Timeline((), (f"nothing to show from {_ts(lo)} to {_ts(hi)}{_filters(options, session)}: "
                             "the window does not meet the session",))
    if chart.empty is not None or scale is None:
        return Timeline((), (f"nothing to show from {_ts(lo)} to {_ts(hi)}{_filters(options, session)}: "
                             "no request and no down interval",))

    rows: list[Text] = []
    for lane in chart.lanes:
        line = lane_label(lane.pid, lane.member)
        line.append(" ")
        line.append_text(_cells(lane.cells, lane.marks))
        rows.append(line)
        if lane.cells is not None and any(lane.marks):
            # NOTE: a mark hides the state of its cell, and on a busy log every cell holds one: the
            # state then also gets a row of its own, so that it reads without colour
            state_row = Text(STATE_ROW_LABEL.rjust(LABEL_WIDTH), style="dim")
            state_row.append(" ")
            state_row.append_text(_cells(lane.cells, None))
            rows.append(state_row)

    out: list[RenderableType] = [*_header(report, options, session, lo, hi, scale)]
    out.extend(_axis(scale, area, lo.date() != hi.date()))
    out.extend(rows)
    out.extend(_legend())
    notes = []
    if chart.untimed_requests or chart.untimed_intervals:
        notes.append(f"{chart.untimed_requests} request(s) and {chart.untimed_intervals} down interval(s) have no "
                     "timestamp (header-less excerpt): not on the timeline")
    if chart.unrouted:
        notes.append(f"{chart.unrouted} request(s) with no routing decision in the log (cut by its edges): not on "
                     "the timeline")
    out.extend(Text(n, style="dim") for n in notes)
    if session is not None:
        out.extend(_session_list(report, session, {v.index: v for v in report.verdicts}))
    return Timeline(tuple(out), ())


def _filters(options: LaneFilters, session: Session | None = None) -> str:
    parts = []
    if session is not None:
        parts.append(f"session {session.session_id}")
    if options.pid:
        parts.append(f"process {options.pid}")
    if options.member:
        parts.append(f"member {options.member}")
    return f" {', '.join(safe(p) for p in parts)}" if parts else ""


def _cells(states: tuple[CellState, ...] | None, marks: tuple[Mark, ...] | None) -> Text:
    """One lane's cells as styled runs (one span per run, not per cell)."""
    text = Text()
    run: list[str] = []
    run_style = ""
    n = len(states) if states is not None else len(marks or ())
    for i in range(n):
        mark = marks[i] if marks is not None else Mark.NONE
        if mark:
            glyph, style = MARK_GLYPH[mark]
            if states is not None and states[i] >= CellState.RETRY:
                # keep the state visible under the mark when there is colour
                style = f"bold black on {STATE_GLYPH[states[i]][1]}"
        elif states is None:
            glyph, style = " ", ""  # the (no member) lane has no state
        else:
            glyph, style = STATE_GLYPH[states[i]]
        if style != run_style and run:
            text.append("".join(run), style=run_style)
            run = []
        run.append(glyph)
        run_style = style
    if run:
        text.append("".join(run), style=run_style)
    return text


def _header(report: Report, options: LaneFilters, session: Session | None, lo: datetime, hi: datetime,
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
    for col, label in ticks(scale, area, multi_day):
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

