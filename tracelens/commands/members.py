"""CLI: ``tracelens members``, per web-server process and member: down intervals, counters, weights."""

from __future__ import annotations

import sys

import click

from tracelens.commands.analysis import reconstruct_logs
from tracelens.commands.options import (
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
@LENIENT
@STRICT
@WEB_SERVER
@JOBS
@MAX_RECORD
@output_options
def members(files: tuple[str, ...], fmt: str, config: str | None, lenient: bool, strict: bool) -> None:
    """Per web-server process and member: down intervals with reasons, counters, weights.

    The plug-in keeps this state separately in each process, and so does this view.
    """
    from tracelens.reporters import tables

    result = reconstruct_logs(files, config, lenient, strict)
    if fmt == "jsonl":
        tables.members_jsonl(result.tracker, sys.stdout)
    else:
        tables.members_table(result.tracker, stdout_console(wrap=False))
