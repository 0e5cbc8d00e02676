"""Parse stage: load ``grammars/plugin_log.lark`` once and turn its rules into event payloads.

The grammar is the single definition of what a line means. The transformer runs inside the LALR
parser (no tree is built): each typed rule (alias) becomes ``(EventClass, fields)``; the parser in
``tracelens.parse.parser`` adds the record's position and header.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from lark import Lark, Token, Transformer

from tracelens.parse import events as ev
from tracelens.read.grammar_files import LENIENT_GRAMMAR, MAIN_GRAMMAR, grammar_path, grammar_source
from tracelens.read.header import asctime, clftime

START_SYMBOLS = ("record", "bare_record", "body_record", "message", "bare_message", "banner")

Payload = tuple[type[ev.Event], dict[str, Any]]


def grammar_text(lenient: bool = False) -> str:
    """The grammar as lark builds it: ``grammars/plugin_log.lark``; ``lenient``: with the overrides of
    ``grammars/lenient.lark`` for documentation excerpts appended."""
    text = grammar_source(MAIN_GRAMMAR)
    if lenient:
        text += "\n" + grammar_source(LENIENT_GRAMMAR)
    return text


def _ints(children: list[Any]) -> list[int]:
    return [int(c) for c in children if isinstance(c, Token) and c.type == "INT"]


def _two_quoted(children: list[Any]) -> tuple[str, str]:
    """The values of a message's QVAL and QVAL2 slots, either of which may be empty."""
    first = next((str(t) for t in children if t.type == "QVAL"), "")
    second = next((str(t) for t in children if t.type == "QVAL2"), "")
    return first, second


def _text(tok: Any) -> str | None:
    return None if tok is None else str(tok)


class Header:
    __slots__ = ("pid", "tid", "time")

    def __init__(self, time: datetime, pid: str, tid: str) -> None:
        self.time = time
        self.pid = pid
        self.tid = tid


class Body:
    """The body of a record as the structure rules see it."""

    __slots__ = ("component", "function", "level", "shape", "text")

    def __init__(
        self, level: ev.Level, shape: str, component: str | None, function: str | None, text: str
    ) -> None:
        self.level = level
        self.shape = shape  # "located", "indented", "bare" or "empty"
        self.component = component
        self.function = function
        self.text = text


def message_start(body: Body) -> str | None:
    """The start symbol that types this body's message; None for an empty body."""
    return start_symbol(body.level, body.shape)


def start_symbol(level: ev.Level, shape: str) -> str | None:
    """The start symbol for a body of this level and structure shape; None for an empty body."""
    if shape == "empty":
        return None
    if shape == "located":
        return "message"
    if level is ev.Level.PLUGIN and shape == "bare":
        return "banner"
    return "bare_message"


