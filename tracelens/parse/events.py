"""Parse stage: the typed events that one plug-in log record becomes.

One frozen, slotted dataclass per message kind. Every event carries where it came from (file, line),
when (time, ``None`` for header-less excerpts), who wrote it (pid, tid: the web-server process and
thread, as written in the log) and the level word. Located records (``component: function: message``)
also keep their component and function, because the same message text can come from two functions
(``serverGroupIncrementConnectionCount`` and ``...Decrement...``).

The grammar (``grammars/plugin_log.lark``) decides which kind a line is; this module only names the
kinds and their fields. ``kind`` is the stable name used in JSON output.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar, TypeVar, cast


class Level(str, enum.Enum):
    """The level word after the header (§1.2)."""

    TRACE = "TRACE"
    STATS = "STATS"
    ERROR = "ERROR"
    WARNING = "WARNING"
    WARN = "WARN"
    DEBUG = "DEBUG"
    DETAIL = "DETAIL"
    PLUGIN = "PLUGIN"


class AffinitySource(str, enum.Enum):
    """Where the plug-in looked for the session identifier, in the order it looks (§2.1)."""

    SSL = "ssl"
    COOKIE = "cookie"
    URL = "url"


class ServerList(str, enum.Enum):
    """Which server list of a cluster a walk or an addition concerns."""

    PRIMARY = "primary"
    BACKUP = "backup"
    ALL = "all"


class WalkPosition(str, enum.Enum):
    FIRST = "first"
    NEXT = "next"
    NEXT_UP = "next_up"


class StatsKeys(str, enum.Enum):
    """The two key sets of the STATS summary: 7.0+ ``...Requests``, 5.1/6.x ``...Connections`` (§2.4)."""

    REQUESTS = "requests"
    CONNECTIONS = "connections"


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Event:
    """Fields every record has. Not instantiated itself."""

    kind: ClassVar[str] = "event"

    file: str
    line: int
    time: datetime | None
    pid: str | None
    tid: str | None
    level: Level | None
    component: str | None
    function: str | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping: ``kind`` first, then the common fields, then the event's own."""
        cls = type(self)
        names = _FIELD_NAMES.get(cls)
        if names is None:
            names = tuple(f.name for f in fields(cls))
            _FIELD_NAMES[cls] = names
        out: dict[str, Any] = {"kind": cls.kind}
        for name in names:
            out[name] = _jsonable(getattr(self, name))
        return out


# ---------------------------------------------------------------- generic and damaged records


@dataclass(frozen=True, slots=True)
class Message(Event):
    """A record the grammar recognises (header, level, body) with no typed event for its text."""

    kind: ClassVar[str] = "message"
    text: str


@dataclass(frozen=True, slots=True)
class Unparsed(Event):
    """A record that does not follow the grammar; ``reason`` says where it broke."""

    kind: ClassVar[str] = "unparsed"
    reason: str
    text: str


# ---------------------------------------------------------------- start-up banner and configuration


@dataclass(frozen=True, slots=True)
class PluginsLoaded(Event):
    """``PLUGIN: Plugins loaded.``: the plug-in (re)started in this process."""

    kind: ClassVar[str] = "plugins_loaded"


@dataclass(frozen=True, slots=True)
class BannerField(Event):
    """``PLUGIN: Bld version: 5.1.``: one key of the start-up banner."""

    kind: ClassVar[str] = "banner_field"
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class BannerLine(Event):
    kind: ClassVar[str] = "banner_line"
    text: str


@dataclass(frozen=True, slots=True)
class ServerCreate(Event):
    """``Creating the server object``: configuration load, a member is about to be named."""

    kind: ClassVar[str] = "server_create"


@dataclass(frozen=True, slots=True)
class ServerName(Event):
    kind: ClassVar[str] = "server_name"
    server: str


@dataclass(frozen=True, slots=True)
class ServerCloneId(Event):
    """``Setting clone id v544d031``: the clone ID of the member named just before."""

    kind: ClassVar[str] = "server_clone_id"
    clone_id: str


@dataclass(frozen=True, slots=True)
class ServerListAdd(Event):
    """``adding X to primary server list`` (RB51 Example 9-2)."""

    kind: ClassVar[str] = "server_list_add"
    server: str
    server_list: ServerList


@dataclass(frozen=True, slots=True)
class ConfigReloaded(Event):
    kind: ClassVar[str] = "config_reloaded"
    detail: str | None


