"""Parse stage: count what the parser produced and reconcile it with what the reader read."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from tracelens.parse import events as ev
from tracelens.parse.order import log_order
from tracelens.read.reader import ReadStats

UNPARSED_EXAMPLES = 20


def reason_label(reason: str) -> str:
    """An unparsed record's reason without its column: what records are grouped by."""
    return reason.split(" (column", 1)[0]


@dataclass(frozen=True, slots=True)
class Accounting:
    """Every non-blank physical line ends up in exactly one record; these numbers prove it."""

    physical_lines: int
    blank_lines: int
    split_records: int
    joined_lines: int
    records: int
    typed: int
    messages: int
    unparsed: int

    @property
    def expected_records(self) -> int:
        return self.physical_lines - self.blank_lines + self.split_records - self.joined_lines

    @property
    def reconciles(self) -> bool:
        return self.records == self.expected_records == self.typed + self.messages + self.unparsed

    def sentence(self) -> str:
        verdict = "every non-blank line is accounted for" if self.reconciles else "LINES ARE MISSING"
        return (
            f"{verdict}: {self.physical_lines} lines - {self.blank_lines} blank"
            f" + {self.split_records} split - {self.joined_lines} joined = {self.expected_records} records;"
            f" {self.records} records = {self.typed} typed + {self.messages} message + {self.unparsed} unparsed"
        )


@dataclass(slots=True)
class ParseSummary:
    """Counts per event kind, and the first unparsed records as examples."""

    kinds: Counter[str] = field(default_factory=Counter)
    records_by_file: Counter[str] = field(default_factory=Counter)
    unparsed_by_file: Counter[str] = field(default_factory=Counter)
    unparsed_examples: list[ev.Unparsed] = field(default_factory=list)
    unparsed_reasons: Counter[str] = field(default_factory=Counter)  # every unparsed record, by reason

    def add(self, event: ev.Event) -> None:
        self.kinds[event.kind] += 1
        self.records_by_file[event.file] += 1
        if isinstance(event, ev.Unparsed):
            self.unparsed_by_file[event.file] += 1
            self.unparsed_reasons[reason_label(event.reason)] += 1
            if len(self.unparsed_examples) < UNPARSED_EXAMPLES:
                self.unparsed_examples.append(event)

    def add_result(self, result: ev.Event | tuple[type[ev.Event], str, str], file: str) -> None:
        """An event, or the ``(class, pid, tid)`` the parser gives for a record it did not build."""
        if isinstance(result, tuple):
            self.count(result[0].kind, file)
        else:
            self.add(result)

    def count(self, kind: str, file: str) -> None:
        """A record that was not built into an event (the analysis does not read its kind)."""
        self.kinds[kind] += 1
        self.records_by_file[file] += 1

    def add_range(self, part: ParseSummary, line_offset: int) -> None:
        """Add the counts of a later part of the input whose lines were numbered from 1."""
        self._add_counts(part)
        room = UNPARSED_EXAMPLES - len(self.unparsed_examples)
        self.unparsed_examples.extend(dataclasses.replace(u, line=u.line + line_offset)
                                      for u in part.unparsed_examples[:max(room, 0)])

    def _add_counts(self, part: ParseSummary) -> None:
        self.kinds.update(part.kinds)
        self.records_by_file.update(part.records_by_file)
        self.unparsed_by_file.update(part.unparsed_by_file)
        self.unparsed_reasons.update(part.unparsed_reasons)

    @classmethod
    def merge(cls, parts: Sequence[ParseSummary], files: Sequence[str]) -> ParseSummary:
        """The summary of parts that counted disjoint records of the same input (numbered alike)."""
        order = log_order(files)
        out = cls()
        for part in parts:
            out._add_counts(part)
        examples = sorted((u for part in parts for u in part.unparsed_examples), key=lambda u: order(u.file, u.line))
        out.unparsed_examples = examples[:UNPARSED_EXAMPLES]
        return out

    @property
    def records(self) -> int:
        return sum(self.kinds.values())

    def accounting(self, stats: ReadStats) -> Accounting:
        messages = self.kinds.get(ev.Message.kind, 0)
        unparsed = self.kinds.get(ev.Unparsed.kind, 0)
        return Accounting(
            physical_lines=stats.physical_lines,
            blank_lines=stats.blank_lines,
            split_records=stats.split_records,
            joined_lines=stats.joined_lines,
            records=self.records,
            typed=self.records - messages - unparsed,
            messages=messages,
            unparsed=unparsed,
        )
