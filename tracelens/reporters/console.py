"""Reporters: the one owner of the terminal (consoles, colour, width, progress), and text made safe for it.

Reports go to stdout, messages to stderr. Text that comes from a log (server names, URIs, cookie
values) is shown through :func:`safe`, never as rich markup: a log must not be able to colour,
move the cursor of, or retitle the terminal of the person reading it.

:class:`Terminal` decides, once per run, what the command line's ``--color`` and the environment
(``NO_COLOR``, ``CI``, whether stdout and stderr are terminals) mean; every console of a run comes
from it, so that the decision is made in one place.
"""

from __future__ import annotations

import enum
import errno
import os
import re
import sys
from dataclasses import dataclass, field

from rich.console import Console
from rich.text import Text

# Control characters (LF and CR too: a field holding one would start a line of its own, which a CI log
# reads as a workflow command such as `::error::` or `::add-mask::`), the Unicode line and paragraph
# separators, and the bidirectional overrides and isolates that reorder what a terminal shows
# ("Trojan Source"). Tab stays: it moves the cursor forward only.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

#: the width of a console on a pipe or a file, where nothing should wrap (a line as long as it is)
UNWRAPPED = 1_000_000


def _escape_control(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """``text`` (one field) with every control character shown as ``\\xNN``, line separators and
    bidirectional controls as ``\\uNNNN``: whatever a log holds, it stays on its line and in its order."""
    return _CONTROL.sub(_escape_control, text)


def safe_text(text: str, style: str = "") -> Text:
    """A rich Text (never parsed as markup) of ``text`` made safe."""
    return Text(safe(text), style=style)


class ColorMode(str, enum.Enum):
    """``--color``: colour on a terminal (auto), always, or never."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


def no_color_requested() -> bool:
    """``NO_COLOR`` set to a non-empty value (https://no-color.org: an empty value does not count)."""
    return bool(os.environ.get("NO_COLOR"))


def in_ci() -> bool:
    """The ``CI`` variable that GitHub Actions, GitLab CI, Jenkins and Azure set (non-empty)."""
    return bool(os.environ.get("CI"))


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # a closed stream
        return False


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # NOTE: rich's own handling exits 1 on the spot; the command line decides what a closed pipe
        # means (a quiet exit 0, the same for every command)
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


@dataclass(frozen=True, slots=True)
class Terminal:
    """What this run may do to its standard output and standard error: colour, width, progress.

    The streams are looked up when a console is asked for (``sys.stdout`` at that moment), so that a
    test runner's captured streams are the ones written to; the terminal keeps the consoles it made
    and gives the same one again for the same stream, width and wrapping.
    """

    color: ColorMode = ColorMode.AUTO
    quiet: bool = False  # --quiet: errors only on stderr
    # NOTE: the consoles made so far, one per stream and shape, so that every message and report of a
    # run goes through the same console (and a message printed while the progress bar is drawn goes
    # above it). Keyed by the stream too: `--output-file` points sys.stdout elsewhere during a run.
    _consoles: dict[tuple[int, int | None, bool], tuple[object, Console]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def _colour(self, stream: object) -> bool:
        if self.color is ColorMode.NEVER:
            return False
        if self.color is ColorMode.ALWAYS:
            return True
        return _isatty(stream) and not no_color_requested()

    def _console(self, stream: object, width: int | None, soft_wrap: bool) -> Console:
        key = (id(stream), width, soft_wrap)
        made = self._consoles.get(key)
        if made is not None and made[0] is stream:
            return made[1]
        console = self._new_console(stream, width, soft_wrap)
        self._consoles[key] = (stream, console)
        return console

    def _new_console(self, stream: object, width: int | None, soft_wrap: bool) -> Console:
        colour = self._colour(stream)
        return _Console(
            file=stream,  # type: ignore[arg-type]  # sys.stdout or sys.stderr: a text stream
            width=width,
            highlight=False,
            markup=False,
            emoji=False,
            # NOTE: --color always draws colour on a pipe (for `less -R`); never and NO_COLOR draw
            # none. Bold and dim stay on a terminal without colour: NO_COLOR is about colour only.
            force_terminal=True if self.color is ColorMode.ALWAYS else None,
            no_color=not colour,
            color_system="auto" if colour or (self.color is ColorMode.AUTO and _isatty(stream)) else None,
            soft_wrap=soft_wrap,
        )

    def stdout_is_terminal(self) -> bool:
        return _isatty(sys.stdout)

    def stdout_colour(self) -> bool:
        """Whether what goes to stdout is to be coloured (--color, NO_COLOR, a terminal)."""
        return self._colour(sys.stdout)

    def stdout(self, width: int | None = None, *, wrap: bool = True) -> Console:
        """The console of the report. ``wrap=False``: on a pipe or a file, lines are never wrapped
        (one record per line, for grep and editors); on a terminal they fit its width."""
        if not wrap and width is None and not self.stdout_is_terminal():
            return self._console(sys.stdout, UNWRAPPED, soft_wrap=True)
        return self._console(sys.stdout, width, soft_wrap=False)

    def stderr(self) -> Console:
        """The console of messages and the progress bar."""
        return self._console(sys.stderr, None, soft_wrap=True)

    def progress_allowed(self) -> bool:
        """A progress bar may be drawn: standard error is a terminal and the run is not in CI.

        Standard output does not matter: `tracelens analyze big.log > report.txt` shows progress.
        """
        return _isatty(sys.stderr) and not in_ci() and not self.quiet

    def message(self, kind: str, text: str) -> None:
        """One line on stderr, ``tracelens: KIND: TEXT`` (``text`` made safe here); only errors when quiet."""
        if self.quiet and kind != "error":
            return
        line = " ".join(safe(text).splitlines()) or "(no message)"
        style = {"error": "bold red", "warning": "yellow"}.get(kind, "")
        console = self.stderr()
        out = Text("tracelens: ")
        out.append(f"{kind}:", style=style)
        out.append(f" {line}")
        console.print(out, soft_wrap=True)


_current = Terminal()

# the severities of `check --format text`, coloured as ruff colours its diagnostics
_SEVERITY_STYLES = {r"\[error\]": "bold red", r"\[warning\]": "yellow", r"\[info\]": "cyan",
                    r"(?<=: )TL\d{3}(?= )": "bold", r"(?m)^[^\n]*?:\d+(?=: TL)": "bold", r"FAILED": "bold red",
                    r"passed(?=:)": "green"}


def coloured_diagnostics(text: str) -> Text:
    """Plain ``file:line: CODE name [severity] message`` lines (already safe) with their parts coloured."""
    out = Text(text)
    for pattern, style in _SEVERITY_STYLES.items():
        out.highlight_regex(pattern, style)
    return out


def configure(terminal: Terminal) -> None:
    """Set the terminal of this run (the command line does, from ``--color``)."""
    global _current
    _current = terminal


def terminal() -> Terminal:
    return _current


def stdout_console(width: int | None = None, *, wrap: bool = True) -> Console:
    return _current.stdout(width, wrap=wrap)


def stderr_console() -> Console:
    return _current.stderr()


def error(text: str) -> None:
    """``tracelens: error: TEXT`` on stderr."""
    _current.message("error", text)


def warning(text: str) -> None:
    """``tracelens: warning: TEXT`` on stderr (not with --quiet)."""
    _current.message("warning", text)


def note(text: str) -> None:
    """An informational line on stderr, as it is (not with --quiet)."""
    if not _current.quiet:
        _current.stderr().print(" ".join(safe(text).splitlines()), soft_wrap=True)