@dataclass(frozen=True, slots=True)
class ConfigError(Event):
    kind: ClassVar[str] = "config_error"
    text: str


# ---------------------------------------------------------------- request life cycle


@dataclass(frozen=True, slots=True)
class FunctionEnter(Event):
    """``websphereWriteRequestReadResponse: Enter``: the 5.x start of a request's routing."""

    kind: ClassVar[str] = "function_enter"


@dataclass(frozen=True, slots=True)
class FunctionExit(Event):
    kind: ClassVar[str] = "function_exit"
    detail: str | None


@dataclass(frozen=True, slots=True)
class RequestHandling(Event):
    kind: ClassVar[str] = "request_handling"


@dataclass(frozen=True, slots=True)
class RouteLookup(Event):
    """``trying to match a route for: vhost='...'; uri='...'``."""

    kind: ClassVar[str] = "route_lookup"
    vhost: str
    uri: str


@dataclass(frozen=True, slots=True)
class RequestInfo(Event):
    """``Request is: key='value'; ...``; ``fields`` keeps every pair in order."""

    kind: ClassVar[str] = "request_info"
    fields: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str | None:
        for k, v in self.fields:
            if k == key:
                return v
        return None


@dataclass(frozen=True, slots=True)
class RequestEnd(Event):
    kind: ClassVar[str] = "request_end"


@dataclass(frozen=True, slots=True)
class RequestFailed(Event):
    """``Failed to handle request``."""

    kind: ClassVar[str] = "request_failed"


@dataclass(frozen=True, slots=True)
class RequestWriting(Event):
    kind: ClassVar[str] = "request_writing"


@dataclass(frozen=True, slots=True)
class RequestContent(Event):
    kind: ClassVar[str] = "request_content"
    length: int


@dataclass(frozen=True, slots=True)
class RequestWritten(Event):
    """``Wrote the request; reading the response``: the member accepted the request."""

    kind: ClassVar[str] = "request_written"


@dataclass(frozen=True, slots=True)
class ResponseReading(Event):
    kind: ClassVar[str] = "response_reading"
    detail: str | None


# ---------------------------------------------------------------- session affinity


@dataclass(frozen=True, slots=True)
class AffinityStart(Event):
    kind: ClassVar[str] = "affinity_start"


@dataclass(frozen=True, slots=True)
class AffinityCheck(Event):
    """``Checking the SSL session id`` / ``the cookie affinity: NAME`` / ``the url rewrite affinity: NAME``."""

    kind: ClassVar[str] = "affinity_check"
    source: AffinitySource
    name: str | None


@dataclass(frozen=True, slots=True)
class CookieLookup(Event):
    kind: ClassVar[str] = "cookie_lookup"
    name: str


@dataclass(frozen=True, slots=True)
class CookieNotFound(Event):
    kind: ClassVar[str] = "cookie_not_found"
    name: str


@dataclass(frozen=True, slots=True)
class CookieValue(Event):
    """``name='JSESSIONID', value='0001...:v544d031'``: the affinity cookie as the plug-in read it."""

    kind: ClassVar[str] = "cookie_value"
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class UrlSessionParse(Event):
    kind: ClassVar[str] = "url_session_parse"
    uri: str


@dataclass(frozen=True, slots=True)
class UrlSessionNotFound(Event):
    kind: ClassVar[str] = "url_session_not_found"


@dataclass(frozen=True, slots=True)
class CloneIdsParse(Event):
    kind: ClassVar[str] = "clone_ids_parse"
    value: str


@dataclass(frozen=True, slots=True)
class CloneIdAdded(Event):
    kind: ClassVar[str] = "clone_id_added"
    clone_id: str


@dataclass(frozen=True, slots=True)
class CloneIdsReturned(Event):
    kind: ClassVar[str] = "clone_ids_returned"


@dataclass(frozen=True, slots=True)
class CloneLookup(Event):
    kind: ClassVar[str] = "clone_lookup"


@dataclass(frozen=True, slots=True)
class CloneCompare(Event):
    """``Comparing curCloneID 'a' to server clone id 'b'``: a is from the cookie, b from a member."""

    kind: ClassVar[str] = "clone_compare"
    cookie_clone_id: str
    server_clone_id: str


@dataclass(frozen=True, slots=True)
class CloneMatch(Event):
    kind: ClassVar[str] = "clone_match"
    server: str


