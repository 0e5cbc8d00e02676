"""Reporters: requests, sessions, member state and findings as plain JSON-ready dicts (one shape for every format)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from tracelens.findings.base import Finding
from tracelens.read.logset import split_process
from tracelens.requests.assemble import Request
from tracelens.requests.cookies import SessionCookie
from tracelens.requests.sessions import Session
from tracelens.requests.weblogic import ReplicaHistory
from tracelens.state.members import DownInterval, MemberRecord

if TYPE_CHECKING:
    from tracelens.report import Report


def process_keys(key: str | None) -> dict[str, str | None]:
    """``web_server`` and ``pid`` of a process key: the web server is null when the analysis read one."""
    if key is None:
        return {"web_server": None, "pid": None}
    server, pid = split_process(key)
    return {"web_server": server, "pid": pid}


def where(file: str, line: int) -> str:
    """A line of the log as every output names it: ``file:line``."""
    return f"{file}:{line}"


def evidence_text(evidence: tuple[tuple[str, int], ...], with_files: bool) -> str:
    """Evidence for the text outputs: line numbers when the report reads one file, ``file:line`` when several."""
    return ", ".join(where(f, line) if with_files else str(line) for f, line in evidence)


def finding_dict(f: Finding) -> dict[str, Any]:
    """A finding as the JSON report, ``check --format json`` and the findings table show it."""
    return {"code": f.code, "name": f.name, "severity": f.severity.value, "message": f.message, "file": f.file,
            "line": f.line, **process_keys(f.pid), "member": f.member, "session": f.session,
            "evidence": [where(file, line) for file, line in f.evidence]}


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def cookie_dict(c: SessionCookie | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"raw": c.raw, "cache_id": c.cache_id, "session_id": c.session_id, "clone_ids": list(c.clone_ids),
            "malformed": c.malformed}


def request_dict(r: Request) -> dict[str, Any]:
    return {
        "file": r.file,
        "first_line": r.first_line,
        "last_line": r.last_line,
        # a request cut by a rotation goes on in the next file: its lines numbered above `offset` are in
        # `end_file`, at (line - offset)
        "end_file": r.end_file,
        "offset": r.offset,
        "time": _iso(r.begin),
        "end": _iso(r.end),
        "duration_s": r.duration.total_seconds() if r.duration is not None else None,
        **process_keys(r.pid),
        "tid": r.tid,
        "partial": [p.value for p in r.partial],
        "method": r.method,
        "uri": r.uri,
        "vhost": r.vhost,
        "affinity_source": r.affinity_source.value if r.affinity_source else None,
        "session_id": r.session_id,
        "cookie": cookie_dict(r.cookie),
        "cookie_line": r.cookie_line,
        "clone_ids": list(r.cookie.clone_ids) if r.cookie else [],
        "attempts": [
            {"member": a.member, "line": a.line, "by_affinity": a.by_affinity, "outcome": a.outcome.value,
             "outcome_line": a.outcome_line, "host": a.host, "port": a.port, "status": a.status}
            for a in r.attempts
        ],
        "served_by": r.served_by,
        "status": r.status,
        "set_cookie": cookie_dict(r.set_cookie),
        "set_cookie_line": r.set_cookie_line,
        "cookie_outcome": r.cookie_outcome.value,
        "no_member_line": r.no_member_line,
        "mark_downs": [{"member": m, "line": line} for m, line in r.mark_downs],
    }


def interval_dict(iv: DownInterval) -> dict[str, Any]:
    return {
        **process_keys(iv.pid),
        "member": iv.member,
        "file": iv.file,
        "start": _iso(iv.start),
        "line": iv.start_line,
        "reason": iv.reason.value,
        "reason_line": iv.reason_line,
        "reason_file": iv.reason_file or iv.file if iv.reason_line is not None else None,
        "end": _iso(iv.end),
        "end_line": iv.end_line,
        "end_file": iv.end_file or iv.file if iv.end_line is not None else None,
        "end_reason": iv.end_reason.value if iv.end_reason else None,
        "seconds": iv.seconds,
        "retry_due": _iso(iv.retry_due),
        "retry_due_line": iv.retry_due_line,
        "retry_due_file": iv.retry_due_file or iv.file if iv.retry_due_line is not None else None,
        "countdowns": [{"time": _iso(c.time), "file": c.file or iv.file, "line": c.line, "retry_in": c.seconds}
                       for c in iv.countdowns],
        "failed_retries": [{"file": iv.repeat_files.get(i, iv.file), "line": line}
                           for i, line in enumerate(iv.repeats)],
    }


def member_dict(rec: MemberRecord) -> dict[str, Any]:
    last = rec.counters[-1] if rec.counters else None
    return {
        **process_keys(rec.pid),
        "member": rec.member,
        "state_at_end": rec.state.value,
        "first_line": rec.first_line,
        "last_line": rec.last_line,
        "requests_served": rec.requests_served,
        "down_intervals": [interval_dict(iv) for iv in rec.intervals],
        "counters": None if last is None else {
            "line": last.line, "pending": last.pending, "failed": last.failed, "affinity": last.affinity,
            "total": last.total, "non_affinity": last.total - last.affinity,
        },
        "counter_resets": list(rec.counter_resets),
        "weights": [{"line": w.line, "source": w.source, "current": w.current, "maximum": w.maximum}
                    for w in rec.weights[-20:]],
        "max_connections_reached_lines": list(rec.max_connections_lines),
    }


def session_dict(s: Session) -> dict[str, Any]:
    return {
        "id": s.session_id,
        "members": list(s.members),
        "switches": s.switches,
        "processes": list(s.processes),
        "requests": [{"time": _iso(st.time), **process_keys(st.pid), "tid": st.tid, "file": st.file,
                      "line": st.line, "served_by": st.served_by} for st in s.steps],
    }


def copies_list(history: ReplicaHistory | None) -> list[dict[str, Any]]:
    """A WebLogic session's copies, request by request (empty for a WebSphere session)."""
    if history is None:
        return []
    return [{"time": _iso(st.time), "file": st.file, "line": st.line, "primary": st.primary,
             "secondary": st.secondary, "primary_server": st.primary_server, "secondary_server": st.secondary_server,
             "served_by": st.served_by, "next_primary": st.next_primary, "next_secondary": st.next_secondary,
             "next_session": st.next_session, "next_from": st.next_from} for st in history.steps]


def weblogic_settings(report: Report) -> dict[str, Any] | None:
    """What the WebLogic model was replayed with (None without WebLogic logs)."""
    if report.weblogic is None:
        return None
    w = report.weblogic.settings
    return {"failover": w.failover.value, "failover_source": w.failover_source, "max_skip_time": w.max_skip_time,
            "max_skip_time_source": w.max_skip_time_source, "cookie_name": w.cookie_name,
            "servers": dict(sorted(report.weblogic.servers.items()))}
