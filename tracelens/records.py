"""The records of the logs, without the analysis: what ``parse`` needs (and imports alone, to start fast).

:mod:`tracelens.api` re-exports these; the analysis itself lives there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from tracelens import parallel
from tracelens.errors import InputError
from tracelens.parse import events as ev
from tracelens.parse import weblogic_parser
from tracelens.parse.bulk import BulkParser
from tracelens.parse.events import Event
from tracelens.parse.parser import RecordParser, parse_records
from tracelens.parse.summary import ParseSummary
from tracelens.read.reader import (
    MAX_RECORD_BYTES,
    ReadStats,
    check_inputs,
    plain_ranges,
    read_blocks,
    read_range,
    read_records,
)
from tracelens.read.weblogic import System, read_weblogic_records, systems


def iter_events(paths: Sequence[str], stats: ReadStats, *, lenient: bool = False,
                max_record_bytes: int = MAX_RECORD_BYTES, system: System = System.AUTO) -> Iterator[Event]:
    """Every record of ``paths`` as a typed event, in input order.

    Each file is read as the log of the plug-in ``system`` names, or (``auto``) the one its content
    shows: a WebLogic proxy plug-in log by ``grammars/weblogic_log.lark``, any other by the WebSphere
    grammar.

    Raises :class:`tracelens.errors.InputError` before yielding anything when a path cannot be
    opened at all; ``stats`` fills in while the iterator is consumed. A line longer than
    ``max_record_bytes`` is an unparsed record (``line too long``) holding its start only.
    """
    check_inputs(paths)
    kinds = systems(paths, system)
    if all(k is System.WEBSPHERE for k in kinds.values()):
        return parse_records(read_records(paths, stats, lenient=lenient, max_record_bytes=max_record_bytes),
                             lenient=lenient)
    return _mixed(paths, kinds, stats, lenient, max_record_bytes)


def _mixed(paths: Sequence[str], kinds: dict[str, System], stats: ReadStats, lenient: bool,
           max_record_bytes: int) -> Iterator[Event]:
    """The events of a set holding WebLogic logs, each file by its own grammar, in input order."""
    for path in paths:
        if kinds[path] is System.WEBLOGIC:
            yield from weblogic_parser.parse_records(
                read_weblogic_records([path], stats, max_record_bytes=max_record_bytes))
        else:
            yield from parse_records(read_records([path], stats, lenient=lenient, max_record_bytes=max_record_bytes),
                                     lenient=lenient)


def count_records(paths: Sequence[str], stats: ReadStats, summary: ParseSummary, *, lenient: bool = False,
                  jobs: int = 1, max_record_bytes: int = MAX_RECORD_BYTES, system: System = System.AUTO) -> None:
    """Count every record by kind (``parse --summary``): only unparsed records are built, as examples.

    With ``jobs`` > 1, a large plain file is split into byte ranges of whole lines counted by worker
    processes and merged in input order: the counts and examples are those of one process.
    """
    check_inputs(paths)
    kinds = systems(paths, system)
    if any(k is System.WEBLOGIC for k in kinds.values()):
        # NOTE: WebLogic logs are small debug captures (Debug ON is not left on in production): they are
        # counted from their events, without the bulk path's byte ranges
        for event in _mixed(paths, kinds, stats, lenient, max_record_bytes):
            summary.add_result(event, event.file)
        return
    if not lenient:
        bulk = BulkParser()
        for path in paths:
            ranges = plain_ranges(path, jobs, parallel.MIN_SPLIT_BYTES) if jobs > 1 else None
            if ranges is None:
                for block in read_blocks([path], stats, max_record_bytes=max_record_bytes):
                    bulk.count(block, summary, stats)
                continue
            stats.files.append(path)
            offset = 0  # the lines of this file before the range (a file given twice is numbered from 1 again)
            tasks = [(path, a, b, max_record_bytes) for a, b in ranges]
            for part_summary, part_stats in parallel.run_tasks(_count_range, tasks, jobs):
                summary.add_range(part_summary, offset)
                stats.add_range(part_stats, path, offset)
                offset += part_stats.lines_by_file.get(path, 0)
        return
    parser = RecordParser(lenient=lenient)
    wanted = frozenset({ev.Unparsed})
    for raw in read_records(paths, stats, lenient=lenient, max_record_bytes=max_record_bytes):
        summary.add_result(parser.parse_or_kind(raw, wanted), raw.file)


def _count_range(path: str, start: int, end: int, max_record_bytes: int) -> tuple[ParseSummary, ReadStats]:
    """One worker's part of ``parse --summary``: the records of bytes ``start`` to ``end``."""
    stats, summary, bulk = ReadStats(), ParseSummary(), BulkParser()
    for block in read_range(path, start, end, stats, max_record_bytes=max_record_bytes):
        bulk.count(block, summary, stats)
    return summary, stats


def _empty(stats: ReadStats) -> InputError | None:
    """The error for an input with no log line at all (nothing, or blank lines only), else None."""
    if stats.physical_lines > stats.blank_lines:
        return None
    what = "no log lines" if not stats.physical_lines else f"{stats.blank_lines} blank line(s) and no log line"
    return InputError(f"{', '.join(stats.files)}: empty input, {what}")


def check_not_empty(stats: ReadStats) -> None:
    """Raise :class:`InputError` when what was read holds no log line (call it after reading)."""
    error = _empty(stats)
    if error is not None:
        raise error
