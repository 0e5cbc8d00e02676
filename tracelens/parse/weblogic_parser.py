"""Parse stage: one WebLogic plug-in record -> one typed event, by ``grammars/weblogic_log.lark``; never raises.

Two passes of the one grammar, as for the WebSphere log: the record's structure (timestamp, optional
request id, or a banner) with the start symbol ``record``, then its message with ``message``. A record
whose structure does not parse is :class:`~tracelens.parse.events.Unparsed` with a reason; a message
with no typed rule is a :class:`~tracelens.parse.events.Message` (its text kept).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, cast

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError

from tracelens.parse import events as ev
from tracelens.parse import weblogic_events as wl
from tracelens.read.grammar_files import grammar_source
from tracelens.read.header import asctime
from tracelens.read.reader import RawRecord

GRAMMAR_NAME = "weblogic_log.lark"
_BANNER = re.compile(r"New Request: \[([^\]]*)\]")
_ERRLOG_PID = re.compile(r"\[pid ([0-9]+)")
_ERRLOG_ID = re.compile(r"<([0-9]+)>\s*$")

Payload = tuple[type[ev.Event], dict[str, Any]]


def _str(children: list[Any], kind: str, nth: int = 0) -> str | None:
    found = [str(c) for c in children if isinstance(c, Token) and c.type == kind]
    return found[nth] if len(found) > nth else None


def _int(children: list[Any], nth: int = 0) -> int:
    return [int(c) for c in children if isinstance(c, Token) and c.type == "INT"][nth]


def _banner(text: str) -> Payload:
    match = _BANNER.search(text)
    parts = match.group(1).split() if match else []
    method = parts[0] if parts else None
    uri = parts[1] if len(parts) > 1 else None
    protocol = parts[2] if len(parts) > 2 else None
    return wl.WlNewRequest, {"method": method, "uri": uri, "protocol": protocol}


def _errlog_time(text: str) -> datetime:
    """``[Thu Jun 04 10:00:00.123456 2020]`` -> datetime (the fraction kept)."""
    inner = text[1:-1]
    fraction = 0
    if "." in inner[:26]:
        head, _, rest = inner.partition(".")
        digits, _, year = rest.partition(" ")
        fraction = int(digits.ljust(6, "0"))
        inner = f"{head} {year}"
    return asctime(inner).replace(microsecond=fraction)


class _ToEvents(Transformer[Token, Any]):
    """Rule callbacks; every method name is a rule or alias of the grammar."""

    # ---- structure: (time, pid, tid, message text or a banner payload)
    def ctime_record(self, c: list[Any]) -> tuple[datetime, None, None, str]:
        return asctime(str(c[0])), None, None, str(c[1])

    def id_record(self, c: list[Any]) -> tuple[datetime, None, str, str]:
        return asctime(str(c[0])), None, str(c[1])[1:-1], str(c[2])

    def id_empty(self, c: list[Any]) -> tuple[datetime, None, str, str]:
        return asctime(str(c[0])), None, str(c[1])[1:-1], ""

    def errlog_record(self, c: list[Any]) -> tuple[datetime, str | None, str | None, str]:
        tag = str(c[1])
        pid = _ERRLOG_PID.search(tag)
        rid = _ERRLOG_ID.search(tag)
        return _errlog_time(str(c[0])), pid.group(1) if pid else None, rid.group(1) if rid else None, str(c[2])

    def stamped_banner(self, c: list[Any]) -> tuple[datetime, None, None, Payload]:
        return asctime(str(c[0])), None, None, _banner(str(c[1]))

    def id_banner(self, c: list[Any]) -> tuple[datetime, None, str, Payload]:
        return asctime(str(c[0])), None, str(c[1])[1:-1], _banner(str(c[2]))

    def banner(self, c: list[Any]) -> tuple[None, None, None, Payload]:
        return None, None, None, _banner(str(c[0]))

    # ---- messages
    def preferred_from_cookie(self, c: list[Any]) -> Payload:
        return wl.WlCookieJvmids, {"primary": _str(c, "JVMID"), "secondary": _str(c, "JVMID", 1)}

    def primary_jvmid(self, c: list[Any]) -> Payload:
        return wl.WlPrimaryJvmid, {"jvmid": str(c[0])}

    def secondary_jvmid(self, c: list[Any]) -> Payload:
        return wl.WlSecondaryJvmid, {"jvmid": str(c[0])}

    secondary_str = secondary_jvmid

    def jvmid_pair(self, c: list[Any]) -> Payload:
        # `primaryJVMID: []` has no token: which JVMID is which is told by the brackets' order, so the
        # grammar keeps the empty slots (maybe_placeholders) and the first slot is the primary
        return wl.WlJvmidPair, {"primary": _opt(c, 0), "secondary": _opt(c, 1)}

    def secondary_pair(self, c: list[Any]) -> Payload:
        return wl.WlJvmidPair, {"primary": None, "secondary": _opt(c, 0)}

    def jvmid_count(self, c: list[Any]) -> Payload:
        return wl.WlJvmidCount, {"count": _int(c)}

    def start_position(self, c: list[Any]) -> Payload:
        return wl.WlStartPosition, {"start_position": _int(c), "list_length": _int(c, 1)}

    def jvmids_stale(self, _c: list[Any]) -> Payload:
        return wl.WlJvmidsStale, {}

    def iterating(self, c: list[Any]) -> Payload:
        return wl.WlIterating, {"start_position": _int(c)}

    def _found(self, role: str, c: list[Any]) -> Payload:
        parts = str(c[0]).split(":")
        ssl = int(parts[2]) if len(parts) > 2 else None
        return wl.WlFoundServer, {"role": role, "host": parts[0], "port": int(parts[1]), "ssl_port": ssl}

    def found_primary(self, c: list[Any]) -> Payload:
        return self._found("primary", c)

    def found_secondary(self, c: list[Any]) -> Payload:
        return self._found("secondary", c)

    def list_jvmid(self, c: list[Any]) -> Payload:
        return wl.WlListJvmid, {"index": _int(c), "jvmid": _str(c, "JVMID")}

    def servers_found(self, c: list[Any]) -> Payload:
        return wl.WlServersFound, {"count": _int(c)}

    def request_string(self, c: list[Any]) -> Payload:
        return wl.WlRequestString, {"uri": _str(c, "QTEXT") or ""}

    def request_ok(self, c: list[Any]) -> Payload:
        return wl.WlRequestDone, {"uri": _str(c, "BRTEXT"), "ok": True}

    def request_failed(self, c: list[Any]) -> Payload:
        return wl.WlRequestDone, {"uri": _str(c, "BRTEXT"), "ok": False}

    def trying(self, c: list[Any]) -> Payload:
        return wl.WlTrying, {"method": _str(c, "WORD"), "uri": _str(c, "BRTEXT"), "host": _str(c, "HOSTNAME"),
                             "port": _int(c), "ssl": (_str(c, "WORD", 1) or "").lower() in ("yes", "true", "on")}

    def connected(self, c: list[Any]) -> Payload:
        return wl.WlConnected, {"server": str(c[0])}

    def connect_failed(self, c: list[Any]) -> Payload:
        return wl.WlConnectFailed, {"errno": _int(c), "text": _str(c, "QTEXT") or ""}

    def marked_bad(self, c: list[Any]) -> Payload:
        return wl.WlMarkedBad, {"server": str(c[0])}

    def failing_over(self, c: list[Any]) -> Payload:
        return wl.WlFailingOver, {"reason": _str(c, "WORD")}

    def no_backend(self, c: list[Any]) -> Payload:
        return wl.WlNoBackend, {"seconds": _int(c)}

    def header(self, c: list[Any]) -> Payload:
        direction = f"{_str(c, 'WORD')} {_str(c, 'WORD', 1)}"
        return wl.WlHeader, {"direction": direction, "name": _str(c, "HNAME"), "value": _str(c, "HVALUE") or ""}

    def status_line(self, c: list[Any]) -> Payload:
        line = _str(c, "STATUS_LINE") or ""
        parts = line.split(" ", 2)
        return wl.WlStatus, {"status": int(parts[1]), "reason": parts[2] if len(parts) > 2 else ""}


def _opt(children: list[Any], nth: int) -> str | None:
    slots = [c for c in children if c is None or (isinstance(c, Token) and c.type == "JVMID")]
    value = slots[nth] if len(slots) > nth else None
    return None if value is None else str(value)


@functools.cache
def build_parser() -> Lark:
    """The LALR parser for both start symbols, with the event transformer inside it (built once)."""
    return Lark(grammar_source(GRAMMAR_NAME), parser="lalr", lexer="contextual",
                start=["record", "message"], transformer=_ToEvents(), maybe_placeholders=True, cache=True)


def _reason(text: str) -> str:
    if any(ord(ch) < 32 and ch != "\t" for ch in text):
        return "control characters in the line"
    if text[:1] == "=":
        return "malformed request banner"
    return "no WebLogic timestamp (Www Mmm dd HH:MM:SS yyyy)"


@functools.lru_cache(maxsize=50_000)
def _message(text: str) -> Payload | None:
    """The typed payload of a message text, or None for a message the grammar does not type."""
    if not text:
        return None
    try:
        # the transformer runs inside the parser: what comes back is its payload, not a tree
        return cast(Payload, build_parser().parse(text, start="message"))
    except LarkError:
        return None


def parse_record(raw: RawRecord) -> ev.Event:
    """One record as a typed event, a generic message, or unparsed with a reason."""
    if raw.cut:
        return ev.Unparsed(raw.file, raw.line, None, None, None, None, None, None,
                           f"line too long: {raw.cut} bytes", raw.text)
    try:
        structure = cast(tuple[datetime | None, str | None, str | None, "str | Payload"],
                         build_parser().parse(raw.text, start="record"))
    except LarkError:
        return ev.Unparsed(raw.file, raw.line, None, None, None, None, None, None, _reason(raw.text), raw.text)
    time, pid, tid, body = structure
    payload = body if isinstance(body, tuple) else _message(body)
    if payload is None:
        return ev.Message(raw.file, raw.line, time, pid, tid, None, wl.COMPONENT, None, str(body))
    cls, fields = payload
    return cls(raw.file, raw.line, time, pid, tid, None, wl.COMPONENT, None, **fields)


def parse_records(records: Iterable[RawRecord]) -> Iterator[ev.Event]:
    """Every record of a WebLogic log as an event, in input order."""
    for raw in records:
        yield parse_record(raw)
