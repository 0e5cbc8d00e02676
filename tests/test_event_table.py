"""The events table the columnar reader builds equals, row for row, the events of the object pipeline:
on every sample log and test trace, on the golden generated trace, on files hypothesis builds from real,
damaged, blank and interleaved lines cut into small blocks, and with every record counted alike."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path
from typing import ClassVar

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.golden.regenerate import write_generated_trace
from tests.test_bulk import _files
from tests.test_fastpath import LOGS
from tracelens import api, event_table, tables
from tracelens.errors import InputError
from tracelens.event_table import EventTable, frame_of_events
from tracelens.parse import events as ev
from tracelens.parse.parser import parse_records
from tracelens.parse.summary import ParseSummary
from tracelens.read.reader import MAX_RECORD_BYTES, ReadStats, read_records
from tracelens.requests import assemble

#: what the analysis reads, and the kinds that may open a request cut by the log's start
KINDS = api.READS | assemble.MAY_OPEN


def objects(paths: list[str], lenient: bool = False, qualifiers: dict[str, str] | None = None,
            max_record_bytes: int = MAX_RECORD_BYTES) -> tuple[pl.DataFrame, ParseSummary, ReadStats]:
    """The object pipeline's events of KINDS (the per-record parser), as a table; every record counted."""
    stats, summary = ReadStats(), ParseSummary()
    kept = []
    records = read_records(paths, stats, lenient=lenient, max_record_bytes=max_record_bytes)
    for event in parse_records(records, lenient=lenient):
        summary.add(event)
        if type(event) in KINDS:
            kept.append(event)
    return frame_of_events(kept, qualifiers), summary, stats


def columnar(paths: list[str], lenient: bool = False, block_bytes: int = 1 << 24,
             qualifiers: dict[str, str] | None = None) -> tuple[pl.DataFrame, ParseSummary, ReadStats]:
    stats, summary = ReadStats(), ParseSummary()
    table = EventTable(KINDS, summary, stats, qualifiers=qualifiers, lenient=lenient).table(
        paths, block_bytes=block_bytes)
    return table, summary, stats


def assert_same(paths: list[str], lenient: bool = False, block_bytes: int = 1 << 24,
                qualifiers: dict[str, str] | None = None) -> pl.DataFrame:
    try:
        expected, expected_summary, expected_stats = objects(paths, lenient, qualifiers)
    except InputError as refused:  # e.g. a binary file: refused by both alike
        with pytest.raises(InputError) as also:
            columnar(paths, lenient, block_bytes, qualifiers)
        assert str(also.value) == str(refused)
        return tables.EVENTS.empty()
    got, summary, stats = columnar(paths, lenient, block_bytes, qualifiers)
    assert got.schema == tables.EVENTS.schema
    assert got.to_dicts() == expected.to_dicts()
    assert summary == expected_summary
    assert stats == expected_stats
    return got


@pytest.mark.parametrize("path", LOGS, ids=lambda p: p.name)
def test_every_sample_log_and_trace(path: Path) -> None:
    lenient = path.name.startswith("real-03")  # a documentation excerpt: read as the golden report reads it
    got = assert_same([str(path)], lenient)
    assert got.height > 0
    assert_same([str(path)], lenient, block_bytes=97)  # blocks cut inside records and across every line


def test_the_golden_generated_trace(tmp_path: Path) -> None:
    path = write_generated_trace(tmp_path)
    got = assert_same([str(path)], block_bytes=1 << 16)
    # the kinds the analysis reads are kept, typed: a status check's columns, a STATS summary's counters
    check = got.filter(pl.col("kind") == "status_check").row(0, named=True)
    assert check["member"] and check["marked_down"] is not None and check["time"] is not None
    stats = got.filter(pl.col("kind") == "server_stats")
    assert stats.height and stats["total"].null_count() == 0
    assert got.filter(pl.col("kind") == "message").height == 0  # only counted, never kept


