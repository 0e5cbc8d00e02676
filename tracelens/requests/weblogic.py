"""Requests stage: WebLogic proxy plug-in requests, rebuilt from their events, and each session's replica history.

Theory of operation
-------------------
A request's lines are grouped by the ``<16-digit id>`` where the 1.1 plug-in writes one (requests of
several threads interleave, and the id is what keeps them apart); in the older ctime-only log, whose
lines carry no id, a request runs from its ``New Request`` banner to the next banner. Lines before
the first banner that belong to a request (the cookie's JVMIDs, the servers found) make a request cut
by the start of the log (``begin_missing``); a request that never reaches a status, a ``request
[...] processed`` line or the 503 is ``end_missing`` when the log ends inside it.

Every request is given in the shape of a WebSphere request (:class:`~tracelens.requests.assemble.Request`)
so that every face (the requests table, export, JSON, timeline, session) shows it with the same
machinery: the process is the web-server process where the line names one (``wlproxy`` in a
``wlproxy.log``), the thread its request id, the cookie's JVMIDs stand where WebSphere's clone IDs do,
a server (``host:port``) is a member. What only WebLogic has (the decoded cookie, the servers the
cookie's JVMIDs resolved to, the stale-JVMID iteration, the servers marked bad) is its
:class:`WlDetail`, beside it.

A session's replica history is the cookie of each of its requests in time order, each followed by the
cookie its response set (a logged ``Set-Cookie``, else the next request's cookie, the record of what
the previous response set).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tracelens.parse import events as ev
from tracelens.parse import weblogic_events as wl
from tracelens.requests.assemble import Attempt, AttemptOutcome, Partial, Request
from tracelens.requests.cookies import CookieOutcome, SessionCookie, session_from_uri
from tracelens.requests.weblogic_cookie import WlCookie, cookie_pairs, looks_like_session, parse_wl_cookie

#: the process of a ``wlproxy.log``'s requests: its lines name none
WLPROXY_PROCESS = "wlproxy"
#: the cookie the plug-in reads unless ``WLCookieName`` says otherwise (facts §3)
DEFAULT_COOKIE_NAME = "JSESSIONID"


@dataclass(frozen=True, slots=True)
class WlAttempt:
    """One connect attempt to a server: where, and how it ended."""

    server: str
    line: int
    time: datetime | None
    failed: bool
    failure: str | None  # what the log said: `Connection refused`, `CONNECTION_REFUSED`, `marked bad`
    outcome_line: int | None


@dataclass(frozen=True, slots=True)
class WlDetail:
    """What only a WebLogic request has, beside its :class:`Request`."""

    request_id: str | None  # the <16-digit id>, where the lines carry one
    cookie: WlCookie | None  # the session cookie it carried under the plug-in's cookie name
    cookie_from: str | None  # "cookie" or "url"
    other_session_cookies: tuple[tuple[str, str], ...]  # (name, value): session-shaped, under another name
    logged_jvmids: tuple[str | None, str | None] | None  # what the plug-in logged it read from the cookie
    logged_jvmids_line: int | None
    found_primary: str | None  # host:port the primary JVMID resolved to
    found_primary_line: int | None
    found_secondary: str | None
    found_secondary_line: int | None
    stale_line: int | None  # `Either JVMIDs not set or they are stale`
    attempts: tuple[WlAttempt, ...]
    marked_bad: tuple[tuple[str, int, datetime | None], ...]  # (server, line, time)
    no_backend_line: int | None  # the 503 after the connect retries
    set_cookie: WlCookie | None
    set_cookie_line: int | None
    content_length: int | None
    jvmid_servers: tuple[tuple[str, str], ...]  # (JVMID, server) this request's lines tie together

    @property
    def primary(self) -> str | None:
        """The primary JVMID: the decoded cookie's, else what the plug-in logged reading it."""
        if self.cookie is not None and self.cookie.valid:
            return self.cookie.primary
        return self.logged_jvmids[0] if self.logged_jvmids else None

    @property
    def secondary(self) -> str | None:
        if self.cookie is not None and self.cookie.valid:
            return self.cookie.secondary
        return self.logged_jvmids[1] if self.logged_jvmids else None

    @property
    def has_session_cookie(self) -> bool:
        return self.primary is not None


@dataclass(slots=True)
class _Try:
    """An attempt while its request is open (it may still fail)."""

    server: str
    line: int
    time: datetime | None
    failed: bool = False
    failure: str | None = None
    outcome_line: int | None = None


