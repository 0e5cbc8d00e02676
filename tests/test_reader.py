"""The reader: files, .gz, stdin, encodings, line ends, interleaved records, documentation excerpts."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, write
from tracelens.errors import InputError
from tracelens.read.reader import ReadStats, read_records

A = "[Wed Dec 03 17:17:07 2014] 00001220 000012a4 - TRACE: ws_common: websphereFindTransport: Finding the transport"
B = "[Wed Dec 03 17:17:07 2014] 00001224 000012b0 - ERROR: ws_common: websphereGetStream: Connect timeout fired"


def records(*paths: Path | str, lenient: bool = False) -> tuple[list[tuple[int, str]], ReadStats]:
    stats = ReadStats()
    out = [(r.line, r.text) for r in read_records([str(p) for p in paths], stats, lenient=lenient)]
    return out, stats


def test_crlf_and_blank_lines(tmp_path: Path) -> None:
    p = write(tmp_path, "crlf.log", (A + "\r\n\r\n" + B + "\r\n").encode())
    recs, stats = records(p)
    assert recs == [(1, A), (3, B)]
    assert (stats.physical_lines, stats.blank_lines) == (3, 1)


def test_gzip_is_read_by_its_magic_number(tmp_path: Path) -> None:
    p = tmp_path / "rotated.log.1"  # no .gz suffix: rotated files often lose it
    p.write_bytes(gzip.compress((A + "\n" + B + "\n").encode()))
    assert records(p)[0] == [(1, A), (2, B)]


def test_truncated_gzip_keeps_what_was_readable_and_reports_the_damage(tmp_path: Path) -> None:
    data = gzip.compress(("\n".join([A] * 2000) + "\n").encode())
    p = write(tmp_path, "cut.log.gz", data[: len(data) // 2])
    recs, stats = records(p)
    assert 0 < len(recs) < 2000
    assert stats.damage and "ends early" in stats.damage[0]


def test_bytes_that_are_not_utf8_do_not_stop_the_run(tmp_path: Path) -> None:
    latin = "[Wed Dec 03 17:17:07 2014] 00001220 000012a4 - TRACE: ws_server: serverSetName: Setting name Zürich01"
    p = write(tmp_path, "latin1.log", latin.encode("latin-1") + b"\n" + B.encode() + b"\n")
    recs, stats = records(p)
    assert recs == [(1, latin), (2, B)]
    assert stats.latin1_lines == 1


def test_a_physical_line_with_interleaved_records_is_split(tmp_path: Path) -> None:
    # plug-ins up to 8.0 write the newline separately: another process's record lands mid-line (§1.4)
    p = write(tmp_path, "interleaved.log", A + B + "\n\n" + A + "\n")
    recs, stats = records(p)
    assert recs == [(1, A), (1, B), (3, A)]
    assert stats.split_records == 1 and stats.expected_records == 3


def test_lenient_joins_pdf_wrapped_lines() -> None:
    recs, stats = records(SAMPLES / "real-03-redbook-ex9-8-ordered-routing.log", lenient=True)
    assert len(recs) == 12 and stats.joined_lines == 10 and stats.physical_lines == 22
    assert recs[2] == (3, "TRACE: ws_server_group: serverGroupGetFirstPrimaryServer: getting the first primary server")
    assert recs[5][1].endswith(
        "Checking status of HAClusterServer1, ignoreWeights 1, markedDown 1, retryNow 0, wlbAllows 0")


def test_several_files_in_order(tmp_path: Path) -> None:
    p1, p2 = write(tmp_path, "a.log", A + "\n"), write(tmp_path, "b.log", B + "\n")
    stats = ReadStats()
    got = [(r.file, r.line) for r in read_records([str(p1), str(p2)], stats)]
    assert got == [(str(p1), 1), (str(p2), 1)]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.log", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: write(d, "core", bytes(range(256)) * 64), "binary data"),
    ],
)
def test_unusable_input_is_one_clear_error(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=message):
        records(make(tmp_path))
