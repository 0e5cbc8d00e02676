"""Findings stage: input rules (TL4xx, ``input.*``): what of the log could not be read or kept."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from tracelens.findings.base import Context, Finding, Rule, Severity
from tracelens.findings.rules._common import _first, _in_order, _seconds
from tracelens.requests.assemble import Partial, Request


class Unparsed(Rule):
    """Records that do not follow the plug-in log grammar.

    What it finds:
    Lines that are not plug-in log records (no `[timestamp] pid tid - LEVEL:` header, a malformed
    timestamp, an unknown level word, control characters, a header without a record), with the
    reason and the first line numbers.

    Why it matters:
    What cannot be read cannot be analysed: a damaged or mixed file can hide the mark-down or the
    response that explains a failover.

    Example:
    A log pasted from a ticket with wrapped lines, or binary garbage after a crash.

    What to do:
    Look at the listed lines. For documentation excerpts without headers use `--lenient`.
    """

    code, name, severity = "TL401", "input.unparsed", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        count = ctx.summary.kinds.get("unparsed", 0)
        if not count:
            return
        examples = ctx.summary.unparsed_examples
        reasons = ctx.summary.unparsed_reasons
        first = examples[0]
        shown = f"; the first {len(examples)} at lines" if count > len(examples) else "; at line(s)"
        yield self.finding(
            f"{count} record(s) could not be read ({', '.join(f'{n}× {r}' for r, n in reasons.most_common())})"
            f"{shown} {', '.join(str(u.line) for u in examples)}",
            file=first.file, line=first.line, evidence=tuple((u.file, u.line) for u in examples))


class PartialRequest(Rule):
    """Requests cut by the start or end of the log.

    What it finds:
    Requests whose first lines were written before the log starts, or whose last lines after it ends
    (or whose thread started another request before ending it), per file.

    Why it matters:
    A cut request is kept and analysed with what the log shows, but its verdict may rest on part of
    the story. Many cut requests in the middle of a file mean lines are missing.

    Example:
    A file that starts with `Setting server to member2` and no `Enter` for that thread.

    What to do:
    Capture the log from before the incident to after it; nothing to do for the few requests at the
    edges of a capture.
    """

    code, name, severity = "TL402", "input.partial-request", Severity.INFO

    def check(self, ctx: Context) -> Iterator[Finding]:
        per_file: dict[str, dict[Partial, list[Request]]] = defaultdict(lambda: defaultdict(list))
        for r in ctx.requests:
            for p in r.partial:
                per_file[r.file][p].append(r)
        for file, kinds in per_file.items():
            begin, end = kinds.get(Partial.BEGIN_MISSING, []), kinds.get(Partial.END_MISSING, [])
            parts = []
            if begin:
                parts.append(f"{len(begin)} started before the log does")
            if end:
                parts.append(f"{len(end)} did not end in it")
            rs = sorted(begin + end, key=lambda r: r.first_line)
            yield self.finding(f"{len(set(map(id, rs)))} request(s) cut: {', '.join(parts)}", file=file,
                               line=rs[0].first_line, evidence=_in_order(ctx, {_first(r) for r in rs})[:50])


class Damaged(Rule):
    """The input is damaged: a compressed file that ends early, a read error.

    What it finds:
    Files the reader could only read in part; the analysis used what was readable.

    Why it matters:
    The end of the incident may be missing.

    Example:
    A `.gz` copied before the compression finished.

    What to do:
    Copy the file again from the web server.
    """

    code, name, severity = "TL403", "input.damaged", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        for note in ctx.stats.damage:
            yield self.finding(note, file=note.split(":", 1)[0])


class TimeBackwards(Rule):
    """The time of a web-server process goes backwards in the log.

    What it finds:
    Per file and process, the records whose timestamp is more than a second earlier than the record
    the same process wrote before, with their line numbers and the largest step back.

    Why it matters:
    A process writes its records in the order it lives them, so its clock only goes forward (threads
    racing to write may swap records by a fraction of a second). A step back means the file is not one
    continuous log: logs of several servers or days concatenated, rotated files pasted in the wrong
    order, a clock set back (NTP, a DST change on a server logging local time). The analysis orders a
    session's requests, and replays them, by their times: right for files concatenated in the wrong
    order, wrong for the hour after a clock was set back. Member state per process follows the log's
    order either way.

    Example:
    `[Mon Jun 07 10:16:23 2004] 00001a2c ...` followed by `[Mon Jun 07 10:15:06 2004] 00001a2c ...` in
    a file made with `cat http_plugin.log http_plugin.log.1 > all.log`.

    What to do:
    Give the files to tracelens separately instead of concatenated, in any order (a rotated set is read
    oldest first); for a clock change, read times after the jump with it in mind.
    """

    code, name, severity = "TL404", "input.time-backwards", Severity.INFO

    def check(self, ctx: Context) -> Iterator[Finding]:
        for j in ctx.time_jumps:
            first = (f"first at line {j.lines[0]}: {j.first_from:%Y-%m-%d %H:%M:%S} (line {j.first_previous_line}) "
                     f"then {j.first_to:%Y-%m-%d %H:%M:%S}") if j.first_from and j.first_to else ""
            yield self.finding(
                f"time goes backwards {j.count} time(s) in process {j.pid} (by up to "
                f"{_seconds(j.largest.total_seconds())}); {first}",
                file=j.file, line=j.lines[0] if j.lines else None, pid=j.pid,
                evidence=tuple((j.file, x) for x in j.lines))


class LimitReached(Rule):
    """The log has more sessions or requests than the analysis keeps: the rest were counted, not analysed.

    What it finds:
    More distinct sessions than the analysis keeps (100,000): the sessions beyond the limit, in the
    order they first appear, are not grouped. More requests than it keeps (500,000): the later ones
    are counted but not replayed.

    Why it matters:
    Their requests are still replayed and judged, and the findings about single requests stand; but
    those sessions have no story (`tracelens session`), no process-divergence check and are not in the
    list of sessions that changed member. The limit keeps memory bounded on a log of any size.

    Example:
    A load test or a crawler that never sends its cookie back: every request starts a new session.

    What to do:
    Analyse a shorter time window, or one web server's log at a time, if the untracked sessions matter.
    """

    code, name, severity = "TL405", "input.limit", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        u = ctx.untracked
        where = ctx.stats.files[0] if ctx.stats.files else None
        if u.sessions:
            yield self.finding(
                f"{u.sessions} session(s) beyond the limit of {u.limit} were not tracked: their {u.requests} "
                "request(s) are replayed and judged, but belong to no session", file=where)
        if u.requests_not_kept:
            yield self.finding(
                f"{u.requests_not_kept} request(s) after the first {u.request_limit} were counted but not kept: "
                "they are not replayed, judged or grouped into sessions (member state is still followed "
                "to the end of the log)", file=where)
