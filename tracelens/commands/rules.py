"""CLI: ``tracelens rules``, every finding tracelens reports (a list, or the README's Markdown table)."""

from __future__ import annotations

import sys

import click

from tracelens.commands.options import COLOR
from tracelens.commands.output import Command
from tracelens.reporters.console import stdout_console


@click.command(cls=Command)
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
