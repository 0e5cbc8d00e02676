"""Routing stage: replay each WebLogic request against the proxy plug-in's documented routing, and judge it.

Theory of operation (facts §4; every rule below must keep holding)
--------------------------------------------------------------------
1. A request without a session cookie is a new session: round robin over the available servers. The
   pointer is not in the log, so any available server is accepted (``new_session``).
2. A request with a cookie goes to its **primary** (``kept``). A cookie whose JVMIDs the plug-in cannot
   map to a server of its list (``Either JVMIDs not set or they are stale``, or a JVMID the log never
   ties to a server while others are known) makes it iterate over the list: affinity is lost
   (``jvmid_stale``), whatever server takes it.
3. The primary is **unavailable** when this request's attempt to it failed, or it was marked bad less
   than ``MaxSkipTime`` before the request began (default 10 s, facts §4.5; a bad server is retried
   after it).
4. Primary unavailable, by the era of the plug-in (``--weblogic-failover``): ``secondary`` (WebLogic
   6.1 to 8.1) expects the cookie's secondary, and only when it too is unavailable (or there is none)
   another server of the list; ``random`` (9.x and later) accepts any available server, which fetches
   the state from the secondary. Going to the secondary is ``secondary_used``; to another server,
   ``failover``. Either way the server that took it becomes the session's primary.
5. A request no server answered (every attempt failed, or the 503 after the connect retries) is
   ``no_member``; one whose log shows no routing decision is ``incomplete``; a choice the model does
   not accept with nothing in the log to explain it is ``unexplained``.

The default era is what the log shows: the ``<16-digit id>`` lines are written by the 1.1 plug-in and
later, which route a failed primary's requests randomly; the ctime-only lines by the 6.x-8.1 plug-ins,
which go to the secondary.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tracelens.requests.assemble import Partial, Request
from tracelens.requests.weblogic import ReplicaHistory, WlDetail
from tracelens.routing.replay import RequestVerdict, Verdict

#: seconds a server marked bad is skipped (``MaxSkipTime``, facts §4.5)
DEFAULT_MAX_SKIP_TIME = 10


class FailoverMode(str, enum.Enum):
    """Where a request goes when its primary is unavailable (``--weblogic-failover``)."""

    SECONDARY = "secondary"  # WebLogic 6.1-8.1 plug-ins: the cookie's secondary
    RANDOM = "random"  # 9.x and later: any available server, which fetches the state from the secondary


@dataclass(frozen=True, slots=True)
class WlSettings:
    """What the WebLogic model is replayed with, and where each value came from."""

    failover: FailoverMode
    failover_source: str  # "option" (--weblogic-failover), "log" (the line shape), "default"
    max_skip_time: int = DEFAULT_MAX_SKIP_TIME
    max_skip_time_source: str = "default"
    cookie_name: str = "JSESSIONID"


@dataclass(frozen=True, slots=True)
class WebLogicView:
    """What the WebLogic part of an analysis adds to the shared report: per request, per session, settings."""

    details: Mapping[int, WlDetail]  # by the request's index in the report's request list
    histories: tuple[ReplicaHistory, ...]
    settings: WlSettings
    servers: Mapping[str, str] = field(default_factory=dict)  # JVMID -> host:port, as the log ties them
    systems: Mapping[str, str] = field(default_factory=dict)  # input -> "websphere" or "weblogic"

    def history(self, session_id: str) -> ReplicaHistory | None:
        return next((h for h in self.histories if h.session_id == session_id), None)


def failover_from_log(details: Sequence[WlDetail]) -> FailoverMode:
    """The era the log's line shape shows: ``<id>`` lines (1.1 plug-in, WebLogic 9.x and later) route randomly."""
    return FailoverMode.RANDOM if any(d.request_id for d in details) else FailoverMode.SECONDARY


def jvmid_servers(details: Sequence[WlDetail]) -> dict[str, str]:
    """Each JVMID the log ties to a server (the first tie wins: a JVMID is new at every restart)."""
    out: dict[str, str] = {}
    for d in details:
        for jvmid, server in d.jvmid_servers:
            out.setdefault(jvmid, server)
    return out


@dataclass(slots=True)
class _Bad:
    """When each server was last marked bad (by a mark or a failed attempt), in log order."""

    since: dict[str, datetime]

    def bad(self, server: str | None, at: datetime | None, skip: int) -> bool:
        if server is None or at is None:
            return False
        when = self.since.get(server)
        return when is not None and timedelta(0) <= at - when < timedelta(seconds=skip)


def replay(requests: Sequence[Request], details: dict[int, WlDetail], settings: WlSettings,
           index_offset: int = 0) -> list[RequestVerdict]:
    """The verdict of every WebLogic request (``details`` by the request's index in ``requests``), in that order."""
    servers = jvmid_servers(list(details.values()))
    known = set(servers.values())
    bad = _Bad({})
    verdicts = []
    for index in sorted(details, key=lambda i: (requests[i].begin is None, requests[i].begin or datetime.min,
                                                 requests[i].file, requests[i].first_line)):
        r, d = requests[index], details[index]
        verdicts.append(_judge(index + index_offset, r, d, servers, known, bad, settings))
        for a in d.attempts:
            if a.failed and a.time is not None:
                bad.since[a.server] = a.time
        for server, _line, time in d.marked_bad:
            if time is not None:
                bad.since[server] = time
    verdicts.sort(key=lambda v: v.index)
    return verdicts


