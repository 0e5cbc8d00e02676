"""The command line: the ``tracelens`` group of the commands in :mod:`tracelens.commands`, and ``main``.

``main`` turns every way a run ends into one line on stderr and a named exit code
(:class:`tracelens.errors.ExitCode`, README "Exit codes"); a traceback only with TRACELENS_DEBUG=1.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

import click

from tracelens import __version__
from tracelens.commands import (
    analyze,
    check,
    config,
    explain,
    export,
    members,
    parse,
    report,
    requests,
    rules,
    session,
    timeline,
)
from tracelens.commands.output import Interrupted, OutputError, PipeClosed, output_error
from tracelens.errors import ExitCode, TracelensError
from tracelens.reporters import console as terminal
from tracelens.reporters.console import Terminal

# NOTE: the command modules import the analysis inside their functions, not at the top: importing all
# of it took a third of a second at every start, a tenth of what `parse --summary` takes on a
# million-line log.


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tracelens")
def cli() -> None:
    """Where WebSphere plug-in session affinity failed, and why.

    Reads http_plugin.log files (plain, .gz, or - for standard input) written at LogLevel Trace or
    Stats.
    """


for _command in (analyze.analyze_command, check.check, config.config_command, explain.explain,
                 export.export_command, members.members, parse.parse, report.report_command, requests.requests,
                 rules.rules, session.session, timeline.timeline):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI, turn every failure into one line and a named exit code."""
    terminal.configure(Terminal())
    try:
        try:
            rv = cli.main(args=list(argv) if argv is not None else None, prog_name="tracelens",
                          standalone_mode=False)
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not in the interpreter's last flush
        except OSError as exc:
            raise output_error(exc) from None
    except PipeClosed:
        _quiet_stdout()
        return ExitCode.OK
    except TracelensError as exc:
        _error(exc.message)
        if isinstance(exc, OutputError):
            _quiet_stdout()
        return int(exc.code)
    except (click.exceptions.Abort, Interrupted):
        _error("aborted")
        return ExitCode.INTERRUPTED
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
        return ExitCode.INTERRUPTED
    except Exception as exc:
        if os.environ.get("TRACELENS_DEBUG"):
            raise
        _error(f"internal error: {type(exc).__name__}: {exc} (set TRACELENS_DEBUG=1 for the traceback)")
        return ExitCode.INTERNAL
    # click returns the exit code of --help, --version and ctx.exit(); a command returns None
    return rv if isinstance(rv, int) else ExitCode.OK


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
        code = ExitCode.of_signal(exc.signum)  # where the signal cannot kill (it is blocked): the same number
    sys.exit(code)