@dataclass(frozen=True, slots=True)
class CloneNextUp(Event):
    """``Returning next up server X``: the affinity search settled on X."""

    kind: ClassVar[str] = "clone_next_up"
    server: str


@dataclass(frozen=True, slots=True)
class AffinityServerSet(Event):
    """``Setting server to X``: the request is routed to X by affinity."""

    kind: ClassVar[str] = "affinity_server_set"
    server: str


@dataclass(frozen=True, slots=True)
class ServerListWalk(Event):
    """``getting the first primary server`` and its siblings."""

    kind: ClassVar[str] = "server_list_walk"
    position: WalkPosition
    server_list: ServerList


# ---------------------------------------------------------------- server status


@dataclass(frozen=True, slots=True)
class StatusCheck(Event):
    """``Checking status of X, ignoreWeights 1, markedDown 0, retryNow 0[, retryInSec N|--], wlbAllows 0``
    ``[ reachedMaxConnectionsLimit 0]``.

    ``retry_in_sec`` is ``None`` where the log writes ``--`` or (5.1) leaves it out;
    ``reached_max_connections`` is ``None`` where the log leaves it out.
    """

    kind: ClassVar[str] = "status_check"
    server: str
    ignore_weights: int
    marked_down: int
    retry_now: int
    retry_in_sec: int | None
    wlb_allows: int
    reached_max_connections: int | None


@dataclass(frozen=True, slots=True)
class MarkedDownRetry(Event):
    """``Server X is marked down; retry in N``."""

    kind: ClassVar[str] = "marked_down_retry"
    server: str
    retry_in: int


@dataclass(frozen=True, slots=True)
class RetryDue(Event):
    """``Time to retry server X``."""

    kind: ClassVar[str] = "retry_due"
    server: str


@dataclass(frozen=True, slots=True)
class MaxConnectionsCheck(Event):
    kind: ClassVar[str] = "max_connections_check"
    current: int
    maximum: int


@dataclass(frozen=True, slots=True)
class MaxConnectionsReached(Event):
    kind: ClassVar[str] = "max_connections_reached"
    server: str


# ---------------------------------------------------------------- picking and weights


@dataclass(frozen=True, slots=True)
class ServerPicked(Event):
    """``lockedServerGroupUseServer: Server X picked, weight N.``"""

    kind: ClassVar[str] = "server_picked"
    server: str
    weight: int


@dataclass(frozen=True, slots=True)
class ConnectionCount(Event):
    """``Server X picked, pendingConnectionCount N totalConnectionsCount N.``

    Written by ``serverGroupIncrementConnectionCount`` when a request is sent to X (and by the
    ``Decrement`` function when it completes): ``function`` tells which.
    """

    kind: ClassVar[str] = "connection_count"
    server: str
    pending: int
    total: int

    @property
    def is_increment(self) -> bool:
        return self.function is None or "Decrement" not in self.function


@dataclass(frozen=True, slots=True)
class LoadBalanceMode(Event):
    kind: ClassVar[str] = "load_balance_mode"
    mode: str


@dataclass(frozen=True, slots=True)
class PrimaryServerCount(Event):
    kind: ClassVar[str] = "primary_server_count"
    count: int


@dataclass(frozen=True, slots=True)
class WeightsCheck(Event):
    """``assureWeightsValid: group NAME``."""

    kind: ClassVar[str] = "weights_check"
    cluster: str


@dataclass(frozen=True, slots=True)
class WeightState(Event):
    """``X: 4 max, 0 cur.`` (weights_need_reset) or ``Server X: 1 max, 1 cur.`` (after a reset)."""

    kind: ClassVar[str] = "weight_state"
    server: str
    max_weight: int
    cur_weight: int


@dataclass(frozen=True, slots=True)
class WeightsReset(Event):
    kind: ClassVar[str] = "weights_reset"


@dataclass(frozen=True, slots=True)
class WeightsFactor(Event):
    kind: ClassVar[str] = "weights_factor"
    factor: int


# ---------------------------------------------------------------- transport and streams


@dataclass(frozen=True, slots=True)
class TransportLookup(Event):
    kind: ClassVar[str] = "transport_lookup"


@dataclass(frozen=True, slots=True)
class TransportSet(Event):
    """``Setting the transport(case 1): host on port 9444``."""

    kind: ClassVar[str] = "transport_set"
    host: str
    port: int
    case: int | None


@dataclass(frozen=True, slots=True)
class ConnectTimeoutSetting(Event):
    kind: ClassVar[str] = "connect_timeout_setting"
    seconds: int


