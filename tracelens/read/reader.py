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
import functools
import io
import os
import stat
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, BinaryIO, NamedTuple, cast

from tracelens.errors import InputError
from tracelens.read.header import HEADER, RECORD_START

STDIN = "-"
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_SLICE = 4096
_SNIFF_BYTES = 65536
#: what the sniff judges a file by: its first MiB, so that a zero-filled head (a crash) is not all it sees
SAMPLE_BYTES = 1 << 20
BLOCK_BYTES = 1 << 20  # what the bulk reader decodes and splits at once: its rows are in memory together
#: ``--max-record-bytes``: a longer line is an unparsed record, and only its first bytes are kept
MAX_RECORD_BYTES = 1 << 20
#: what an unparsed record keeps of a line longer than the limit
KEPT_BYTES = 4096
# Text has few control characters; a capture whose bytes (NULs aside) are mostly control bytes is not a log
_BINARY_RATIO = 0.10
_TEXT_BYTES = bytes([9, 10, 12, 13, *range(32, 256)])
#: a gzip input that decompresses to more than this many times its compressed size (once past
#: :data:`GZIP_CHECK_BYTES`) is damage or a decompression bomb, not a log: real plug-in traces compress
#: 10 to 20 times, and a log repeated verbatim about 130 times
GZIP_MAX_RATIO = 400
GZIP_CHECK_BYTES = 64 << 20
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# compressed formats the reader does not open: named, so that the message says what to do
_OTHER_COMPRESSION = {b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip", b"\x28\xb5\x2f\xfd": "zstd"}


class RawRecord(NamedTuple):
    """One record's text and where it came from; ``cut``: the length in bytes of a line longer than
    the record limit, of which ``text`` holds only the start (0 for every other record).

    NOTE: a NamedTuple rather than a frozen dataclass: one is made per line, and a tuple is built
    in C, several times faster; it is just as immutable.
    """

    file: str
    line: int
    text: str
    cut: int = 0


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

    @classmethod
    def merge(cls, parts: Sequence[ReadStats]) -> ReadStats:
        """What was read of disjoint sets of files (a fleet's web servers), in the order of ``parts``."""
        out = cls()
        for part in parts:
            out.files.extend(part.files)
            out.physical_lines += part.physical_lines
            out.blank_lines += part.blank_lines
            out.bytes_read += part.bytes_read
            out.split_records += part.split_records
            out.joined_lines += part.joined_lines
            out.latin1_lines += part.latin1_lines
            out.damage.extend(part.damage)
            out.lines_by_file.update(part.lines_by_file)
        return out

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


def is_stream(path: str) -> bool:
    """Standard input, a FIFO or a character device: an input that can be read only once, from its start."""
    if path == STDIN:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def check_inputs(paths: Iterable[str]) -> None:
    """Fail early, before any output, when a path cannot be opened; ``-`` and each FIFO may appear once.

    NOTE: a FIFO or a character device is checked by its status, never opened: opening a FIFO and
    closing it again takes its writer's data (the writer dies of SIGPIPE) and leaves the real read
    waiting for a writer that is gone. Like standard input, such an input is read once.
    """
    seen_stdin = False
    seen_streams: set[tuple[int, int]] = set()
    for path in paths:
        if path == STDIN:
            if seen_stdin:
                raise InputError("standard input (-) can be read only once")
            seen_stdin = True
            continue
        try:
            status = os.stat(path)
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except OSError:
            status = None  # let the open below say why
        if status is not None and (stat.S_ISFIFO(status.st_mode) or stat.S_ISCHR(status.st_mode)):
            if not os.access(path, os.R_OK):
                raise InputError(f"{path}: permission denied")
            key = (status.st_dev, status.st_ino)
            if key in seen_streams:
                raise InputError(f"{path}: a pipe or device can be read only once")
            seen_streams.add(key)
            continue
        _, stream = _open(path)
        stream.close()


class _Gunzip(io.RawIOBase):
    """gzip decompression that keeps every byte it could decompress when the file is cut short.

    ``gzip.GzipFile`` raises before handing out the last buffer of a truncated file; a copy taken
    while the web server was still writing is exactly that, so this reader decompresses with zlib
    itself (several members too) and records the damage instead.

    NOTE: compressed data is decompressed a slice of :data:`_GZIP_SLICE` bytes at a time, as the
    reader asks for more, so that what is held decompressed stays a few MiB whatever the ratio (a
    64 KiB chunk of compressed zeros is 64 MiB); and past :data:`GZIP_CHECK_BYTES` a ratio above
    :data:`GZIP_MAX_RATIO` stops the read as damage instead of decompressing a bomb for hours.
    """

    def __init__(self, raw: BinaryIO, name: str, damage: list[str]) -> None:
        self._raw, self._name, self._damage = raw, name, damage
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""
        self._input = b""  # compressed bytes read and not yet decompressed
        self._done = False
        self._compressed = 0
        self._decompressed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._done:
            if not self._input:
                self._input = self._raw.read(65536)
                if not self._input:
                    self._done = True
                    self._pending = self._z.flush()
                    if not self._z.eof:
                        self._damage.append(f"{self._name}: compressed data ends early")
                    break
            piece, self._input = self._input[:_GZIP_SLICE], self._input[_GZIP_SLICE:]
            self._compressed += len(piece)
            try:
                self._pending = self._decompress(piece)
            except zlib.error as exc:
                self._damage.append(f"{self._name}: compressed data is corrupt ({exc})")
                self._done = True
            self._decompressed += len(self._pending)
            if self._decompressed > GZIP_CHECK_BYTES and self._decompressed > GZIP_MAX_RATIO * self._compressed:
                mib, kib = self._decompressed >> 20, self._compressed >> 10
                self._damage.append(f"{self._name}: decompresses to more than {GZIP_MAX_RATIO} times its size "
                                    f"({mib} MiB from {kib} KiB), not a log: read stopped there")
                self._done = True
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _decompress(self, piece: bytes) -> bytes:
        """``piece`` decompressed; at corrupt data, what came before it is kept.

        NOTE: ``decompress`` raises without returning what it decompressed before the error. Each slice
        is fed to a copy first; the slice that fails is fed again byte by byte.
        """
        saved = self._z.copy()
        try:
            return self._member(piece)
        except zlib.error:
            self._z = saved
        out = []
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


class _Prefixed(io.RawIOBase):
    """``head`` (bytes already read from ``rest``), then the rest of ``rest``: a stream read once (a pipe,
    decompressed data) as if the sniff had not taken its first bytes."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = cast(io.BufferedIOBase, rest)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._rest.readinto(buffer)


class Sniffed(NamedTuple):
    """An input ready to read: its bytes (decompressed), their encoding and line end, and whether
    they were decompressed (gzip)."""

    data: BinaryIO
    encoding: str
    newline: str
    decompressed: bool


def _sample(stream: BinaryIO) -> tuple[bytes, BinaryIO]:
    """The first :data:`SAMPLE_BYTES` of ``stream``, and a stream that still gives every byte."""
    if stream.seekable():
        at = stream.tell()
        head = stream.read(SAMPLE_BYTES)
        stream.seek(at)
        return head, stream
    head = stream.read(SAMPLE_BYTES)
    return head, io.BufferedReader(_Prefixed(head, stream), _SNIFF_BYTES)


def _sniff(name: str, stream: BinaryIO, damage: list[str]) -> Sniffed:
    """Decompress gzip by its magic number, and refuse what is plainly not text; also the text's encoding
    and its line end (CR alone for classic Mac text: CRs and no LF in the head).

    NOTE: the judgement is made on the first MiB (:data:`SAMPLE_BYTES`), NULs set aside: a zero-filled
    block at the head of a good log (a crash, a copy taken while the file was written) once made the
    whole log "binary" when the sniff looked at 64 KiB. A sample with a record header is a log,
    whatever else it holds; a sample of nothing but NULs is not.
    """
    head, data = _sample(stream)
    decompressed = head[:2] == _GZIP_MAGIC
    if decompressed:
        buffered = data if isinstance(data, io.BufferedReader) else io.BufferedReader(data)  # type: ignore[type-var]
        head, data = _sample(io.BufferedReader(_Gunzip(buffered, name, damage), _SNIFF_BYTES))
        if not head and damage:
            raise InputError(f"{name}: not a readable gzip file ({damage[-1].split(': ', 1)[-1]})")
    if head[:2] in _UTF16_BOMS:
        return Sniffed(data, "utf-16", "\n", decompressed)  # every other byte is NUL: not binary, nor UTF-8
    utf16 = _utf16_without_bom(head)
    if utf16 is not None:
        return Sniffed(data, utf16, "\n", decompressed)
    for magic, kind in _OTHER_COMPRESSION.items():
        if head.startswith(magic):
            raise InputError(f"{name}: {kind}-compressed data, not a plug-in log: decompress it first "
                             "(only gzip is read directly)")
    if head and _binary(head):
        raise InputError(f"{name}: binary data, not a plug-in log")
    # the line end is judged on the first 64 KiB, as before the sample grew (a stray LF further on in a
    # CR-only log stays inside its record)
    start = head[:_SNIFF_BYTES]
    newline = "\r" if b"\r" in start and b"\n" not in start else "\n"
    return Sniffed(data, "utf-8-sig", newline, decompressed)  # -sig: a byte-order mark is not text


def _binary(sample: bytes) -> bool:
    """Whether a sample is not text: nothing but NULs, or (without a record header) more than
    :data:`_BINARY_RATIO` control bytes among the bytes that are not NUL."""
    text = sample.replace(b"\x00", b"")
    if not text:
        return True
    if HEADER.search(text.decode("latin-1")) is not None:
        return False  # a log has record headers; only a file without any is judged by its control bytes
    controls = len(text.translate(None, _TEXT_BYTES))
    return controls / len(text) > _BINARY_RATIO


def _utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` for ASCII text saved as UTF-16 without a byte-order mark (every
    other byte NUL, the others not), else None."""
    skip = len(sample) - len(sample.lstrip(b"\x00"))
    probe = sample[skip - skip % 2:][:4096]  # a zero-filled head skipped, pairs kept aligned
    if len(probe) < 8:
        return None
    even, odd = probe[0::2], probe[1::2]
    for text, zeros, codec in ((even, odd, "utf-16-le"), (odd, even, "utf-16-be")):
        if zeros.count(0) >= 0.95 * len(zeros) and text.count(0) <= 0.05 * len(text):
            return codec
    return None


def _physical_lines(name: str, stream: BinaryIO, stats: ReadStats, encoding: str = "utf-8-sig",
                    newline: str = "\n", max_record: int = MAX_RECORD_BYTES) -> Iterator[tuple[int, str, int]]:
    """Numbered lines without their line end, with the length in bytes of a line longer than
    ``max_record`` (its start only is given) or 0. UTF-8 is decoded in C; a line that is not UTF-8 (its
    bytes come back as surrogates) is read again as Latin-1, the usual other encoding of these logs.

    NOTE: lines are read with a limit (``readline(size)``), so that a line that never ends (a stream of
    NULs, a damaged capture) costs :data:`KEPT_BYTES` of memory, not its length.
    """
    errors = "surrogateescape" if encoding.startswith("utf-8") else "replace"
    text = io.TextIOWrapper(stream, encoding=encoding, errors=errors, newline=newline)
    lineno = 0
    # characters, not bytes: a line of more than max_record characters has more than max_record bytes;
    # one with fewer characters but more bytes (multibyte text) is measured below
    # (+2: room for a CR LF line end)
    lines = iter(functools.partial(text.readline, max_record + 2), "")
    try:
        for line in lines:
            lineno += 1
            size = len(line)
            cut = 0
            if not line.isascii():
                data = line.encode("utf-8", "surrogateescape")
                size = len(data)
                try:
                    line.encode("utf-8")
                except UnicodeEncodeError:
                    line = data.decode("latin-1")
                    stats.latin1_lines += 1
            # readline stops short of its limit without a line end only at the end of the input (judged
            # only for a line over the limit: nothing else needs it, and this runs once per line)
            if size > max_record and size - _end_length(
                    line, newline, eof := len(line) < max_record + 2 and not line.endswith(newline)) > max_record:
                last = line
                kept = line.encode("utf-8", "surrogateescape")[:KEPT_BYTES]
                while not eof and not last.endswith(newline):  # the rest of the line: counted, not kept
                    more = text.readline(_SNIFF_BYTES)
                    eof = not more
                    size += len(more) if more.isascii() else len(more.encode("utf-8", "surrogateescape"))
                    last = last[-1:] + more
                line = _kept(kept)
                cut = size - _end_length(last, newline, eof)  # the line's own bytes, without its end
            stats.bytes_read += size
            yield lineno, line.rstrip("\r\n"), cut
    except OSError as exc:
        stats.damage.append(f"{name}: read error after line {lineno} ({exc})")
    finally:
        stats.lines_by_file[name] = lineno
        # NOTE: a generator closed late (its reader went away: `| head`) finds its file closed by
        # the generator that opened it; there is nothing left to detach then
        with contextlib.suppress(ValueError):
            text.detach()


def _end_length(line: str, newline: str, eof: bool = False) -> int:
    """The length of the line end that ``line`` (or the last characters of a line) ends with: CR LF, the
    file's line end, or none (a line cut by ``readline``'s limit; CRs inside a line are its text).

    At the end of the input (``eof``) a last CR is the line end, as the bulk reader counts it.
    """
    if eof and not line.endswith(newline):
        return 1 if newline == "\n" and line.endswith("\r") else 0
    if line.endswith("\r\n"):
        return 2
    return 1 if line.endswith(newline) else 0


def _kept(start: bytes) -> str:
    """The start of a line cut at the record limit, decoded as a whole line is (a character cut in two
    at the end dropped)."""
    try:
        return start.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(start) - 3:
            return start[:exc.start].decode("utf-8")
        return start.decode("latin-1")


def _split(line: str) -> list[str]:
    """Split a physical line at every later record header (§1.4)."""
    if line.find("[", 1) < 0:
        return [line]
    starts = [m.start() for m in HEADER.finditer(line, 1)]
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
    ``cut``: for a block of the one line longer than the record limit, its length in bytes (``lines``
    holds its start); else 0.
    """

    file: str
    first_line: int
    text: str | None
    lines: list[str] | None
    line_count: int
    cut: int = 0


def line_records(name: str, lineno: int, text: str, stats: ReadStats, cut: int = 0) -> list[RawRecord]:
    """The records of one decoded physical line: none for a blank line, several for interleaved ones;
    one record, not split, for a line longer than the record limit (``cut``: its length in bytes)."""
    if cut:
        return [RawRecord(name, lineno, text, cut)]
    if not text or text.isspace():
        stats.blank_lines += 1
        return []
    if text.find("[", 1) < 0:
        return [RawRecord(name, lineno, text)]
    pieces = _split(text)
    stats.split_records += len(pieces) - 1
    return [RawRecord(name, lineno, piece) for piece in pieces]


def read_blocks(paths: Iterable[str], stats: ReadStats, block_bytes: int = BLOCK_BYTES, *,
                max_record_bytes: int = MAX_RECORD_BYTES) -> Iterator[Block]:
    """Every line of every file as :class:`Block` s, for the bulk parse (strict mode only).

    The same lines, numbers and decoding as :func:`read_records`, a block at a time: the per-line
    reader costs a Python iteration per line before anything is parsed, about as much as the
    header split itself. Blank lines and interleaved records are counted by :func:`line_records`,
    which the parse stage calls for every line that is not a plain record. A line longer than
    ``max_record_bytes`` is a block of its own (see :attr:`Block.cut`).
    """
    for path in paths:
        name, stream = _open(path)
        stats.files.append(name)
        try:
            data, encoding, newline, _ = _sniff(name, stream, stats.damage)
            if encoding != "utf-8-sig" or newline != "\n":
                lines = _physical_lines(name, data, stats, encoding, newline, max_record_bytes)
                yield from _line_blocks(name, lines, stats)
            else:
                yield from _byte_blocks(name, data, stats, block_bytes, max_record=max_record_bytes)
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()


def plain_ranges(path: str, parts: int, min_bytes: int) -> list[tuple[int, int]] | None:
    """Byte ranges of whole lines that split a plain UTF-8 file in ``parts``, for parallel counting.

    None when the file is not split: standard input, a FIFO or device, gzip, UTF-16 or CR-only text,
    or a file smaller than ``min_bytes``. Raises :class:`InputError` as :func:`read_blocks` would for
    an unusable file.
    """
    if parts < 2 or is_stream(path) or not os.path.isfile(path) or os.path.getsize(path) < min_bytes:
        return None
    name, stream = _open(path)
    try:
        _, encoding, newline, decompressed = _sniff(name, stream, [])
        if decompressed or encoding != "utf-8-sig" or newline != "\n":
            return None  # decompressed (gzip), UTF-16 or CR-only: read by one process
        size = os.path.getsize(path)
        cuts = [0]
        for i in range(1, parts):
            stream.seek(max(size * i // parts - 1, cuts[-1]))
            # to the start of the next line; a line longer than the record limit is skipped a block at a time
            while (piece := stream.readline(BLOCK_BYTES)) and not piece.endswith(b"\n"):
                pass
            cuts.append(max(stream.tell(), cuts[-1]))
        cuts.append(size)
        return [(a, b) for a, b in pairwise(cuts) if b > a]
    finally:
        stream.close()


def head_text(path: str, size: int) -> str:
    """The first ``size`` bytes of a log (decompressed), as Latin-1 text; empty for an input read once
    (standard input, a FIFO)."""
    if is_stream(path):
        return ""
    name, stream = _open(path)
    try:
        data = _sniff(name, stream, []).data
        return data.read(size).decode("latin-1")
    finally:
        stream.close()


def read_range(path: str, start: int, end: int, stats: ReadStats, *,
               max_record_bytes: int = MAX_RECORD_BYTES) -> Iterator[Block]:
    """The blocks of bytes ``start`` to ``end`` of a file split by :func:`plain_ranges`, lines numbered from 1."""
    with open(path, "rb") as stream:
        stream.seek(start)
        yield from _byte_blocks(path, stream, stats, BLOCK_BYTES, limit=end - start, at_start=start == 0,
                                max_record=max_record_bytes)


def _line_blocks(name: str, lines: Iterator[tuple[int, str, int]], stats: ReadStats) -> Iterator[Block]:
    batch: list[str] = []
    first = 1
    for lineno, text, cut in lines:
        if cut:
            if batch:
                stats.physical_lines += len(batch)
                yield Block(name, first, None, batch, len(batch))
                batch = []
            stats.physical_lines += 1
            yield Block(name, lineno, None, [text], 1, cut)
            continue
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
                 limit: int | None = None, at_start: bool = True,
                 max_record: int = MAX_RECORD_BYTES) -> Iterator[Block]:
    """Blocks of whole lines read from ``data`` (at most ``limit`` bytes), numbered from 1.

    ``at_start``: ``data`` starts at the file's start, where a byte-order mark may be. A line longer
    than ``max_record`` bytes is a block of its own, with its start only: a line that never ends is
    read through without being held (see :func:`_skip_line`).
    """
    lineno = 0
    rest = b""
    remaining = limit

    def read(size: int) -> bytes:
        nonlocal remaining
        if remaining is not None:
            size = min(size, remaining)
        chunk = data.read(size) if size > 0 else b""
        if remaining is not None:
            remaining -= len(chunk)
        return chunk

    try:
        if at_start:
            rest = read(3)
            if rest == b"\xef\xbb\xbf":
                rest = b""  # a byte-order mark starts the file, not its first line
        while True:
            chunk = read(block_bytes)
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
                    if len(chunk) > max_record + 1:
                        # a line longer than the limit and not ended yet: its start kept, the rest skipped
                        size, end, after = _skip_line(chunk, read)
                        stats.bytes_read += size + end
                        lineno += 1
                        stats.physical_lines += 1
                        yield _cut_block(name, lineno, chunk, size)
                        if after is None:
                            break
                        rest = after
                        continue
                    rest = chunk
                    continue
                chunk, rest = chunk[:cut], chunk[cut:]
            stats.bytes_read += len(chunk) - added
            for piece, count, size in _long_lines(chunk, max_record):
                if size:
                    yield _cut_block(name, lineno + 1, piece, size)
                else:
                    yield _decoded(name, lineno + 1, piece, count, stats)
                lineno += count
                stats.physical_lines += count
            if last:
                break
    except OSError as exc:
        stats.damage.append(f"{name}: read error after line {lineno} ({exc})")
    finally:
        stats.lines_by_file[name] = lineno


def _skip_line(start: bytes, read: Callable[[int], bytes]) -> tuple[int, int, bytes | None]:
    """Read through the line that ``start`` begins (no LF in it): its length in bytes without its line
    end, the length of that line end, and what follows it (None at the end of the input)."""
    size = len(start)
    previous = start[-1:]
    while True:
        chunk = read(BLOCK_BYTES)
        if not chunk:
            return size, 0, None
        end = chunk.find(b"\n")
        if end >= 0:
            cr = (chunk[end - 1:end] if end else previous) == b"\r"
            return size + end - cr, 1 + cr, chunk[end + 1:]
        size += len(chunk)
        previous = chunk[-1:]


def _long_lines(chunk: bytes, max_record: int) -> Iterator[tuple[bytes, int, int]]:
    """``chunk`` (whole lines) in pieces: ``(bytes, lines, 0)`` for runs of lines within the limit and
    ``(start of the line, 1, length)`` for each line longer than ``max_record``.

    NOTE: a line longer than the limit covers a multiple of the limit, so only the lines around
    those offsets are measured: two searches per MiB, not one per line.
    """
    if len(chunk) <= max_record + 1:
        yield chunk, chunk.count(b"\n"), 0
        return
    done = 0
    probe = max_record
    while probe < len(chunk):
        begin = chunk.rfind(b"\n", 0, probe) + 1
        end = chunk.find(b"\n", probe)
        size = end - begin - (1 if end > begin and chunk[end - 1] == 0x0D else 0)
        if size > max_record:
            if begin > done:
                yield chunk[done:begin], chunk.count(b"\n", done, begin), 0
            yield chunk[begin:begin + min(KEPT_BYTES, size)], 1, size
            done = end + 1
        probe = max(probe + max_record, end + 1)
    if done < len(chunk):
        yield chunk[done:], chunk.count(b"\n", done), 0


def _cut_block(name: str, lineno: int, start: bytes, size: int) -> Block:
    """The block of one line longer than the record limit: its first :data:`KEPT_BYTES`, and its length."""
    return Block(name, lineno, None, [_kept(start[:KEPT_BYTES]).rstrip("\r\n")], 1, size)


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


def read_records(paths: Iterable[str], stats: ReadStats, lenient: bool = False, *,
                 max_record_bytes: int = MAX_RECORD_BYTES) -> Iterator[RawRecord]:
    """Every record of every file, in file order; raises :class:`InputError` for an unusable file."""
    for path in paths:
        name, stream = _open(path)
        stats.files.append(name)
        try:
            data, encoding, newline, _ = _sniff(name, stream, stats.damage)
            lines = _physical_lines(name, data, stats, encoding, newline, max_record_bytes)
            if lenient:
                yield from _lenient(name, lines, stats, max_record_bytes)
            else:
                yield from _strict(name, lines, stats)
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()


def _strict(name: str, lines: Iterator[tuple[int, str, int]], stats: ReadStats) -> Iterator[RawRecord]:
    lineno = 0
    try:
        for lineno, text, cut in lines:
            yield from line_records(name, lineno, text, stats, cut)
    finally:
        stats.physical_lines += lineno  # counted once per file, not per line


def _lenient(name: str, lines: Iterator[tuple[int, str, int]], stats: ReadStats,
             max_record: int = MAX_RECORD_BYTES) -> Iterator[RawRecord]:
    """Like :func:`_strict`, but a line that starts no record continues the one before (PDF wrapping).

    A record joined from more than ``max_record`` bytes of lines keeps its start only, as a line that
    long does (its ``cut`` says how long it was): many lines that start no record are not held at once.
    """
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
        pieces = _split(text)
        stats.split_records += len(pieces) - 1
        first = pieces[0]
        if pending is not None and not starts.match(first):
            # the wrapped line lost its break, never a word: one space between the halves
            joined = first.strip()
            stats.joined_lines += 1
            pieces = pieces[1:]
            if pending.cut:
                pending = pending._replace(cut=pending.cut + 1 + len(joined.encode("utf-8", "surrogateescape")))
            else:
                text = pending.text.rstrip(" ") + " " + joined
                size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogateescape"))
                pending = pending._replace(text=text[:KEPT_BYTES], cut=size) if size > max_record else \
                    pending._replace(text=text)
        for piece in pieces:
            if pending is not None:
                yield pending
            pending = RawRecord(name, lineno, piece)
    if pending is not None:
        yield pending
