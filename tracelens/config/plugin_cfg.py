"""Config stage: plugin-cfg.xml -> the clusters, members, server lists and routes that routing replays.

Theory of operation:

- ``parse_config`` is the core: bytes in, an immutable :class:`PluginConfig` out, no I/O.
  ``load_config`` is the only function that opens a file; it checks the size before reading so that a
  wrong path (a core dump, a log) is refused without being loaded.
- The file is untrusted input (it is copied off customer web servers). It is parsed by defusedxml with
  ``forbid_dtd=True``: any DOCTYPE stops the parse at its first byte, so no entity is ever declared,
  expanded or fetched. Nesting deeper than :data:`MAX_DEPTH` is refused while the parser walks the
  file, before a tree of that depth exists.
- A file that cannot be used at all is a :class:`~tracelens.errors.ConfigFileError` with one line naming
  it. A file that can be used but has odd values is used: each odd value takes the plug-in's documented
  default and a sentence goes into :attr:`PluginConfig.problems`. Unknown elements, unknown attributes
  and text content are ignored, as the plug-in ignores them (RB51 Example 9-1 ships with a
  ``Server Name=.../>`` line missing its ``<``, which is text, not an element).

Defaults and meanings are those of plugin-facts.md §3.1; the routing use of each field is §4.
"""

from __future__ import annotations

import enum
import math
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, TypeVar
from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from tracelens.errors import ConfigFileError

MAX_BYTES: Final = 32 * 1024 * 1024
# Generated files nest five levels (Config/ServerCluster/Server/Transport/Property); 64 leaves room
# for anything hand-written while refusing files built to exhaust a tree walker.
MAX_DEPTH: Final = 64

DEFAULT_WEIGHT: Final = 2  # TN-REC
DEFAULT_RETRY_INTERVAL: Final = 60  # RB51 RetryInterval_setting
DEFAULT_AFFINITY_COOKIE: Final = "JSESSIONID"
DEFAULT_AFFINITY_URL_IDENTIFIER: Final = "jsessionid"
DEFAULT_PROTOCOL: Final = "http"
# NOTE: the IBM reference gives "Error" as the LogLevel of a <Log> that names none; §3.1 does not
# cover it, so treat it as the plug-in's behaviour to check against, not as a sourced fact.
DEFAULT_LOG_LEVEL: Final = "Error"

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
# NOTE: the plug-in reads these attributes into C ints; a value beyond 32 bits is not what it would use,
# and an unbounded one (LoadBalanceWeight="10" followed by 30 zeros) overflowed the arithmetic that
# checks the configuration (floats, datetimes)
_INT_MAX: Final = 2**31 - 1
_DOCTYPE_REFUSED = "DOCTYPE and entity declarations are not allowed (billion laughs / external entity protection)"



_T = TypeVar("_T")


def first_of_each(pairs: Iterable[tuple[str | None, _T]]) -> dict[str, _T]:
    """The first item of each key (keys of None left out): lookups that must not scan 100,000 members."""
    index: dict[str, _T] = {}
    for key, item in pairs:
        if key is not None:
            index.setdefault(key, item)
    return index


@dataclass(frozen=True, slots=True)
class Range:
    """The values the plug-in documents for a numeric attribute (plugin-facts.md §3.1), and what they mean."""

    minimum: int
    maximum: int
    meaning: str


# NOTE: only what the plug-in's documentation says is in range. LoadBalanceWeight 0 is in the
# console's documented range (0 to 20, higher in the file): such a member gets no load-balanced
# requests until the weights are reset, a choice, not a mistake. A negative ServerIOTimeout is
# documented too (the member is marked down on a timeout), so it has no range here.
SECONDS = Range(0, _INT_MAX, "whole seconds, 0 or more")
RANGES: Final[dict[str, Range]] = {
    "RefreshInterval": SECONDS,
    "RetryInterval": SECONDS,
    "PostBufferSize": Range(-1, _INT_MAX, "kilobytes, -1 (no limit), 0 (no buffering) or more"),
    "ServerIOTimeoutRetry": Range(-1, _INT_MAX, "-1 (no limit of its own) or a number of retries, 0 or more"),
    "LoadBalanceWeight": Range(0, _INT_MAX, "a weight of 0 or more (the console offers 0 to 20)"),
    "ConnectTimeout": Range(0, _INT_MAX, "whole seconds, 0 (a blocking connect) or more"),
    "MaxConnections": Range(-1, _INT_MAX, "-1 or 0 (no limit) or a number of connections"),
    "Port": Range(1, 65535, "a TCP port, 1 to 65535"),
}


