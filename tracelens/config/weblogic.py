"""Config stage: the WebLogic proxy plug-in's settings, read from httpd.conf / mod_wl_ohs.conf or weblogic.conf.

Theory of operation:

- :func:`parse_weblogic_config` is the core: text in, an immutable :class:`WebLogicConfig` out, no I/O.
  Two kinds of file are read: Apache / Oracle HTTP Server directives (``httpd.conf``, ``mod_wl_ohs.conf``)
  and ``Key=Value`` lines (``weblogic.conf``, ``iisproxy.ini``). :func:`detect_kind` tells them apart
  by content, and from plugin-cfg.xml.
- One :class:`WebLogicSettings` per place the plug-in is switched on: each ``<Location>`` or
  ``<LocationMatch>`` with ``SetHandler weblogic-handler`` (named by it), and the server or virtual host
  level when it names servers itself (the ``MatchExpression`` form). A location takes what it does not
  set from its virtual host and then from the server level (``<IfModule>`` blocks are transparent), as
  the Oracle guide's examples rely on: ``WebLogicCluster`` in ``<IfModule mod_weblogic.c>``, then
  ``<Location /x> SetHandler weblogic-handler``.
- Every value carries its :class:`Origin`: the file and line it was read from, or the plug-in's
  documented default (weblogic-facts.md §4). A value the plug-in would not take (``Idempotent maybe``,
  ``MaxSkipTime -3``, ``WebLogicCluster host``) takes the default and leaves a :class:`Problem` with its
  line; a file with no WebLogic directive at all is a :class:`~tracelens.errors.ConfigFileError`.
"""

from __future__ import annotations

import difflib
import enum
import re
from dataclasses import dataclass, field
from typing import Final, Generic, TypeVar

from tracelens.config.plugin_cfg import _display
from tracelens.errors import ConfigFileError

_T = TypeVar("_T")

# defaults of weblogic-facts.md §4.5 and §4.6, and §3 for the cookie name
DEFAULT_MAX_SKIP_TIME: Final = 10
DEFAULT_CONNECT_TIMEOUT_SECS: Final = 10
DEFAULT_CONNECT_RETRY_SECS: Final = 2
DEFAULT_WL_IO_TIMEOUT_SECS: Final = 300
DEFAULT_COOKIE_NAME: Final = "JSESSIONID"
#: facts §1: the values of ``Debug``; several may be combined with commas (``HFC,HTW``)
DEBUG_LEVELS: Final = frozenset({"ON", "OFF", "HFC", "HTW", "HFW", "HTC", "ERR", "ALL"})
_INT_MAX: Final = 2**31 - 1

# NOTE: the plug-in's parameters as the Oracle plug-in guides (12.1.2, 12.2.1.4, 14.1.2) list them,
# lower-cased: Apache matches directive names without regard to case. A directive outside this list in a
# WebLogic block is reported only when it looks like one of these (a typo the plug-in never reads);
# an ordinary Apache directive in a <Location> (Require, Header, ...) is none of our business.
KNOWN_DIRECTIVES: Final = frozenset(name.lower() for name in (
    "WebLogicHost", "WebLogicPort", "WebLogicCluster", "DynamicServerList", "MaxSkipTime", "ConnectTimeoutSecs",
    "ConnectRetrySecs", "WLIOTimeoutSecs", "HungServerRecoverSecs", "WLSocketTimeoutSecs", "Idempotent",
    "WLCookieName", "CookieName", "Debug", "DebugConfigInfo", "WLLogFile", "WLTempDir", "StatPath", "ErrorPage",
    "PathTrim", "PathPrepend", "DefaultFileName", "MaxPostSize", "MatchExpression", "KeepAliveEnabled",
    "KeepAliveSecs", "FileCaching", "QueryFromRequest", "SecureProxy", "TrustedCAFile", "RequireSSLHostMatch",
    "SSLHostMatchOCN", "EnforceBasicConstraints", "WLProxySSL", "WLProxySSLPassThrough", "WLProxyPassThrough",
    "WLDNSRefreshInterval", "WLExcludePathOrMimeType", "WLForwardUriUnparsed", "WLSendHdrSeparately",
    "WLAllowDoubleEscapedURI", "WLMaxWebSocketClients", "WLSSLWallet", "WLLocalIP", "WLServerInitiatedFailover",
    "WLRetryOnTimeout", "WLForwardPath", "WlForwardPath", "FilterPriorityLevel", "RoutingAlgorithm",
    "WeightUpdateInterval", "BackendServerDebug", "WLFlushChunks", "WLCookieName", "WebLogicSSLVersion",
))
_WL_PREFIXES: Final = ("wl", "weblogic")
_HANDLER: Final = "weblogic-handler"
_SCOPES: Final = ("location", "locationmatch", "virtualhost")