class _ToEvents(Transformer[Token, Any]):
    """Rule callbacks; every method name is a rule or alias of the grammar."""

    # ---- structure
    def record(self, c: list[Any]) -> tuple[Header, Body]:
        return c[0], c[1]

    def bare_record(self, c: list[Any]) -> tuple[None, Body]:
        return None, c[0]

    def body_record(self, c: list[Any]) -> tuple[None, Body]:
        body = c[0]
        return None, Body(None, body[0], body[1], body[2], body[3])  # type: ignore[arg-type]

    def header(self, c: list[Any]) -> Header:
        pid, tid = c[1]
        return Header(c[0], pid, tid)

    def asctime(self, c: list[Any]) -> datetime:
        return asctime(c[0])

    def clftime(self, c: list[Any]) -> datetime:
        return clftime(c[0])

    def hex_process(self, c: list[Any]) -> tuple[str, str]:
        return str(c[0]), str(c[1])

    def ibmi_process(self, c: list[Any]) -> tuple[str, str]:
        # IBM i writes decimal ids after the job name; keep them as written, job-qualified
        return f"{c[0]}:{c[1]}", str(c[2])

    def level_body(self, c: list[Any]) -> Body:
        level = ev.Level(str(c[0]))
        if len(c) == 1:
            return Body(level, "empty", None, None, "")
        shape, component, function, text = c[1]
        return Body(level, shape, component, function, text)

    def located(self, c: list[Any]) -> tuple[str, str, str, str]:
        return "located", str(c[0]), str(c[1]), str(c[2]) if len(c) > 2 else ""

    def indented(self, c: list[Any]) -> tuple[str, None, None, str]:
        return "indented", None, None, str(c[1])

    def bare(self, c: list[Any]) -> tuple[str, None, None, str]:
        return "bare", None, None, str(c[0])

    # ---- request life cycle
    def function_enter(self, c: list[Any]) -> Payload:
        return ev.FunctionEnter, {}

    def function_exit(self, c: list[Any]) -> Payload:
        return ev.FunctionExit, {"detail": _text(c[0]) if c else None}

    def request_handling(self, c: list[Any]) -> Payload:
        return ev.RequestHandling, {}

    def route_lookup(self, c: list[Any]) -> Payload:
        vhost, uri = _two_quoted(c)
        return ev.RouteLookup, {"vhost": vhost, "uri": uri}

    def request_info(self, c: list[Any]) -> Payload:
        return ev.RequestInfo, {"fields": c[0]}

    def kv_pairs(self, c: list[Any]) -> tuple[tuple[str, str], ...]:
        return tuple(c)

    def kv(self, c: list[Any]) -> tuple[str, str]:
        return str(c[0]), str(c[1]) if len(c) > 1 else ""

    def request_end(self, c: list[Any]) -> Payload:
        return ev.RequestEnd, {}

    def request_failed(self, c: list[Any]) -> Payload:
        return ev.RequestFailed, {}

    def request_writing(self, c: list[Any]) -> Payload:
        return ev.RequestWriting, {}

    def request_content(self, c: list[Any]) -> Payload:
        return ev.RequestContent, {"length": int(c[0])}

    def request_written(self, c: list[Any]) -> Payload:
        return ev.RequestWritten, {}

    def response_reading(self, c: list[Any]) -> Payload:
        return ev.ResponseReading, {"detail": str(c[0]).strip() if c else None}

    # ---- affinity
    def affinity_start(self, c: list[Any]) -> Payload:
        return ev.AffinityStart, {}

    def affinity_ssl(self, c: list[Any]) -> Payload:
        return ev.AffinityCheck, {"source": ev.AffinitySource.SSL, "name": None}

    def affinity_cookie(self, c: list[Any]) -> Payload:
        return ev.AffinityCheck, {"source": ev.AffinitySource.COOKIE, "name": str(c[0])}

    def affinity_url(self, c: list[Any]) -> Payload:
        return ev.AffinityCheck, {"source": ev.AffinitySource.URL, "name": str(c[0])}

    def cookie_lookup(self, c: list[Any]) -> Payload:
        return ev.CookieLookup, {"name": str(c[0])}

    def cookie_not_found(self, c: list[Any]) -> Payload:
        return ev.CookieNotFound, {"name": str(c[0])}

    def cookie_value(self, c: list[Any]) -> Payload:
        return ev.CookieValue, {"name": str(c[0]), "value": str(c[1]) if len(c) > 1 else ""}

    def url_session_parse(self, c: list[Any]) -> Payload:
        return ev.UrlSessionParse, {"uri": str(c[0]) if c else ""}

    def url_session_not_found(self, c: list[Any]) -> Payload:
        return ev.UrlSessionNotFound, {}

    def clone_ids_parse(self, c: list[Any]) -> Payload:
        return ev.CloneIdsParse, {"value": str(c[0]) if c else ""}

    def clone_id_added(self, c: list[Any]) -> Payload:
        return ev.CloneIdAdded, {"clone_id": str(c[0])}

    def clone_ids_returned(self, c: list[Any]) -> Payload:
        return ev.CloneIdsReturned, {}

    def clone_lookup(self, c: list[Any]) -> Payload:
        return ev.CloneLookup, {}

    def clone_compare(self, c: list[Any]) -> Payload:
        a, b = _two_quoted(c)
        return ev.CloneCompare, {"cookie_clone_id": a, "server_clone_id": b}

    def clone_match(self, c: list[Any]) -> Payload:
        return ev.CloneMatch, {"server": str(c[0])}

    def clone_next_up(self, c: list[Any]) -> Payload:
        return ev.CloneNextUp, {"server": str(c[0])}

    def affinity_server_set(self, c: list[Any]) -> Payload:
        return ev.AffinityServerSet, {"server": str(c[0])}

    def server_list_walk(self, c: list[Any]) -> Payload:
        pos = ev.WalkPosition(str(c[0]).strip().replace(" ", "_"))
        lst = ev.ServerList(str(c[1]).strip()) if len(c) > 1 else ev.ServerList.ALL
        return ev.ServerListWalk, {"position": pos, "server_list": lst}

    # ---- status
    def status_check(self, c: list[Any]) -> Payload:
        ints = _ints(c)
        retry_in: int | None = None
        reached: int | None = None
        for sub in c:
            if isinstance(sub, tuple) and sub[0] == "retry_in_sec":
                retry_in = sub[1]
            elif isinstance(sub, tuple) and sub[0] == "max_reached":
                reached = sub[1]
        return ev.StatusCheck, {
            "server": str(c[0]),
            "ignore_weights": ints[0],
            "marked_down": ints[1],
            "retry_now": ints[2],
            "retry_in_sec": retry_in,
            "wlb_allows": ints[3],
            "reached_max_connections": reached,
        }

    def retry_in_sec(self, c: list[Any]) -> tuple[str, int | None]:
        tok = c[0]
        return "retry_in_sec", None if tok.type == "NO_RETRY" else int(tok)

    def max_reached(self, c: list[Any]) -> tuple[str, int]:
        return "max_reached", int(c[0])

    def marked_down_retry(self, c: list[Any]) -> Payload:
        return ev.MarkedDownRetry, {"server": str(c[0]), "retry_in": int(c[1])}

    def retry_due(self, c: list[Any]) -> Payload:
        return ev.RetryDue, {"server": str(c[0])}

    def max_connections_check(self, c: list[Any]) -> Payload:
        return ev.MaxConnectionsCheck, {"current": int(c[0]), "maximum": int(c[1])}

    def max_connections_reached(self, c: list[Any]) -> Payload:
        return ev.MaxConnectionsReached, {"server": str(c[0])}

    # ---- picking and weights
    def server_picked(self, c: list[Any]) -> Payload:
        return ev.ServerPicked, {"server": str(c[0]), "weight": int(c[1])}

    def connection_count(self, c: list[Any]) -> Payload:
        return ev.ConnectionCount, {"server": str(c[0]), "pending": int(c[1]), "total": int(c[2])}

    def lb_round_robin(self, c: list[Any]) -> Payload:
        return ev.LoadBalanceMode, {"mode": "Round Robin"}

    def lb_random(self, c: list[Any]) -> Payload:
        return ev.LoadBalanceMode, {"mode": "Random"}

    def primary_server_count(self, c: list[Any]) -> Payload:
        return ev.PrimaryServerCount, {"count": int(c[0])}

    def weights_check(self, c: list[Any]) -> Payload:
        return ev.WeightsCheck, {"cluster": str(c[0])}

    def weight_state(self, c: list[Any]) -> Payload:
        return ev.WeightState, {"server": str(c[0]), "max_weight": int(c[1]), "cur_weight": int(c[2])}

    def weights_reset(self, c: list[Any]) -> Payload:
        return ev.WeightsReset, {}

    def weights_factor(self, c: list[Any]) -> Payload:
        return ev.WeightsFactor, {"factor": int(c[0])}

    # ---- transport
    def transport_lookup(self, c: list[Any]) -> Payload:
        return ev.TransportLookup, {}

    def transport_set(self, c: list[Any]) -> Payload:
        case = c[0] if isinstance(c[0], int) else None
        rest = c[1:] if case is not None else c
        return ev.TransportSet, {"host": str(rest[0]), "port": int(rest[1]), "case": case}

    def transport_case(self, c: list[Any]) -> int:
        return int(c[0])

    def connect_timeout_setting(self, c: list[Any]) -> Payload:
        return ev.ConnectTimeoutSetting, {"seconds": int(c[0])}

    def stream_get(self, c: list[Any]) -> Payload:
        return ev.StreamGet, {}

    def stream_dequeue(self, c: list[Any]) -> Payload:
        return ev.StreamDequeue, {}

    def stream_created(self, c: list[Any]) -> Payload:
        return ev.StreamCreated, {"detail": str(c[0]).strip(" ,") if c else None}

    def transaction_execute(self, c: list[Any]) -> Payload:
        return ev.TransactionExecute, {"detail": str(c[0]).strip() if c else None}

    # ---- failures
    def connect_failed(self, c: list[Any]) -> Payload:
        errno, port = (c[1] if len(c) > 1 else (None, None))
        return ev.ConnectFailed, {"host": str(c[0]), "errno": errno, "local_port": port}

    def os_err(self, c: list[Any]) -> tuple[int, None]:
        return int(c[0]), None

    def errno_local_port(self, c: list[Any]) -> tuple[int, int]:
        return int(c[0]), int(c[1])

    def connect_timeout_fired(self, c: list[Any]) -> Payload:
        return ev.ConnectTimeoutFired, {}

    def stream_create_failed(self, c: list[Any]) -> Payload:
        return ev.StreamCreateFailed, {}

    def read_failed(self, c: list[Any]) -> Payload:
        return ev.ReadFailed, {"detail": str(c[0]).lstrip("; ") if c else None}

    def marked_down(self, c: list[Any]) -> Payload:
        return ev.MarkedDown, {"server": str(c[0])}

    def marked_up(self, c: list[Any]) -> Payload:
        return ev.MarkedUp, {"server": str(c[0])}

    def transaction_failed(self, c: list[Any]) -> Payload:
        return ev.TransactionFailed, {"server": str(c[0]), "host": str(c[1]), "will_retry": len(c) > 2}

    def will_retry(self, c: list[Any]) -> bool:
        return True

    def no_server(self, c: list[Any]) -> Payload:
        return ev.NoServer, {"all_down": bool(c)}

    def all_down(self, c: list[Any]) -> bool:
        return True

    def no_app_server(self, c: list[Any]) -> Payload:
        return ev.NoAppServer, {}

    def stats_requests(self, c: list[Any]) -> Payload:
        return ev.ServerStats, self._stats(c, ev.StatsKeys.REQUESTS)

    def stats_connections(self, c: list[Any]) -> Payload:
        return ev.ServerStats, self._stats(c, ev.StatsKeys.CONNECTIONS)

    @staticmethod
    def _stats(c: list[Any], keys: ev.StatsKeys) -> dict[str, Any]:
        n = _ints(c)
        return {"server": str(c[0]), "pending": n[0], "failed": n[1], "affinity": n[2], "total": n[3], "keys": keys}

    # ---- configuration
    def server_create(self, c: list[Any]) -> Payload:
        return ev.ServerCreate, {}

    def server_name(self, c: list[Any]) -> Payload:
        return ev.ServerName, {"server": str(c[0])}

    def server_clone_id(self, c: list[Any]) -> Payload:
        return ev.ServerCloneId, {"clone_id": str(c[0])}

    def server_list_add(self, c: list[Any]) -> Payload:
        return ev.ServerListAdd, {"server": str(c[0]), "server_list": ev.ServerList(str(c[1]))}

    def config_reloaded(self, c: list[Any]) -> Payload:
        return ev.ConfigReloaded, {"detail": str(c[0]).strip() if c else None}

    def config_error(self, c: list[Any]) -> Payload:
        return ev.ConfigError, {"text": "".join(str(t) for t in c)}

    # ---- ServerIOTimeout
    def sio_timeout(self, c: list[Any]) -> Payload:
        parts = dict(c)
        retry = parts.get("retry")
        return ev.ServerIOTimeoutFired, {
            "timeout": parts.get("timeout"),
            "retry_count": parts.get("retry_count"),
            "retry_limit": parts.get("retry_limit"),
            "retry": None if retry is None else retry.upper() == "YES",
            "rc": parts.get("rc"),
        }

    def sio_time_out(self, c: list[Any]) -> tuple[str, int]:
        return "timeout", int(c[0])

    def sio_retry_count(self, c: list[Any]) -> tuple[str, int]:
        return "retry_count", int(c[0])

    def sio_retry_limit(self, c: list[Any]) -> tuple[str, int]:
        return "retry_limit", int(c[0])

    def sio_retry(self, c: list[Any]) -> tuple[str, str]:
        return "retry", str(c[0])

    def sio_rc(self, c: list[Any]) -> tuple[str, int]:
        return "rc", int(c[0])

    # ---- HTTP
    def response_status(self, c: list[Any]) -> Payload:
        return ev.ResponseStatus, {
            "version": str(c[0]).strip(),
            "status": int(c[1]),
            "reason": str(c[2]).strip() if len(c) > 2 else "",
        }

    def request_line(self, c: list[Any]) -> Payload:
        return ev.HttpRequestLine, {"method": str(c[0]).strip(), "target": str(c[1]), "version": str(c[2])}

    def set_cookie_header(self, c: list[Any]) -> Payload:
        name, value = c[0]
        attrs = c[1] if len(c) > 1 else None
        return ev.SetCookieHeader, {"name": name, "value": value, "attributes": attrs}

    def cookie_header(self, c: list[Any]) -> Payload:
        return ev.CookieHeader, {"cookies": tuple(c)}

    def cookie_pair(self, c: list[Any]) -> tuple[str, str]:
        return str(c[0]), str(c[1]) if len(c) > 1 else ""

    def cookie_attrs(self, c: list[Any]) -> str:
        return str(c[0]) if c else ""

    def http_header(self, c: list[Any]) -> Payload:
        return ev.HttpHeader, {
            "name": str(c[0]).rstrip(": "),
            "value": str(c[1]) if len(c) > 1 else "",
        }

    # ---- banner
    def plugins_loaded(self, c: list[Any]) -> Payload:
        return ev.PluginsLoaded, {}

    def banner_field(self, c: list[Any]) -> Payload:
        return ev.BannerField, {"key": str(c[0]).strip(), "value": str(c[1]) if len(c) > 1 else ""}

    def banner_line(self, c: list[Any]) -> Payload:
        return ev.BannerLine, {"text": str(c[0])}


@functools.cache
def build_parser(strict: bool = False, lenient: bool = False) -> Lark:
    """The LALR parser for every start symbol, with the event transformer inside it; ``lenient``: the
    grammar as ``--lenient`` reads excerpts (typographic quotes accepted as quotes)."""
    return Lark(
        grammar_text(lenient),
        # NOTE: the path lets lark resolve the grammar's `%import .header` beside it, as Lark.open would;
        # it also keys the on-disk cache, which lark checks against the imported file's hash
        source_path=str(grammar_path(MAIN_GRAMMAR)),
        parser="lalr",
        lexer="contextual",
        start=list(START_SYMBOLS),
        transformer=_ToEvents(),
        strict=strict,
        maybe_placeholders=False,
        # the LALR tables are cached on disk (keyed by the grammar's hash and lark's version): the
        # grammar analysis costs a second at every start otherwise
        cache=not strict,
    )
