"""Parse stage, in bulk: a block of clean log text split into rows by one regular expression.

Per line, the reader's iteration and the header split cost about as much as reading the file; the
analysis then spends most of its time on the records it does not read. This module takes the
blocks of :func:`tracelens.read.reader.read_blocks` and splits each with one ``findall`` of
:data:`ROW` (C speed): a row is a line's timestamp, fraction, process id, thread id, and its level
and body as one string. Every distinct value is then checked once, by the fast path's own checks
(:class:`tracelens.parse.fastpath.FastParser`), and every distinct level-and-body is typed once.

A row stays in bulk only when its pieces pass those checks and its body holds no ``[`` (which may
start another, interleaved record); ``ROW`` takes only the plain ``pid tid`` form (the IBM i job form
goes the per-line way). Every other line — blank, interleaved, damaged, a header the calendar
rejects — takes the per-line path, :func:`tracelens.read.reader.line_records` and
:class:`tracelens.parse.parser.RecordParser`, with its own line number. ``tests/test_bulk.py``
proves the two paths give the same records, counts and analysis.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from tracelens.parse import events as ev
from tracelens.parse.fastpath import CACHE_LIMIT, LEVELS, FastParser, Typed
from tracelens.parse.grammar import Body
from tracelens.parse.parser import RecordParser, build_event
from tracelens.parse.summary import ParseSummary
from tracelens.read import header
from tracelens.read.header import header_layout
from tracelens.read.reader import Block, RawRecord, ReadStats, line_records

#: One physical line: ``(second, fraction, pid, tid, "LEVEL: body", other)``. A record of the plain
#: form fills the first five (``other`` empty); any other line is ``other`` alone (level empty).
ROW = re.compile(
    header_layout(r"([^\]\n.]*)(?:\.([0-9]{1,6}))?", r"(\S+)", r"(\S+)") + r"([A-Z]+:[^\n]*)\n|([^\n]*)\n"
)


def counted_regex() -> re.Pattern[str]:
    """A line that is one record with a grammatical header: ``(second, "LEVEL: body")``.

    Built from the header's terminals (the grammar's too), so that a line it takes has a timestamp, ids and job name the
    grammar accepts (the lookahead checks the whole timestamp; the group keeps it to the second, so
    that distinct values are few); whether the second is a real date, and what the body is, is then
    checked once per distinct value.
    """
    stamp = rf"(?=(?:{header.ASCTIME}|{header.CLFTIME})\])([^\].]*)[^\]]*"
    process = rf"(?:{header.IBMI_JOB} )?{header.PROCID}"
    return re.compile("(?m)^" + header_layout(stamp, process, header.PROCID) + r"([A-Z]+:.*)")


# ``(class, constructor, level, component, function, *the class's own fields)``: the event of a record
# is ``constructor(file, line, time, pid, tid, entry)`` (see :func:`tracelens.parse.events.constructor`)
Entry = tuple[Any, ...]
Result = ev.Event | tuple[type[ev.Event], str, str]
Touch = Callable[[str | None, str | None, int, str], bool]
Keep = Callable[[str | None], bool]


class BulkParser:
    """Records of blocks: events for the kinds wanted, ``(class, pid, tid)`` for the rest (strict mode)."""

    def __init__(self) -> None:
        self.parser = RecordParser()
        self.fast: FastParser = self.parser.fast_parser
        self._entries: dict[str, Entry | None] = {}
        self._previous: dict[str, Entry | None] = {}  # the entries before the cache was last full
        self._kinds: dict[str, type[ev.Event] | None] = {}
        self._well_formed: dict[str, bool] = {}
        self._fractions: dict[str, timedelta] = {}  # a fraction of a second, by its text
        self._counted = counted_regex()

    def entry(self, level_body: str) -> Entry | None:
        """The cache entry of ``LEVEL: body`` (see :data:`Entry`); None when the LALR parser must decide."""
        entries = self._entries
        found = entries.get(level_body)
        if found is None and level_body not in entries:
            found = self._previous.get(level_body, _UNKNOWN)
            if found is _UNKNOWN:
                split = _split(level_body)
                # the fast path's own cache left out: this one is the cache
                typed = self.fast.typed(*split) if split is not None else None
                found = _entry(typed) if typed is not None else None
            if len(entries) >= CACHE_LIMIT:
                # NOTE: the full cache becomes the previous one instead of being dropped: the bodies that
                # recur (most records) are taken back from it, not typed again (emptying it made a tenth
                # more bodies to type in a million-line log). Emptied in place: the hot loop holds it.
                self._previous = dict(entries)
                entries.clear()
            entries[level_body] = found
        return found

    def well_formed(self, level_body: str) -> bool:
        """Whether ``LEVEL: body`` is one record the fast path types (no interleaved record, a body the
        grammar's structure takes): what a part of the analysis needs to know of another part's records."""
        known = self._well_formed.get(level_body)
        if known is None:
            split = _split(level_body)
            level = LEVELS.get(split[0]) if split is not None else None
            known = split is not None and level is not None and self.fast.structure(level, split[1]) is not None
            if len(self._well_formed) >= CACHE_LIMIT:
                self._well_formed.clear()
            self._well_formed[level_body] = known
        return known

    # ---------------------------------------------------------------- counting (parse --summary)

    def kind(self, level_body: str) -> type[ev.Event] | None:
        """The class of ``LEVEL: body`` without its payload; None when the per-line path must decide."""
        kinds = self._kinds
        found = kinds.get(level_body)
        if found is None and level_body not in kinds:
            split = _split(level_body)
            if split is not None:
                found = self.fast.kind(*split)
            if len(kinds) >= CACHE_LIMIT:
                kinds.clear()
            kinds[level_body] = found
        return found

    def count(self, block: Block, summary: ParseSummary, stats: ReadStats) -> None:
        """Count the block's records by kind; only unparsed records are built (as examples)."""
        if block.text is None or not self._count_text(block.file, block.text, block.line_count, summary):
            for result, _line in self.records(block, _UNPARSED, stats):
                summary.add_result(result, block.file)

    def _count_text(self, file: str, text: str, lines: int, summary: ParseSummary) -> bool:
        """Count a block whose every line is one grammatical record, in bulk; else False, nothing counted.

        One ``findall`` of :func:`counted_regex` (the header's terminals, the grammar's own) gives each line's
        second and its level and body; only distinct values are then checked: the calendar, once
        per timestamp, and the class, once per level and body.
        """
        found = self._counted.findall(text)
        if len(found) != lines:
            return False  # a line that is not a plain record: the block goes line by line
        second = self.fast.second
        for stamp in set(map(itemgetter(0), found)):
            if second(stamp) is None:
                return False
        counts = Counter(map(itemgetter(1), found))
        kinds: list[tuple[str, int]] = []
        for level_body, n in counts.items():
            cls = self.kind(level_body)
            if cls is None:
                return False
            kinds.append((cls.kind, n))
        for kind, n in kinds:
            summary.kinds[kind] += n
        summary.records_by_file[file] += len(found)
        return True

    # ---------------------------------------------------------------- records (the analysis)

    def records(self, block: Block, wanted: frozenset[type[ev.Event]], stats: ReadStats,
                opens: frozenset[type[ev.Event]] = frozenset(), touch: Touch | None = None,
                rows: list[tuple[str, ...]] | None = None, keep: Keep | None = None,
                unread: Counter[type[ev.Event]] | None = None) -> Iterator[tuple[Result, int]]:
        """``(event or (class, pid, tid), line)`` for every record of the block, in order.

        A record of a kind in ``opens`` is built only when ``touch(pid, tid, line, file)`` says no
        (the analysis: a record that opens a request cut by the log's start, else only extends one).
        With ``keep``, only the records of the processes it keeps are given (``keep(None)``: the
        records without a process id). With ``unread``, the plain records of kinds not wanted are
        only counted there, by class, instead of being given as ``(class, pid, tid)``.
        """
        file = block.file
        if block.text is None:
            for lineno, text in enumerate(block.lines or (), block.first_line):
                for raw in line_records(file, lineno, text, stats, block.cut):
                    result = self._one(raw, wanted, opens, touch)
                    if keep is None or keep(_pid_of(result)):
                        yield result, lineno
            return
        kept: dict[str, bool] = {}
        entries, fast, ids = self._entries, self.fast, self.fast.ids
        seconds: dict[str, tuple[datetime, bool] | None] = {}
        fractions = self._fractions
        line = block.first_line - 1
        for second, fraction, pid, tid, level_body, other in rows or ROW.findall(block.text):
            line += 1
            if not level_body:
                for raw in line_records(file, line, other, stats):
                    result = self._one(raw, wanted, opens, touch)
                    if keep is None or keep(_pid_of(result)):
                        yield result, line
                continue
            stamp = seconds.get(second)
            if stamp is None:
                stamp = seconds[second] = fast.second(second)
            plain = (stamp is not None and (not fraction or stamp[1])
                     and ((pid in ids and tid in ids) or fast.valid_ids(pid, tid)))
            mine: bool | None = True
            if keep is not None and plain:
                mine = kept.get(pid)
                if mine is None:
                    mine = kept[pid] = keep(pid)
                if not mine and self.well_formed(level_body):
                    continue  # another part's process, and certainly its record: not even typed here
            found = entries.get(level_body) or self.entry(level_body)
            if found is not None and not mine:
                continue
            if found is None or not plain:
                stamp_text = f"[{second}.{fraction}] " if fraction else f"[{second}] "
                for raw in line_records(file, line, f"{stamp_text}{pid} {tid} - {level_body}", stats):
                    result = self._one(raw, wanted, opens, touch)
                    if keep is None or keep(_pid_of(result)):
                        yield result, line
                continue
            assert stamp is not None
            cls = found[0]
            if cls not in wanted and (cls not in opens or touch is None or touch(pid, tid, line, file)):
                if unread is None:
                    yield (cls, pid, tid), line
                else:
                    unread[cls] += 1
                continue
            if fraction:
                # NOTE: the second's datetime plus the fraction's timedelta, kept per fraction text: the
                # same value as replace(microsecond=...) (the second has none), at a tenth of its cost
                delta = fractions.get(fraction)
                if delta is None:
                    if len(fractions) >= CACHE_LIMIT:
                        fractions.clear()
                    delta = fractions[fraction] = timedelta(0, 0, int(fraction) * _MICRO[len(fraction)])
                time = stamp[0] + delta
            else:
                time = stamp[0]
            yield found[1](file, line, time, pid, tid, found), line

    def _one(self, raw: RawRecord, wanted: frozenset[type[ev.Event]], opens: frozenset[type[ev.Event]],
             touch: Touch | None) -> Result:
        return self.parser.parse_or_open(raw, wanted, opens, touch)


def _entry(typed: Typed) -> Entry:
    """The cache entry of a typed body: its class, the class's constructor, and what
    :func:`tracelens.parse.parser.build_event` would pass to the class after the record's header.

    NOTE: one tuple, and no Body or payload kept: a large log has tens of thousands of distinct bodies
    cached, and every object the cache holds is one more for each of the collector's full passes,
    which took a tenth of the analysis.
    """
    level, _, component, function, text, payload = typed
    if payload is None:
        return ev.Message, _MESSAGE, level, component, function, text
    cls, values = payload
    names, own, make = _spec(cls)  # type: ignore[arg-type]  # a class is hashable: mypy checks its instances
    if values.keys() != names:
        # not the class's fields (a grammar callback in error): its own __init__ raises as it would
        build_event("", 0, None, None, None, Body(*typed[:5]), payload)
    return (cls, make, level, component, function, *own(values))


@functools.cache
def _spec(cls: type[ev.Event]) -> tuple[frozenset[str], Callable[[dict[str, Any]], tuple[Any, ...]], ev.Constructor]:
    """A class's own field names, what takes their values from a payload in field order, and its constructor."""
    own = tuple(f.name for f in dataclasses.fields(cls))[len(_COMMON):]
    def values(payload: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(payload[name] for name in own)

    # itemgetter gives a tuple for two names or more
    return frozenset(own), itemgetter(*own) if len(own) > 1 else values, ev.constructor(cls, 2)  # type: ignore[arg-type]  # as above


_UNKNOWN: Any = object()  # not in the previous cache (None there: the LALR parser decides)
_COMMON = tuple(f.name for f in dataclasses.fields(ev.Event))
_MESSAGE = ev.constructor(ev.Message, 2)


def _split(level_body: str) -> tuple[str, str | None] | None:
    """``("LEVEL", body)`` of ``LEVEL: body`` (body None after a bare ``LEVEL:``); None when the
    per-line path must decide: ``LEVEL:x`` is no record, and a ``[`` may start an interleaved one."""
    level, _, rest = level_body.partition(":")
    if not rest:
        return level, None
    if rest[0] != " " or "[" in rest:
        return None
    return level, rest[1:]


_MICRO = {n: 10 ** (6 - n) for n in range(1, 7)}  # a fraction's digits -> microseconds


def _pid_of(result: Result) -> str | None:
    return result[1] if isinstance(result, tuple) else result.pid


_UNPARSED: frozenset[type[ev.Event]] = frozenset({ev.Unparsed})

