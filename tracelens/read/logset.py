"""Read stage: the files given -> a log set: the order to read them in, the web server of each, the duplicates.

Theory of operation
-------------------
A capture is a set of files, not one: the plug-in rotates ``http_plugin.log`` into ``.1``, ``.2.gz``
... (newest first in a shell's ``http_plugin.log*``), and a web tier behind a network load balancer
has one log per web server. The plug-in writes one log per web server in time order, so:

1. **Rotated sets are read oldest first.** The files of one web server are ordered by their first
   timestamp (then last timestamp, then the rotation number, older ``.2`` before ``.1``), whatever the
   order they were given in, and read as one continuous log: a request or an outage may cross a
   rotation.
2. **Overlapping files are different web servers.** Two files whose time ranges overlap (by more than
   the one second threads racing to write may reorder) cannot come from one plug-in writing one log.
   The files of a directory are split into chains of files that follow one another; each chain is a
   web server. Files in different directories belong to different web servers named by their
   directory; ``--web-server NAME=GLOB`` names them explicitly (and files it puts together must
   follow one another: an overlap there is an input error, since the user said they are one log).
3. **A file given twice is read once.** The same file (same device and inode) or a byte-identical
   copy (same size and SHA-256) is dropped after its first appearance and reported as a duplicate.

Processes of different web servers are different processes even when their pids coincide: with more
than one web server the analysis keys a process by ``pid@web-server`` (:func:`process_key`); with
one web server the key is the pid as the log writes it, so single-server output is unchanged.
Standard input, a named pipe (``<(zcat ...)``) or a device cannot be looked at before it is read: a set
with one of them is read in the order given, as before, each file a log of its own.
"""

from __future__ import annotations

import enum
import fnmatch
import hashlib
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from tracelens.errors import InputError
from tracelens.read.header import ASCTIME, HEADER, asctime, clftime
from tracelens.read.reader import STDIN, _Gunzip, check_inputs

#: Threads racing to write reorder records by up to this much; files that overlap by no more still follow.
TOLERANCE = timedelta(seconds=1)
_HEAD_BYTES = 1 << 20  # a first header is found in the first MiB of any log worth reading
_TAIL_BYTES = 1 << 16
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_ROTATION = re.compile(r"\.(\d+)(?:\.gz)?$|\.gz$")
#: What separates the pid from its web server in a process key. A pid is hex digits, or the IBM i
#: ``job:pid`` form whose job name may hold ``@`` but never after its ``:``; a web server's name holds
#: neither ``@`` nor ``:``. So a key is qualified exactly when an ``@`` follows its last ``:``.
SEPARATOR = "@"
_NOT_IN_NAMES = (SEPARATOR, ":")


class Order(str, enum.Enum):
    """How the files were ordered."""

    FIRST_TIMESTAMP = "first-timestamp"
    AS_GIVEN = "as-given"  # standard input, a pipe or a device is in the set: it cannot be looked at first


