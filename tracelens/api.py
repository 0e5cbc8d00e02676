"""The Python API: what the command line calls, usable from a notebook too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from tracelens.parse.events import Event
from tracelens.parse.parser import parse_records
from tracelens.read.reader import ReadStats, check_inputs, read_records


def iter_events(paths: Sequence[str], stats: ReadStats, *, lenient: bool = False) -> Iterator[Event]:
    """Every record of ``paths`` as a typed event, in input order.

    Raises :class:`tracelens.errors.InputError` before yielding anything when a path cannot be
    opened at all; ``stats`` fills in while the iterator is consumed.
    """
    check_inputs(paths)
    return parse_records(read_records(paths, stats, lenient=lenient), lenient=lenient)
