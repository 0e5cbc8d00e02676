"""Reporter: the analysis as a report for the terminal, written for someone who never saw the plug-in's code."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule as HRule
from rich.table import Table
from rich.text import Text

from tracelens.findings.base import Finding, Severity
from tracelens.findings.rules import find_rule
from tracelens.read.logset import Order
from tracelens.report import Report
from tracelens.reporters import weblogic_text
from tracelens.reporters.console import safe, safe_text
from tracelens.reporters.shapes import evidence_text
from tracelens.routing.replay import Verdict

SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
VERDICT_HELP = {
    Verdict.KEPT: "stayed on the session's member",
    Verdict.FAILOVER: "the session's member was unavailable in that process: another member took it",
    Verdict.FAILBACK: "returned to the session's original member after the retry interval",
    Verdict.NEW_SESSION: "no session yet: load balanced, and the member created one",
    Verdict.LOAD_BALANCED: "no usable session ID: load balanced",
    Verdict.CLONE_UNKNOWN: "the cookie's clone IDs match no member",
    Verdict.NO_MEMBER: "no member could take it: the client got an error",
    Verdict.UNEXPLAINED: "the plug-in's choice differs from the documented routing",
    Verdict.INCOMPLETE: "the log shows no routing decision (cut by the log's edges)",
    Verdict.SECONDARY_USED: "WebLogic: the primary was unavailable: the session's secondary took it",
    Verdict.JVMID_STALE: "WebLogic: the cookie's JVMIDs map to no server: affinity lost",
}
MAX_PER_GROUP = 8


def _ts(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t else "-"


def _hms(t: datetime | None) -> str:
    return t.strftime("%H:%M:%S") if t else "?"


def render(report: Report, console: Console) -> None:
    _header(report, console)
    _verdicts(report, console)
    _members(report, console)
    _findings(report, console)
    _sessions(report, console)
    weblogic_text.copies_section(report, console)
    _footer(report, console)


def input_order(report: Report) -> list[str]:
    """How the files were read, when there is more than one: in which order, as which web servers."""
    log_set = report.log_set
    if log_set is None or (len(log_set.files) < 2 and not log_set.duplicates):
        return []
    out = []
    if len(log_set.files) > 1:
        how = "oldest first (by first timestamp)" if log_set.order is Order.FIRST_TIMESTAMP else \
            "in the order given (standard input cannot be looked at first)"
        note = ", not in the order given" if log_set.reordered else ""
        if log_set.several:
            out.append(f"{len(log_set.web_servers)} web servers, each read as one log {how}{note}:")
            for server in log_set.web_servers:
                names = ", ".join(safe(f.path) for f in log_set.files if f.web_server == server)
                out.append(f"  {safe(server)}: {names}")
        else:
            out.append(f"read as one log {how}{note}: " + ", ".join(safe(f.path) for f in log_set.files))
    for d in log_set.duplicates:
        out.append(f"{safe(d.path)}: {d.how} as {safe(d.same_as)}, read once")
    return out


def _header(report: Report, console: Console) -> None:
    files = ", ".join(safe(f) for f in report.stats.files)
    acc = report.accounting
    title = Text("tracelens analyze", style="bold")
    body = Text()
    body.append(f"{files}\n")
    for line in input_order(report):
        body.append(f"{line}\n", style="dim")
    body.append(f"{_ts(report.first_time)} → {_ts(report.last_time)}   ")
    body.append(f"{acc.physical_lines} lines, {len(report.requests)} requests, {len(report.sessions)} sessions, "
                f"{len(report.processes)} web-server process(es)\n")
    if report.config:
        body.append(f"topology from {safe(report.config.path)}", style="dim")
    else:
        body.append("no --config: topology inferred from the trace — ", style="dim")
        body.append("; ".join(safe(n) for n in report.topology.notes), style="dim")
    console.print(Panel(body, title=title, title_align="left", border_style="dim"))


def _verdicts(report: Report, console: Console) -> None:
    console.print(HRule("Requests", align="left", style="dim"))
    table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 2, 0, 0))
    table.add_column(justify="right")
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    counts = report.verdict_counts()
    for v in Verdict:
        n = counts[v.value]
        if not n:
            continue
        style = "red" if v in (Verdict.NO_MEMBER, Verdict.UNEXPLAINED) else (
            "yellow" if v in (Verdict.FAILOVER, Verdict.CLONE_UNKNOWN) else "")
        table.add_row(str(n), Text(v.value, style=style), Text(VERDICT_HELP[v], style="dim"))
    if not report.requests:
        console.print(Text("  no request boundaries in the log (LogLevel Stats or Error?): member state only",
                           style="dim"))
    else:
        console.print(Padding(table, (0, 0, 0, 2)))


def _members(report: Report, console: Console) -> None:
    console.print(HRule("Members, per web-server process", align="left", style="dim"))
    by_pid: dict[str, list[str]] = defaultdict(list)
    for pid, member in sorted(report.tracker.members):
        by_pid[pid].append(member)
    if not by_pid:
        console.print(Text("  no member seen in the log", style="dim"))
    for pid, members in by_pid.items():
        console.print(Text(f"  process {safe(pid)}", style="bold"))
        for member in members:
            rec = report.tracker.members[(pid, member)]
            line = Text("    ")
            line.append(safe(member))
            if not rec.intervals:
                line.append("  up throughout" if rec.state.value != "unknown" else "  no status seen", style="green")
            console.print(line)
            for iv in rec.intervals[:MAX_PER_GROUP]:
                row = Text("      down ", style="red")
                row.append(f"{_hms(iv.start)} → {_hms(iv.end) if iv.end else 'end of log'}")
                if iv.seconds is not None:
                    row.append(f" ({iv.seconds:.0f} s)")
                at = f"{safe(iv.file)}:{iv.start_line}" if len(report.stats.files) > 1 else f"line {iv.start_line}"
                row.append(f"  {iv.reason.value.replace('_', ' ')}, {at}", style="dim")
                if iv.end_reason is not None:
                    row.append(f"; back: {iv.end_reason.value.replace('_', ' ')}", style="dim")
                console.print(row)
            if len(rec.intervals) > MAX_PER_GROUP:
                # a long log marks a member down again and again: the terminal report stays readable
                more = rec.intervals[MAX_PER_GROUP:]
                down = sum(iv.seconds or 0 for iv in more)
                console.print(Text(f"      … and {len(more)} more down intervals ({down:.0f} s; "
                                   "`tracelens members` and --format json list all)", style="dim"))


def _findings(report: Report, console: Console) -> None:
    console.print(HRule("Findings", align="left", style="dim"))
    if not report.findings:
        console.print(Text("  no findings", style="green"))
        return
    groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in report.findings:
        groups[(f.code, f.name)].append(f)
    for (code, name), items in groups.items():
        sev = items[0].severity
        head = Text("  ")
        head.append(f"{sev.value.upper():7}", style=SEVERITY_STYLE[sev])
        head.append(f" {code} {name}", style="bold")
        head.append(f"  ({len(items)})")
        console.print(head)
        rule = find_rule(code)
        if rule is not None:
            console.print(Padding(Text(rule.summary(), style="italic"), (0, 0, 0, 12)))
            todo = rule.sections().get("What to do")
            if todo:
                console.print(Padding(Text("What to do: " + " ".join(todo.split()), style="dim"), (0, 0, 0, 12)))
        for f in items[:MAX_PER_GROUP]:
            where = f"{safe(f.file or '')}:{f.line}" if f.line else safe(f.file or "")
            item = Text("• ")
            item.append_text(safe_text(f.message))
            if where:
                item.append(f"  [{where}]", style="dim")
            if f.evidence:
                several = len(report.stats.files) > 1
                shown = evidence_text(f.evidence[:12], several) + (" …" if len(f.evidence) > 12 else "")
                item.append(f" evidence {'' if several else 'lines '}{shown}", style="dim")
            console.print(Padding(item, (0, 0, 0, 12)))
        if len(items) > MAX_PER_GROUP:
            console.print(Text(f"            … and {len(items) - MAX_PER_GROUP} more (--format json lists all)",
                               style="dim"))


def _sessions(report: Report, console: Console) -> None:
    changed = report.changed_sessions()
    console.print(HRule("Sessions that changed member", align="left", style="dim"))
    if not changed:
        console.print(Text("  none", style="green"))
        return
    for s in changed[:20]:
        path: list[str] = []
        for st in s.steps:
            if st.served_by and (not path or path[-1] != st.served_by):
                path.append(st.served_by)
        row = Text()
        row.append(safe(s.session_id), style="cyan")
        row.append(f"  {len(s.steps)} requests, {s.switches} switch(es), process(es) {', '.join(s.processes)}: ")
        row.append(" → ".join(safe(m) for m in path))
        console.print(Padding(row, (0, 0, 0, 2)))
    if len(changed) > 20:
        console.print(Text(f"  … and {len(changed) - 20} more", style="dim"))
    console.print(Text("  `tracelens session ID FILE...` tells one session's story request by request.", style="dim"))


def _footer(report: Report, console: Console) -> None:
    acc = report.accounting
    sev = report.severity_counts()
    console.print(HRule(style="dim"))
    summary = Text("  ")
    summary.append(f"{sev['error']} error(s)", style="bold red" if sev["error"] else "")
    summary.append(f", {sev['warning']} warning(s)", style="yellow" if sev["warning"] else "")
    summary.append(f", {sev['info']} info")
    console.print(summary)
    console.print(Text("  " + acc.sentence(), style="dim" if acc.reconciles else "bold red"))
    partial = sum(1 for r in report.requests if r.partial)
    input_line = Text(f"  {len(report.requests)} request(s): {len(report.requests) - partial} complete, "
                      f"{partial} partial (cut by the log's edges)", style="dim")
    if acc.unparsed:
        input_line.append(f"; {acc.unparsed} unparsed record(s): see TL401 input.unparsed", style="yellow")
    console.print(input_line)


def render_session(report: Report, session_id: str, console: Console) -> bool:
    """The story of one session, request by request; False when the session is not in the logs."""
    s = report.session(session_id)
    if s is None:
        return False
    verdict_of = {v.index: v for v in report.verdicts}
    console.print(Text(f"session {safe(s.session_id)}", style="bold"))
    console.print(Text(f"  {len(s.steps)} request(s) in {len(s.processes)} process(es); members in order: "
                       + (" → ".join(safe(m) for m in s.members) or "none"), style="dim"))
    rows: list[RenderableType] = []
    for st in s.steps:
        r = report.requests[st.index]
        v = verdict_of[st.index]
        head = Text(f"  {_ts(st.time)}  ")
        head.append(safe(f"{st.pid}/{st.tid or '-'}"))
        head.append(f"  {safe(st.file)}:{st.line}", style="dim")
        clones = ":".join(r.cookie.clone_ids) if r.cookie else ""
        if clones:
            head.append(f"  cookie clones {safe(clones)}")
        story = Text("      ")
        style = "yellow" if v.verdict in (Verdict.FAILOVER, Verdict.CLONE_UNKNOWN) else (
            "red" if v.verdict in (Verdict.NO_MEMBER, Verdict.UNEXPLAINED) else "green")
        # (WebLogic's verdict names are longer than the column: they keep one space after them)
        story.append(f"{v.verdict.value:13}" if len(v.verdict.value) < 13 else f"{v.verdict.value} ", style=style)
        story.append_text(safe_text(v.reason))
        rows.append(Group(head, story))
        for d in v.disagreements:
            rows.append(Text(f"      model and log disagree: {safe(d)}", style="red"))
    for row in rows:
        console.print(row)
    weblogic_text.session_copies(report, s.session_id, console)
    related = [f for f in report.findings if f.session == s.session_id]
    if related:
        console.print(Text("  findings:", style="bold"))
        for f in related:
            console.print(Text(f"    {f.code} {f.name}: ") + safe_text(f.message))
    return True
