"""Hostile and unlucky input (issue 21): lines that never end, decompression bombs, FIFOs, zero-filled
heads, UTF-16 without a byte-order mark, and worker processes that outlive their parent.

What is about processes (memory, FIFOs, signals, orphans) is tested with real processes: the
installed ``python -m tracelens`` run as a child, measured with ``os.wait4`` and signalled with ``os.kill``.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SAMPLES, run_cli, write
from tracelens import parallel
from tracelens.api import analyze
from tracelens.commands import options
from tracelens.errors import InputError
from tracelens.read import reader
from tracelens.read.reader import ReadStats, read_blocks, read_records

FAILOVER = SAMPLES / "failover-failback.log"
LINES = FAILOVER.read_text(encoding="utf-8").splitlines()
MIB = 1 << 20


def analysis(*args: str) -> dict:  # type: ignore[type-arg]
    result = run_cli("analyze", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def tracelens(*args: str, **kwargs: object) -> subprocess.Popen[bytes]:
    """``tracelens ARGS`` as a child process, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "tracelens", *args], env=env, **kwargs)  # type: ignore[call-overload, no-any-return]


def unparsed(path: Path | str, *args: str) -> list[dict]:  # type: ignore[type-arg]
    out = run_cli("parse", *args, str(path))
    assert out.exit_code == 0, out.stderr
    return [r for r in map(json.loads, out.stdout.splitlines()) if r["kind"] == "unparsed"]


# ---------------------------------------------------------------- item 1: records have a maximum length


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_a_line_longer_than_the_limit_is_one_unparsed_record_and_the_analysis_goes_on(
        tmp_path: Path, end: str, compressed: bool) -> None:
    long_line = LINES[40][:47] + "TRACE: ws_common: websphereHandleRequest: " + "x" * (2 * MIB)
    text = end.join([*LINES[:40], long_line, *LINES[40:]]) + end
    data = text.encode("utf-8")
    path = write(tmp_path, "long.log.gz" if compressed else "long.log", gzip.compress(data) if compressed else data)
    size = len(long_line.encode())
    report = analysis(str(path))
    acc = report["accounting"]
    assert acc["lines"] == 191 and acc["typed"] == 190 and acc["unparsed"] == 1 and acc["reconciles"]
    assert {"TL001", "TL002", "TL101"} <= {f["code"] for f in report["findings"]}
    (finding,) = [f for f in report["findings"] if f["code"] == "TL401"]
    assert f"line too long: {size} bytes" in finding["message"] and finding["evidence"] == [f"{path}:41"]
    for args in ([], ["--lenient"]):
        (record,) = unparsed(path, *args)
        assert record["line"] == 41 and record["reason"] == f"line too long: {size} bytes"
        assert long_line.startswith(record["text"]) and len(record["text"]) == reader.KEPT_BYTES  # its start kept
    for args in ([], ["--lenient"], ["--jobs", "2"]):
        summary = run_cli("parse", "--summary", *args, str(path))
        assert summary.exit_code == 0 and "unparsed 1" in summary.stdout and "typed" in summary.stdout


def test_max_record_bytes_sets_the_limit_on_every_command(tmp_path: Path) -> None:
    long_line = LINES[40][:47] + "TRACE: ws_common: websphereHandleRequest: " + "x" * (100 * 1024)
    path = write(tmp_path, "long.log", "\n".join([*LINES[:40], long_line, *LINES[40:]]) + "\n")
    # within the default limit the headered line is a generic message; past 64K it is unparsed
    assert analysis(str(path))["accounting"]["unparsed"] == 0
    assert analysis("--max-record-bytes", "64K", str(path))["accounting"]["unparsed"] == 1
    assert unparsed(path, "--max-record-bytes", "65536")[0]["reason"] == f"line too long: {len(long_line)} bytes"
    for command in (["parse", "--summary"], ["requests"], ["members"], ["check"], ["timeline"],
                    ["session", "x"], ["export", "--table", "events", "--to", str(tmp_path / "e.jsonl")]):
        result = run_cli(*command, "--max-record-bytes", "64K", str(path))
        assert "no such option" not in result.stderr, command
    bad = run_cli("parse", "--max-record-bytes", "1K", str(path))
    assert bad.exit_code == 2 and "less than the minimum, 4096 bytes" in bad.stderr
    assert run_cli("parse", "--max-record-bytes", "lots", str(path)).exit_code == 2
    assert (options.MAX_RECORD_DEFAULT, options.MAX_RECORD_MINIMUM) == (reader.MAX_RECORD_BYTES, reader.KEPT_BYTES)


