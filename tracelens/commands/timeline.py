"""CLI: `tracelens timeline`, member state and routed requests per process across time."""

from __future__ import annotations

import re
from datetime import datetime, time

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
from tracelens.reporters import console as terminal
from tracelens.reporters.console import stdout_console

_TIME_OF_DAY = re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d{1,6})?$")


MIN_WIDTH = 80  # reporters.lanes_text.MIN_WIDTH (checked by a test; the reporter is imported when it draws)


def parse_when(value: str | None, option: str) -> datetime | time | None:
    """``HH:MM:SS`` (a time of day), ``YYYY-MM-DD HH:MM:SS`` or ISO 8601, as naive local log time."""
    if value is None:
        return None
    text = value.strip()
    try:
        if _TIME_OF_DAY.match(text):
            return time.fromisoformat(text)
        when = datetime.fromisoformat(text)
    except ValueError:
        raise TracelensError(f"{option} {value!r} is not a time: use HH:MM:SS, YYYY-MM-DD HH:MM:SS or ISO 8601"
                             ) from None
    if when.tzinfo is not None:
        raise TracelensError(f"{option} {value!r} has a time zone: the log's times are local, give one without")
    return when


@click.command(cls=Command)
@FILES
@CONFIG
@click.option("--pid", metavar="PID", help="Only this web-server process's lanes.")
@click.option("--session", "session_id", metavar="ID",
              help="Follow one session (with or without cache ID and clone IDs): the lanes that served it or were "
                   "down meanwhile, its requests, and a list of them.")
@click.option("--member", metavar="NAME", help="Only this member's lanes.")
@click.option("--since", metavar="TIME", help="Start at TIME: HH:MM:SS (on the log's first day), "
                                              "YYYY-MM-DD HH:MM:SS or ISO 8601, in the log's local time.")
@click.option("--until", metavar="TIME",
              help="End at TIME (same forms as --since). An empty or reversed window, or one outside the log, is "
                   "an error; a window across midnight needs dates.")
@click.option("--width", type=int, metavar="N",
              help=f"Columns to draw in (default: the terminal's; at least {MIN_WIDTH}).")
@AFFINITY_MISS
@reading_options
@output_options
def timeline(files: tuple[str, ...], config: str | None, pid: str | None, session_id: str | None,
             member: str | None, since: str | None, until: str | None, width: int | None, affinity_miss: str,
             lenient: bool, strict: bool) -> None:
    """Member state and routed requests per web-server process, across time.

    One lane per process and member: up, marked down, retry window, unknown; and a mark for each
    request at the time it began: kept, failover, failback, session lost, no member.

    \b
    Glyphs:  ─ up  █ marked down  ░ retry window  · unknown
             o kept or other  F failover  B failback  L session lost  ! no member
    """
    from tracelens.lanes import LaneFilters
    from tracelens.reporters import lanes_text as timeline_reporter

    options = LaneFilters(
        pid=pid, member=member, session=session_id,
        since=parse_when(since, "--since"), until=parse_when(until, "--until"),
    )
    minimum = timeline_reporter.MIN_WIDTH
    if width is not None and width < minimum:
        terminal.warning(f"--width {width} is less than the minimum of {minimum} columns: drawing in {minimum}")
        width = minimum
    report = analyze_logs(files, config, lenient, affinity_miss, strict)
    console = stdout_console(width)
    if console.width < minimum:
        terminal.warning(f"the terminal is {console.width} columns wide, less than the minimum of {minimum}: "
                         f"drawing in {minimum}")
        console = stdout_console(minimum)
    result = timeline_reporter.render(report, options, console.width)
    for message in result.messages:
        terminal.warning(message)
    for renderable in result.renderables:
        console.print(renderable)
