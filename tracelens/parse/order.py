"""Parse stage, a pure helper: the log order of record positions ``(file, line)`` across the files read."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def log_order(files: Sequence[str]) -> Callable[[str, int], tuple[int, str, int]]:
    """A sort key for ``(file, line)`` in the order the files were read (an unknown file last, by name):
    what puts the parts of a split analysis back in log order."""
    rank = {name: i for i, name in enumerate(files)}
    return lambda file, line: (rank.get(file, len(rank)), file, line)
