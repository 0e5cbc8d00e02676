"""Reporters: the HTML report's pictures as Plotly figures (the timeline, and the series over time).

NOTE: Plotly draws text given to it (tick labels, hover text) through its own small HTML subset, so
every text that comes from the log is escaped here (``html.escape``) before it is handed over; Plotly
turns the entities back into the characters, as text.
"""

from __future__ import annotations

import html
import math
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go

from tracelens.lanes import CellState, Evidence, Mark, describe_step
from tracelens.reporters.html.view import (
    MARK_NAME,
    STATE_NAME,
    ReportView,
    Series,
    Share,
    Timeline,
)

#: Okabe-Ito colours (told apart by colour-blind readers), and a pattern per state for grey print
STATE_STYLE: dict[CellState, tuple[str, str]] = {
    CellState.UP: ("#009E73", ""),
    CellState.RETRY: ("#E69F00", "/"),
    CellState.DOWN: ("#D55E00", "x"),
}
MARK_STYLE: dict[Mark, tuple[str, str, int]] = {  # colour, symbol, size
    Mark.OTHER: ("#0072B2", "circle-open", 6),
    Mark.FAILBACK: ("#56B4E9", "square", 9),
    Mark.FAILOVER: ("#F0E442", "triangle-right", 11),
    Mark.SESSION_LOST: ("#CC79A7", "x", 11),
    Mark.NO_MEMBER: ("#000000", "diamond", 11),
}
VERDICT_COLOURS = {
    "kept": "#009E73", "failover": "#E69F00", "failback": "#56B4E9", "new_session": "#0072B2",
    "load_balanced": "#999999", "clone_unknown": "#CC79A7", "no_member": "#000000", "unexplained": "#D55E00",
    "incomplete": "#DDDDDD", "secondary_used": "#F0E442", "jvmid_stale": "#882255",
}
VERDICT_PATTERNS = {"failover": "/", "no_member": "x", "unexplained": "\\", "clone_unknown": ".", "failback": "-",
                    "secondary_used": "/", "jvmid_stale": "."}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
LANE_PX = 44
#: the lane model's causes in words, by value (a cause added to the model shows as its value)
CAUSE_TEXT = {
    "seen": "the process logged the member",
    "back_up": "back up after a down interval",
    "marked_down": "marked down",
    "marked_down_again": "marked down again (a failed retry probe or connection): the retry timer restarts",
    "retry_interval": "the retry interval has passed since the last failure",
    "retry_logged": "the process logged the retry as due",
}


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _ms(delta: timedelta) -> float:
    return delta / timedelta(milliseconds=1)


def _iso(t: datetime) -> str:
    return t.isoformat(sep=" ")


def _layout(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "template": "simple_white", "font": {"family": FONT, "size": 12},
        "margin": {"l": 10, "r": 10, "t": 30, "b": 40}, "hovermode": "closest",
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    }
    base.update(extra)
    return base


def _span(t: datetime, u: datetime) -> str:
    seconds = (u - t).total_seconds()
    return f"{t:%H:%M:%S} → {u:%H:%M:%S} ({seconds:.0f} s)" if seconds >= 1 else f"{t:%H:%M:%S.%f} → {u:%H:%M:%S.%f}"


def _lines(evidence: tuple[Evidence, ...], several: bool) -> str:
    return ", ".join(str(e) if several else str(e.line) for e in evidence[:8]) + (" …" if len(evidence) > 8 else "")


def timeline_figure(timeline: Timeline, several_files: bool) -> go.Figure:
    """One lane per (web server, process, member): state bands with colour and pattern, request marks."""
    labels = {lane.key: _esc(lane.label) for lane in timeline.lanes}
    fig = go.Figure()
    for state, (colour, shape) in STATE_STYLE.items():
        ys, xs, bases, texts = [], [], [], []
        for lane in timeline.lanes:
            for b in lane.lane.stretches:
                if b.state is not state:
                    continue
                ys.append(labels[lane.key])
                xs.append(max(_ms(b.end - b.start), 1.0))
                bases.append(_iso(b.start))
                text = f"<b>{labels[lane.key]}</b><br>{STATE_NAME[state]}: {_span(b.start, b.end)}"
                text += f"<br>why: {CAUSE_TEXT.get(b.cause.value, b.cause.value.replace('_', ' '))}"
                if b.failure is not None:
                    text += f" ({_esc(b.failure.value.replace('_', ' '))})"
                if b.evidence:
                    text += f"<br>lines: {_esc(_lines(b.evidence, several_files))}"
                texts.append(text)
        fig.add_trace(go.Bar(
            name=STATE_NAME[state], orientation="h", y=ys, x=xs, base=bases, width=0.55,
            marker={"color": colour, "line": {"color": "#333333", "width": 0.5},
                    "pattern": {"shape": shape, "fgcolor": "#222222", "fgopacity": 0.55, "size": 7, "solidity": 0.3}},
            hovertext=texts, hoverinfo="text",
        ))
    for mark in (Mark.OTHER, Mark.FAILBACK, Mark.FAILOVER, Mark.SESSION_LOST, Mark.NO_MEMBER):
        points = [m for m in timeline.marks if m.request.mark is mark]
        if not points:
            continue
        colour, symbol, size = MARK_STYLE[mark]
        fig.add_trace(go.Scatter(
            name=MARK_NAME[mark], mode="markers", x=[_iso(m.request.time) for m in points],
            y=[labels[m.lane] for m in points],
            marker={"color": colour, "symbol": symbol, "size": size, "line": {"color": "#222222", "width": 1}},
            hovertext=[f"{m.request.time:%H:%M:%S.%f}"[:-3] + f" {m.request.verdict.value}"
                       + (f"<br>session {_esc(m.session)}" if m.session else "")
                       + f"<br>line {_esc(_lines((m.request.evidence,), several_files))}"
                       for m in points],
            hoverinfo="text",
        ))
    order = [labels[lane.key] for lane in timeline.lanes]
    fig.update_layout(**_layout(
        barmode="overlay", height=110 + LANE_PX * max(len(order), 1),
        xaxis={"type": "date", "title": None, "showgrid": True, "gridcolor": "#e5e5e5"},
        yaxis={"categoryorder": "array", "categoryarray": list(reversed(order)), "automargin": True,
               "title": None},
    ))
    return fig


