"""Reporter: the findings reference, generated from the rules' own docstrings (never written twice)."""

from __future__ import annotations

from tracelens.findings.rules import RULES


def rules_markdown() -> str:
    """The README's findings table."""
    rows = ["| code | name | severity | what it finds |", "|---|---|---|---|"]
    rows += [f"| {r.code} | `{r.name}` | {r.severity.value} | {r.summary()} |" for r in RULES]
    return "\n".join(rows) + "\n"
