"""Reporters: the HTML report's content as data: summary, lanes and bands, series, findings, sessions, topology.

Everything here is computed from the :class:`~tracelens.report.Report`; nothing is rendered (the
template does that) and no file is read (the evidence lines are handed in by :mod:`.evidence`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracelens import __version__
from tracelens.findings.base import Finding, Rule, Severity
from tracelens.findings.rules import find_rule
from tracelens.lanes import CellState, Lane, LaneChart, LaneFilters, Mark, RequestMark, Scale, build_lanes, mark_of
from tracelens.read.logset import split_process
from tracelens.report import Report
from tracelens.reporters.html.sentences import Sentence, summary_sentences
from tracelens.reporters.rich_report import VERDICT_HELP, input_order
from tracelens.routing.replay import RequestVerdict, Verdict

#: the bands' states as the report names them
STATE_NAME = {CellState.UP: "up", CellState.DOWN: "marked down", CellState.RETRY: "retry window"}
MARK_NAME = {
    Mark.OTHER: "kept or other",
    Mark.FAILBACK: "failback",
    Mark.FAILOVER: "failover",
    Mark.SESSION_LOST: "session lost",
    Mark.NO_MEMBER: "no member",
}
#: the most request marks of kind "kept or other" drawn on the timeline; every other mark is always drawn
MAX_PLAIN_MARKS = 3_000
#: how many buckets the series over time are cut into, at most
SERIES_BUCKETS = 120
#: the evidence lines shown per finding (the rest are counted)
MAX_EVIDENCE = 20
MAX_FINDINGS_PER_RULE = 100
MAX_SESSIONS = 100


@dataclass(frozen=True, slots=True)
class LaneView:
    """A lane of the lane model, with the web server its process belongs to."""

    lane: Lane
    web_server: str | None
    pid: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.lane.pid, self.lane.member)

    @property
    def label(self) -> str:
        return " · ".join(p for p in (self.web_server, self.pid, self.lane.member) if p)


@dataclass(frozen=True, slots=True)
class MarkPoint:
    """A request mark as the picture shows it: on its lane, with its session."""

    lane: tuple[str, str]
    request: RequestMark
    session: str | None


@dataclass(frozen=True, slots=True)
class Timeline:
    lanes: tuple[LaneView, ...]
    marks: tuple[MarkPoint, ...]
    plain_marks_left_out: int
    untimed: int  # requests and down intervals without a timestamp
    unrouted: int  # requests without a routing decision in the log


@dataclass(frozen=True, slots=True)
class Series:
    """Counts per bucket of ``step`` from ``t0``."""

    t0: datetime
    step: timedelta
    buckets: int
    counts: Mapping[str, tuple[int, ...]]

    def times(self) -> list[datetime]:
        return [self.t0 + i * self.step for i in range(self.buckets)]


@dataclass(frozen=True, slots=True)
class Share:
    """A member's share of the load-balanced requests, and of its cluster's weight."""

    cluster: str
    member: str
    requests: int
    share: float
    weight: int | None
    weight_share: float | None


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    marked: bool


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    file: str
    line: int
    segments: tuple[Segment, ...] | None  # None: the text cannot be read again (standard input)


@dataclass(frozen=True, slots=True)
class FindingView:
    anchor: str
    finding: Finding
    where: str
    evidence: tuple[EvidenceLine, ...]
    evidence_left_out: int
    session_anchor: str | None


@dataclass(frozen=True, slots=True)
class RuleGroup:
    code: str
    name: str
    severity: Severity
    summary: str
    sections: Mapping[str, str]
    findings: tuple[FindingView, ...]
    left_out: int


@dataclass(frozen=True, slots=True)
class StepView:
    time: datetime | None
    process: str
    where: str
    clones: str
    served_by: str | None
    verdict: Verdict
    reason: str
    disagreements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SessionView:
    anchor: str
    session_id: str
    members: tuple[str, ...]
    processes: tuple[str, ...]
    switches: int
    steps: tuple[StepView, ...]
    findings: tuple[tuple[str, str], ...]  # (anchor, "TLnnn name") of the findings that name it


@dataclass(frozen=True, slots=True)
class MemberRow:
    name: str
    clone_id: str | None
    weight: int | None
    max_connections: int | None
    role: str
    source: str


@dataclass(frozen=True, slots=True)
class ClusterView:
    name: str
    source: str
    retry_interval: int
    retry_interval_source: str
    load_balance: str
    members: tuple[MemberRow, ...]


@dataclass(frozen=True, slots=True)
class Summary:
    files: tuple[str, ...]
    input_order: tuple[str, ...]
    first: datetime | None
    last: datetime | None
    duration: str | None
    web_servers: tuple[str, ...]
    processes: int
    requests: int
    sessions: int
    changed_sessions: int
    verdicts: tuple[tuple[str, int, str], ...]  # (verdict, count, what it means), the non-zero ones
    severities: Mapping[str, int]
    sentences: tuple[Sentence, ...]
    accounting: str
    reconciles: bool
    config: str | None
    topology_notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReportView:
    version: str
    title: str
    summary: Summary
    timeline: Timeline
    by_verdict: Series | None
    failovers: Series | None
    shares: tuple[Share, ...]
    down_processes: Series | None
    rule_groups: tuple[RuleGroup, ...]
    sessions: tuple[SessionView, ...]
    sessions_left_out: int
    clusters: tuple[ClusterView, ...]
    config_groups: tuple[RuleGroup, ...]


def anchor(prefix: str, text: str) -> str:
    """An HTML id from any text: letters, digits and dashes only, so it needs no escaping in a URL."""
    return f"{prefix}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")


def _where(file: str | None, line: int | None) -> str:
    if file is None:
        return ""
    return f"{file}:{line}" if line is not None else file


def _duration(first: datetime | None, last: datetime | None) -> str | None:
    if first is None or last is None or last < first:
        return None
    seconds = int((last - first).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, s = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {s} s" if minutes else f"{s} s"


# -- the timeline ---------------------------------------------------------------------------------

def timeline(report: Report, chart: LaneChart) -> Timeline:
    """The lane model's chart of the whole log, as the picture draws it."""
    lanes: list[LaneView] = []
    marks: list[MarkPoint] = []
    for lane in chart.lanes:
        server, pid = split_process(lane.pid)
        view = LaneView(lane, server, pid)
        lanes.append(view)
        marks += [MarkPoint(view.key, m, report.requests[m.index].session_id) for m in lane.requests]
    lanes.sort(key=lambda v: (v.web_server or "", v.pid, v.lane.no_member, v.lane.member))
    plain = [m for m in marks if m.request.mark is Mark.OTHER]
    left_out = 0
    if len(plain) > MAX_PLAIN_MARKS:
        # NOTE: a busy log has a mark per request; a sample of the plain ones keeps the page light
        # while every failover, failback, lost session and request without a member stays drawn
        every = len(plain) / MAX_PLAIN_MARKS
        kept = {plain[int(k * every)].request.index for k in range(MAX_PLAIN_MARKS)}
        left_out = len(plain) - len(kept)
        marks = [m for m in marks if m.request.mark is not Mark.OTHER or m.request.index in kept]
    return Timeline(tuple(lanes), tuple(marks), left_out, chart.untimed_requests + chart.untimed_intervals,
                    chart.unrouted)


