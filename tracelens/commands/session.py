"""CLI: ``tracelens session``, the story of one session, request by request."""

from __future__ import annotations

import click

from tracelens.commands.analysis import analyze_logs
from tracelens.commands.options import (
    AFFINITY_MISS,
    CONFIG,
    FILES,
    output_options,
    reading_options,
)
from tracelens.commands.output import Command
from tracelens.errors import TracelensError
from tracelens.reporters.console import stdout_console


@click.command(cls=Command)
@click.argument("session_id", metavar="ID")
@FILES
@CONFIG
@AFFINITY_MISS
@reading_options
@output_options
def session(session_id: str, files: tuple[str, ...], config: str | None, affinity_miss: str, lenient: bool,
            strict: bool) -> None:
    """The story of one session, request by request, with each verdict and its reason.

    ID is the session ID, with or without its cache ID and clone IDs (a whole JSESSIONID value works).
    """
    from tracelens.reporters import rich_report

    report = analyze_logs(files, config, lenient, affinity_miss, strict)
    if not rich_report.render_session(report, session_id, stdout_console(wrap=False)):
        raise TracelensError(f"session {session_id} does not appear in {', '.join(files)}")
