"""Findings stage: the member state rule (TL5xx, ``state.*``): log lines that contradict earlier ones."""

from __future__ import annotations

from collections.abc import Iterator

from tracelens.findings.base import Context, Finding, Rule, Severity


class Contradiction(Rule):
    """A log line contradicts what the process had logged before about a member.

    What it finds:
    Status lines that report a member up while the same process had marked it down and logged no
    recovery, or report it down with no mark-down logged since it was last seen up; and STATS counters
    that went down (the process restarted or reloaded its configuration).

    Why it matters:
    Either lines are missing (another log level, a cut or merged file) or the process reset its state
    (restart, configuration reload): the reconstruction follows the log from that point.

    Example:
    `Marking member1 down` at line 63, then `Checking status of member1, ... markedDown 0` at line 70
    with no response from member1 in between.

    What to do:
    Check for a configuration reload or a process restart at that time; otherwise the file is
    missing lines.
    """

    code, name, severity = "TL501", "state.contradiction", Severity.INFO

    def check(self, ctx: Context) -> Iterator[Finding]:
        for o in ctx.tracker.observations:
            yield self.finding(o.message, file=o.file, line=o.line, pid=o.pid, member=o.member,
                               evidence=tuple((o.file, x) for x in (o.previous_line, o.line) if x is not None))
