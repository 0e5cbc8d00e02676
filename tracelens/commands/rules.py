"""CLI: ``tracelens rules``, every finding tracelens reports (a list, or the README's Markdown table)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from tracelens.commands.options import COLOR, Format, format_option
from tracelens.commands.output import Command
from tracelens.reporters.console import stdout_console


def _text() -> None:
    from tracelens.findings.rules import RULES

    console = stdout_console(wrap=False)
    for rule in RULES:
        console.print(f"{rule.code}  {rule.name:34} {rule.severity.value:8} {rule.summary()}", overflow="fold")


def _markdown() -> None:
    from tracelens.reporters.rules_doc import rules_markdown

    sys.stdout.write(rules_markdown())


WRITERS: dict[Format, Callable[[], None]] = {Format.TEXT: _text, Format.MARKDOWN: _markdown}


@click.command(cls=Command)
@format_option(WRITERS, Format.TEXT, "A list for the terminal, or the Markdown table the README carries.")
@COLOR
def rules(fmt: Format) -> None:
    """Every finding tracelens reports: code, name, severity and summary."""
    WRITERS[fmt]()
