"""Reporters: one table written to a CSV, Parquet or JSON lines file, the format chosen by the file's suffix.

The tables and their column types are :mod:`tracelens.reporters.frames`'. Every format holds the same
cells: times as ISO 8601 text in CSV and JSON lines (timestamps in Parquet), lists and nested records as
JSON text. Two differences, both on purpose:

* CSV is made spreadsheet-safe (OWASP "CSV injection"): a text cell that a spreadsheet would evaluate
  gets a leading ``'``, so that a URI or member name taken from a log cannot become a formula. That is
  a cell whose first character after any leading blanks or control characters (which spreadsheets
  strip) is ``=`` or ``@``, or a ``+`` or ``-`` before something a formula can start with: a number, a
  parenthesis, a cell reference, a function call or a DDE link (``-1+2``, ``+cmd|' /C calc'!A0``).
  Banner text such as ``-----System Information`` stays as logged. Numbers are never touched (-1
  stays -1), and Parquet and JSON lines keep the text as logged, because no spreadsheet evaluates them.
* CSV text cells are always quoted (RFC 4180), numbers, flags and times never: a CR or LF inside a log
  line stays inside its cell, and readers that honour quotes (DuckDB, spreadsheets' import) keep an
  all-digit pid such as ``00001234`` as text. pandas and Polars guess types without looking at quotes:
  read the text columns as text (the README gives the dtype for each reader).
* Parquet keeps the categories and nullable integers as such; CSV and JSON lines hold their text and
  numbers, which ``pandas.read_csv(..., parse_dates=[...])`` and ``pandas.read_json(..., lines=True)``
  read back.

Every table is written in chunks (:data:`EVENTS_CHUNK` events, :data:`TABLE_CHUNK` rows of the analysis
tables), so that memory does not grow with the log (the events table) and the report is never copied
whole into one frame (the analysis tables). A file is written beside its target and renamed into
place at the end: a failed run leaves no half-written table behind. pandas and pyarrow are imported
only when a table is written.
"""

from __future__ import annotations

import enum
import gzip
import io
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast

from tracelens.errors import TABLES_EXTRA, TracelensError
from tracelens.parse.events import Event
from tracelens.reporters.jsontext import json_text

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    from tracelens.report import Report

TABLES = ("events", "requests", "sessions", "findings", "members")
# NOTE: rows are wide (the events table has a column for every field of every kind; a request row
# holds its attempts and cookies as JSON text): on 1,000,000 lines, chunks of 50,000 events took the
# export's peak memory to 329 MB and the requests table whole to 351 MB; 10,000 and 5,000 keep them
# near what the analysis itself takes (228 and 262-302 MB with pandas and pyarrow loaded), as fast
EVENTS_CHUNK = 10_000
TABLE_CHUNK = 5_000

# What a spreadsheet (Excel, LibreOffice, Sheets) evaluates: after blanks, control and invisible
# format characters (which it strips or skips), "=" or "@"; or signs before a number, a parenthesis,
# another formula start, an absolute or plain cell reference, or a name followed by a call "(", a DDE
# "|" or a sheet "!". A sign before plain words (the banner's "-----System Information") is text.
_SKIPPED = r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]*"
_FORMULA = re.compile(
    _SKIPPED + r"(?:[=@]|[+\-]+" + _SKIPPED + r"(?:[0-9.(=@$]|[A-Za-z]{1,3}[0-9]|[^\W\d][\w.]*\s*[(|!]))"
)


class Format(enum.Enum):
    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl"


_SUFFIXES: dict[str, tuple[Format, bool]] = {
    ".csv": (Format.CSV, False),
    ".csv.gz": (Format.CSV, True),
    ".parquet": (Format.PARQUET, False),
    ".jsonl": (Format.JSONL, False),
    ".jsonl.gz": (Format.JSONL, True),
}


