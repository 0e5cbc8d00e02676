"""Requests stage: one record per request, assembled from the events of its (pid, tid).

The records of different threads and processes interleave in real logs, so nothing here assumes that
a request's lines are contiguous: each ``(pid, tid)`` has at most one open request, and an event
belongs to the open request of its own thread.

A request opens at its first begin line (``trying to match a route``, ``Handling WebSphere
request``, ``Request is:``, ``websphereWriteRequestReadResponse: Enter``, ``Checking for session
affinity``) and closes at ``Ending the request``. The begin lines of one request belong together in
whatever subset and order its plug-in writes them: at LogLevel Trace all of them (the route lookup,
``Handling WebSphere request``, the DETAIL ``Request is:``, ``Enter``), at Detail only ``Request
is:``, in 5.x only ``Enter``. So a begin line opens a new request in its thread only when the open
one has gone past its begin lines (it has read a routing or response line: the affinity check, the
cookie, a status check, a pick, a response) or already holds a begin line of that kind; the
request, and the process state it is judged by, start at its first line.

When the log starts inside a request, the first line that only a routed request writes (the cookie
read, a pick, the transport, the response) opens it and it is marked ``begin_missing``; when the log
ends inside one, or the thread starts another request before this one got its answer (a response,
or no member), it is marked ``end_missing``. Status lines and error lines alone never open a
request: logs at LogLevel Stats or Error have no request boundaries, and guessing them would invent
requests.

Each routing decision is an :class:`Attempt`: the member, how it was chosen (clone affinity or load
balancing), where it connected, and how it ended (served, connect refused, connect timeout,
ServerIOTimeout, an error status, or unknown when the log does not say).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tracelens.parse import events as ev
from tracelens.requests.cookies import (
    CookieOutcome,
    SessionCookie,
    cookie_outcome,
    parse_session_cookie,
    session_from_uri,
)
from tracelens.state.members import MemberView

#: Distinct session cookie values parsed once and shared, per assembler (the most recent ones).
COOKIE_CACHE = 50_000
_intern = sys.intern


class AttemptOutcome(str, enum.Enum):
    SERVED = "served"
    CONNECT_REFUSED = "connect_refused"
    CONNECT_TIMEOUT = "connect_timeout"
    SERVER_IO_TIMEOUT = "server_io_timeout"
    ERROR_STATUS = "error_status"  # the member answered 5xx
    STREAM_FAILED = "stream_failed"  # the stream failed and the log gives no more specific cause
    UNKNOWN = "unknown"  # the log does not say (cut, or no response logged)

    @property
    def failed(self) -> bool:
        return self not in (AttemptOutcome.SERVED, AttemptOutcome.UNKNOWN)


# NOTE: which event reports which failure is one table, ev.FAILURES, shared with member state; a
# failure is the outcome of the same value (a Failure without one fails here, at import).
_OUTCOME_BY_FAILURE: dict[ev.Failure, AttemptOutcome] = {f: AttemptOutcome(f.value) for f in ev.Failure}


class Partial(str, enum.Enum):
    BEGIN_MISSING = "begin_missing"  # the log starts inside this request
    END_MISSING = "end_missing"  # the log ends (or the thread moves on) before the request ends


@dataclass(frozen=True, slots=True)
class Attempt:
    member: str | None
    line: int
    time: datetime | None
    by_affinity: bool
    outcome: AttemptOutcome
    outcome_line: int | None
    host: str | None
    port: int | None
    status: int | None
    # what the process believed when this attempt was decided (another thread may have marked a
    # member down since the request began)
    state: tuple[MemberView, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusSeen:
    """A ``serverGroupCheckServerStatus`` line inside the request."""

    member: str
    line: int
    marked_down: bool
    retry_now: bool
    retry_in: int | None  # `retryInSec N`, or the `retry in N` line that followed
    reached_max_connections: bool
    time: datetime | None = None  # when the process said so


@dataclass(frozen=True, slots=True)
class Request:
    pid: str
    tid: str | None
    file: str
    first_line: int
    last_line: int
    begin: datetime | None
    end: datetime | None
    partial: tuple[Partial, ...]
    uri: str | None
    vhost: str | None
    method: str | None
    affinity_source: ev.AffinitySource | None  # where the session ID was found; None: no session ID
    cookie: SessionCookie | None  # the session identifier the request carried
    cookie_line: int | None
    cookies_in_header: tuple[str, ...]  # every affinity cookie value of the Cookie header, in order
    cookie_header_line: int | None
    clone_compares: tuple[tuple[str, str, int], ...]  # (cookie clone, member clone, line)
    clone_matches: tuple[tuple[str, int], ...]  # (member, line)
    status_checks: tuple[StatusSeen, ...]
    attempts: tuple[Attempt, ...]
    served_by: str | None
    status: int | None
    status_line: int | None
    set_cookie: SessionCookie | None
    set_cookie_line: int | None
    cookie_outcome: CookieOutcome
    no_member_line: int | None  # `Failed to find an app server to handle this request`
    mark_downs: tuple[tuple[str, int], ...]  # (member, line) marked down while handling this request
    state_at_begin: tuple[MemberView, ...]
    # NOTE: a request that a rotation cut goes on in the next file of its web server: its lines there are
    # numbered after its lines in ``file`` (``offset`` + their own number), so that every line field stays
    # one int in log order; :meth:`locate` gives the file and line of any of them
    end_file: str | None = None
    offset: int = 0

    @property
    def duration(self) -> timedelta | None:
        """How long the request took; None when a time is missing or the clock went back during it."""
        if self.begin is None or self.end is None or self.end < self.begin:
            return None
        return self.end - self.begin

    def cite(self, line: int) -> str:
        """One of the request's lines as messages name it: ``line N`` in its first file, else ``FILE:N``."""
        file, number = self.locate(line)
        return f"line {number}" if file == self.file else f"{file}:{number}"

    def locate(self, line: int) -> tuple[str, int]:
        """``(file, line)`` of one of the request's line numbers."""
        if self.end_file is not None and line > self.offset:
            return self.end_file, line - self.offset
        return self.file, line

    @property
    def session_id(self) -> str | None:
        """The session this request belongs to: the one it carried, else the one it was given."""
        if self.cookie is not None and self.cookie.valid:
            return self.cookie.session_id
        if self.set_cookie is not None and self.set_cookie.valid:
            return self.set_cookie.session_id
        return None

    @property
    def evidence(self) -> tuple[tuple[str, int], ...]:
        lines = {self.first_line, self.last_line}
        for value in (self.cookie_line, self.status_line, self.set_cookie_line, self.no_member_line):
            if value is not None:
                lines.add(value)
        for a in self.attempts:
            lines.add(a.line)
            if a.outcome_line is not None:
                lines.add(a.outcome_line)
        lines.update(line for _, line in self.mark_downs)
        return tuple(self.locate(line) for line in sorted(lines))


