"""Whatever file was captured mid-incident: tracelens never crashes, never drops a line silently, never
lets the file harm the terminal.

Through the command line, as a user runs it: the accounting of every sample, ``--strict``, unusable
inputs (one line, exit 2, no traceback), damaged but usable inputs (the analysis goes on, the damage
is an ``input.*`` finding), absurd numbers, clocks that go backwards, restarts and rotation, hostile
plugin-cfg.xml files, pathological lines, and the session limit. The README's Troubleshooting
section is checked against what the tool prints.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SAMPLES, run_cli, write
from tracelens.requests import sessions

TRACES = ROOT / "tests" / "traces"
FAILOVER = SAMPLES / "failover-failback.log"
FAILOVER_85 = SAMPLES / "failover-failback-85.log"
CFG = str(SAMPLES / "plugin-cfg.xml")
LINES = FAILOVER.read_text(encoding="utf-8").splitlines()
LINES_85 = FAILOVER_85.read_text(encoding="utf-8").splitlines()
M1, M2 = "was1node_PluginMember1", "was2Node_PluginMember2"
PID = "00001a2c"
SESSION = "IWuUT_zhR-gFYB-pOAk75Q5"
EVERY_LOG = sorted([*SAMPLES.glob("*.log"), *TRACES.glob("*.log")])
#: the commands that read logs, with what they need besides the files
READERS = {
    "analyze": ["analyze"], "analyze-json": ["analyze", "--format", "json"], "check": ["check"],
    "parse": ["parse"], "parse-summary": ["parse", "--summary"], "requests": ["requests"], "members": ["members"],
    "timeline": ["timeline"], "session": ["session", SESSION],
}


def lines(first: int, last: int, source: list[str] = LINES) -> list[str]:
    """Lines ``first``..``last`` (1-based, inclusive) of the failover sample."""
    return source[first - 1:last]


def log(tmp_path: Path, name: str, records: list[str], end: str = "\n") -> str:
    return str(write(tmp_path, name, end.join(records) + end))


def physical_lines(path: Path) -> int:
    data = path.read_bytes()
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def analysis(*args: str) -> dict[str, Any]:
    result = run_cli("analyze", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def codes(data: dict[str, Any]) -> list[str]:
    return [f["code"] for f in data["findings"]]


def one_line_error(result: Any, *phrases: str) -> str:
    """The run failed as an input error: exit 2, one line on stderr, no traceback, nothing on stdout."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tracelens: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in err[0], err[0]
    line: str = err[0]
    return line


# ====================================================================== 1. accounting


@pytest.mark.parametrize("path", EVERY_LOG, ids=lambda p: p.name)
def test_accounting_reconciles_on_every_sample_and_trace(path: Path) -> None:
    lenient = ["--lenient"] if path.name.startswith("real-03") else []
    data = analysis(*lenient, str(path))
    acc = data["accounting"]
    assert acc["reconciles"] is True
    assert acc["lines"] == physical_lines(path) == sum(i["lines"] for i in data["inputs"])
    assert acc["records"] == acc["lines"] - acc["blank"] + acc["split"] - acc["joined"]
    assert acc["records"] == acc["typed"] + acc["message"] + acc["unparsed"]
    assert acc["records"] == sum(i["records"] for i in data["inputs"])
    assert acc["unparsed"] == sum(i["unparsed"] for i in data["inputs"])
    assert acc["requests"] == acc["requests_complete"] + acc["requests_partial"] == data["summary"]["requests"]
    assert acc["requests_partial"] == data["summary"]["partial_requests"]
    # the same numbers from the other two places that report them
    summary = run_cli("parse", "--summary", *lenient, str(path))
    assert summary.exit_code == 0
    sentence = (f"every non-blank line is accounted for: {acc['lines']} lines - {acc['blank']} blank + {acc['split']} "
                f"split - {acc['joined']} joined = {acc['records']} records; {acc['records']} records = {acc['typed']} "
                f"typed + {acc['message']} message + {acc['unparsed']} unparsed")
    assert sentence in " ".join(summary.stdout.split())
    rich = run_cli("analyze", *lenient, str(path))
    footer = " ".join(rich.stdout.split())
    assert sentence in footer
    assert (f"{acc['requests']} request(s): {acc['requests_complete']} complete, {acc['requests_partial']} partial"
            in footer)


def test_unparsed_records_are_counted_by_reason_with_their_lines(tmp_path: Path) -> None:
    garbage = [f"garbage {i}" for i in range(25)]
    path = log(tmp_path, "mixed.log", [*LINES, *garbage, lines(1, 1)[0].replace("Mon Jun", "Mon Jux")])
    data = analysis(path)
    assert data["accounting"]["unparsed"] == 26 and data["accounting"]["reconciles"]
    (finding,) = [f for f in data["findings"] if f["code"] == "TL401"]
    assert "26 record(s) could not be read (25× no record header, 1× malformed timestamp)" in finding["message"]
    assert finding["evidence"] == [f"{path}:{n}" for n in range(191, 211)]  # the first 20
    rich = " ".join(run_cli("analyze", path).stdout.split())
    assert "26 unparsed record(s): see TL401 input.unparsed" in rich