@dataclass(frozen=True, slots=True)
class StreamGet(Event):
    kind: ClassVar[str] = "stream_get"


@dataclass(frozen=True, slots=True)
class StreamDequeue(Event):
    kind: ClassVar[str] = "stream_dequeue"


@dataclass(frozen=True, slots=True)
class StreamCreated(Event):
    kind: ClassVar[str] = "stream_created"
    detail: str | None


@dataclass(frozen=True, slots=True)
class TransactionExecute(Event):
    kind: ClassVar[str] = "transaction_execute"
    detail: str | None


# ---------------------------------------------------------------- failures and mark-downs


@dataclass(frozen=True, slots=True)
class ConnectFailed(Event):
    """``Failed to connect to app server on host 'h', OS err=N`` or ``... 'h' (N): Connect (local port P)``."""

    kind: ClassVar[str] = "connect_failed"
    host: str
    errno: int | None
    local_port: int | None


@dataclass(frozen=True, slots=True)
class ConnectTimeoutFired(Event):
    kind: ClassVar[str] = "connect_timeout_fired"


@dataclass(frozen=True, slots=True)
class ServerIOTimeoutFired(Event):
    """``ServerIOTimeout fired. Time out 60. retry count 0. serverIOTimeoutRetry -1, retry YES, rc 10``."""

    kind: ClassVar[str] = "server_io_timeout_fired"
    timeout: int | None
    retry_count: int | None
    retry_limit: int | None
    retry: bool | None
    rc: int | None


@dataclass(frozen=True, slots=True)
class StreamCreateFailed(Event):
    kind: ClassVar[str] = "stream_create_failed"


@dataclass(frozen=True, slots=True)
class ReadFailed(Event):
    kind: ClassVar[str] = "read_failed"
    detail: str | None


class Failure(str, enum.Enum):
    """What a failure event says went wrong in an attempt to reach a member.

    The one vocabulary of failures: member state (``state.members.DownReason``) and request attempts
    (``requests.assemble.AttemptOutcome``) take the member of the same value, and reports phrase it by
    that value (``state.members.FAILURE_PHRASES``).
    """

    CONNECT_REFUSED = "connect_refused"
    CONNECT_TIMEOUT = "connect_timeout"
    SERVER_IO_TIMEOUT = "server_io_timeout"
    STREAM_FAILED = "stream_failed"  # the stream failed and the log gives no more specific cause


#: The events that report a failed attempt, and what failed: the one table that member state and
#: request assembly both read (a new failure event added here reaches both).
FAILURES: dict[type[Event], Failure] = {
    ConnectFailed: Failure.CONNECT_REFUSED,
    ConnectTimeoutFired: Failure.CONNECT_TIMEOUT,
    ServerIOTimeoutFired: Failure.SERVER_IO_TIMEOUT,
    StreamCreateFailed: Failure.STREAM_FAILED,
    ReadFailed: Failure.STREAM_FAILED,
}


@dataclass(frozen=True, slots=True)
class MarkedDown(Event):
    """``Marking X down``."""

    kind: ClassVar[str] = "marked_down"
    server: str


@dataclass(frozen=True, slots=True)
class MarkedUp(Event):
    kind: ClassVar[str] = "marked_up"
    server: str


@dataclass(frozen=True, slots=True)
class TransactionFailed(Event):
    """``Failed to execute the transaction to 'X'on host 'h'; will try another one``."""

    kind: ClassVar[str] = "transaction_failed"
    server: str
    host: str
    will_retry: bool


@dataclass(frozen=True, slots=True)
class NoServer(Event):
    """``Failed to find a server[; all could be down]``."""

    kind: ClassVar[str] = "no_server"
    all_down: bool


@dataclass(frozen=True, slots=True)
class NoAppServer(Event):
    """``Failed to find an app server to handle this request``: the client gets an error."""

    kind: ClassVar[str] = "no_app_server"


@dataclass(frozen=True, slots=True)
class ServerStats(Event):
    """STATS summary ``Server X : pendingRequests N failedRequests N affinityRequests N totalRequests N.``.

    Counters are cumulative per web-server process (§2.4, §4.6).
    """

    kind: ClassVar[str] = "server_stats"
    server: str
    pending: int
    failed: int
    affinity: int
    total: int
    keys: StatsKeys


# ---------------------------------------------------------------- HTTP lines