# -- series over time -----------------------------------------------------------------------------

def _series(scale: Scale, names: Sequence[str], points: Sequence[tuple[datetime, str]]) -> Series:
    counts = {n: [0] * scale.cells for n in names}
    for t, name in points:
        i = scale.index(t)
        if 0 <= i < scale.cells:
            counts[name][i] += 1
    return Series(scale.t0, scale.step, scale.cells, {n: tuple(c) for n, c in counts.items()})


def by_verdict(report: Report, scale: Scale) -> Series:
    points = [(r.begin, v.verdict.value) for v in report.verdicts
              if (r := report.requests[v.index]).begin is not None]
    return _series(scale, [v.value for v in Verdict], points)


def failovers(report: Report, scale: Scale) -> Series:
    kinds = (Mark.FAILOVER, Mark.FAILBACK, Mark.SESSION_LOST, Mark.NO_MEMBER)
    points = []
    for v in report.verdicts:
        r = report.requests[v.index]
        mark = mark_of(r, v)
        if r.begin is not None and mark in kinds:
            points.append((r.begin, MARK_NAME[mark]))
    return _series(scale, [MARK_NAME[k] for k in kinds], points)


def down_processes(chart: LaneChart) -> Series | None:
    """Per member, in how many processes it was marked down or in its retry window, per bucket."""
    if chart.scale is None:
        return None
    counts: dict[str, list[int]] = {}
    for lane in chart.lanes:
        if lane.cells is None or not any(c in (CellState.DOWN, CellState.RETRY) for c in lane.cells):
            continue
        row = counts.setdefault(lane.member, [0] * chart.scale.cells)
        for i, c in enumerate(lane.cells):
            row[i] += c in (CellState.DOWN, CellState.RETRY)
    return Series(chart.scale.t0, chart.scale.step, chart.scale.cells,
                  {m: tuple(c) for m, c in sorted(counts.items())})