# NOTE: a frozen dataclass's __init__ sets each field through object.__setattr__: one request of thirty
# fields cost as much as the rest of its closing (see tracelens.parse.events.filler)
_REQUEST: Callable[..., Request] = ev.filler(Request)
_ATTEMPT: Callable[..., Attempt] = ev.filler(Attempt)

# one bit per kind of begin line: a request holds each kind at most once, in any order
_BEGIN_KIND: dict[type[ev.Event], int] = {
    ev.RouteLookup: 1,
    ev.RequestHandling: 2,
    ev.RequestInfo: 4,
    ev.FunctionEnter: 8,
    ev.AffinityStart: 16,
}

# lines only a routed request writes, at LogLevel Trace: they may open a request cut by the log start
_OPENS_CUT_REQUEST: frozenset[type[ev.Event]] = frozenset({
    ev.AffinityCheck, ev.CookieLookup, ev.CookieValue, ev.CookieNotFound, ev.CloneIdsParse, ev.CloneLookup,
    ev.AffinityServerSet, ev.CloneNextUp, ev.ServerPicked, ev.ConnectionCount, ev.TransportLookup,
    ev.TransportSet, ev.StreamDequeue, ev.RequestWriting, ev.RequestWritten, ev.HttpRequestLine, ev.CookieHeader,
    ev.ResponseReading, ev.ResponseStatus, ev.SetCookieHeader, ev.RequestEnd,
})


