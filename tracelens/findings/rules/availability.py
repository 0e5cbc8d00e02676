"""Findings stage: member availability rules (TL1xx, ``availability.*``): members down, none available."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from tracelens.findings.base import Context, Finding, Rule, Severity
from tracelens.findings.rules._common import _cite, _file_rank, _in_order, _overlapping, _Position, _reason_text, _t
from tracelens.routing.replay import RequestVerdict, Verdict
from tracelens.state.members import EndReason


class MemberDown(Rule):
    """A member was marked down in a web-server process: when, why, for how long, how many requests it affected.

    What it finds:
    Every interval during which one process had one member marked down, from the mark-down (with the
    failure that caused it) to the member's recovery in that process (a served response, `Marking up`,
    `markedDown 0`), or to the end of the log.

    Why it matters:
    While a member is marked down in a process, that process sends none of its requests there: its
    sessions fail over, and new sessions go elsewhere. The interval is per process; other processes
    may still use the member.

    Example:
    `Failed to connect to app server on host 'app1', OS err=10061`, `Marking member1 down`, `retry in
    60`, ..., `Time to retry server member1`.

    What to do:
    Look at the member's own logs at the start of the interval (crash, restart, hung threads, full
    listener backlog). Frequent short intervals with connect timeouts point to an overloaded member or
    a ConnectTimeout that is too small.
    """

    code, name, severity = "TL101", "availability.member-down", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        # the requests each member was skipped or failed in, per process: a few per interval, instead
        # of every request for every interval. NOTE: by position in the log set (file as read, line), so
        # that an outage and its requests may each cross a rotation
        rank = _file_rank(ctx)

        def position(file: str, line: int) -> _Position:
            return rank(file), line

        touched: dict[tuple[str, str], tuple[list[_Position], list[_Position]]] = defaultdict(lambda: ([], []))
        for v in ctx.verdicts:
            r = ctx.requests[v.index]
            members = {a.member for a in v.skipped} | {m for m, _, _ in v.failed_attempts if m}
            for member in members:
                firsts, lasts = touched[(r.pid, member)]
                firsts.append(position(r.file, r.first_line))
                lasts.append(position(*r.locate(r.last_line)))
        for firsts, lasts in touched.values():
            firsts.sort()
            lasts.sort()
        for iv in ctx.tracker.intervals():
            end = position(iv.end_file or iv.file, iv.end_line) if iv.end_line is not None else None
            affected = _overlapping(touched.get((iv.pid, iv.member), ([], [])), position(iv.file, iv.start_line), end)
            start = iv.start.strftime("%Y-%m-%d %H:%M:%S") if iv.start else f"line {iv.start_line}"
            if iv.end_reason is EndReason.LOG_END:
                until = "still down when the log ends"
            else:
                how = {EndReason.SERVED: "it served a request again", EndReason.MARKED_UP: "it was marked up",
                       EndReason.STATUS_UP: "a status line showed it up", EndReason.RESTART: "the process restarted "
                       "or reloaded its configuration"}[iv.end_reason or EndReason.LOG_END]
                until = f"until {how} ({_cite(iv.file, iv.end_file, iv.end_line)})"
            length = f" for {iv.seconds:.0f} s" if iv.seconds is not None else ""
            cause = f"{_reason_text(iv.reason)}" + (
                f", {_cite(iv.file, iv.reason_file, iv.reason_line)}" if iv.reason_line else "")
            retries = f"; {len(iv.repeats)} retry probe(s) failed" if iv.repeats else ""
            due = f"; retry due at {_cite(iv.file, iv.retry_due_file, iv.retry_due_line)}" if iv.retry_due_line else ""
            evidence = _in_order(ctx, iv.locations())
            # without request boundaries (LogLevel Stats or Error) no request can be counted
            impact = (f"{affected} request(s) affected" if ctx.requests
                      else "the log has no request boundaries to count the requests affected")
            yield self.finding(
                f"{iv.member} marked down in process {iv.pid} at {start} ({cause}){length}{due}, {until}{retries}; "
                f"{impact}", file=iv.file, line=iv.start_line, pid=iv.pid, member=iv.member, evidence=evidence)


class NoMemberAvailable(Rule):
    """A request found no member to serve it: the client got an error.

    What it finds:
    Requests for which the plug-in logged `Failed to find an app server to handle this request` (or
    `Failed to find a server; all could be down`), grouped per process into outages: consecutive
    such requests with no successful request in between.

    Why it matters:
    The user saw an error page (typically 500). With every member marked down and no retry due, the
    plug-in does not even try to connect (APAR PH46938).

    Example:
    `Marking member1 down`, `Marking member2 down`, `Failed to find a server; all could be down`.

    What to do:
    Restore the members; consider BackupServers, a shorter RetryInterval for small clusters, and
    alerting on this message.
    """

    code, name, severity = "TL102", "availability.no-member-available", Severity.ERROR

    def check(self, ctx: Context) -> Iterator[Finding]:
        outage: dict[str, list[RequestVerdict]] = {}
        for v in sorted(ctx.verdicts, key=lambda v: v.index):
            r = ctx.requests[v.index]
            if v.verdict is Verdict.NO_MEMBER:
                outage.setdefault(r.pid, []).append(v)
            elif r.served_by is not None and r.pid in outage:
                yield self._report(ctx, outage.pop(r.pid))
        for vs in outage.values():
            yield self._report(ctx, vs)

    def _report(self, ctx: Context, vs: list[RequestVerdict]) -> Finding:
        first, last = ctx.requests[vs[0].index], ctx.requests[vs[-1].index]
        span = f" to {_t(last)}" if len(vs) > 1 else ""
        return self.finding(
            f"{len(vs)} request(s) in process {first.pid} from {_t(first)}{span} found no member: {vs[0].reason}",
            file=first.file, line=first.no_member_line or first.first_line, pid=first.pid, session=first.session_id,
            evidence=_in_order(ctx, {at for v in vs for at in v.evidence})[:50])
