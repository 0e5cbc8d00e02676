"""CLI: ``tracelens requests``, one row per request with its verdict (or the requests as logged, JSON lines)."""

from __future__ import annotations

import sys

import click

from tracelens.commands.analysis import analyze_logs, reconstruct_logs
from tracelens.commands.options import (
    AFFINITY_MISS,
    CONFIG,
    FILES,
    JOBS,
    LENIENT,
    MAX_RECORD,
    STRICT,
    TABLE_OR_JSONL,
    WEB_SERVER,
    output_options,
)
from tracelens.commands.output import Command
from tracelens.reporters.console import stdout_console


@click.command(cls=Command)
@FILES
@TABLE_OR_JSONL
@CONFIG
@AFFINITY_MISS
@LENIENT
@STRICT
@WEB_SERVER
@JOBS
@MAX_RECORD
@output_options
def requests(files: tuple[str, ...], fmt: str, config: str | None, affinity_miss: str, lenient: bool,
             strict: bool) -> None:
    """One row per request: time, process, thread, URI, session, clone IDs, attempts, member, status, verdict.

    Requests are rebuilt per (pid, tid), so interleaved threads and processes are fine; a request cut
    by the start or end of the log is kept and marked partial. The table's verdict is the replay's
    (as `analyze`); --format jsonl writes the requests as logged.
    """
    from tracelens.reporters import tables

    if fmt == "jsonl":
        result = reconstruct_logs(files, config, lenient, strict)
        tables.requests_jsonl(result.requests, sys.stdout)
    else:
        report = analyze_logs(files, config, lenient, affinity_miss, strict)
        tables.requests_table(report, stdout_console(wrap=False))