def _judge(index: int, r: Request, d: WlDetail, servers: dict[str, str], known: set[str], bad: _Bad,
           settings: WlSettings) -> RequestVerdict:
    routed = r.served_by
    primary = servers.get(d.primary or "") or d.found_primary if d.primary else None
    secondary = servers.get(d.secondary or "") or d.found_secondary if d.secondary else None
    failed = {a.server for a in d.attempts if a.failed}
    skip = settings.max_skip_time

    def down(server: str | None) -> str | None:
        """Why ``server`` was unavailable to this request, or None."""
        if server is None:
            return None
        if server in failed:
            return "its connect failed"
        if bad.bad(server, r.begin, skip):
            return f"it was marked bad less than MaxSkipTime ({skip} s) before"
        return None

    evidence = tuple(r.locate(line) for line in _lines(r, d))
    failed_attempts = tuple((a.member, a.outcome, a.outcome_line) for a in r.attempts if a.outcome.failed)

    def verdict(v: Verdict, reason: str, expected: tuple[str, ...] = ()) -> RequestVerdict:
        return RequestVerdict(index=index, verdict=v, reason=reason, routed_to=routed, expected=expected,
                              home=primary, previous=None, skipped=(), failed_attempts=failed_attempts,
                              unknown_clones=(), disagreements=(), evidence=evidence, cluster=None)

    if r.no_member_line is not None or (routed is None and r.attempts and all(a.outcome.failed for a in r.attempts)):
        tried = ", ".join(dict.fromkeys(a.server for a in d.attempts)) or "no server"
        return verdict(Verdict.NO_MEMBER, f"no server answered (tried {tried}): the client got an error"
                       + (" (503 after the connect retries)" if r.no_member_line is not None else ""))
    if routed is None:
        cut = " (the log is cut inside it)" if Partial.END_MISSING in r.partial else ""
        return verdict(Verdict.INCOMPLETE, f"the log shows no server taking the request{cut}")
    if not d.has_session_cookie:
        return verdict(Verdict.NEW_SESSION, f"no session cookie: round robin, {routed} took it", tuple(sorted(known)))
    stale = d.stale_line is not None or (primary is None and bool(known))
    if stale:
        why = ("the plug-in could not map the cookie's JVMIDs (stale) and iterated over its server list"
               if d.stale_line is not None else f"the cookie's primary JVMID {d.primary} maps to no server in the log")
        return verdict(Verdict.JVMID_STALE, f"{why}: affinity lost, {routed} took it")
    if routed == primary:
        return verdict(Verdict.KEPT, f"went to its primary {primary}", (primary,) if primary else ())
    why_primary = down(primary)
    if why_primary is None:
        return verdict(Verdict.UNEXPLAINED, f"went to {routed}, not to its primary {primary}, which the log does "
                       "not show unavailable", (primary,) if primary else ())
    if secondary is not None and routed == secondary:
        return verdict(Verdict.SECONDARY_USED, f"its primary {primary} was unavailable ({why_primary}): "
                       f"failed over to its secondary {secondary}", (secondary,))
    why_secondary = down(secondary)
    if settings.failover is FailoverMode.RANDOM:
        return verdict(Verdict.FAILOVER, f"its primary {primary} was unavailable ({why_primary}): failed over to "
                       f"{routed} (random failover, WebLogic 9.x and later), which fetches the state from "
                       f"{'its secondary ' + secondary if secondary else 'no secondary: the cookie names none'}")
    if secondary is None or why_secondary is not None:
        copies = "the cookie names no secondary" if secondary is None else \
            f"its secondary {secondary} too was unavailable ({why_secondary})"
        return verdict(Verdict.FAILOVER, f"its primary {primary} was unavailable ({why_primary}) and {copies}: "
                       f"no copy of the session left, {routed} took it from the list")
    return verdict(Verdict.UNEXPLAINED, f"its primary {primary} was unavailable ({why_primary}), but it went to "
                   f"{routed}, not to its secondary {secondary} (--weblogic-failover secondary)", (secondary,))


def _lines(r: Request, d: WlDetail) -> list[int]:
    lines = {r.first_line, r.last_line}
    for line in (d.logged_jvmids_line, d.found_primary_line, d.found_secondary_line, d.stale_line,
                 d.no_backend_line, d.set_cookie_line, r.cookie_header_line, r.status_line):
        if line is not None:
            lines.add(line)
    for a in d.attempts:
        lines.add(a.line)
        if a.outcome_line is not None:
            lines.add(a.outcome_line)
    return sorted(lines)
