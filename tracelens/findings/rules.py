"""Findings stage: the rules, registered in one list (:data:`RULES`), each documented where it is written."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import TypeVar

from tracelens.config.topology import ClusterModel
from tracelens.findings.base import Context, Finding, Rule, Severity
from tracelens.requests.assemble import Partial, Request
from tracelens.requests.cookies import CookieOutcome
from tracelens.routing.replay import RequestVerdict, Verdict
from tracelens.state.members import FAILURE_PHRASES, DownInterval, DownReason, EndReason


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


def _in_order(ctx: Context, where: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """Lines of the log in the order it was read: by file (as read), then line."""
    rank = {name: i for i, name in enumerate(ctx.stats.files)}
    return tuple(sorted(set(where), key=lambda at: (rank.get(at[0], len(rank)), at[0], at[1])))


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


# ====================================================================== affinity


class AffinityFailover(Rule):
    """A session's requests went to another member because its affinity member was unavailable in that process.

    What it finds:
    Requests that carried a session identifier whose member (the first clone ID that names a member)
    could not take them in the web-server process that handled them, so the plug-in sent them to
    another member. The finding says why (connection refused, connect timeout, ServerIOTimeout, marked
    down with N seconds to retry, MaxConnections), in which process, how many requests of the session
    stayed on the other member, and whether the session survived: the same session ID with the new
    member's clone ID appended means the session state was found (persistence or replication works).

    Why it matters:
    A failover is the plug-in doing its job, but every one means the session's state had to be
    fetched from the session store or a replica. Without working session persistence the user loses
    the session (see affinity.session-lost).

    Example:
    `Failed to connect to app server on host 'app1', OS err=10061`, `Marking member1 down`, `will try
    another one`, then `Set-Cookie: JSESSIONID=0002...:v544d031:v544d0o0`.

    What to do:
    Find out why the member was unavailable (the availability.member-down finding has the cause and
    how long it lasted). If failovers are expected (rolling restarts), make sure session persistence or
    memory-to-memory replication is configured so that sessions survive them.
    """

    code, name, severity = "TL001", "affinity.failover", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        # open episodes per (session, process), then per member the session went to
        episodes: dict[tuple[str, str], dict[str | None, list[RequestVerdict]]] = {}
        for v in ctx.verdicts:
            r = ctx.requests[v.index]
            sid = r.session_id
            if sid is None:
                continue
            if v.verdict is Verdict.FAILOVER:
                episodes.setdefault((sid, r.pid), {}).setdefault(v.routed_to, []).append(v)
            elif v.verdict in (Verdict.KEPT, Verdict.FAILBACK) and v.routed_to == v.home:
                # the session is home again: the next failover of this session is a new episode
                for vs in episodes.pop((sid, r.pid), {}).values():
                    yield self._report(ctx, vs)
        for by_member in episodes.values():
            for vs in by_member.values():
                yield self._report(ctx, vs)

    def _report(self, ctx: Context, vs: list[RequestVerdict]) -> Finding:
        first = vs[0]
        r = ctx.requests[first.index]
        more = f"; {len(vs) - 1} later request(s) of the session stayed on {first.routed_to}" if len(vs) > 1 else ""
        message = f"session {r.session_id} at {_t(r)}: {first.reason}{more}"
        evidence = _in_order(ctx, {at for v in vs for at in v.evidence})
        return self.finding(message, file=r.file, line=r.first_line, pid=r.pid, member=first.home,
                            session=r.session_id, evidence=evidence)


class AffinityFailback(Rule):
    """A session returned to its original member after the retry interval.

    What it finds:
    A request of a session that had failed over, served again by the member of the session's first
    clone ID, because the plug-in retried that member once its retry interval had passed in that
    process (`Time to retry server`, `retryNow 1`).

    Why it matters:
    Failback is documented behaviour, and it moves the session a second time: its state must be
    found again on the original member. With several web-server processes, each retries on its own
    clock, so for a while requests of one session can go to both members (see
    affinity.process-divergence).

    Example:
    `Checking status of member1, ... markedDown 1, retryNow 1`, `Time to retry server member1`,
    `Setting server to member1` for a cookie `...:v544d031:v544d0o0`.

    What to do:
    Nothing, if sessions survive the move. A short RetryInterval narrows the window in which
    processes disagree; a long one keeps sessions away from a recovered member longer.
    """

    code, name, severity = "TL002", "affinity.failback", Severity.INFO

    def check(self, ctx: Context) -> Iterator[Finding]:
        return _per_request(self, ctx, Verdict.FAILBACK,
                            lambda r: f"session {r.session_id} at {_t(r)} in process {r.pid}")


class SessionLost(Rule):
    """After a switch of member, the new member issued a new session ID: the user's session was lost.

    What it finds:
    A request that carried a valid session identifier, was served by a different member than the
    session's own, and whose response set a cookie with a *different* session ID.

    Why it matters:
    The new member did not find the session: no session persistence, no memory-to-memory
    replication, or a replication domain that does not include that member. The user is logged out or
    loses the shopping cart — the symptom that usually starts the investigation.

    Example:
    Request with `JSESSIONID=0001AAAA...:v544d031` fails over to member2, whose response carries
    `Set-Cookie: JSESSIONID=0000BBBB...:v544d0o0`.

    What to do:
    Configure distributed sessions (database persistence or memory-to-memory replication) for the
    cluster, and check that every member is in the replication domain. Then find why the original
    member was unavailable (availability.member-down).
    """

    code, name, severity = "TL003", "affinity.session-lost", Severity.ERROR

    def check(self, ctx: Context) -> Iterator[Finding]:
        for v in ctx.verdicts:
            r = ctx.requests[v.index]
            if r.cookie is None or not r.cookie.valid or r.cookie_outcome is not CookieOutcome.NEW_SESSION:
                continue
            own = v.previous or v.home
            new = r.set_cookie.session_id if r.set_cookie else "?"
            if r.served_by is not None and own is None and v.verdict is Verdict.CLONE_UNKNOWN:
                # no member has the session's clone ID: whoever served it was not the session's own
                instead = f"load balanced to {r.served_by} because its clone ID(s) match no member"
            elif r.served_by is not None and own is not None and r.served_by != own:
                instead = f"served by {r.served_by} instead of {own}"
            else:
                continue
            yield self.finding(
                f"session {r.session_id} at {_t(r)}: {instead}; {r.served_by} answered with a new session ID {new}: "
                "the session's state was lost", file=r.file, line=r.set_cookie_line or r.first_line, pid=r.pid,
                member=r.served_by, session=r.session_id, evidence=v.evidence)


class CloneUnknown(Rule):
    """A clone ID in the session cookie matches no member.

    What it finds:
    Requests whose session identifier carries clone IDs that no member of the cluster has, so the
    plug-in could not apply affinity and load balanced them as new requests.

    Why it matters:
    Every such request may land on a member that does not hold the session. Typical causes: a
    plugin-cfg.xml that was regenerated or not propagated after a member was re-created (new clone
    ID), a CloneID edited by hand, or a cookie set by another cluster on the same domain.

    Example:
    `Comparing curCloneID 'v544dxxx' to server clone id 'v544d031'`, no `Match for clone`, then a
    round-robin pick.

    What to do:
    Regenerate and propagate plugin-cfg.xml, make sure the web server reloaded it, and check the
    CloneIDs against the application servers. If another application sets the same cookie name, give
    one of them a different cookie name or path.
    """

    code, name, severity = "TL004", "affinity.clone-unknown", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        by_clone: dict[tuple[str, ...], list[RequestVerdict]] = defaultdict(list)
        for v in ctx.verdicts:
            if v.verdict is Verdict.CLONE_UNKNOWN:
                by_clone[v.unknown_clones].append(v)
        for clones, vs in by_clone.items():
            r = ctx.requests[vs[0].index]
            sessions = {ctx.requests[v.index].session_id for v in vs}
            yield self.finding(
                f"clone ID(s) {', '.join(clones)} match no member ({len(vs)} request(s), {len(sessions)} session(s)); "
                f"first at {_t(r)} in process {r.pid}, load balanced to {vs[0].routed_to}", file=r.file,
                line=r.cookie_line or r.first_line, pid=r.pid, session=r.session_id,
                evidence=_in_order(ctx, {_first(ctx.requests[v.index]) for v in vs})[:50])


class ProcessDivergence(Rule):
    """The same session was served by different members at overlapping times because processes disagreed.

    What it finds:
    Two requests of one session, handled by different web-server processes within one retry
    interval, that went to different members because one process had the member marked down (or had
    just failed to reach it) while the other still — or again — sent requests there.

    Why it matters:
    Each web-server process keeps its own down marks and retry timers (IBM calls these the "narrow
    windows" of best-effort affinity). While they disagree, one user's requests alternate between
    members and the session may be read and written on both: lost updates, unexpected logouts.

    Example:
    Process 1a2c fails to connect to member1 at 10:15:20 and sends the session to member2; process
    1b40, which saw no failure, sends the same session to member1 at 10:15:31.

    What to do:
    Use a short RetryInterval so that processes agree again sooner, fewer and larger web-server
    processes (more threads per process), and session persistence that tolerates a session moving.
    """

    code, name, severity = "TL005", "affinity.process-divergence", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        verdict_of = {v.index: v for v in ctx.verdicts}
        for s in ctx.sessions:
            reported: set[frozenset[str]] = set()
            steps = [st for st in s.steps if st.served_by is not None and st.time is not None]
            for a, b in pairwise(steps):
                if a.pid == b.pid or a.served_by == b.served_by or a.time is None or b.time is None:
                    continue
                va, vb = verdict_of[a.index], verdict_of[b.index]
                cluster = ctx.topology.cluster_of(b.served_by or "") or ctx.topology.cluster_of(a.served_by or "")
                window = cluster.retry_interval if cluster else 60
                if (b.time - a.time).total_seconds() > window:
                    continue
                moved = {Verdict.FAILOVER, Verdict.FAILBACK}
                if va.verdict not in moved and vb.verdict not in moved:
                    continue
                pair = frozenset((a.pid, b.pid))
                if pair in reported:
                    continue
                reported.add(pair)
                ra, rb = ctx.requests[a.index], ctx.requests[b.index]
                yield self.finding(
                    f"session {s.session_id}: process {a.pid} sent it to {a.served_by} at {_t(ra)} "
                    f"({va.verdict.value}), process {b.pid} to {b.served_by} at {_t(rb)} ({vb.verdict.value}): "
                    f"the processes disagreed about the members within {int((b.time - a.time).total_seconds())} s",
                    file=rb.file, line=rb.first_line, pid=b.pid, member=b.served_by, session=s.session_id,
                    evidence=(_first(ra), _first(rb)))


class Unexplained(Rule):
    """The plug-in's choice differs from the documented routing and no known reason explains it.

    What it finds:
    Requests where the member the plug-in chose is not one the reference model accepts: for example
    a request sent away from an affinity member that, in that process, was up and under its
    connection limit, with no failure logged.

    Why it matters:
    Either the log is missing lines (a lower LogLevel, a cut file), the configuration the model used
    is not the one the plug-in had (pass the right `--config`), or the plug-in did not follow its
    documented algorithm (a version-specific behaviour or a defect worth a PMR).

    Example:
    Cookie `...:v544d031`, member1 up and never marked down in this process, request sent to member2.

    What to do:
    Check that the trace was captured at LogLevel Trace, that `--config` is the plugin-cfg.xml the
    web server loaded, and the plug-in's fix level (see `--affinity-miss` for APAR PM12112).
    """

    code, name, severity = "TL006", "affinity.unexplained", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        return _per_request(self, ctx, Verdict.UNEXPLAINED, lambda r: f"request at {_t(r)} in process {r.pid}")


# ====================================================================== availability


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
        rank = {name: i for i, name in enumerate(ctx.stats.files)}

        def position(file: str, line: int) -> _Position:
            return rank.get(file, len(rank)), line

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


# ====================================================================== balance


def _weight(cluster: ClusterModel | None, member: str) -> int:
    """A member's normalised weight, 1 where neither the configuration nor the trace says."""
    model = cluster.member(member) if cluster is not None else None
    return (model.weight if model is not None else None) or 1


@dataclass(frozen=True, slots=True)
class _Why:
    """What the log shows in one process that can explain an uneven balance."""

    downs: list[str]  # members marked down in the process at some time
    max_connections: bool  # some member reached MaxConnections in the process
    affinity: bool  # the process had requests with clone IDs
    processes: int  # web-server processes in the whole log


class UnevenBalance(Rule):
    """Load-balanced requests per member deviate from the configured weights beyond a tolerance.

    What it finds:
    Per web-server process, the requests the plug-in load balanced (no session, unusable session,
    unknown clone) counted per member, compared with the share the weights give each member; or, at
    LogLevel Stats, the non-affinity requests of the STATS counters (total minus affinity). Reported
    when a member with at least 5 expected requests got less than half or more than one and a half
    times its share, out of at least 20 requests.

    Why it matters:
    The plug-in only balances non-affinity requests, per process, with its own round-robin pointer;
    affinity requests do not lower weights by default (IgnoreAffinityRequests=true). An uneven load
    is often expected behaviour, but it can also reveal a member that was marked down part of the
    time, or weights that are not what you think.

    Example:
    Three members of equal weight; one receives 20 of 30 new sessions in process 1a2c.

    What to do:
    Read the explanation: members marked down during the period, MaxConnections hits, long-lived
    sessions. Compare the STATS lines of one process at a time (IBM technote "not load balancing
    evenly"). Consider IgnoreAffinityRequests=false if affinity traffic should count.
    """

    code, name, severity = "TL201", "balance.uneven", Severity.INFO

    MIN_REQUESTS = 20
    MIN_EXPECTED = 5

    def check(self, ctx: Context) -> Iterator[Finding]:
        lb = {Verdict.NEW_SESSION, Verdict.LOAD_BALANCED, Verdict.CLONE_UNKNOWN}
        per_pid: dict[str, Counter[str]] = defaultdict(Counter)
        first_line: dict[str, tuple[str, int]] = {}
        for v in ctx.verdicts:
            r = ctx.requests[v.index]
            if v.verdict in lb and v.routed_to:
                per_pid[r.pid][v.routed_to] += 1
                first_line.setdefault(r.pid, (r.file, r.first_line))
        source = "load-balanced requests in the trace"
        if not per_pid:
            source = "non-affinity requests of the STATS counters (total - affinity)"
            for (pid, member), rec in ctx.tracker.members.items():
                if rec.counters:
                    last = rec.counters[-1]
                    per_pid[pid][member] = last.total - last.affinity
                    first_line.setdefault(pid, (ctx.stats.files[0] if ctx.stats.files else "", last.line))
        if not per_pid:
            return
        # what explains an uneven share, gathered once for every process: asked per process, each
        # question rescanned every interval and request (quadratic in the processes of a prefork server)
        downs: dict[str, set[str]] = defaultdict(set)
        for iv in ctx.tracker.intervals():
            downs[iv.pid].add(iv.member)
        at_max = {p for (p, _), rec in ctx.tracker.members.items() if rec.max_connections_lines}
        with_affinity = {r.pid for r in ctx.requests if r.cookie is not None and r.cookie.clone_ids}
        processes = len({r.pid for r in ctx.requests} | {p for p, _ in ctx.tracker.members})
        for pid, counts in sorted(per_pid.items()):
            why = _Why(sorted(downs.get(pid, ())), pid in at_max, pid in with_affinity, processes)
            yield from self._judge(ctx, pid, counts, source, first_line.get(pid), why)

    def _judge(self, ctx: Context, pid: str, counts: Counter[str], source: str,
               where: tuple[str, int] | None, why: _Why) -> Iterator[Finding]:
        n = sum(counts.values())
        if n < self.MIN_REQUESTS:
            return
        cluster = ctx.topology.cluster_of(next(iter(counts)))
        members = [m.name for m in cluster.members] if cluster else list(counts)
        weights = {m: _weight(cluster, m) for m in members}
        total_w = sum(weights.values()) or 1
        off = []
        for m in members:
            expected = n * weights[m] / total_w
            got = counts.get(m, 0)
            if expected >= self.MIN_EXPECTED and not (0.5 * expected <= got <= 1.5 * expected):
                off.append(f"{m} got {got} of {n} (expected about {expected:.0f})")
        if not off:
            return
        reasons = []
        if why.downs:
            reasons.append(f"{', '.join(why.downs)} marked down in this process for part of the time")
        if why.max_connections:
            reasons.append("MaxConnections was reached")
        if cluster is not None and cluster.ignore_affinity_requests and why.affinity:
            reasons.append("affinity requests do not lower weights (IgnoreAffinityRequests=true), so long sessions "
                           "are not counted")
        if why.processes > 1:
            reasons.append(f"each of the {why.processes} processes balances on its own")
        explanation = ("; likely: " + "; ".join(reasons)) if reasons else "; the log shows no reason"
        file, line = where or (None, None)
        yield self.finding(f"process {pid}, {source}: {'; '.join(off)}{explanation}", file=file, line=line, pid=pid)


# ====================================================================== cookies


class CookieMalformed(Rule):
    """A session cookie whose value cannot be a WebSphere session identifier.

    What it finds:
    Affinity cookies (JSESSIONID or the configured AffinityCookie) whose value is empty, too short
    for a cache ID and a session ID, has characters a session ID never has, or an empty clone ID.

    Why it matters:
    The plug-in cannot take affinity from such a cookie: the request is load balanced and may land on
    a member without the session. Causes: a client or proxy that mangles cookies, another application
    using the same cookie name, a custom session ID generator.

    Example:
    `name='JSESSIONID', value='garbage'`.

    What to do:
    Find who sets the cookie (the Set-Cookie that created it, a proxy rule); give other applications a
    different cookie name or path.
    """

    code, name, severity = "TL301", "cookie.malformed", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        by_value: dict[str, list[Request]] = defaultdict(list)
        for r in ctx.requests:
            if r.cookie is not None and not r.cookie.valid:
                by_value[r.cookie.raw].append(r)
        for value, rs in by_value.items():
            r = rs[0]
            yield self.finding(
                f"session cookie value {value!r} is malformed ({r.cookie.malformed if r.cookie else ''}); "
                f"{len(rs)} request(s), first at {_t(r)} in process {r.pid}: load balanced",
                file=r.file, line=r.cookie_line or r.first_line, pid=r.pid,
                evidence=tuple(_first(x) for x in rs)[:50])


class CookieMultiple(Rule):
    """A request carried the session cookie more than once, with different values.

    What it finds:
    Requests whose `Cookie:` header holds two or more affinity cookies (e.g. two JSESSIONID) with
    different values. The plug-in uses one of them — the finding says which — and the application may
    read the other.

    Why it matters:
    Cookies with the same name but different paths or domains (two applications, an old cookie with a
    broader path) make affinity follow one session while the application uses another: users bounce
    between sessions.

    Example:
    `Cookie: JSESSIONID=0001AAAA...:v544d031; JSESSIONID=0001BBBB...:v544d0o0`.

    What to do:
    Give each application its own cookie name or a precise cookie path; clear stale cookies with a
    broader path or domain.
    """

    code, name, severity = "TL302", "cookie.multiple", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        for r in ctx.requests:
            values = list(dict.fromkeys(r.cookies_in_header))
            if len(values) < 2:
                continue
            used = r.cookie.raw if r.cookie else "none"
            at = r.cookie_header_line or r.first_line
            yield self.finding(
                f"request at {_t(r)} in process {r.pid} carried {len(values)} different session cookies "
                f"({', '.join(values)}); the plug-in used {used}", file=r.locate(at)[0], line=r.locate(at)[1],
                pid=r.pid, session=r.session_id,
                evidence=tuple(r.locate(x) for x in (r.cookie_header_line, r.cookie_line) if x is not None))


# ====================================================================== input


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


# ====================================================================== configuration


class NoCloneId(Rule):
    """A cluster member has no CloneID: session affinity to it is impossible.

    What it finds:
    Members of a cluster with more than one member whose `<Server>` element has no CloneID attribute.

    Why it matters:
    The plug-in matches the clone IDs of the session cookie against CloneIDs; without them, "affinity
    is assumed off" and every request is load balanced (IBM technote on CloneID).

    Example:
    `<Server Name="member1" LoadBalanceWeight="2">` with no `CloneID`.

    What to do:
    Regenerate plugin-cfg.xml from the administrative console rather than editing it by hand.
    """

    code, name, severity = "TL601", "config.no-clone-id", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.config is None:
            return
        for c in ctx.config.clusters:
            if len(c.members) < 2:
                continue
            for m in c.members:
                if not m.clone_id:
                    yield self.finding(f"member {m.name} of cluster {c.name} has no CloneID: requests cannot keep "
                                       "affinity to it", file=ctx.config.path, member=m.name)


class RetryIntervalCheck(Rule):
    """RetryInterval does not suit ServerIOTimeout and the cluster size.

    What it finds:
    Clusters whose RetryInterval is less than half or more than twice IBM's rule of thumb,
    (members − 1) × |ServerIOTimeout| − 1 seconds.

    Why it matters:
    Too short, and a hung member is retried (and every retry waits a full ServerIOTimeout) before the
    other members' timeouts could expire; too long, and sessions stay away from a recovered member, and
    a single-member cluster refuses requests for that long. Plug-ins before 5.1.1.13 / 6.0.2.17 /
    6.1.0.5 also retried prematurely when ServerIOTimeout was not below RetryInterval (APAR PK28197).

    Example:
    `RetryInterval="600"` for three members with `ServerIOTimeout="30"` (rule of thumb: 59 s).

    What to do:
    Set RetryInterval near the rule-of-thumb value.
    """

    code, name, severity = "TL602", "config.retry-interval", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.config is None:
            return
        for c in ctx.config.clusters:
            timeouts = [abs(m.server_io_timeout) for m in c.members if m.server_io_timeout]
            if not timeouts or len(c.members) < 2:
                continue
            sio = max(timeouts)
            thumb = (len(c.members) - 1) * sio - 1
            if thumb <= 0 or thumb / 2 <= c.retry_interval <= thumb * 2:
                continue
            effect = ("a hung member is retried again before the other members' timeouts could expire"
                      if c.retry_interval < thumb else "sessions stay away from a recovered member longer than needed")
            yield self.finding(
                f"cluster {c.name}: RetryInterval {c.retry_interval} s, IBM's rule of thumb for {len(c.members)} "
                f"members and ServerIOTimeout {sio} s gives {thumb} s: {effect}", file=ctx.config.path)


class EqualWeights(Rule):
    """All members have the same LoadBalanceWeight above 1: the plug-in runs them as weight 1.

    What it finds:
    Clusters whose weights are all equal and greater than 1.

    Why it matters:
    The plug-in divides the weights by their greatest common divisor, so 20, 20, 20 run as 1, 1, 1:
    the weights reset after every round, which costs a little and surprises people reading
    `weights_need_reset` lines (IBM technote on recommended plug-in values).

    Example:
    Three members with `LoadBalanceWeight="2"`.

    What to do:
    Nothing is wrong; use different weights only if the members differ in capacity.
    """

    code, name, severity = "TL603", "config.equal-weights", Severity.INFO

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.config is None:
            return
        for c in ctx.config.clusters:
            weights = {m.weight for m in c.members}
            if len(c.members) > 1 and len(weights) == 1 and next(iter(weights)) > 1:
                yield self.finding(f"cluster {c.name}: every member has weight {next(iter(weights))}, normalised "
                                   "to 1", file=ctx.config.path)


class SingleMemberDown(Rule):
    """A single-member cluster was marked down: every request failed until the retry interval passed.

    What it finds:
    Clusters with one member that the trace shows marked down in some process.

    Why it matters:
    With nowhere to fail over, the process refuses every request for that cluster for RetryInterval
    seconds after one failure (APARs PQ71608 / PQ74545).

    Example:
    A cluster with only `server1`, `Marking server1 down`, then `Failed to find an app server`.

    What to do:
    Add a member or a backup server, or lower RetryInterval for this cluster.
    """

    code, name, severity = "TL604", "config.single-member-down", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        by_member: dict[str, list[DownInterval]] = defaultdict(list)
        for iv in ctx.tracker.intervals():
            by_member[iv.member].append(iv)
        for c in ctx.topology.clusters:
            if len(c.members) != 1 or not c.members_complete:
                continue
            name = c.members[0].name
            downs = by_member.get(name)
            if downs:
                iv = downs[0]
                yield self.finding(f"cluster {c.name} has one member, {name}, and it was marked down "
                                   f"{len(downs)} time(s) (first in process {iv.pid}): no failover possible; "
                                   f"requests failed for up to {c.retry_interval} s each time", file=iv.file,
                                   line=iv.start_line, pid=iv.pid, member=name)


class ConfigProblem(Rule):
    """The plugin-cfg.xml has values the plug-in would not use as written.

    What it finds:
    Attributes with the wrong type or outside the range the plug-in documents (RetryInterval="-5", a
    negative LoadBalanceWeight, Port="70000"; each replaced by its documented default), servers
    without names, server lists naming unknown members, routes to undefined clusters, duplicate names.

    Why it matters:
    The plug-in may behave differently from what the file seems to say.

    Example:
    `RetryInterval="sixty"`.

    What to do:
    Fix the file, or regenerate it.
    """

    code, name, severity = "TL605", "config.problem", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.config is None:
            return
        for problem in ctx.config.problems:
            yield self.finding(problem, file=ctx.config.path)


class TraceMismatch(Rule):
    """The trace names members or clone IDs that the given plugin-cfg.xml does not have.

    What it finds:
    Members the trace routes to, or clone IDs the trace's configuration load logs, that differ from
    `--config`.

    Why it matters:
    The web server ran with another configuration than the one given (not propagated, not reloaded,
    or simply another file): the analysis may be wrong where they differ.

    Example:
    The trace logs `Setting clone id v544d0q2` for member3, plugin-cfg.xml has no member3.

    What to do:
    Pass the plugin-cfg.xml the web server actually loaded, or propagate and reload the current one.
    """

    code, name, severity = "TL606", "config.trace-mismatch", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.config is None:
            return
        seen = {m for (_, m) in ctx.tracker.members}
        for r in ctx.requests:
            seen.update(a.member for a in r.attempts if a.member)
        for name in sorted(seen):
            if ctx.config.member(name) is None:
                yield self.finding(f"the trace routes to {name}, which {ctx.config.path} does not define",
                                   file=ctx.config.path, member=name)
        for name, clone in sorted(ctx.trace_clones.items()):
            member = ctx.config.member(name)
            if member is not None and member.clone_id != clone:
                yield self.finding(f"the trace's configuration load gives {name} the clone ID {clone}, "
                                   f"{ctx.config.path} gives {member.clone_id or 'none'}", file=ctx.config.path,
                                   member=name)


#: Every rule, in code order. A code is never reused; a retired rule stays listed as an alias.
RULES: tuple[type[Rule], ...] = (
    AffinityFailover, AffinityFailback, SessionLost, CloneUnknown, ProcessDivergence, Unexplained,
    MemberDown, NoMemberAvailable,
    UnevenBalance,
    CookieMalformed, CookieMultiple,
    Unparsed, PartialRequest, Damaged, TimeBackwards, LimitReached,
    Contradiction,
    NoCloneId, RetryIntervalCheck, EqualWeights, SingleMemberDown, ConfigProblem, TraceMismatch,
)


def find_rule(code_or_name: str) -> type[Rule] | None:
    key = code_or_name.strip().lower()
    return next((r for r in RULES if r.code.lower() == key or r.name == key), None)


def run_rules(ctx: Context) -> list[Finding]:
    findings = [f for rule in RULES for f in rule().check(ctx)]
    findings.sort(key=lambda f: (-f.severity.rank, f.code, f.file or "", f.line or 0))
    return findings