def shares(report: Report) -> list[Share]:
    """Each primary member's share of its cluster's load-balanced requests, beside its share of the weights."""
    balanced = Counter(v.routed_to for v in report.verdicts
                       if v.verdict in (Verdict.LOAD_BALANCED, Verdict.NEW_SESSION) and v.routed_to is not None)
    out = []
    for c in report.topology.clusters:
        members = [m for m in c.members if m.name in c.primary] or list(c.members)
        total = sum(balanced[m.name] for m in members)
        weights = [m.weight for m in members if m.weight is not None]
        weight_total = sum(weights) if len(weights) == len(members) else 0
        for m in members:
            out.append(Share(c.name, m.name, balanced[m.name], balanced[m.name] / total if total else 0.0, m.weight,
                             (m.weight or 0) / weight_total if weight_total else None))
    return out if any(s.requests for s in out) else []


# -- findings, sessions, configuration --------------------------------------------------------------

def highlighter(report: Report) -> re.Pattern[str]:
    """What is routing-relevant in a log line: member names, clone IDs, session cookies and the words
    of the plug-in's routing decisions."""
    words = {m for _, m in report.tracker.members} | {r.served_by for r in report.requests if r.served_by}
    words |= {m.name for c in report.topology.clusters for m in c.members}
    words |= {m.clone_id for c in report.topology.clusters for m in c.members if m.clone_id and len(m.clone_id) > 2}
    keywords = (r"markedDown\s*\d*", r"retryNow\s*\d*", r"retryInSec\s*-?\d*", r"wlbAllows\s*\d*",
                r"reachedMaxConnectionsLimit\s*\d*", r"retry in \d+", r"[Mm]arking \S+ down",
                r"Failed to \w+[^:,]*", r"failed to \w+[^:,]*", r"ECONNREFUSED|[Cc]onnection refused|timed out",
                r"JSESSIONID=[^\s;,]+", r"Set-Cookie[^;]*", r"[Cc]lone[ _]?[Ii][Dd]s?", r"Time to retry[^,]*",
                r"HTTP/1\.\d \d{3}")
    alternatives = [re.escape(w) for w in sorted(words, key=len, reverse=True) if w] + list(keywords)
    return re.compile("|".join(alternatives))


