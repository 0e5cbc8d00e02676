"""Signals and protected files, with real processes: an interrupted export leaves nothing behind.

``tracelens export`` writes beside its target (``.t.csv.<pid>.part``) and renames into place. Ctrl-C
(SIGINT), SIGTERM (``kill``, a CI job's timeout) and SIGHUP (the terminal closed) must all remove the
part file; SIGTERM and SIGHUP then end the process by the same signal, as git and coreutils do, so a
shell sees 128 + the signal number. A target that is write-protected is not replaced.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_cli
from tests.test_scaling import flapping_log

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

SAMPLE = SAMPLES / "failover-failback.log"


@pytest.fixture(scope="module")
def long_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 45,000 lines: seconds of export, so that a signal reaches it while it writes."""
    return flapping_log(tmp_path_factory.mktemp("signals") / "long.log", 250)


def start_export(log: Path, out: Path, table: str = "events") -> subprocess.Popen[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("TRACELENS_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "tracelens", "export", str(log), "--table", table, "--to", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def wait_for_part_file(directory: Path, process: subprocess.Popen[bytes], seconds: float = 60) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        parts = [p for p in directory.iterdir() if p.name.endswith(".part")]
        if parts and parts[0].stat().st_size > 0:
            return parts[0]
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError("the export never started writing")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_while_writing_remove_the_part_file(tmp_path: Path, long_log: Path,
                                                                sig: signal.Signals) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    process = start_export(long_log, out_dir / "t.csv")
    part = wait_for_part_file(out_dir, process)
    assert part.name == f".t.csv.{process.pid}.part"
    os.kill(process.pid, sig)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -sig, stderr  # died of the signal, after cleaning up
    assert b"Traceback" not in stderr
    assert list(out_dir.iterdir()) == []


def test_sigterm_during_the_analysis_leaves_nothing(tmp_path: Path, long_log: Path) -> None:
    # NOTE: the log comes through a pipe the test holds open, so the analysis is certainly still
    # reading when the signal comes (a file could be analysed and written before a fixed sleep ends)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("TRACELENS_DEBUG", None)
    process = subprocess.Popen([sys.executable, "-m", "tracelens", "export", "-", "--table", "requests",
                                "--to", str(out_dir / "requests.csv")],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdin is not None
    data = long_log.read_bytes()
    # more than a pipe's buffer: the write returns only once tracelens has been reading for a while
    process.stdin.write(data[: len(data) // 2])
    process.stdin.flush()
    assert process.poll() is None
    os.kill(process.pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGTERM, stderr
    assert b"Traceback" not in stderr
    assert list(out_dir.iterdir()) == []


def test_sigint_while_writing_exits_130_and_removes_the_part_file(tmp_path: Path, long_log: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    process = start_export(long_log, out_dir / "t.jsonl.gz")
    wait_for_part_file(out_dir, process)
    os.kill(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.decode().strip().startswith("tracelens: error: ") and b"Traceback" not in stderr
    assert list(out_dir.iterdir()) == []


def test_a_shell_sees_128_plus_the_signal(tmp_path: Path, long_log: Path) -> None:
    out = tmp_path / "t.csv"
    script = (f'"{sys.executable}" -m tracelens export "{long_log}" --table events --to "{out}" 2>/dev/null & '
              'pid=$!; while ! ls -a "$1" | grep -q "\\.part$"; do sleep 0.05; done; kill -TERM $pid; wait $pid; '
              'echo "status $?"')
    result = subprocess.run(["sh", "-c", script, "sh", str(tmp_path)], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.stdout.strip() == "status 143"
    assert list(tmp_path.iterdir()) == []


def test_a_write_protected_target_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "requests.csv"
    target.write_text("kept\n", encoding="utf-8")
    target.chmod(0o444)
    result = run_cli("export", str(SAMPLE), "--table", "requests", "--to", str(target))
    assert result.exit_code == 2
    assert result.stderr == f"tracelens: error: {target}: is write-protected; not replaced (make it writable or " \
                            "remove it first)\n"
    assert target.read_text(encoding="utf-8") == "kept\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requests.csv"]


def test_a_writable_target_is_replaced_as_before(tmp_path: Path) -> None:
    target = tmp_path / "requests.csv"
    target.write_text("old\n", encoding="utf-8")
    assert run_cli("export", str(SAMPLE), "--table", "requests", "--to", str(target)).exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("request_index,")
