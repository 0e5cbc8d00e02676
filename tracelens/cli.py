"""The command line: thin commands that call the API and hand the result to a reporter.

Exit codes (README "Exit codes"): 0 ok, 1 findings at or above the threshold, 2 usage or input
error, 3 internal error. A user error is one line on stderr; a traceback only with TRACELENS_DEBUG=1.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import signal
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, TypeVar

import click

from tracelens import __version__, parallel
from tracelens.errors import ExitCode, InputError, TracelensError
from tracelens.reporters import console as terminal
from tracelens.reporters.console import ColorMode, Terminal, stdout_console

if TYPE_CHECKING:
    from tracelens.api import Reconstruction
    from tracelens.parse.summary import ParseSummary
    from tracelens.read.logset import LogSet
    from tracelens.report import Report

# NOTE: the modules of the analysis are imported in the commands that use them, not here: importing
# all of them took a third of a second at every start, a tenth of what `parse --summary` takes on a
# million-line log. tests/test_cli.py checks the literal choices below against their enums.
AFFINITY_MISS_CHOICES = ("load-balance", "next-in-list")  # routing.model.AffinityMiss
SEVERITY_CHOICES = ("info", "warning", "error")  # findings.base.Severity

F = TypeVar("F", bound=Callable[..., Any])

# NOTE: click.Path (without existence checks, which the reader makes with its own one-line errors)
# so that shell completion offers file names for these arguments.
FILES = click.argument("files", nargs=-1, required=True, metavar="FILE...", type=click.Path(allow_dash=True))
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
    for u in summary.unparsed_examples:
        terminal.error(f"{u.file}:{u.line}: unparsed: {u.reason}")
    raise InputError(f"{count} unparsed record(s) (--strict)")


class OutputError(TracelensError):
    """A report or table that could not be written (a full disk, a closed terminal)."""


class _PipeClosed(Exception):
    """The reader of standard output went away (``| head``): not an error of ours."""


@contextmanager
def atomic_stdout(path: str) -> Iterator[None]:
    """``--output-file PATH``: standard output goes to a file beside PATH, renamed onto it at the end.

    A failed run (an error, a full disk, Ctrl-C) leaves PATH as it was and no temporary file. An
    existing PATH keeps its permissions; a read-only one is refused, not replaced behind its owner's
    back; a device or FIFO (/dev/null, a named pipe) is written to, never renamed over.
    """
    target = Path(path)
    mode = _target_mode(target)
    if mode == _NOT_A_FILE:
        with _redirected(path, _open_for_output(path)):
            yield
        return
    part = target.with_name(f".{target.name}.{os.getpid()}.part")
    out = _open_for_output(str(part), name=path)
    verdict: click.exceptions.Exit | None = None
    try:
        with writing(path):
            try:
                with _redirected(path, out, close=False):
                    yield
            except click.exceptions.Exit as exc:
                if exc.exit_code not in (0, 1):  # check's verdict is output too
                    raise
                verdict = exc
            out.close()
        if mode is not None:
            os.chmod(part, mode)
        os.replace(part, target)
    except BaseException:
        with suppress(OSError):
            out.close()  # what is still buffered cannot be written either
        part.unlink(missing_ok=True)
        raise
    if verdict is not None:
        raise verdict  # after the rename: `check -o` still exits 1 when it fails


_NOT_A_FILE = -1


def _open_for_output(path: str, name: str | None = None) -> IO[str]:
    try:
        return open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise OutputError(f"{name or path}: {exc.strerror or exc}") from None


@contextmanager
def _redirected(path: str, out: IO[str], close: bool = True) -> Iterator[None]:
    saved = sys.stdout
    sys.stdout = out
    try:
        with writing(path):
            yield
            if close:
                out.close()
    finally:
        sys.stdout = saved
        if close:
            with suppress(OSError):
                out.close()


def _target_mode(target: Path) -> int | None:
    """The permissions an existing regular file keeps, None for a new file, :data:`_NOT_A_FILE` for a device."""
    try:
        st = target.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(f"{target}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{target}: is a directory, not a file to write")
    if not stat.S_ISREG(st.st_mode):
        return _NOT_A_FILE
    if not st.st_mode & 0o222:
        raise OutputError(f"{target}: is read-only; not replaced")
    return stat.S_IMODE(st.st_mode)


class Command(click.Command):
    """A tracelens command: ``--output-file`` puts what it writes on stdout into a file, atomically."""

    def invoke(self, ctx: click.Context) -> Any:
        path = ctx.meta.get("tracelens.output_file")
        try:
            if path is None:
                return super().invoke(ctx)
            with atomic_stdout(path):
                return super().invoke(ctx)
        except BrokenPipeError:
            # NOTE: raised as another type, since click turns a broken pipe into exit 1 (core.main)
            raise _PipeClosed from None
        except KeyboardInterrupt:
            # NOTE: and so is Ctrl-C: click turns it into its Abort after writing an empty line to stderr,
            # so that a blank line came before `tracelens: error: aborted`
            raise _Interrupted from None


class _Interrupted(Exception):
    """Ctrl-C inside a command, carried past click (see :meth:`Command.invoke`)."""


class Group(click.Group):
    command_class = Command


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tracelens")
def cli() -> None:
    """Where WebSphere plug-in session affinity failed, and why.

    Reads http_plugin.log files (plain, .gz, or - for standard input) written at LogLevel Trace or
    Stats.
    """


def _store_color(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        terminal.configure(dataclasses.replace(terminal.terminal(), color=ColorMode(value)))


def _store_quiet(_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        terminal.configure(dataclasses.replace(terminal.terminal(), quiet=True))


def _store_output_file(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None and value != "-":
        ctx.meta["tracelens.output_file"] = value


COLOR = click.option(
    "--color", type=click.Choice([m.value for m in ColorMode]), default=None, expose_value=False,
    callback=_store_color, is_eager=True,
    help="Colour: auto (on a terminal, unless NO_COLOR is set to a non-empty value), always or never.  "
         "[default: auto]")
QUIET = click.option("--quiet", "-q", is_flag=True, expose_value=False, callback=_store_quiet, is_eager=True,
                     help="No warnings, notes or progress on stderr; errors only.")
OUTPUT_FILE = click.option(
    "--output-file", "-o", metavar="PATH", type=click.Path(dir_okay=False, allow_dash=True), expose_value=False,
    callback=_store_output_file,
    help="Write the output to PATH instead of stdout: to a temporary file beside it, renamed onto PATH at the end, "
         "so that a failed run leaves PATH as it was.")


def output_options(f: F) -> F:
    """``--output-file``, ``--quiet`` and ``--color``: for every command that writes a report."""
    return COLOR(QUIET(OUTPUT_FILE(f)))


def _store_jobs(ctx: click.Context, _param: click.Parameter, value: int) -> int:
    ctx.meta["tracelens.jobs"] = value
    return value


JOBS = click.option(
    "--jobs", "-j", type=click.IntRange(min=0), default=0, metavar="N", expose_value=False, callback=_store_jobs,
    help="Processes to use on a large log. 0, the default: automatic (every core to count records; to analyse, "
         "every core from 4 cores on). The output is the same for any N.")


def _store_web_servers(ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    ctx.meta["tracelens.web_servers"] = value
    return value


WEB_SERVER = click.option(
    "--web-server", multiple=True, metavar="NAME=GLOB", expose_value=False, callback=_store_web_servers,
    help="The files of web server NAME (repeatable; quote the glob). Without it, files in different directories "
         "are the web servers named by their directory, and files that overlap in time are different web servers.")


def log_set(files: Sequence[str]) -> LogSet:
    """The files as they will be read (each web server's oldest first); a duplicate is a warning on stderr."""
    from tracelens.read.logset import parse_web_servers, plan

    specs = click.get_current_context().meta.get("tracelens.web_servers", ())
    planned = plan(files, parse_web_servers(specs))
    for d in planned.duplicates:
        terminal.warning(f"{d.path}: {d.how} as {d.same_as}, read once")
    return planned


def _jobs(analysis: bool = True) -> int:
    """``--jobs`` of the running command, resolved (0: automatic, see :func:`parallel.resolve_jobs`)."""
    return parallel.resolve_jobs(click.get_current_context().meta.get("tracelens.jobs", 0), analysis)


class ByteSize(click.ParamType):  # type: ignore[type-arg]
    """A size in bytes: a number, or one with a K, M or G suffix (powers of 1024), as in ``64K`` or ``1M``."""

    name = "size"
    _UNITS: ClassVar[dict[str, int]] = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}

    def __init__(self, minimum: int) -> None:
        self.minimum = minimum

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            size = value
        else:
            text = str(value).strip().upper().removesuffix("B").removesuffix("I")
            number, unit = (text[:-1], text[-1]) if text[-1:] in self._UNITS else (text, "")
            if not number.isdigit():
                self.fail(f"{value!r} is not a size (a number of bytes, or with K, M or G: 64K, 1M)", param, ctx)
            size = int(number) * self._UNITS[unit]
        if size < self.minimum:
            self.fail(f"{value} is less than the minimum, {self.minimum} bytes", param, ctx)
        return size


