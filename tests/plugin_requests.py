"""Whole requests as the plug-in writes them, for tests: every begin, affinity, routing and end line.

Message texts are those of real traces (sample_logs/README.md, tests/traces/README.md, plugin-facts.md
§1.5, §2): the begin lines a plug-in version writes (``BEGIN_LINES``), then the 5.1 trace's affinity
lines, the pick, the transport, the request and response headers and ``Ending the request``. Only
the begin lines vary between plug-in versions and log levels; which of them a request writes, and in
which order, is the caller's choice, so that tests can cover every subset. Session IDs, hosts and
URIs are made up.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

M1, C1, H1 = "was1node_PluginMember1", "v544d031", "app1.itso.ibm.com"
M2, C2, H2 = "was2Node_PluginMember2", "v544d0o0", "app2.itso.ibm.com"
MEMBERS = ((M1, C1, H1), (M2, C2, H2))
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Begin(str, enum.Enum):
    """The begin lines of a request (plugin-facts §1.5)."""

    ROUTE = "route"  # websphereShouldHandleRequest: trying to match a route for: ...
    HANDLING = "handling"  # Handling WebSphere request (TRACE/DEBUG)
    INFO = "info"  # the DETAIL `Request is:` line
    ENTER = "enter"  # websphereWriteRequestReadResponse: Enter (TRACE)


#: The begin lines each log level writes, in the order a Trace-level request writes them.
TRACE = (Begin.ROUTE, Begin.HANDLING, Begin.INFO, Begin.ENTER)
DEBUG = (Begin.ROUTE, Begin.HANDLING, Begin.INFO)
DETAIL = (Begin.INFO,)


class Shape(str, enum.Enum):
    KEPT = "kept"  # an affinity request served by its member
    NEW = "new"  # no cookie: load balanced, the member creates a session
    FAILOVER = "failover"  # its member refuses the connection: marked down, retried on the other one
    NO_MEMBER = "no_member"  # no cookie and every member down: an error to the client


def begin_line(kind: Begin, uri: str, level: str, newer: bool) -> str:
    """One begin line; ``newer``: the 8.5-era function names (``websphereHandleRequest: Request is:``)."""
    if kind is Begin.ROUTE:
        return (f"{level}: ws_common: websphereShouldHandleRequest: trying to match a route for: "
                f"vhost='www.example.com'; uri='{uri}'")
    if kind is Begin.HANDLING:
        function = "websphereHandleRequest" if newer else "ws_handle_request"
        component = "ws_common" if newer else "mod_was_ap22_http"
        return f"{level}: {component}: {function}: Handling WebSphere request"
    if kind is Begin.INFO:
        function = "websphereHandleRequest" if newer else "websphereBeginRequest"
        return (f"DETAIL: ws_common: {function}: Request is: host='www.example.com', uri='{uri}', "
                "protocol='HTTP/1.1'")
    return "TRACE: ws_common: websphereWriteRequestReadResponse: Enter"


def _affinity(cookie: str, clone: str) -> list[str]:
    """From the cookie read to the clone's match: the 5.1 trace's lines (sample lines 15-23)."""
    lines = [
        "TRACE: lib_htrequest: htrequestGetCookieValue: Looking for cookie: 'JSESSIONID'",
        f"TRACE: lib_htrequest: htrequestGetCookieValue: name='JSESSIONID', value='{cookie}'",
        f"TRACE: ws_common: websphereParseCloneID: Parsing clone ids from '{cookie}'",
        f"TRACE: ws_common: websphereParseCloneID: Adding clone id '{clone}'",
        "TRACE: ws_common: websphereParseCloneID: Returning list of clone ids",
        "TRACE: ws_server_group: serverGroupFindClone: Looking for clone",
        "TRACE: ws_server_group: serverGroupGetFirstPrimaryServer: getting the first primary server",
    ]
    for member, member_clone, _ in MEMBERS:
        lines.append("TRACE: ws_server_group: serverGroupFindClone: "
                     f"Comparing curCloneID '{clone}' to server clone id '{member_clone}'")
        if member_clone == clone:
            lines.append(f"TRACE: ws_server_group: serverGroupFindClone: Match for clone '{member}'")
            break
        lines.append("TRACE: ws_server_group: serverGroupGetNextPrimaryServer: getting the next primary server")
    return lines


def _status(member: str, down: bool) -> str:
    return ("STATS: ws_server_group: serverGroupCheckServerStatus: Checking status of "
            f"{member}, ignoreWeights 1, markedDown {int(down)}, retryNow 0, wlbAllows 0 reachedMaxConnectionsLimit 0")


def _served(member: str, host: str, uri: str, cookie: str | None, set_cookie: str | None) -> list[str]:
    """From the transport to the response (sample lines 30-39)."""
    lines = [
        "TRACE: ws_common: websphereFindTransport: Finding the transport",
        f"DETAIL: ws_common: websphereFindTransport: Setting the transport(case 0): {host} on port 9080",
        "TRACE: ws_transport: transportStreamDequeue: Checking for existing stream from the queue",
        "TRACE: lib_htrequest: htrequestWrite: Writing the request:",
        f"TRACE:    GET {uri} HTTP/1.1",
        "TRACE:    Host: www.example.com",
    ]
    if cookie is not None:
        lines.append(f"TRACE:    Cookie: JSESSIONID={cookie}")
    lines += [
        "TRACE: ws_common: websphereExecute: Wrote the request; reading the response",
        "TRACE: lib_htresponse: htresponseRead: Reading the response: b2c384",
        "TRACE:    HTTP/1.1 200 OK",
        "TRACE:    Server: WAS/5.1",
    ]
    if set_cookie is not None:
        lines += ["TRACE:    Cache-Control: no-cache", f"TRACE:    Set-Cookie: JSESSIONID={set_cookie};Path=/"]
    return lines


@dataclass(frozen=True)
class Written:
    """One request as written: its thread, its record bodies (``LEVEL: ...``), and what it did."""

    pid: str
    tid: str
    bodies: tuple[str, ...]
    shape: Shape
    begins: tuple[Begin, ...]
    served_by: str | None
    cookie: str | None
    uri: str


def request(pid: str, tid: str, begins: Sequence[Begin], shape: Shape, session: str, uri: str,
            newer: bool = True, handling_level: str = "TRACE") -> Written:
    """One whole request of ``shape`` with the begin lines ``begins``, in that order.

    ``session``: 23 characters; an affinity request carries ``0001{session}:{member1's clone}``.
    """
    levels = {Begin.ROUTE: handling_level, Begin.HANDLING: handling_level}
    out = [begin_line(b, uri, levels.get(b, "TRACE"), newer) for b in begins]
    out += ["TRACE: ws_common: websphereHandleSessionAffinity: Checking for session affinity",
            "TRACE: ws_common: websphereHandleSessionAffinity: Checking the cookie affinity: JSESSIONID"]
    served: str | None
    cookie: str | None = None
    if shape in (Shape.NEW, Shape.NO_MEMBER):
        out += ["TRACE: lib_htrequest: htrequestGetCookieValue: Looking for cookie: 'JSESSIONID'",
                "TRACE: lib_htrequest: htrequestGetCookieValue: No cookie found for: 'JSESSIONID'",
                "TRACE: ws_server_group: serverGroupNextRoundRobinServer: Round Robin load balancing"]
        if shape is Shape.NO_MEMBER:
            out += [_status(M1, True), f"TRACE: ws_server_group: serverGroupCheckServerStatus: Server {M1} is "
                    "marked down; retry in 42", _status(M2, True),
                    f"TRACE: ws_server_group: serverGroupCheckServerStatus: Server {M2} is marked down; retry in 17",
                    "ERROR: ws_server_group: serverGroupNextRoundRobinServer: Failed to find a server; "
                    "all could be down",
                    "ERROR: ws_common: websphereWriteRequestReadResponse: Failed to find an app server to handle "
                    "this request",
                    "ERROR: ws_common: websphereHandleRequest: Failed to handle request"]
            served = None
        else:
            out += [_status(M2, False), f"TRACE: ws_server_group: lockedServerGroupUseServer: Server {M2} picked, "
                    "weight 1.", f"TRACE: ws_server_group: serverGroupIncrementConnectionCount: Server {M2} picked, "
                    "pendingConnectionCount 1 totalConnectionsCount 1."]
            out += _served(M2, H2, uri, None, f"0000{session}:{C2}")
            served = M2
    else:
        cookie = f"0001{session}:{C1}"
        out += _affinity(cookie, C1)
        out += ["TRACE: ws_server: serverHasReachedMaxConnections: currentConnectionsCount 0, maxConnectionsCount -1.",
                _status(M1, False),
                f"TRACE: ws_server_group: serverGroupIncrementConnectionCount: Server {M1} picked, "
                "pendingConnectionCount 1 totalConnectionsCount 1.",
                f"TRACE: ws_server_group: serverGroupFindClone: Returning next up server {M1}",
                f"TRACE: ws_common: websphereHandleSessionAffinity: Setting server to {M1}"]
        if shape is Shape.KEPT:
            out += _served(M1, H1, uri, cookie, None)
            served = M1
        else:
            # sample lines 58-100: refused, marked down, and the affinity pass again without a new `Enter`
            out += ["TRACE: ws_common: websphereFindTransport: Finding the transport",
                    "TRACE: ws_transport: transportStreamDequeue: Checking for existing stream from the queue",
                    "ERROR: ws_common: websphereGetStream: Failed to connect to app server on host "
                    f"'{H1}', OS err=10061",
                    "ERROR: ws_common: websphereExecute: Failed to create the stream",
                    f"ERROR: ws_server: serverSetFailoverStatus: Marking {M1} down",
                    f"STATS: ws_server: serverSetFailoverStatus: Server {M1} : pendingConnections 0 "
                    "failedConnections 1 affinityConnections 1 totalConnections 1.",
                    f"ERROR: ws_common: websphereHandleRequest: Failed to execute the transaction to '{M1}'on host "
                    f"'{H1}'; will try another one"]
            out += _affinity(cookie, C1)
            out += [_status(M1, True),
                    f"TRACE: ws_server_group: serverGroupCheckServerStatus: Server {M1} is marked down; retry in 60",
                    "TRACE: ws_server_group: serverGroupGetNextUpPrimaryServer: Getting the next up primary server",
                    _status(M2, False),
                    f"TRACE: ws_server_group: serverGroupIncrementConnectionCount: Server {M2} picked, "
                    "pendingConnectionCount 1 totalConnectionsCount 1.",
                    f"TRACE: ws_server_group: serverGroupFindClone: Returning next up server {M2}",
                    f"TRACE: ws_common: websphereHandleSessionAffinity: Setting server to {M2}"]
            out += _served(M2, H2, uri, cookie, f"0002{session}:{C1}:{C2}")
            served = M2
    out.append("TRACE: ws_common: websphereEndRequest: Ending the request")
    return Written(pid, tid, tuple(out), shape, tuple(begins), served, cookie, uri)


def header(t: datetime, pid: str, tid: str, clf: bool) -> str:
    """``[Mon Jun 07 10:15:06 2004] pid tid - `` or, 8.5 style, ``[07/Jun/2004:10:15:06.12345] pid tid - ``."""
    if clf:
        return f"[{t.day:02d}/{MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S}.{t.microsecond // 10:05d}] {pid} {tid} - "
    return f"[{DAYS[t.weekday()]} {MONTHS[t.month - 1]} {t.day:02d} {t:%H:%M:%S} {t.year}] {pid} {tid} - "


def interleave(requests: Sequence[Written], rnd: random.Random, clf: bool,
               start: datetime = datetime(2004, 6, 7, 10, 15, 6)) -> tuple[list[str], list[list[int]]]:
    """The requests' lines interleaved between threads, each thread's requests one after another in
    the order given; time moves forward a little with every line.

    Returns the log lines and, per request (in the order given), the line numbers (1-based) of its lines.
    """
    queues: dict[tuple[str, str], list[tuple[int, int]]] = {}  # thread -> (request, body) still to write
    for i, r in enumerate(requests):
        queues.setdefault((r.pid, r.tid), []).extend((i, j) for j in range(len(r.bodies)))
    for q in queues.values():
        q.reverse()
    lines: list[str] = []
    numbers: list[list[int]] = [[] for _ in requests]
    now = start
    while queues:
        thread = rnd.choice(sorted(queues))
        i, j = queues[thread].pop()
        if not queues[thread]:
            del queues[thread]
        now += timedelta(microseconds=rnd.randint(50, 3000))
        lines.append(header(now, *thread, clf=clf) + requests[i].bodies[j])
        numbers[i].append(len(lines))
    return lines, numbers


def config_block(t: datetime, pid: str, tid: str, clf: bool) -> list[str]:
    """The banner and configuration load a process writes first (sample lines 1-11, 8.5 build)."""
    bodies = ["PLUGIN: Plugins loaded.", "PLUGIN: --------------------System Information-----------------------",
              "PLUGIN: Bld version: 8.5.5.20"]
    for member, clone, _ in MEMBERS:
        bodies += ["TRACE: ws_server: serverCreate: Creating the server object",
                   f"TRACE: ws_server: serverSetName: Setting name {member}",
                   f"TRACE: ws_server: serverSetCloneID: Setting clone id {clone}"]
    bodies += [f"TRACE: ws_server_group: serverGroupAddPrimaryServerName: adding {m} to primary server list"
               for m, _, _ in MEMBERS]
    return [header(t + timedelta(microseconds=37 * i), pid, tid, clf) + b for i, b in enumerate(bodies)]


def begin_lines_requests() -> list[Written]:
    """The eight requests of tests/traces/begin-lines.log (README §10), per thread in this order."""
    a, b = "00001a2c", "00001b40"
    return [
        request(a, "00000e78", TRACE, Shape.KEPT, "IWuUT_zhR-gFYB-pOAk75Q5", "/shop/cart"),
        request(a, "00000f10", DEBUG, Shape.KEPT, "Bn6mVc3Xz_Lk2-Jh5Gf8DsA", "/shop/list", handling_level="DEBUG"),
        request(a, "00001004", DETAIL, Shape.KEPT, "Qr7tYu2Io_Pa9-Sd4Fg6HjK", "/shop/item"),
        request(b, "00000c20", TRACE, Shape.KEPT, "Zx1cVb5Nm_Lk8-Jh3Gf2DsQ", "/shop/cart", newer=False),
        request(a, "00000e78", DETAIL, Shape.NEW, "Wq2eRt6Yu_Io3-Pa7Sd1FgH", "/shop/home"),
        request(a, "00000f10", TRACE, Shape.NEW, "Mn4bVc8Xz_As2-Df6Gh9JkL", "/shop/home"),
        request(a, "00001004", DEBUG, Shape.NEW, "Po9iUy3Tr_Ew7-Qa1Sd5FgZ", "/shop/home", handling_level="DEBUG"),
        request(b, "00000c20", TRACE, Shape.FAILOVER, "Zx1cVb5Nm_Lk8-Jh3Gf2DsQ", "/shop/checkout"),
    ]


def begin_lines_trace(clf: bool) -> str:
    """The text of tests/traces/begin-lines.log (asctime headers) or begin-lines-85.log (``clf``)."""
    t0 = datetime(2004, 6, 7, 10, 15, 1, 12345)
    head = (config_block(t0, "00001a2c", "00000e78", clf)
            + config_block(t0 + timedelta(milliseconds=5), "00001b40", "00000c20", clf))
    lines, _ = interleave(begin_lines_requests(), random.Random(14), clf)
    return "\n".join(head + lines) + "\n"