class LoadBalance(enum.StrEnum):
    """``ServerCluster LoadBalance``: how new (non-affinity) requests pick a member (§4.1, §4.2)."""

    ROUND_ROBIN = "Round Robin"
    RANDOM = "Random"


@dataclass(frozen=True, slots=True)
class Transport:
    """``<Transport Hostname Port Protocol>``: one endpoint of a member (http or https)."""

    hostname: str
    port: int | None
    protocol: str


@dataclass(frozen=True, slots=True)
class Member:
    """``<Server>`` inside a ``<ServerCluster>``: one application server the plug-in can route to.

    ``clone_id`` is matched against the suffixes of the session ID (§4.3); ``None`` means the member
    takes part in load balancing but can never be an affinity target.
    """

    name: str
    clone_id: str | None
    weight: int
    connect_timeout: int | None
    server_io_timeout: int | None
    max_connections: int | None
    transports: tuple[Transport, ...]

    @property
    def unlimited_connections(self) -> bool:
        """No MaxConnections limit: ``-1`` and ``0`` both mean unlimited, as does leaving it out."""
        return self.max_connections is None or self.max_connections <= 0


@dataclass(frozen=True, slots=True)
class Cluster:
    """``<ServerCluster>``: members, their order, and the settings routing needs.

    ``members`` are all ``<Server>`` elements in file order; ``primary`` and ``backup`` are names, in
    the order the plug-in walks them (§4.4). They may name a server that is not a member: that is kept,
    because it is what the plug-in was given, and reported in :attr:`PluginConfig.problems`.
    """

    name: str
    load_balance: LoadBalance
    retry_interval: int
    ignore_affinity_requests: bool
    clone_separator_change: bool
    post_buffer_size: int | None
    server_io_timeout_retry: int | None
    members: tuple[Member, ...]
    primary: tuple[str, ...]
    backup: tuple[str, ...]
    # the first member of each name and of each clone ID: a lookup per name must not scan 100,000 members
    _by_name: dict[str, Member] = field(init=False, repr=False, compare=False)
    _by_clone: dict[str, Member] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", first_of_each((m.name, m) for m in self.members))
        object.__setattr__(self, "_by_clone", first_of_each((m.clone_id, m) for m in self.members))

    @property
    def separator(self) -> str:
        """What separates clone IDs in a session ID (TN-V4)."""
        return "+" if self.clone_separator_change else ":"

    def member(self, name: str) -> Member | None:
        return self._by_name.get(name)

    def member_by_clone(self, clone_id: str) -> Member | None:
        return self._by_clone.get(clone_id)

    def normalised_weights(self) -> dict[str, int]:
        """Each member's starting weight after the plug-in divides by the weights' common factor.

        TN-REC: 100, 90, 80 run as 10, 9, 8 and 20, 20, 20 as 1, 1, 1. A weight of 0 stays 0; it
        does not change the common factor, because gcd(0, n) is n.
        """
        divisor = math.gcd(*(m.weight for m in self.members))
        if divisor == 0:  # every weight is 0 (or there are no members): nothing to divide
            return {m.name: m.weight for m in self.members}
        return {m.name: m.weight // divisor for m in self.members}


@dataclass(frozen=True, slots=True)
class Uri:
    """``<Uri>``: a URI pattern and the names under which it carries the session ID."""

    name: str
    affinity_cookie: str
    affinity_url_identifier: str


@dataclass(frozen=True, slots=True)
class UriGroup:
    name: str
    uris: tuple[Uri, ...]


@dataclass(frozen=True, slots=True)
class VirtualHostGroup:
    name: str
    hosts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Route:
    """``<Route>``: requests for these hosts and URIs go to this cluster.

    ``uri_group`` and ``virtual_host_group`` are ``None`` when the attribute is left out.
    """

    server_cluster: str
    uri_group: str | None
    virtual_host_group: str | None


@dataclass(frozen=True, slots=True)
class LogSettings:
    """``<Log LogLevel Name>``: the trace level tells which messages the log can contain at all."""

    level: str
    name: str | None


@dataclass(frozen=True, slots=True)
class PluginConfig:
    """One plugin-cfg.xml as the plug-in would use it, with what was odd about it in ``problems``."""

    path: str
    clusters: tuple[Cluster, ...]
    uri_groups: tuple[UriGroup, ...]
    vhost_groups: tuple[VirtualHostGroup, ...]
    routes: tuple[Route, ...]
    log: LogSettings | None
    refresh_interval: int | None
    problems: tuple[str, ...]
    # the first cluster of each name, and the first cluster (in file order) with a member of each name
    _cluster_by_name: dict[str, Cluster] = field(init=False, repr=False, compare=False)
    _cluster_of_member: dict[str, Cluster] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cluster_by_name", first_of_each((c.name, c) for c in self.clusters))
        object.__setattr__(self, "_cluster_of_member",
                           first_of_each((m.name, c) for c in self.clusters for m in c.members))

    def cluster(self, name: str) -> Cluster | None:
        return self._cluster_by_name.get(name)

    def cluster_of_member(self, name: str) -> Cluster | None:
        """The first cluster (in file order) with a member called ``name``."""
        return self._cluster_of_member.get(name)

    def member(self, name: str) -> Member | None:
        """The member called ``name`` in the first cluster that has one: log lines name members only."""
        cluster = self._cluster_of_member.get(name)
        return cluster.member(name) if cluster is not None else None

    def uri_group(self, name: str) -> UriGroup | None:
        for g in self.uri_groups:
            if g.name == name:
                return g
        return None

    def vhost_group(self, name: str) -> VirtualHostGroup | None:
        for g in self.vhost_groups:
            if g.name == name:
                return g
        return None

    def affinity_cookie_names(self) -> frozenset[str]:
        """Every cookie name some URI reads the session ID from; JSESSIONID when no URI says."""
        names = {uri.affinity_cookie for group in self.uri_groups for uri in group.uris}
        return frozenset(names or {DEFAULT_AFFINITY_COOKIE})


# ---------------------------------------------------------------- reading and parsing


def load_config(path: str | os.PathLike[str]) -> PluginConfig:
    """Read and parse the plugin-cfg.xml at ``path``; every failure is one :class:`ConfigFileError` line."""
    return parse_config(read_config_bytes(path), os.fspath(path))


def read_config_bytes(path: str | os.PathLike[str], what: str = "a plugin-cfg.xml") -> bytes:
    """The bytes of the configuration file at ``path``, refused before reading when larger than ``MAX_BYTES``."""
    shown = _display(os.fspath(path))
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigFileError(f"{shown}: is a directory, not {what} file")
        if info.st_size > MAX_BYTES:
            raise ConfigFileError(_too_large(shown, info.st_size))
        with open(path, "rb") as handle:
            # one byte more than allowed: a file that grew, or a device stat() calls empty, still stops
            text = handle.read(MAX_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        raise ConfigFileError(f"{shown}: no such file") from None
    except PermissionError:
        raise ConfigFileError(f"{shown}: permission denied") from None
    except IsADirectoryError:
        raise ConfigFileError(f"{shown}: is a directory, not {what} file") from None
    except OSError as exc:
        raise ConfigFileError(f"{shown}: cannot be read ({exc.strerror or exc})") from None
    if len(text) > MAX_BYTES:
        raise ConfigFileError(_too_large(shown, len(text)))
    return text


def parse_config(text: bytes, path: str) -> PluginConfig:
    """Parse plugin-cfg.xml ``text``; ``path`` only names the file in messages and the result."""
    shown = _display(path)
    if len(text) > MAX_BYTES:
        raise ConfigFileError(_too_large(shown, len(text)))
    if not text.strip():
        raise ConfigFileError(f"{shown}: is empty, not a plugin-cfg.xml file")
    root = _parse_xml(text, shown)
    if root.tag != "Config":
        found = _display(root.tag)
        raise ConfigFileError(f"{shown}: not a plugin-cfg.xml file: the root element is <{found}>, not <Config>")
    return _build(root, path)


class _TooDeep(Exception):
    pass


class _DepthLimitedBuilder(TreeBuilder):
    """A tree builder that stops the parse as soon as an element opens deeper than ``MAX_DEPTH``."""

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0

    def start(self, tag: str, attrs: dict[str, str], /) -> Element:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _TooDeep
        return super().start(tag, attrs)

    def end(self, tag: str, /) -> Element:
        self._depth -= 1
        return super().end(tag)


def _parse_xml(text: bytes, shown: str) -> Element:
    parser = DefusedXMLParser(target=_DepthLimitedBuilder(), forbid_dtd=True)
    try:
        parser.feed(text)
        root: Element = parser.close()
    except _TooDeep:
        line = parser.parser.CurrentLineNumber
        raise ConfigFileError(f"{shown}: elements nest deeper than {MAX_DEPTH} levels (line {line}); refused") from None
    except DefusedXmlException:
        raise ConfigFileError(f"{shown}: {_DOCTYPE_REFUSED}") from None
    except ParseError as exc:
        raise ConfigFileError(f"{shown}: not well-formed XML: {_describe(exc)}") from None
    except LookupError as exc:  # an encoding="..." Python does not know
        raise ConfigFileError(f"{shown}: not well-formed XML: {_display(str(exc))}") from None
    return root


def _describe(exc: ParseError) -> str:
    code: int | None = getattr(exc, "code", None)
    position: tuple[int, int] | None = getattr(exc, "position", None)
    reason = expat.ErrorString(code) if code is not None else str(exc).split(":", 1)[0]
    if position is None:
        return _display(reason)
    line, column = position
    # expat counts columns from 0; editors, and the people reading this line, count from 1
    return f"{_display(reason)} at line {line}, column {column + 1}"


def _too_large(shown: str, size: int) -> str:
    return f"{shown}: is {size} bytes, larger than the {MAX_BYTES // (1024 * 1024)} MiB a plugin-cfg.xml may be"


def _display(value: str) -> str:
    """``value`` made safe for a one-line message: control characters are written as escapes."""
    if value.isprintable():
        return value
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)


# ---------------------------------------------------------------- from elements to the model


class _Attributes:
    """Typed reads of one element's attributes; an odd value becomes the default plus a problem."""

    __slots__ = ("_attrib", "_problems", "_where")

    def __init__(self, where: str, attrib: Mapping[str, str], problems: list[str]) -> None:
        self._where = where
        self._attrib = attrib
        self._problems = problems

    def text(self, name: str) -> str | None:
        """The value as written, or ``None`` when left out or blank (the plug-in treats both as unset)."""
        value = self._attrib.get(name)
        if value is None or not value.strip():
            return None
        return value

    def integer(self, name: str, default: int, valid: Range | None = None) -> int:
        fallback = f"using the default {default}"
        parsed = self._in_range(name, self._whole_number(name, fallback), valid, fallback)
        return default if parsed is None else parsed

    def optional_integer(self, name: str, valid: Range | None = None, unset: str = "") -> int | None:
        fallback = f"treating it as not set{unset}"
        return self._in_range(name, self._whole_number(name, fallback), valid, fallback)

    def _in_range(self, name: str, value: int | None, valid: Range | None, fallback: str) -> int | None:
        if value is None or valid is None or valid.minimum <= value <= valid.maximum:
            return value
        self.problem(f"{name}={value} is out of range: {valid.meaning}; {fallback}")
        return None

    def boolean(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        word = value.strip().lower()
        if word in ("true", "false"):
            return word == "true"
        self.problem(f"{name}={value!r} is not true or false; using the default {str(default).lower()}")
        return default

    def load_balance(self) -> LoadBalance:
        value = self.text("LoadBalance")
        if value is None:
            return LoadBalance.ROUND_ROBIN
        # the same setting is seen as "Round Robin", "round robin" and "RoundRobin" in the wild
        folded = "".join(value.split()).lower()
        for mode in LoadBalance:
            if folded == "".join(mode.value.split()).lower():
                return mode
        self.problem(
            f"LoadBalance={value!r} is not {LoadBalance.ROUND_ROBIN.value!r} or {LoadBalance.RANDOM.value!r}; "
            f"using the default {LoadBalance.ROUND_ROBIN.value!r}"
        )
        return LoadBalance.ROUND_ROBIN

    def problem(self, sentence: str) -> None:
        self._problems.append(f"{self._where}: {sentence}")

    def _whole_number(self, name: str, fallback: str) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        # int() alone would also take "1_000" and non-ASCII digits, which the plug-in's atoi does not
        if _WHOLE_NUMBER.fullmatch(value.strip()) is None:
            self.problem(f"{name}={value!r} is not a whole number; {fallback}")
            return None
        digits = value.strip().lstrip("+-").lstrip("0")
        if len(digits) > 10 or abs(int(value)) > _INT_MAX:  # the length first: int() of 5000 digits raises
            shown = value.strip() if len(value.strip()) <= 24 else value.strip()[:20] + "..."
            self.problem(f"{name}={shown!r} is out of range (beyond ±{_INT_MAX}); {fallback}")
            return None
        return int(value)


def _build(root: Element, path: str) -> PluginConfig:
    problems: list[str] = []
    config = _Attributes("Config", root.attrib, problems)
    refresh_interval = config.optional_integer("RefreshInterval", RANGES["RefreshInterval"],
                                               " (the default: checked every 60 s)")
    clusters: list[Cluster] = []
    uri_groups: list[UriGroup] = []
    vhost_groups: list[VirtualHostGroup] = []
    routes: list[Route] = []
    log: LogSettings | None = None

    for child in root:
        if child.tag == "ServerCluster":
            cluster = _cluster(child, problems)
            if cluster is not None:
                clusters.append(cluster)
        elif child.tag == "UriGroup":
            uri_group = _uri_group(child, problems)
            if uri_group is not None:
                uri_groups.append(uri_group)
        elif child.tag == "VirtualHostGroup":
            vhost_group = _vhost_group(child, problems)
            if vhost_group is not None:
                vhost_groups.append(vhost_group)
        elif child.tag == "Route":
            route = _route(child, problems)
            if route is not None:
                routes.append(route)
        elif child.tag == "Log":
            if log is not None:
                problems.append("Config: more than one <Log>; the first is used")
                continue
            attrs = _Attributes("Log", child.attrib, problems)
            log = LogSettings(level=attrs.text("LogLevel") or DEFAULT_LOG_LEVEL, name=attrs.text("Name"))

    _check_unique("ServerCluster", [c.name for c in clusters], problems)
    _check_unique("UriGroup", [g.name for g in uri_groups], problems)
    _check_unique("VirtualHostGroup", [g.name for g in vhost_groups], problems)
    _check_routes(routes, clusters, uri_groups, vhost_groups, problems)
    return PluginConfig(
        path=path,
        clusters=tuple(clusters),
        uri_groups=tuple(uri_groups),
        vhost_groups=tuple(vhost_groups),
        routes=tuple(routes),
        log=log,
        refresh_interval=refresh_interval,
        problems=tuple(problems),
    )


def _cluster(elem: Element, problems: list[str]) -> Cluster | None:
    attrs = _Attributes("ServerCluster", elem.attrib, problems)
    name = attrs.text("Name")
    if name is None:
        attrs.problem("a <ServerCluster> without a Name is skipped (no Route can name it)")
        return None
    where = f"ServerCluster {name!r}"
    attrs = _Attributes(where, elem.attrib, problems)
    load_balance = attrs.load_balance()
    retry_interval = attrs.integer("RetryInterval", DEFAULT_RETRY_INTERVAL, RANGES["RetryInterval"])
    ignore_affinity_requests = attrs.boolean("IgnoreAffinityRequests", True)
    clone_separator_change = attrs.boolean("CloneSeparatorChange", False)
    post_buffer_size = attrs.optional_integer("PostBufferSize", RANGES["PostBufferSize"], " (the default: 64 KB)")
    server_io_timeout_retry = attrs.optional_integer("ServerIOTimeoutRetry", RANGES["ServerIOTimeoutRetry"],
                                                     " (the default: -1)")

    members: list[Member] = []
    primary: list[str] | None = None
    backup: list[str] | None = None
    for child in elem:
        if child.tag == "Server":
            member = _member(child, where, problems)
            if member is not None:
                members.append(member)
        elif child.tag == "PrimaryServers":
            if primary is not None:
                attrs.problem("more than one <PrimaryServers>; their lists are joined in file order")
            primary = (primary or []) + _server_list(child, where, problems)
        elif child.tag == "BackupServers":
            if backup is not None:
                attrs.problem("more than one <BackupServers>; their lists are joined in file order")
            backup = (backup or []) + _server_list(child, where, problems)

    names = [m.name for m in members]
    known = set(names)  # NOTE: a list here made each listed server a scan: 100,000 servers took 80 s
    _check_members(members, attrs)
    if primary is None:
        # generated files list every member as primary (CMP 28-20); a hand-written file may leave the
        # list out, and then every member is in the rotation
        primary = list(names)
    elif not primary:
        attrs.problem("<PrimaryServers> is empty, so no member is in the weighted rotation")
    backup = backup or []
    for list_name, listed in (("PrimaryServers", primary), ("BackupServers", backup)):
        for server in listed:
            if server not in known:
                attrs.problem(f"{list_name} names {server!r}, which is not a <Server> of this cluster; kept as written")
    in_backup = set(backup)
    for server in dict.fromkeys(s for s in primary if s in in_backup):  # in primary order, once each
        attrs.problem(f"{server!r} is listed both in PrimaryServers and in BackupServers")

    return Cluster(
        name=name,
        load_balance=load_balance,
        retry_interval=retry_interval,
        ignore_affinity_requests=ignore_affinity_requests,
        clone_separator_change=clone_separator_change,
        post_buffer_size=post_buffer_size,
        server_io_timeout_retry=server_io_timeout_retry,
        members=tuple(members),
        primary=tuple(primary),
        backup=tuple(backup),
    )


def _member(elem: Element, cluster_where: str, problems: list[str]) -> Member | None:
    attrs = _Attributes(cluster_where, elem.attrib, problems)
    name = attrs.text("Name")
    if name is None:
        attrs.problem("a <Server> without a Name is skipped (the log could never name it)")
        return None
    attrs = _Attributes(f"Server {name!r} in {cluster_where}", elem.attrib, problems)
    transports: list[Transport] = []
    for child in elem:
        if child.tag != "Transport":
            continue
        t_attrs = _Attributes(f"Transport of Server {name!r} in {cluster_where}", child.attrib, problems)
        hostname = t_attrs.text("Hostname")
        if hostname is None:
            t_attrs.problem("a <Transport> without a Hostname is skipped")
            continue
        transports.append(
            Transport(
                hostname=hostname,
                port=t_attrs.optional_integer("Port", RANGES["Port"]),
                protocol=t_attrs.text("Protocol") or DEFAULT_PROTOCOL,
            )
        )
    if not transports:
        attrs.problem("has no usable <Transport>, so the plug-in cannot connect to it")
    return Member(
        name=name,
        clone_id=attrs.text("CloneID"),
        weight=attrs.integer("LoadBalanceWeight", DEFAULT_WEIGHT, RANGES["LoadBalanceWeight"]),
        connect_timeout=attrs.optional_integer("ConnectTimeout", RANGES["ConnectTimeout"],
                                               " (the default: the operating system's connect timeout)"),
        server_io_timeout=attrs.optional_integer("ServerIOTimeout"),
        max_connections=attrs.optional_integer("MaxConnections", RANGES["MaxConnections"], " (the default: no limit)"),
        transports=tuple(transports),
    )


def _server_list(elem: Element, cluster_where: str, problems: list[str]) -> list[str]:
    names: list[str] = []
    for child in elem:
        if child.tag != "Server":
            continue
        name = _Attributes(cluster_where, child.attrib, problems).text("Name")
        if name is None:
            problems.append(f"{cluster_where}: a <Server> without a Name in <{elem.tag}> is skipped")
            continue
        names.append(name)
    return names


def _check_members(members: list[Member], attrs: _Attributes) -> None:
    seen_names: set[str] = set()
    owner_of_clone: dict[str, str] = {}
    for m in members:
        if m.name in seen_names:
            attrs.problem(f"more than one <Server> is named {m.name!r}; lookups by name find the first")
        seen_names.add(m.name)
        if m.clone_id is None:
            continue
        owner = owner_of_clone.setdefault(m.clone_id, m.name)
        if owner != m.name:
            attrs.problem(
                f"Servers {owner!r} and {m.name!r} share CloneID {m.clone_id!r}; affinity cannot tell them apart"
            )


def _uri_group(elem: Element, problems: list[str]) -> UriGroup | None:
    name = _Attributes("UriGroup", elem.attrib, problems).text("Name")
    if name is None:
        problems.append("UriGroup: a <UriGroup> without a Name is skipped (no Route can name it)")
        return None
    uris: list[Uri] = []
    for child in elem:
        if child.tag != "Uri":
            continue
        attrs = _Attributes(f"UriGroup {name!r}", child.attrib, problems)
        uri = attrs.text("Name")
        if uri is None:
            attrs.problem("a <Uri> without a Name is skipped")
            continue
        uris.append(
            Uri(
                name=uri,
                affinity_cookie=attrs.text("AffinityCookie") or DEFAULT_AFFINITY_COOKIE,
                affinity_url_identifier=attrs.text("AffinityURLIdentifier") or DEFAULT_AFFINITY_URL_IDENTIFIER,
            )
        )
    return UriGroup(name=name, uris=tuple(uris))


def _vhost_group(elem: Element, problems: list[str]) -> VirtualHostGroup | None:
    name = _Attributes("VirtualHostGroup", elem.attrib, problems).text("Name")
    if name is None:
        problems.append("VirtualHostGroup: a <VirtualHostGroup> without a Name is skipped (no Route can name it)")
        return None
    hosts: list[str] = []
    for child in elem:
        if child.tag != "VirtualHost":
            continue
        host = _Attributes(f"VirtualHostGroup {name!r}", child.attrib, problems).text("Name")
        if host is None:
            problems.append(f"VirtualHostGroup {name!r}: a <VirtualHost> without a Name is skipped")
            continue
        hosts.append(host)
    return VirtualHostGroup(name=name, hosts=tuple(hosts))


def _route(elem: Element, problems: list[str]) -> Route | None:
    attrs = _Attributes("Route", elem.attrib, problems)
    cluster = attrs.text("ServerCluster")
    if cluster is None:
        attrs.problem("a <Route> without a ServerCluster is skipped (it sends requests nowhere)")
        return None
    return Route(
        server_cluster=cluster,
        uri_group=attrs.text("UriGroup"),
        virtual_host_group=attrs.text("VirtualHostGroup"),
    )


def _check_unique(kind: str, names: list[str], problems: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(f"{kind} {name!r}: defined more than once; lookups by name find the first")
        seen.add(name)


def _check_routes(
    routes: list[Route],
    clusters: list[Cluster],
    uri_groups: list[UriGroup],
    vhost_groups: list[VirtualHostGroup],
    problems: list[str],
) -> None:
    known = {
        "ServerCluster": {c.name for c in clusters},
        "UriGroup": {g.name for g in uri_groups},
        "VirtualHostGroup": {g.name for g in vhost_groups},
    }
    for route in routes:
        for kind, name in (
            ("ServerCluster", route.server_cluster),
            ("UriGroup", route.uri_group),
            ("VirtualHostGroup", route.virtual_host_group),
        ):
            if name is not None and name not in known[kind]:
                problems.append(f"Route to {route.server_cluster!r}: {kind}={name!r} names no <{kind}> in the file")