@dataclass(frozen=True, slots=True)
class LogFile:
    """One file of the set: its path as given, its web server, the times of its first and last records."""

    path: str
    web_server: str
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A file given again (or a byte-identical copy): not read."""

    path: str
    same_as: str
    how: str  # "the same file" or "the same content"


@dataclass(frozen=True, slots=True)
class LogSet:
    """The files in the order they are read: web server by web server, each oldest first."""

    files: tuple[LogFile, ...]
    given: tuple[str, ...]
    order: Order
    duplicates: tuple[Duplicate, ...] = ()
    #: one web server's files taken out of a set of several (a part of a fleet): its pids stay qualified
    part_of_several: bool = False

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.files)

    def part(self, web_server: str) -> LogSet:
        """The files of one web server, read as that web server's part of the whole set.

        NOTE: the part keeps the processes keyed as in the whole set (``pid@web-server`` when there are
        several), so that what each part rebuilds merges without renaming anything.
        """
        files = tuple(f for f in self.files if f.web_server == web_server)
        return LogSet(files, tuple(f.path for f in files), self.order, (), part_of_several=self.several)

    @property
    def web_servers(self) -> tuple[str, ...]:
        """The web servers, in the order read."""
        return tuple(dict.fromkeys(f.web_server for f in self.files))

    @property
    def several(self) -> bool:
        """More than one web server: processes are keyed by ``pid@web-server``."""
        return self.part_of_several or len(self.web_servers) > 1

    @property
    def reordered(self) -> bool:
        """Whether the files are read in another order than given (duplicates aside)."""
        kept = [p for p in self.given if p in set(self.paths)]
        return list(dict.fromkeys(kept)) != list(self.paths)

    def web_server_of(self, path: str) -> str | None:
        """The web server of a file, None with one web server (nothing to tell apart)."""
        if not self.several:
            return None
        for f in self.files:
            if f.path == path or (path == "<stdin>" and f.path == STDIN):
                return f.web_server
        return None

    def qualifiers(self) -> dict[str, str]:
        """Per file name as the reader names it, the web server its pids are qualified with (empty: one server)."""
        if not self.several:
            return {}
        return {("<stdin>" if f.path == STDIN else f.path): f.web_server for f in self.files}

    def continues(self, previous: str, file: str) -> bool:
        """Whether ``file`` continues the log of ``previous`` (a later file of the same web server)."""
        if self.order is Order.AS_GIVEN:
            return False  # with standard input nothing says that the files are one log
        names = [("<stdin>" if f.path == STDIN else f.path) for f in self.files]
        if previous not in names or file not in names:
            return False
        # NOTE: any later file of the same web server, not only the next one: a process silent for a whole
        # rotated file (or whose records went to another part of a split analysis) still goes on
        i, j = names.index(previous), names.index(file)
        return j > i and self.files[i].web_server == self.files[j].web_server


    def last_of(self, name: str) -> str:
        """The last file of the web server of file ``name`` (as the reader names it): where its log ends."""
        names = [("<stdin>" if f.path == STDIN else f.path) for f in self.files]
        if name not in names or self.order is Order.AS_GIVEN:
            return name
        i = names.index(name)
        while i + 1 < len(names) and self.files[i + 1].web_server == self.files[i].web_server:
            i += 1
        return names[i]


@dataclass(frozen=True, slots=True)
class PartProgress:
    """Where a part of a fleet is: bytes read of its files' total, on which worker; ``done`` once its result is back."""

    web_server: str
    bytes_read: int
    bytes_total: int
    worker: str = ""
    done: bool = False


def process_key(web_server: str | None, pid: str) -> str:
    """The key of a process: its pid, qualified by its web server when there are several."""
    return f"{pid}{SEPARATOR}{web_server}" if web_server else pid


def split_process(key: str) -> tuple[str | None, str]:
    """``(web server, pid)`` of a process key (web server None for an unqualified key)."""
    pid, sep, server = key.rpartition(SEPARATOR)
    if not sep or ":" in server:
        return None, key
    return server, pid


def _clean(name: str) -> str:
    for c in _NOT_IN_NAMES:
        name = name.replace(c, "_")
    return name


def parse_web_servers(specs: Iterable[str]) -> list[tuple[str, str]]:
    """``NAME=GLOB`` options -> ``(name, glob)`` pairs; a malformed one is an input error."""
    out = []
    for spec in specs:
        name, sep, glob = spec.partition("=")
        name, glob = name.strip(), glob.strip()
        if not sep or not name or not glob:
            raise InputError(f"--web-server {spec}: expected NAME=GLOB (e.g. ihs1='logs/ihs1/http_plugin.log*')")
        if any(c in name for c in _NOT_IN_NAMES):
            raise InputError(f"--web-server {spec}: a web server's name cannot contain '@' or ':'")
        out.append((name, glob))
    return out


def plan(paths: Sequence[str], web_servers: Sequence[tuple[str, str]] = ()) -> LogSet:
    """The log set of ``paths``: duplicates dropped, web servers told apart, each web server oldest first.

    Raises :class:`InputError` for a path that cannot be opened, a file no ``web_servers`` glob matches
    when some do, two globs naming one file differently, and files one name puts together that overlap.
    """
    check_inputs(paths)
    kept, duplicates = _deduplicated(paths)
    if not all(_regular(p) for p in kept):
        as_given = tuple(LogFile(p, "", None, None) for p in kept)
        return LogSet(as_given, tuple(paths), Order.AS_GIVEN, tuple(duplicates))
    spans = {p: _span(p) for p in kept}
    named = _named(kept, web_servers)
    groups: dict[str, list[str]] = {}
    for p in kept:
        groups.setdefault(named.get(p) or _directory_name(p, kept), []).append(p)
    files: list[LogFile] = []
    for group, members in groups.items():
        chains = _chains(members, spans)
        if len(chains) > 1 and group in named.values():
            a, b = _overlap(chains, spans)
            raise InputError(f"--web-server {group}: {a} and {b} overlap in time, so one plug-in did not write both "
                             "(name them as different web servers)")
        for chain in chains:
            name = group if len(chains) == 1 else _chain_name(group, chain, chains)
            files.extend(LogFile(p, name, *spans[p]) for p in chain)
    # web servers in the order of their first records, so that the reading order does not depend on the arguments'
    first_of: dict[str, tuple[bool, datetime, str]] = {}
    for f in files:
        key = (f.first is None, f.first or datetime.min, f.web_server)
        first_of[f.web_server] = min(first_of.get(f.web_server, key), key)
    files.sort(key=lambda f: first_of[f.web_server])  # stable: each web server's files stay in their order
    return LogSet(tuple(files), tuple(paths), Order.FIRST_TIMESTAMP, tuple(duplicates))