@dataclass(slots=True)
class _Open:
    pid: str
    tid: str | None
    file: str
    first_line: int
    last_line: int
    begin: datetime | None
    end: datetime | None
    banner: bool
    method: str | None = None
    uri: str | None = None
    cookie_header: str | None = None
    cookie_header_line: int | None = None
    logged: tuple[str | None, str | None] | None = None
    logged_line: int | None = None
    found: dict[str, tuple[str, int]] = field(default_factory=dict)
    stale_line: int | None = None
    attempts: list[_Try] = field(default_factory=list)
    marked_bad: list[tuple[str, int, datetime | None]] = field(default_factory=list)
    no_backend_line: int | None = None
    status: int | None = None
    status_line: int | None = None
    done: bool | None = None
    done_line: int | None = None
    set_cookie: str | None = None
    set_cookie_line: int | None = None
    content_length: int | None = None
    list_jvmids: dict[int, str] = field(default_factory=dict)
    lines: int = 0


class WlAssembler:
    """Feeds WebLogic events in log order; gives each request, with its :class:`WlDetail`, when it closes."""

    def __init__(self, cookie_name: str = DEFAULT_COOKIE_NAME, process: str = WLPROXY_PROCESS) -> None:
        self.cookie_name = cookie_name
        self.process = process
        self._open: dict[tuple[str, str | None, str | None], _Open] = {}
        self.done: list[tuple[Request, WlDetail]] = []

    def feed(self, event: ev.Event) -> None:
        if isinstance(event, ev.Unparsed):
            return  # counted by the parse summary and reported as input.unparsed; it belongs to no request
        pid = event.pid or self.process
        key = (event.file, pid, event.tid)
        o = self._open.get(key)
        if isinstance(event, wl.WlNewRequest):
            if o is not None:
                self._close(key, ended=False)
            o = self._open[key] = _Open(pid, event.tid, event.file, event.line, event.line, event.time, event.time,
                                        True, event.method, event.uri)
            o.lines += 1
            return
        if isinstance(event, ev.Message):
            if o is not None:
                o.last_line = event.line
            return
        if o is None:
            o = self._open[key] = _Open(pid, event.tid, event.file, event.line, event.line, event.time, event.time,
                                        False)
        o.last_line = event.line
        o.lines += 1
        if event.time is not None:
            o.begin = o.begin or event.time
            o.end = event.time
        self._take(o, event)

    def _take(self, o: _Open, e: ev.Event) -> None:
        if isinstance(e, wl.WlRequestString):
            o.uri = e.uri
        elif isinstance(e, wl.WlCookieJvmids | wl.WlJvmidPair):
            if o.logged is None or isinstance(e, wl.WlCookieJvmids):
                o.logged, o.logged_line = (e.primary, e.secondary), e.line
            elif e.primary is None and e.secondary is not None:
                o.logged = (o.logged[0], e.secondary)
        elif isinstance(e, wl.WlFoundServer):
            o.found[e.role] = (e.server, e.line)
        elif isinstance(e, wl.WlListJvmid):
            o.list_jvmids[e.index] = e.jvmid
        elif isinstance(e, wl.WlJvmidsStale):
            o.stale_line = e.line
        elif isinstance(e, wl.WlTrying):
            o.attempts.append(_Try(e.server, e.line, e.time))
            o.method = o.method or e.method
        elif isinstance(e, wl.WlConnected):
            if not o.attempts or o.attempts[-1].server != e.server:
                o.attempts.append(_Try(e.server, e.line, e.time))
        elif isinstance(e, wl.WlConnectFailed | wl.WlFailingOver):
            if o.attempts and not o.attempts[-1].failed:
                last = o.attempts[-1]
                last.failed, last.outcome_line = True, e.line
                last.failure = e.text if isinstance(e, wl.WlConnectFailed) else e.reason
        elif isinstance(e, wl.WlMarkedBad):
            o.marked_bad.append((e.server, e.line, e.time))
            for a in reversed(o.attempts):
                if a.server == e.server:
                    if not a.failed:
                        a.failed, a.failure, a.outcome_line = True, "marked bad", e.line
                    break
        elif isinstance(e, wl.WlNoBackend):
            o.no_backend_line = e.line
            o.status, o.status_line = 503, e.line
        elif isinstance(e, wl.WlStatus):
            o.status, o.status_line = e.status, e.line
        elif isinstance(e, wl.WlRequestDone):
            o.done, o.done_line = e.ok, e.line
        elif isinstance(e, wl.WlHeader):
            name = e.name.lower()
            if e.direction.endswith("clnt") and e.direction.startswith("from") and name == "cookie":
                o.cookie_header, o.cookie_header_line = e.value, e.line
            elif name == "set-cookie" and e.direction.endswith("WLS"):
                value = dict(cookie_pairs(e.value.split(";", 1)[0])).get(self.cookie_name)
                if value is not None:
                    o.set_cookie, o.set_cookie_line = value, e.line
            elif name == "content-length" and e.value.strip().isdigit():
                o.content_length = int(e.value.strip())

    def _close(self, key: tuple[str, str | None, str | None], ended: bool) -> None:
        o = self._open.pop(key)
        if o.lines == 0:
            return
        self.done.append(self._build(o, ended))

    def finish(self) -> list[tuple[Request, WlDetail]]:
        """Close every open request (the log ended inside the ones without an end) and give all, in log order."""
        for key in list(self._open):
            self._close(key, ended=True)
        self.done.sort(key=lambda rd: (rd[0].file, rd[0].first_line))
        return self.done

    def _build(self, o: _Open, at_log_end: bool) -> tuple[Request, WlDetail]:
        cookie: WlCookie | None = None
        cookie_from: str | None = None
        others: list[tuple[str, str]] = []
        raw_values: list[str] = []
        if o.cookie_header is not None:
            for name, value in cookie_pairs(o.cookie_header):
                if name == self.cookie_name:
                    raw_values.append(value)
                    if cookie is None:
                        cookie, cookie_from = parse_wl_cookie(value), "cookie"
                elif looks_like_session(value):
                    others.append((name, value))
        if cookie is None and o.uri:
            in_url = session_from_uri(o.uri)
            if in_url is not None:
                cookie, cookie_from = parse_wl_cookie(in_url), "url"
        attempts = tuple(WlAttempt(a.server, a.line, a.time, a.failed, a.failure, a.outcome_line) for a in o.attempts)
        served = attempts[-1] if attempts and not attempts[-1].failed else None
        if served is not None and ((o.status is not None and o.status >= 500) or o.done is False):
            served = None if o.no_backend_line is not None else served
        ended = o.status is not None or o.done is not None or o.no_backend_line is not None
        partial: list[Partial] = []
        if not o.banner:
            partial.append(Partial.BEGIN_MISSING)
        if not ended and (at_log_end or o.banner):
            partial.append(Partial.END_MISSING)
        set_cookie = parse_wl_cookie(o.set_cookie) if o.set_cookie is not None else None
        found_primary = o.found.get("primary")
        found_secondary = o.found.get("secondary")
        detail = WlDetail(
            request_id=o.tid, cookie=cookie, cookie_from=cookie_from, other_session_cookies=tuple(others),
            logged_jvmids=o.logged, logged_jvmids_line=o.logged_line,
            found_primary=found_primary[0] if found_primary else None,
            found_primary_line=found_primary[1] if found_primary else None,
            found_secondary=found_secondary[0] if found_secondary else None,
            found_secondary_line=found_secondary[1] if found_secondary else None,
            stale_line=o.stale_line, attempts=attempts, marked_bad=tuple(o.marked_bad),
            no_backend_line=o.no_backend_line, set_cookie=set_cookie, set_cookie_line=o.set_cookie_line,
            content_length=o.content_length, jvmid_servers=(),
        )
        primary, secondary = detail.primary, detail.secondary
        ties = []
        if primary is not None and found_primary is not None:
            ties.append((primary, found_primary[0]))
        if secondary is not None and found_secondary is not None:
            ties.append((secondary, found_secondary[0]))
        detail = _with_ties(detail, tuple(ties))
        # NOTE: a request whose log shows only the JVMIDs the plug-in read (not the cookie's value) has no
        # session ID: it carries no shared-shape cookie, and its JVMIDs are in its detail
        session_cookie = _as_session_cookie(cookie) if cookie is not None else None
        set_session = _as_session_cookie(set_cookie) if set_cookie is not None else None
        request = Request(
            pid=o.pid, tid=o.tid, file=o.file, first_line=o.first_line, last_line=o.last_line, begin=o.begin,
            end=o.end, partial=tuple(partial), uri=o.uri, vhost=None, method=o.method,
            affinity_source=(ev.AffinitySource.URL if cookie_from == "url" else ev.AffinitySource.COOKIE)
            if session_cookie is not None else None,
            cookie=session_cookie, cookie_line=o.cookie_header_line or o.logged_line,
            cookies_in_header=tuple(raw_values), cookie_header_line=o.cookie_header_line,
            clone_compares=(), clone_matches=(), status_checks=(),
            attempts=tuple(_as_attempt(a, primary_server=detail.found_primary, status=o.status) for a in attempts),
            served_by=served.server if served else None, status=o.status, status_line=o.status_line,
            set_cookie=set_session, set_cookie_line=o.set_cookie_line,
            cookie_outcome=_outcome(session_cookie, set_session), no_member_line=o.no_backend_line,
            mark_downs=tuple((s, line) for s, line, _ in o.marked_bad), state_at_begin=(),
        )
        return request, detail