@dataclass(frozen=True, slots=True)
class ResponseStatus(Event):
    """``HTTP/1.1 200 OK`` read back from the member."""

    kind: ClassVar[str] = "response_status"
    version: str
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class HttpRequestLine(Event):
    kind: ClassVar[str] = "http_request_line"
    method: str
    target: str
    version: str


@dataclass(frozen=True, slots=True)
class SetCookieHeader(Event):
    """``Set-Cookie: NAME=VALUE;attrs`` in a member's response."""

    kind: ClassVar[str] = "set_cookie_header"
    name: str
    value: str
    attributes: str | None


@dataclass(frozen=True, slots=True)
class CookieHeader(Event):
    """``Cookie: a=1; JSESSIONID=...``: every cookie in order (a name may repeat)."""

    kind: ClassVar[str] = "cookie_header"
    cookies: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class HttpHeader(Event):
    kind: ClassVar[str] = "http_header"
    name: str
    value: str


def event_kinds() -> dict[str, type[Event]]:
    """Every event class by its ``kind``."""
    out: dict[str, type[Event]] = {}
    stack: list[type[Event]] = [Event]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            out[sub.kind] = sub
            stack.append(sub)
    return out


E = TypeVar("E", bound=Event)
T = TypeVar("T")
#: ``make(file, line, time, pid, tid, rest)``: see :func:`constructor`.
Constructor = Callable[[str, int, datetime | None, str | None, str | None, tuple[Any, ...]], Any]


@functools.cache
def constructor(cls: type[E], skip: int = 0) -> Constructor:
    """``make(file, line, time, pid, tid, rest)``, the same event as ``cls(file, line, time, pid, tid, *rest)``,
    where ``rest`` holds ``skip`` values that are not the event's, then the level, component, function
    and the class's own fields, in field order.

    NOTE: for speed. A frozen dataclass's ``__init__`` sets every field through ``object.__setattr__``
    (plain assignment is refused), and keyword arguments cost a dictionary per call: building the events
    of a large log spent a fifth of the analysis there. ``make`` creates the object and fills each slot
    through the slot's own descriptor, with the calls written out once per class (the way ``dataclasses``
    writes ``__init__``). The result is an ordinary instance of ``cls`` with every field set, so
    equality, hash and repr are the dataclass's own (``tests/test_events.py`` checks every class).
    ``skip`` lets a cache keep its own values and the event's in one tuple.
    """
    names = [f.name for f in fields(cls)]
    args = [f"a{i}" for i in range(len(names))]
    unpack = f"    {', '.join(['_'] * skip + args[5:])}, = rest"
    make: Constructor = _fill_slots(cls, f"{', '.join(args[:5])}, rest", unpack)
    return make


@functools.cache
def filler(cls: type[T]) -> Callable[..., T]:
    """``make(field=value, ...)`` (or positionally), the same object as ``cls(...)`` for a frozen, slotted
    dataclass with every field given: what :func:`constructor` does for events, for the other records
    built once per request."""
    names = [f.name for f in fields(cast(Any, cls))]
    make: Callable[..., T] = _fill_slots(cls, ", ".join(names), "", names)
    return make


_WITH_PID: dict[type, Callable[[Any, str], Any]] = {}


def with_pid(event: E, pid: str) -> E:
    """A copy of ``event`` with another pid (the process key of a web server's process)."""
    cls = type(event)
    make = _WITH_PID.get(cls)
    if make is None:
        names = [f.name for f in fields(cast(Any, cls))]
        make = _WITH_PID[cls] = _fill_slots(cls, "_e, _p", "", ["_p" if n == "pid" else f"_e.{n}" for n in names])
    return cast(E, make(event, pid))


def _fill_slots(cls: type[Any], params: str, unpack: str, values: list[str] | None = None) -> Any:
    """``def make(params)``: ``unpack``, then a new ``cls`` with its slots set from ``values`` (by default
    ``a0``, ``a1``...) in field order."""
    names = [f.name for f in fields(cls)]
    values = values or [f"a{i}" for i in range(len(names))]
    env: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = [f"def make({params}):", "    _o = _new(_cls)", unpack]
    for i, name in enumerate(names):
        env[f"_s{i}"] = getattr(cls, name).__set__  # the slot's member descriptor
        lines.append(f"    _s{i}(_o, {values[i]})")
    lines.append("    return _o")
    exec("\n".join(lines), env)  # the source is made above from the class's own field names only
    return env["make"]