class ConfigKind(str, enum.Enum):
    """What kind of file ``--config`` was given; :func:`detect_kind` decides by content."""

    PLUGIN_CFG = "plugin-cfg.xml"
    APACHE = "apache"  # httpd.conf / mod_wl_ohs.conf directives
    KEY_VALUE = "key=value"  # weblogic.conf / iisproxy.ini


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a value came from: a line of the file, or the plug-in's documented default (``line`` None)."""

    file: str
    line: int | None
    directive: str | None = None  # the name as written (``HungServerRecoverSecs`` for the I/O timeout)

    @property
    def is_default(self) -> bool:
        return self.line is None

    def __str__(self) -> str:
        return "default" if self.line is None else f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Setting(Generic[_T]):
    value: _T
    origin: Origin


@dataclass(frozen=True, slots=True)
class Server:
    """One ``host:port`` of the plug-in's server list."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Directive:
    """A directive as written: its name, its value and its line."""

    name: str
    value: str
    line: int


@dataclass(frozen=True, slots=True)
class Problem:
    """Something the plug-in would not use as written, with the line it is on (None: the whole file)."""

    message: str
    line: int | None


@dataclass(frozen=True, slots=True)
class WebLogicSettings:
    """What the plug-in routes one place's requests with (one ``<Location>``, or the server level)."""

    name: str  # "<Location /prweb>", "server level", "<VirtualHost *:80>", or the file's name
    line: int | None  # where the block opens; None for the server level and key=value files
    servers: Setting[tuple[Server, ...]]  # WebLogicCluster, or WebLogicHost and WebLogicPort
    dynamic_server_list: Setting[bool]
    max_skip_time: Setting[int]
    connect_timeout_secs: Setting[int]
    connect_retry_secs: Setting[int]
    wl_io_timeout_secs: Setting[int]
    idempotent: Setting[bool]
    cookie_name: Setting[str]
    debug: Setting[tuple[str, ...]]  # upper-case levels, ("OFF",) by default
    log_file: Setting[str | None]  # None: wlproxy.log in the temporary directory (facts §1)
    unknown: tuple[Directive, ...] = ()  # directives that look like the plug-in's but are none of them


@dataclass(frozen=True, slots=True)
class WebLogicConfig:
    """One WebLogic plug-in configuration file as the plug-in would use it; odd values in ``problems``."""

    path: str
    kind: ConfigKind
    settings: tuple[WebLogicSettings, ...]
    problems: tuple[Problem, ...]
    cookie_names: frozenset[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cookie_names", frozenset(s.cookie_name.value for s in self.settings))


# ---------------------------------------------------------------- telling the kinds apart

_APACHE_SECTIONS: Final = frozenset({"ifmodule", "ifdefine", "ifversion", "if", "elseif", "else", "location",
                                      "locationmatch", "virtualhost", "directory", "directorymatch", "files",
                                      "filesmatch", "proxy", "proxymatch", "macro", "limit", "limitexcept"})
_KEY_VALUE = re.compile(r"\s*([A-Za-z][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$")
_SECTION = re.compile(r"\s*<\s*(/?)\s*([A-Za-z]+)\b\s*(.*?)\s*>\s*$")
_DIRECTIVE = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)(?:\s+(.*?))?\s*$")


