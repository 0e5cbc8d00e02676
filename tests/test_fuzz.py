"""Fuzzing: real lines of the sample logs, damaged, through ``analyze`` and ``parse``.

Each example takes a few real lines (every sample log and scenario trace), damages them as captured
files are damaged — cut short, bytes flipped (invalid UTF-8 included), two records spliced into one
line, random bytes inserted, CR and NUL injected, lines repeated or swapped, CRLF line ends — writes
them to a file and runs the analysis and the parser on it. Neither may raise (an input that is
unusable as a whole is the one clear error, ``InputError``), and every physical line must be
accounted for: lines - blank + split - joined = records = typed + message + unparsed.

Marked ``fuzz``: the normal test run takes ``TRACELENS_FUZZ_EXAMPLES`` (default 50) examples per test,
``.ci/fuzz`` takes 2000.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rich.console import Console

from tests.conftest import ROOT, SAMPLES, run_cli
from tracelens.api import analyze, count_records, iter_events
from tracelens.errors import InputError
from tracelens.findings.base import Severity
from tracelens.parse.summary import Accounting, ParseSummary
from tracelens.read.reader import ReadStats
from tracelens.reporters import gate, json_report, rich_report

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("TRACELENS_FUZZ_EXAMPLES", "50"))
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
    data = end.join(lines) + draw(st.sampled_from([end, b""]))
    # formats the reader recognises by their first bytes: not what this test is about
    assume(not data.startswith((b"\x1f\x8b", b"\xff\xfe", b"\xfe\xff", b"BZh", b"\xfd7zXZ", b"PK\x03\x04",
                                b"\x28\xb5\x2f\xfd")))
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
    path = _file(workdir, data)
    for args in (["analyze", "--format", "json"], ["parse", "--summary"], ["check", "--strict"]):
        result = run_cli(*args, path)  # run_cli re-raises any unexpected exception
        assert result.exit_code in (0, 1, 2), (args, result.stderr)
        if result.exit_code == 2:
            assert result.stderr.strip().splitlines()[-1].startswith("tracelens: error: ")
        elif args[0] == "analyze":
            acc = json.loads(result.stdout)["accounting"]
            assert acc["reconciles"] and acc["lines"] == physical_lines(data)
