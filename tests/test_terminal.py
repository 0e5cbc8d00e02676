"""The command line as a terminal user and a shell pipeline see it: progress, pipes, colour, errors, output files.

Terminals are real pseudo-terminals (the pty module) and pipes real pipes, in child processes: what
click's runner captures is neither.
"""

from __future__ import annotations

import errno
import json
import os
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES, run_cli, write

SAMPLE = SAMPLES / "failover-failback.log"
CONFIG = SAMPLES / "plugin-cfg.xml"
SESSION = "IWuUT_zhR-gFYB-pOAk75Q5"
COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;)")  # a foreground colour, not bold or dim


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample 300 times over (57,000 lines, 7 MB): longer than a pipe's buffer, long enough for a bar."""
    path = tmp_path_factory.mktemp("big") / "big.log"
    text = SAMPLE.read_text(encoding="utf-8")
    path.write_text(text * 300, encoding="utf-8")
    return path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TRACELENS_DEBUG", "CI", "NO_COLOR", "FORCE_COLOR")}
    env["COLUMNS"] = "100"
    env.update(extra)
    return env


def _drain(fd: int, proc: subprocess.Popen[bytes]) -> bytes:
    """Everything written to a pty's master until the child exits."""
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError as exc:  # EIO: the child closed its side
                if exc.errno != errno.EIO:
                    raise
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    return b"".join(chunks)


def on_pty(args: list[str], *, stream: str, env: dict[str, str], stdin: Path | None = None,
           stdout_path: Path | None = None) -> tuple[int, bytes, bytes]:
    """Run tracelens with ``stream`` (stdout or stderr) on a pseudo-terminal; returns (code, tty, other)."""
    master, slave = os.openpty()
    other = subprocess.PIPE if stdout_path is None else stdout_path.open("wb")
    kwargs: dict[str, object] = {"stdout": slave, "stderr": other} if stream == "stdout" else \
        {"stdout": other, "stderr": slave}
    with (stdin.open("rb") if stdin else open(os.devnull, "rb")) as fin:
        proc = subprocess.Popen([sys.executable, "-m", "tracelens", *args], stdin=fin, env=env, cwd=ROOT,
                                **kwargs)  # type: ignore[call-overload]
        os.close(slave)
        tty = _drain(master, proc)
        proc.wait(timeout=120)
    os.close(master)
    if stdout_path is None:
        rest = proc.stderr.read() if stream == "stdout" else proc.stdout.read()  # type: ignore[union-attr]
    else:
        other.close()  # type: ignore[union-attr]
        rest = stdout_path.read_bytes()
    return proc.returncode, tty, rest


# ====================================================================== 1. progress on standard error


