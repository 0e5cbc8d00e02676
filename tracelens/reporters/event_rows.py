"""Reporters for ``tracelens parse``: events as JSON lines or a table, and the parse summary."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tracelens.parse import events as ev
from tracelens.parse.summary import Accounting, ParseSummary
from tracelens.reporters.console import safe, safe_text
from tracelens.reporters.jsontext import json_text

_COMMON = ("kind", "file", "line", "time", "pid", "tid", "level", "component", "function")


def write_jsonl(events: Iterable[ev.Event], out: IO[str], summary: ParseSummary) -> None:
    """One JSON object per record (``kind``, ``file``, ``line``, ``time``, ... then its own fields)."""
    dumps = json.dumps
    for event in events:
        summary.add(event)
        out.write(json_text(dumps(event.to_dict(), ensure_ascii=False)))
        out.write("\n")


def _details(d: dict[str, Any]) -> str:
    parts = []
    for key, value in d.items():
        if key in _COMMON or value is None:
            continue
        if isinstance(value, list):
            value = ", ".join("=".join(v) if isinstance(v, list) else str(v) for v in value)
        parts.append(f"{key}={value}")
    return "  ".join(parts)


def write_table(events: Iterable[ev.Event], console: Console, summary: ParseSummary) -> None:
    """One row per record; the details (the event's own fields) fold onto the next lines when narrow."""
    console.print(Text(f"{'line':>7}  {'time':<19}  {'pid':<8}  {'tid':<8}  {'level':<6}  {'kind':<24}  details",
                       style="bold"), no_wrap=True, overflow="ellipsis")
    for event in events:
        summary.add(event)
        style = "red" if event.kind == ev.Unparsed.kind else ("dim" if event.kind == ev.Message.kind else "")
        row = Text(no_wrap=False, overflow="fold")
        row.append(f"{event.line:>7}  ")
        row.append(f"{event.time.isoformat(sep=' ') if event.time else '':<19}  ")
        row.append(f"{safe(event.pid or ''):<8}  {safe(event.tid or ''):<8}  ")
        row.append(f"{event.level.value if event.level else '':<6}  ")
        row.append(f"{event.kind:<24}", style=style)
        row.append("  ")
        row.append(safe(_details(event.to_dict())))
        console.print(row)


def write_summary(summary: ParseSummary, accounting: Accounting, files: list[str], damage: list[str],
                  console: Console) -> None:
    head = Text()
    head.append("tracelens parse", style="bold")
    head.append(f": {len(files)} file(s), {accounting.physical_lines} lines, {accounting.records} records\n")
    console.print(head)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=None)
    table.add_column("kind")
    table.add_column("records", justify="right")
    for kind, count in sorted(summary.kinds.items(), key=lambda kv: (-kv[1], kv[0])):
        style = "red" if kind == ev.Unparsed.kind else ("dim" if kind == ev.Message.kind else "")
        table.add_row(Text(kind, style=style), str(count))
    console.print(table)
    console.print(Text(
        f"\ntyped {accounting.typed}, message {accounting.messages}, unparsed {accounting.unparsed}",
        style="bold",
    ))
    console.print(Text(accounting.sentence(), style="green" if accounting.reconciles else "bold red"))
    for note in damage:
        console.print(safe_text(f"damaged input: {note}", style="yellow"))
    if summary.unparsed_examples:
        shown = len(summary.unparsed_examples)
        console.print(Text(f"\nunparsed records ({shown} of {accounting.unparsed} shown):", style="bold"))
        for u in summary.unparsed_examples:
            line = Text(f"  {safe(u.file)}:{u.line}: ")
            line.append(safe(u.reason), style="red")
            line.append("  ")
            line.append(safe(u.text[:160]), style="dim")
            console.print(line, soft_wrap=True)  # one line per record, whatever the width: grep-able
