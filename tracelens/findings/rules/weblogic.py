"""Findings stage: WebLogic proxy plug-in rules (TL7xx, ``weblogic.*``): replicas, stale JVMIDs, cookies."""

from __future__ import annotations

from collections.abc import Iterator

from tracelens.findings.base import Context, Finding, Rule, Severity
from tracelens.findings.rules._common import _in_order, _t
from tracelens.requests.weblogic import ReplicaStep
from tracelens.routing.replay import Verdict

#: POST bodies above this size are not read for the session ID (facts §3)
POST_BODY_LIMIT = 64 * 1024
_FAILED_OVER = (Verdict.FAILOVER, Verdict.SECONDARY_USED)


def _when(step: ReplicaStep) -> str:
    return step.time.strftime("%Y-%m-%d %H:%M:%S") if step.time else "(no time)"


class JvmidStale(Rule):
    """The plug-in could not map the session cookie's JVMIDs to its servers: affinity was lost.

    What it finds:
    Requests whose cookie named JVMIDs the plug-in's server list does not have
    (`getPreferredFromCookie: Either JVMIDs not set or they are stale`, then `initJVMID: Iterating
    SrvrList`), or whose primary JVMID the log never ties to a server while it ties others.

    Why it matters:
    A JVMID is new at every restart of a server, and a restarted web server learns JVMIDs only from
    WebLogic's responses. Until it does, requests with a cookie are spread over the list like new
    ones: each may reach a server without the session, which then fetches it from the secondary, or
    loses it.

    Example:
    `primaryJVMID: [-2032354160]` / `secondaryJVMID: []`, `Either JVMIDs not set or they are stale.
    Will try to get JVMIDs from WLS`, `Iterating SrvrList from position 0`.

    What to do:
    After a web-server or WebLogic restart, expect a few such requests per session; many, or lasting,
    mean the plug-in's list and the cluster disagree: check `WebLogicCluster`, `DynamicServerList` and
    that the servers the cookie names still run.
    """

    code, name, severity = "TL701", "weblogic.jvmid-stale", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        for v in ctx.verdicts:
            if v.verdict is Verdict.JVMID_STALE:
                r = ctx.requests[v.index]
                yield self.finding(f"request at {_t(r)} ({r.uri or 'no URI'}): {v.reason}", file=r.file,
                                   line=r.first_line, pid=r.pid, member=r.served_by, session=r.session_id,
                                   evidence=v.evidence)


class SingleCopy(Rule):
    """After a failover the session's cookie names no secondary: one more failure loses it.

    What it finds:
    A session that failed over (to its secondary, or elsewhere) and whose next cookie (the response's
    `Set-Cookie`, else the next request's cookie) names a primary and no secondary; the finding gives
    the window until a cookie names a secondary again, or the end of the log.

    Why it matters:
    WebLogic creates a new secondary only when the client next reaches the session ("delayed
    replication"), and in a two-server cluster it cannot create one at all while the other server is
    down; when that server returns it does not get the replica. The session lives in one JVM: if that
    server fails next, the session is lost.

    Example:
    `JSESSIONID=...!-2032354160!-457294087!1086861600000` before, `Set-Cookie: JSESSIONID=...!-457294087!1086861600000`
    after `Marking app1:7003 as bad`.

    What to do:
    Bring the failed server back and let users reach their sessions again (the next request creates a
    secondary where one is possible); in a two-server cluster, add a third server so that a failover
    leaves two copies; avoid restarting the remaining server while sessions are single.
    """

    code, name, severity = "TL702", "weblogic.single-copy", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.weblogic is None:
            return
        verdicts = {v.index: v for v in ctx.verdicts}
        for h in ctx.weblogic.histories:
            steps = h.steps
            k = 0
            while k < len(steps):
                step = steps[k]
                v = verdicts.get(step.index)
                if v is None or v.verdict not in _FAILED_OVER or step.next_primary is None \
                        or step.next_secondary is not None or (step.next_session or h.session_id) != h.session_id:
                    k += 1
                    continue
                end = next((j for j in range(k + 1, len(steps)) if steps[j].next_secondary is not None
                            or (steps[j].next_session or h.session_id) != h.session_id), None)
                until = f"until {_when(steps[end])}" if end is not None else "until the end of the log"
                covered = steps[k:end + 1 if end is not None else len(steps)]
                r = ctx.requests[step.index]
                server = ctx.weblogic.servers.get(step.next_primary) or r.served_by
                yield self.finding(
                    f"session {h.session_id}: after the failover at {_when(step)} the cookie names only "
                    f"{server} ({step.next_primary}) and no secondary, {until} ({len(covered)} request(s) in the "
                    "window): one more failure loses the session", file=r.file, line=r.first_line, pid=r.pid,
                    member=server, session=h.session_id,
                    evidence=_in_order(ctx, [*(ctx.requests[s.index].locate(ctx.requests[s.index].first_line)
                                               for s in covered), *v.evidence]))
                k = end + 1 if end is not None else len(steps)