def detect_kind(text: str) -> ConfigKind:
    """plugin-cfg.xml, Apache directives or ``Key=Value`` lines, by the file's first meaningful lines.

    A file whose first meaningful line opens a tag is XML unless the tag is an Apache section
    (``<IfModule``, ``<Location``, ...), so that a broken plugin-cfg.xml still gets the XML parser's
    message; otherwise Apache, unless ``Key=Value`` lines outnumber directive lines.
    """
    directives = key_values = 0
    for raw in text.lstrip("\ufeff").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("<") and not directives and not key_values:
            tag = re.match(r"<\s*/?\s*([A-Za-z]+)", line)
            return ConfigKind.APACHE if tag and tag[1].lower() in _APACHE_SECTIONS else ConfigKind.PLUGIN_CFG
        if _SECTION.match(line):
            return ConfigKind.APACHE
        if _KEY_VALUE.match(line):
            key_values += 1
        elif _DIRECTIVE.match(line):
            directives += 1
    return ConfigKind.KEY_VALUE if key_values > directives else ConfigKind.APACHE


# ---------------------------------------------------------------- reading


@dataclass
class _Scope:
    """A block being read: its directives (the last of each name wins, as in Apache) and its parent."""

    kind: str  # "server", "virtualhost", "location", "locationmatch"
    name: str
    line: int | None
    parent: _Scope | None
    values: dict[str, Directive] = field(default_factory=dict)
    seen: list[Directive] = field(default_factory=list)

    def lookup(self, key: str) -> Directive | None:
        scope: _Scope | None = self
        while scope is not None:
            if key in scope.values:
                return scope.values[key]
            scope = scope.parent
        return None


def parse_weblogic_config(text: str, path: str, kind: ConfigKind | None = None) -> WebLogicConfig:
    """Parse a WebLogic plug-in configuration; ``path`` only names the file in messages and origins."""
    kind = kind or detect_kind(text)
    if kind is ConfigKind.PLUGIN_CFG:
        raise ConfigFileError(f"{_display(path)}: is a plugin-cfg.xml, not a WebLogic plug-in configuration")
    problems: list[Problem] = []
    scopes = _read_key_values(text, path, problems) if kind is ConfigKind.KEY_VALUE else \
        _read_apache(text, problems)
    if not any(d.name.lower() in KNOWN_DIRECTIVES or d.value.lower() == _HANDLER
               for s in scopes for d in s.seen):
        raise ConfigFileError(f"{_display(path)}: not a plugin-cfg.xml or a WebLogic plug-in configuration: "
                              "no WebLogic directive (WebLogicCluster, WebLogicHost, SetHandler weblogic-handler, ...)")
    routed = [s for s in scopes if _routes(s, kind)]
    if not routed:
        # NOTE: a mod_wl_ohs.conf often holds only the <IfModule> block, its <Location>s being elsewhere:
        # then what it sets is all there is to show, and what the locations that include it inherit
        routed = [s for s in scopes if s.kind in ("server", "virtualhost") and _names_servers(s)]
    settings = tuple(_settings(s, path, kind, problems) for s in routed)
    if not settings:
        problems.append(Problem("no <Location> with SetHandler weblogic-handler and no server-level "
                                "WebLogicCluster or WebLogicHost: the plug-in routes nothing", None))
    problems.sort(key=lambda p: (p.line is None, p.line or 0))
    return WebLogicConfig(path=path, kind=kind, settings=settings, problems=tuple(problems))


