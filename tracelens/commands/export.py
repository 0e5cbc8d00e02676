"""CLI: ``tracelens export``, one table of the analysis (or every event) to a CSV, Parquet or JSON lines file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from tracelens.cli import AFFINITY_MISS, CONFIG, FILES, JOBS, LENIENT, _analyze, cli
from tracelens.reporters.console import safe, stderr_console

if TYPE_CHECKING:
    from tracelens.parse.events import Event
    from tracelens.read.reader import ReadStats

TABLES = ("events", "requests", "sessions", "findings", "members")  # reporters.export.TABLES (checked by a test)


@cli.command("export")
@FILES
@click.option("--table", type=click.Choice(TABLES), required=True,
              help="events (every record, streamed), requests (with verdicts), sessions, findings or members.")
@click.option("--to", "out", metavar="OUT", required=True,
              help="OUT.csv, OUT.parquet or OUT.jsonl (OUT.csv.gz, OUT.jsonl.gz compressed): the suffix is the format.")
@CONFIG
@AFFINITY_MISS
@LENIENT
@JOBS
def export_command(files: tuple[str, ...], table: str, out: str, config: str | None, affinity_miss: str,
                   lenient: bool) -> None:
    """Write one table to a file for pandas, DuckDB or a spreadsheet.

    The columns and their types are those of the Python API's tables (`report.requests_frame()`, ...).
    CSV cells that a spreadsheet would take for a formula get a leading '. --table events reads the
    logs in chunks and needs no analysis (--config and --affinity-miss do not apply to it).
    """
    from tracelens.read.reader import ReadStats
    from tracelens.records import iter_events
    from tracelens.reporters import export as exporter

    to = exporter.target(out)  # an unusable OUT fails before the logs are read
    if table == "events":
        stats = ReadStats()
        events = iter_events(files, stats, lenient=lenient)  # a missing file fails here, before OUT is opened
        rows = exporter.write_events(_not_empty(events, stats), to)
    else:
        report = _analyze(files, config, lenient, affinity_miss)
        stats = report.stats
        rows = exporter.write_table(report, table, to)
    console = stderr_console()
    for note in stats.damage:
        console.print(f"tracelens: warning: damaged input: {safe(note)}", soft_wrap=True)
    console.print(f"wrote {rows} rows to {safe(out)}", soft_wrap=True)


def _not_empty(events: Iterator[Event], stats: ReadStats) -> Iterator[Event]:
    from tracelens.records import check_not_empty

    yield from events
    # raised inside the writer, which then leaves no file behind
    check_not_empty(stats)
