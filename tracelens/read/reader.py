"""Read stage: files, ``.gz`` files and standard input -> records with their file and line number.

The only stage that opens files. It decodes each line on its own (UTF-8, else Latin-1, so that a
stray byte never stops a run; UTF-16 when the file starts with its byte-order mark, as Windows
editors save "Unicode" text), drops CR line ends (CR alone ends a line in classic Mac text), counts
blank lines, splits a physical line that holds several records (plug-ins up to 8.0 interleave the
writes of different processes, §1.4 of the facts) and, for header-less documentation excerpts
(``lenient``), joins PDF-wrapped continuation lines back onto their record. Every physical line is
counted in :class:`ReadStats`, so that the parse summary can reconcile what it was given with what it
produced.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, BinaryIO, NamedTuple

from tracelens.errors import InputError
from tracelens.parse.grammar import header_regex, record_start_regex

STDIN = "-"
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_SLICE = 4096
_SNIFF_BYTES = 65536
BLOCK_BYTES = 1 << 20  # what the bulk reader decodes and splits at once: its rows are in memory together
# Text has few control characters; a capture that is mostly control bytes is not a log
_BINARY_RATIO = 0.10
_TEXT_CONTROLS = {9, 10, 12, 13}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# compressed formats the reader does not open: named, so that the message says what to do
_OTHER_COMPRESSION = {b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip", b"\x28\xb5\x2f\xfd": "zstd"}


class RawRecord(NamedTuple):
    """One record's text and where it came from.

    NOTE: a NamedTuple rather than a frozen dataclass: one is made per line, and a tuple is built
    in C, several times faster; it is just as immutable.
    """

    file: str
    line: int
    text: str


@dataclass(slots=True)
class ReadStats:
    """What the reader saw; the parse summary reconciles these with the records it parsed."""

    files: list[str] = field(default_factory=list)
    physical_lines: int = 0
    blank_lines: int = 0
    bytes_read: int = 0
    split_records: int = 0  # records that began after another record on the same physical line
    joined_lines: int = 0  # continuation lines joined onto their record (lenient mode)
    latin1_lines: int = 0  # lines that were not UTF-8 and were read as Latin-1
    damage: list[str] = field(default_factory=list)  # e.g. a truncated .gz, with file and line
    lines_by_file: dict[str, int] = field(default_factory=dict)

    def add_range(self, part: ReadStats, name: str, offset: int) -> None:
        """Add what was read of one byte range of ``name`` whose first line is line ``offset + 1`` (its lines
        were numbered from 1 in ``part``)."""
        self.physical_lines += part.physical_lines
        self.blank_lines += part.blank_lines
        self.bytes_read += part.bytes_read
        self.split_records += part.split_records
        self.joined_lines += part.joined_lines
        self.latin1_lines += part.latin1_lines
        self.damage.extend(f"{d} (in the part starting at line {offset + 1})" for d in part.damage)
        self.lines_by_file[name] = offset + part.lines_by_file.get(name, 0)

    @property
    def record_lines(self) -> int:
        return self.physical_lines - self.blank_lines

    @property
    def expected_records(self) -> int:
        return self.record_lines + self.split_records - self.joined_lines


def _open(path: str) -> tuple[str, BinaryIO]:
    if path == STDIN:
        return "<stdin>", sys.stdin.buffer
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory, not a log file")
    try:
        raw = open(path, "rb", buffering=_SNIFF_BYTES)  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror or exc})") from None
    return path, raw


def log_order(files: Sequence[str]) -> Callable[[str, int], tuple[int, str, int]]:
    """A sort key for ``(file, line)`` in the order the files were read (an unknown file last, by name):
    what puts the parts of a split analysis back in log order."""
    rank = {name: i for i, name in enumerate(files)}
    return lambda file, line: (rank.get(file, len(rank)), file, line)


def check_inputs(paths: Iterable[str]) -> None:
    """Fail early, before any output, when a path cannot be opened; ``-`` may appear once."""
    seen_stdin = False
    for path in paths:
        if path == STDIN:
            if seen_stdin:
                raise InputError("standard input (-) can be read only once")
            seen_stdin = True
            continue
        _, stream = _open(path)
        stream.close()


class _Gunzip(io.RawIOBase):
    """gzip decompression that keeps every byte it could decompress when the file is cut short.

    ``gzip.GzipFile`` raises before handing out the last buffer of a truncated file; a copy taken
    while the web server was still writing is exactly that, so this reader decompresses with zlib
    itself (several members too) and records the damage instead.
    """

    def __init__(self, raw: BinaryIO, name: str, damage: list[str]) -> None:
        self._raw, self._name, self._damage = raw, name, damage
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._done:
            chunk = self._raw.read(65536)
            try:
                if not chunk:
                    self._done = True
                    self._pending = self._z.flush()
                    if not self._z.eof:
                        self._damage.append(f"{self._name}: compressed data ends early")
                    break
                self._pending = self._decompress(chunk)
            except zlib.error as exc:
                self._damage.append(f"{self._name}: compressed data is corrupt ({exc})")
                self._done = True
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _decompress(self, chunk: bytes) -> bytes:
        """``chunk`` decompressed, a slice at a time; at corrupt data, what came before it is kept.

        NOTE: ``decompress`` raises without returning what it decompressed before the error, so one
        call per 64 KiB chunk lost up to 64 KiB of compressed log (half a megabyte of lines) before a
        corruption. Each slice is fed to a copy first; the slice that fails is fed again byte by byte.
        """
        out = []
        for start in range(0, len(chunk), _GZIP_SLICE):
            piece = chunk[start:start + _GZIP_SLICE]
            saved = self._z.copy()
            try:
                out.append(self._member(piece))
            except zlib.error:
                self._z = saved
                for i in range(len(piece)):
                    try:
                        out.append(self._member(piece[i:i + 1]))
                    except zlib.error:
                        self._pending = b"".join(out)
                        raise
        return b"".join(out)

    def _member(self, data: bytes) -> bytes:
        out = self._z.decompress(data)
        while self._z.eof and self._z.unused_data:  # another gzip member follows
            rest = self._z.unused_data
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += self._z.decompress(rest)
        return out


def _sniff(name: str, stream: BinaryIO, damage: list[str]) -> tuple[BinaryIO, str, str]:
    """Decompress gzip by its magic number, and refuse what is plainly not text; also the text's encoding
    and its line end (CR alone for classic Mac text: CRs and no LF in the head).

    NOTE: ``peek`` never returns more than the reader's buffer holds, so files are opened with a buffer
    as large as the sniff (standard input keeps its own): with the default 8 KiB, a zero-filled block
    near the start of a good log (a crash, a copy taken while the file was written) was most of what
    the sniff saw, and the log was refused as binary. A head with a record header is a log, whatever
    else it holds.
    """
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)  # type: ignore[type-var]
    head = buffered.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
    if head[:2] == _GZIP_MAGIC:
        inner = io.BufferedReader(_Gunzip(buffered, name, damage), _SNIFF_BYTES)
        head = inner.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
        if not head and damage:
            raise InputError(f"{name}: not a readable gzip file ({damage[-1].split(': ', 1)[-1]})")
        buffered = inner
    if head[:2] in _UTF16_BOMS:
        return buffered, "utf-16", "\n"  # every other byte is NUL: not binary, and not UTF-8 either
    for magic, kind in _OTHER_COMPRESSION.items():
        if head.startswith(magic):
            raise InputError(f"{name}: {kind}-compressed data, not a plug-in log: decompress it first "
                             "(only gzip is read directly)")
    if head and header_regex().search(head.decode("latin-1")) is None:
        # a log has record headers; only a file without any is judged by its control bytes
        controls = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROLS)
        if controls / len(head) > _BINARY_RATIO:
            raise InputError(f"{name}: binary data, not a plug-in log")
    newline = "\r" if b"\r" in head and b"\n" not in head else "\n"
    return buffered, "utf-8-sig", newline  # -sig: a byte-order mark (Windows editors write one) is not text


def _physical_lines(name: str, stream: BinaryIO, stats: ReadStats, encoding: str = "utf-8-sig",
                    newline: str = "\n") -> Iterator[tuple[int, str]]:
    """Numbered lines without their line end. UTF-8 is decoded in C; a line that is not UTF-8 (its
    bytes come back as surrogates) is read again as Latin-1, the usual other encoding of these logs."""
    errors = "surrogateescape" if encoding.startswith("utf-8") else "replace"
    text = io.TextIOWrapper(stream, encoding=encoding, errors=errors, newline=newline)
    lineno = 0
    try:
        for line in text:
            lineno += 1
            stats.bytes_read += len(line)  # characters: equal to bytes for the ASCII of these logs
            if not line.isascii():
                data = line.encode("utf-8", "surrogateescape")
                stats.bytes_read += len(data) - len(line)  # the bytes of the UTF-8 text, as the bulk reader counts
                try:
                    line.encode("utf-8")
                except UnicodeEncodeError:
                    line = data.decode("latin-1")
                    stats.latin1_lines += 1
            yield lineno, line.rstrip("\r\n")
    except OSError as exc:
        stats.damage.append(f"{name}: read error after line {lineno} ({exc})")
    finally:
        stats.lines_by_file[name] = lineno
        # NOTE: a generator closed late (its reader went away: `| head`) finds its file closed by
        # the generator that opened it; there is nothing left to detach then
        with contextlib.suppress(ValueError):
            text.detach()


def _split(line: str) -> list[str]:
    """Split a physical line at every later record header (§1.4)."""
    if line.find("[", 1) < 0:
        return [line]
    starts = [m.start() for m in header_regex().finditer(line, 1)]
    if not starts:
        return [line]
    cuts = [0, *starts, len(line)]
    # NOTE: a record cut from the middle of a line loses the CR that ended it: records pasted with CR
    # line ends into a file with LF ones (one physical line) kept it, so that none of them was typed
    pieces = (line[a:b].rstrip("\r") for a, b in pairwise(cuts))
    return [piece for piece in pieces if piece]


class Block(NamedTuple):
    """Consecutive physical lines of one file, the first numbered ``first_line``.

    ``text`` (clean UTF-8 without CR or NUL, every line ending in ``\\n``) is handed over whole, for the
    parse stage to split in one regular-expression pass; otherwise ``lines`` holds the decoded lines
    without their line ends, as :func:`read_records` decodes them. ``line_count``: how many lines.
    """

    file: str
    first_line: int
    text: str | None
    lines: list[str] | None
    line_count: int


def line_records(name: str, lineno: int, text: str, stats: ReadStats) -> list[RawRecord]:
    """The records of one decoded physical line: none for a blank line, several for interleaved ones."""
    if not text or text.isspace():
        stats.blank_lines += 1
        return []
    if text.find("[", 1) < 0:
        return [RawRecord(name, lineno, text)]
    pieces = _split(text)
    stats.split_records += len(pieces) - 1
    return [RawRecord(name, lineno, piece) for piece in pieces]


def read_blocks(paths: Iterable[str], stats: ReadStats, block_bytes: int = BLOCK_BYTES) -> Iterator[Block]:
    """Every line of every file as :class:`Block` s, for the bulk parse (strict mode only).

    The same lines, numbers and decoding as :func:`read_records`, a block at a time: the per-line
    reader costs a Python iteration per line before anything is parsed, about as much as the
    header split itself. Blank lines and interleaved records are counted by :func:`line_records`,
    which the parse stage calls for every line that is not a plain record.
    """
    for path in paths:
        name, stream = _open(path)
        stats.files.append(name)
        try:
            data, encoding, newline = _sniff(name, stream, stats.damage)
            if encoding != "utf-8-sig" or newline != "\n":
                yield from _line_blocks(name, _physical_lines(name, data, stats, encoding, newline), stats)
            else:
                yield from _byte_blocks(name, data, stats, block_bytes)
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()


def plain_ranges(path: str, parts: int, min_bytes: int) -> list[tuple[int, int]] | None:
    """Byte ranges of whole lines that split a plain UTF-8 file in ``parts``, for parallel counting.

    None when the file is not split: standard input, gzip, UTF-16 or CR-only text, or a file smaller
    than ``min_bytes``. Raises :class:`InputError` as :func:`read_blocks` would for an unusable file.
    """
    if parts < 2 or path == STDIN or os.path.isdir(path) or os.path.getsize(path) < min_bytes:
        return None
    name, stream = _open(path)
    try:
        data, encoding, newline = _sniff(name, stream, [])
        if data is not stream or encoding != "utf-8-sig" or newline != "\n":
            return None  # decompressed (gzip), UTF-16 or CR-only: read by one process
        size = os.path.getsize(path)
        cuts = [0]
        for i in range(1, parts):
            stream.seek(max(size * i // parts - 1, cuts[-1]))
            stream.readline()  # to the start of the next line
            cuts.append(max(stream.tell(), cuts[-1]))
        cuts.append(size)
        return [(a, b) for a, b in pairwise(cuts) if b > a]
    finally:
        stream.close()


def head_text(path: str, size: int) -> str:
    """The first ``size`` bytes of a log (decompressed), as Latin-1 text; empty for standard input."""
    if path == STDIN:
        return ""
    name, stream = _open(path)
    try:
        data, _, _ = _sniff(name, stream, [])
        return data.read(size).decode("latin-1")
    finally:
        stream.close()


def read_range(path: str, start: int, end: int, stats: ReadStats) -> Iterator[Block]:
    """The blocks of bytes ``start`` to ``end`` of a file split by :func:`plain_ranges`, lines numbered from 1."""
    with open(path, "rb") as stream:
        stream.seek(start)
        yield from _byte_blocks(path, stream, stats, BLOCK_BYTES, limit=end - start, at_start=start == 0)


def _line_blocks(name: str, lines: Iterator[tuple[int, str]], stats: ReadStats) -> Iterator[Block]:
    batch: list[str] = []
    first = 1
    for lineno, text in lines:
        if not batch:
            first = lineno
        batch.append(text)
        if len(batch) >= 10_000:
            stats.physical_lines += len(batch)
            yield Block(name, first, None, batch, len(batch))
            batch = []
    if batch:
        stats.physical_lines += len(batch)
        yield Block(name, first, None, batch, len(batch))


def _byte_blocks(name: str, data: BinaryIO, stats: ReadStats, block_bytes: int,
                 limit: int | None = None, at_start: bool = True) -> Iterator[Block]:
    """Blocks of whole lines read from ``data`` (at most ``limit`` bytes), numbered from 1.

    ``at_start``: ``data`` starts at the file's start, where a byte-order mark may be.
    """
    lineno = 0
    rest = b""
    remaining = limit
    try:
        if at_start:
            rest = data.read(3) if remaining is None else data.read(min(3, remaining))
            if remaining is not None:
                remaining -= len(rest)
            if rest == b"\xef\xbb\xbf":
                rest = b""  # a byte-order mark starts the file, not its first line
        while True:
            size = block_bytes if remaining is None else min(block_bytes, remaining)
            chunk = data.read(size) if size > 0 else b""
            if remaining is not None:
                remaining -= len(chunk)
            if not chunk:
                if not rest:
                    break
                # the rest of the file; its last line may have no line end
                added = not rest.endswith(b"\n")
                chunk, rest, last = rest + b"\n" if added else rest, b"", True
            else:
                chunk, last, added = rest + chunk, False, False
                cut = chunk.rfind(b"\n") + 1
                if cut == 0:
                    rest = chunk
                    continue
                chunk, rest = chunk[:cut], chunk[cut:]
            count = chunk.count(b"\n")
            stats.bytes_read += len(chunk) - added
            block = _decoded(name, lineno + 1, chunk, count, stats)
            lineno += count
            stats.physical_lines += count
            yield block
            if last:
                break
    except OSError as exc:
        stats.damage.append(f"{name}: read error after line {lineno} ({exc})")
    finally:
        stats.lines_by_file[name] = lineno


def _decoded(name: str, first: int, chunk: bytes, count: int, stats: ReadStats) -> Block:
    if b"\r" not in chunk and b"\x00" not in chunk:
        try:
            return Block(name, first, chunk.decode("utf-8"), None, count)
        except UnicodeDecodeError:
            pass
    lines = []
    for raw in chunk[:-1].split(b"\n"):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
            stats.latin1_lines += 1
        lines.append(text.rstrip("\r\n"))
    return Block(name, first, None, lines, count)


def read_records(paths: Iterable[str], stats: ReadStats, lenient: bool = False) -> Iterator[RawRecord]:
    """Every record of every file, in file order; raises :class:`InputError` for an unusable file."""
    for path in paths:
        name, stream = _open(path)
        stats.files.append(name)
        try:
            data, encoding, newline = _sniff(name, stream, stats.damage)
            lines = _physical_lines(name, data, stats, encoding, newline)
            if lenient:
                yield from _lenient(name, lines, stats)
            else:
                yield from _strict(name, lines, stats)
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()


def _strict(name: str, lines: Iterator[tuple[int, str]], stats: ReadStats) -> Iterator[RawRecord]:
    lineno = 0
    try:
        for lineno, text in lines:
            yield from line_records(name, lineno, text, stats)
    finally:
        stats.physical_lines += lineno  # counted once per file, not per line


def _lenient(name: str, lines: Iterator[tuple[int, str]], stats: ReadStats) -> Iterator[RawRecord]:
    """Like :func:`_strict`, but a line that starts no record continues the one before (PDF wrapping)."""
    starts = record_start_regex()
    pending: RawRecord | None = None
    for lineno, text in lines:
        stats.physical_lines += 1
        if not text.strip():
            stats.blank_lines += 1
            continue
        pieces = _split(text)
        stats.split_records += len(pieces) - 1
        first = pieces[0]
        if pending is not None and not starts.match(first):
            # the wrapped line lost its break, never a word: one space between the halves
            pending = RawRecord(pending.file, pending.line, pending.text.rstrip(" ") + " " + first.strip())
            stats.joined_lines += 1
            pieces = pieces[1:]
        for piece in pieces:
            if pending is not None:
                yield pending
            pending = RawRecord(name, lineno, piece)
    if pending is not None:
        yield pending
