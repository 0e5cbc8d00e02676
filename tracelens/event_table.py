"""Parse stage, in columns: the logs to the events table, block by block, each distinct body typed once.

The object pipeline (:mod:`tracelens.parse.bulk`) splits a block of lines with one ``findall`` and
then builds one event object per record. This module keeps the split and hands its columns to Polars:

1. one ``findall`` of :data:`tracelens.parse.bulk.ROW` per block (C speed, faster than an engine regex);
2. every *distinct* value is checked once: the timestamp's second by the calendar, the process and
   thread ids by the header's terminals, the ``LEVEL: body`` by the fast path
   (:class:`tracelens.parse.bulk.BulkParser`, the grammar's own shapes, equal to the LALR parse);
3. the body's typed columns (one small row per distinct body of a kind wanted) are gathered back to
   the block's rows, the header's columns (file, line, time, pid, tid) added as whole columns;
4. every record is counted by kind into the :class:`~tracelens.parse.summary.ParseSummary` (the
   accounting), but only the rows of the kinds asked for are kept.

A line the bulk split does not take whole (blank, interleaved records, damaged, a header the calendar
rejects, a line over the record limit, a block without text, ``--lenient``) takes the per-line path
(:func:`tracelens.read.reader.line_records` and :class:`tracelens.parse.parser.RecordParser`), exactly
as in the object pipeline, and its events become rows by the same mapping (:func:`body_values`).
``tests/test_event_table.py`` proves the table equals, row for row, the events of the object pipeline.

NOTE: this module sits beside :mod:`tracelens.records` rather than in ``tracelens/parse``: it fills
:data:`tracelens.tables.EVENTS`, and the tables are defined above the parse stage (they name the
vocabularies of the stages above it).
"""

from __future__ import annotations

import dataclasses
import enum
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import polars as pl

from tracelens import tables
from tracelens.parse import events as ev
from tracelens.parse.bulk import ROW, BulkParser
from tracelens.parse.fastpath import CACHE_LIMIT
from tracelens.parse.parser import RecordParser
from tracelens.parse.summary import ParseSummary
from tracelens.read.reader import (
    BLOCK_BYTES,
    MAX_RECORD_BYTES,
    Block,
    ReadStats,
    line_records,
    read_blocks,
    read_records,
)

#: The columns a record's header gives; every other column of the events table comes from its body.
HEADER_COLUMNS = ("file", "line", "time", "web_server", "pid", "tid")
BODY_COLUMNS = tuple(name for name in tables.EVENTS.names if name not in HEADER_COLUMNS)

#: An event field whose column has another name (``server`` is the member every kind names).
RENAMED = {
    "server": "member",
    "retry_in_sec": "retry_in",
    "clone_id": "server_clone_id",
    "target": "uri",
    "cur_weight": "weight",
    "name": "cookie_name",
    "value": "cookie_value",
    "source": "affinity_source",
    "cookies": "pairs",
    "fields": "pairs",
}
#: Event fields the table leaves out: the analysis reads none of them (``tracelens/state``,
#: ``tracelens/requests`` and ``tracelens/routing`` read only the columns above; a test keeps this list
#: exhaustive, so that a new field is a decision, not an omission).
LEFT_OUT = frozenset({
    "component",  # the function tells the one pair of messages that differ by it (connection counts)
    "errno", "local_port",  # connect failures: the member and host are what the analysis reads
    "timeout", "retry_count", "retry_limit", "retry", "rc",  # ServerIOTimeout's details
    "all_down",  # "no server": the analysis reads the request's lack of a member
    "version",  # HTTP version of a request or status line
    "attributes",  # Set-Cookie attributes (Path, HttpOnly)
    "case",  # transport set: which branch of the code
    "detail",  # read failure's detail
    "keys",  # STATS key set (7.0+ or 5.1/6.x): the counters mean the same
    "ignore_weights",  # status check: the routing model reads the weights from the picks
})
_COMMON = frozenset(f.name for f in dataclasses.fields(ev.Event))
_BOOLEAN = frozenset(c.name for c in tables.EVENTS.columns if c.dtype == pl.Boolean())
_PAIRS = frozenset({"pairs"})
_INDEX = {name: i for i, name in enumerate(BODY_COLUMNS)}
_BODY_SCHEMA = pl.Schema([(name, tables.EVENTS.schema[name]) for name in BODY_COLUMNS])
# the body's columns read in Python as plain text first, cast to the table's type once per block
_LOADED = pl.Schema([(name, pl.String() if isinstance(dtype, (pl.Categorical, pl.Enum)) else dtype)
                     for name, dtype in _BODY_SCHEMA.items()])


