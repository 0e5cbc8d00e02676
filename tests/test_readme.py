"""The README stays true: its findings table is the generated one, its set-up commands are the CI's."""

from __future__ import annotations

import re

from tests.conftest import ROOT, run_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_findings_table_is_generated_from_the_rules() -> None:
    table = re.search(r"<!-- rules:begin -->\n(.*?)<!-- rules:end -->", README, flags=re.DOTALL)
    assert table is not None
    generated = run_cli("rules", "--format", "markdown").stdout
    assert table.group(1) == generated, "regenerate with: tracelens rules --format markdown"


def test_exactly_two_setup_commands_and_ci_reads_them() -> None:
    assert README.count("<!-- setup:") == 2
    main = re.search(r"<!-- setup:main -->\n```sh\n(.+)\n```", README)
    tests = re.search(r"<!-- setup:tests -->\n```sh\n(.+)\n```", README)
    assert main and "tracelens analyze sample_logs/" in main.group(1)
    assert tests and tests.group(1).rstrip().endswith("pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "readme_command main" in ci and "readme_command tests" in ci
