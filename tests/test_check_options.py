"""`tracelens check`'s options as ruff users expect them: statistics, exit-zero, extend-*, settings, output file."""

from __future__ import annotations

import json
import os
import re
import stat
import threading
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES, run_cli, write
from tracelens.findings.rules import RULES

FAILOVER = str(SAMPLES / "failover-failback.log")
SUMMARY = "tracelens check FAILED: 3 finding(s), 2 at or above --fail-on warning"


@pytest.fixture(autouse=True)
def _no_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _codes(stdout: str) -> set[str]:
    return {f["code"] for f in json.loads(stdout)["findings"]}


def _three_processes(tmp_path: Path) -> str:
    text = (SAMPLES / "failover-failback.log").read_text(encoding="utf-8")
    log = write(tmp_path, "three.log", "".join(text.replace("00001a2c", pid)
                                               for pid in ("00001a2c", "00002b3d", "00003c4e")))
    return str(log)


# --- --statistics ------------------------------------------------------------------------------------


def test_statistics_one_line_per_rule_most_frequent_first(tmp_path: Path) -> None:
    result = run_cli("check", "--statistics", _three_processes(tmp_path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "3  TL001  affinity.failover            [warning]",
        "3  TL002  affinity.failback            [info]",
        "3  TL101  availability.member-down     [warning]",
        "1  TL005  affinity.process-divergence  [warning]",
        "tracelens check FAILED: 10 finding(s), 7 at or above --fail-on warning",
    ]


def test_statistics_in_json_and_refused_with_other_formats(tmp_path: Path) -> None:
    data = json.loads(run_cli("check", "--statistics", "--format", "json", _three_processes(tmp_path)).stdout)
    assert data["statistics"][0] == {"code": "TL001", "name": "affinity.failover", "severity": "warning", "count": 3}
    assert sum(s["count"] for s in data["statistics"]) == len(data["findings"]) == 10
    result = run_cli("check", "--statistics", "--format", "sarif", FAILOVER)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == "tracelens: error: --statistics works with --format text or json, not sarif"


# --- --exit-zero and --quiet -----------------------------------------------------------------------


def test_exit_zero_reports_but_passes() -> None:
    result = run_cli("check", "--exit-zero", FAILOVER)
    assert result.exit_code == 0
    assert f"{SUMMARY} (exit 0: --exit-zero)" in result.stdout
    assert json.loads(run_cli("check", "--exit-zero", "--format", "json", FAILOVER).stdout)["exit_code"] == 0


def test_exit_zero_keeps_input_errors(tmp_path: Path) -> None:
    result = run_cli("check", "--exit-zero", str(tmp_path / "missing.log"))
    assert result.exit_code == 2 and "tracelens: error:" in result.stderr


def test_quiet_prints_only_the_findings(tmp_path: Path) -> None:
    result = run_cli("check", "--quiet", FAILOVER)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and all(re.match(r".+:\d+: TL\d{3} ", x) for x in lines)
    github = run_cli("check", "-q", "--format", "github", FAILOVER).stdout.splitlines()
    assert len(github) == 3 and all(x.startswith("::") for x in github)


# --- --extend-select / --extend-ignore ---------------------------------------------------------------


def test_extend_select_adds_to_the_settings_file_select(tmp_path: Path) -> None:
    write(tmp_path, ".tracelens.toml", 'select = ["availability"]\nformat = "json"\n')
    assert _codes(run_cli("check", FAILOVER).stdout) == {"TL101"}
    assert _codes(run_cli("check", "--extend-select", "TL001", FAILOVER).stdout) == {"TL101", "TL001"}
    # --select replaces the file's select
    assert _codes(run_cli("check", "--select", "TL002", FAILOVER).stdout) == {"TL002"}


def test_extend_ignore_adds_to_the_settings_file_ignore(tmp_path: Path) -> None:
    write(tmp_path, ".tracelens.toml", 'ignore = ["TL002"]\nformat = "json"\n')
    assert _codes(run_cli("check", "--extend-ignore", "availability", FAILOVER).stdout) == {"TL001"}
    # --ignore replaces the file's ignore
    assert _codes(run_cli("check", "--ignore", "TL001", FAILOVER).stdout) == {"TL002", "TL101"}


def test_extend_keys_in_the_settings_file(tmp_path: Path) -> None:
    write(tmp_path, ".tracelens.toml",
          'select = ["TL101"]\nextend-select = ["affinity"]\nextend-ignore = ["TL002"]\nformat = "json"\n')
    assert _codes(run_cli("check", FAILOVER).stdout) == {"TL001", "TL101"}


def test_extend_select_typo_is_an_error() -> None:
    result = run_cli("check", "--extend-select", "afinity", FAILOVER)
    assert result.exit_code == 2 and "no finding matches 'afinity'" in result.stderr


# --- --show-settings and --isolated --------------------------------------------------------------------


def test_show_settings_says_where_each_value_came_from(tmp_path: Path) -> None:
    path = write(tmp_path, ".tracelens.toml", 'fail-on = "error"\nselect = ["affinity"]\nextend-ignore = ["TL002"]\n')
    result = run_cli("check", "--show-settings", "--format", "junit", "--extend-ignore", "TL003")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"# settings file: {path.resolve()}"
    assert f'fail-on = "error"  # {path.resolve()}' in lines
    assert 'format = "junit"  # command line' in lines
    assert 'affinity-miss = "load-balance"  # default' in lines
    assert "max-annotations = 50  # default" in lines
    assert f'extend-ignore = ["TL002", "TL003"]  # {path.resolve()} + command line' in lines
    assert "# config: not set (default)" in lines
    assert lines[-1] == "# rules reported (4): TL001, TL004, TL005, TL006"


def test_isolated_ignores_the_settings_file(tmp_path: Path) -> None:
    write(tmp_path, ".tracelens.toml", 'fail-on = "error"\n')
    assert run_cli("check", FAILOVER).exit_code == 0
    assert run_cli("check", "--isolated", FAILOVER).exit_code == 1
    shown = run_cli("check", "--isolated", "--show-settings").stdout
    assert "# settings file: none read (--isolated)" in shown and 'fail-on = "warning"  # default' in shown


def test_isolated_does_not_even_read_a_broken_settings_file(tmp_path: Path) -> None:
    write(tmp_path, ".tracelens.toml", "fail-on = \n")
    assert run_cli("check", FAILOVER).exit_code == 2
    assert run_cli("check", "--isolated", FAILOVER).exit_code == 1


def test_files_are_needed_unless_showing_settings() -> None:
    result = run_cli("check")
    assert result.exit_code == 2 and "FILE" in result.stderr


# --- --output-file ---------------------------------------------------------------------------------


def test_output_file_holds_the_report_and_stdout_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out" / "tracelens.sarif"
    target.parent.mkdir()
    result = run_cli("check", "--format", "sarif", "--output-file", str(target), FAILOVER)
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert os.listdir(target.parent) == ["tracelens.sarif"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_output_file_left_as_it_was_when_the_input_fails(tmp_path: Path) -> None:
    target = write(tmp_path, "report.xml", "<previous/>")
    target.chmod(0o640)
    result = run_cli("check", "--format", "junit", "-o", str(target), str(tmp_path / "missing.log"))
    assert result.exit_code == 2
    assert target.read_text(encoding="utf-8") == "<previous/>"
    assert sorted(os.listdir(tmp_path)) == ["report.xml"]
    # a successful run replaces it and keeps its permissions
    assert run_cli("check", "--format", "junit", "-o", str(target), FAILOVER).exit_code == 1
    assert target.read_text(encoding="utf-8").startswith("<?xml")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_output_file_left_as_it_was_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracelens.reporters import gate

    target = write(tmp_path, "report.txt", "previous report\n")

    def full_disk(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gate, "write_text", full_disk)
    result = run_cli("check", "--output-file", str(target), FAILOVER)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"tracelens: error: {target}: No space left on device"
    assert target.read_text(encoding="utf-8") == "previous report\n"
    assert os.listdir(tmp_path) == ["report.txt"]


def test_output_file_interrupted_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracelens.reporters import gate

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(gate, "write_json", interrupted)
    result = run_cli("check", "--format", "json", "--output-file", str(tmp_path / "r.json"), FAILOVER)
    assert result.exit_code == 130
    assert os.listdir(tmp_path) == []


def test_output_file_refuses_a_directory_and_a_read_only_file(tmp_path: Path) -> None:
    result = run_cli("check", "-o", str(tmp_path), FAILOVER)
    assert result.exit_code == 2 and "is a directory" in result.stderr
    locked = write(tmp_path, "locked.txt", "keep me\n")
    locked.chmod(0o444)
    result = run_cli("check", "-o", str(locked), FAILOVER)
    assert result.exit_code == 2 and result.stderr.strip() == f"tracelens: error: {locked}: is read-only; not replaced"
    assert locked.read_text(encoding="utf-8") == "keep me\n"


def test_output_file_to_a_fifo_is_written_not_replaced(tmp_path: Path) -> None:
    # NOTE: a FIFO of the test's own, not /dev/null: a regression would rename a file over the device
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = run_cli("check", "--output-file", str(fifo), FAILOVER)
    reader.join(timeout=60)
    assert result.exit_code == 1 and result.stdout == ""
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received and received[0].decode("utf-8").endswith(SUMMARY + "\n")


# --- documented ------------------------------------------------------------------------------------


def test_every_check_option_is_in_help_and_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## In CI: `tracelens check`"):readme.index("## Findings")]
    help_text = run_cli("check", "--help").stdout
    options = ("--output-file", "--quiet", "--statistics", "--exit-zero", "--extend-select", "--extend-ignore",
               "--show-settings", "--isolated", "--max-annotations")
    for option in options:
        assert option in help_text and option in section, option
    for fmt in ("sarif", "gitlab"):
        assert fmt in help_text and f"--format {fmt}" in section, fmt


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("max-annotations = -1\n", "`max-annotations` must be a whole number, 0 or more"),
        ("max-annotations = true\n", "`max-annotations` must be a whole number, 0 or more"),
        ('max-annotations = "10"\n', "`max-annotations` must be a whole number, 0 or more"),
        ('extend-select = "TL001"\n', "`extend-select` must be a list of codes or names"),
        ("extend-ignore = [1]\n", "`extend-ignore` must be a list of codes or names"),
        ('extend-select = ["TL9"]\n', "no finding matches 'TL9'"),
    ],
)
def test_bad_new_settings_are_one_line_and_exit_2(tmp_path: Path, content: str, message: str) -> None:
    write(tmp_path, ".tracelens.toml", content)
    result = run_cli("check", FAILOVER)
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_show_settings_without_a_settings_file() -> None:
    result = run_cli("check", "--show-settings", "--fail-on", "error")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "# settings file: none found (.tracelens.toml or [tool.tracelens] in pyproject.toml)"
    assert 'fail-on = "error"  # command line' in lines and 'select = []  # default' in lines
    assert lines[-1] == f"# rules reported ({len(RULES)}): {', '.join(r.code for r in RULES)}"


def test_the_default_annotation_cap_is_the_reporters() -> None:
    from tracelens.commands.check import DEFAULTS
    from tracelens.reporters.gate import MAX_ANNOTATIONS

    assert DEFAULTS["max-annotations"] == MAX_ANNOTATIONS