@dataclass(slots=True)
class _Attempt:
    member: str | None
    line: int
    time: datetime | None
    by_affinity: bool = False
    outcome: AttemptOutcome = AttemptOutcome.UNKNOWN
    outcome_line: int | None = None
    host: str | None = None
    port: int | None = None
    status: int | None = None
    written: bool = False
    state: tuple[MemberView, ...] = ()

    def freeze(self) -> Attempt:
        # the member (and so the request's served_by) interned once here, whichever line named it
        member = _intern(self.member) if self.member is not None else None
        return _ATTEMPT(member, self.line, self.time, self.by_affinity, self.outcome, self.outcome_line,
                       self.host, self.port, self.status, self.state)


@dataclass(slots=True)
class _Open:
    pid: str
    tid: str | None
    file: str
    first_line: int
    begin: datetime | None
    begin_missing: bool
    state_at_begin: tuple[MemberView, ...]
    begun: int = 0  # the kinds of begin line read (bits of _BEGIN_KIND)
    # NOTE: set by any line the request writes only after its begin lines (routing, response, errors):
    # a begin line after one is the next request's, whichever kinds this one holds
    routed: bool = False
    last_line: int = 0
    end: datetime | None = None
    uri: str | None = None
    vhost: str | None = None
    method: str | None = None
    affinity_source: ev.AffinitySource | None = None
    checking: ev.AffinitySource | None = None
    cookie: SessionCookie | None = None
    cookie_line: int | None = None
    cookies_in_header: list[str] = field(default_factory=list)
    cookie_header_line: int | None = None
    compares: list[tuple[str, str, int]] = field(default_factory=list)
    matches: list[tuple[str, int]] = field(default_factory=list)
    statuses: list[StatusSeen] = field(default_factory=list)
    attempts: list[_Attempt] = field(default_factory=list)
    status: int | None = None
    status_line: int | None = None
    set_cookie: SessionCookie | None = None
    set_cookie_line: int | None = None
    no_member_line: int | None = None
    mark_downs: list[tuple[str, int]] = field(default_factory=list)
    end_file: str | None = None  # the next file of the log, when a rotation cut the request
    offset: int = 0  # what its lines in ``end_file`` are numbered after
    retry_pending: bool = False  # `will try another one`: the next affinity pass is the same request

    @property
    def current(self) -> _Attempt | None:
        return self.attempts[-1] if self.attempts else None


