"""Parse stage: one raw record -> one typed event; never raises.

Two passes of the same grammar: the record's structure (header, level, body shape) with the start
symbol ``record``, then its message with ``message``, ``bare_message`` or ``banner``. A record whose
structure does not parse becomes :class:`Unparsed` with a reason; a record whose message has no typed
rule becomes :class:`Message` (component, function and text kept).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, cast

from lark.exceptions import LarkError, UnexpectedEOF, UnexpectedInput

from tracelens.parse import events as ev
from tracelens.parse.fastpath import FastParser, FastRecord, record_class, record_time
from tracelens.parse.grammar import Body, Header, build_parser, message_start
from tracelens.read.reader import RawRecord

# Known bad records, labelled (lark's match_examples): the label becomes the unparsed reason.
_BAD_EXAMPLES: dict[str, list[str]] = {
    "no record header": [
        "ws_common: websphereGetStream: Connect timeout fired",
        "hello world",
        "TRACE: ws_common: websphereGetStream: Connect timeout fired",
    ],
    "malformed timestamp": [
        "[Wed Dec 3 15:40:13 2014] 00000dbc 00000e78 - TRACE: x",
        "[2014-12-03 15:40:13] 00000dbc 00000e78 - TRACE: x",
        "[Wed Dec 03 15:40 2014] 00000dbc 00000e78 - TRACE: x",
        "[11/Sep/2017:18:43] 006a00f8 00000001 - TRACE: x",
    ],
    "malformed process or thread id": [
        "[Wed Dec 03 15:40:13 2014] 00000dbcz 00000e78 - TRACE: x",
        "[Wed Dec 03 15:40:13 2014]  00000e78 - TRACE: x",
        "[Wed Dec 03 15:40:13 2014] 00000dbc - TRACE: x",
        "[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 TRACE: x",
    ],
    "unknown level word": [
        "[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 - INFO: x",
        "[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 - trace: x",
    ],
}

_reason_cache: dict[Any, str] = {}


def _reason(exc: UnexpectedInput, text: str, start: str, lenient: bool) -> str:
    if isinstance(exc, UnexpectedEOF) or getattr(getattr(exc, "token", None), "type", None) == "$END":
        return "header without a record (truncated line)"
    # NOTE: the examples are matched with the parser that raised: the lenient grammar's parser states are
    # numbered otherwise, so matching them against the strict parser's (or caching them under the same
    # key) labelled every lenient failure "does not follow", and could label strict ones so too
    parser = build_parser(lenient=lenient)
    state = getattr(exc.state, "position", exc.state)
    key = (lenient, type(exc).__name__, state, start, getattr(exc, "char", None) == "[")
    label = _reason_cache.get(key)
    if label is None:
        try:
            parse = functools.partial(parser.parse, start=start)
            label = exc.match_examples(parse, _BAD_EXAMPLES, use_accepts=True) or "does not follow the log grammar"
        except LarkError:
            label = "does not follow the log grammar"
        _reason_cache[key] = label
    if any(ord(ch) < 32 and ch != "\t" for ch in text):
        label = "control characters in the line"
    column = getattr(exc, "column", None)
    return f"{label} (column {column})" if isinstance(column, int) and column > 1 else label


class RecordParser:
    """Parses records; ``lenient`` also accepts documentation excerpts: header-less records, and the
    typographic quotes pasted text carries where the plug-in wrote ``'`` (``grammars/lenient.lark``).

    ``fast`` (the default) uses the grammar's shapes compiled into regular expressions
    (:mod:`tracelens.parse.fastpath`) and falls back to the LALR parser where they do not decide;
    ``fast=False`` runs the LALR parser on every record, the reference the fast path is tested against.
    """

    def __init__(self, lenient: bool = False, fast: bool = True) -> None:
        self.lenient = lenient
        self._lark = build_parser(lenient=lenient)
        self._fast = FastParser(lenient) if fast else None

    @property
    def fast_parser(self) -> FastParser:
        """The fast path this parser uses (not for a parser made with ``fast=False``)."""
        if self._fast is None:
            raise ValueError("this parser runs the LALR parser only")
        return self._fast

    def parse_or_kind(
        self, raw: RawRecord, wanted: frozenset[type[ev.Event]]
    ) -> ev.Event | tuple[type[ev.Event], str, str]:
        """The event when its class is ``wanted`` (or it is unparsed), else (class, pid, tid): nothing is built."""
        rec = self._split(raw)
        if rec is None:
            return self._slow(raw)
        cls = record_class(rec)
        if cls not in wanted:
            return cls, rec.pid, rec.tid
        return _event(raw, record_time(rec), rec.pid, rec.tid, rec.body, rec.payload)

    def parse_or_open(self, raw: RawRecord, wanted: frozenset[type[ev.Event]], opens: frozenset[type[ev.Event]],
                      touch: Callable[[str | None, str | None, int, str], bool] | None) -> ev.Event | tuple[
                          type[ev.Event], str, str]:
        """:meth:`parse_or_kind`, and the event too for a kind in ``opens`` when ``touch(pid, tid, line,
        file)`` says no (a record that opens a request cut by the log's start, else only extends one)."""
        result = self.parse_or_kind(raw, wanted)
        if isinstance(result, tuple) and result[0] in opens and touch is not None and not touch(
                result[1], result[2], raw.line, raw.file):
            return self.parse(raw)
        return result

    def parse(self, raw: RawRecord) -> ev.Event:
        rec = self._split(raw)
        if rec is None:
            return self._slow(raw)
        return _event(raw, record_time(rec), rec.pid, rec.tid, rec.body, rec.payload)

    def _split(self, raw: RawRecord) -> FastRecord | None:
        """The fast path's split, or None when the record needs the LALR parser (or is damaged)."""
        text = raw.text
        if self._fast is None or not text.startswith("[") or "\x00" in text or raw.cut:
            return None
        return self._fast.split(text)

    def _slow(self, raw: RawRecord) -> ev.Event:
        """The LALR parser: the reference, and the path for everything the fast path leaves."""
        if raw.cut:
            return too_long(raw)
        if "\x00" in raw.text:
            return _with_nul(raw)
        try:
            header, body = self._structure(raw.text)
        except UnexpectedInput as exc:
            return ev.Unparsed(raw.file, raw.line, None, None, None, None, None, None,
                               reason=_reason(exc, raw.text, "record", self.lenient), text=raw.text)
        except (LarkError, ValueError, KeyError) as exc:
            # ValueError: a date the calendar does not have (Feb 30), an out-of-range hour
            return ev.Unparsed(raw.file, raw.line, None, None, None, None, None, None,
                               reason=f"invalid header value ({exc})", text=raw.text)
        payload = self._fast.message(body) if self._fast is not None else self._message(body)
        if header is None:
            return _event(raw, None, None, None, body, payload)
        return _event(raw, header.time, header.pid, header.tid, body, payload)

    def _structure(self, text: str) -> tuple[Header | None, Body]:
        if not self.lenient or text.startswith("["):
            return cast(tuple[Header | None, Body], self._lark.parse(text, start="record"))
        try:
            result = self._lark.parse(text, start="bare_record")
        except UnexpectedInput:
            result = self._lark.parse(text, start="body_record")
        return cast(tuple[Header | None, Body], result)

    def _message(self, body: Body) -> tuple[type[ev.Event], dict[str, Any]] | None:
        start = message_start(body)
        if start is None:
            return None
        try:
            payload = cast(tuple[type[ev.Event], dict[str, Any]], self._lark.parse(body.text, start=start))
        except (LarkError, ValueError):
            return None
        return payload


def too_long(raw: RawRecord) -> ev.Unparsed:
    """A line longer than the record limit (``--max-record-bytes``): never a record, whatever its start.

    NOTE: the plug-in's longest records (a request's headers, a long cookie) are a few KiB; a line of
    megabytes is damage (a zero-filled block without a line end, two captures run together), and
    the reader kept only its start.
    """
    return ev.Unparsed(raw.file, raw.line, None, None, None, None, None, None,
                       reason=f"line too long: {raw.cut} bytes", text=raw.text)


def _with_nul(raw: RawRecord) -> ev.Unparsed:
    """A record with a NUL byte in it is damage, never a record.

    NOTE: the plug-in writes no NUL; NULs are a zero-filled block (a crash, a copy taken while the file
    was written) that landed inside a record. The grammar's text terminals take almost any character,
    so without this check such a line was typed with the NUL in its text (``P\x00lugins loaded.``
    became a banner line, and the restart it recorded was lost) instead of being reported.
    """
    column = raw.text.index("\x00") + 1
    return ev.Unparsed(raw.file, raw.line, None, None, None, None, None, None,
                       reason=f"control characters in the line: NUL (column {column})", text=raw.text)


def _event(raw: RawRecord, time: datetime | None, pid: str | None, tid: str | None, body: Body,
           payload: tuple[type[ev.Event], dict[str, Any]] | None) -> ev.Event:
    return build_event(raw.file, raw.line, time, pid, tid, body, payload)


def build_event(file: str, line: int, time: datetime | None, pid: str | None, tid: str | None, body: Body,
                payload: tuple[type[ev.Event], dict[str, Any]] | None) -> ev.Event:
    """The event of a record whose structure and message were parsed, by any path."""
    common = (file, line, time, pid, tid, body.level, body.component, body.function)
    if payload is None:
        return ev.Message(*common, text=body.text)
    return payload[0](*common, **payload[1])


def parse_records(records: Iterable[RawRecord], lenient: bool = False, fast: bool = True) -> Iterator[ev.Event]:
    parser = RecordParser(lenient=lenient, fast=fast)
    for raw in records:
        yield parser.parse(raw)