def _with_ties(detail: WlDetail, ties: tuple[tuple[str, str], ...]) -> WlDetail:
    from dataclasses import replace

    return replace(detail, jvmid_servers=ties)


def _as_session_cookie(cookie: WlCookie) -> SessionCookie:
    """WebLogic's cookie in the shared shape: the session ID, and its JVMIDs where WebSphere has clone IDs."""
    return SessionCookie(cookie.raw, "", cookie.session_id, cookie.jvmids, cookie.malformed)


def _as_attempt(a: WlAttempt, primary_server: str | None, status: int | None) -> Attempt:
    host, _, port = a.server.rpartition(":")
    outcome = (AttemptOutcome.CONNECT_REFUSED if a.failed else
               AttemptOutcome.SERVED if status is not None and status < 500 else
               AttemptOutcome.ERROR_STATUS if status is not None else AttemptOutcome.UNKNOWN)
    return Attempt(member=a.server, line=a.line, time=a.time, by_affinity=a.server == primary_server,
                   outcome=outcome, outcome_line=a.outcome_line, host=host or None,
                   port=int(port) if port.isdigit() else None, status=None if a.failed else status)


def _outcome(sent: SessionCookie | None, received: SessionCookie | None) -> CookieOutcome:
    if received is None:
        return CookieOutcome.NONE
    if sent is None or not sent.valid or sent.session_id != received.session_id:
        return CookieOutcome.NEW_SESSION
    if received.clone_ids != sent.clone_ids:
        return CookieOutcome.CLONE_APPENDED  # the primary/secondary pair changed: a failover rewrote it
    return CookieOutcome.SAME_SESSION