class RequestAssembler:
    """Feed events in log order; completed :class:`Request` records come out of :meth:`feed`."""

    def __init__(
        self,
        snapshot: Callable[[str], tuple[MemberView, ...]] | None = None,
        affinity_cookies: Iterable[str] = ("JSESSIONID",),
        separator: str = ":",
        continues: Callable[[str, str], bool] | None = None,
    ) -> None:
        self._snapshot = snapshot or (lambda pid: ())
        # whether a file continues the log of the one before it (a rotated set): by default none does
        self._continues = continues or (lambda previous, file: False)
        self._cookie_names = {n.upper() for n in affinity_cookies}
        self._separator = separator
        self._open: dict[tuple[str, str | None], _Open] = {}
        self._file: str | None = None
        # a value parsed once, one object for every request that carries it: a session's requests share theirs
        self._session_cookie: Callable[[str], SessionCookie] = functools.lru_cache(maxsize=COOKIE_CACHE)(
            functools.partial(parse_session_cookie, separator=separator))

    # ---------------------------------------------------------------- driving

    def touch(self, pid: str | None, tid: str | None, line: int, file: str) -> bool:
        """A record of a kind the assembler does not read: it still extends its thread's open request
        (its last line; the request's end time stays that of the last record the assembler read).

        Returns whether the thread has an open request in ``file`` (if not, the record may open one cut
        by the log's start, and must be fed as an event).
        """
        o = self._open.get((pid or "", tid))
        # NOTE: the record's own file, not the last one fed: the first records of the next file are not
        # fed, so comparing with that gave the previous file's open request a line of the next file, and
        # the continuation of a request cut by rotation lost its first lines
        if o is None:
            return False
        if o.file != file and o.end_file != file:
            if o.end_file is not None or not self._continues(o.file, file):
                return False
            o.end_file, o.offset = file, o.last_line  # the request goes on after a rotation
        o.last_line = line + (o.offset if file == o.end_file else 0)
        return True

    def feed(self, event: ev.Event) -> Sequence[Request]:
        """Take one event; return the requests it completes (usually none)."""
        # NOTE: called for every record the analysis builds; the usual event completes nothing, and
        # gets the empty tuple instead of a new list
        pid = event.pid
        if pid is None:
            if event.time is not None:
                return ()
            pid = "-"
        done: list[Request] | None = None
        if event.file != self._file:
            # a file boundary cuts every open request, unless the file continues the log (a rotated set)
            if self._file is not None and not self._continues(self._file, event.file):
                done = list(self.finish())
            self._file = event.file
        cls = type(event)
        if cls is ev.PluginsLoaded:
            return [*(done or ()), *self._close_process(pid)]
        key = (pid, event.tid)
        current = self._open.get(key)
        if current is not None and current.file != event.file:
            if current.end_file is not None and current.end_file != event.file:
                # a request across two rotations, a whole file long: not one request (its lines could not
                # be told apart either), so it is cut there
                done = [*(done or ()), self._close(key, complete=False)]
                current = None
            else:
                event = self._continued(current, event)
        kind, handler = _DISPATCH.get(cls, _ONLY_EXTENDS)
        if kind is not None:
            if current is not None and self._starts_new(current, kind):
                # NOTE: a thread serves one request at a time: one that got its answer (a response, or
                # no member) has ended when its thread begins the next, though only LogLevel Trace
                # writes `Ending the request` (at Detail every request would be cut otherwise)
                answered = current.status is not None or current.no_member_line is not None
                done = [*(done or ()), self._close(key, complete=answered)]
                current = None
            if current is None:
                current = self._start(key, event, begin_missing=False)
            current.begun |= kind
        elif current is None:
            if cls not in _OPENS_CUT_REQUEST:
                return done or ()
            current = self._start(key, event, begin_missing=True)
            current.routed = True
        elif handler is not None:
            current.routed = True
        current.last_line = event.line
        time = event.time
        if time is not None:
            current.end = time
        if handler is not None:
            handler(self, current, event)
        if cls is ev.RequestEnd:
            done = [*(done or ()), self._close(key, complete=True)]
        return done or ()

    @staticmethod
    def _continued(o: _Open, event: ev.Event) -> ev.Event:
        """An event of a request that a rotation cut, numbered after the request's lines in its first file."""
        if o.end_file is None:
            o.end_file, o.offset = event.file, o.last_line
        return dataclasses.replace(event, line=event.line + o.offset)

    def finish(self) -> Iterator[Request]:
        """The log ended: every request still open is cut."""
        for key in list(self._open):
            yield self._close(key, complete=False)

    def assemble(self, events: Iterable[ev.Event]) -> list[Request]:
        out: list[Request] = []
        for event in events:
            out.extend(self.feed(event))
        out.extend(self.finish())
        return sort_requests(out)

    # ---------------------------------------------------------------- open and close

    def _starts_new(self, current: _Open, kind: int) -> bool:
        """Whether a begin line of ``kind`` in ``current``'s thread begins the next request."""
        if current.retry_pending and not current.status:
            return False  # the plug-in re-runs affinity for the same request after a failed attempt
        # NOTE: not an order of begin lines: plug-in versions write different subsets in different
        # orders (`Request is:` comes after `Handling WebSphere request` at Trace, alone at Detail),
        # and ranking them split every Trace-level request in two
        return current.routed or bool(current.begun & kind)

    def _start(self, key: tuple[str, str | None], event: ev.Event, begin_missing: bool) -> _Open:
        # NOTE: the few distinct process, thread, member and clone names are interned: a kept request
        # holds the one shared copy instead of the text its line was parsed from (a tenth of its size)
        tid = _intern(key[1]) if key[1] is not None else None
        req = _Open(pid=_intern(key[0]), tid=tid, file=event.file, first_line=event.line, begin=event.time,
                    begin_missing=begin_missing, state_at_begin=self._snapshot(key[0]), last_line=event.line,
                    end=event.time)
        self._open[key] = req
        return req

    def _close_process(self, pid: str) -> Iterator[Request]:
        for key in [k for k in self._open if k[0] == pid]:
            yield self._close(key, complete=False)

    def _close(self, key: tuple[str, str | None], complete: bool) -> Request:
        o = self._open.pop(key)
        partial = []
        if o.begin_missing:
            partial.append(Partial.BEGIN_MISSING)
        if not complete:
            partial.append(Partial.END_MISSING)
        attempts = tuple(a.freeze() for a in o.attempts)
        served = next((a for a in reversed(attempts) if a.outcome is AttemptOutcome.SERVED), None)
        if served is None and o.status is not None and attempts and attempts[-1].status is not None:
            served = attempts[-1]  # the final answer was an error status: that member still answered
        return _REQUEST(
            pid=o.pid, tid=o.tid, file=o.file, first_line=o.first_line, last_line=o.last_line, begin=o.begin,
            end=o.end, partial=tuple(partial), uri=o.uri, vhost=o.vhost, method=o.method,
            affinity_source=o.affinity_source, cookie=o.cookie, cookie_line=o.cookie_line,
            cookies_in_header=tuple(o.cookies_in_header), cookie_header_line=o.cookie_header_line,
            clone_compares=tuple(o.compares), clone_matches=tuple(o.matches), status_checks=tuple(o.statuses),
            attempts=attempts, served_by=served.member if served else None, status=o.status,
            status_line=o.status_line, set_cookie=o.set_cookie, set_cookie_line=o.set_cookie_line,
            cookie_outcome=cookie_outcome(o.cookie, o.set_cookie), no_member_line=o.no_member_line,
            mark_downs=tuple(o.mark_downs), state_at_begin=o.state_at_begin, end_file=o.end_file, offset=o.offset,
        )

    # ---------------------------------------------------------------- attempts

    def _attempt_for(self, o: _Open, member: str | None, event: ev.Event) -> _Attempt:
        """The attempt a pick of ``member`` belongs to: the current one if it is still undecided."""
        cur = o.current
        undecided = cur is not None and cur.outcome is AttemptOutcome.UNKNOWN and not cur.written and cur.status is None
        if undecided and cur is not None and (cur.member is None or member is None or cur.member == member):
            cur.member = cur.member or member
            return cur
        att = _Attempt(member=member, line=event.line, time=event.time, state=self._snapshot(o.pid))
        o.attempts.append(att)
        o.retry_pending = False
        return att

    def _fail(self, o: _Open, event: ev.Event, outcome: AttemptOutcome) -> None:
        cur = o.current
        if cur is None or cur.outcome is AttemptOutcome.SERVED:
            cur = _Attempt(member=None, line=event.line, time=event.time)
            o.attempts.append(cur)
        # the first specific cause wins over the generic `Failed to create the stream` around it
        generic = AttemptOutcome.STREAM_FAILED
        if cur.outcome is AttemptOutcome.UNKNOWN or (cur.outcome is generic and outcome is not generic):
            cur.outcome, cur.outcome_line = outcome, event.line

    # ---------------------------------------------------------------- handlers

    def _on_route(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.RouteLookup)
        o.vhost, o.uri = e.vhost or o.vhost, e.uri or o.uri

    def _on_info(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.RequestInfo)
        o.uri = e.get("uri") or o.uri
        o.vhost = e.get("host") or e.get("vhost") or o.vhost
        o.method = e.get("method") or o.method

    def _on_request_line(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.HttpRequestLine)
        o.method = o.method or e.method
        o.uri = o.uri or e.target

    def _on_affinity_check(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.AffinityCheck)
        o.checking = e.source

    def _on_cookie_value(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.CookieValue)
        if e.name.upper() == "SSLJSESSION":
            o.affinity_source = ev.AffinitySource.SSL
            return
        if o.cookie is None:  # the retry pass reads the same cookie again
            o.cookie = self._session_cookie(e.value)
            o.cookie_line = e.line
            o.affinity_source = o.checking if o.checking is not None else ev.AffinitySource.COOKIE

    def _on_url_session(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.UrlSessionParse)
        value = session_from_uri(e.uri)
        o.uri = o.uri or e.uri
        if value and o.cookie is None:
            o.cookie = self._session_cookie(value)
            o.cookie_line = e.line
            o.affinity_source = ev.AffinitySource.URL

    def _on_cookie_header(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.CookieHeader)
        values = [v for n, v in e.cookies if n.upper() in self._cookie_names]
        o.cookies_in_header.extend(values)
        o.cookie_header_line = e.line
        if values and o.cookie is None:
            # the plug-in's own cookie read was not logged (older traces): the first one is what it uses
            o.cookie = self._session_cookie(values[0])
            o.cookie_line = e.line
            o.affinity_source = ev.AffinitySource.COOKIE

    def _on_compare(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.CloneCompare)
        o.compares.append((_intern(e.cookie_clone_id), _intern(e.server_clone_id), e.line))

    def _on_match(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.CloneMatch)
        o.matches.append((_intern(e.server), e.line))

    def _on_status(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.StatusCheck)
        o.statuses.append(StatusSeen(_intern(e.server), e.line, bool(e.marked_down), bool(e.retry_now), e.retry_in_sec,
                                     bool(e.reached_max_connections), e.time))

    def _on_retry_in(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.MarkedDownRetry)
        for i in range(len(o.statuses) - 1, -1, -1):
            s = o.statuses[i]
            if s.member == e.server:
                if s.retry_in is None:
                    o.statuses[i] = StatusSeen(s.member, s.line, s.marked_down, s.retry_now, e.retry_in,
                                               s.reached_max_connections, s.time)
                return
        o.statuses.append(StatusSeen(_intern(e.server), e.line, True, False, e.retry_in, False, e.time))

    def _on_affinity_pick(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, (ev.AffinityServerSet, ev.CloneNextUp))
        att = self._attempt_for(o, e.server, e)
        att.by_affinity = True

    def _on_lb_pick(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, (ev.ServerPicked, ev.ConnectionCount))
        if isinstance(e, ev.ConnectionCount) and not e.is_increment:
            return
        self._attempt_for(o, e.server, e)

    def _on_transport(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.TransportSet)
        att = o.current if o.current is not None else self._attempt_for(o, None, e)
        att.host, att.port = e.host, e.port

    def _on_written(self, o: _Open, e: ev.Event) -> None:
        att = o.current if o.current is not None else self._attempt_for(o, None, e)
        att.written = True

    def _on_failure(self, o: _Open, e: ev.Event) -> None:
        outcome = _OUTCOME_BY_FAILURE[ev.FAILURES[type(e)]]
        self._fail(o, e, outcome)
        if isinstance(e, ev.ConnectFailed) and o.current is not None and o.current.host is None:
            o.current.host = e.host

    def _on_transaction_failed(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.TransactionFailed)
        cur = o.current
        if cur is None or cur.outcome is AttemptOutcome.SERVED or (cur.member not in (None, e.server)):
            cur = _Attempt(member=e.server, line=e.line, time=e.time)
            o.attempts.append(cur)
        cur.member = cur.member or e.server
        cur.host = cur.host or e.host
        if cur.outcome is AttemptOutcome.UNKNOWN:
            cur.outcome, cur.outcome_line = AttemptOutcome.STREAM_FAILED, e.line
        o.retry_pending = e.will_retry

    def _on_mark_down(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.MarkedDown)
        o.mark_downs.append((_intern(e.server), e.line))
        cur = o.current
        if cur is not None and cur.member is None and cur.outcome.failed:
            cur.member = e.server

    def _on_response(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.ResponseStatus)
        if e.status < 200:
            return  # `100 Continue` is not the answer
        att = o.current
        if att is None or att.outcome.failed:
            # a response after a failed attempt with no pick logged in between: the member is not known
            att = _Attempt(member=None, line=e.line, time=e.time)
            o.attempts.append(att)
        att.status = e.status
        if e.status >= 500:
            att.outcome, att.outcome_line = AttemptOutcome.ERROR_STATUS, e.line
        else:
            att.outcome, att.outcome_line = AttemptOutcome.SERVED, e.line
        o.status, o.status_line = e.status, e.line

    def _on_set_cookie(self, o: _Open, e: ev.Event) -> None:
        assert isinstance(e, ev.SetCookieHeader)
        if e.name.upper() in self._cookie_names:
            o.set_cookie = self._session_cookie(e.value)
            o.set_cookie_line = e.line

    def _on_no_member(self, o: _Open, e: ev.Event) -> None:
        if o.no_member_line is None:
            o.no_member_line = e.line


