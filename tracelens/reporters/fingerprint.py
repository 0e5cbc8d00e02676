"""Reporters: a fingerprint per finding that stays the same from run to run, for CI systems to track findings."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

from tracelens.findings.base import Finding


def fingerprints(findings: Sequence[Finding], paths: Sequence[str]) -> list[str]:
    """A SHA-256 of each finding's rule, place and message; the same input gives the same fingerprints.

    ``paths`` are the findings' files as the report shows them (relative to the checkout), so that the
    fingerprint does not change with the directory the check ran in.

    NOTE: GitLab merges findings with equal fingerprints and code scanning matches results by them
    between runs, so two equal findings get an occurrence number in their hash to stay two.
    """
    seen: Counter[tuple[str, str, int, str]] = Counter()
    out = []
    for f, path in zip(findings, paths, strict=True):
        key = (f.code, path, f.line or 0, f.message)
        seen[key] += 1
        text = "\0".join((*map(str, key), str(seen[key])))
        out.append(hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest())
    return out
