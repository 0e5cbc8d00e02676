"""Reporters: the WebLogic sessions' copies (primary and secondary, request by request) for the terminal.

What ``analyze`` and ``session`` add for WebLogic logs to the shared report: each session's replica
history, where the cookie named a primary and no secondary (the single-copy window), and what each
response set.
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.padding import Padding
from rich.rule import Rule as HRule
from rich.text import Text

from tracelens.report import Report
from tracelens.reporters.console import safe
from tracelens.requests.weblogic import ReplicaHistory, ReplicaStep
from tracelens.routing.replay import Verdict

MAX_SESSIONS = 20
_MOVED = (Verdict.FAILOVER, Verdict.SECONDARY_USED, Verdict.JVMID_STALE, Verdict.UNEXPLAINED, Verdict.NO_MEMBER)


def _hms(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t else "-"


def _copy(jvmid: str | None, server: str | None) -> str:
    if jvmid is None:
        return "none"
    return f"{server} ({jvmid})" if server else f"JVMID {jvmid} (no server in the log)"


def _step_text(report: Report, h: ReplicaHistory, step: ReplicaStep) -> Text:
    assert report.weblogic is not None
    servers = report.weblogic.servers
    verdict = next((v for v in report.verdicts if v.index == step.index), None)
    row = Text(f"{_hms(step.time)}  ")
    row.append("copies ")
    row.append(safe(f"{_copy(step.primary, step.primary_server)} + {_copy(step.secondary, step.secondary_server)}"))
    if verdict is not None:
        style = "yellow" if verdict.verdict in _MOVED else "green"
        row.append(f"  → {verdict.verdict.value}", style=style)
        if step.served_by:
            row.append(safe(f" on {step.served_by}"))
    if step.next_from is not None:
        if step.next_session is not None and step.next_session != h.session_id:
            row.append(safe(f"; new session {step.next_session}"), style="bold red")
        else:
            after = f"{_copy(step.next_primary, servers.get(step.next_primary or ''))} + " \
                    f"{_copy(step.next_secondary, servers.get(step.next_secondary or ''))}"
            single = step.next_primary is not None and step.next_secondary is None
            row.append(safe(f"; then {after}"), style="bold yellow" if single else "")
            if single:
                row.append(" (one copy)", style="bold yellow")
    return row


def copies_section(report: Report, console: Console) -> None:
    """Each WebLogic session's copies, request by request (the sessions that moved first)."""
    if report.weblogic is None:
        return
    histories = list(report.weblogic.histories)
    console.print(HRule("WebLogic sessions: primary and secondary copies", align="left", style="dim"))
    settings = report.weblogic.settings
    console.print(Text(f"  failover model: {settings.failover.value} "
                       f"({'--weblogic-failover' if settings.failover_source == 'option' else 'by the log line shape'})"
                       f", MaxSkipTime {settings.max_skip_time} s, cookie {settings.cookie_name}", style="dim"))
    if not histories:
        console.print(Text("  no session cookie in the log", style="dim"))
        return
    verdict_of = {v.index: v.verdict for v in report.verdicts}
    histories.sort(key=lambda h: not any(verdict_of.get(s.index) in _MOVED for s in h.steps))
    for h in histories[:MAX_SESSIONS]:
        console.print(Padding(Text(safe(h.session_id), style="cyan"), (0, 0, 0, 2)))
        for step in h.steps:
            console.print(Padding(_step_text(report, h, step), (0, 0, 0, 4)))
    if len(histories) > MAX_SESSIONS:
        console.print(Text(f"  … and {len(histories) - MAX_SESSIONS} more", style="dim"))


def session_copies(report: Report, session_id: str, console: Console) -> None:
    """One WebLogic session's copies, request by request (nothing for a WebSphere session)."""
    if report.weblogic is None:
        return
    h = report.weblogic.history(session_id)
    if h is None:
        return
    console.print(Text("  primary and secondary, request by request:", style="bold"))
    for step in h.steps:
        # NOTE: not a Padding: on a pipe the session story's console does not wrap, and a Padding fills its width
        console.print(Text("    ") + _step_text(report, h, step))
