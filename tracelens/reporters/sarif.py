"""Reporters: ``check --format sarif``, SARIF 2.1.0 for GitHub code scanning, GitLab and other SARIF viewers."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from tracelens import __version__
from tracelens.findings.base import Finding, Rule, Severity
from tracelens.reporters.fingerprint import fingerprints

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def artifact_location(path: str, cwd: Path) -> dict[str, str]:
    """A path as SARIF wants it: a relative URI under ``%SRCROOT%`` (the current directory) when it is
    there, else an absolute ``file:`` URI; percent-encoded from the path's bytes."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(cwd)
    except ValueError:
        return {"uri": "file://" + _quote(absolute.as_posix())}
    return {"uri": _quote(relative.as_posix()), "uriBaseId": SRCROOT}


def _quote(path: str) -> str:
    # NOTE: from the bytes of the name, so that a name that is not UTF-8 (decoded with surrogateescape)
    # becomes its own percent-escapes instead of an encoding error
    return quote(os.fsencode(path), safe="/")


def _rule(rule: type[Rule]) -> dict[str, Any]:
    sections = rule.sections()
    text = "\n\n".join(f"{title}:\n{' '.join(body.split())}" for title, body in sections.items())
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary()},
        "fullDescription": {"text": " ".join(sections.get("What it finds", rule.summary()).split())},
        "help": {"text": text or rule.summary()},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": [rule.name.split(".")[0]]},
    }


def sarif_log(findings: Sequence[Finding], rules: Sequence[type[Rule]], inputs: Sequence[str], exit_code: int,
              cwd: Path | None = None) -> dict[str, Any]:
    """The SARIF log object: one run, the reported rules as the driver's rules, a result per finding.

    A finding without a file (a topology inferred from the trace has no file of its own) is placed on
    the first input: GitHub code scanning refuses a result without a location.
    """
    here = (cwd or Path.cwd()).resolve()
    index = {rule.code: i for i, rule in enumerate(rules)}
    results = []
    places = [artifact_location(f.file or inputs[0], here) for f in findings]
    paths = [where["uri"] for where in places]
    for f, where, fingerprint in zip(findings, places, fingerprints(findings, paths), strict=True):
        physical: dict[str, Any] = {"artifactLocation": where}
        if f.line:
            physical["region"] = {"startLine": f.line}
        result: dict[str, Any] = {
            "ruleId": f.code,
            "level": _LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": physical}],
            "partialFingerprints": {"tracelens/v1": fingerprint},
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        if f.evidence:
            result["relatedLocations"] = [
                {"id": i, "message": {"text": "evidence"},
                 "physicalLocation": {"artifactLocation": artifact_location(file, here),
                                      "region": {"startLine": line}}}
                for i, (file, line) in enumerate(f.evidence) if line > 0]
        props = {k: v for k, v in (("pid", f.pid), ("member", f.member), ("session", f.session)) if v is not None}
        if props:
            result["properties"] = props
        results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tracelens", "version": __version__, "semanticVersion": __version__,
                                "rules": [_rule(r) for r in rules]}},
            "originalUriBaseIds": {SRCROOT: {"uri": "file://" + _quote(here.as_posix().rstrip("/") + "/")}},
            "invocations": [{"executionSuccessful": True, "exitCode": exit_code}],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def write_sarif(findings: Sequence[Finding], rules: Sequence[type[Rule]], inputs: Sequence[str], exit_code: int,
                out: IO[str]) -> None:
    json.dump(sarif_log(findings, rules, inputs, exit_code), out, ensure_ascii=False, indent=2)
    out.write("\n")
