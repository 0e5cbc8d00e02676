"""CLI: ``tracelens parse``, every record of the logs, typed (JSON lines or a table), or their counts."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import click

from tracelens.commands.options import (
    FILES,
    Format,
    format_option,
    jobs,
    log_set,
    max_record_bytes,
    output_options,
    reading_options,
    refuse_unparsed,
    system,
)
from tracelens.commands.output import Command
from tracelens.reporters import console as terminal
from tracelens.reporters.console import stdout_console

if TYPE_CHECKING:
    from tracelens.parse.events import Event
    from tracelens.parse.summary import ParseSummary


def _jsonl(events: Iterator[Event], counts: ParseSummary) -> None:
    from tracelens.reporters import event_rows as events_reporter

    events_reporter.write_jsonl(events, sys.stdout, counts)


def _table(events: Iterator[Event], counts: ParseSummary) -> None:
    from tracelens.reporters import event_rows as events_reporter

    events_reporter.write_table(events, stdout_console(wrap=False), counts)


WRITERS: dict[Format, Callable[[Iterator[Event], ParseSummary], None]] = {Format.JSONL: _jsonl, Format.TABLE: _table}


@click.command(cls=Command)
@FILES
@format_option(WRITERS, Format.JSONL, "One JSON object per record, or a table.")
@click.option("--summary", is_flag=True, help="Print only the count per kind, the accounting and the unparsed records.")
@reading_options
@output_options
def parse(files: tuple[str, ...], fmt: Format, summary: bool, lenient: bool, strict: bool) -> None:
    """Parse FILE... into typed records.

    Every non-blank line becomes one record (a line holding several interleaved records becomes
    several): a typed event, a generic `message`, or `unparsed` with a reason. With --strict the
    records are written all the same, then any unparsed one makes the exit status 2.
    """
    from tracelens.parse.summary import ParseSummary
    from tracelens.read.reader import ReadStats
    from tracelens.read.weblogic import System
    from tracelens.records import check_not_empty, count_records, iter_events
    from tracelens.reporters import event_rows as events_reporter

    files = log_set(files).paths
    stats = ReadStats()
    counts = ParseSummary()
    if summary:
        count_records(files, stats, counts, lenient=lenient, jobs=jobs(analysis=False),
                      max_record_bytes=max_record_bytes(), system=System(system()))
    else:
        WRITERS[fmt](iter_events(files, stats, lenient=lenient, max_record_bytes=max_record_bytes(),
                                 system=System(system())), counts)
    accounting = counts.accounting(stats)
    check_not_empty(stats)
    if summary:
        events_reporter.write_summary(counts, accounting, stats.files, stats.damage, stdout_console())
    else:
        for note in stats.damage:
            terminal.warning(f"damaged input: {note}")
    if strict:
        refuse_unparsed(counts)