def _read_key_values(text: str, path: str, problems: list[Problem]) -> list[_Scope]:
    scope = _Scope("file", path.rsplit("/", 1)[-1], None, None)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith(("#", ";")):
            continue
        match = _KEY_VALUE.match(line)
        if match is None:
            problems.append(Problem(f"line {number}: {_short(line)!r} is not Key=Value; ignored", number))
            continue
        _add(scope, Directive(match[1], _unquote(match[2]), number))
    return [scope]


def _read_apache(text: str, problems: list[Problem]) -> list[_Scope]:
    server = _Scope("server", "server level", None, None)
    scopes = [server]
    # (section name lower-cased, as written, its line, the scope that encloses it)
    stack: list[tuple[str, str, int, _Scope]] = []
    current = server
    for number, line in _logical_lines(text):
        section = _SECTION.match(line)
        if section is not None:
            closing, name, args = section[1] == "/", section[2].lower(), _unquote(section[3])
            if closing:
                if not stack or stack[-1][0] != name:
                    problems.append(Problem(f"line {number}: </{section[2]}> closes no open <{section[2]}>", number))
                    continue
                current = stack.pop()[3]
                continue
            if name in ("location", "locationmatch") and current.kind in ("location", "locationmatch"):
                # Apache refuses a <Location> inside a <Location>; the usual cause is a missing close tag
                problems.append(Problem(f"line {number}: <{section[2]}> inside {current.name} (opened at line "
                                        f"{current.line}), which was not closed; read as if it were", number))
                while stack and stack[-1][0] in ("location", "locationmatch"):
                    current = stack.pop()[3]
            if name in _SCOPES:
                scope = _Scope(name, f"<{section[2]} {args}>".replace(" >", ">"), number, current)
                scopes.append(scope)
                stack.append((name, section[2], number, current))
                current = scope
            else:  # <IfModule>, <Directory>, ...: their directives belong to the enclosing scope
                stack.append((name, section[2], number, current))
            continue
        directive = _DIRECTIVE.match(line)
        if directive is None:
            problems.append(Problem(f"line {number}: {_short(line)!r} is not a directive; ignored", number))
            continue
        _add(current, Directive(directive[1], _unquote(directive[2] or ""), number))
    for _, written, number, _ in stack:
        problems.append(Problem(f"line {number}: <{written}> is never closed (a truncated file? Apache would "
                                "refuse to start); read to the end of the file", number))
    return scopes


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Apache's lines: comments and blank lines left out, a trailing backslash joining the next line."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        line = raw.strip()
        if pending is not None:
            line = pending[1] + " " + line
            number = pending[0]
            pending = None
        if line.endswith("\\"):
            pending = (number, line[:-1].rstrip())
            continue
        if line and not line.startswith("#"):
            out.append((number, line))
    if pending is not None and pending[1]:
        out.append(pending)
    return out


def _add(scope: _Scope, directive: Directive) -> None:
    scope.seen.append(directive)
    scope.values[_canonical(directive.name)] = directive


# older names of the same parameter (facts §3, §4.6): the later line of either wins, as it would for one name
_ALIASES: Final = {"hungserverrecoversecs": "wliotimeoutsecs", "cookiename": "wlcookiename"}


def _canonical(name: str) -> str:
    key = name.lower()
    return _ALIASES.get(key, key)


def _routes(scope: _Scope, kind: ConfigKind) -> bool:
    """Whether the plug-in handles requests here: a WebLogic location, or a level that names servers."""
    if kind is ConfigKind.KEY_VALUE:
        return True
    handler = scope.values.get("sethandler")
    if scope.kind in ("location", "locationmatch"):
        return handler is not None and handler.value.lower() == _HANDLER
    # a server or virtual host level proxies by itself only by MIME type (MatchExpression)
    return "matchexpression" in scope.values and _names_servers(scope)


def _names_servers(scope: _Scope) -> bool:
    return "weblogiccluster" in scope.values or "weblogichost" in scope.values


