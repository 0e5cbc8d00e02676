"""Errors that end a run with a one-line message and a named exit code."""

from __future__ import annotations

import enum

#: what to run for the tables (export, the API's frames): pandas and pyarrow are an extra
TABLES_EXTRA = "pip install 'tracelens[tables]'"
#: what to run for `tracelens report` (the HTML file): Jinja2 and Plotly are an extra
REPORT_EXTRA = "pip install 'tracelens[report]'"


class ExitCode(enum.IntEnum):
    """The exit codes, as documented in the README."""

    OK = 0
    FINDINGS = 1  # a finding at or above the --fail-on threshold
    USAGE = 2  # bad usage or unusable input (missing file, bad configuration, ...)
    INTERNAL = 3  # a bug in tracelens; TRACELENS_DEBUG=1 shows the traceback
    # NOTE: 128 + the signal's number, as a shell reports a run that a signal ended. The run dies of
    # SIGTERM and SIGHUP (after its clean-up), so these two are what the parent sees, not returned.
    HANGUP = 129  # SIGHUP: the terminal went away
    INTERRUPTED = 130  # Ctrl-C (SIGINT)
    TERMINATED = 143  # SIGTERM

    @classmethod
    def of_signal(cls, signum: int) -> int:
        """What a shell reports for a run ended by signal ``signum``: 128 + its number."""
        return 128 + signum


class TracelensError(Exception):
    """An error the user can act on: printed as one line, then exit with ``code``."""

    code = ExitCode.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(TracelensError):
    """An input file that cannot be read at all."""


class ConfigFileError(TracelensError):
    """A plugin-cfg.xml or tracelens settings file that cannot be used."""
