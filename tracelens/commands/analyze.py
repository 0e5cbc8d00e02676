"""CLI: ``tracelens analyze``, every request replayed against the routing model: where affinity failed, and why."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from tracelens.commands.analysis import analyze_logs
from tracelens.commands.options import (
    AFFINITY_MISS,
    CONFIG,
    FILES,
    Format,
    engine_options,
    format_option,
    output_options,
    reading_options,
)
from tracelens.commands.output import Command
from tracelens.reporters.console import stdout_console

if TYPE_CHECKING:
    from tracelens.report import Report


def _rich(report: Report) -> None:
    from tracelens.reporters import rich_report

    rich_report.render(report, stdout_console())


def _json(report: Report) -> None:
    from tracelens.reporters import json_report

    json_report.write_json(report, sys.stdout)


WRITERS: dict[Format, Callable[[Report], None]] = {Format.RICH: _rich, Format.JSON: _json}


@click.command("analyze", cls=Command)
@FILES
@CONFIG
@format_option(WRITERS, Format.RICH, "A report for the terminal, or one JSON object (schema in the README).")
@AFFINITY_MISS
@reading_options
@engine_options
@output_options
def analyze_command(files: tuple[str, ...], config: str | None, fmt: Format, affinity_miss: str, lenient: bool,
                    strict: bool) -> None:
    """Replay every request against the plug-in's documented routing; say where affinity failed and why.

    With --strict, input with unparsed records is refused (exit 2) before any report is written.
    """
    WRITERS[fmt](analyze_logs(files, config, lenient, affinity_miss, strict))