@pytest.mark.parametrize("command", [["analyze"], ["analyze", "--format", "json"], ["check"], ["parse"],
                                     ["parse", "--summary"]], ids=" ".join)
def test_strict_refuses_unparsed_records(tmp_path: Path, command: list[str]) -> None:
    path = log(tmp_path, "pasted.log", [*LINES, "garbage pasted from a ticket", *lines(12, 12)])
    result = run_cli(*command, "--strict", path)
    assert result.exit_code == 2
    err = result.stderr.strip().splitlines()
    assert err == [f"tracelens: error: {path}:191: unparsed: no record header",
                   "tracelens: error: 1 unparsed record(s) (--strict)"]
    if command[0] != "parse":
        assert result.stdout == ""  # refused before any report is written
    clean = run_cli(*command, "--strict", str(FAILOVER))
    assert clean.exit_code in (0, 1) and clean.stderr == ""


def test_strict_lists_the_first_20_unparsed_records(tmp_path: Path) -> None:
    path = log(tmp_path, "noise.log", [*LINES, *(f"noise {i}" for i in range(30))])
    result = run_cli("check", "--strict", path)
    err = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(err) == 21
    assert err[0] == f"tracelens: error: {path}:191: unparsed: no record header"
    assert err[19] == f"tracelens: error: {path}:210: unparsed: no record header"
    assert err[20] == "tracelens: error: 30 unparsed record(s) (--strict)"


# ====================================================================== 2. unusable input: one line, exit 2


@pytest.mark.parametrize("command", READERS.values(), ids=READERS.keys())
@pytest.mark.parametrize(
    ("make", "phrase"),
    [
        (lambda d: d / "missing.log", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: write(d, "empty.log", ""), "empty input, no log lines"),
        (lambda d: write(d, "blank.log", "\n \n\r\n"), "empty input, 3 blank line(s) and no log line"),
        (lambda d: write(d, "core", bytes(range(256)) * 64), "binary data, not a plug-in log"),
        (lambda d: write(d, "cut.log.gz", gzip.compress(FAILOVER.read_bytes())[:16]), "not a readable gzip file"),
        (lambda d: write(d, "x.log.bz2", bz2.compress(FAILOVER.read_bytes())), "bzip2-compressed data"),
        (lambda d: write(d, "x.log.xz", lzma.compress(FAILOVER.read_bytes())), "xz-compressed data"),
    ],
    ids=["missing", "directory", "empty", "blank-lines-only", "binary", "unreadable-gz", "bzip2", "xz"],
)
def test_unusable_input_is_one_line_and_exit_2(tmp_path: Path, make: Any, phrase: str, command: list[str]) -> None:
    target = make(tmp_path)
    one_line_error(run_cli(*command, str(target)), str(target), phrase)


def test_a_zip_file_is_refused_in_one_line(tmp_path: Path) -> None:
    target = tmp_path / "logs.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.write(FAILOVER, "http_plugin.log")
    one_line_error(run_cli("analyze", str(target)), "zip-compressed data", "decompress it first")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "http_plugin.log", FAILOVER.read_bytes())
    path.chmod(0)
    try:
        one_line_error(run_cli("analyze", str(path)), f"{path}: permission denied")
    finally:
        path.chmod(0o600)