def test_progress_is_drawn_on_stderr_when_stdout_is_redirected(big_log: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    code, tty, _ = on_pty(["analyze", "-"], stream="stderr", env=_env(), stdin=big_log, stdout_path=report)
    assert code == 0
    assert b"reading" in tty and b"records" in tty  # the bar, on the terminal that is stderr
    text = report.read_text(encoding="utf-8")
    assert "reading" not in text and "\x1b" not in text  # and nothing of it in the report


def test_no_progress_in_ci_or_when_stderr_is_piped(big_log: Path, tmp_path: Path) -> None:
    code, tty, _ = on_pty(["analyze", "-"], stream="stderr", env=_env(CI="true"), stdin=big_log,
                          stdout_path=tmp_path / "r.txt")
    assert code == 0 and tty == b""
    with big_log.open("rb") as fin:
        piped = subprocess.run([sys.executable, "-m", "tracelens", "analyze", "-"], stdin=fin, capture_output=True,
                               env=_env(), cwd=ROOT, timeout=120, check=False)
    assert piped.returncode == 0 and piped.stderr == b""


def test_quiet_draws_no_progress(big_log: Path, tmp_path: Path) -> None:
    code, tty, _ = on_pty(["analyze", "--quiet", "-"], stream="stderr", env=_env(), stdin=big_log,
                          stdout_path=tmp_path / "r.txt")
    assert code == 0 and tty == b""


# ====================================================================== 2. a closed pipe


@pytest.mark.parametrize("command", [
    ["parse"], ["parse", "--format", "table"], ["requests"], ["requests", "--format", "jsonl"], ["members"],
    ["export", "--table", "events", "--to", "-"],
])
def test_a_closed_pipe_ends_quietly(big_log: Path, command: list[str]) -> None:
    """`tracelens parse big.log | head -1`: no message, exit 0, as a Unix filter."""
    proc = subprocess.Popen([sys.executable, "-m", "tracelens", *command, str(big_log)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=_env(), cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does
    err = proc.stderr.read()
    code = proc.wait(timeout=120)
    assert first
    assert err == b""
    assert code == 0


# ====================================================================== 3. one-line errors and warnings


@pytest.mark.parametrize(("args", "message"), [
    (["analyze", "--nope", str(SAMPLE)], "no such option"),  # click quotes --nope or not, by version
    (["analyze"], "missing argument 'FILE...' (see `tracelens analyze --help`)"),
    (["export", str(SAMPLE), "--table", "nope", "--to", "x.csv"], "invalid value for '--table'"),
    (["timeline", str(SAMPLE), "--width", "wide"], "invalid value for '--width'"),
    (["frobnicate"], "no such command 'frobnicate'"),
])
def test_usage_errors_are_one_line_exit_2(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("tracelens: error: ") and message in result.stderr
    assert result.stderr.rstrip().endswith(f"(see `tracelens {args[0]} --help`)") or args[0] == "frobnicate"


def test_help_keeps_its_text() -> None:
    result = run_cli("analyze", "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: tracelens analyze [OPTIONS] FILE...")
    assert "--output-file PATH" in result.stdout and "--color [auto|always|never]" in result.stdout


def test_warnings_are_one_line_with_their_kind() -> None:
    result = run_cli("timeline", str(SAMPLE), "--width", "50")
    assert result.exit_code == 0
    assert result.stderr == "tracelens: warning: --width 50 is less than the minimum of 80 columns: drawing in 80\n"


# ====================================================================== 6. tables


def test_requests_table_is_one_row_per_request_with_its_verdict() -> None:
    result = run_cli("requests", str(SAMPLE))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[-1] == "verdict" and "served by" in lines[0]
    rows = [line for line in lines[2:] if line.strip()]
    assert [row.split()[0] for row in rows] == ["12", "41", "103", "145"]  # one line each, though 100 columns
    assert [row.split()[-1] for row in rows] == ["kept", "failover", "failover", "failback"]
    assert "was1node_PluginMember1 (connect_refused) → was2Node_PluginMember2" in rows[1]


@pytest.mark.parametrize("command", [["rules"], ["members", str(SAMPLE)], ["session", SESSION, str(SAMPLE)]])
def test_no_hard_wrap_when_not_on_a_terminal(command: list[str]) -> None:
    """COLUMNS is 100 in the tests; a pipe gets each line whole all the same."""
    out = run_cli(*command).stdout
    assert max(len(line) for line in out.splitlines()) > 100
    if command == ["rules"]:
        assert len(out.splitlines()) == len(run_cli("rules", "--format", "markdown").stdout.splitlines()) - 2


def test_rules_fit_the_terminal_on_a_terminal() -> None:
    code, tty, _ = on_pty(["rules"], stream="stdout", env=_env(COLUMNS="100"))
    assert code == 0
    lines = tty.decode().replace("\r\n", "\n").splitlines()
    assert max(len(re.sub(r"\x1b\[[0-9;]*m", "", line)) for line in lines) <= 100


# ====================================================================== 7. the common options


def test_config_is_accepted_where_the_readme_lists_it(tmp_path: Path) -> None:
    for command in (["requests"], ["members"], ["requests", "--format", "jsonl"]):
        result = run_cli(*command, str(SAMPLE), "--config", str(CONFIG))
        assert result.exit_code == 0, (command, result.stderr)
        assert result.stdout == run_cli(*command, str(SAMPLE)).stdout  # the same cookie and clone IDs
    bad = write(tmp_path, "bad.xml", "<Config><oops></Config>")
    result = run_cli("members", str(SAMPLE), "--config", str(bad))
    assert result.exit_code == 2 and result.stderr.startswith("tracelens: error: ")


@pytest.mark.parametrize("command", [
    ["timeline"], ["session", SESSION], ["requests"], ["members"],
    ["export", "--table", "requests", "--to", "-"], ["export", "--table", "events", "--to", "-"],
])
def test_strict_is_accepted_where_it_makes_sense(tmp_path: Path, command: list[str]) -> None:
    clean = run_cli(*command, "--strict", str(SAMPLE))
    assert clean.exit_code == 0, clean.stderr
    noisy = write(tmp_path, "noisy.log", SAMPLE.read_text(encoding="utf-8") + "pasted from a ticket\n")
    result = run_cli(*command, "--strict", str(noisy))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"tracelens: error: {noisy}:191: unparsed: no record header",
                                          "tracelens: error: 1 unparsed record(s) (--strict)"]
    if command[0] != "export" or "events" not in command:
        assert result.stdout == ""  # refused before anything is written


# ====================================================================== 8. colour


def test_empty_no_color_does_not_turn_colour_off() -> None:
    """https://no-color.org: only a non-empty NO_COLOR disables colour."""
    code, tty, _ = on_pty(["analyze", str(SAMPLE)], stream="stdout", env=_env(NO_COLOR=""))
    assert code == 0 and COLOUR.search(tty.decode())
    code, tty, _ = on_pty(["analyze", str(SAMPLE)], stream="stdout", env=_env(NO_COLOR="1"))
    assert code == 0 and not COLOUR.search(tty.decode())


def test_color_option_wins_over_the_environment() -> None:
    assert COLOUR.search(run_cli("analyze", "--color", "always", str(SAMPLE)).stdout)  # on a pipe, NO_COLOR=1
    code, tty, _ = on_pty(["analyze", "--color", "never", str(SAMPLE)], stream="stdout", env=_env())
    assert code == 0 and "\x1b[" not in tty.decode()
    code, tty, _ = on_pty(["analyze", str(SAMPLE)], stream="stdout", env=_env())  # auto on a terminal
    assert code == 0 and COLOUR.search(tty.decode())


# ====================================================================== 9. the API takes a plain path


def test_api_takes_one_path_as_text_or_pathlike() -> None:
    import tracelens

    by_list = tracelens.analyze([str(SAMPLE)])
    for one in (str(SAMPLE), SAMPLE):
        report = tracelens.analyze(one, config=CONFIG)
        assert report.stats.files == [str(SAMPLE)]
        assert [f.code for f in report.findings] == [f.code for f in tracelens.analyze([str(SAMPLE)], str(CONFIG))
                                                      .findings]
        assert len(report.requests) == len(by_list.requests) == 4


# ====================================================================== --output-file and --quiet


def test_output_file_holds_what_stdout_would(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run_cli("analyze", "--format", "json", "--output-file", str(out), str(SAMPLE))
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8") == run_cli("analyze", "--format", "json", str(SAMPLE)).stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_a_failed_run_leaves_the_output_file_as_it_was(tmp_path: Path) -> None:
    out = write(tmp_path, "report.txt", "yesterday's report\n")
    result = run_cli("requests", "-o", str(out), str(tmp_path / "missing.log"))
    assert result.exit_code == 2
    assert out.read_text(encoding="utf-8") == "yesterday's report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]


def test_output_file_may_not_be_a_directory(tmp_path: Path) -> None:
    result = run_cli("parse", "-o", str(tmp_path), str(SAMPLE))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "is a directory" in result.stderr


def test_quiet_keeps_errors_only(tmp_path: Path) -> None:
    result = run_cli("export", "--quiet", str(SAMPLE), "--table", "requests", "--to", str(tmp_path / "r.csv"))
    assert result.exit_code == 0 and result.stderr == ""
    assert run_cli("timeline", "-q", str(SAMPLE), "--width", "50").stderr == ""
    failed = run_cli("export", "-q", str(tmp_path / "missing.log"), "--table", "events", "--to", "x.csv")
    assert failed.exit_code == 2 and failed.stderr.startswith("tracelens: error: ")


# ====================================================================== export --to -


def test_export_to_stdout_is_the_file_export(tmp_path: Path) -> None:
    for table in ("events", "requests", "findings"):
        for fmt in ("csv", "jsonl"):
            target = tmp_path / f"{table}.{fmt}"
            assert run_cli("export", str(SAMPLE), "--table", table, "--to", str(target)).exit_code == 0
            args = ["--format", fmt] if fmt == "jsonl" else []  # csv is the default
            result = run_cli("export", str(SAMPLE), "--table", table, "--to", "-", *args)
            assert result.exit_code == 0
            assert result.stdout == target.read_text(encoding="utf-8")
            assert result.stderr.startswith("wrote ") and "standard output" in result.stderr
    rows = [json.loads(line) for line in run_cli("export", str(SAMPLE), "--table", "requests", "--to", "-",
                                                  "--format", "jsonl").stdout.splitlines()]
    assert [r["verdict"] for r in rows] == ["kept", "failover", "failover", "failback"]


def test_export_format_is_for_stdout_only() -> None:
    result = run_cli("export", str(SAMPLE), "--table", "events", "--to", "out.csv", "--format", "jsonl")
    assert result.exit_code == 2
    assert result.stderr == "tracelens: error: --format is for --to - only: the suffix of out.csv chooses its format\n"


# ====================================================================== issue 21 item 9: a full disk


def _full(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    with open("/dev/full", "wb") as full:
        return subprocess.run([sys.executable, "-m", "tracelens", *args], stdout=full, stderr=subprocess.PIPE,
                              env=_env(NO_COLOR="1"), cwd=ROOT, timeout=120, check=False)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("command", [
    ["analyze", str(SAMPLE)], ["analyze", "--format", "json", str(SAMPLE)], ["parse", str(SAMPLE)],
    ["requests", str(SAMPLE)], ["export", str(SAMPLE), "--table", "events", "--to", "-"], ["rules"],
])
def test_stdout_on_a_full_disk_is_one_line_exit_2(command: list[str]) -> None:
    result = _full(command)
    assert result.returncode == 2
    assert result.stderr.decode() == "tracelens: error: standard output: No space left on device\n"


def test_export_to_a_directory_is_one_line_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.mkdir()
    result = run_cli("export", str(SAMPLE), "--table", "events", "--to", str(target))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and f"{target}' is a directory" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"] and not any(target.iterdir())


@pytest.fixture
def small_fs(tmp_path: Path) -> object:
    """A 32 KiB tmpfs (root only); skipped where mounting is not permitted."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(mnt)], capture_output=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"mount not permitted: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.parametrize("command", [
    ["export", str(SAMPLE), "--table", "events", "--to", "{dir}/events.csv"],
    ["export", str(SAMPLE), "--table", "events", "--to", "{dir}/events.jsonl"],
    ["parse", str(SAMPLE), "--output-file", "{dir}/events.jsonl"],
])
def test_a_full_file_system_is_one_line_exit_2_and_no_partial_file(small_fs: Path, command: list[str]) -> None:
    args = [a.format(dir=small_fs) for a in command]
    target = args[-1]
    result = subprocess.run([sys.executable, "-m", "tracelens", *args], capture_output=True, env=_env(NO_COLOR="1"),
                            cwd=ROOT, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.decode() == f"tracelens: error: {target}: No space left on device\n"
    assert list(small_fs.iterdir()) == []  # neither the target nor a temporary file


def test_check_text_has_severity_colours_on_a_terminal_only() -> None:
    code, tty, _ = on_pty(["check", str(SAMPLE)], stream="stdout", env=_env())
    out = tty.decode()
    assert code == 1
    assert "\x1b[33m[warning]\x1b[0m" in out and "\x1b[36m[info]\x1b[0m" in out  # as ruff colours them
    assert re.sub(r"\x1b\[[0-9;]*m", "", out).replace("\r\n", "\n") == run_cli("check", str(SAMPLE)).stdout
    assert "\x1b" not in run_cli("check", str(SAMPLE)).stdout  # a pipe gets the plain lines
    code, tty, _ = on_pty(["check", "--color", "never", str(SAMPLE)], stream="stdout", env=_env())
    assert "\x1b" not in tty.decode()


def test_one_terminal_gives_the_same_console_per_stream_and_a_new_one_for_a_new_stream(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every message of a run goes through one stderr console; --output-file's new stdout gets its own."""
    import io

    from tracelens.reporters.console import ColorMode, Terminal

    first, second = io.StringIO(), io.StringIO()
    term = Terminal(color=ColorMode.NEVER)
    monkeypatch.setattr(sys, "stderr", first)
    assert term.stderr() is term.stderr()
    term.message("warning", "one")
    term.message("warning", "two")
    assert first.getvalue() == "tracelens: warning: one\ntracelens: warning: two\n"
    monkeypatch.setattr(sys, "stdout", first)
    report = term.stdout(wrap=False)
    assert term.stdout(wrap=False) is report and term.stdout(120) is not report
    monkeypatch.setattr(sys, "stdout", second)
    moved = term.stdout(wrap=False)
    assert moved is not report
    moved.print("report line")
    assert second.getvalue() == "report line\n"
