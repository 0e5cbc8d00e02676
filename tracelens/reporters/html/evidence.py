"""Reporters: the text of the log lines a report shows as evidence, read again from the log files."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from tracelens.errors import TracelensError
from tracelens.read.reader import ReadStats, is_stream, read_records


def line_texts(paths: Sequence[str], wanted: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str | None]:
    """The text of each wanted ``(file, line)``; None for a line that cannot be read again.

    NOTE: the analysis keeps no log text (a large log would not fit in memory), so the few lines a
    report shows are read again, each file only up to its last wanted line. Standard input and a
    FIFO were consumed by the analysis: their lines are None, and the report says so.
    """
    by_file: dict[str, set[int]] = defaultdict(set)
    for file, line in wanted:
        by_file[file].add(line)
    last = {f: max(lines) for f, lines in by_file.items()}
    texts: dict[tuple[str, int], str | None] = {(f, n): None for f, lines in by_file.items() for n in lines}
    for path in paths:
        if is_stream(path):
            continue
        stats = ReadStats()
        pieces: dict[int, list[str]] = defaultdict(list)
        try:
            records = read_records([path], stats)
            for record in records:
                lines = by_file.get(record.file)
                if lines is None:
                    break  # this file has no evidence line
                if record.line > last[record.file]:
                    break
                if record.line in lines:
                    pieces[record.line].append(record.text)
            for line, parts in pieces.items():
                texts[(stats.files[-1], line)] = "".join(parts)
        except (OSError, TracelensError):
            continue  # the file went away or changed since the analysis: its lines show as unreadable
    return texts
