"""Reporters: one sentence per error or warning finding group, built from the findings' data.

A sentence counts what a rule found and says on which members, in how many of the web-server
processes, when (the time of the lines the findings rest on) and why (the causes of the down
intervals those lines belong to): ``1 session failed over from was1node_PluginMember1 in 1 of 1
process at 10:15:20 (connection refused).`` Only the noun of each rule is written here
(:data:`PHRASES`); every number, name and time comes from the report.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from tracelens.findings.base import Finding, Severity
from tracelens.report import Report


class Count(enum.Enum):
    """What a rule's sentence counts."""

    FINDINGS = "findings"
    SESSIONS = "sessions"  # distinct sessions named by the findings (one finding per request otherwise)
    UNPARSED = "unparsed"  # the unparsed records of the whole input (TL401 keeps examples, not all)


@dataclass(frozen=True, slots=True)
class Phrase:
    """How a rule's findings are counted and named: ``{n} {noun} {preposition} {members}``."""

    singular: str
    plural: str
    preposition: str = ""  # before the members the findings name; "" when they name none
    count: Count = Count.FINDINGS


#: The noun of each rule with severity warning or error (a test over the registry keeps it complete).
PHRASES: dict[str, Phrase] = {
    "TL001": Phrase("session failed over", "sessions failed over", "from", Count.SESSIONS),
    "TL003": Phrase("session lost after a switch of member", "sessions lost after a switch of member", "to",
                    Count.SESSIONS),
    "TL004": Phrase("set of clone IDs matching no member", "sets of clone IDs matching no member"),
    "TL005": Phrase("session served by different members at once", "sessions served by different members at once",
                    count=Count.SESSIONS),
    "TL006": Phrase("routing decision the documented routing does not explain",
                    "routing decisions the documented routing does not explain", "to"),
    "TL101": Phrase("mark-down", "mark-downs", "of"),
    "TL102": Phrase("run of requests that found no member", "runs of requests that found no member"),
    "TL301": Phrase("malformed session cookie value", "malformed session cookie values"),
    "TL302": Phrase("request with different session cookies", "requests with different session cookies"),
    "TL401": Phrase("unparsed record", "unparsed records", count=Count.UNPARSED),
    "TL403": Phrase("damaged input", "damaged inputs"),
    "TL405": Phrase("analysis limit reached", "analysis limits reached"),
    "TL601": Phrase("member without a CloneID", "members without a CloneID", ":"),
    "TL602": Phrase("cluster whose RetryInterval does not suit ServerIOTimeout",
                    "clusters whose RetryInterval does not suit ServerIOTimeout"),
    "TL604": Phrase("mark-down of a single-member cluster", "mark-downs of single-member clusters", "of"),
    "TL605": Phrase("plugin-cfg.xml value the plug-in would not use as written",
                    "plugin-cfg.xml values the plug-in would not use as written"),
    "TL606": Phrase("name the trace uses and plugin-cfg.xml lacks", "names the trace uses and plugin-cfg.xml lacks",
                    ":"),
    "TL607": Phrase("WebLogic plug-in value the plug-in would not use as written",
                    "WebLogic plug-in values the plug-in would not use as written"),
    "TL608": Phrase("WebLogic location with a WLIOTimeoutSecs over 300 s",
                    "WebLogic locations with a WLIOTimeoutSecs over 300 s"),
    "TL609": Phrase("WebLogic location with one server and DynamicServerList OFF",
                    "WebLogic locations with one server and DynamicServerList OFF"),
    "TL611": Phrase("WebLogic server list that repeats a server", "WebLogic server lists that repeat a server"),
    "TL613": Phrase("WebLogic location whose MaxSkipTime is shorter than ConnectTimeoutSecs",
                    "WebLogic locations whose MaxSkipTime is shorter than ConnectTimeoutSecs"),
    "TL614": Phrase("WebLogic directive the plug-in does not know", "WebLogic directives the plug-in does not know"),
    "TL701": Phrase("request whose cookie JVMIDs the plug-in could not map",
                    "requests whose cookie JVMIDs the plug-in could not map", "taken by"),
    "TL702": Phrase("WebLogic session left with one copy", "WebLogic sessions left with one copy", "on",
                    Count.SESSIONS),
    "TL703": Phrase("WebLogic session with both copies on one host", "WebLogic sessions with both copies on one host",
                    "with its primary on", Count.SESSIONS),
    "TL704": Phrase("WebLogic session lost with its copies", "WebLogic sessions lost with their copies", "to",
                    Count.SESSIONS),
    "TL705": Phrase("session cookie name the plug-in does not read", "session cookie names the plug-in does not read"),
    "TL706": Phrase("POST over 64 KB without a session cookie", "POSTs over 64 KB without a session cookie", "to"),
}
MAX_NAMES = 3


@dataclass(frozen=True, slots=True)
class Sentence:
    """The sentence of one rule's findings, with what it was built from."""

    code: str
    name: str
    severity: Severity
    text: str
    findings: int


