"""CLI: ``tracelens requests``, one row per request with its verdict (or the requests as logged, JSON lines)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from tracelens.commands.analysis import analyze_logs, holds_weblogic, reconstruct_logs
from tracelens.commands.options import (
    AFFINITY_MISS,
    CONFIG,
    FILES,
    TABLE_OR_JSONL_HELP,
    Format,
    format_option,
    output_options,
    reading_options,
)
from tracelens.commands.output import Command
from tracelens.reporters.console import stdout_console


def _table(files: tuple[str, ...], config: str | None, lenient: bool, affinity_miss: str, strict: bool) -> None:
    """The requests with the replay's verdicts (as `analyze`)."""
    from tracelens.reporters import tables

    tables.requests_table(analyze_logs(files, config, lenient, affinity_miss, strict), stdout_console(wrap=False))


def _jsonl(files: tuple[str, ...], config: str | None, lenient: bool, _affinity_miss: str, strict: bool) -> None:
    """The requests as logged: no replay (WebLogic requests: as the analysis rebuilds them)."""
    from tracelens.reporters import tables

    if holds_weblogic(files):
        tables.requests_jsonl(analyze_logs(files, config, lenient, _affinity_miss, strict).requests, sys.stdout)
        return
    tables.requests_jsonl(reconstruct_logs(files, config, lenient, strict).requests, sys.stdout)


WRITERS: dict[Format, Callable[[tuple[str, ...], str | None, bool, str, bool], None]] = {
    Format.TABLE: _table, Format.JSONL: _jsonl}


@click.command(cls=Command)
@FILES
@format_option(WRITERS, Format.TABLE, TABLE_OR_JSONL_HELP)
@CONFIG
@AFFINITY_MISS
@reading_options
@output_options
def requests(files: tuple[str, ...], fmt: Format, config: str | None, affinity_miss: str, lenient: bool,
             strict: bool) -> None:
    """One row per request: time, process, thread, URI, session, clone IDs, attempts, member, status, verdict.

    Requests are rebuilt per (pid, tid), so interleaved threads and processes are fine; a request cut
    by the start or end of the log is kept and marked partial. The table's verdict is the replay's
    (as `analyze`); --format jsonl writes the requests as logged.
    """
    WRITERS[fmt](files, config, lenient, affinity_miss, strict)
