"""The command line: thin commands that call the API and hand the result to a reporter.

Exit codes (README "Exit codes"): 0 ok, 1 findings at or above the threshold, 2 usage or input
error, 3 internal error. A user error is one line on stderr; a traceback only with TRACELENS_DEBUG=1.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from tracelens import __version__, parallel
from tracelens.errors import ExitCode, InputError, TracelensError
from tracelens.reporters.console import safe, stderr_console, stdout_console

if TYPE_CHECKING:
    from tracelens.api import Reconstruction
    from tracelens.parse.summary import ParseSummary
    from tracelens.report import Report

# NOTE: the modules of the analysis are imported in the commands that use them, not here: importing
# all of them took a third of a second at every start, a tenth of what `parse --summary` takes on a
# million-line log. tests/test_cli.py checks the literal choices below against their enums.
AFFINITY_MISS_CHOICES = ("load-balance", "next-in-list")  # routing.model.AffinityMiss
SEVERITY_CHOICES = ("info", "warning", "error")  # findings.base.Severity

FILES = click.argument("files", nargs=-1, required=True, metavar="FILE...")
LENIENT = click.option(
    "--lenient",
    is_flag=True,
    help="Also read documentation excerpts: records without header, PDF-wrapped lines joined.",
)
STRICT = click.option(
    "--strict",
    is_flag=True,
    help="Refuse input with unparsed records: list them (the first 20) on stderr and exit 2.",
)


def refuse_unparsed(summary: ParseSummary) -> None:
    """``--strict``: one line per unparsed record (the first 20), then an input error (exit 2)."""
    count = summary.kinds.get("unparsed", 0)
    if not count:
        return
    console = stderr_console()
    for u in summary.unparsed_examples:
        console.print(f"tracelens: {safe(u.file)}:{u.line}: unparsed: {safe(u.reason)}", soft_wrap=True)
    raise InputError(f"{count} unparsed record(s) (--strict)")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tracelens")
def cli() -> None:
    """Where WebSphere plug-in session affinity failed, and why.

    Reads http_plugin.log files (plain, .gz, or - for standard input) written at LogLevel Trace or
    Stats.
    """


def _store_jobs(ctx: click.Context, _param: click.Parameter, value: int) -> int:
    ctx.meta["tracelens.jobs"] = value
    return value


JOBS = click.option(
    "--jobs", "-j", type=click.IntRange(min=0), default=0, metavar="N", expose_value=False, callback=_store_jobs,
    help="Processes to use on a large log. 0, the default: automatic (every core to count records; to analyse, "
         "every core from 4 cores on). The output is the same for any N.")


def _jobs(analysis: bool = True) -> int:
    """``--jobs`` of the running command, resolved (0: automatic, see :func:`parallel.resolve_jobs`)."""
    return parallel.resolve_jobs(click.get_current_context().meta.get("tracelens.jobs", 0), analysis)


@cli.command()
@FILES
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True,
              help="One JSON object per record, or a table.")
@click.option("--summary", is_flag=True, help="Print only the count per kind, the accounting and the unparsed records.")
@LENIENT
@STRICT
@JOBS
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

    stats = ReadStats()
    counts = ParseSummary()
    if summary:
        count_records(files, stats, counts, lenient=lenient, jobs=_jobs(analysis=False))
    elif fmt == "jsonl":
        events = iter_events(files, stats, lenient=lenient)
        events_reporter.write_jsonl(events, sys.stdout, counts)
    else:
        events_reporter.write_table(iter_events(files, stats, lenient=lenient), stdout_console(), counts)
    accounting = counts.accounting(stats)
    check_not_empty(stats)
    if summary:
        events_reporter.write_summary(counts, accounting, stats.files, stats.damage, stdout_console())
    else:
        for note in stats.damage:
            stderr_console().print(f"tracelens: warning: damaged input: {safe(note)}", soft_wrap=True)
    if strict:
        refuse_unparsed(counts)


TABLE_OR_JSONL = click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table",
                              show_default=True, help="A table for reading, or one JSON object per row.")


def _reconstruct(files: tuple[str, ...], lenient: bool) -> Reconstruction:
    from tracelens.api import check_not_empty, reconstruct
    from tracelens.reporters.progress import progress_bar

    with progress_bar(files) as progress:
        result = reconstruct(files, lenient=lenient, progress=progress, jobs=_jobs())
    check_not_empty(result.stats)
    return result


@cli.command()
@FILES
@TABLE_OR_JSONL
@LENIENT
@JOBS
def requests(files: tuple[str, ...], fmt: str, lenient: bool) -> None:
    """One row per request: time, process, thread, URI, session, clone IDs, attempts, member, status.

    Requests are rebuilt per (pid, tid), so interleaved threads and processes are fine; a request cut
    by the start or end of the log is kept and marked partial.
    """
    from tracelens.reporters import tables

    result = _reconstruct(files, lenient)
    if fmt == "jsonl":
        tables.requests_jsonl(result.requests, sys.stdout)
    else:
        tables.requests_table(result.requests, stdout_console())


@cli.command()
@FILES
@TABLE_OR_JSONL
@LENIENT
@JOBS
def members(files: tuple[str, ...], fmt: str, lenient: bool) -> None:
    """Per web-server process and member: down intervals with reasons, counters, weights.

    The plug-in keeps this state separately in each process, and so does this view.
    """
    from tracelens.reporters import tables

    result = _reconstruct(files, lenient)
    if fmt == "jsonl":
        tables.members_jsonl(result.tracker, sys.stdout)
    else:
        tables.members_table(result.tracker, stdout_console())


CONFIG = click.option("--config", "config", metavar="PLUGIN-CFG.XML", default=None,
                      help="The plugin-cfg.xml the web server used; without it the topology is inferred from "
                           "the trace.")
AFFINITY_MISS = click.option(
    "--affinity-miss", type=click.Choice(AFFINITY_MISS_CHOICES), default=AFFINITY_MISS_CHOICES[0],
    show_default=True,
    help="Where an affinity miss goes: load balanced (APAR PM12112, 7.0.0.13 and later) or the next primary "
         "in the list (earlier plug-ins).",
)


def _analyze(files: tuple[str, ...], config: str | None, lenient: bool, affinity_miss: str) -> Report:
    from tracelens.api import analyze
    from tracelens.reporters.progress import progress_bar
    from tracelens.routing.model import AffinityMiss, RoutingSettings

    with progress_bar(files) as progress:
        return analyze(files, config, lenient=lenient, settings=RoutingSettings(AffinityMiss(affinity_miss)),
                       progress=progress, jobs=_jobs())


@cli.command("analyze")
@FILES
@CONFIG
@click.option("--format", "fmt", type=click.Choice(["rich", "json"]), default="rich", show_default=True,
              help="A report for the terminal, or one JSON object (schema in the README).")
@AFFINITY_MISS
@LENIENT
@STRICT
@JOBS
def analyze_command(files: tuple[str, ...], config: str | None, fmt: str, affinity_miss: str, lenient: bool,
                    strict: bool) -> None:
    """Replay every request against the plug-in's documented routing; say where affinity failed and why.

    With --strict, input with unparsed records is refused (exit 2) before any report is written.
    """
    from tracelens.reporters import json_report, rich_report

    report = _analyze(files, config, lenient, affinity_miss)
    if strict:
        refuse_unparsed(report.summary)
    if fmt == "json":
        json_report.write_json(report, sys.stdout)
    else:
        rich_report.render(report, stdout_console())


@cli.command()
@click.argument("session_id", metavar="ID")
@FILES
@CONFIG
@AFFINITY_MISS
@LENIENT
@JOBS
def session(session_id: str, files: tuple[str, ...], config: str | None, affinity_miss: str, lenient: bool) -> None:
    """The story of one session, request by request, with each verdict and its reason.

    ID is the session ID, with or without its cache ID and clone IDs (a whole JSESSIONID value works).
    """
    from tracelens.reporters import rich_report

    report = _analyze(files, config, lenient, affinity_miss)
    if not rich_report.render_session(report, session_id, stdout_console()):
        raise TracelensError(f"session {session_id} does not appear in {', '.join(files)}")


@cli.command()
@click.argument("rule_id", metavar="CODE|NAME")
def explain(rule_id: str) -> None:
    """The documentation of one finding (by code, TL001, or by name, affinity.failover)."""
    from tracelens.findings.rules import find_rule

    rule = find_rule(rule_id)
    if rule is None:
        raise TracelensError(f"no finding is called {rule_id}; `tracelens rules` lists them")
    console = stdout_console()
    console.print(f"{rule.code} {rule.name} ({rule.severity.value})", style="bold")
    console.print(rule.summary())
    for title, text in rule.sections().items():
        console.print(f"\n{title}", style="bold")
        console.print(" ".join(text.split()))


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
              help="A list for the terminal, or the Markdown table the README carries.")
def rules(fmt: str) -> None:
    """Every finding tracelens reports: code, name, severity and summary."""
    from tracelens.findings.rules import RULES
    from tracelens.reporters.rules_doc import rules_markdown

    if fmt == "markdown":
        sys.stdout.write(rules_markdown())
        return
    console = stdout_console()
    for rule in RULES:
        console.print(f"{rule.code}  {rule.name:34} {rule.severity.value:8} {rule.summary()}", overflow="fold")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI, turn every failure into one line and a named exit code."""
    try:
        rv = cli.main(args=list(argv) if argv is not None else None, prog_name="tracelens", standalone_mode=False)
    except TracelensError as exc:
        _error(exc.message)
        return int(exc.code)
    except click.exceptions.Abort:
        _error("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return ExitCode.USAGE
    except BrokenPipeError:
        # the reader of our output went away (| head): not an error of ours
        _quiet_stdout()
        return ExitCode.OK
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as exc:
        if os.environ.get("TRACELENS_DEBUG"):
            raise
        _error(f"internal error: {type(exc).__name__}: {safe(str(exc))} (set TRACELENS_DEBUG=1 for the traceback)")
        return ExitCode.INTERNAL
    # click returns the exit code of --help, --version and ctx.exit(); a command returns None
    return rv if isinstance(rv, int) else ExitCode.OK


def _error(message: str) -> None:
    stderr_console().print(f"tracelens: error: {safe(message)}", soft_wrap=True)


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def run() -> None:
    sys.exit(main())


def _register_commands() -> None:
    """Import every module of tracelens.commands: each adds its command to `cli` with @cli.command."""
    import importlib
    import pkgutil

    import tracelens.commands

    for module in sorted(m.name for m in pkgutil.iter_modules(tracelens.commands.__path__)):
        importlib.import_module(f"tracelens.commands.{module}")


_register_commands()