def _regular(path: str) -> bool:
    """A regular file, which can be looked at before it is read (not standard input, a pipe, a device)."""
    if path == STDIN:
        return False
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _deduplicated(paths: Sequence[str]) -> tuple[list[str], list[Duplicate]]:
    kept: list[str] = []
    duplicates: list[Duplicate] = []
    by_inode: dict[tuple[int, int], str] = {}
    by_size: dict[int, list[str]] = {}
    digests: dict[str, bytes] = {}
    for path in paths:
        if not _regular(path):
            kept.append(path)  # a pipe or a device: what is read to compare it is gone for the analysis
            continue
        st = os.stat(path)
        inode = (st.st_dev, st.st_ino)
        if inode in by_inode:
            duplicates.append(Duplicate(path, by_inode[inode], "the same file"))
            continue
        by_inode[inode] = path
        same = None
        for other in by_size.get(st.st_size, ()):
            if _digest(other, digests) == _digest(path, digests):
                same = other
                break
        if same is not None:
            duplicates.append(Duplicate(path, same, "the same content"))
            continue
        by_size.setdefault(st.st_size, []).append(path)
        kept.append(path)
    return kept, duplicates


def _digest(path: str, cache: dict[str, bytes]) -> bytes:
    got = cache.get(path)
    if got is None:
        h = hashlib.sha256()
        with open(path, "rb") as stream:
            for chunk in iter(lambda: stream.read(_CHUNK), b""):
                h.update(chunk)
        got = cache[path] = h.digest()
    return got


def _named(paths: Sequence[str], web_servers: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The web server ``--web-server`` names for each file it matches (by the path as given, or absolute)."""
    out: dict[str, str] = {}
    for path in paths:
        absolute = os.path.abspath(path)
        names = {name for name, glob in web_servers
                 if fnmatch.fnmatch(path, glob) or fnmatch.fnmatch(absolute, os.path.abspath(glob))}
        if len(names) > 1:
            raise InputError(f"{path}: named by --web-server as {' and '.join(sorted(names))}: one file is one web "
                             "server's")
        if names:
            out[path] = names.pop()
    return out


def _directory_name(path: str, paths: Sequence[str]) -> str:
    """The parent directory's name when the files sit in different directories, else empty (one group)."""
    directories = {os.path.dirname(os.path.abspath(p)) for p in paths}
    if len(directories) == 1:
        return ""
    here = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(here) or here
    if sum(1 for d in directories if (os.path.basename(d) or d) == name) > 1:
        name = os.path.relpath(here)  # two directories of one name (a/logs, b/logs): their paths tell them apart
    return _clean(name)


def _span(path: str) -> tuple[datetime | None, datetime | None]:
    """The times of the first and the last record header of a file (None without any)."""
    header = HEADER
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
    if gzipped:
        return _gzip_span(header, path)
    with open(path, "rb") as stream:
        head = stream.read(_HEAD_BYTES).decode("latin-1")
        first = _first(header, head)
        if first is None:
            # a WebLogic proxy plug-in log: its records start with a bare ctime stamp
            header = WEBLOGIC_STAMP
            first = _first(header, head)
        if first is None:
            return None, None
        return first, _tail_time(header, stream)


def _gzip_span(header: re.Pattern[str], path: str) -> tuple[datetime | None, datetime | None]:
    """:func:`_span` of a gzip file: decompressed once, a chunk at a time, to its last header.

    NOTE: a gzip member cannot be read from its end, so the whole file is decompressed here and again
    when it is read (rotated ``.gz`` files are the old, small ones). The reader's own decompression is
    used, so that a file cut short gives the times of what it holds, as it will when read.
    """
    first = last = None
    rest = ""
    with open(path, "rb") as raw:
        stream = _Gunzip(raw, path, [])
        while chunk := stream.read(_CHUNK):
            text = rest + chunk.decode("latin-1")
            cut = text.rfind("\n") + 1
            if first is None:
                first = _first(header, text[:cut])
            last = _later(last, _last(header, text[:cut]))
            rest = text[cut:][-_HEAD_BYTES:]  # a line that never ends is not held whole
    if first is None:
        first = _first(header, rest)
    return first, _later(last, _last(header, rest))


def _tail_time(header: re.Pattern[str], stream: BinaryIO) -> datetime | None:
    size = stream.seek(0, os.SEEK_END)
    stream.seek(max(0, size - _TAIL_BYTES))
    found = _last(header, stream.read().decode("latin-1"))
    if found is not None:
        return found
    stream.seek(0)  # no header in the tail (a damaged end): the whole file, a chunk at a time
    last, rest = None, ""
    for chunk in iter(lambda: stream.read(_CHUNK), b""):
        text = rest + chunk.decode("latin-1")
        cut = text.rfind("\n") + 1
        last = _later(last, _last(header, text[:cut]))
        rest = text[cut:][-_HEAD_BYTES:]  # a line that never ends is not held whole
    return _later(last, _last(header, rest))


def _time(stamp: str) -> datetime | None:
    try:
        return asctime(stamp) if stamp[:1].isalpha() else clftime(stamp)
    except (ValueError, KeyError, IndexError):
        return None


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b > a) else a