class SecondarySameHost(Rule):
    """The session's primary and secondary are on the same host: no protection from a machine failure.

    What it finds:
    Sessions whose cookie names a primary and a secondary that resolve (`[Found Primary]`,
    `[Found Secondary]`) to servers on the same host, once per session and host.

    Why it matters:
    WebLogic ranks a server on another machine highest when it chooses the secondary; a secondary on
    the primary's own machine is the lowest rank, chosen only when no other is available. Both copies
    then die with that machine.

    Example:
    `[Found Primary]: app1:7003:65535`, `[Found Secondary]: app1:7005:65535`.

    What to do:
    Give the servers machine names (each server's Machine in the domain) so that WebLogic knows where
    they run, and define replication groups (preferred secondary group) on other machines.
    """

    code, name, severity = "TL703", "weblogic.secondary-same-host", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.weblogic is None:
            return
        for h in ctx.weblogic.histories:
            for step in h.steps:
                p, s = step.primary_server, step.secondary_server
                if p and s and p != s and p.rpartition(":")[0] == s.rpartition(":")[0]:
                    r = ctx.requests[step.index]
                    d = ctx.weblogic.details[step.index]
                    lines = [x for x in (d.found_primary_line, d.found_secondary_line, r.first_line) if x is not None]
                    yield self.finding(
                        f"session {h.session_id} at {_when(step)}: primary {p} and secondary {s} are on the same "
                        f"host {p.rpartition(':')[0]}: a failure of that machine loses both copies",
                        file=r.file, line=r.first_line, pid=r.pid, member=p, session=h.session_id,
                        evidence=tuple(r.locate(x) for x in sorted(set(lines))))
                    break


class WlSessionLost(Rule):
    """Both copies of a WebLogic session were unavailable, or a failover came back with a new session ID.

    What it finds:
    A request whose cookie's primary and secondary (or its only copy) were both unavailable, and a
    request that failed over (or lost affinity) whose response, or the session's next request, carries
    another session ID.

    Why it matters:
    In-memory replication keeps two copies; with both gone the server that takes the request has no
    state and starts a new session: the user is logged out, the cart is empty.

    Example:
    `[Found Primary]: app2:7003:65535` (no secondary), `Marking app2:7003 as bad`, then
    `Set-Cookie: JSESSIONID=<another ID>!...`.

    What to do:
    Find why the servers failed (their logs, the bad-server marks); keep three or more servers so that
    a failover leaves two copies; with a two-server cluster, do not take the second server down while
    sessions are single (weblogic.single-copy).
    """

    code, name, severity = "TL704", "weblogic.session-lost", Severity.ERROR

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.weblogic is None:
            return
        verdicts = {v.index: v for v in ctx.verdicts}
        for h in ctx.weblogic.histories:
            for step in h.steps:
                v = verdicts.get(step.index)
                if v is None or v.verdict not in (*_FAILED_OVER, Verdict.JVMID_STALE, Verdict.NO_MEMBER):
                    continue
                r = ctx.requests[step.index]
                lost = step.next_session is not None and step.next_session != h.session_id
                if not lost:
                    continue
                where = "its response set" if step.next_from == "set-cookie" else "the next request carries"
                yield self.finding(
                    f"session {h.session_id} at {_when(step)}: {v.reason}; {where} another session ID, "
                    f"{step.next_session}: the session's state was lost", file=r.file,
                    line=r.set_cookie_line or r.first_line, pid=r.pid, member=r.served_by, session=h.session_id,
                    evidence=v.evidence)


