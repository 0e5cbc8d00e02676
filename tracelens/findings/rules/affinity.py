"""Findings stage: session affinity rules (TL0xx, ``affinity.*``): failover, failback, lost sessions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import pairwise

from tracelens.findings.base import Context, Finding, Rule, Severity
from tracelens.findings.rules._common import _first, _in_order, _per_request, _t
from tracelens.requests.cookies import CookieOutcome
from tracelens.routing.replay import RequestVerdict, Verdict


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
            # NOTE: a WebLogic request that went to its session's secondary is a failover as well (the
            # verdict says which copy took it)
            if v.verdict is Verdict.FAILOVER or v.verdict is Verdict.SECONDARY_USED:
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
            if ctx.is_weblogic(v.index):
                continue  # weblogic.session-lost tells it with the session's copies
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
