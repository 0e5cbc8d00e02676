"""Findings stage: which rules a run reports (--select / --ignore) and whether it fails (--fail-on)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

from tracelens.errors import TracelensError
from tracelens.findings.base import Finding, Rule, Severity
from tracelens.findings.rules import RULES


def _matches(rule: type[Rule], selector: str) -> bool:
    """A selector is a code (TL001), a name (affinity.failover), a group (affinity) or a glob (config.*)."""
    s = selector.strip().lower()
    if s in (rule.code.lower(), rule.name):
        return True
    if rule.name.startswith(s + ".") or (rule.code.lower().startswith(s) and len(s) < 5):
        return True  # a group name (`affinity`) or a code prefix (`TL1`)
    return fnmatch.fnmatchcase(rule.name, s) or fnmatch.fnmatchcase(rule.code.lower(), s)


def selected_rules(select: Sequence[str] = (), ignore: Sequence[str] = (),
                   extend_select: Sequence[str] = ()) -> list[type[Rule]]:
    """The rules a run reports: the selected ones (all when none is selected) and the ``extend_select``
    ones, minus the ignored ones. Ignoring wins over selecting.

    A selector that matches no rule is a usage error: a typo must not silently switch a gate off.
    """
    for selector in (*select, *extend_select, *ignore):
        if not any(_matches(r, selector) for r in RULES):
            raise TracelensError(f"no finding matches {selector!r}; `tracelens rules` lists them")
    chosen = [r for r in RULES if not select or any(_matches(r, s) for s in (*select, *extend_select))]
    return [r for r in chosen if not any(_matches(r, s) for s in ignore)]


def split_selectors(values: Iterable[str]) -> list[str]:
    """``--select a,b --select c`` -> ["a", "b", "c"]."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def keep(findings: Sequence[Finding], rules: Sequence[type[Rule]]) -> list[Finding]:
    codes = {r.code for r in rules}
    return [f for f in findings if f.code in codes]


def fails(findings: Sequence[Finding], fail_on: Severity) -> bool:
    return any(f.severity.rank >= fail_on.rank for f in findings)
