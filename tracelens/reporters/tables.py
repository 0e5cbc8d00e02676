"""Reporters: requests and members as JSON lines or as tables for the terminal."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tracelens.report import Report
from tracelens.reporters.console import safe, safe_text
from tracelens.reporters.jsontext import json_text
from tracelens.reporters.shapes import member_dict, request_dict
from tracelens.requests.assemble import AttemptOutcome, Request
from tracelens.routing.replay import Verdict
from tracelens.state.members import MemberRecord, MemberTracker


def write_jsonl(rows: Iterable[dict[str, object]], out: IO[str]) -> None:
    for row in rows:
        out.write(json_text(json.dumps(row, ensure_ascii=False)))
        out.write("\n")


def requests_jsonl(requests: Iterable[Request], out: IO[str]) -> None:
    write_jsonl((request_dict(r) for r in requests), out)


def _attempts(r: Request) -> Text:
    t = Text()
    for i, a in enumerate(r.attempts):
        if i:
            t.append(" → ")
        t.append(safe(a.member or "?"))
        if a.outcome is not AttemptOutcome.SERVED:
            t.append(f" ({a.outcome.value})", style="red" if a.outcome.failed else "dim")
    return t


def _hms(t: object) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t is not None else "-"  # type: ignore[attr-defined]


_VERDICT_STYLE = {
    Verdict.KEPT: "green", Verdict.FAILBACK: "green", Verdict.FAILOVER: "yellow", Verdict.CLONE_UNKNOWN: "yellow",
    Verdict.UNEXPLAINED: "magenta", Verdict.NO_MEMBER: "bold red", Verdict.INCOMPLETE: "dim",
    Verdict.SECONDARY_USED: "yellow", Verdict.JVMID_STALE: "yellow",
}


def requests_table(report: Report, console: Console) -> None:
    """One row per request, with the replay's verdict: a rich Table, which a pager or grep reads row by row.

    On a terminal the URI and session columns fold within the width; on a pipe the console is as
    wide as the longest row (the CLI's ``wrap=False``), so that no row is split.
    """
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True,
                  header_style="bold")
    # NOTE: on a narrow terminal the identifying columns keep their width and the free text folds
    table.add_column("line", justify="right", no_wrap=True, min_width=4)
    table.add_column("time", no_wrap=True, min_width=19)
    table.add_column("pid", no_wrap=True, min_width=8)
    table.add_column("tid", no_wrap=True, min_width=8)
    table.add_column("uri", overflow="fold", min_width=6)
    table.add_column("session", overflow="fold", min_width=8)
    table.add_column("clone IDs", overflow="fold", min_width=8)
    table.add_column("attempts", overflow="fold", min_width=10)
    table.add_column("served by", overflow="fold", min_width=10)
    table.add_column("status", justify="right", no_wrap=True, min_width=6)
    table.add_column("cookie", overflow="fold", min_width=6)
    table.add_column("verdict", overflow="fold", min_width=13)
    verdicts = {v.index: v for v in report.verdicts}
    for i, r in enumerate(report.requests):
        v = verdicts.get(i)
        session = safe_text(r.session_id or "-", style="cyan" if r.session_id else "dim")
        if r.cookie is not None and not r.cookie.valid:
            session = safe_text(f"malformed: {r.cookie.malformed}", style="red")
        verdict = Text(v.verdict.value if v else "-", style=_VERDICT_STYLE.get(v.verdict, "") if v else "dim")
        if r.partial:
            verdict.append(f" (partial: {', '.join(p.value for p in r.partial)})", style="yellow")
        table.add_row(
            str(r.first_line), _hms(r.begin), safe_text(r.pid), safe_text(r.tid or "-"), safe_text(r.uri or "-"),
            session, safe_text(":".join(r.cookie.clone_ids) if r.cookie and r.cookie.clone_ids else "-"),
            _attempts(r) if r.attempts else Text("-", style="dim"),
            safe_text(r.served_by or "no member", style="bold" if r.served_by else "bold red"),
            str(r.status) if r.status is not None else "-",
            r.cookie_outcome.value, verdict,
        )
    console.print(table)


def _records(tracker: MemberTracker) -> list[MemberRecord]:
    return [tracker.members[k] for k in sorted(tracker.members)]


def members_jsonl(tracker: MemberTracker, out: IO[str]) -> None:
    write_jsonl((member_dict(rec) for rec in _records(tracker)), out)


def members_table(tracker: MemberTracker, console: Console) -> None:
    """Per process, each member: its state at the end, its down intervals, counters and weights."""
    current_pid = None
    for rec in _records(tracker):
        if rec.pid != current_pid:
            current_pid = rec.pid
            console.print(Text(f"process {safe(rec.pid)}", style="bold underline"))
        line = Text("  ")
        line.append(safe(rec.member), style="bold")
        line.append(f"  {rec.state.value} at the end, served {rec.requests_served}")
        last = rec.counters[-1] if rec.counters else None
        if last is not None:
            line.append(f"; STATS total {last.total} (affinity {last.affinity}, failed {last.failed},"
                        f" pending {last.pending})")
        if rec.counter_resets:
            line.append(f"; counters reset at line {', '.join(map(str, rec.counter_resets))}", style="yellow")
        if rec.weights:
            line.append("; weights " + ", ".join(
                f"{w.source} {w.current}" + (f"/{w.maximum}" if w.maximum is not None else "")
                for w in rec.weights[-3:]))
        if rec.max_connections_lines:
            line.append(f"; MaxConnections reached {len(rec.max_connections_lines)}x", style="yellow")
        console.print(line)
        if not rec.intervals:
            console.print(Text("    never marked down", style="green"))
        for iv in rec.intervals:
            row = Text("    down ", style="red")
            row.append(f"{_hms(iv.start)} → {_hms(iv.end) if iv.end else '…'}")
            if iv.seconds is not None:
                row.append(f" ({iv.seconds:.0f} s)")
            row.append(f", {iv.reason.value} (line {iv.start_line}")
            row.append(f", cause line {iv.reason_line})" if iv.reason_line else ")")
            if iv.countdowns:
                row.append(f", retry in {iv.countdowns[0].seconds} … {iv.countdowns[-1].seconds}")
            if iv.retry_due_line:
                row.append(f", retry due line {iv.retry_due_line}")
            if iv.end_reason is not None:
                row.append(f", ended: {iv.end_reason.value}" + (f" (line {iv.end_line})" if iv.end_line else ""))
            console.print(row)
    for obs in tracker.observations:
        console.print(safe_text(f"observation: {obs.file}:{obs.line}: {obs.message}"
                                + (f" (see line {obs.previous_line})" if obs.previous_line else ""), style="yellow"))