def _settings(scope: _Scope, path: str, kind: ConfigKind, problems: list[Problem]) -> WebLogicSettings:
    read = _Reader(scope, path, problems)
    unknown = tuple(d for d in scope.seen if _looks_like_typo(d.name, kind))
    return WebLogicSettings(
        name=scope.name,
        line=scope.line,
        servers=read.servers(),
        dynamic_server_list=read.on_off("DynamicServerList", True),
        max_skip_time=read.seconds("MaxSkipTime", DEFAULT_MAX_SKIP_TIME),
        connect_timeout_secs=read.seconds("ConnectTimeoutSecs", DEFAULT_CONNECT_TIMEOUT_SECS),
        connect_retry_secs=read.seconds("ConnectRetrySecs", DEFAULT_CONNECT_RETRY_SECS),
        wl_io_timeout_secs=read.seconds("WLIOTimeoutSecs", DEFAULT_WL_IO_TIMEOUT_SECS),
        idempotent=read.on_off("Idempotent", True),
        cookie_name=read.cookie_name(),
        debug=read.debug(),
        log_file=read.log_file(),
        unknown=unknown,
    )


def _looks_like_typo(name: str, kind: ConfigKind) -> bool:
    key = name.lower()
    if key in KNOWN_DIRECTIVES or key == "sethandler":
        return False
    if kind is ConfigKind.KEY_VALUE:
        return True  # every line of weblogic.conf / iisproxy.ini is for the plug-in
    return key.startswith(_WL_PREFIXES) or bool(difflib.get_close_matches(key, KNOWN_DIRECTIVES, n=1, cutoff=0.85))