def segments(text: str, pattern: re.Pattern[str]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    at = 0
    for m in pattern.finditer(text):
        if m.end() == m.start():
            continue
        if m.start() > at:
            out.append(Segment(text[at:m.start()], False))
        out.append(Segment(m.group(), True))
        at = m.end()
    if at < len(text):
        out.append(Segment(text[at:], False))
    return tuple(out)


def wanted_lines(report: Report) -> set[tuple[str, int]]:
    """The lines the findings show as evidence (those the report will show, not those it leaves out)."""
    wanted: set[tuple[str, int]] = set()
    count: Counter[str] = Counter()
    for f in report.findings:
        count[f.code] += 1
        if count[f.code] <= MAX_FINDINGS_PER_RULE:
            wanted.update(_evidence_of(f)[:MAX_EVIDENCE])
    return wanted


def _evidence_of(f: Finding) -> list[tuple[str, int]]:
    lines = list(f.evidence)
    if not lines and f.file is not None and f.line is not None:
        lines = [(f.file, f.line)]
    return lines


def rule_groups(report: Report, findings: Sequence[Finding], texts: Mapping[tuple[str, int], str | None],
                sessions: Mapping[str, str], pattern: re.Pattern[str]) -> list[RuleGroup]:
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        groups[f.code].append(f)
    out = []
    for code, items in groups.items():
        rule: type[Rule] | None = find_rule(code)
        views = []
        for n, f in enumerate(items[:MAX_FINDINGS_PER_RULE]):
            lines = _evidence_of(f)
            evidence = tuple(
                EvidenceLine(file, line, segments(t, pattern) if (t := texts.get((file, line))) is not None else None)
                for file, line in lines[:MAX_EVIDENCE])
            views.append(FindingView(anchor(f"finding-{code}", str(n + 1)), f, _where(f.file, f.line), evidence,
                                     max(len(lines) - MAX_EVIDENCE, 0),
                                     sessions.get(f.session) if f.session is not None else None))
        severity = max((f.severity for f in items), key=lambda s: s.rank)
        out.append(RuleGroup(code, items[0].name, severity, rule.summary() if rule else "",
                             rule.sections() if rule else {}, tuple(views),
                             max(len(items) - MAX_FINDINGS_PER_RULE, 0)))
    out.sort(key=lambda g: (-g.severity.rank, g.code))
    return out


def session_views(report: Report, finding_anchors: Mapping[str, list[tuple[str, str]]]) -> list[SessionView]:
    verdicts: dict[int, RequestVerdict] = {v.index: v for v in report.verdicts}
    several = len(report.stats.files) > 1
    out = []
    for s in report.changed_sessions()[:MAX_SESSIONS]:
        steps = []
        for st in s.steps:
            r = report.requests[st.index]
            v = verdicts[st.index]
            steps.append(StepView(st.time, f"{st.pid}/{st.tid or '-'}",
                                  _where(st.file, st.line) if several else str(st.line),
                                  ":".join(r.cookie.clone_ids) if r.cookie else "", st.served_by, v.verdict, v.reason,
                                  v.disagreements))
        out.append(SessionView(anchor("session", s.session_id), s.session_id, s.members, s.processes, s.switches,
                               tuple(steps), tuple(finding_anchors.get(s.session_id, ()))))
    return out


def clusters(report: Report) -> list[ClusterView]:
    out = []
    for c in report.topology.clusters:
        rows = tuple(MemberRow(m.name, m.clone_id, m.weight, m.max_connections,
                               "primary" if m.name in c.primary else "backup" if m.name in c.backup else "-",
                               m.source.value) for m in c.members)
        out.append(ClusterView(c.name, c.source.value, c.retry_interval, c.retry_interval_source.value,
                               c.load_balance.value, rows))
    return out


def build(report: Report, texts: Mapping[tuple[str, int], str | None]) -> ReportView:
    """The whole report's content; ``texts``: the evidence lines' text by (file, line), None where unreadable."""
    changed = report.changed_sessions()
    session_anchor = {s.session_id: anchor("session", s.session_id) for s in changed[:MAX_SESSIONS]}
    pattern = highlighter(report)
    config_codes = {f.code for f in report.findings if f.code.startswith("TL6")}
    groups = rule_groups(report, report.findings, texts, session_anchor, pattern)
    finding_anchors: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for g in groups:
        for fv in g.findings:
            if fv.finding.session is not None:
                finding_anchors[fv.finding.session].append((fv.anchor, f"{g.code} {g.name}"))
    chart = build_lanes(report, LaneFilters(), SERIES_BUCKETS)
    line = timeline(report, chart)
    scale = chart.scale
    acc = report.accounting
    log_set = report.log_set
    servers = tuple(log_set.web_servers) if log_set is not None and log_set.several else ()
    counts = report.verdict_counts()
    summary = Summary(
        files=tuple(report.stats.files), input_order=tuple(input_order(report)), first=report.first_time,
        last=report.last_time, duration=_duration(report.first_time, report.last_time), web_servers=servers,
        processes=len(report.processes), requests=len(report.requests), sessions=len(report.sessions),
        changed_sessions=len(changed),
        verdicts=tuple((v.value, counts[v.value], VERDICT_HELP[v]) for v in Verdict if counts[v.value]),
        severities=report.severity_counts(), sentences=tuple(summary_sentences(report)),
        accounting=acc.sentence(), reconciles=acc.reconciles,
        config=report.config.path if report.config is not None else None, topology_notes=tuple(report.topology.notes),
    )
    title = "tracelens report: " + ", ".join(report.stats.files)
    return ReportView(
        version=__version__, title=title, summary=summary, timeline=line,
        by_verdict=by_verdict(report, scale) if scale and report.requests else None,
        failovers=failovers(report, scale) if scale and report.requests else None,
        shares=tuple(shares(report)),
        down_processes=down_processes(chart),
        rule_groups=tuple(g for g in groups if g.code not in config_codes),
        sessions=tuple(session_views(report, finding_anchors)), sessions_left_out=max(len(changed) - MAX_SESSIONS, 0),
        clusters=tuple(clusters(report)),
        config_groups=tuple(g for g in groups if g.code in config_codes),
    )
