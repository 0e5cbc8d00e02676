"""The bulk path (blocks split by one regular expression) gives exactly what the per-line path gives:
the same records with the same numbers, the same reader statistics, the same counts and the same
analysis — on every sample log and trace, on a generated benchmark trace, and on files hypothesis
builds from real lines, damaged lines, blank lines, CR, NUL, stray bytes and byte-order marks, read
with blocks small enough to cut everywhere."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, SAMPLES
from tests.test_fastpath import LINES, LOGS, _mutations
from tracelens import api
from tracelens.errors import InputError
from tracelens.parse import events as ev
from tracelens.parse.bulk import BulkParser
from tracelens.parse.parser import parse_records
from tracelens.parse.summary import ParseSummary
from tracelens.read.reader import BLOCK_BYTES, ReadStats, read_blocks, read_records
from tracelens.read.weblogic import System, detect
from tracelens.reporters.json_report import report_dict

EVERY_KIND = frozenset(cls for cls in vars(ev).values() if isinstance(cls, type) and issubclass(cls, ev.Event))


def per_line(path: Path) -> tuple[list[ev.Event], ReadStats]:
    stats = ReadStats()
    return list(parse_records(read_records([str(path)], stats))), stats


def bulk(path: Path, block_bytes: int = BLOCK_BYTES) -> tuple[list[ev.Event], ReadStats]:
    stats = ReadStats()
    parser = BulkParser()
    events = []
    for block in read_blocks([str(path)], stats, block_bytes):
        for event, line in parser.records(block, EVERY_KIND, stats):
            assert not isinstance(event, tuple) and event.line == line
            events.append(event)
    return events, stats


def counted(path: Path, lenient: bool) -> tuple[ParseSummary, ReadStats]:
    stats, summary = ReadStats(), ParseSummary()
    api.count_records([str(path)], stats, summary, lenient=lenient)
    return summary, stats


def assert_same(path: Path, block_bytes: int = BLOCK_BYTES) -> None:
    try:
        expected, expected_stats = per_line(path)
    except InputError as refused:  # e.g. a file of NULs: refused as binary by both paths, alike
        with pytest.raises(InputError) as also:
            bulk(path, block_bytes)
        assert str(also.value) == str(refused)
        return
    got, got_stats = bulk(path, block_bytes)
    assert got == expected
    assert got_stats == expected_stats
    # parse --summary: bulk counting against the per-line count (lenient=True reads line by line)
    summary, stats = counted(path, lenient=False)
    reference = ParseSummary()
    for event in expected:
        reference.add(event)
    assert summary == reference
    assert stats == expected_stats


# (the bulk parser reads WebSphere logs; a WebLogic sample is read by its own grammar: tests/test_weblogic_*.py)
STRICT_LOGS = [p for p in LOGS if not p.name.startswith("real-03") and detect(str(p)) is System.WEBSPHERE]


@pytest.mark.parametrize("path", STRICT_LOGS, ids=lambda p: p.name)
def test_every_sample_gives_the_same_records_and_counts(path: Path) -> None:
    assert_same(path)
    assert_same(path, block_bytes=97)  # blocks cut inside records and across every line


def test_a_generated_benchmark_trace(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    path = tmp_path / "gen.log"
    path.write_text("".join(line + "\n" for line in generate(6000, seed=5)), encoding="utf-8")
    assert_same(path, block_bytes=65536)


@pytest.mark.parametrize("path", [SAMPLES / "failover-failback.log", SAMPLES / "failover-failback-85.log",
                                  ROOT / "tests" / "traces" / "interleaved.log"], ids=lambda p: p.name)
def test_the_analysis_is_the_same_line_by_line(path: Path) -> None:
    """``lenient`` reads line by line; on a log without header-less lines it must find the same."""
    strict = report_dict(api.analyze([str(path)]))
    lenient = report_dict(api.analyze([str(path)], lenient=True))
    assert json.dumps(strict, sort_keys=True) == json.dumps(lenient, sort_keys=True)


_DAMAGE = st.sampled_from([
    b"", b"   ", b"\t", b"\r", b"\x00\x00\x00", b"caf\xe9 au lait", b"\xff\xfe", b"[", b"]",
    "nai\u0308ve caf\u00e9".encode(), b"ws_common: websphereGetStream: Connect timeout fired",
])


def _files() -> st.SearchStrategy[bytes]:
    real = st.sampled_from(LINES).map(lambda s: s.encode())
    mutated = _mutations().map(lambda s: s.encode("utf-8", "surrogatepass"))
    line = st.one_of(real, real, mutated, _DAMAGE)
    interleaved = st.tuples(real, real).map(lambda t: t[0] + t[1])  # two records on one physical line
    lines = st.lists(st.one_of(line, interleaved), min_size=1, max_size=40)
    ending = st.sampled_from([b"\n", b"\r\n"])
    return st.tuples(st.booleans(), lines, ending, st.booleans()).map(
        lambda t: (b"\xef\xbb\xbf" if t[0] else b"") + t[2].join(t[1]) + (t[2] if t[3] else b""))


@settings(max_examples=200, deadline=None)
@given(_files(), st.integers(16, 600))
def test_built_files_give_the_same_records(tmp_path_factory: pytest.TempPathFactory, data: bytes, block: int) -> None:
    path = tmp_path_factory.mktemp("bulk") / "built.log"
    path.write_bytes(data)
    assert_same(path, block_bytes=block)


def test_stats_count_lines_per_file_across_blocks(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text("".join(line + "\n" for line in LINES[:50]), encoding="utf-8")
    stats = ReadStats()
    blocks = list(read_blocks([str(path)], stats, block_bytes=300))
    assert len(blocks) > 5
    assert stats.lines_by_file == {str(path): 50} and stats.physical_lines == 50
    assert [b.first_line for b in blocks] == sorted(b.first_line for b in blocks)
    assert stats == per_line(path)[1]


def test_a_full_cache_keeps_its_entries_for_one_more_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the body cache is full it becomes the previous one: a body that recurs is taken from it,
    not typed again, and the records are the same as with an unbounded cache."""
    from tracelens.parse import bulk as bulk_module

    path = SAMPLES / "failover-failback.log"
    expected, _ = per_line(path)
    monkeypatch.setattr(bulk_module, "CACHE_LIMIT", 4)
    parser = BulkParser()
    typed: list[str | None] = []
    real = parser.fast.typed

    def counting(level: str, body: str | None) -> object:
        typed.append(body)
        return real(level, body)

    monkeypatch.setattr(parser.fast, "typed", counting)
    bodies = ["TRACE: a b", "TRACE: c d", "TRACE: e f", "TRACE: g h", "TRACE: i j"]
    for body in bodies:  # the fifth fills the cache: the first four become the previous cache
        parser.entry(body)
    assert len(typed) == 5
    assert parser.entry("TRACE: a b") is not None and len(typed) == 5  # from the previous cache
    parser.entry("TRACE: k l")
    assert len(typed) == 6
    events = []
    stats = ReadStats()
    for block in read_blocks([str(path)], stats, 97):
        events.extend(event for event, _ in parser.records(block, EVERY_KIND, stats))
    assert events == expected