def assemble(events: Iterable[ev.Event], cookie_name: str = DEFAULT_COOKIE_NAME,
             process: str = WLPROXY_PROCESS) -> list[tuple[Request, WlDetail]]:
    """Every request of WebLogic events (in log order) with its detail."""
    assembler = WlAssembler(cookie_name, process)
    for event in events:
        assembler.feed(event)
    return assembler.finish()


# ---------------------------------------------------------------- sessions: the replica history


@dataclass(frozen=True, slots=True)
class ReplicaStep:
    """One request of a session: the copies its cookie named, and the copies its response left."""

    index: int  # the request's position in the analysis's request list
    time: datetime | None
    file: str
    line: int
    primary: str | None  # JVMID
    secondary: str | None
    primary_server: str | None  # host:port, where the log ties the JVMID to a server
    secondary_server: str | None
    served_by: str | None
    next_primary: str | None  # what the response set: its Set-Cookie, else the next request's cookie
    next_secondary: str | None
    next_session: str | None  # the session ID the response set (another one: the session was lost)
    next_from: str | None  # "set-cookie" or "next request"; None at the session's last request without one


@dataclass(frozen=True, slots=True)
class ReplicaHistory:
    session_id: str
    steps: tuple[ReplicaStep, ...]


def replica_histories(requests: Sequence[Request], details: dict[int, WlDetail],
                      servers: dict[str, str]) -> list[ReplicaHistory]:
    """Each WebLogic session's primary/secondary history, sessions in order of their first request.

    ``servers`` maps a JVMID to the server the log ties it to (``[Found Primary]`` after reading it).
    """
    by_session: dict[str, list[int]] = {}
    for index, detail in details.items():
        sid = _session_of(requests[index], detail)
        if sid:
            by_session.setdefault(sid, []).append(index)
    out = []
    for sid, indexes in by_session.items():
        indexes.sort(key=lambda i: (requests[i].begin is None, requests[i].begin or datetime.min,
                                    requests[i].file, requests[i].first_line))
        steps = []
        for k, i in enumerate(indexes):
            r, d = requests[i], details[i]
            nxt = details[indexes[k + 1]] if k + 1 < len(indexes) else None
            n_p: str | None
            n_s: str | None
            n_sid: str | None
            n_from: str | None
            if d.set_cookie is not None and d.set_cookie.valid:
                n_p, n_s, n_sid, n_from = d.set_cookie.primary, d.set_cookie.secondary, d.set_cookie.session_id, \
                    "set-cookie"
            elif nxt is not None:
                n_p, n_s, n_from = nxt.primary, nxt.secondary, "next request"
                n_sid = nxt.cookie.session_id if nxt.cookie is not None else sid
            else:
                n_p = n_s = n_sid = n_from = None
            steps.append(ReplicaStep(
                i, r.begin, r.file, r.first_line, d.primary, d.secondary,
                servers.get(d.primary or "") or d.found_primary, servers.get(d.secondary or "") or d.found_secondary,
                r.served_by, n_p, n_s, n_sid, n_from))
        out.append(ReplicaHistory(sid, tuple(steps)))
    out.sort(key=lambda h: (h.steps[0].time is None, h.steps[0].time or datetime.min, h.steps[0].file,
                            h.steps[0].line))
    return out


def _session_of(r: Request, d: WlDetail) -> str | None:
    if d.cookie is not None and d.cookie.valid:
        return d.cookie.session_id
    if d.set_cookie is not None and d.set_cookie.valid:
        return d.set_cookie.session_id
    return None
