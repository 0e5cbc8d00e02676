"""CLI: ``tracelens parse``, every record of the logs, typed (JSON lines or a table), or their counts."""

from __future__ import annotations

import sys

import click

from tracelens.commands.options import (
    FILES,
    JOBS,
    LENIENT,
    MAX_RECORD,
    STRICT,
    WEB_SERVER,
    jobs,
    log_set,
    max_record_bytes,
    output_options,
    refuse_unparsed,
)
from tracelens.commands.output import Command
from tracelens.reporters import console as terminal
from tracelens.reporters.console import stdout_console


@click.command(cls=Command)
@FILES
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True,
              help="One JSON object per record, or a table.")
@click.option("--summary", is_flag=True, help="Print only the count per kind, the accounting and the unparsed records.")
@LENIENT
@STRICT
@WEB_SERVER
@JOBS
@MAX_RECORD
@output_options
def parse(files: tuple[str, ...], fmt: str, summary: bool, lenient: bool, strict: bool) -> None:
    """Parse FILE... into typed records.

    Every non-blank line becomes one record (a line holding several interleaved records becomes
    several): a typed event, a generic `message`, or `unparsed` with a reason. With --strict the
    records are written all the same, then any unparsed one makes the exit status 2.
    """
    from tracelens.parse.summary import ParseSummary
    from tracelens.read.reader import ReadStats
    from tracelens.records import check_not_empty, count_records, iter_events
    from tracelens.reporters import events as events_reporter

    files = log_set(files).paths
    stats = ReadStats()
    counts = ParseSummary()
    if summary:
        count_records(files, stats, counts, lenient=lenient, jobs=jobs(analysis=False),
                      max_record_bytes=max_record_bytes())
    elif fmt == "jsonl":
        events = iter_events(files, stats, lenient=lenient, max_record_bytes=max_record_bytes())
        events_reporter.write_jsonl(events, sys.stdout, counts)
    else:
        events = iter_events(files, stats, lenient=lenient, max_record_bytes=max_record_bytes())
        events_reporter.write_table(events, stdout_console(wrap=False), counts)
    accounting = counts.accounting(stats)
    check_not_empty(stats)
    if summary:
        events_reporter.write_summary(counts, accounting, stats.files, stats.damage, stdout_console())
    else:
        for note in stats.damage:
            terminal.warning(f"damaged input: {note}")
    if strict:
        refuse_unparsed(counts)