class CookieName(Rule):
    """Requests carry a WebLogic session cookie under another name than the plug-in reads.

    What it finds:
    Requests without the plug-in's session cookie (`WLCookieName`, JSESSIONID by default) that carry a
    cookie of the WebLogic session shape (`<id>!<JVMID>...`) under another name.

    Why it matters:
    The cookie name is set in the application's `weblogic.xml`; when the plug-in is not told
    (`WLCookieName`, older `CookieName`), it finds no session cookie and routes every request as a new
    session: affinity is lost on every request.

    Example:
    `Hdrs from clnt:[Cookie]=[MYAPPSESSION=Gh4kT2...!-2032354160!1308677666322]`.

    What to do:
    Set `WLCookieName` in the plug-in's configuration to the name the application's weblogic.xml
    gives its session cookie (`<cookie-name>`), or give the application the default name.
    """

    code, name, severity = "TL705", "weblogic.cookie-name", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.weblogic is None:
            return
        by_name: dict[str, list[int]] = {}
        for index, d in ctx.weblogic.details.items():
            if d.cookie is None and d.other_session_cookies:
                for name, _ in d.other_session_cookies:
                    by_name.setdefault(name, []).append(index)
        for name, indexes in by_name.items():
            first = ctx.requests[min(indexes)]
            yield self.finding(
                f"{len(indexes)} request(s) carry a WebLogic session cookie named {name}, but the plug-in reads "
                f"{ctx.weblogic.settings.cookie_name} (WLCookieName): they were routed as new sessions; first at "
                f"{_t(first)}", file=first.file, line=first.cookie_header_line or first.first_line, pid=first.pid,
                evidence=tuple(ctx.requests[i].locate(ctx.requests[i].cookie_header_line or ctx.requests[i].first_line)
                               for i in sorted(indexes)))


class PostOver64k(Rule):
    """A POST body over 64 KB without a session cookie: the plug-in does not read its session ID.

    What it finds:
    POST requests whose `Content-Length` is over 64 KB and that carry no session ID in a cookie or the
    URL, so that any session ID they have is in the body.

    Why it matters:
    The plug-in looks for the session in the cookie, the URL, and POST data, except in POST bodies
    over 64 KB, which it does not parse for it. Such a request is routed as a new session, to any
    server.

    Example:
    `================New Request: [POST /upload HTTP/1.1]`, `Hdrs from clnt:[Content-Length]=[204800]`,
    no `Cookie` header.

    What to do:
    Let the client send the session cookie (or put the session in the URL) for large form posts, or
    keep forms that need affinity under 64 KB.
    """

    code, name, severity = "TL706", "weblogic.post-over-64k", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.weblogic is None:
            return
        for index, d in sorted(ctx.weblogic.details.items()):
            r = ctx.requests[index]
            if (r.method or "").upper() == "POST" and (d.content_length or 0) > POST_BODY_LIMIT \
                    and not d.has_session_cookie:
                yield self.finding(
                    f"POST {r.uri or ''} at {_t(r)}: a body of {d.content_length} bytes (over 64 KB) and no session "
                    f"cookie: the plug-in does not read a session ID in such a body; routed as a new session"
                    + (f" to {r.served_by}" if r.served_by else ""),
                    file=r.file, line=r.first_line, pid=r.pid, member=r.served_by,
                    evidence=(r.locate(r.first_line),))
