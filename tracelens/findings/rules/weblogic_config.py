"""Findings stage: WebLogic plug-in configuration rules (TL607-TL614, ``config.weblogic-*``), from ``--config``.

Every fact a rule rests on is in weblogic-facts.md; the section is named in the rule's documentation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from tracelens.config.weblogic import DEFAULT_WL_IO_TIMEOUT_SECS, Setting, WebLogicConfig, WebLogicSettings
from tracelens.findings.base import Context, Finding, Rule, Severity


def _each(ctx: Context) -> Iterator[tuple[WebLogicConfig, WebLogicSettings]]:
    if ctx.weblogic_config is not None:
        for settings in ctx.weblogic_config.settings:
            yield ctx.weblogic_config, settings


def _line(setting: Setting[Any], settings: WebLogicSettings) -> int | None:
    """The line a finding points at: the setting's own, else where its block opens."""
    return setting.origin.line if setting.origin.line is not None else settings.line


class WebLogicConfigProblem(Rule):
    """The WebLogic plug-in configuration has values the plug-in would not use as written.

    What it finds:
    Values that are not of the documented form (`Idempotent` not ON or OFF, seconds that are not whole
    numbers, `WebLogicCluster` entries that are not `host:port`, `Debug` levels outside ON, OFF, HFC,
    HTW, HFW, HTC, ERR, ALL; weblogic-facts.md §1 and §4), a `<Location>` with `SetHandler
    weblogic-handler` but no server, sections that are never closed.

    Why it matters:
    The plug-in (or Apache, refusing to start) does something else than the file seems to say; tracelens
    reads such a value as the documented default.

    Example:
    `WebLogicCluster host1:port1,host2:port2` (placeholders copied from an article).

    What to do:
    Fix the line named, then reload the web server.
    """

    code, name, severity = "TL607", "config.weblogic-problem", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.weblogic_config is None:
            return
        for problem in ctx.weblogic_config.problems:
            yield self.finding(problem.message, file=ctx.weblogic_config.path, line=problem.line)


class WebLogicIoTimeout(Rule):
    """A long WLIOTimeoutSecs: with Idempotent ON a slow request is sent again; with OFF users wait, then fail.

    What it finds:
    Settings whose `WLIOTimeoutSecs` (or the older `HungServerRecoverSecs`) is longer than its default,
    300 s.

    Why it matters:
    A server that gives no answer within WLIOTimeoutSecs is declared dead, and the request fails over
    only if `Idempotent ON`, the default (weblogic-facts.md §4.6). With ON the request is sent again to
    another server after all that time, although the first may still be carrying it out: a POST runs
    twice (duplicate orders), long after the user gave up or pressed again. With OFF every request to a
    hung server holds its user that long and then fails.

    Example:
    `WLIOTimeoutSecs 600` with `Idempotent OFF` (a Pega set-up).

    What to do:
    Keep WLIOTimeoutSecs a little above the slowest legitimate response; set `Idempotent OFF` where
    requests change data, or make them safe to repeat.
    """

    code, name, severity = "TL608", "config.weblogic-io-timeout", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        for cfg, s in _each(ctx):
            timeout = s.wl_io_timeout_secs
            if timeout.value <= DEFAULT_WL_IO_TIMEOUT_SECS:
                continue
            name = timeout.origin.directive or "WLIOTimeoutSecs"
            if s.idempotent.value:
                effect = (f"with Idempotent ON{' (the default)' if s.idempotent.origin.is_default else ''} a "
                          f"request a server has not answered in {timeout.value} s is sent again to another "
                          "server, which may run a POST twice")
            else:
                effect = (f"with Idempotent OFF a request to a hung server holds its user {timeout.value} s and "
                          "then fails, without failing over")
            yield self.finding(f"{s.name}: {name} {timeout.value} s is longer than the default "
                               f"{DEFAULT_WL_IO_TIMEOUT_SECS} s: {effect}", file=cfg.path, line=_line(timeout, s))


class WebLogicStaticSingleServer(Rule):
    """DynamicServerList OFF with one server: the plug-in has nowhere to fail over.

    What it finds:
    Settings with `DynamicServerList OFF` and a server list of one `host:port` (or `WebLogicHost`).

    Why it matters:
    With `DynamicServerList ON` (the default) the list is refreshed from WebLogic's responses; OFF keeps
    the static list (weblogic-facts.md §4.1). One server in a static list means every failure of it is
    an error page: no secondary, no other server to try.

    Example:
    `WebLogicCluster wls1:7001` and `DynamicServerList OFF`.

    What to do:
    List every cluster member in WebLogicCluster, or set `DynamicServerList ON`.
    """

    code, name, severity = "TL609", "config.weblogic-static-single-server", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        for cfg, s in _each(ctx):
            if len(s.servers.value) == 1 and not s.dynamic_server_list.value:
                yield self.finding(f"{s.name}: DynamicServerList OFF and one server, {s.servers.value[0]}: "
                                   "the plug-in cannot fail over", file=cfg.path, line=_line(s.servers, s))