class LineTimes:
    """The time of a log line: the lines the analysis timed (requests, mark-downs, countdowns), and for
    any other line the time of the nearest timed line before it in its file."""

    def __init__(self, pairs: Iterable[tuple[str, int, datetime]]) -> None:
        by_file: dict[str, dict[int, datetime]] = defaultdict(dict)
        for file, line, t in pairs:
            by_file[file].setdefault(line, t)
        self._lines = {f: sorted(d) for f, d in by_file.items()}
        self._times = {f: [d[line] for line in self._lines[f]] for f, d in by_file.items()}

    def at(self, file: str, line: int) -> datetime | None:
        lines = self._lines.get(file)
        if not lines:
            return None
        i = bisect_right(lines, line)
        return self._times[file][i - 1] if i else None

    @classmethod
    def of(cls, report: Report) -> LineTimes:
        def pairs() -> Iterable[tuple[str, int, datetime]]:
            for r in report.requests:
                if r.begin is not None:
                    yield r.file, r.first_line, r.begin
                if r.end is not None and r.end_file is None:
                    yield r.file, r.last_line, r.end
            for rec in report.tracker.members.values():
                for iv in rec.intervals:
                    if iv.start is not None:
                        yield iv.file, iv.start_line, iv.start
                    if iv.end is not None and iv.end_line is not None:
                        yield iv.end_file or iv.file, iv.end_line, iv.end
                    for c in iv.countdowns:
                        if c.time is not None:
                            yield c.file or iv.file, c.line, c.time
        return cls(pairs())


def names(items: Sequence[str], limit: int = MAX_NAMES) -> str:
    """``a``, ``a and b``, ``a, b and c``, ``a, b, c and 4 more``."""
    if len(items) <= 1:
        return "".join(items)
    if len(items) > limit:
        return f"{', '.join(items[:limit])} and {len(items) - limit} more"
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _when(times: Sequence[datetime], first_day: datetime | None) -> str:
    if not times:
        return ""
    lo, hi = min(times), max(times)

    def fmt(t: datetime) -> str:
        same_day = first_day is not None and t.date() == first_day.date() and lo.date() == hi.date()
        return t.strftime("%H:%M:%S") if same_day else t.strftime("%Y-%m-%d %H:%M:%S")

    start, end = fmt(lo), fmt(hi)  # compared as shown: lines a few microseconds apart are one moment
    return f" at {start}" if start == end else f" between {start} and {end}"


def _causes(report: Report, findings: Sequence[Finding]) -> list[str]:
    """The causes of the down intervals of the findings' members that the findings' lines belong to."""
    causes: dict[str, None] = {}
    for f in findings:
        if f.pid is None or f.member is None:
            continue
        rec = report.tracker.members.get((f.pid, f.member))
        if rec is None:
            continue
        lines = set(f.evidence) | ({(f.file, f.line)} if f.file is not None and f.line is not None else set())
        for iv in rec.intervals:
            at = {(iv.file, iv.start_line)}
            if iv.reason_line is not None:
                at.add((iv.reason_file or iv.file, iv.reason_line))
            if at & lines:
                causes.setdefault(iv.reason.value.replace("_", " "))
    return list(causes)


def _counted(phrase: Phrase, report: Report, findings: Sequence[Finding]) -> int:
    if phrase.count is Count.SESSIONS:
        return len({f.session for f in findings if f.session is not None}) or len(findings)
    if phrase.count is Count.UNPARSED:
        return report.accounting.unparsed or len(findings)
    return len(findings)


def sentence(report: Report, findings: Sequence[Finding], times: LineTimes | None = None,
             phrases: dict[str, Phrase] = PHRASES) -> Sentence:
    """The sentence of one rule's findings (all of one code)."""
    first = findings[0]
    phrase = phrases.get(first.code, Phrase("finding", "findings", "on"))
    times = times if times is not None else LineTimes.of(report)
    n = _counted(phrase, report, findings)
    parts = [f"{n} {phrase.singular if n == 1 else phrase.plural}"]
    members = list(dict.fromkeys(f.member for f in findings if f.member is not None))
    if members and phrase.preposition:
        glue = ": " if phrase.preposition == ":" else f" {phrase.preposition} "
        parts.append(f"{glue}{names(members)}")
    pids = {f.pid for f in findings if f.pid is not None}
    if pids:
        total = max(len(report.processes), len(pids))
        parts.append(f" in {len(pids)} of {total} process{'' if total == 1 else 'es'}")
    stamps = [t for f in findings for file, line in (f.evidence or ((f.file, f.line),))
              if file is not None and line is not None and (t := times.at(file, line)) is not None]
    parts.append(_when(stamps, report.first_time))
    causes = _causes(report, findings)
    if causes:
        parts.append(f" ({', '.join(causes)})")
    sessions = {f.session for f in findings if f.session is not None}
    if sessions and phrase.count is not Count.SESSIONS:
        parts.append(f"; {len(sessions)} session{'' if len(sessions) == 1 else 's'} affected")
    text = "".join(parts) + "."
    severity = max((f.severity for f in findings), key=lambda s: s.rank)
    return Sentence(first.code, first.name, severity, text[0].upper() + text[1:], len(findings))


def summary_sentences(report: Report, at_least: Severity = Severity.WARNING,
                      group: Callable[[Finding], str] = lambda f: f.code) -> list[Sentence]:
    """One sentence per rule with findings at ``at_least`` or above, the most severe rules first."""
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        if f.severity.rank >= at_least.rank:
            groups[group(f)].append(f)
    times = LineTimes.of(report)
    out = [sentence(report, fs, times) for fs in groups.values()]
    out.sort(key=lambda s: (-s.severity.rank, s.code))
    return out