class _Reader:
    """Typed reads of one scope's settings (inherited from the enclosing scopes); odd values become problems."""

    def __init__(self, scope: _Scope, path: str, problems: list[Problem]) -> None:
        self._scope = scope
        self._path = path
        self._problems = problems
        self._reported: set[tuple[int, str]] = set()

    def _get(self, name: str) -> Directive | None:
        directive = self._scope.lookup(_canonical(name))
        return directive if directive is not None and directive.value.strip() else None

    def _origin(self, directive: Directive | None) -> Origin:
        if directive is None:
            return Origin(self._path, None)
        return Origin(self._path, directive.line, directive.name)

    def _problem(self, directive: Directive, sentence: str) -> None:
        # an inherited directive is read once per location: say what is wrong with it once
        key = (directive.line, sentence)
        if key not in self._reported and all((p.line, p.message) != (directive.line, sentence)
                                               for p in self._problems):
            self._problems.append(Problem(f"line {directive.line}: {sentence}", directive.line))
        self._reported.add(key)

    def on_off(self, name: str, default: bool) -> Setting[bool]:
        directive = self._get(name)
        if directive is None:
            return Setting(default, self._origin(None))
        word = directive.value.strip().upper()
        if word in ("ON", "OFF"):
            return Setting(word == "ON", self._origin(directive))
        self._problem(directive, f"{directive.name} {directive.value!r} is not ON or OFF; the default "
                                 f"{'ON' if default else 'OFF'} is assumed")
        return Setting(default, self._origin(None))

    def seconds(self, name: str, default: int) -> Setting[int]:
        directive = self._get(name)
        if directive is None:
            return Setting(default, self._origin(None))
        value = directive.value.strip()
        if re.fullmatch(r"[0-9]{1,10}", value) and int(value) <= _INT_MAX:
            return Setting(int(value), self._origin(directive))
        self._problem(directive, f"{directive.name} {_short(value)!r} is not a whole number of seconds, 0 or "
                                 f"more; the default {default} is assumed")
        return Setting(default, self._origin(None))

    def cookie_name(self) -> Setting[str]:
        directive = self._get("WLCookieName")
        if directive is None:
            return Setting(DEFAULT_COOKIE_NAME, self._origin(None))
        value = directive.value.strip()
        # RFC 6265: a cookie name is a token, no separators or spaces
        if re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", value):
            return Setting(value, self._origin(directive))
        self._problem(directive, f"{directive.name} {_short(value)!r} is not a cookie name; "
                                 f"the default {DEFAULT_COOKIE_NAME} is assumed")
        return Setting(DEFAULT_COOKIE_NAME, self._origin(None))

    def debug(self) -> Setting[tuple[str, ...]]:
        directive = self._get("Debug")
        if directive is None:
            return Setting(("OFF",), self._origin(None))
        levels = tuple(p.strip().upper() for p in re.split(r"[,\s]+", directive.value) if p.strip())
        bad = [level for level in levels if level not in DEBUG_LEVELS]
        if bad or not levels:
            self._problem(directive, f"Debug {directive.value!r}: {', '.join(bad) or 'no level'} is not one of "
                                     f"{', '.join(sorted(DEBUG_LEVELS))}; the rest is used")
            levels = tuple(level for level in levels if level in DEBUG_LEVELS) or ("OFF",)
        return Setting(levels, self._origin(directive))

    def log_file(self) -> Setting[str | None]:
        directive = self._get("WLLogFile")
        return Setting(directive.value.strip() if directive else None, self._origin(directive))

    def _nearest_servers(self) -> tuple[Directive | None, Directive | None]:
        """WebLogicCluster and WebLogicHost of the innermost scope that sets either: a location's own host
        wins over a cluster it would inherit."""
        scope: _Scope | None = self._scope
        while scope is not None:
            cluster, host = scope.values.get("weblogiccluster"), scope.values.get("weblogichost")
            if cluster is not None or host is not None:
                return cluster, host
            scope = scope.parent
        return None, None

    def servers(self) -> Setting[tuple[Server, ...]]:
        cluster, host = self._nearest_servers()
        if cluster is not None:
            if host is not None:
                self._problem(host, f"both WebLogicCluster (line {cluster.line}) and WebLogicHost apply here; "
                                    "tracelens reads the cluster list")
            return Setting(self._server_list(cluster), self._origin(cluster))
        if host is None:
            if self._scope.kind in ("location", "locationmatch", "file"):
                self._problems.append(Problem(
                    f"{self._scope.name}: no WebLogicCluster or WebLogicHost applies here: the plug-in has no "
                    "server to send its requests to", self._scope.line))
            return Setting((), self._origin(None))
        port = self._get("WebLogicPort")
        if port is None:
            self._problem(host, "WebLogicHost without WebLogicPort: the plug-in has no port to connect to")
            return Setting((), self._origin(host))
        parsed = _port(port.value.strip())
        if parsed is None:
            self._problem(port, f"WebLogicPort {_short(port.value)!r} is not a TCP port (1 to 65535)")
            return Setting((), self._origin(host))
        return Setting((Server(host.value.strip(), parsed),), self._origin(host))

    def _server_list(self, directive: Directive) -> tuple[Server, ...]:
        servers: list[Server] = []
        for entry in (e for e in re.split(r"[,\s]+", directive.value) if e):
            match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:([^:]+)|([^:\[\]]+):([^:]+)", entry)
            port = _port(match[2] or match[4]) if match else None
            if match is None or port is None:
                self._problem(directive, f"WebLogicCluster entry {_short(entry)!r} is not host:port "
                                         "(a port from 1 to 65535); left out")
                continue
            servers.append(Server(match[1] or match[3], port))
        if not servers:
            self._problem(directive, "WebLogicCluster names no usable host:port: the plug-in has no server")
        return tuple(servers)


def _port(text: str) -> int | None:
    return int(text) if re.fullmatch(r"[0-9]{1,5}", text) and 1 <= int(text) <= 65535 else None


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _short(value: str) -> str:
    value = value if value.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)
    return value if len(value) <= 60 else value[:57] + "..."
