"""CLI: ``tracelens explain``, the documentation of one finding."""

from __future__ import annotations

import click

from tracelens.commands.options import COLOR
from tracelens.commands.output import Command
from tracelens.errors import TracelensError
from tracelens.reporters.console import stdout_console


@click.command(cls=Command)
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
