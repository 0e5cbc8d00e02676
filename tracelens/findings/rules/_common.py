"""Findings stage: helpers shared by the rule modules (wording of times and causes, citing lines)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from tracelens.findings.base import Context, Finding, Rule
from tracelens.requests.assemble import Request
from tracelens.routing.replay import Verdict
from tracelens.state.members import FAILURE_PHRASES, DownReason


def _t(r: Request) -> str:
    return r.begin.strftime("%Y-%m-%d %H:%M:%S") if r.begin else "(no time)"


def _seconds(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def _cite(base: str, file: str | None, line: int | None) -> str:
    """A line as a message names it: ``line N`` in the finding's own file, ``FILE:N`` in another."""
    return f"line {line}" if file is None or file == base else f"{file}:{line}"


def _first(r: Request) -> tuple[str, int]:
    return r.file, r.first_line


def _file_rank(ctx: Context) -> Callable[[str], int]:
    """A file's place in the log set as read (files not read, if any, after every file read)."""
    rank = {name: i for i, name in enumerate(ctx.stats.files)}
    return lambda file: rank.get(file, len(rank))


def _in_order(ctx: Context, where: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """Lines of the log in the order it was read: by file (as read), then line."""
    rank = _file_rank(ctx)
    return tuple(sorted(set(where), key=lambda at: (rank(at[0]), at[0], at[1])))


def _reason_text(reason: DownReason) -> str:
    return FAILURE_PHRASES[reason.value]


def _per_request(rule: Rule, ctx: Context, verdict: Verdict, subject: Callable[[Request], str]) -> Iterator[Finding]:
    """One finding per request with ``verdict``: its subject, then the verdict's reason."""
    for v in ctx.verdicts:
        if v.verdict is verdict:
            r = ctx.requests[v.index]
            yield rule.finding(f"{subject(r)}: {v.reason}", file=r.file, line=r.first_line, pid=r.pid,
                               member=v.routed_to, session=r.session_id, evidence=v.evidence)


_Position = tuple[int, int]  # (the file's rank in the order read, line): a place in a log set


_P = TypeVar("_P", int, _Position)


def _overlapping(spans: tuple[list[_P], list[_P]], start: _P, end: _P | None) -> int:
    """How many of the spans (their first and last positions, each list sorted) meet ``start``..``end``.

    A span misses the interval when it ends before ``start`` or begins after ``end``, never both (it
    begins before it ends): the rest meet it. Two binary searches instead of a scan, so that a member
    flapping n times costs n log n, not n² (issue 21).
    """
    firsts, lasts = spans
    before = bisect_left(lasts, start)
    after = 0 if end is None else len(firsts) - bisect_right(firsts, end)
    return len(firsts) - before - after
