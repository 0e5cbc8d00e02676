"""`tracelens parse` as a user runs it: output shapes, accounting, one-line errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_cli, write

FAILOVER = str(SAMPLES / "failover-failback.log")


def test_jsonl_has_common_and_own_fields() -> None:
    result = run_cli("parse", FAILOVER)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 190
    mark = next(r for r in rows if r["kind"] == "marked_down")
    assert mark == {
        "kind": "marked_down", "file": FAILOVER, "line": 63, "time": "2004-06-07T10:15:20", "pid": "00001a2c",
        "tid": "00000f10", "level": "ERROR", "component": "ws_server", "function": "serverSetFailoverStatus",
        "server": "was1node_PluginMember1",
    }
    assert {"kind", "file", "line", "time", "pid", "tid", "level"} <= set(rows[0])


def test_summary_counts_kinds_and_reconciles() -> None:
    result = run_cli("parse", "--summary", FAILOVER, str(SAMPLES / "stats-85.log"))
    assert result.exit_code == 0
    out = result.stdout
    assert "every non-blank line is accounted for: 241 lines - 0 blank + 0 split - 0 joined = 241 records" in out
    assert "unparsed 0" in out
    assert "marked_down " in out


def test_summary_lists_unparsed_lines(tmp_path: Path) -> None:
    p = write(tmp_path, "mixed.log", "[Wed Dec 03 17:17:12 2014] 00001220 000012a4 - TRACE: errno 0\ngarbage here\n")
    result = run_cli("parse", "--summary", str(p))
    assert result.exit_code == 0
    assert "unparsed 1" in result.stdout
    assert f"{p}:2: no record header" in result.stdout


def test_table_format() -> None:
    result = run_cli("parse", "--format", "table", str(SAMPLES / "real-05-technote-stats-not-balancing-evenly.log"))
    assert result.exit_code == 0
    assert "server_stats" in result.stdout and "server=Node02_member2" in result.stdout


def test_stdin(tmp_path: Path) -> None:
    data = (SAMPLES / "real-05-technote-stats-not-balancing-evenly.log").read_bytes()
    result = run_cli("parse", "-", input=data)
    assert result.exit_code == 0
    assert [json.loads(x)["file"] for x in result.stdout.splitlines()] == ["<stdin>", "<stdin>"]


def test_lenient_reads_documentation_excerpts() -> None:
    result = run_cli("parse", "--lenient", "--summary", str(SAMPLES / "real-03-redbook-ex9-8-ordered-routing.log"))
    assert result.exit_code == 0
    assert "22 lines - 0 blank + 0 split - 10 joined = 12 records" in result.stdout
    assert "unparsed 0" in result.stdout


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: str(d / "nope.log"), "no such file"),
        (lambda d: str(d), "is a directory"),
        (lambda d: str(write(d, "empty.log", "")), "empty input"),
        (lambda d: str(write(d, "bin.dat", bytes(range(256)) * 100)), "binary data"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, setup, message: str) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("parse", setup(tmp_path))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracelens: error:") and message in lines[0]
    assert "Traceback" not in result.stderr


def test_garbage_text_becomes_unparsed_records_not_an_error(tmp_path: Path) -> None:
    p = write(tmp_path, "noise.log", "hello\nworld\n\x01\x02 mostly text\n")
    result = run_cli("parse", str(p))
    assert result.exit_code == 0
    assert [json.loads(x)["kind"] for x in result.stdout.splitlines()] == ["unparsed"] * 3


def test_usage_error_exit_2() -> None:
    result = run_cli("parse", "--format", "xml", FAILOVER)
    assert result.exit_code == 2


def test_version_and_help() -> None:
    assert run_cli("--version").exit_code == 0
    result = run_cli("--help")
    assert result.exit_code == 0 and "parse" in result.stdout


def test_an_internal_error_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracelens import api
    from tracelens.cli import main

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "analyze", broken)
    monkeypatch.delenv("TRACELENS_DEBUG", raising=False)
    code = main(["analyze", FAILOVER])
    assert code == 3
    monkeypatch.setenv("TRACELENS_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        main(["analyze", FAILOVER])


def test_internal_error_message_is_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from tracelens import api
    from tracelens.cli import main

    monkeypatch.setattr(api, "analyze", lambda *a, **k: (_ for _ in ()).throw(KeyError("x")))
    monkeypatch.delenv("TRACELENS_DEBUG", raising=False)
    assert main(["analyze", FAILOVER]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tracelens: error: internal error: KeyError")
    assert "TRACELENS_DEBUG=1" in err[0]
