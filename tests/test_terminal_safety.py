"""Log text reaches the terminal escaped: no rich markup, no escape sequences from a log."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from tests.conftest import SAMPLES, run_cli, write
from tracelens.api import analyze
from tracelens.reporters import progress, rich_report

# markup, a colour escape sequence and a bell in a member name (no `;`, which a name cannot contain)
EVIL = "[bold]evil[/bold]\x1b[31mpwned\x1b[0m\x07"


@pytest.fixture
def hostile_log(tmp_path: Path) -> Path:
    text = (SAMPLES / "failover-failback.log").read_text(encoding="utf-8")
    return write(tmp_path, "hostile.log", text.replace("was2Node_PluginMember2", EVIL))


def test_rich_report_escapes_markup_and_control_characters(hostile_log: Path) -> None:
    report = analyze([str(hostile_log)])
    assert any(EVIL in (f.message) for f in report.findings)  # the name did get through the analysis
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="truecolor", width=120)
    rich_report.render(report, console)
    out = buffer.getvalue()
    assert "\x1b[31mpwned" not in out and "\x07" not in out
    assert "\\x1b[31mpwned\\x1b[0m\\x07" in out
    assert "[bold]evil[/bold]" in out  # shown as text, not applied as a style


@pytest.mark.parametrize("command", ["analyze", "requests", "members", "session"])
def test_every_text_command_escapes_control_characters(hostile_log: Path, command: str) -> None:
    args = [command, str(hostile_log)] if command != "session" else [command, "IWuUT_zhR-gFYB-pOAk75Q5",
                                                                     str(hostile_log)]
    result = run_cli(*args)
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b" in result.stdout


@pytest.mark.parametrize(
    "args",
    [["check", "--format", "text"], ["check", "--format", "github"], ["check", "--format", "junit"], ["timeline"],
     ["timeline", "--width", "160"], ["timeline", "--session", "IWuUT_zhR-gFYB-pOAk75Q5"],
     ["parse", "--format", "table"]],
    ids=" ".join,
)
def test_check_timeline_and_parse_escape_control_characters(hostile_log: Path, args: list[str]) -> None:
    result = run_cli(*args, str(hostile_log))
    assert result.exit_code in (0, 1), result.stderr
    for raw in ("\x1b", "\x07"):
        assert raw not in result.stdout and raw not in result.stderr
    assert "\\x1b" in result.stdout or "\\x07" in result.stdout  # shown, escaped


def test_junit_with_a_hostile_name_is_still_xml(hostile_log: Path) -> None:
    import xml.etree.ElementTree as ET

    result = run_cli("check", "--format", "junit", str(hostile_log))
    ET.fromstring(result.stdout)  # a raw control character is not XML 1.0
    assert "\\x1b[31mpwned" in result.stdout


def test_check_text_shows_the_hostile_name_as_text(hostile_log: Path) -> None:
    result = run_cli("check", "--format", "text", str(hostile_log))
    assert "[bold]evil[/bold]\\x1b[31mpwned\\x1b[0m\\x07" in result.stdout


def test_hostile_unparsed_lines_and_file_names_stay_escaped(tmp_path: Path) -> None:
    # an escape sequence in a line that is not a record, and in the file's name
    lines = (SAMPLES / "failover-failback.log").read_text(encoding="utf-8").splitlines()
    path = write(tmp_path, "x\x1b]0;owned\x07.log", "\n".join([*lines, "\x1b[2J\x1b]0;title\x07 garbage"]) + "\n")
    for args in (["parse", "--summary"], ["parse", "--format", "table"], ["check"], ["check", "--format", "github"],
                 ["check", "--format", "junit"], ["analyze"], ["timeline"], ["requests"], ["members"],
                 ["analyze", "--strict"], ["check", "--strict"]):
        result = run_cli(*args, str(path))
        assert result.exit_code in (0, 1, 2), result.stderr
        for raw in ("\x1b", "\x07"):
            assert raw not in result.stdout and raw not in result.stderr, args


def test_progress_bar_only_on_a_terminal_outside_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    big = write(tmp_path, "big.log", b"x" * (progress.MIN_BYTES + 1))
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert progress.wanted([str(big)])
    monkeypatch.setenv("CI", "true")
    assert not progress.wanted([str(big)])
    monkeypatch.delenv("CI")
    assert not progress.wanted([str(SAMPLES / "failover-failback.log")])  # too small to be worth a bar
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    assert not progress.wanted([str(big)])


def test_progress_counts_records_as_they_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tracelens.read.reader import ReadStats

    big = write(tmp_path, "big.log", b"x" * (progress.MIN_BYTES + 1))
    monkeypatch.setattr(progress, "wanted", lambda paths: True)
    stats = ReadStats(bytes_read=4096)  # physical_lines is counted only when a file ends: still 0
    with progress.progress_bar([str(big)]) as update:
        assert update is not None
        update(stats, 20_000)
        task = progress_task(update)
    assert task.fields["lines"] == 20_000 and task.completed == 4096


def progress_task(update: object) -> object:
    # the Progress the callback updates, through its closure
    bar = next(c.cell_contents for c in update.__closure__ if hasattr(c.cell_contents, "tasks"))  # type: ignore[attr-defined]
    return bar.tasks[0]