def _store_max_record(ctx: click.Context, _param: click.Parameter, value: int) -> int:
    ctx.meta["tracelens.max_record_bytes"] = value
    return value


# NOTE: the defaults are literals here, not imported from the reader (see the note on imports above);
# tests/test_hostile_input.py checks them against tracelens.read.reader.
MAX_RECORD_DEFAULT = 1 << 20
MAX_RECORD_MINIMUM = 4096
MAX_RECORD = click.option(
    "--max-record-bytes", type=ByteSize(MAX_RECORD_MINIMUM), default=MAX_RECORD_DEFAULT, metavar="SIZE",
    expose_value=False, callback=_store_max_record,
    help="A longer line is an unparsed record (`line too long`) of which only the start is kept, so that a line "
         "that never ends costs no memory. K, M, G suffixes.  [default: 1M]")


def _max_record_bytes() -> int:
    """``--max-record-bytes`` of the running command."""
    return int(click.get_current_context().meta.get("tracelens.max_record_bytes", MAX_RECORD_DEFAULT))


@cli.command()
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
        count_records(files, stats, counts, lenient=lenient, jobs=_jobs(analysis=False),
                      max_record_bytes=_max_record_bytes())
    elif fmt == "jsonl":
        events = iter_events(files, stats, lenient=lenient, max_record_bytes=_max_record_bytes())
        events_reporter.write_jsonl(events, sys.stdout, counts)
    else:
        events = iter_events(files, stats, lenient=lenient, max_record_bytes=_max_record_bytes())
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


