"""No log text starts a line of its own in any output: a CI log must not read a workflow command in it.

In a CR-only log the reader decides the line end from the first 64 KiB, so an LF further on stays
inside a record; a cookie value holding ``\\n::error::X`` then reached standard output raw, and a CI
runner (GitHub Actions) took the line for a workflow command (``::add-mask::`` too). U+2028 and
U+2029 are line breaks to other readers, and the bidirectional overrides reorder what a terminal
shows. Every command, in every text format, is run on such a log: the only lines starting with ``::``
are ``check --format github``'s own annotations, and no output holds those characters raw.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_cli, write
from tracelens.reporters.console import safe

SAMPLE = (SAMPLES / "failover-failback.log").read_text(encoding="utf-8").splitlines()
SESSION = "IWuUT_zhR-gFYB-pOAk75Q5"
COOKIE = "value='0002IWuUT_zhR-gFYB-pOAk75Q5:v544d031:v544d0o0'"
RAW = ["\n", "\r", "\u2028", "\u2029", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]
HOSTILE = "value='0002IWuUT\n::error::X\u2028::add-mask::Y\u2029::warning::Z\u202eLIVE\u2066R\u2069'"

#: every command, in each of its text formats, and the JSON outputs that go to a terminal
COMMANDS = {
    "analyze": ["analyze"], "analyze-json": ["analyze", "--format", "json"],
    "requests-jsonl": ["requests", "--format", "jsonl"],
    "check": ["check"], "check-github": ["check", "--format", "github"],
    "parse": ["parse"], "parse-table": ["parse", "--format", "table"], "parse-summary": ["parse", "--summary"],
    "requests": ["requests"], "members": ["members"], "timeline": ["timeline"],
    "session": ["session", SESSION],
}
ANNOTATION = re.compile(r"::(error|warning|notice) [^\n]*::")


@pytest.fixture(scope="module")
def cr_only_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample repeated past 64 KiB with CR line ends, then once more with the hostile cookie."""
    lines: list[str] = []
    while sum(len(line) + 1 for line in lines) < 70_000:
        lines.extend(SAMPLE)
    assert sum(COOKIE in line for line in SAMPLE) == 2
    lines.extend(line.replace(COOKIE, HOSTILE) for line in SAMPLE)
    text = "\r".join(lines) + "\r"
    assert text.index("\n") > 65_536
    return write(tmp_path_factory.mktemp("lines"), "cr-only.log", text.encode("utf-8"))


@pytest.mark.parametrize("name", COMMANDS)
def test_no_log_text_starts_a_line_of_any_output(cr_only_log: Path, name: str) -> None:
    args = COMMANDS[name]
    result = run_cli(*args, str(cr_only_log))
    assert result.exit_code in (0, 1), result.stderr
    for stream in (result.stdout, result.stderr):
        for line in stream.split("\n"):
            if line.startswith("::"):
                assert name == "check-github" and ANNOTATION.match(line), line
            assert not any(c in line for c in RAW), repr(line)
    # the records holding the cookie are shown, escaped (JSON lines in JSON's own escapes)
    if name == "parse":
        assert "\\n::error::X\\u2028::add-mask::Y\\u2029::warning::Z\\u202eLIVE" in result.stdout
    elif name.startswith("parse"):
        assert "\\x0a::error::X\\u2028::add-mask::Y\\u2029::war" in result.stdout  # the summary cuts at 160


def test_safe_escapes_line_breaks_and_bidirectional_controls() -> None:
    assert safe("a\nb\rc\u2028d\u2029e") == "a\\x0ab\\x0dc\\u2028d\\u2029e"
    assert safe("\u202aA\u202b\u202c\u202d\u202eB\u2066\u2067\u2068\u2069") == (
        "\\u202aA\\u202b\\u202c\\u202d\\u202eB\\u2066\\u2067\\u2068\\u2069")
    assert safe("tab\tstays, and so does Zürich01 and 東京") == "tab\tstays, and so does Zürich01 and 東京"