#: ``--to -``: standard output, in the text formats only
STDOUT = "-"
STDOUT_FORMATS = (Format.CSV.value, Format.JSONL.value)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a table goes, and how: the format and the compression come from the suffix.

    ``path`` None is standard output (``--to -``), in the format given.
    """

    path: Path | None
    format: Format
    gzip: bool


def target(out: str, fmt: str | None = None) -> Target:
    """The target ``out`` names; a :class:`TracelensError` for an unknown suffix or a missing pyarrow.

    ``fmt`` (csv or jsonl) is the format of standard output (``out`` ``-``; default csv); a file's
    suffix says its format, and ``fmt`` must not contradict it.
    """
    try:
        from tracelens.reporters import frames  # noqa: F401  # pandas, checked before any log is read
    except ImportError as exc:
        raise TracelensError(f"export needs pandas and pyarrow: {TABLES_EXTRA}") from exc
    if out == STDOUT:
        if fmt is not None and fmt not in STDOUT_FORMATS:
            raise TracelensError(f"--to - writes {' or '.join(STDOUT_FORMATS)}, not {fmt}")
        return Target(None, Format(fmt or Format.CSV.value), False)
    if fmt is not None:
        raise TracelensError(f"--format is for --to - only: the suffix of {out} chooses its format")
    name = Path(out).name.lower()
    suffix = next((s for s in _SUFFIXES if name.endswith(s) and len(name) > len(s)), None)
    if suffix is None:
        raise TracelensError(f"{out}: unknown export format; the suffix chooses it: {', '.join(_SUFFIXES)}")
    form, gz = _SUFFIXES[suffix]
    if form is Format.PARQUET:
        try:
            import pyarrow.parquet  # type: ignore[import-untyped]  # noqa: F401
        except ImportError:
            raise TracelensError(f"Parquet export needs pyarrow: {TABLES_EXTRA}") from None
    _refuse_write_protected(Path(out))
    return Target(Path(out), form, gz)


def _refuse_write_protected(path: Path) -> None:
    """A write-protected file is not replaced (as ``cp`` and ``mv -i`` would not without asking).

    The export writes beside the target and renames into place, which a read-only file does not
    stop: it would be replaced silently, with the new file's mode. Root may write anything, so a file
    without any write permission bit counts as protected for root too.
    """
    try:
        info = path.stat()
    except OSError:
        return  # not there (yet), or not reachable: opening the part file says what is wrong
    if stat.S_ISREG(info.st_mode) and (not info.st_mode & 0o222 or not os.access(path, os.W_OK)):
        raise TracelensError(f"{path}: is write-protected; not replaced (make it writable or remove it first)")


# ---------------------------------------------------------------- what is written


def write_table(report: Report, table: str, to: Target, chunk: int | None = None) -> int:
    """Write one analysis table (requests, sessions, findings, members); returns the number of rows.

    The rows are typed and written ``chunk`` (:data:`TABLE_CHUNK`) at a time, as the events are: the
    table is never held whole in memory beside the report.
    """
    from tracelens.reporters import frames

    if table not in frames.TABLE_ROWS:
        raise TracelensError(f"no table {table}; the tables are {', '.join(TABLES)}")
    rows = 0
    with _writer(to, frames.empty_table(table)) as write:
        for frame in frames.frames_of(report, table, chunk or TABLE_CHUNK):
            write(frame)
            rows += len(frame)
    return rows


def write_events(events: Iterable[Event], to: Target, chunk: int | None = None) -> int:
    """Stream every event into the events table, ``chunk`` (:data:`EVENTS_CHUNK`) records at a time.

    Returns the number of rows; memory holds one chunk, whatever the size of the log.
    """
    from tracelens.reporters import frames

    chunk = chunk or EVENTS_CHUNK
    rows = 0
    it = iter(events)
    with _writer(to, frames.events_frame([])) as write:
        while batch := list(islice(it, chunk)):
            write(frames.events_frame(batch))
            rows += len(batch)
    return rows


# ---------------------------------------------------------------- how it is written


@contextmanager
def _writer(to: Target, empty: pd.DataFrame) -> Iterator[Callable[[pd.DataFrame], None]]:
    """A function appending frames of ``empty``'s columns to ``to``; the file appears when the block ends well."""
    if to.path is None:
        with _stdout_text() as out:
            yield _csv(out, empty) if to.format is Format.CSV else _jsonl(out)
        return
    _refuse_write_protected(to.path)  # again: it may have changed while the logs were read
    part = to.path.with_name(f".{to.path.name}.{os.getpid()}.part")
    # NOTE: every way out of this block removes the part file: an error, Ctrl-C, and SIGTERM or SIGHUP,
    # which the command line turns into an exception as Ctrl-C is (cli.run); opened inside the try,
    # so that a signal between creating the file and entering the try cannot leave it behind
    try:
        try:
            raw = open(part, "wb")  # noqa: SIM115 - closed below, after the writers that wrap it
        except OSError as exc:
            raise TracelensError(f"cannot write {to.path}: {exc.strerror or exc}") from None
        with raw:
            if to.format is Format.PARQUET:
                with _parquet(raw, empty) as write:
                    yield write
            else:
                with _text(raw, to.gzip, to.path.name) as out:
                    yield _csv(out, empty) if to.format is Format.CSV else _jsonl(out)
        os.replace(part, to.path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


@contextmanager
def _stdout_text() -> Iterator[IO[str]]:
    """Standard output as UTF-8 text with the rows' own line ends; left open for the rest of the run."""
    sys.stdout.flush()
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
    try:
        yield out
        out.flush()
    finally:
        out.detach()  # the wrapper goes, sys.stdout stays


@contextmanager
def _text(raw: BinaryIO, compressed: bool, name: str) -> Iterator[IO[str]]:
    binary = raw
    if compressed:
        # a GzipFile is a binary file, though typeshed does not say so
        binary = cast(BinaryIO, gzip.GzipFile(filename=name, mode="wb", fileobj=raw, compresslevel=6))
    with binary, io.TextIOWrapper(binary, encoding="utf-8", newline="") as out:
        yield out


def _csv(out: IO[str], empty: pd.DataFrame) -> Callable[[pd.DataFrame], None]:
    # NOTE: written here rather than by DataFrame.to_csv: its csv module quotes a cell holding a CR only
    # when CR is in the line terminator, and it cannot quote text cells while leaving numbers, times and
    # empty cells (missing values) bare, which is what keeps all-digit ids as text in DuckDB and a
    # missing value NULL rather than an empty string
    # the header, even for a table without rows; the names are identifiers, which need no quotes
    out.write(",".join(str(name) for name in empty.columns) + "\n")

    def write(frame: pd.DataFrame) -> None:
        columns = [_csv_cells(column) for _, column in frame.items()]
        out.write("".join(",".join(row) + "\n" for row in zip(*columns, strict=True)))

    return write


def _is_text(column: pd.Series) -> bool:
    import pandas as pd

    return isinstance(column.dtype, pd.CategoricalDtype | pd.StringDtype) or column.dtype == object


def _csv_cells(column: pd.Series) -> list[str]:
    """One column's CSV cells: text guarded and quoted, anything else bare, missing values empty."""
    if _is_text(column):
        text = _guarded(column.astype("string"))
        return ('"' + text.str.replace('"', '""', regex=False) + '"').fillna("").tolist()  # type: ignore[no-any-return]
    return column.astype("string").fillna("").tolist()  # type: ignore[no-any-return]


@cache
def _may_start_a_formula() -> list[str]:
    """Every character a formula's text can begin with (the prefilter of :func:`_guarded`)."""
    skipped = re.compile(_SKIPPED[:-1])
    return ["=", "@", "+", "-", *(c for c in map(chr, range(0x10000)) if skipped.fullmatch(c))]


def _guarded(text: pd.Series) -> pd.Series:
    """``text`` (a string column) with a ``'`` before every cell a spreadsheet would evaluate."""
    # the first character decides for almost every cell in one vectorised step; the regular
    # expression runs only on the few cells that start with a sign, a blank or a control character
    maybe = text.str[:1].isin(_may_start_a_formula()).fillna(False).astype(bool)
    if not maybe.any():
        return text
    risky = text[maybe].map(lambda cell: _FORMULA.match(cell) is not None).astype(bool)
    risky = risky[risky]
    if risky.empty:
        return text
    guarded = text.copy()
    guarded[risky.index] = "'" + text[risky.index]
    return guarded


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that a spreadsheet would evaluate prefixed with ``'``."""
    safe = frame
    for name, column in frame.items():
        if not _is_text(column):
            continue  # numbers, flags and times: -1 is a number, not a formula
        text = column.astype("string")
        guarded = _guarded(text)
        if guarded is not text:
            if safe is frame:
                safe = frame.copy()
            safe[name] = guarded
    return safe


def _jsonl(out: IO[str]) -> Callable[[pd.DataFrame], None]:
    # NOTE: not DataFrame.to_json: it writes "/" as "\/" and pads times to a fixed precision, and the
    # JSON lines of `tracelens parse` and `tracelens requests` write neither; these lines match them.
    def write(frame: pd.DataFrame) -> None:
        names = [str(n) for n in frame.columns]
        columns = [column.astype(object).where(column.notna(), None).tolist() for _, column in frame.items()]
        for values in zip(*columns, strict=True):
            out.write(json_text(json.dumps(dict(zip(names, values, strict=True)), ensure_ascii=False,
                                           default=_json_value)))
            out.write("\n")

    return write


def _json_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):  # pandas.Timestamp
        return value.isoformat()
    if hasattr(value, "item"):  # a numpy scalar
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@contextmanager
def _parquet(sink: BinaryIO, empty: pd.DataFrame) -> Iterator[Callable[[pd.DataFrame], None]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # one schema for the whole file, from the table's empty frame: every chunk is cast to it
    schema = pa.Schema.from_pandas(empty, preserve_index=False)
    with pq.ParquetWriter(sink, schema) as writer:

        def write(frame: pd.DataFrame) -> None:
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))

        yield write