TABLE_OR_JSONL = click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table",
                              show_default=True, help="A table for reading, or one JSON object per row.")
CONFIG = click.option("--config", "config", metavar="PLUGIN-CFG.XML", default=None, type=click.Path(),
                      help="The plugin-cfg.xml the web server used; without it the topology is inferred from "
                           "the trace.")
AFFINITY_MISS = click.option(
    "--affinity-miss", type=click.Choice(AFFINITY_MISS_CHOICES), default=AFFINITY_MISS_CHOICES[0],
    show_default=True,
    help="Where an affinity miss goes: load balanced (APAR PM12112, 7.0.0.13 and later) or the next primary "
         "in the list (earlier plug-ins).",
)


def _reconstruct(files: tuple[str, ...], config: str | None, lenient: bool, strict: bool) -> Reconstruction:
    from tracelens.api import check_not_empty, reconstruct
    from tracelens.config.plugin_cfg import load_config
    from tracelens.reporters.progress import progress_bar

    # the configuration names the affinity cookies and the clone ID separator the requests are read with
    cfg = load_config(config) if config is not None else None
    cookies = tuple(sorted(cfg.affinity_cookie_names())) if cfg else ("JSESSIONID",)
    separator = "+" if cfg and any(c.clone_separator_change for c in cfg.clusters) else ":"
    planned = log_set(files)
    with progress_bar(planned.paths) as progress:
        result = reconstruct(planned.paths, lenient=lenient, affinity_cookies=cookies, separator=separator,
                             progress=progress, jobs=_jobs(), log_set=planned, max_record_bytes=_max_record_bytes())
    check_not_empty(result.stats)
    if strict:
        refuse_unparsed(result.summary)
    return result


