"""CLI: ``tracelens export``, one table of the analysis (or every event) to a CSV, Parquet or JSON lines file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from tracelens.commands.analysis import analyze_logs
from tracelens.commands.options import (
    AFFINITY_MISS,
    COLOR,
    CONFIG,
    FILES,
    QUIET,
    engine,
    engine_options,
    log_set,
    max_record_bytes,
    reading_options,
    refuse_unparsed,
)
from tracelens.commands.output import Command, writing
from tracelens.reporters import console as terminal

if TYPE_CHECKING:
    from tracelens.parse.events import Event
    from tracelens.read.reader import ReadStats

TABLES = ("events", "requests", "sessions", "findings", "members")  # reporters.table_files.TABLES (checked by a test)
STDOUT_FORMATS = ("csv", "jsonl")  # reporters.table_files.STDOUT_FORMATS (checked by a test)


@click.command("export", cls=Command)
@FILES
@click.option("--table", type=click.Choice(TABLES), required=True,
              help="events (every record, streamed), requests (with verdicts), sessions, findings or members.")
@click.option("--to", "out", metavar="OUT", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="OUT.csv, OUT.parquet or OUT.jsonl (OUT.csv.gz, OUT.jsonl.gz compressed): the suffix is the format; "
                   "- for standard output.")
@click.option("--format", "fmt", type=click.Choice(STDOUT_FORMATS), default=None,
              help="The format of --to -: csv or jsonl.  [default: csv]")
@CONFIG
@AFFINITY_MISS
@reading_options
@engine_options
@QUIET
@COLOR
def export_command(files: tuple[str, ...], table: str, out: str, fmt: str | None, config: str | None,
                   affinity_miss: str, lenient: bool, strict: bool) -> None:
    """Write one table to a file for pandas, DuckDB or a spreadsheet.

    The columns and their types are those of the Python API's tables (`report.requests_frame()`, ...).
    CSV cells that a spreadsheet would take for a formula get a leading '. --table events reads the
    logs in chunks and needs no analysis (--config and --affinity-miss do not apply to it).
    """
    from tracelens.read.reader import ReadStats
    from tracelens.records import iter_events
    from tracelens.reporters import table_files as exporter

    to = exporter.target(out, fmt)  # an unusable OUT fails before the logs are read
    if table == "events":
        if engine()[0] != "local":
            raise click.UsageError("--table events streams the records from here; --engine dask is for the tables "
                                   "of the analysis")
        stats = ReadStats()
        # a missing file fails here, before OUT is opened
        events = iter_events(log_set(files).paths, stats, lenient=lenient, max_record_bytes=max_record_bytes())
        with writing("standard output" if to.path is None else out):
            rows = exporter.write_events(_not_empty(events, stats, strict), to)
    else:
        report = analyze_logs(files, config, lenient, affinity_miss, strict)
        stats = report.stats
        with writing("standard output" if to.path is None else out):
            rows = exporter.write_table(report, table, to)
    for note in stats.damage:
        terminal.warning(f"damaged input: {note}")
    terminal.note(f"wrote {rows} rows to {'standard output' if to.path is None else out}")


def _not_empty(events: Iterator[Event], stats: ReadStats, strict: bool) -> Iterator[Event]:
    from tracelens.parse.summary import ParseSummary
    from tracelens.records import check_not_empty

    counts = ParseSummary()
    for event in events:
        counts.add(event)
        yield event
    # raised inside the writer, which then leaves no file behind
    check_not_empty(stats)
    if strict:
        refuse_unparsed(counts)
