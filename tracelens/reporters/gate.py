"""Reporters for ``tracelens check``: text, statistics, JSON, JUnit XML and GitHub Actions annotations.

SARIF and GitLab Code Quality, the other machine formats of ``check``, are :mod:`tracelens.reporters.sarif`
and :mod:`tracelens.reporters.codequality`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from junitparser import Failure, JUnitXml, TestCase, TestSuite

from tracelens.findings.base import Finding, Rule, Severity
from tracelens.report import SCHEMA_VERSION
from tracelens.reporters.console import safe
from tracelens.reporters.shapes import finding_dict, where
from tracelens.reporters.xmltext import xml_text

#: ``--max-annotations``: GitHub shows only the first annotations of a step, so a rule with hundreds of
#: findings would hide every other rule's.
MAX_ANNOTATIONS = 50


def _where(f: Finding) -> str:
    if f.file and f.line:
        return f"{f.file}:{f.line}"
    return f.file or "-"


def write_text(findings: Sequence[Finding], fail_on: Severity, failed: bool, out: IO[str], *,
               quiet: bool = False, exit_zero: bool = False) -> None:
    for f in findings:
        out.write(safe(f"{_where(f)}: {f.code} {f.name} [{f.severity.value}] {f.message}") + "\n")
    if not quiet:
        out.write(summary_line(findings, fail_on, failed, exit_zero=exit_zero))


def summary_line(findings: Sequence[Finding], fail_on: Severity, failed: bool, *, exit_zero: bool = False) -> str:
    at_or_above = sum(1 for f in findings if f.severity.rank >= fail_on.rank)
    verdict = "FAILED" if failed else "passed"
    tail = " (exit 0: --exit-zero)" if failed and exit_zero else ""
    return (f"tracelens check {verdict}: {len(findings)} finding(s), {at_or_above} at or above "
            f"--fail-on {fail_on.value}{tail}\n")


@dataclass(frozen=True, slots=True)
class RuleCount:
    """One line of ``--statistics``: a rule, how many findings it made, the highest severity among them."""

    code: str
    name: str
    severity: Severity
    count: int


def statistics(findings: Sequence[Finding]) -> list[RuleCount]:
    """One entry per rule with findings, the most frequent first (then by code), as ``ruff --statistics``."""
    counts = Counter(f.code for f in findings)
    first: dict[str, Finding] = {}
    worst: dict[str, Severity] = {}
    for f in findings:
        first.setdefault(f.code, f)
        if f.code not in worst or f.severity.rank > worst[f.code].rank:
            worst[f.code] = f.severity
    ordered = sorted(counts, key=lambda code: (-counts[code], code))
    return [RuleCount(code, first[code].name, worst[code], counts[code]) for code in ordered]


def write_statistics(findings: Sequence[Finding], fail_on: Severity, failed: bool, out: IO[str], *,
                     quiet: bool = False, exit_zero: bool = False) -> None:
    rows = statistics(findings)
    count_width = max((len(str(r.count)) for r in rows), default=1)
    name_width = max((len(r.name) for r in rows), default=0)
    for r in rows:
        out.write(f"{r.count:>{count_width}}  {r.code}  {r.name:<{name_width}}  [{r.severity.value}]\n")
    if not quiet:
        out.write(summary_line(findings, fail_on, failed, exit_zero=exit_zero))


def write_json(findings: Sequence[Finding], fail_on: Severity, failed: bool, exit_code: int, out: IO[str], *,
               with_statistics: bool = False) -> None:
    data: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "fail_on": fail_on.value, "failed": failed,
                            "exit_code": exit_code, "findings": [finding_dict(f) for f in findings]}
    if with_statistics:
        data["statistics"] = [{"code": r.code, "name": r.name, "severity": r.severity.value, "count": r.count}
                              for r in statistics(findings)]
    json.dump(data, out, ensure_ascii=False, indent=2)
    out.write("\n")


def write_junit(findings: Sequence[Finding], rules: Sequence[type[Rule]], fail_on: Severity, out: IO[str],
                timestamp: datetime) -> None:
    """One test case per finding, a failure when it is at or above the threshold; a passing one per quiet rule.

    NOTE: one test case per finding, not per rule, because Jenkins, Azure DevOps and the common JUnit
    actions show only the first ``<failure>`` of a test case. The class name is the rule, so the
    findings of a rule are grouped; the test name is where the finding is (``file:line``), with
    `` (2)``, ... when one rule finds several things at the same place (readers merge equal names).
    """
    suite = TestSuite("tracelens")
    # the time the check ran, with its offset, as pytest writes it
    suite.timestamp = timestamp.isoformat(timespec="seconds")
    by_code: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_code[f.code].append(f)
    for rule in rules:
        mine = by_code.get(rule.code, [])
        classname = xml_text(f"{rule.code} {rule.name}")
        if not mine:
            suite.add_testcase(TestCase("no findings", classname=classname))
            continue
        seen: Counter[str] = Counter()
        for f in mine:
            where = _where(f)
            seen[where] += 1
            name = where if seen[where] == 1 else f"{where} ({seen[where]})"
            case = TestCase(xml_text(name), classname=classname)
            if f.severity.rank >= fail_on.rank:
                failure = Failure(xml_text(f"{where}: {f.message}"), f.severity.value)
                failure.text = xml_text(_details(f))
                case.result = [failure]
            else:
                case.system_out = xml_text(f"[{f.severity.value}, below --fail-on {fail_on.value}] {_details(f)}")
            suite.add_testcase(case)
    suite.update_statistics()
    xml = JUnitXml("tracelens")
    xml.add_testsuite(suite)
    xml.update_statistics()
    out.write('<?xml version="1.0" encoding="utf-8"?>\n')
    out.write(xml.tostring().decode("utf-8"))
    out.write("\n")


def _details(f: Finding) -> str:
    parts = [f"{f.code} {f.name} ({f.severity.value})", f.message]
    for label, value in (("file", f.file), ("line", f.line), ("pid", f.pid), ("member", f.member),
                         ("session", f.session)):
        if value is not None:
            parts.append(f"{label}: {value}")
    if f.evidence:
        parts.append("evidence: " + ", ".join(where(file, line) for file, line in f.evidence))
    parts.append(f"tracelens explain {f.code}")
    return "\n".join(parts)


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def write_github(findings: Sequence[Finding], out: IO[str], *, max_annotations: int = MAX_ANNOTATIONS,
                 quiet: bool = False) -> None:
    """GitHub Actions workflow commands: the first ``max_annotations`` findings of each rule as annotations.

    Then one plain line per rule with findings: how many it made and how many were annotated, so that
    the rest is counted in the log though GitHub would not show it.
    """
    shown: Counter[str] = Counter()
    for f in findings:
        if shown[f.code] >= max_annotations:
            continue
        shown[f.code] += 1
        props = []
        if f.file:
            props.append(f"file={_gh_property(safe(f.file))}")
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={_gh_property(f'{f.code} {f.name}')}")
        out.write(f"::{_GITHUB_LEVEL[f.severity]} {','.join(props)}::{_gh_data(safe(f.message))}\n")
    if quiet:
        return
    for r in statistics(findings):
        hidden = r.count - shown[r.code]
        rest = f", {hidden} more not annotated (--max-annotations {max_annotations})" if hidden else ""
        out.write(f"{r.code} {r.name}: {r.count} finding(s) [{r.severity.value}], "
                  f"{shown[r.code]} annotated{rest}\n")
