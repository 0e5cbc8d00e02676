"""Fuzzing: real lines of the sample logs, damaged, through ``analyze`` and ``parse``.

Each example takes a few real lines (every sample log and scenario trace), damages them as captured
files are damaged — cut short, bytes flipped (invalid UTF-8 included), two records spliced into one
line, random bytes inserted, CR and NUL injected, lines repeated or swapped, CRLF line ends — writes
them to a file and runs the analysis and the parser on it. Neither may raise (an input that is
unusable as a whole is the one clear error, ``InputError``), and every physical line must be
accounted for: lines - blank + split - joined = records = typed + message + unparsed.

The last two feed whole files as a hostile or unlucky user would (issue 21): random bytes, the sample
logs with bytes flipped anywhere, cut short or with a NUL block, gzip-compressed then cut or
corrupted, UTF-16 with and without a byte-order mark, lines longer than the record limit; to the
reader (both of its paths), the parser and the analysis. Only the documented refusals may be raised.

Marked ``fuzz``: the normal test run takes ``TRACELENS_FUZZ_EXAMPLES`` (default 50) examples per test,
``.ci/fuzz`` takes 2000, within ``TRACELENS_FUZZ_SECONDS`` per test (none by default; ``.ci/fuzz``: 60):
the examples left when a test's time is up are drawn but not run, so that CI time stays bounded.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rich.console import Console

from tests.conftest import ROOT, SAMPLES, run_cli
from tracelens.api import analyze, count_records, iter_events
from tracelens.errors import InputError
from tracelens.findings.base import Severity
from tracelens.parse.events import Unparsed
from tracelens.parse.summary import Accounting, ParseSummary
from tracelens.read.reader import KEPT_BYTES, ReadStats
from tracelens.reporters import gate, json_report, rich_report

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("TRACELENS_FUZZ_EXAMPLES", "50"))
SECONDS = float(os.environ.get("TRACELENS_FUZZ_SECONDS") or 0)
_started: dict[str, float] = {}


def out_of_time(test: str) -> bool:
    """Whether ``test`` has used its ``TRACELENS_FUZZ_SECONDS``: its remaining examples are skipped."""
    if not SECONDS:
        return False
    started = _started.setdefault(test, time.monotonic())
    return time.monotonic() - started > SECONDS


FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                print_blob=True)

LOGS = sorted([*SAMPLES.glob("*.log"), *(ROOT / "tests" / "traces").glob("*.log")])
SOURCE = sorted({line for p in LOGS for line in p.read_bytes().splitlines() if line.strip()})
#: what an unusable input may be refused for; anything else raised is a bug
REFUSALS = ("binary data", "empty input", "-compressed data", "not a readable gzip file")
#: bytes damage tends to bring: control characters, the grammar's separators, digits, high bytes
NOISE = st.sampled_from([b"\x00", b"\r", b"\n", b"\x1b", b"\t", b"[", b"]", b":", b"'", b" ", b"-", b"9",
                         b"\xff", b"\xc3", b"\xe2\x80", b"\xa0"])


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = draw(mutated_lines())
    # formats the reader recognises by their first bytes: not what this test is about
    assume(not data.startswith((b"\x1f\x8b", b"\xff\xfe", b"\xfe\xff", b"BZh", b"\xfd7zXZ", b"PK\x03\x04",
                                b"\x28\xb5\x2f\xfd")))
    return data


@st.composite
def mutated_lines(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.sampled_from(SOURCE), min_size=1, max_size=12))
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        at = draw(st.integers(0, len(line)))
        op = draw(st.sampled_from(["truncate", "flip", "splice", "insert", "noise", "cr", "nul", "join", "repeat",
                                   "swap", "blank"]))
        if op == "truncate":
            lines[i] = line[:at]
        elif op == "flip" and line:
            at = min(at, len(line) - 1)
            lines[i] = line[:at] + bytes([draw(st.integers(0, 255))]) + line[at + 1:]
        elif op == "splice":  # the start of one record, the end of another
            other = draw(st.sampled_from(SOURCE))
            lines[i] = line[:at] + other[draw(st.integers(0, len(other))):]
        elif op == "insert":
            lines[i] = line[:at] + draw(st.binary(max_size=40)) + line[at:]
        elif op == "noise":
            lines[i] = line[:at] + draw(NOISE) * draw(st.integers(1, 8)) + line[at:]
        elif op == "cr":
            lines[i] = line[:at] + b"\r" + line[at:]
        elif op == "nul":
            lines[i] = line[:at] + b"\x00" * draw(st.sampled_from([1, 2, 512])) + line[at:]
        elif op == "join":  # another process's record written into the middle of this one
            lines[i] = line[:at] + draw(st.sampled_from(SOURCE)) + line[at:]
        elif op == "repeat":
            lines.insert(i, line)
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines.insert(i, draw(st.sampled_from([b"", b"   ", b"\t"])))
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    return end.join(lines) + draw(st.sampled_from([end, b""]))


WHOLE = [p.read_bytes() for p in LOGS]
#: what a long line or a damaged block is made of
FILL = st.sampled_from([b"x", b"\x00", b"[", b" ", b"\xff", b"\r", b"] 0 0 - TRACE: "])


@st.composite
def hostile_file(draw: st.DrawFn) -> bytes:
    """A whole input as a hostile or unlucky user gives it (see the module's docstring)."""
    kind = draw(st.sampled_from(["random", "flipped", "lines", "long", "gzip", "utf16"]))
    if kind == "random":
        return draw(st.binary(max_size=4096))
    if kind == "lines":
        data = draw(mutated_lines())
    else:
        whole = draw(st.sampled_from(WHOLE))
        data = whole[:draw(st.integers(0, len(whole)))] if draw(st.booleans()) else whole
    if kind in ("flipped", "gzip", "utf16"):
        flipped = bytearray(data)
        for _ in range(draw(st.integers(0, 8)) if flipped else 0):
            flipped[draw(st.integers(0, len(flipped) - 1))] = draw(st.integers(0, 255))
        data = bytes(flipped)
        if draw(st.booleans()):  # a zero-filled block, as a crash leaves, anywhere
            at = draw(st.integers(0, len(data)))
            data = data[:at] + b"\x00" * draw(st.sampled_from([1, 4096, 70_000])) + data[at:]
    if kind == "long":  # past the record limit (the test's is 4 KiB or 1 MiB), with or without a line end
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(FILL) * draw(st.integers(4000, 12_000)) + data[at:]
    if kind == "gzip":
        data = gzip.compress(data, compresslevel=1)
        if draw(st.booleans()):
            data = data[:draw(st.integers(0, len(data)))]  # copied while it was written
        elif draw(st.booleans()):
            data += gzip.compress(draw(st.binary(max_size=200)))  # another member
        else:
            bad = bytearray(data)
            bad[draw(st.integers(0, len(bad) - 1))] ^= 0xFF
            data = bytes(bad)
    if kind == "utf16":
        codec = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be"]))
        data = data.decode("utf-8", "replace").encode(codec)
        if draw(st.booleans()):
            data = data[:draw(st.integers(0, len(data)))]  # an odd length too
    return data


def physical_lines(data: bytes) -> int:
    """What any text tool counts: LF ends a line; CR does, in a file whose head has CRs and no LF."""
    head = data[:65536]
    end = b"\r" if b"\r" in head and b"\n" not in head else b"\n"
    return data.count(end) + (1 if data and not data.endswith(end) else 0)


def accounted(acc: Accounting, data: bytes) -> None:
    assert acc.reconciles, acc.sentence()
    assert acc.physical_lines == physical_lines(data)
    assert acc.records == acc.physical_lines - acc.blank_lines + acc.split_records - acc.joined_lines
    assert acc.records == acc.typed + acc.messages + acc.unparsed


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _file(workdir: Path, data: bytes) -> str:
    path = workdir / "http_plugin.log"
    path.write_bytes(data)
    return str(path)


def _refused(exc: InputError) -> None:
    assert any(reason in exc.message for reason in REFUSALS), exc.message


@FUZZ
@given(data=damaged(), lenient=st.booleans())
def test_analyze_never_raises_and_accounts_for_every_line(workdir: Path, data: bytes, lenient: bool) -> None:
    if out_of_time("test_analyze_never_raises_and_accounts_for_every_line"):
        return
    path = _file(workdir, data)
    try:
        report = analyze([path], lenient=lenient)
    except InputError as exc:
        _refused(exc)
        return
    accounted(report.accounting, data)
    assert len(report.verdicts) == len(report.requests)
    # every reporter of the analysis, too
    json.dumps(json_report.report_dict(report))
    rich_report.render(report, Console(file=io.StringIO(), width=100, force_terminal=True))
    gate.write_text(report.findings, Severity.WARNING, False, io.StringIO())


@FUZZ
@given(data=damaged(), lenient=st.booleans())
def test_parse_never_raises_and_accounts_for_every_line(workdir: Path, data: bytes, lenient: bool) -> None:
    if out_of_time("test_parse_never_raises_and_accounts_for_every_line"):
        return
    path = _file(workdir, data)
    stats, summary = ReadStats(), ParseSummary()
    try:
        events = list(iter_events([path], stats, lenient=lenient))
    except InputError as exc:
        _refused(exc)
        return
    for event in events:
        summary.add(event)
        json.dumps(event.to_dict())
    accounted(summary.accounting(stats), data)
    # the counting path of `parse --summary` builds only the unparsed records: the same numbers
    counted_stats, counted = ReadStats(), ParseSummary()
    count_records([path], counted_stats, counted, lenient=lenient)
    assert counted.accounting(counted_stats) == summary.accounting(stats)
    assert counted.unparsed_reasons == summary.unparsed_reasons


@FUZZ
@given(data=damaged())
def test_the_command_line_exits_0_1_or_2_with_one_line(workdir: Path, data: bytes) -> None:
    if out_of_time("test_the_command_line_exits_0_1_or_2_with_one_line"):
        return
    path = _file(workdir, data)
    for args in (["analyze", "--format", "json"], ["parse", "--summary"], ["check", "--strict"]):
        result = run_cli(*args, path)  # run_cli re-raises any unexpected exception
        assert result.exit_code in (0, 1, 2), (args, result.stderr)
        if result.exit_code == 2:
            assert result.stderr.strip().splitlines()[-1].startswith("tracelens: error: ")
        elif args[0] == "analyze":
            acc = json.loads(result.stdout)["accounting"]
            assert acc["reconciles"] and acc["lines"] == physical_lines(data)


@FUZZ
@given(data=hostile_file(), lenient=st.booleans(), limit=st.sampled_from([4096, 1 << 20]))
def test_hostile_files_never_raise_through_reader_parser_and_analysis(workdir: Path, data: bytes, lenient: bool,
                                                                       limit: int) -> None:
    if out_of_time("test_hostile_files_never_raise_through_reader_parser_and_analysis"):
        return
    path = _file(workdir, data)
    try:
        report = analyze([path], lenient=lenient, max_record_bytes=limit)
    except InputError as exc:
        _refused(exc)
        return
    acc = report.accounting
    assert acc.reconciles, acc.sentence()
    assert acc.records == acc.typed + acc.messages + acc.unparsed
    json.dumps(json_report.report_dict(report))
    rich_report.render(report, Console(file=io.StringIO(), width=100, force_terminal=True))
    gate.write_text(report.findings, Severity.WARNING, False, io.StringIO())
    # every record, by the per-line reader and the parser; then counted by the bulk reader: the same numbers
    stats, summary = ReadStats(), ParseSummary()
    for event in iter_events([path], stats, lenient=lenient, max_record_bytes=limit):
        summary.add(event)
        json.dumps(event.to_dict())
        if isinstance(event, Unparsed) and event.reason.startswith("line too long: "):
            assert len(event.text) <= KEPT_BYTES and int(event.reason.split()[3]) > limit  # only its start kept
    assert summary.accounting(stats) == acc
    counted_stats, counted = ReadStats(), ParseSummary()
    count_records([path], counted_stats, counted, lenient=lenient, max_record_bytes=limit)
    assert counted.accounting(counted_stats) == acc
    assert counted.unparsed_reasons == summary.unparsed_reasons


@FUZZ
@given(data=hostile_file())
def test_a_hostile_file_on_the_command_line_is_exit_0_1_or_2_with_one_line(workdir: Path, data: bytes) -> None:
    if out_of_time("test_a_hostile_file_on_the_command_line_is_exit_0_1_or_2_with_one_line"):
        return
    path = _file(workdir, data)
    for args in (["analyze", "--format", "json"], ["parse", "--summary", "--max-record-bytes", "4K"]):
        result = run_cli(*args, path)  # run_cli re-raises any unexpected exception
        assert result.exit_code in (0, 1, 2), (args, result.stderr)
        if result.exit_code == 2:
            assert result.stderr.strip().splitlines()[-1].startswith("tracelens: error: ")