_HANDLERS: dict[type[ev.Event], Callable[[RequestAssembler, _Open, ev.Event], None]] = {
    ev.RouteLookup: RequestAssembler._on_route,
    ev.RequestInfo: RequestAssembler._on_info,
    ev.HttpRequestLine: RequestAssembler._on_request_line,
    ev.AffinityCheck: RequestAssembler._on_affinity_check,
    ev.CookieValue: RequestAssembler._on_cookie_value,
    ev.UrlSessionParse: RequestAssembler._on_url_session,
    ev.CookieHeader: RequestAssembler._on_cookie_header,
    ev.CloneCompare: RequestAssembler._on_compare,
    ev.CloneMatch: RequestAssembler._on_match,
    ev.StatusCheck: RequestAssembler._on_status,
    ev.MarkedDownRetry: RequestAssembler._on_retry_in,
    ev.AffinityServerSet: RequestAssembler._on_affinity_pick,
    ev.CloneNextUp: RequestAssembler._on_affinity_pick,
    ev.ServerPicked: RequestAssembler._on_lb_pick,
    ev.ConnectionCount: RequestAssembler._on_lb_pick,
    ev.TransportSet: RequestAssembler._on_transport,
    ev.RequestWritten: RequestAssembler._on_written,
    **dict.fromkeys(ev.FAILURES, RequestAssembler._on_failure),
    ev.TransactionFailed: RequestAssembler._on_transaction_failed,
    ev.MarkedDown: RequestAssembler._on_mark_down,
    ev.ResponseStatus: RequestAssembler._on_response,
    ev.SetCookieHeader: RequestAssembler._on_set_cookie,
    ev.NoAppServer: RequestAssembler._on_no_member,
    ev.NoServer: RequestAssembler._on_no_member,
}


