"""CLI: the options that several commands share, and what the running command was given in them.

Options that every command reads the same way (``--jobs``, ``--web-server``, ``--max-record-bytes``)
keep their value in the click context's ``meta``; :func:`jobs`, :func:`log_set` and
:func:`max_record_bytes` read it back where the analysis is started.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import click

from tracelens import parallel
from tracelens.errors import InputError
from tracelens.reporters import console as terminal
from tracelens.reporters.console import ColorMode

if TYPE_CHECKING:
    from tracelens.parse.summary import ParseSummary
    from tracelens.read.logset import LogSet

# NOTE: the modules of the analysis are imported in the commands that use them, not here: importing
# all of them took a third of a second at every start, a tenth of what `parse --summary` takes on a
# million-line log. tests/test_cli.py checks the literal choices below against their enums.
AFFINITY_MISS_CHOICES = ("load-balance", "next-in-list")  # routing.model.AffinityMiss
SEVERITY_CHOICES = ("info", "warning", "error")  # findings.base.Severity
SYSTEM_CHOICES = ("auto", "websphere", "weblogic")  # read.weblogic.System
WEBLOGIC_FAILOVER_CHOICES = ("secondary", "random")  # routing.weblogic.FailoverMode

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


def jobs(analysis: bool = True) -> int:
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


def max_record_bytes() -> int:
    """``--max-record-bytes`` of the running command."""
    return int(click.get_current_context().meta.get("tracelens.max_record_bytes", MAX_RECORD_DEFAULT))



def _store_system(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    ctx.meta["tracelens.system"] = value
    return value


SYSTEM = click.option(
    "--system", type=click.Choice(SYSTEM_CHOICES), default=SYSTEM_CHOICES[0], show_default=True, expose_value=False,
    callback=_store_system,
    help="Which plug-in wrote the logs: the WebSphere plug-in (http_plugin.log), the WebLogic proxy plug-in "
         "(wlproxy.log, or its lines in an Apache/OHS error log), or auto: judged per file by its content.")


def system() -> str:
    """``--system`` of the running command: ``auto``, ``websphere`` or ``weblogic``."""
    return str(click.get_current_context().meta.get("tracelens.system", SYSTEM_CHOICES[0]))


def reading_options(f: F) -> F:
    """``--lenient``, ``--strict``, ``--system``, ``--web-server``, ``--jobs`` and ``--max-record-bytes``:
    for every command that reads logs, in this order in its ``--help``."""
    return LENIENT(STRICT(SYSTEM(WEB_SERVER(JOBS(MAX_RECORD(f))))))

# NOTE: the literal choices, not the enum (tracelens.fleet imports the analysis; see the note on imports above);
# tests/test_fleet.py checks them against tracelens.fleet.Engine.
ENGINE_CHOICES = ("local", "dask")


def _store_engine(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    ctx.meta[f"tracelens.{param.name}"] = value
    return value


ENGINE = click.option(
    "--engine", type=click.Choice(ENGINE_CHOICES), default=None, expose_value=False, callback=_store_engine,
    help="Where each web server's logs are analysed: here (local), or in parallel on a Dask cluster (dask: a "
         "LocalCluster on this machine's cores, or --scheduler's). The report is the same.  [default: local]")
SCHEDULER = click.option(
    "--scheduler", metavar="ADDRESS", default=None, expose_value=False, callback=_store_engine,
    help="A running Dask scheduler (tcp://HOST:8786) whose workers read the same paths; implies --engine dask.")
WORKERS = click.option(
    "--workers", type=click.IntRange(min=1), default=None, metavar="N", expose_value=False, callback=_store_engine,
    help="--engine dask: the LocalCluster's worker processes (default: one per core); with --scheduler, wait for "
         "N workers to join.")


def engine_options(f: F) -> F:
    """``--engine``, ``--scheduler`` and ``--workers``: for the commands that analyse a fleet's logs."""
    return ENGINE(SCHEDULER(WORKERS(f)))


def engine() -> tuple[str, str | None, int | None]:
    """``(engine, scheduler, workers)`` of the running command; ``--scheduler`` or ``--workers`` alone mean dask.

    A command without these options runs locally.
    """
    meta = click.get_current_context().meta
    chosen, scheduler, workers = meta.get("tracelens.engine"), meta.get("tracelens.scheduler"), meta.get(
        "tracelens.workers")
    if chosen == "local" and (scheduler or workers):
        raise click.UsageError(f"{'--scheduler' if scheduler else '--workers'} is for --engine dask, not local")
    return chosen or ("dask" if scheduler or workers else "local"), scheduler, workers


class Format(str, enum.Enum):
    """Every ``--format`` of the commands. Each command maps the formats it takes to the function that
    writes them (its ``WRITERS``), and its option offers those, in that order."""

    TEXT = "text"
    RICH = "rich"
    TABLE = "table"
    MARKDOWN = "markdown"
    JSON = "json"
    JSONL = "jsonl"
    JUNIT = "junit"
    GITHUB = "github"
    SARIF = "sarif"
    GITLAB = "gitlab"


def _to_format(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Format | None:
    return None if value is None else Format(value)


def format_option(formats: Iterable[Format], default: Format | None, help: str) -> Callable[[F], F]:
    """``--format``, offering ``formats`` in their order; the command is given a :class:`Format` (or None)."""
    return click.option("--format", "fmt", type=click.Choice([f.value for f in formats]),
                        default=None if default is None else default.value, show_default=default is not None,
                        help=help, callback=_to_format)


TABLE_OR_JSONL_HELP = "A table for reading, or one JSON object per row."
CONFIG = click.option("--config", "config", metavar="FILE", default=None, type=click.Path(),
                      help="The plugin-cfg.xml the web server used; without it the topology is inferred from "
                           "the trace. Or the WebLogic plug-in's httpd.conf, mod_wl_ohs.conf, weblogic.conf or "
                           "iisproxy.ini, which is linted. The kind is told by content.")
_AFFINITY_MISS = click.option(
    "--affinity-miss", type=click.Choice(AFFINITY_MISS_CHOICES), default=AFFINITY_MISS_CHOICES[0],
    show_default=True,
    help="Where an affinity miss goes: load balanced (APAR PM12112, 7.0.0.13 and later) or the next primary "
         "in the list (earlier plug-ins).",
)


def _store_weblogic_failover(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    ctx.meta["tracelens.weblogic_failover"] = value
    return value


WEBLOGIC_FAILOVER = click.option(
    "--weblogic-failover", type=click.Choice(WEBLOGIC_FAILOVER_CHOICES), default=None, expose_value=False,
    callback=_store_weblogic_failover,
    help="WebLogic logs: where a request goes when its primary is unavailable: its secondary (plug-ins of "
         "WebLogic 6.1-8.1) or any available server (random, 9.x and later).  [default: by the log's line shape: "
         "random with <id> lines, secondary with ctime-only lines]")


def weblogic_failover() -> str | None:
    """``--weblogic-failover`` of the running command, None when not given (the log's line shape decides)."""
    value = click.get_current_context().meta.get("tracelens.weblogic_failover")
    return None if value is None else str(value)


def AFFINITY_MISS(f: F) -> F:
    """``--affinity-miss`` and ``--weblogic-failover``: the version-dependent settings of every replaying command."""
    return _AFFINITY_MISS(WEBLOGIC_FAILOVER(f))
