"""CLI: ``tracelens analyze``, every request replayed against the routing model: where affinity failed, and why."""

from __future__ import annotations

import sys

import click

from tracelens.commands.analysis import analyze_logs
from tracelens.commands.options import (
    AFFINITY_MISS,
    CONFIG,
    FILES,
    JOBS,
    LENIENT,
    MAX_RECORD,
    STRICT,
    WEB_SERVER,
    output_options,
)
from tracelens.commands.output import Command
from tracelens.reporters.console import stdout_console


@click.command("analyze", cls=Command)
@FILES
@CONFIG
@click.option("--format", "fmt", type=click.Choice(["rich", "json"]), default="rich", show_default=True,
              help="A report for the terminal, or one JSON object (schema in the README).")
@AFFINITY_MISS
@LENIENT
@STRICT
@WEB_SERVER
@JOBS
@MAX_RECORD
@output_options
def analyze_command(files: tuple[str, ...], config: str | None, fmt: str, affinity_miss: str, lenient: bool,
                    strict: bool) -> None:
    """Replay every request against the plug-in's documented routing; say where affinity failed and why.

    With --strict, input with unparsed records is refused (exit 2) before any report is written.
    """
    from tracelens.reporters import json_report, rich_report

    report = analyze_logs(files, config, lenient, affinity_miss, strict)
    if fmt == "json":
        json_report.write_json(report, sys.stdout)
    else:
        rich_report.render(report, stdout_console())
