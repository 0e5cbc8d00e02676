"""Reporters: the one owner of the rich consoles, and text made safe for a terminal.

Reports go to stdout, messages to stderr. Text that comes from a log (server names, URIs, cookie
values) is shown through :func:`safe`, never as rich markup: a log must not be able to colour,
move the cursor of, or retitle the terminal of the person reading it.
"""

from __future__ import annotations

import os
import re
import sys

from rich.console import Console
from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escape_control(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def safe(text: str) -> str:
    """``text`` with every control character shown as ``\\xNN``."""
    return _CONTROL.sub(_escape_control, text)


def safe_text(text: str, style: str = "") -> Text:
    """A rich Text (never parsed as markup) of ``text`` made safe."""
    return Text(safe(text), style=style)


def _color_system_wanted() -> bool:
    return "NO_COLOR" not in os.environ


def stdout_console(width: int | None = None) -> Console:
    return Console(
        file=sys.stdout,
        width=width,
        highlight=False,
        markup=False,
        emoji=False,
        no_color=not _color_system_wanted(),
        soft_wrap=False,
    )


def stderr_console() -> Console:
    return Console(file=sys.stderr, highlight=False, markup=False, emoji=False, no_color=not _color_system_wanted())