#: the timestamp that starts a WebLogic proxy plug-in record (its one group), or its error-log form's
WEBLOGIC_STAMP = re.compile(rf"^\[?({ASCTIME})[ \]]", re.MULTILINE)


def _stamp(m: re.Match[str]) -> str:
    """The timestamp of a header match: its group where the pattern has one, else between its brackets."""
    return m.group(1) if m.re.groups else m.group(0)[1:m.group(0).index("]")]


def _first(header: re.Pattern[str], text: str) -> datetime | None:
    for m in header.finditer(text):
        got = _time(_stamp(m))
        if got is not None:
            return got
    return None


def _last(header: re.Pattern[str], text: str) -> datetime | None:
    # NOTE: the latest header of the text, not the last written: threads racing may write a second back
    latest = None
    for m in header.finditer(text):
        got = _time(_stamp(m))
        if got is not None and (latest is None or got > latest):
            latest = got
    return latest


def _rotation(path: str) -> int:
    """The rotation number of a file name (``.2.gz``: 2); the live file is 0."""
    m = _ROTATION.search(path)
    return int(m.group(1)) if m and m.group(1) else 0


def _chains(paths: Sequence[str], spans: dict[str, tuple[datetime | None, datetime | None]]) -> list[list[str]]:
    """The files in chains that follow one another in time, each oldest first; a file that overlaps every
    chain so far starts a new one. Files without a timestamp go to the first chain, in the order given."""
    given = {p: i for i, p in enumerate(paths)}
    timed = sorted((p for p in paths if spans[p][0] is not None),
                   key=lambda p: (spans[p][0], spans[p][1], -_rotation(p), given[p]))
    chains: list[list[str]] = []
    for p in timed:
        first = spans[p][0]
        assert first is not None
        for chain in chains:
            last = spans[chain[-1]][1] or spans[chain[-1]][0]
            if last is not None and last - first <= TOLERANCE:
                chain.append(p)
                break
        else:
            chains.append([p])
    untimed = [p for p in paths if spans[p][0] is None]
    if untimed:
        if not chains:
            chains.append([])
        chains[0].extend(untimed)
    return chains


def _overlap(chains: list[list[str]], spans: dict[str, tuple[datetime | None, datetime | None]]) -> tuple[str, str]:
    """Two files of different chains that overlap in time (for the error message)."""
    second = chains[1][0]
    first = max((p for p in chains[0] if spans[p][0] is not None and spans[second][0] is not None
                 and spans[p][0] <= spans[second][0]),  # type: ignore[operator]
                key=lambda p: spans[p][0] or datetime.min, default=chains[0][0])
    return first, second


def _chain_name(group: str, chain: list[str], chains: list[list[str]]) -> str:
    """A web server found by overlapping files: its files' name without the rotation suffix, in its group."""
    stem = _ROTATION.sub("", os.path.basename(chain[0]))
    stems = [_ROTATION.sub("", os.path.basename(c[0])) for c in chains]
    if stems.count(stem) > 1:
        stem = os.path.basename(chain[0])
        if [os.path.basename(c[0]) for c in chains].count(stem) > 1:
            stem = f"{stem}#{chains.index(chain) + 1}"
    name = f"{group}/{stem}" if group else stem
    return _clean(name)
