"""Reporters: ``check --format gitlab``, a GitLab Code Quality report (the Code Climate issue subset GitLab reads)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from tracelens.findings.base import Finding, Severity
from tracelens.reporters.fingerprint import fingerprints

# NOTE: GitLab's severities are info, minor, major, critical and blocker. A tracelens error is a
# request that failed or a session that was lost, worth stopping a merge for, but not a broken build.
SEVERITY = {Severity.INFO: "info", Severity.WARNING: "minor", Severity.ERROR: "major"}


def report_path(path: str, cwd: Path) -> str:
    """The path GitLab links: relative to the current directory (the checkout) when it is inside it."""
    absolute = Path(os.path.abspath(path))
    try:
        shown = absolute.relative_to(cwd).as_posix() if os.path.isabs(path) else Path(path).as_posix()
    except ValueError:
        shown = absolute.as_posix()
    # a name that is not UTF-8 (decoded with surrogateescape) keeps its bytes as \xNN: JSON needs text
    return os.fsencode(shown).decode("utf-8", "backslashreplace")


def code_quality(findings: Sequence[Finding], inputs: Sequence[str], cwd: Path | None = None) -> list[dict[str, Any]]:
    """One issue per finding; a finding without a file (nor line) is placed on the first input's line 1."""
    here = (cwd or Path.cwd()).resolve()
    paths = [report_path(f.file or inputs[0], here) for f in findings]
    return [
        {
            "type": "issue",
            "check_name": f.code,
            "description": f"{f.code} {f.name}: {f.message}",
            "severity": SEVERITY[f.severity],
            "fingerprint": fingerprint,
            "location": {"path": path, "lines": {"begin": f.line or 1}},
        }
        for f, path, fingerprint in zip(findings, paths, fingerprints(findings, paths), strict=True)
    ]


def write_code_quality(findings: Sequence[Finding], inputs: Sequence[str], out: IO[str]) -> None:
    json.dump(code_quality(findings, inputs), out, ensure_ascii=False, indent=2)
    out.write("\n")