class WebLogicSingleHost(Rule):
    """Every server of the cluster list is on one host: a session's two copies share a machine.

    What it finds:
    Server lists of two or more entries whose host names are all the same.

    Why it matters:
    The primary chooses a secondary on another machine first, and one on the same machine last
    (weblogic-facts.md §5); with every server on one host, both copies of every session are lost with
    that machine.

    Example:
    `WebLogicCluster app1:7003,app1:7004`.

    What to do:
    Spread the cluster over machines (and name them all in the list), or accept that the cluster
    protects from a server's failure only, not a machine's.
    """

    code, name, severity = "TL610", "config.weblogic-single-host", Severity.INFO

    def check(self, ctx: Context) -> Iterator[Finding]:
        for cfg, s in _each(ctx):
            hosts = {server.host.lower() for server in s.servers.value}
            if len(s.servers.value) >= 2 and len(hosts) == 1:
                yield self.finding(f"{s.name}: all {len(s.servers.value)} servers are on {next(iter(hosts))}: a "
                                   "session's primary and secondary copies share that machine",
                                   file=cfg.path, line=_line(s.servers, s))


class WebLogicDuplicateServer(Rule):
    """The server list names a host:port more than once.

    What it finds:
    `WebLogicCluster` entries that repeat a `host:port` (host names compared without case).

    Why it matters:
    New sessions are spread round robin over the list (weblogic-facts.md §4.2); a server listed twice is
    probably a copy-and-paste slip, and may stand where another member was meant to be.

    Example:
    `WebLogicCluster wls1:7001,wls2:7001,wls1:7001`.

    What to do:
    List each server once; add the member that was meant.
    """

    code, name, severity = "TL611", "config.weblogic-duplicate-server", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        for cfg, s in _each(ctx):
            counts = Counter((server.host.lower(), server.port) for server in s.servers.value)
            twice = [f"{host}:{port} ({n} times)" for (host, port), n in counts.items() if n > 1]
            if twice:
                yield self.finding(f"{s.name}: the server list repeats {', '.join(twice)}", file=cfg.path,
                                   line=_line(s.servers, s))


class WebLogicDebug(Rule):
    """Debug ALL, or a header level, is on: the plug-in logs every request's headers.

    What it finds:
    `Debug` set to ALL or to one of HFC, HTW, HFW, HTC (headers from the client, to WebLogic, from
    WebLogic, to the client; weblogic-facts.md §1).

    Why it matters:
    These levels write several lines per request, session cookies included, to `wlproxy.log` or the
    file `WLLogFile` names: on a busy production server the file grows fast and holds credentials.

    Example:
    `Debug All` with `WLLogFile /path/logs/WLDebug.log`.

    What to do:
    Turn it off (`Debug OFF`, or ERR) once the capture is done.
    """

    code, name, severity = "TL612", "config.weblogic-debug", Severity.INFO

    LOUD = frozenset({"ALL", "HFC", "HTW", "HFW", "HTC"})

    def check(self, ctx: Context) -> Iterator[Finding]:
        for cfg, s in _each(ctx):
            loud = [level for level in s.debug.value if level in self.LOUD]
            if loud:
                where = s.log_file.value or "wlproxy.log in the temporary directory"
                yield self.finding(f"{s.name}: Debug {','.join(s.debug.value)} logs request headers and session "
                                   f"cookies to {where}", file=cfg.path, line=_line(s.debug, s))


class WebLogicMaxSkipTime(Rule):
    """MaxSkipTime is shorter than ConnectTimeoutSecs: a dead server is tried again before one try can end.

    What it finds:
    Settings whose `MaxSkipTime` (default 10 s) is shorter than `ConnectTimeoutSecs` (default 10 s).

    Why it matters:
    A server marked bad is skipped for MaxSkipTime, then tried again (weblogic-facts.md §4.5); a connect
    attempt may take ConnectTimeoutSecs (§4.6). When the skip ends sooner than an attempt can, a server
    that is down keeps costing requests a full connect timeout.

    Example:
    `ConnectTimeoutSecs 120` with the default `MaxSkipTime` of 10 s.

    What to do:
    Lower ConnectTimeoutSecs, or raise MaxSkipTime above it.
    """

    code, name, severity = "TL613", "config.weblogic-max-skip-time", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        for cfg, s in _each(ctx):
            skip, connect = s.max_skip_time, s.connect_timeout_secs
            if skip.value < connect.value:
                shown = f"{skip.value} s{' (the default)' if skip.origin.is_default else ''}"
                yield self.finding(f"{s.name}: MaxSkipTime {shown} is shorter than ConnectTimeoutSecs "
                                   f"{connect.value} s: a server that is down is tried again before one connect "
                                   "attempt to it can time out", file=cfg.path,
                                   line=_line(skip if not skip.origin.is_default else connect, s))


class WebLogicUnknownDirective(Rule):
    """A directive looks like the plug-in's but is none of them: probably a typo, and ignored.

    What it finds:
    In a WebLogic block, directives that start with `WL` or `WebLogic` or nearly match a plug-in
    parameter without being one; in `weblogic.conf` / `iisproxy.ini`, any key the plug-in does not
    document.

    Why it matters:
    The setting the line was meant to change keeps its default (for instance `Idempotent` ON).

    Example:
    `DynamicServerLst OFF`.

    What to do:
    Spell it as the Oracle plug-in guide does.
    """

    code, name, severity = "TL614", "config.weblogic-unknown-directive", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        seen: set[int] = set()  # an inherited directive is listed by every location; report it once
        for cfg, s in _each(ctx):
            for d in s.unknown:
                if d.line not in seen:
                    seen.add(d.line)
                    yield self.finding(f"{s.name}: {d.name} is not a WebLogic plug-in parameter; the plug-in "
                                       "ignores it", file=cfg.path, line=d.line)