@pytest.mark.parametrize("command", [["analyze"], ["check"], ["parse"], ["timeline"]], ids=" ".join)
def test_unreadable_file_when_open_is_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             command: list[str]) -> None:
    # root reads everything, so stand in for the denial wherever the tests run
    path = write(tmp_path, "http_plugin.log", FAILOVER.read_bytes())
    real_open = open

    def deny(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    one_line_error(run_cli(*command, str(path)), f"{path}: permission denied")


def _tracelens(*args: str, debug: bool, patch: str = "") -> subprocess.CompletedProcess[str]:
    """The installed entry point in a child process, optionally with a function of tracelens.cli patched."""
    env = {k: v for k, v in os.environ.items() if k != "TRACELENS_DEBUG"} | {"NO_COLOR": "1", "COLUMNS": "100"}
    if debug:
        env["TRACELENS_DEBUG"] = "1"
    code = f"import tracelens.cli as c\n{patch}\nc.run()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120, check=False)


def test_input_errors_never_show_a_traceback_even_with_debug(tmp_path: Path) -> None:
    for debug in (False, True):
        result = _tracelens("analyze", str(tmp_path / "missing.log"), debug=debug)
        assert result.returncode == 2
        assert result.stderr.strip() == f"tracelens: error: {tmp_path / 'missing.log'}: no such file"


def test_internal_errors_show_a_traceback_only_with_debug() -> None:
    patch = "import tracelens.api\ndef broken(*a, **k):\n    raise RuntimeError('boom')\ntracelens.api.analyze = broken"
    quiet = _tracelens("analyze", str(FAILOVER), debug=False, patch=patch)
    assert quiet.returncode == 3
    assert quiet.stderr.strip() == ("tracelens: error: internal error: RuntimeError: boom "
                                    "(set TRACELENS_DEBUG=1 for the traceback)")
    loud = _tracelens("analyze", str(FAILOVER), debug=True, patch=patch)
    assert loud.returncode != 0
    assert "Traceback (most recent call last)" in loud.stderr and "RuntimeError: boom" in loud.stderr


# ====================================================================== 2. damaged but usable input


def test_nul_bytes_inside_a_good_log_are_reported_and_the_analysis_goes_on(tmp_path: Path) -> None:
    damaged = list(LINES)
    damaged[20] = damaged[20][:60] + "\x00\x00" + damaged[20][60:]  # line 21: inside the message
    damaged[0] = damaged[0].replace("Plugins", "P\x00lugins")  # line 1: the banner must not become text
    block = "\x00" * 4096  # a zero-filled block, then the record that followed it on the same line
    text = "\n".join(damaged[:100]) + "\n" + block + "\n".join(damaged[100:]) + "\n"
    path = write(tmp_path, "http_plugin.log", text)
    data = analysis(str(path))
    acc = data["accounting"]
    assert acc["reconciles"] and acc["unparsed"] == 3 and acc["split"] == 1
    (finding,) = [f for f in data["findings"] if f["code"] == "TL401"]
    assert finding["evidence"] == [f"{path}:{n}" for n in (1, 21, 101)]
    assert "3× control characters in the line: NUL" in finding["message"]
    # the request whose line was damaged is still there, and so are the failover and the failback
    assert {"TL001", "TL002", "TL101"} <= set(codes(data))
    parsed = [json.loads(x) for x in run_cli("parse", str(path)).stdout.splitlines()]
    assert [r["line"] for r in parsed if r["kind"] == "unparsed"] == [1, 21, 101]
    assert [r["kind"] for r in parsed if r["line"] == 101] == ["unparsed", "set_cookie_header"]  # cut from its NULs


def test_a_zero_block_near_the_start_does_not_make_a_log_binary(tmp_path: Path) -> None:
    # 2 KiB of NULs in the first few KiB is more than 10 % of what the sniff used to look at (8 KiB)
    path = write(tmp_path, "crash.log", "\n".join(LINES[:10]) + "\n" + "\x00" * 2048 + "\n" + "\n".join(LINES[10:]))
    data = analysis(str(path))
    assert data["accounting"]["unparsed"] == 1 and data["summary"]["requests"] == 4


def test_latin1_and_invalid_utf8_bytes(tmp_path: Path) -> None:
    text = FAILOVER.read_text(encoding="utf-8").replace(M2, "Zürich01")
    raw = text.encode("latin-1").replace(b"Writing the request:", b"Writing the \xff\xfe\x80request:")
    path = write(tmp_path, "latin1.log", raw)
    data = analysis(str(path))
    assert data["accounting"]["reconciles"] and data["accounting"]["unparsed"] == 0
    assert "Zürich01" in {m["name"] for m in data["members"]}
    failover = next(f for f in data["findings"] if f["code"] == "TL001")
    assert "Zürich01" in failover["message"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom"])
def test_byte_order_marks_and_utf16_from_windows_editors(tmp_path: Path, encoding: str) -> None:
    text = FAILOVER.read_text(encoding="utf-8").replace("\n", "\r\n")
    if encoding.endswith("-bom"):
        codec = encoding.removesuffix("-bom")
        raw = ("\ufeff" + text).encode(codec)
    else:
        raw = text.encode(encoding)
    path = write(tmp_path, "notepad.log", raw)
    data = analysis(str(path))
    assert data["accounting"]["typed"] == 190 and data["accounting"]["unparsed"] == 0
    assert sorted(codes(data)) == ["TL001", "TL002", "TL101"]


def test_a_10_mb_line_is_one_record_without_a_crash(tmp_path: Path) -> None:
    huge = LINES[11][:47] + "TRACE: ws_common: websphereHandleRequest: " + "x" * (10 * 1024 * 1024)
    path = log(tmp_path, "huge.log", [*LINES[:40], "y" * (10 * 1024 * 1024), huge, *LINES[40:]])
    data = analysis(str(path))
    acc = data["accounting"]
    assert acc["lines"] == 192 and acc["records"] == 192 and acc["reconciles"]
    # both are past the default record limit (1 MiB, issue 21): unparsed, `line too long`, their start kept
    assert acc["unparsed"] == 2 and acc["message"] == 0
    summary = run_cli("parse", "--summary", str(path))
    assert summary.exit_code == 0 and "unparsed 2" in summary.stdout
    assert "line too long: 10485760 bytes" in summary.stdout
    # with a limit above their length, each is still one record: the headered one a generic message
    acc = analysis("--max-record-bytes", "16M", str(path))["accounting"]
    assert acc["records"] == 192 and acc["unparsed"] == 1 and acc["message"] == 1


def test_truncated_gz_is_read_as_far_as_it_goes(tmp_path: Path) -> None:
    data = gzip.compress(FAILOVER.read_bytes())
    path = write(tmp_path, "http_plugin.log.1.gz", data[: len(data) * 3 // 4])
    report = analysis(str(path))
    assert 0 < report["accounting"]["lines"] < 190 and report["accounting"]["reconciles"]
    damaged = [f for f in report["findings"] if f["code"] == "TL403"]
    assert [f["message"] for f in damaged] == [f"{path}: compressed data ends early"]
    parse = run_cli("parse", str(path))
    assert parse.exit_code == 0
    assert parse.stderr.strip() == f"tracelens: warning: damaged input: {path}: compressed data ends early"


def test_corrupt_gz_keeps_what_came_before_the_corruption(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(FAILOVER.read_bytes() * 20, compresslevel=1))
    data[len(data) // 2: len(data) // 2 + 64] = b"\x00" * 64
    path = write(tmp_path, "corrupt.log.gz", bytes(data))
    report = analysis(str(path))
    assert report["accounting"]["lines"] > 0 and report["accounting"]["reconciles"]
    assert any(f["code"] == "TL403" and "corrupt" in f["message"] for f in report["findings"])


@pytest.mark.parametrize("end", ["\r\n", "\r"], ids=["CRLF", "CR"])
def test_windows_and_classic_mac_line_ends_give_the_same_analysis(tmp_path: Path, end: str) -> None:
    plain = analysis(str(FAILOVER))
    data = analysis(log(tmp_path, "crlf.log", LINES, end=end))
    assert data["accounting"]["typed"] == 190 and data["accounting"]["reconciles"]
    assert [(f["code"], f["message"]) for f in data["findings"]] == [(f["code"], f["message"])
                                                                       for f in plain["findings"]]


def test_mixed_timestamp_styles_in_one_file(tmp_path: Path) -> None:
    path = log(tmp_path, "mixed.log", lines(1, 102) + lines(103, 190, LINES_85))
    data = analysis(str(path))
    assert data["accounting"]["typed"] == 190 and data["accounting"]["unparsed"] == 0
    assert sorted(codes(data)) == ["TL001", "TL002", "TL101"]
    assert data["summary"]["verdicts"]["failover"] == 2 and data["summary"]["verdicts"]["failback"] == 1


# ---------------------------------------------------------------- clocks, restarts, rotation


def test_concatenated_the_wrong_way_round_time_goes_backwards(tmp_path: Path) -> None:
    path = log(tmp_path, "all.log", lines(100, 190) + lines(1, 99))
    data = analysis("--config", CFG, path)
    (jump,) = [f for f in data["findings"] if f["code"] == "TL404"]
    assert (jump["name"], jump["severity"], jump["line"], jump["pid"]) == ("input.time-backwards", "info", 92, PID)
    assert jump["evidence"] == [f"{path}:92"]
    assert "time goes backwards 1 time(s) in process 00001a2c (by up to 82 s)" in jump["message"]
    # the times still order the session: the span is earliest to latest, every request is in the session
    assert data["time_span"] == {"first": "2004-06-07T10:15:01", "last": "2004-06-07T10:16:23"}
    (session,) = data["sessions"]
    times = [r["time"] for r in session["requests"]]
    assert times == sorted(times) and len(times) == data["summary"]["requests"]
    timeline = run_cli("timeline", "--config", CFG, path)
    assert timeline.exit_code == 0 and M1 in timeline.stdout  # the lanes are drawn


def test_a_clock_set_back_an_hour(tmp_path: Path) -> None:
    # DST: from request 3 on, the clock reads an hour less
    later = [line.replace("10:15:", "09:15:").replace("10:16:", "09:16:") for line in lines(103, 190)]
    path = log(tmp_path, "dst.log", lines(1, 102) + later)
    data = analysis("--config", CFG, path)
    (jump,) = [f for f in data["findings"] if f["code"] == "TL404"]
    assert jump["line"] == 103 and "(by up to 60 min)" in jump["message"]
    assert data["summary"]["requests"] == 4 and data["accounting"]["reconciles"]
    assert len(data["sessions"][0]["requests"]) == 4
    assert data["time_span"]["first"] < data["time_span"]["last"]
    for command in (["timeline"], ["session", SESSION], ["requests"], ["members"]):
        assert run_cli(*command, path).exit_code == 0


def test_threads_racing_within_a_second_are_not_a_jump(tmp_path: Path) -> None:
    # line 40 is at 10:15:06; two threads of one process racing to write may swap by a fraction of a second
    def at(time: str) -> list[str]:
        return [*lines(1, 40), lines(41, 41)[0].replace("10:15:20", time), *lines(42, 190)]

    assert "TL404" not in codes(analysis(log(tmp_path, "race.log", at("10:15:05"))))
    (jump,) = [f for f in analysis(log(tmp_path, "jump.log", at("10:15:04")))["findings"] if f["code"] == "TL404"]
    assert jump["line"] == 41 and "(by up to 2 s)" in jump["message"]


def test_two_logs_concatenated_a_second_banner_is_a_restart(tmp_path: Path) -> None:
    # the first log ends inside request 2 after member1 was marked down; the process restarts
    later = [line.replace("10:15:", "10:25:").replace("10:16:", "10:26:") for line in LINES]
    path = log(tmp_path, "restarted.log", lines(1, 80) + later)
    data = analysis("--config", CFG, path)
    assert data["accounting"]["reconciles"] and "TL404" not in codes(data)
    requests = [json.loads(x) for x in run_cli("requests", "--format", "jsonl", path).stdout.splitlines()]
    assert [(r["first_line"], r["partial"]) for r in requests] == [
        (12, []), (41, ["end_missing"]), (92, []), (121, []), (183, []), (225, [])]
    members = [json.loads(x) for x in run_cli("members", "--format", "jsonl", path).stdout.splitlines()]
    m1 = next(m for m in members if m["member"] == M1)
    first = m1["down_intervals"][0]
    assert (first["line"], first["end_reason"], first["end_line"]) == (63, "restart", 81)


def test_pid_and_tid_reused_after_a_restart_start_a_new_request(tmp_path: Path) -> None:
    # request 1 is cut on thread 00000e78; after the restart the same pid and tid serve a new request
    later = [line.replace("10:15:", "10:25:") for line in lines(1, 40)]
    path = log(tmp_path, "reuse.log", lines(1, 30) + later)
    requests = [json.loads(x) for x in run_cli("requests", "--format", "jsonl", path).stdout.splitlines()]
    assert [(r["first_line"], r["last_line"], r["tid"], r["partial"]) for r in requests] == [
        (12, 30, "00000e78", ["end_missing"]), (42, 70, "00000e78", [])]
    assert requests[1]["served_by"] == M1 and requests[1]["status"] == 200


def test_a_request_cut_by_rotation_is_one_request(tmp_path: Path) -> None:
    # NOTE: this test used to expect two partial requests, one per file: a rotated set is one log, and
    # the request that the rotation cut goes on in the next file (issue 14)
    a = log(tmp_path, "http_plugin.log.1", lines(1, 30))
    b = log(tmp_path, "http_plugin.log", lines(31, 190))
    for given in ((a, b), (b, a)):
        requests = [json.loads(x) for x in run_cli("requests", "--format", "jsonl", *given).stdout.splitlines()]
        first = requests[0]
        assert (first["file"], first["first_line"], first["partial"]) == (a, 12, [])
        assert (first["end_file"], first["last_line"]) == (b, 40)  # line 40 of the log is line 10 of b
        assert first["status"] == 200 and first["served_by"] == M1
        data = analysis(*given)
        assert data["accounting"]["requests"] == 4 and data["accounting"]["requests_partial"] == 0
        assert [i["path"] for i in data["inputs"]] == [a, b]
        assert "TL402" not in codes(data) and "TL404" not in codes(data)


def test_stats_counters_that_reset(tmp_path: Path) -> None:
    text = (SAMPLES / "stats-85.log").read_text(encoding="utf-8").splitlines()
    reset = next(i for i, line in enumerate(text) if "Node01_member1 : pending" in line and i > 20)
    text[reset] = re.sub(r"affinityRequests \d+ totalRequests \d+", "affinityRequests 1 totalRequests 2", text[reset])
    data = analysis(log(tmp_path, "reset.log", text))
    resets = [f for f in data["findings"] if f["code"] == "TL501" and "went down" in f["message"]]
    assert len(resets) == 1 and resets[0]["line"] == reset + 1
    assert data["accounting"]["reconciles"]


# ---------------------------------------------------------------- absurd numbers, calendar ends, names

ABSURD = "9" * 30  # the grammar's largest number


def _absurd_trace(tmp_path: Path) -> str:
    text = "\n".join(LINES) + "\n"
    text = (text.replace("retry in 60", "retry in 99999999999").replace("retry in 55", f"retry in {ABSURD}")
            .replace("OS err=10061", "OS err=999999999999999").replace("weight -1.", f"weight {ABSURD}.")
            .replace("4 max, 0 cur.", f"{ABSURD} max, -{ABSURD} cur.")
            .replace("totalConnectionsCount 1.", f"totalConnectionsCount {ABSURD}."))
    return str(write(tmp_path, "absurd.log", text))


def _absurd_config(tmp_path: Path) -> str:
    big = "1" + "0" * 30
    text = (Path(CFG).read_text(encoding="utf-8").replace('LoadBalanceWeight="4"', f'LoadBalanceWeight="{big}"')
            .replace('RetryInterval="60"', f'RetryInterval="{"9" * 5000}"')
            .replace('ServerIOTimeout="60"', f'ServerIOTimeout="-{big}"', 1)
            .replace('ConnectTimeout="5"', 'ConnectTimeout="99999999999"', 1))
    return str(write(tmp_path, "absurd-cfg.xml", text))


@pytest.mark.parametrize("with_config", [False, True], ids=["inferred", "config"])
def test_absurd_numbers_never_overflow(tmp_path: Path, with_config: bool) -> None:
    path = _absurd_trace(tmp_path)
    config = ["--config", _absurd_config(tmp_path)] if with_config else []
    with_cfg = [["analyze"], ["analyze", "--format", "json"], ["check", "--format", "junit"], ["timeline"],
                ["timeline", "--session", SESSION], ["session", SESSION]]
    without = [["requests"], ["members", "--format", "jsonl"], ["parse", "--format", "table"]]
    for command in [*with_cfg, *([] if with_config else without)]:
        result = run_cli(*command, *config, path)
        assert result.exit_code in (0, 1), (command, result.stderr)
    for table in ("events", "requests", "sessions", "findings", "members"):
        for suffix in ("csv", "parquet", "jsonl"):
            out = tmp_path / f"{table}.{suffix}"
            result = run_cli("export", "--table", table, "--to", str(out), *config, path)
            assert result.exit_code == 0, (table, suffix, result.stderr)
    data = analysis(*config, path)
    if with_config:
        problems = [f["message"] for f in data["findings"] if f["code"] == "TL605"]
        weight = "LoadBalanceWeight='10000000000000000000...' is out of range (beyond ±2147483647); using the default 2"
        assert any(weight in p for p in problems)
        assert any("RetryInterval='99999999999999999999...' is out of range" in p for p in problems)
        assert any("ServerIOTimeout=" in p and "out of range" in p for p in problems)


@pytest.mark.parametrize(("date", "date_85"), [("Fri Dec 31 23:5", "31/Dec/9999:23:5"),
                                                 ("Mon Jan 01 00:0", "01/Jan/0001:00:0")], ids=["9999", "0001"])
def test_times_at_the_ends_of_the_calendar(tmp_path: Path, date: str, date_85: str) -> None:
    year = date_85[7:11]
    plain = [line.replace("Mon Jun 07 10:1", date).replace(" 2004]", f" {year}]") for line in LINES]
    styled = [line.replace("07/Jun/2004:10:1", date_85) for line in LINES_85]
    for name, records in (("asctime.log", plain), ("85.log", styled)):
        path = log(tmp_path, name, records)
        for command in (["analyze"], ["timeline"], ["timeline", "--since", "00:00:00", "--until", "23:59:59"],
                        ["timeline", "--session", SESSION], ["export", "--table", "requests", "--to",
                                                              str(tmp_path / "r.parquet")]):
            result = run_cli(*command, path)
            assert result.exit_code in (0, 1), (name, command, result.stderr)
        assert analysis(path)["accounting"]["typed"] == 190


def test_unicode_member_names(tmp_path: Path) -> None:
    text = FAILOVER.read_text(encoding="utf-8").replace(M2, "Zürich01").replace(M1, "成员-1")
    path = str(write(tmp_path, "unicode.log", text))
    data = analysis(path)
    assert {m["name"] for m in data["members"]} == {"Zürich01", "成员-1"}
    assert sorted(codes(data)) == ["TL001", "TL002", "TL101"]
    for command in (["analyze"], ["timeline"], ["members"], ["requests"], ["session", SESSION]):
        result = run_cli(*command, path)
        assert result.exit_code == 0 and "Zürich01" in result.stdout


# ====================================================================== 3. hostile plugin-cfg.xml, through the CLI

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Config Name="&lol4;"/>
"""


@pytest.mark.parametrize("command", [["analyze"], ["check"], ["timeline"], ["session", SESSION]], ids=" ".join)
@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        (LAUGHS, "DOCTYPE and entity declarations are not allowed"),
        ('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<Config Name="&e;"/>\n',
         "DOCTYPE and entity declarations are not allowed"),
        ('<?xml version="1.0"?>\n<!DOCTYPE Config SYSTEM "http://example.invalid/x.dtd">\n<Config/>\n',
         "DOCTYPE and entity declarations are not allowed"),
        ("<Config>" + "<a>" * 100 + "</a>" * 100 + "</Config>", "elements nest deeper than 64 levels"),
        ("<Config><ServerCluster>", "not well-formed XML"),
        ("<html><body>not a config</body></html>", "the root element is <html>, not <Config>"),
        ("", "is empty"),
    ],
    ids=["billion-laughs", "external-entity", "external-dtd", "100-deep", "truncated", "wrong-root", "empty"],
)
def test_unusable_config_is_one_line_and_exit_2(tmp_path: Path, text: str, phrase: str, command: list[str]) -> None:
    config = write(tmp_path, "plugin-cfg.xml", text)
    line = one_line_error(run_cli(*command, "--config", str(config), str(FAILOVER)), phrase)
    assert "/etc/passwd" not in line or "root:" not in line


def test_config_with_missing_attributes_and_wrong_types_is_used_with_problems(tmp_path: Path) -> None:
    text = (Path(CFG).read_text(encoding="utf-8")
            .replace('RetryInterval="60"', 'RetryInterval="sixty"')
            .replace('LoadBalanceWeight="1"', 'LoadBalanceWeight="heavy"')
            .replace('IgnoreAffinityRequests="true"', 'IgnoreAffinityRequests="maybe"')
            .replace('<Transport Hostname="app2.itso.ibm.com" Port="9080"', '<Transport Port="http"')
            .replace("</PrimaryServers>", '<Server/></PrimaryServers>')
            .replace('<Route ServerCluster="PluginCluster"', '<Route'))
    config = write(tmp_path, "odd-cfg.xml", text)
    data = analysis("--config", str(config), str(FAILOVER))
    problems = [f["message"] for f in data["findings"] if f["code"] == "TL605"]
    assert any("RetryInterval='sixty' is not a whole number" in p for p in problems)
    assert any("LoadBalanceWeight='heavy' is not a whole number" in p for p in problems)
    assert any("IgnoreAffinityRequests='maybe'" in p for p in problems)
    assert len(problems) >= 5, problems
    assert {"TL001", "TL002", "TL101"} <= set(codes(data))  # the analysis went on
    check = run_cli("check", "--select", "config.problem", "--config", str(config), str(FAILOVER))
    assert check.exit_code == 1 and "TL605 config.problem [warning]" in check.stdout


# ====================================================================== 6. resource bounds

HEADER = "[Mon Jun 07 10:15:01 2004] 00001a2c 00000e78 - "
MB = 1024 * 1024


@pytest.mark.parametrize("lenient", [False, True], ids=["strict-grammar", "lenient"])
@pytest.mark.parametrize(
    "line",
    ["'" * MB, ":" * MB, "[" * MB, HEADER + "TRACE:" + " " * MB, HEADER + "TRACE: " + " " * MB + "x",
     HEADER + "TRACE: ws_common: f: " + "'" * MB, HEADER + "TRACE: " + "[" * MB, HEADER * (MB // len(HEADER))],
    ids=["quotes", "colons", "brackets", "header-spaces", "header-spaces-text", "header-quotes", "header-brackets",
         "headers"],
)
def test_pathological_lines_finish(tmp_path: Path, line: str, lenient: bool) -> None:
    # no timing assertion: the test is that they finish (each takes well under a second today)
    path = log(tmp_path, "evil.log", [LINES[0], line, LINES[-1]])
    flags = ["--lenient"] if lenient else []
    result = run_cli("parse", "--summary", *flags, path)
    assert result.exit_code == 0
    data = analysis(*flags, path)
    acc = data["accounting"]
    assert acc["reconciles"] and acc["lines"] == 3


def test_sessions_beyond_the_limit_are_counted_not_tracked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sessions, "SESSION_LIMIT", 12)
    path = str(TRACES / "uneven-balance.log")
    data = analysis(path)
    assert data["summary"]["sessions"] == 12 and data["summary"]["requests"] == 30
    (limit,) = [f for f in data["findings"] if f["code"] == "TL405"]
    assert (limit["name"], limit["severity"]) == ("input.limit", "warning")
    assert limit["message"] == ("18 session(s) beyond the limit of 12 were not tracked: their 18 request(s) are "
                                "replayed and judged, but belong to no session")
    assert sum(data["summary"]["verdicts"].values()) == 30  # every request was still judged
    monkeypatch.setattr(sessions, "SESSION_LIMIT", 100_000)
    assert "TL405" not in codes(analysis(path))


# ====================================================================== 7. the README's Troubleshooting section


def test_troubleshooting_shows_what_the_tool_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Troubleshooting"):readme.index("## Sample logs")]
    shown = " ".join(section.split())
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs").mkdir()
    write(tmp_path, "core.dmp", bytes(range(256)) * 16)
    write(tmp_path, "http_plugin.log.bz2", bz2.compress(FAILOVER.read_bytes()))
    write(tmp_path, "empty.log", "")
    write(tmp_path, "blank.log", "\n\n")
    gz = gzip.compress(FAILOVER.read_bytes())
    write(tmp_path, "http_plugin.log.1.gz", gz[:20])
    errors = [
        run_cli("analyze", "http_plugin.log"), run_cli("analyze", "logs/"), run_cli("analyze", "core.dmp"),
        run_cli("analyze", "http_plugin.log.bz2"), run_cli("analyze", "empty.log"), run_cli("analyze", "blank.log"),
        run_cli("analyze", "http_plugin.log.1.gz"),
    ]
    for result in errors:
        line = one_line_error(result)
        assert line in shown, line
    write(tmp_path, "http_plugin.log.1.gz", gz[: len(gz) * 3 // 4])
    warning = run_cli("parse", "http_plugin.log.1.gz").stderr.strip()
    assert warning in shown, warning
    damaged = list(LINES)
    damaged[20] = damaged[20][:60] + "\x00\x00" + damaged[20][60:]
    log(tmp_path, "http_plugin.log", damaged)
    nul = next(x for x in run_cli("check", "http_plugin.log").stdout.splitlines() if "TL401" in x)
    assert nul in shown, nul
    write(tmp_path, "excerpt.log", (SAMPLES / "real-03-redbook-ex9-8-ordered-routing.log").read_bytes())
    excerpt = next(x for x in run_cli("check", "excerpt.log").stdout.splitlines() if "TL401" in x)
    assert excerpt.split(", 3, ")[0] in shown, excerpt
    assert run_cli("check", "--lenient", "--select", "input.unparsed", "excerpt.log").exit_code == 0
    log(tmp_path, "all.log", lines(100, 190) + lines(1, 99))
    backwards = next(x for x in run_cli("check", "all.log").stdout.splitlines() if "TL404" in x)
    assert backwards in shown, backwards
    log(tmp_path, "pasted.log", [*LINES, "garbage pasted from a ticket"])
    for line in run_cli("check", "--strict", "pasted.log").stderr.strip().splitlines():
        assert line in shown, line
    # issue 21: a line that never ends, a decompression bomb, a FIFO given twice
    log(tmp_path, "http_plugin.log", [*LINES, "\x00" * (2 << 20)])
    too_long = next(x for x in run_cli("check", "http_plugin.log").stdout.splitlines() if "TL401" in x)
    assert too_long in shown, too_long
    write(tmp_path, "bomb.log.gz", gzip.compress(FAILOVER.read_bytes()) + gzip.compress(b"\x00" * (1 << 20)) * 80)
    bomb = next(x for x in run_cli("check", "bomb.log.gz").stdout.splitlines() if "TL403" in x)
    assert bomb.split(" TL403 input.damaged [warning] ")[1] in shown, bomb
    os.mkfifo(tmp_path / "p")
    assert one_line_error(run_cli("analyze", "p", "p")) in shown


def test_requests_beyond_the_limit_are_counted_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracelens.api import analyze as run
    from tracelens.requests import sessions

    monkeypatch.setattr(sessions, "REQUEST_LIMIT", 2)
    report = run([str(SAMPLES / "failover-failback.log")])
    assert len(report.requests) == 2  # the first two to complete
    limit = [f for f in report.findings if f.name == "input.limit"]
    assert len(limit) == 1 and "2 request(s) after the first 2 were counted but not kept" in limit[0].message
    # member state is still followed to the end: the down interval ends at the failback's response
    (iv,) = report.tracker.intervals()
    assert iv.end_line == 188


#: malformed headers, each with the reason the strict grammar gives it
_BAD_HEADERS = {
    "[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 TRACE: ws_common: websphereGetStream: Connect timeout fired":
        "malformed process or thread id",
    "[Wed Dec 3 15:40:13 2014] 00000dbc 00000e78 - TRACE: ws_common: websphereGetStream: Connect timeout fired":
        "malformed timestamp",
    "[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 - INFO: ws_common: websphereGetStream: Connect timeout fired":
        "unknown level word",
}


@pytest.mark.parametrize("order", ["lenient first", "strict first"])
def test_unparsed_reasons_are_the_same_with_and_without_lenient_in_any_order(order: str) -> None:
    """The reason of an unparsed record is matched with the parser that failed on it, and cached per parser.

    Before, the lenient parser's failures were matched against the strict parser's states (every one came
    out "does not follow the log grammar") and cached under keys the strict parser's failures share.
    """
    from tracelens.parse import parser
    from tracelens.read.reader import RawRecord

    parser._reason_cache.clear()
    records = [RawRecord("http_plugin.log", n, text) for n, text in enumerate(_BAD_HEADERS, start=1)]
    runs = [True, False] if order == "lenient first" else [False, True]
    for lenient in runs:
        got = [str(getattr(e, "reason", e.kind)).split(" (column")[0]
               for e in parser.parse_records(records, lenient=lenient)]
        assert got == list(_BAD_HEADERS.values()), (lenient, got)