@pytest.mark.parametrize("end", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_the_limit_counts_the_line_without_its_line_end(tmp_path: Path, end: bytes) -> None:
    limit = 5000
    lines = [b"a" * limit, b"b" * (limit + 1), b"c" * (limit - 1), "é".encode() * (limit // 2 + 1), b"d" * 3 * limit]
    path = write(tmp_path, "edge.log", end.join(lines) + end)
    per_line = [(r.line, r.cut) for r in read_records([str(path)], ReadStats(), max_record_bytes=limit)]
    assert per_line == [(1, 0), (2, limit + 1), (3, 0), (4, limit + 2), (5, 3 * limit)]
    stats = ReadStats()
    read = read_blocks([str(path)], stats, 4096, max_record_bytes=limit)
    blocks = [(b.first_line, b.line_count, b.cut) for b in read]
    assert [(first, cut) for first, _, cut in blocks if cut] == [(2, limit + 1), (4, limit + 2), (5, 3 * limit)]
    assert sum(count for _, count, _ in blocks) == 5 == stats.physical_lines
    assert stats.bytes_read == len(end.join(lines) + end)


def test_a_joined_documentation_record_is_bounded_too(tmp_path: Path) -> None:
    # --lenient joins lines that start no record onto the one before: a million of them are one cut record
    path = write(tmp_path, "excerpt.log", LINES[0] + "\n" + "wrapped text of the record\n" * 200_000 + LINES[1] + "\n")
    stats = ReadStats()
    records = list(read_records([str(path)], stats, lenient=True, max_record_bytes=MIB))
    assert [r.line for r in records] == [1, 200_002] and records[0].cut > MIB and not records[1].cut
    assert len(records[0].text) == reader.KEPT_BYTES and stats.joined_lines == 200_000
    assert stats.expected_records == 2


#: runs ``tracelens ARGS`` as its own child and reports that child's peak memory and CPU time on stderr.
#: NOTE: a process started straight from the test inherits the test process's memory high-water mark
#: (Linux keeps ``maxrss`` across fork and exec), so the measured process is started from this small one
_LAUNCHER = """
import json, os, subprocess, sys
child = subprocess.Popen([sys.executable, "-m", "tracelens", *sys.argv[1:]], stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps([usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime]), file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _peak_rss_mib(args: list[str], feed: Iterator[bytes] | None = None) -> tuple[float, float, int, bytes]:
    """Run ``tracelens ARGS`` (fed ``feed`` on standard input): its peak memory in MiB, its CPU seconds,
    exit code and stdout. Killed after two minutes (CPU time, not the clock, is what is asserted: the
    machine may be shared)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    launcher = subprocess.Popen([sys.executable, "-c", _LAUNCHER, *args], env=env, start_new_session=True,
                                stdin=subprocess.PIPE if feed else subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    watchdog = threading.Timer(120, os.killpg, (launcher.pid, signal.SIGKILL))
    watchdog.start()
    out: list[bytes] = []
    reader_thread = threading.Thread(target=lambda: out.extend(launcher.communicate()))
    if feed is not None:
        assert launcher.stdin is not None
        stdin, launcher.stdin = launcher.stdin, None  # fed here, not by communicate()
        try:
            reader_thread.start()
            for piece in feed:
                stdin.write(piece)
            stdin.close()
        except BrokenPipeError:
            pass
    else:
        reader_thread.start()
    reader_thread.join()
    watchdog.cancel()
    peak, cpu = json.loads(out[1].decode().strip().splitlines()[-1])
    return peak, cpu, launcher.returncode, out[0]


def test_a_line_of_hundreds_of_megabytes_on_standard_input_takes_bounded_memory() -> None:
    def feed() -> Iterator[bytes]:
        yield FAILOVER.read_bytes()
        zeros = b"\x00" * MIB
        for _ in range(400):  # 400 MiB without a line end: once 2.4 GB of memory
            yield zeros
        yield b"\n" + FAILOVER.read_bytes()

    peak, cpu, code, out = _peak_rss_mib(["parse", "--summary", "-"], feed())
    assert code == 0 and b"380 typed + 0 message + 1 unparsed" in out
    assert b"line too long: 419430400 bytes" in out
    assert peak < 150, f"{peak:.0f} MiB"
    assert cpu < 10, f"{cpu:.1f} s"


def test_a_gzip_bomb_is_input_damage_not_an_endless_read(tmp_path: Path) -> None:
    # 4 GiB of zeros in 4 MiB of gzip members, after a real log: stopped at the ratio limit
    member = gzip.compress(b"\x00" * MIB, compresslevel=9)
    path = tmp_path / "bomb.log.gz"
    with path.open("wb") as bomb:
        bomb.write(gzip.compress(FAILOVER.read_bytes()))
        for _ in range(4096):
            bomb.write(member)
    peak, cpu, code, out = _peak_rss_mib(["analyze", "--format", "json", str(path)])
    assert code == 0 and cpu < 10, (code, f"{cpu:.1f} s")  # not 4 GiB decompressed and read
    assert peak < 150, f"{peak:.0f} MiB"
    report = json.loads(out)
    assert code == 0 and report["accounting"]["typed"] == 190 and report["accounting"]["unparsed"] == 1
    (damaged,) = [f for f in report["findings"] if f["code"] == "TL403"]
    assert damaged["name"] == "input.damaged"
    assert damaged["message"].startswith(f"{path}: decompresses to more than {reader.GZIP_MAX_RATIO} times its size")


def test_a_well_compressed_real_log_is_not_a_bomb(tmp_path: Path) -> None:
    # a log repeated verbatim compresses about 130 times: far below the limit, read to its end
    path = write(tmp_path, "repeated.log.gz", gzip.compress(FAILOVER.read_bytes() * 3000, compresslevel=9))
    stats = ReadStats()
    assert sum(b.line_count for b in read_blocks([str(path)], stats)) == 190 * 3000
    assert not stats.damage


# ---------------------------------------------------------------- item 6: FIFOs and devices


def _writer(fifo: Path, data: Path) -> subprocess.Popen[bytes]:
    code = "import shutil, sys; shutil.copyfileobj(open(sys.argv[1], 'rb'), open(sys.argv[2], 'wb'))"
    return subprocess.Popen([sys.executable, "-c", code, str(data), str(fifo)], stderr=subprocess.PIPE)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_fifo_is_read_once_and_its_writer_keeps_its_data(tmp_path: Path, jobs: str) -> None:
    fifo = tmp_path / "plugin.pipe"
    os.mkfifo(fifo)
    writer = _writer(fifo, FAILOVER)
    child = tracelens("analyze", "--format", "json", "--jobs", jobs, str(fifo), stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE)
    try:
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
        writer.kill()
    assert writer.wait() == 0, writer.stderr.read() if writer.stderr else ""  # no SIGPIPE: its data was read
    assert child.returncode == 0, err
    acc = json.loads(out)["accounting"]
    assert acc["typed"] == 190 and acc["unparsed"] == 0


def test_a_fifo_given_twice_is_refused_before_anything_is_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "plugin.pipe"
    os.mkfifo(fifo)
    # nothing writes to it: opening it would wait forever, so the refusal must come from its status
    child = tracelens("analyze", str(fifo), str(fifo), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 2 and not out
    assert err.decode().strip() == f"tracelens: error: {fifo}: a pipe or device can be read only once"


def test_character_devices_are_checked_without_being_opened() -> None:
    assert run_cli("parse", "/dev/null").stderr.strip() == "tracelens: error: /dev/null: empty input, no log lines"
    refused = run_cli("analyze", "/dev/zero")  # endless NULs: judged by the first MiB, not read to the end
    assert refused.exit_code == 2
    assert refused.stderr.strip() == "tracelens: error: /dev/zero: binary data, not a plug-in log"


# ---------------------------------------------------------------- item 10: a zero-filled head is not binary


@pytest.mark.parametrize("zeros", [64 * 1024, 256 * 1024, 900 * 1024])
def test_a_zero_filled_head_does_not_make_the_log_binary(tmp_path: Path, zeros: int) -> None:
    path = write(tmp_path, "crash.log", b"\x00" * zeros + b"\n" + FAILOVER.read_bytes())
    report = analysis(str(path))
    acc = report["accounting"]
    assert acc["typed"] == 190 and acc["unparsed"] == 1 and acc["lines"] == 191
    assert {"TL001", "TL002", "TL101", "TL401"} <= {f["code"] for f in report["findings"]}


def test_binary_data_after_a_zero_filled_head_is_still_binary(tmp_path: Path) -> None:
    core = b"\x00" * (128 * 1024) + bytes(range(256)) * 512 + b"\x00" * 4096 + bytes(range(1, 32)) * 100
    path = write(tmp_path, "core", core)
    with pytest.raises(InputError, match="binary data, not a plug-in log"):
        analyze([str(path)])
    assert run_cli("parse", str(write(tmp_path, "zeros", b"\x00" * (2 * MIB)))).exit_code == 2


# ---------------------------------------------------------------- item 12: UTF-16 without a byte-order mark


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("end", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_utf16_without_a_byte_order_mark_is_read_as_utf16(tmp_path: Path, codec: str, end: str) -> None:
    path = write(tmp_path, "notepad.log", (end.join(LINES) + end).encode(codec))
    report = analysis(str(path))
    assert report["accounting"]["typed"] == 190 and report["accounting"]["unparsed"] == 0
    assert sorted({f["code"] for f in report["findings"]}) == ["TL001", "TL002", "TL101"]


# ---------------------------------------------------------------- item 5: workers die with their parent


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    """Running, not a zombie (an orphan's zombie waits for whoever reaps orphans here)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log of 17.5 MB: above the size from which --jobs splits the work."""
    path = tmp_path_factory.mktemp("big") / "big.log"
    path.write_bytes(FAILOVER.read_bytes() * 700)
    assert path.stat().st_size >= parallel.MIN_SPLIT_BYTES
    return path


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers through /proc")
@pytest.mark.parametrize("command", [["analyze", "--jobs", "2"], ["parse", "--summary", "--jobs", "2"]],
                         ids=["analyze", "parse-summary"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["KILL", "TERM"])
def test_workers_die_with_their_parent(big_log: Path, command: list[str], sig: signal.Signals) -> None:
    child = tracelens(*command, str(big_log), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_for(lambda: _children(child.pid), 30), "no worker was started"
        workers = _children(child.pid)
        os.kill(child.pid, sig)
        child.wait(timeout=30)
        assert _wait_for(lambda: not any(map(_alive, workers)), 10), "a worker outlived its parent"
    finally:
        child.kill()
        child.wait()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers through /proc")
def test_ctrl_c_stops_the_workers_at_once_and_exits_130(big_log: Path) -> None:
    child = tracelens("analyze", "--jobs", "2", str(big_log), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert _wait_for(lambda: _children(child.pid), 30), "no worker was started"
        workers = _children(child.pid)
        time.sleep(0.3)
        os.kill(child.pid, signal.SIGINT)  # the parent only: its workers run on until it stops them
        _, err = child.communicate(timeout=30)
        assert child.returncode == 130, err.decode()
        assert err.decode().splitlines() == ["tracelens: error: aborted"]  # one line: no blank line before it
        assert _wait_for(lambda: not any(map(_alive, workers)), 5), "a worker outlived its parent"
    finally:
        child.kill()
        child.wait()