def _value(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in _BOOLEAN:
        return bool(value)
    if column in _PAIRS:
        return [{"name": k, "value": v} for k, v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _spec(cls: type[ev.Event]) -> tuple[tuple[str, int], ...]:
    """The fields of ``cls`` the table keeps: (field name, index of its column among BODY_COLUMNS)."""
    out = []
    for f in dataclasses.fields(cls):
        if f.name in _COMMON and f.name != "function":
            continue
        column = RENAMED.get(f.name, f.name)
        if column in _INDEX:
            out.append((f.name, _INDEX[column]))
        elif f.name not in LEFT_OUT:
            raise TypeError(f"{cls.__name__}.{f.name} has no column in tables.EVENTS and is not LEFT_OUT")
    return tuple(out)


_SPECS: dict[type[ev.Event], tuple[tuple[str, int], ...]] = {}
_LEVEL, _KIND = _INDEX["level"], _INDEX["kind"]


def body_values(event: ev.Event) -> tuple[Any, ...]:
    """The body's columns of an event (BODY_COLUMNS, in order): the one mapping of an event to a row."""
    cls = type(event)
    spec = _SPECS.get(cls)
    if spec is None:
        spec = _SPECS[cls] = _spec(cls)
    row: list[Any] = [None] * len(BODY_COLUMNS)
    row[_KIND] = cls.kind
    row[_LEVEL] = event.level.value if event.level is not None else None
    for name, i in spec:
        row[i] = _value(BODY_COLUMNS[i], getattr(event, name))
    return tuple(row)


def event_row(event: ev.Event, web_server: str | None = None) -> dict[str, Any]:
    """An event as one row of the events table (a mapping by column name)."""
    row = dict(zip(BODY_COLUMNS, body_values(event), strict=True))
    row.update(file=event.file, line=event.line, time=event.time, web_server=web_server, pid=event.pid,
               tid=event.tid)
    return {name: row[name] for name in tables.EVENTS.names}


def frame_of_events(events: Iterable[ev.Event], qualifiers: Mapping[str, str] | None = None) -> pl.DataFrame:
    """The events table of event objects (the per-line path's records, and the tests' reference)."""
    web = qualifiers or {}
    rows = [event_row(e, web.get(e.file)) for e in events]
    if not rows:
        return tables.EVENTS.empty()
    return pl.DataFrame(rows, schema=tables.EVENTS.schema, orient="row")


# a distinct body: its class (None: the per-line path decides) and, for a kind wanted, its row of the
# table of typed bodies
_Typed = tuple[type[ev.Event] | None, int | None]
_MICROSECONDS = pl.col("fraction").str.pad_end(6, "0").cast(pl.Int64, strict=False).fill_null(0)


class EventTable:
    """Reads logs into events tables, one per block; counts every record by kind as it goes.

    ``kinds``: the event classes whose rows are kept (every other record is only counted).
    ``qualifiers``: per file, its web server (several web servers); the ``web_server`` column.
    """

    def __init__(self, kinds: Iterable[type[ev.Event]], summary: ParseSummary, stats: ReadStats, *,
                 qualifiers: Mapping[str, str] | None = None, lenient: bool = False) -> None:
        self.kinds = frozenset(kinds)
        self.summary = summary
        self.stats = stats
        self.qualifiers = dict(qualifiers or {})
        self.lenient = lenient
        self.bulk = BulkParser()
        self.parser = RecordParser(lenient=lenient)
        self._typed: dict[str, _Typed] = {}
        # NOTE: one small table of the distinct bodies of the kinds wanted, kept across blocks (recurring
        # bodies are most records), emptied with the cache; a block's rows gather their body's columns from it
        self._bodies: pl.DataFrame = pl.DataFrame(schema=_LOADED)
        self._pending: list[tuple[Any, ...]] = []
        self._rows: dict[str, int] = {}  # a body of a kind wanted -> its row of that table

    # ---------------------------------------------------------------- reading

    def frames(self, paths: Iterable[str], *, max_record_bytes: int = MAX_RECORD_BYTES,
               block_bytes: int = BLOCK_BYTES) -> Iterator[pl.DataFrame]:
        """One events table per block of input, in input order (a block with no row kept gives none)."""
        if self.lenient:
            yield from self._lenient(paths, max_record_bytes)
            return
        for block in read_blocks(paths, self.stats, block_bytes, max_record_bytes=max_record_bytes):
            frame = self.block(block)
            if frame.height:
                yield frame

    def table(self, paths: Iterable[str], *, max_record_bytes: int = MAX_RECORD_BYTES,
              block_bytes: int = BLOCK_BYTES) -> pl.DataFrame:
        """The events table of ``paths``, whole."""
        frames = list(self.frames(paths, max_record_bytes=max_record_bytes, block_bytes=block_bytes))
        return pl.concat(frames, rechunk=True) if frames else tables.EVENTS.empty()

    def _lenient(self, paths: Iterable[str], max_record_bytes: int) -> Iterator[pl.DataFrame]:
        # NOTE: --lenient reads documentation excerpts (joined lines, quotes): small inputs, record by record
        kept: list[ev.Event] = []
        for raw in read_records(paths, self.stats, lenient=True, max_record_bytes=max_record_bytes):
            event = self.parser.parse(raw)
            self.summary.add(event)
            if type(event) in self.kinds:
                kept.append(event)
        if kept:
            yield frame_of_events(kept, self.qualifiers)

    def block(self, block: Block) -> pl.DataFrame:
        """The events table of one block's records of the kinds wanted."""
        if block.text is None:
            lines = enumerate(block.lines or (), block.first_line)
            return frame_of_events(self._per_line(block.file, lines, block.cut), self.qualifiers)
        rows = ROW.findall(block.text)
        if not rows:
            return tables.EVENTS.empty()
        if len(self._typed) >= CACHE_LIMIT:
            # bounded, as the fast path's caches (emptied between blocks: a block's ids stay valid)
            self._typed.clear()
            self._rows.clear()
            self._bodies = pl.DataFrame(schema=_LOADED)
        seconds, fractions, pids, tids, bodies, _others = zip(*rows, strict=True)
        counts = Counter(bodies)
        typed = self._typed
        for body in counts:
            if body not in typed:
                self._type(body)
        self._flush()
        slow = self._slow_rows(seconds, fractions, pids, tids, bodies)
        if slow:
            for i in slow:
                counts[bodies[i]] -= 1
        # the accounting: every plain record by the kind of its body, one count per distinct body
        kinds = self.summary.kinds
        keep = False
        for body, n in counts.items():
            cls, row = typed[body]
            if n:
                assert cls is not None  # a body the fast path leaves to the parser is a slow row
                kinds[cls.kind] += n
                keep = keep or row is not None
        self.summary.records_by_file[block.file] += len(rows) - len(slow)
        frames = []
        if keep:
            ids = list(map(self._rows.get, bodies))
            for i in slow:
                ids[i] = None
            frames.append(self._bulk_frame(block.file, block.first_line, ids, seconds, fractions, pids, tids))
        if slow:
            texts = ((block.first_line + i, _text(rows[i])) for i in sorted(slow))
            frames.append(frame_of_events(self._per_line(block.file, texts, 0), self.qualifiers))
        if not frames:
            return tables.EVENTS.empty()
        if len(frames) == 1:
            return frames[0]
        # NOTE: a stable sort: the records split from one line keep their order, and a line is either
        # plain (one row) or taken line by line, never both
        return pl.concat(frames).sort("line", maintain_order=True)

    def _bulk_frame(self, file: str, first: int, ids: list[int | None], seconds: tuple[str, ...],
                    fractions: tuple[str, ...], pids: tuple[str, ...], tids: tuple[str, ...]) -> pl.DataFrame:
        """The plain rows of the kinds wanted: header columns from the split, body columns gathered by id."""
        header = pl.DataFrame({
            "id": pl.Series(ids, dtype=pl.UInt32),
            "second": pl.Series(seconds, dtype=pl.String),
            "fraction": pl.Series(fractions, dtype=pl.String),
            "pid": pl.Series(pids, dtype=pl.String),
            "tid": pl.Series(tids, dtype=pl.String),
        }).with_row_index("line", offset=first).filter(pl.col("id").is_not_null())
        second_of = self.bulk.fast.second
        stamps = {s: second_of(s)[0] for s in header["second"].unique().to_list()}  # type: ignore[index]  # checked
        body = self._bodies[header["id"]]
        frame = pl.concat([header, body], how="horizontal").with_columns(
            file=pl.lit(file, pl.String),
            web_server=pl.lit(self.qualifiers.get(file), pl.String),
            time=pl.col("second").replace_strict(stamps, return_dtype=tables.TIME)
            + pl.duration(microseconds=_MICROSECONDS),
        )
        return frame.select([pl.col(c.name).cast(c.dtype) for c in tables.EVENTS.columns])

    def _slow_rows(self, seconds: tuple[str, ...], fractions: tuple[str, ...], pids: tuple[str, ...],
                   tids: tuple[str, ...], bodies: tuple[str, ...]) -> set[int]:
        """The rows the per-line path reads: a check failed on one of their distinct values."""
        fast = self.bulk.fast
        bad_seconds, whole_seconds = set(), set()
        for s in set(seconds):
            stamp = fast.second(s)
            if stamp is None:
                bad_seconds.add(s)
            elif not stamp[1]:
                whole_seconds.add(s)  # a style without fractions: a row with one is no plain record
        bad_ids = {i for i in set(pids) | set(tids) if not fast.valid_ids(i, i)}
        typed = self._typed
        bad_bodies = {b for b in set(bodies) if typed[b][0] is None}
        slow: set[int] = set()
        if bad_bodies:
            slow.update(i for i, b in enumerate(bodies) if b in bad_bodies)
        if bad_seconds:
            slow.update(i for i, s in enumerate(seconds) if s in bad_seconds)
        if whole_seconds and any(fractions):
            slow.update(i for i, (s, f) in enumerate(zip(seconds, fractions, strict=True)) if f and s in whole_seconds)
        if bad_ids:
            slow.update(i for i, (p, t) in enumerate(zip(pids, tids, strict=True)) if p in bad_ids or t in bad_ids)
        return slow

    def _type(self, body: str) -> None:
        """A distinct ``LEVEL: body`` typed once: its class, and for a kind wanted its row of typed bodies."""
        entry = self.bulk.entry(body) if body else None
        if entry is None:
            self._typed[body] = (None, None)
            return
        cls = entry[0]
        row = None
        if cls in self.kinds:
            # the event built once, with no header, by the object pipeline's own constructor
            row = self._rows[body] = self._bodies.height + len(self._pending)
            self._pending.append(body_values(entry[1]("", 0, None, None, None, entry)))
        self._typed[body] = (cls, row)

    def _flush(self) -> None:
        """The bodies typed since the last block appended to the table of typed bodies."""
        if self._pending:
            columns = list(zip(*self._pending, strict=True))
            new = pl.DataFrame([pl.Series(name, values, dtype=dtype, strict=False)
                                for (name, dtype), values in zip(_LOADED.items(), columns, strict=True)])
            self._bodies = pl.concat([self._bodies, new], rechunk=True)
            self._pending.clear()

    def _per_line(self, file: str, lines: Iterable[tuple[int, str]], cut: int) -> Iterator[ev.Event]:
        """The events of the kinds wanted among these lines' records, every record counted."""
        for lineno, text in lines:
            for raw in line_records(file, lineno, text, self.stats, cut):
                event = self.parser.parse(raw)
                self.summary.add(event)
                if type(event) in self.kinds:
                    yield event


def _text(row: tuple[str, ...]) -> str:
    """The physical line a row of :data:`ROW` was split from."""
    second, fraction, pid, tid, level_body, other = row
    if not level_body:
        return other
    stamp = f"[{second}.{fraction}]" if fraction else f"[{second}]"
    return f"{stamp} {pid} {tid} - {level_body}"