@cli.command()
@FILES
@TABLE_OR_JSONL
@CONFIG
@AFFINITY_MISS
@LENIENT
@STRICT
@WEB_SERVER
@JOBS
@MAX_RECORD
@output_options
def requests(files: tuple[str, ...], fmt: str, config: str | None, affinity_miss: str, lenient: bool,
             strict: bool) -> None:
    """One row per request: time, process, thread, URI, session, clone IDs, attempts, member, status, verdict.

    Requests are rebuilt per (pid, tid), so interleaved threads and processes are fine; a request cut
    by the start or end of the log is kept and marked partial. The table's verdict is the replay's
    (as `analyze`); --format jsonl writes the requests as logged.
    """
    from tracelens.reporters import tables

    if fmt == "jsonl":
        result = _reconstruct(files, config, lenient, strict)
        tables.requests_jsonl(result.requests, sys.stdout)
    else:
        report = _analyze(files, config, lenient, affinity_miss, strict)
        tables.requests_table(report, stdout_console(wrap=False))


@cli.command()
@FILES
@TABLE_OR_JSONL
@CONFIG
@LENIENT
@STRICT
@WEB_SERVER
@JOBS
@MAX_RECORD
@output_options
def members(files: tuple[str, ...], fmt: str, config: str | None, lenient: bool, strict: bool) -> None:
    """Per web-server process and member: down intervals with reasons, counters, weights.

    The plug-in keeps this state separately in each process, and so does this view.
    """
    from tracelens.reporters import tables

    result = _reconstruct(files, config, lenient, strict)
    if fmt == "jsonl":
        tables.members_jsonl(result.tracker, sys.stdout)
    else:
        tables.members_table(result.tracker, stdout_console(wrap=False))


def _analyze(files: tuple[str, ...], config: str | None, lenient: bool, affinity_miss: str,
             strict: bool = False) -> Report:
    from tracelens.api import analyze
    from tracelens.reporters.progress import progress_bar
    from tracelens.routing.model import AffinityMiss, RoutingSettings

    planned = log_set(files)
    with progress_bar(planned.paths) as progress:
        report = analyze(planned.paths, config, lenient=lenient, settings=RoutingSettings(AffinityMiss(affinity_miss)),
                         progress=progress, jobs=_jobs(), log_set=planned, max_record_bytes=_max_record_bytes())
    if strict:
        refuse_unparsed(report.summary)
    return report


@cli.command("analyze")
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

    report = _analyze(files, config, lenient, affinity_miss, strict)
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
@STRICT
@WEB_SERVER
@JOBS
@MAX_RECORD
@output_options
def session(session_id: str, files: tuple[str, ...], config: str | None, affinity_miss: str, lenient: bool,
            strict: bool) -> None:
    """The story of one session, request by request, with each verdict and its reason.

    ID is the session ID, with or without its cache ID and clone IDs (a whole JSESSIONID value works).
    """
    from tracelens.reporters import rich_report

    report = _analyze(files, config, lenient, affinity_miss, strict)
    if not rich_report.render_session(report, session_id, stdout_console(wrap=False)):
        raise TracelensError(f"session {session_id} does not appear in {', '.join(files)}")