def test_records_the_bulk_split_does_not_take(tmp_path: Path) -> None:
    """Blank, interleaved, damaged and over-long lines go line by line, in their place among the rows."""
    lines = (SAMPLE_LINES[0], "", SAMPLE_LINES[1] + SAMPLE_LINES[2], "[garbage] not a header",
             SAMPLE_LINES[3].replace("TRACE:", "TRACE:x"), "x" * 300, SAMPLE_LINES[4])
    path = tmp_path / "damaged.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stats, summary = ReadStats(), ParseSummary()
    got = EventTable(KINDS, summary, stats).table([str(path)], max_record_bytes=200)
    assert got.filter(pl.col("kind") == "unparsed").height == 3
    assert got["line"].to_list() == sorted(got["line"].to_list())
    assert stats.blank_lines == 1 and stats.split_records == 1
    assert got.filter(pl.col("line") == 6).row(0, named=True)["reason"].startswith("line too long: 300 bytes")
    expected, expected_summary, expected_stats = objects([str(path)], max_record_bytes=200)
    # NOTE: of a line over the limit the block reader (the analysis's) keeps up to 4 KiB, the per-record
    # reader the limit's worth: the text is compared as far as both keep it
    assert got.drop("text").to_dicts() == expected.drop("text").to_dicts()
    for mine, theirs in zip(got["text"], expected["text"], strict=True):
        assert mine == theirs or mine[:200] == theirs[:200]
    assert stats == expected_stats
    for counts in ("kinds", "records_by_file", "unparsed_by_file", "unparsed_reasons"):
        assert getattr(summary, counts) == getattr(expected_summary, counts)


SAMPLE_LINES = [line for line in (LOGS[1].read_text(encoding="utf-8").splitlines()) if line.startswith("[")][:5]


def test_a_gzip_file_and_two_web_servers(tmp_path: Path) -> None:
    one, two = tmp_path / "ihs1.log.gz", tmp_path / "ihs2.log"
    one.write_bytes(gzip.compress(LOGS[1].read_bytes()))
    two.write_bytes(LOGS[1].read_bytes())
    qualifiers = {str(one): "ihs1", str(two): "ihs2"}
    got = assert_same([str(one), str(two)], qualifiers=qualifiers)
    assert set(got["web_server"].cast(pl.String)) == {"ihs1", "ihs2"}
    assert got.filter(pl.col("web_server") == "ihs1").height == got.filter(pl.col("web_server") == "ihs2").height


def test_a_full_cache_of_typed_bodies_gives_the_same_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """The distinct bodies' table is emptied with its cache between blocks: the rows stay the same."""
    monkeypatch.setattr(event_table, "CACHE_LIMIT", 5)
    for path in (LOGS[1], LOGS[-1]):
        assert_same([str(path)], block_bytes=400)


@settings(max_examples=100, deadline=None)
@given(_files(), st.integers(16, 600))
def test_built_files_give_the_same_table(tmp_path_factory: pytest.TempPathFactory, data: bytes, block: int) -> None:
    path = tmp_path_factory.mktemp("columnar") / "built.log"
    path.write_bytes(data)
    assert_same([str(path)], block_bytes=block)


def test_every_field_the_analysis_reads_has_a_column() -> None:
    """A field of a kind the analysis reads is either a column of the events table or left out by name."""
    for cls in KINDS:
        for f in dataclasses.fields(cls):
            if f.name in {"file", "line", "time", "pid", "tid", "level", "component", "function"}:
                continue
            column = event_table.RENAMED.get(f.name, f.name)
            assert column in tables.EVENTS.names or f.name in event_table.LEFT_OUT, (cls.kind, f.name)
    # and the mapping refuses a field that is neither
    # NOTE: an event-shaped dataclass, not a subclass of Event: a subclass would stay registered as a kind
    # of the parse stage for the rest of the test process, and tests that list every kind would see it
    @dataclasses.dataclass(frozen=True, slots=True)
    class Novel:
        kind: ClassVar[str] = "novel"
        file: str
        line: int
        time: None
        pid: None
        tid: None
        level: None
        component: None
        function: None
        novelty: int

    with pytest.raises(TypeError, match=r"Novel\.novelty"):
        event_table.body_values(Novel("f", 1, None, None, None, None, None, None, 3))  # type: ignore[arg-type]
    assert "novel" not in {cls.kind for cls in ev.Event.__subclasses__()}
