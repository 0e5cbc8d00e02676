"""CLI: ``tracelens report``, the analysis as one self-contained HTML file for an incident ticket."""

from __future__ import annotations

import sys

import click

from tracelens.commands.analysis import analyze_logs
from tracelens.commands.options import (
    AFFINITY_MISS,
    CONFIG,
    FILES,
    engine_options,
    output_options,
    reading_options,
)
from tracelens.commands.output import Command
from tracelens.errors import REPORT_EXTRA, TracelensError


@click.command("report", cls=Command)
@FILES
@CONFIG
@AFFINITY_MISS
@reading_options
@engine_options
@output_options
def report_command(files: tuple[str, ...], config: str | None, affinity_miss: str, lenient: bool,
                   strict: bool) -> None:
    """One HTML file with the whole analysis, to open in any browser, offline, or print to PDF.

    A summary, the timeline as a picture (one lane per web server, process and member), requests,
    failovers and down intervals over time, every finding with its documentation and its log lines,
    the sessions that changed member, and the configuration. Write it with -o FILE.html.
    """
    try:
        from tracelens.reporters import html  # Jinja2 and Plotly: checked before any log is read
    except ImportError as exc:
        raise TracelensError(f"report needs Jinja2 and Plotly: {REPORT_EXTRA}") from exc
    html.write_html(analyze_logs(files, config, lenient, affinity_miss, strict), sys.stdout)