@cli.command()
@click.argument("rule_id", metavar="CODE|NAME")
@COLOR
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
@COLOR
def rules(fmt: str) -> None:
    """Every finding tracelens reports: code, name, severity and summary."""
    from tracelens.findings.rules import RULES
    from tracelens.reporters.rules_doc import rules_markdown

    if fmt == "markdown":
        sys.stdout.write(rules_markdown())
        return
    console = stdout_console(wrap=False)
    for rule in RULES:
        console.print(f"{rule.code}  {rule.name:34} {rule.severity.value:8} {rule.summary()}", overflow="fold")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI, turn every failure into one line and a named exit code."""
    terminal.configure(Terminal())
    try:
        try:
            rv = cli.main(args=list(argv) if argv is not None else None, prog_name="tracelens",
                          standalone_mode=False)
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not in the interpreter's last flush
        except OSError as exc:
            raise _output_error(exc) from None
    except _PipeClosed:
        _quiet_stdout()
        return ExitCode.OK
    except TracelensError as exc:
        _error(exc.message)
        if isinstance(exc, OutputError):
            _quiet_stdout()
        return int(exc.code)
    except (click.exceptions.Abort, _Interrupted):
        _error("aborted")
        return 130
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # `tracelens` alone: the help, as click gives it
        return ExitCode.USAGE
    except click.ClickException as exc:
        # usage errors (exit 2) in the form of every other error: one line, then where the help is
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if isinstance(exc, click.UsageError) and ctx is not None else ""
        _error(f"{_sentence(exc.format_message())}{hint}")
        return ExitCode.USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as exc:
        if os.environ.get("TRACELENS_DEBUG"):
            raise
        _error(f"internal error: {type(exc).__name__}: {exc} (set TRACELENS_DEBUG=1 for the traceback)")
        return ExitCode.INTERNAL
    # click returns the exit code of --help, --version and ctx.exit(); a command returns None
    return rv if isinstance(rv, int) else ExitCode.OK


# errors of writing, not of reading: the disk, the quota or the file size limit ran out
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _output_error(exc: OSError, name: str | None = None) -> BaseException:
    """An OSError that escaped a command: a closed pipe, a full disk (one line, exit 2), or a bug."""
    if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
        return _PipeClosed()
    if exc.errno in _WRITE_ERRNOS:
        return OutputError(f"{name or exc.filename or 'standard output'}: {exc.strerror or exc}")
    return exc


@contextmanager
def writing(name: str) -> Iterator[None]:
    """A full disk (or quota, or file size limit) while writing ``name`` is one line naming it, exit 2."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _WRITE_ERRNOS:
            raise OutputError(f"{name}: {exc.strerror or exc}") from None
        raise


def _sentence(message: str) -> str:
    """click's message as one line, starting in lower case as every other tracelens message does."""
    text = " ".join(message.split()).rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _error(message: str) -> None:
    terminal.error(message)


def _quiet_stdout() -> None:
    # NOTE: the interpreter flushes stdout once more at exit; with its reader gone or its disk full
    # that would print "Exception ignored ..." and set exit status 120. Point fd 1 at /dev/null.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class _Terminated(BaseException):
    """SIGTERM or SIGHUP, raised where the program is, as Ctrl-C raises KeyboardInterrupt.

    A BaseException, so that ``except Exception`` does not take it for an error, while ``finally`` and
    ``except BaseException`` blocks run: the export's partial file is removed, workers are stopped.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: the signals that end a run as Ctrl-C does (SIGHUP: the terminal went away; not on Windows)
_TERMINATING = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)
_handler_pid: int | None = None


def _on_termination(signum: int, _frame: object) -> None:
    if os.getpid() != _handler_pid:
        # a worker forked from this process: it dies of the signal as it always did
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    for sig in _TERMINATING:  # a second signal does not interrupt the clean-up of the first
        signal.signal(sig, signal.SIG_IGN)
    raise _Terminated(signum)


def run() -> None:
    global _handler_pid
    _handler_pid = os.getpid()
    for sig in _TERMINATING:
        signal.signal(sig, _on_termination)
    try:
        code = main()
    except _Terminated as exc:
        # NOTE: as git and coreutils (sort, split) do: clean up, then die of the same signal with its
        # default action, so that the parent sees how the run ended (a shell reports 128 + the signal
        # number: 143 for SIGTERM, 129 for SIGHUP). No message: the one who sent it knows.
        signal.signal(exc.signum, signal.SIG_DFL)
        os.kill(os.getpid(), exc.signum)
        code = 128 + exc.signum  # where the signal cannot kill (it is blocked): the same number
    sys.exit(code)


def _register_commands() -> None:
    """Import every module of tracelens.commands: each adds its command to `cli` with @cli.command."""
    import importlib
    import pkgutil

    import tracelens.commands

    for module in sorted(m.name for m in pkgutil.iter_modules(tracelens.commands.__path__)):
        importlib.import_module(f"tracelens.commands.{module}")


_register_commands()
