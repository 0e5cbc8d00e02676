"""Parse stage: the typed events of the WebLogic proxy plug-in's log (``grammars/weblogic_log.lark``).

The same :class:`~tracelens.parse.events.Event` base as the WebSphere events, so that every face that
lists records (``parse``, ``export --table events``) shows them alike: ``pid`` is the web-server
process where the line names one (the error-log form), ``tid`` the 16-digit request id of the 1.1
plug-in's lines (facts §2), ``component`` is ``wlproxy``. Kinds start with ``wl_`` so that they never
meet a WebSphere kind. Lines the grammar recognises but does not type are the shared
:class:`~tracelens.parse.events.Message`; lines it cannot read, :class:`~tracelens.parse.events.Unparsed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tracelens.parse.events import Event

COMPONENT = "wlproxy"


@dataclass(frozen=True, slots=True)
class WlNewRequest(Event):
    """``================New Request: [GET / HTTP/1.1] =================``: a request begins."""

    kind: ClassVar[str] = "wl_new_request"
    method: str | None
    uri: str | None
    protocol: str | None


@dataclass(frozen=True, slots=True)
class WlRequestString(Event):
    """``The request string is '/index.jsp'``: the URI after PathTrim, DefaultFileName, PathPrepend."""

    kind: ClassVar[str] = "wl_request_string"
    uri: str


@dataclass(frozen=True, slots=True)
class WlCookieJvmids(Event):
    """``getpreferredServersFromCookie: <primary>!<secondary>`` (or ``[<jvmid>]``): the cookie's JVMIDs."""

    kind: ClassVar[str] = "wl_cookie_jvmids"
    primary: str | None
    secondary: str | None


@dataclass(frozen=True, slots=True)
class WlJvmidPair(Event):
    """``primaryJVMID: [<n>]`` with its continuation ``secondaryJVMID: [<n>]`` (either may be empty)."""

    kind: ClassVar[str] = "wl_jvmid_pair"
    primary: str | None
    secondary: str | None


@dataclass(frozen=True, slots=True)
class WlPrimaryJvmid(Event):
    """``GET Primary JVMID1: <n>``."""

    kind: ClassVar[str] = "wl_primary_jvmid"
    jvmid: str


@dataclass(frozen=True, slots=True)
class WlSecondaryJvmid(Event):
    """``GET Secondary JVMID2: <n>`` (and ``secondary str: <n>``, the same value as the plug-in compares it)."""

    kind: ClassVar[str] = "wl_secondary_jvmid"
    jvmid: str


@dataclass(frozen=True, slots=True)
class WlJvmidCount(Event):
    """``No of JVMIDs found in cookie: <N>``."""

    kind: ClassVar[str] = "wl_jvmid_count"
    count: int


@dataclass(frozen=True, slots=True)
class WlStartPosition(Event):
    """``getPreferredFromCookie: Start Position is <N>, listLen is <M>``."""

    kind: ClassVar[str] = "wl_start_position"
    start_position: int
    list_length: int


@dataclass(frozen=True, slots=True)
class WlJvmidsStale(Event):
    """``Either JVMIDs not set or they are stale. Will try to get JVMIDs from WLS``: affinity is about to be lost."""

    kind: ClassVar[str] = "wl_jvmids_stale"


@dataclass(frozen=True, slots=True)
class WlIterating(Event):
    """``initJVMID: Iterating SrvrList from position <N>``: the list is walked, not the cookie followed."""

    kind: ClassVar[str] = "wl_iterating"
    start_position: int


@dataclass(frozen=True, slots=True)
class WlFoundServer(Event):
    """``[Found Primary]: host:port:sslport`` or ``[Found Secondary]: ...``: a cookie JVMID resolved."""

    kind: ClassVar[str] = "wl_found_server"
    role: str  # "primary" or "secondary"
    host: str
    port: int
    ssl_port: int | None  # 65535 where no SSL port is set

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class WlListJvmid(Event):
    """``list[<i>].jvmid: <n>``: the JVMID of the i-th server of the plug-in's list."""

    kind: ClassVar[str] = "wl_list_jvmid"
    index: int
    jvmid: str


@dataclass(frozen=True, slots=True)
class WlServersFound(Event):
    """``Found <N> servers``."""

    kind: ClassVar[str] = "wl_servers_found"
    count: int


@dataclass(frozen=True, slots=True)
class WlTrying(Event):
    """[U] ``Trying GET /x at backend host 'h; port 7001; using SSL 'no'``: a connect attempt."""

    kind: ClassVar[str] = "wl_trying"
    method: str
    uri: str
    host: str
    port: int
    ssl: bool

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class WlConnected(Event):
    """[U] ``Connected to host:port``."""

    kind: ClassVar[str] = "wl_connected"
    server: str


@dataclass(frozen=True, slots=True)
class WlConnectFailed(Event):
    """[U] ``Connect returns -1, and error no set to 111, msg 'Connection refused'``."""

    kind: ClassVar[str] = "wl_connect_failed"
    errno: int
    text: str


@dataclass(frozen=True, slots=True)
class WlMarkedBad(Event):
    """[U] ``Marking host:port as bad``: skipped until ``MaxSkipTime`` has passed (facts §4.5)."""

    kind: ClassVar[str] = "wl_marked_bad"
    server: str


@dataclass(frozen=True, slots=True)
class WlFailingOver(Event):
    """[U] ``Failing over after CONNECTION_REFUSED exception in sendRequest()``."""

    kind: ClassVar[str] = "wl_failing_over"
    reason: str


@dataclass(frozen=True, slots=True)
class WlNoBackend(Event):
    """[U] ``No backend server available for connection: timed out after 10 seconds ...``: the 503."""

    kind: ClassVar[str] = "wl_no_backend"
    seconds: int


@dataclass(frozen=True, slots=True)
class WlRequestDone(Event):
    """[U] ``request [/x] processed successfully`` or ``... did NOT process successfully``."""

    kind: ClassVar[str] = "wl_request_done"
    uri: str | None
    ok: bool


@dataclass(frozen=True, slots=True)
class WlHeader(Event):
    """[U] ``Hdrs from clnt:[Cookie]=[...]``: a header as ``Debug`` HFC/HTW/HFW/HTC logs it."""

    kind: ClassVar[str] = "wl_header"
    direction: str  # "from clnt", "to WLS", "from WLS", "to clnt"
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class WlStatus(Event):
    """[U] ``Hdrs from WLS:[HTTP/1.1 200 OK]``: the status line of WebLogic's response."""

    kind: ClassVar[str] = "wl_status"
    status: int
    reason: str


#: every WebLogic event class, in the order the grammar lists them
KINDS: tuple[type[Event], ...] = (
    WlNewRequest, WlRequestString, WlCookieJvmids, WlJvmidPair, WlPrimaryJvmid, WlSecondaryJvmid, WlJvmidCount,
    WlStartPosition, WlJvmidsStale, WlIterating, WlFoundServer, WlListJvmid, WlServersFound, WlTrying, WlConnected,
    WlConnectFailed, WlMarkedBad, WlFailingOver, WlNoBackend, WlRequestDone, WlHeader, WlStatus,
)