# NOTE: one look-up per event in feed(): per class, the kind of begin line it is (None: not one) and
# its handler; a class not here only extends its thread's open request
_DISPATCH: dict[type[ev.Event], tuple[int | None, Callable[[RequestAssembler, _Open, ev.Event], None] | None]] = {
    cls: (_BEGIN_KIND.get(cls), _HANDLERS.get(cls)) for cls in (*_BEGIN_KIND, *_HANDLERS)}
_ONLY_EXTENDS: tuple[None, None] = (None, None)

#: The event kinds the assembler reads in every record; the kinds in MAY_OPEN only matter when
#: their thread has no open request (they open one cut by the log's start): the pipeline builds them
#: only then (see :meth:`RequestAssembler.is_open`).
READS: frozenset[type[ev.Event]] = frozenset(_HANDLERS) | frozenset(_BEGIN_KIND) | {ev.PluginsLoaded, ev.RequestEnd}
MAY_OPEN: frozenset[type[ev.Event]] = _OPENS_CUT_REQUEST - READS


def sort_requests(requests: list[Request], files: Iterable[str] = ()) -> list[Request]:
    """Input order: by file (in the order given, else by name), then first line."""
    order = {name: i for i, name in enumerate(files)}
    return sorted(requests, key=lambda r: (order.get(r.file, len(order)), r.file, r.first_line, r.pid, r.tid or ""))