def _per(series: Series) -> str:
    return f"per {describe_step(series.step)}"


def stacked_figure(series: Series, title: str, colours: dict[str, str], patterns: dict[str, str]) -> go.Figure:
    times = [_iso(t) for t in series.times()]
    fig = go.Figure()
    for name, counts in series.counts.items():
        if not any(counts):
            continue
        fig.add_trace(go.Bar(name=_esc(name), x=times, y=list(counts), offset=0, showlegend=True,
                             width=[_ms(series.step)] * len(times),
                             marker={"color": colours.get(name, "#777777"), "line": {"width": 0},
                                     "pattern": {"shape": patterns.get(name, ""), "fgcolor": "#222222",
                                                 "fgopacity": 0.5, "size": 6}}))
    highest = max((sum(column) for column in zip(*series.counts.values(), strict=True)), default=0)
    fig.update_layout(**_layout(barmode="stack", height=300, bargap=0,
                                xaxis={"type": "date", "title": None},
                                yaxis={"title": f"{title} {_per(series)}", "rangemode": "tozero", "tick0": 0,
                                       "dtick": max(1, math.ceil(highest / 5))}))  # counts: whole ticks
    return fig


def down_figure(series: Series) -> go.Figure:
    times = [_iso(t) for t in series.times()]
    fig = go.Figure()
    dashes = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
    for n, (member, counts) in enumerate(series.counts.items()):
        fig.add_trace(go.Scatter(name=_esc(member), x=times, y=list(counts), mode="lines",
                                 line={"shape": "hv", "width": 2, "dash": dashes[n % len(dashes)]}))
    fig.update_layout(**_layout(height=280, xaxis={"type": "date", "title": None},
                                yaxis={"title": "processes with it down", "rangemode": "tozero", "dtick": 1}))
    return fig


def share_figure(shares: tuple[Share, ...]) -> go.Figure:
    names = [_esc(f"{s.cluster} · {s.member}") for s in shares]
    fig = go.Figure()
    fig.add_trace(go.Bar(name="share of load-balanced requests", y=names, x=[s.share * 100 for s in shares],
                         orientation="h", marker={"color": "#0072B2"},
                         hovertext=[f"{s.requests} request(s), {s.share:.0%}" for s in shares], hoverinfo="text"))
    if any(s.weight_share is not None for s in shares):
        fig.add_trace(go.Bar(name="share of configured weight", y=names,
                             x=[(s.weight_share or 0) * 100 for s in shares], orientation="h",
                             marker={"color": "#E69F00", "pattern": {"shape": "/", "fgcolor": "#222222",
                                                                     "fgopacity": 0.5}},
                             hovertext=[f"weight {s.weight}" if s.weight is not None else "weight unknown"
                                        for s in shares], hoverinfo="text"))
    fig.update_layout(**_layout(barmode="group", height=120 + 40 * len(shares),
                                xaxis={"title": "% of the cluster", "range": [0, 100]},
                                yaxis={"automargin": True, "autorange": "reversed"}))
    return fig


def figures(view: ReportView) -> dict[str, go.Figure]:
    """The report's figures by the id of the element each is drawn in."""
    out: dict[str, go.Figure] = {}
    if view.timeline.lanes:
        out["plot-timeline"] = timeline_figure(view.timeline, len(view.summary.files) > 1)
    if view.by_verdict is not None:
        out["plot-verdicts"] = stacked_figure(view.by_verdict, "requests", VERDICT_COLOURS, VERDICT_PATTERNS)
    if view.failovers is not None and any(any(c) for c in view.failovers.counts.values()):
        colours = {MARK_NAME[m]: MARK_STYLE[m][0] for m in MARK_STYLE}
        patterns = {MARK_NAME[Mark.FAILOVER]: "/", MARK_NAME[Mark.SESSION_LOST]: "x", MARK_NAME[Mark.NO_MEMBER]: "."}
        out["plot-failovers"] = stacked_figure(view.failovers, "requests", colours, patterns)
    if view.shares:
        out["plot-shares"] = share_figure(view.shares)
    if view.down_processes is not None and view.down_processes.counts:
        out["plot-down"] = down_figure(view.down_processes)
    return out

