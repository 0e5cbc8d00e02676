"""Reporters for ``tracelens check``: text, JSON, JUnit XML (Jenkins, GitLab) and GitHub Actions annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO, Any

from junitparser import Failure, JUnitXml, TestCase, TestSuite

from tracelens.findings.base import Finding, Rule, Severity
from tracelens.reporters.console import safe
from tracelens.reporters.json_report import finding_dict
from tracelens.reporters.records import where


def _where(f: Finding) -> str:
    if f.file and f.line:
        return f"{f.file}:{f.line}"
    return f.file or "-"


def write_text(findings: Sequence[Finding], fail_on: Severity, failed: bool, out: IO[str]) -> None:
    for f in findings:
        out.write(safe(f"{_where(f)}: {f.code} {f.name} [{f.severity.value}] {f.message}") + "\n")
    out.write(summary_line(findings, fail_on, failed))


def summary_line(findings: Sequence[Finding], fail_on: Severity, failed: bool) -> str:
    at_or_above = sum(1 for f in findings if f.severity.rank >= fail_on.rank)
    verdict = "FAILED" if failed else "passed"
    return (f"tracelens check {verdict}: {len(findings)} finding(s), {at_or_above} at or above "
            f"--fail-on {fail_on.value}\n")


def write_json(findings: Sequence[Finding], fail_on: Severity, failed: bool, exit_code: int, out: IO[str]) -> None:
    json.dump({"schema_version": 1, "fail_on": fail_on.value, "failed": failed, "exit_code": exit_code,
               "findings": [finding_dict(f) for f in findings]}, out, ensure_ascii=False, indent=2)
    out.write("\n")


def write_junit(findings: Sequence[Finding], rules: Sequence[type[Rule]], fail_on: Severity, out: IO[str]) -> None:
    """One test case per rule; a failure per finding at or above the threshold, the others in system-out."""
    suite = TestSuite("tracelens")
    for rule in rules:
        case = TestCase(f"{rule.code} {rule.name}", classname=f"tracelens.{rule.name.split('.')[0]}")
        mine = [f for f in findings if f.code == rule.code]
        failing = [f for f in mine if f.severity.rank >= fail_on.rank]
        results: list[Any] = []  # junitparser's result types: Failure here
        for f in failing:
            # NOTE: through safe(): a control character from the log is neither a terminal escape nor
            # valid XML 1.0 (the report would not parse)
            failure = Failure(safe(f"{_where(f)}: {f.message}"), f.severity.value)
            failure.text = safe(_details(f))
            results.append(failure)
        case.result = results
        below = [f for f in mine if f.severity.rank < fail_on.rank]
        if below:
            case.system_out = safe("\n".join(f"{_where(f)}: [{f.severity.value}, below --fail-on {fail_on.value}] "
                                             f"{f.message}" for f in below))
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


def write_github(findings: Sequence[Finding], out: IO[str]) -> None:
    """GitHub Actions workflow commands: every finding becomes an annotation on its file and line."""
    for f in findings:
        props = []
        if f.file:
            props.append(f"file={_gh_property(safe(f.file))}")
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={_gh_property(f'{f.code} {f.name}')}")
        out.write(f"::{_GITHUB_LEVEL[f.severity]} {','.join(props)}::{_gh_data(safe(f.message))}\n")
