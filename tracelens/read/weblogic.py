"""Read stage: which plug-in wrote a log (WebSphere or WebLogic, judged by content), and WebLogic's records.

A WebLogic proxy plug-in log (``wlproxy.log``, or its lines in an Apache/OHS error log) has no
``[timestamp] pid tid - `` header: its records start with a ctime timestamp (``Mon May 10 13:14:40
2004``, optionally followed by a ``<16-digit id>``), an error-log stamp ``[Thu Jun 04 10:00:00.1 2020]
[weblogic:debug]``, or a request banner (``====New Request: [...] ====``). A line that starts none of
these continues the record before it (the plug-in writes some messages over two lines, facts §2) and is
joined onto it with one space; the join is counted in :class:`~tracelens.read.reader.ReadStats`, as the
lenient reader counts its joins, so that every line is accounted for.
"""

from __future__ import annotations

import enum
import re
import sys
from collections.abc import Iterable, Iterator

from tracelens.read.header import ASCTIME, HEADER
from tracelens.read.reader import (
    KEPT_BYTES,
    MAX_RECORD_BYTES,
    RawRecord,
    ReadStats,
    _open,
    _physical_lines,
    _sniff,
    head_text,
)


class System(str, enum.Enum):
    """The plug-in whose log a file is (``--system``); ``auto``: judged per file by its content."""

    AUTO = "auto"
    WEBSPHERE = "websphere"
    WEBLOGIC = "weblogic"


#: what starts a WebLogic record: a ctime stamp, an Apache/OHS error-log stamp, or a request banner
RECORD_START = re.compile(
    rf"(?:{ASCTIME}(?: |$)|\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{{2}} [ 0-3][0-9] |=+ ?New Request: )")
_WEBLOGIC_LINE = re.compile(
    rf"^(?:{ASCTIME} |=+ ?New Request: \[|\[[^\]]*\] \[weblogic:)", re.MULTILINE)
_WEBSPHERE_LINE = re.compile(rf"^{HEADER.pattern}", re.MULTILINE)
_SNIFF_BYTES = 1 << 16


def detect(path: str) -> System:
    """WebLogic when the head of ``path`` has more WebLogic record starts than WebSphere headers.

    NOTE: judged on the first 64 KiB, by counting, not on the first line: a capture may start with a
    pasted note or a cut line. Standard input cannot be looked at before it is read: it is WebSphere
    unless ``--system`` says otherwise (as the default was before WebLogic was read).
    """
    try:
        head = head_text(path, _SNIFF_BYTES)
    except Exception:
        return System.WEBSPHERE
    weblogic = len(_WEBLOGIC_LINE.findall(head))
    websphere = len(_WEBSPHERE_LINE.findall(head))
    return System.WEBLOGIC if weblogic > websphere else System.WEBSPHERE


def systems(paths: Iterable[str], forced: System = System.AUTO) -> dict[str, System]:
    """The system of every path: ``forced`` unless it is ``auto``."""
    return {p: (forced if forced is not System.AUTO else detect(p)) for p in paths}


def read_weblogic_records(paths: Iterable[str], stats: ReadStats, *,
                          max_record_bytes: int = MAX_RECORD_BYTES) -> Iterator[RawRecord]:
    """Every record of WebLogic logs, continuation lines joined onto their record, in file order."""
    for path in paths:
        name, stream = _open(path)
        stats.files.append(name)
        try:
            data, encoding, newline, _ = _sniff(name, stream, stats.damage)
            lines = _physical_lines(name, data, stats, encoding, newline, max_record_bytes)
            yield from _joined(name, lines, stats, max_record_bytes)
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()


def _joined(name: str, lines: Iterator[tuple[int, str, int]], stats: ReadStats,
            max_record: int) -> Iterator[RawRecord]:
    starts = RECORD_START
    pending: RawRecord | None = None
    for lineno, text, cut in lines:
        stats.physical_lines += 1
        if cut:
            if pending is not None:
                yield pending
            pending = None
            yield RawRecord(name, lineno, text, cut)
            continue
        if not text.strip():
            stats.blank_lines += 1
            continue
        if pending is not None and not starts.match(text):
            stats.joined_lines += 1
            joined = pending.text.rstrip(" ") + " " + text.strip()
            size = len(joined.encode("utf-8", "surrogateescape"))
            pending = pending._replace(text=joined[:KEPT_BYTES], cut=size) if size > max_record else \
                pending._replace(text=joined)
            continue
        if pending is not None:
            yield pending
        pending = RawRecord(name, lineno, text)
    if pending is not None:
        yield pending
