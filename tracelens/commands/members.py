"""CLI: ``tracelens members``, per web-server process and member: down intervals, counters, weights."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from tracelens.commands.analysis import reconstruct_logs
from tracelens.commands.options import (
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

if TYPE_CHECKING:
    from tracelens.state.members import MemberTracker


def _table(tracker: MemberTracker) -> None:
    from tracelens.reporters import tables

    tables.members_table(tracker, stdout_console(wrap=False))


def _jsonl(tracker: MemberTracker) -> None:
    from tracelens.reporters import tables

    tables.members_jsonl(tracker, sys.stdout)


WRITERS: dict[Format, Callable[[MemberTracker], None]] = {Format.TABLE: _table, Format.JSONL: _jsonl}


@click.command(cls=Command)
@FILES
@format_option(WRITERS, Format.TABLE, TABLE_OR_JSONL_HELP)
@CONFIG
@reading_options
@output_options
def members(files: tuple[str, ...], fmt: Format, config: str | None, lenient: bool, strict: bool) -> None:
    """Per web-server process and member: down intervals with reasons, counters, weights.

    The plug-in keeps this state separately in each process, and so does this view.
    """
    WRITERS[fmt](reconstruct_logs(files, config, lenient, strict).tracker)
