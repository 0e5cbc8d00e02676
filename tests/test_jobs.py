"""--jobs: the same input gives the same output, byte for byte, whatever the number of processes."""

from __future__ import annotations

import gzip
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, SAMPLES, run_cli
from tests.test_fastpath import LINES
from tracelens import api, parallel
from tracelens.parse.summary import ParseSummary
from tracelens.read.reader import ReadStats


@pytest.fixture
def split_small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_SPLIT_BYTES", 1)  # split even the small test files


def _generated(tmp_path: Path, lines: int, seed: int) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    path = tmp_path / f"gen-{seed}.log"
    text = [line + "\n" for line in generate(lines, seed=seed)]
    # damage the reader and the parser must report wherever it falls: blank lines, a header-less line,
    # a truncated header, an interleaved pair, a Latin-1 line
    for i, extra in ((7, "\n"), (900, "ws_common: websphereGetStream: Connect timeout fired\n"),
                     (1500, "[Mon Mar 11 09:0\n"), (2100, LINES[3] + LINES[4] + "\n"), (2500, "\n")):
        text.insert(i, extra)
    data = "".join(text).encode("utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + data + "caf\u00e9 \xe9t\u00e9\n".encode("latin-1"))
    return path


def _count(path: Path, jobs: int) -> tuple[ParseSummary, ReadStats]:
    stats, summary = ReadStats(), ParseSummary()
    api.count_records([str(path)], stats, summary, jobs=jobs)
    return summary, stats


@pytest.mark.usefixtures("split_small")
@pytest.mark.parametrize("jobs", [2, 3, 5])
def test_counting_in_parts_gives_the_same_summary(tmp_path: Path, jobs: int, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _generated(tmp_path, 3000, seed=3)
    one = _count(path, 1)
    assert one[0].kinds["unparsed"] >= 2 and one[1].blank_lines == 2 and one[1].latin1_lines == 1
    parts: list[int] = []
    run = parallel.run_tasks
    monkeypatch.setattr(parallel, "run_tasks", lambda fn, tasks, n: parts.append(len(tasks)) or run(fn, tasks, n))
    assert _count(path, jobs) == one
    assert parts == [jobs]  # the file was counted in parts, by worker processes


@pytest.mark.usefixtures("split_small")
@pytest.mark.parametrize("path", [SAMPLES / "failover-failback.log", ROOT / "tests" / "traces" / "interleaved.log"],
                         ids=lambda p: p.name)
def test_every_sample_counts_the_same_in_parts(path: Path) -> None:
    assert _count(path, 4) == _count(path, 1)


@pytest.mark.usefixtures("split_small")
def test_a_file_given_twice_counts_the_same_in_parts(tmp_path: Path) -> None:
    path = _generated(tmp_path, 2000, seed=8)
    counts = {}
    for jobs in (1, 3):
        stats, summary = ReadStats(), ParseSummary()
        api.count_records([str(path), str(path)], stats, summary, jobs=jobs)
        counts[jobs] = (summary, stats)
    assert counts[3] == counts[1]
    assert counts[1][1].physical_lines == 2 * counts[1][1].lines_by_file[str(path)]


@pytest.mark.usefixtures("split_small")
def test_parse_summary_output_is_byte_identical(tmp_path: Path) -> None:
    path = _generated(tmp_path, 3000, seed=4)
    outputs = {jobs: run_cli("parse", "--summary", "--jobs", str(jobs), str(path)) for jobs in (1, 2, 4)}
    assert {r.exit_code for r in outputs.values()} == {0}
    assert outputs[1].output == outputs[2].output == outputs[4].output
    assert "unparsed" in outputs[1].output


def test_plain_ranges_cut_at_line_starts(tmp_path: Path) -> None:
    from tracelens.read.reader import plain_ranges
    path = tmp_path / "a.log"
    path.write_text("".join(line + "\n" for line in LINES[:200]), encoding="utf-8")
    ranges = plain_ranges(str(path), 3, 1)
    assert ranges is not None and len(ranges) == 3
    data = path.read_bytes()
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (_, end), (start, _) in pairwise(ranges):
        assert end == start and data[start - 1:start] == b"\n"
    gz = tmp_path / "a.log.gz"
    gz.write_bytes(gzip.compress(data))
    assert plain_ranges(str(gz), 3, 1) is None  # a compressed file is read by one process
    assert plain_ranges(str(path), 3, len(data) + 1) is None  # too small to be worth splitting


def test_jobs_zero_means_automatic(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parallel.resolve_jobs(0) == parallel.available_cores() >= 1  # counting: every core
    assert parallel.resolve_jobs(3) == parallel.resolve_jobs(3, analysis=True) == 3  # as asked
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    assert parallel.resolve_jobs(0, analysis=True) == 1  # two cores: the analysis stays in one process
    monkeypatch.setattr(parallel, "available_cores", lambda: 8)
    assert parallel.resolve_jobs(0, analysis=True) == 8


@pytest.mark.usefixtures("split_small")
@pytest.mark.parametrize("jobs", [2, 3, 4])
def test_analyze_json_is_byte_identical_whatever_jobs(tmp_path: Path, jobs: int) -> None:
    path = _generated(tmp_path, 12000, seed=9)
    one = run_cli("analyze", "--format", "json", "--jobs", "1", str(path))
    many = run_cli("analyze", "--format", "json", "--jobs", str(jobs), str(path))
    assert one.exit_code == many.exit_code
    assert many.output == one.output
    report = __import__("json").loads(one.output)
    # the trace exercises what is merged: several processes, members, down intervals, findings
    assert report["summary"]["processes"] >= 4 and report["accounting"]["unparsed"] >= 2
    assert any(m["down_intervals"] for p in report["processes"] for m in p["members"])
    assert report["findings"]


@pytest.mark.usefixtures("split_small")
def test_several_files_and_every_command_agree_whatever_jobs(tmp_path: Path) -> None:
    first, second = _generated(tmp_path, 5000, seed=21), _generated(tmp_path, 5000, seed=22)
    for command in (["analyze", "--format", "json"], ["requests", "--format", "jsonl"],
                    ["members", "--format", "jsonl"], ["check", "--format", "json"]):
        outputs = [run_cli(*command, "--jobs", str(jobs), str(first), str(second)) for jobs in (1, 2, 3)]
        assert outputs[0].output == outputs[1].output == outputs[2].output, command
        assert outputs[0].exit_code == outputs[1].exit_code == outputs[2].exit_code


@pytest.mark.usefixtures("split_small")
def test_a_file_given_twice_is_analysed_the_same(tmp_path: Path) -> None:
    path = _generated(tmp_path, 3000, seed=31)
    outputs = [run_cli("analyze", "--format", "json", "--jobs", str(jobs), str(path), str(path)) for jobs in (1, 3)]
    assert outputs[0].output == outputs[1].output


@pytest.mark.usefixtures("split_small")
def test_the_analysis_really_runs_in_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _generated(tmp_path, 3000, seed=2)
    seen: list[int] = []
    run = parallel.run_tasks
    monkeypatch.setattr(parallel, "run_tasks", lambda fn, tasks, n: seen.append(len(tasks)) or run(fn, tasks, n))
    report = api.analyze([str(path)], jobs=3)
    assert seen == [3] and report.requests


@pytest.mark.usefixtures("split_small")
@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), lines=st.integers(300, 4000), jobs=st.integers(2, 4))
def test_generated_traces_give_the_same_analysis_whatever_jobs(tmp_path_factory: pytest.TempPathFactory, seed: int,
                                                                 lines: int, jobs: int) -> None:
    """Any generated trace (processes, outages, failovers, plus damage): the same JSON for 1 and N jobs."""
    path = _generated(tmp_path_factory.mktemp("jobs"), lines, seed)
    one = json_report_text(path, 1)
    assert json_report_text(path, jobs) == one
    counted = _count(path, 1)
    assert _count(path, jobs) == counted


def json_report_text(path: Path, jobs: int) -> str:
    import io

    from tracelens.reporters.json_report import write_json

    out = io.StringIO()
    write_json(api.analyze([str(path)], jobs=jobs), out)
    return out.getvalue()


def test_equal_verdict_reasons_are_one_object(tmp_path: Path) -> None:
    # memory: a verdict is kept per request, and most say what many others say
    report = api.analyze([str(_generated(tmp_path, 3000, seed=3))], jobs=1)
    reasons = [v.reason for v in report.verdicts]
    assert len(set(reasons)) < len(reasons) / 2
    assert len({id(r) for r in reasons}) == len(set(reasons))
    expected = [v.expected for v in report.verdicts]
    assert len({id(e) for e in expected}) == len(set(expected))
