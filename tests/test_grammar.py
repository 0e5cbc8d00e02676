"""The grammar, rule by rule, on real lines (each names its source; keys as in plugin-facts.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from lark import Lark, Tree
from lark.load_grammar import GrammarBuilder

from tracelens.parse import events as ev
from tracelens.parse import weblogic_events as wl
from tracelens.parse.grammar import START_SYMBOLS, build_parser
from tracelens.parse.parser import RecordParser
from tracelens.read import header
from tracelens.read.grammar_files import grammar_path
from tracelens.read.reader import RawRecord

GRAMMARS = Path(__file__).resolve().parent.parent / "grammars"

H = "[Mon Jun 07 10:15:20 2004] 00001a2c 00000f10 - "


def parse(text: str, lenient: bool = False) -> ev.Event:
    return RecordParser(lenient=lenient).parse(RawRecord("t.log", 7, text))


def test_grammar_builds_with_lark_strict() -> None:
    # strict=True: no shift/reduce conflict, no two regex terminals that can collide in one state
    build_parser(strict=True)
    build_parser(strict=True, lenient=True)  # with grammars/lenient.lark's overrides


def test_grammar_ships_as_a_top_level_file() -> None:
    assert grammar_path().name == "plugin_log.lark"
    assert grammar_path().is_file()
    assert grammar_path("lenient.lark").is_file()
    assert grammar_path("header.lark").is_file()


def _standalone(**options: object) -> Lark:
    """plugin_log.lark as any lark user opens it: no tracelens code, its one import resolved beside it."""
    return Lark.open(str(GRAMMARS / "plugin_log.lark"), parser="lalr", lexer="contextual",
                     start=list(START_SYMBOLS), maybe_placeholders=False, **options)


def test_the_grammar_file_builds_on_its_own() -> None:
    parser = _standalone(strict=True)
    tree = parser.parse("[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 - ERROR: ws_common: websphereGetStream: "
                        "Connect timeout fired", start="record")
    assert isinstance(tree, Tree) and tree.data == "record"
    # the header's terminals came from header.lark: the tokens of the header are theirs
    assert [t.type for t in tree.scan_values(lambda v: True)][:5] == ["ASCTIME", "PROCID", "PROCID", "LEVEL",
                                                                      "COMPONENT"]


# ---------------------------------------------------------------- headers (§1.1)


@pytest.mark.parametrize(
    ("line", "time", "pid", "tid"),
    [
        # CNB, zero-padded day
        ("[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 - ERROR: ws_common: websphereGetStream: Connect timeout fired",
         datetime(2014, 12, 3, 15, 40, 13), "00000dbc", "00000e78"),
        # TN-EVEN, space-padded day, Unix pthread id
        ("[Wed Oct  6 13:51:03 2010] 000015f9 f122cba0 - STATS: ws_server: serverSetFailoverStatus: Server "
         "Node01_member1 : pendingRequests 0 failedRequests 0 affinityRequests 400 totalRequests 412.",
         datetime(2010, 10, 6, 13, 51, 3), "000015f9", "f122cba0"),
        # AIXS, 8.5 style with five fractional digits
        ("[11/Sep/2017:18:43:58.84049] 006a00f8 00000001 - PLUGIN: Plugins loaded.",
         datetime(2017, 9, 11, 18, 43, 58, 840490), "006a00f8", "00000001"),
        # COV regex for IBM i: job name, then decimal pid and tid
        ("[11/Sep/2017:18:43:58.84049] 123456/QTMHHTTP/WEBSRV 4711 12 - TRACE: ws_common: websphereEndRequest: "
         "Ending the request", datetime(2017, 9, 11, 18, 43, 58, 840490), "123456/QTMHHTTP/WEBSRV:4711", "12"),
        # pid and tid of 1 and 16 hex digits
        ("[Wed Dec 03 15:40:13 2014] a 0123456789abcdef - TRACE: errno 0",
         datetime(2014, 12, 3, 15, 40, 13), "a", "0123456789abcdef"),
    ],
)
def test_headers(line: str, time: datetime, pid: str, tid: str) -> None:
    event = parse(line)
    assert not isinstance(event, ev.Unparsed), event
    assert (event.time, event.pid, event.tid) == (time, pid, tid)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("ws_common: websphereGetStream: Connect timeout fired", "no record header"),
        ("[Wed Dec 3 15:40:13 2014] 00000dbc 00000e78 - TRACE: errno 0", "malformed timestamp"),
        ("[Wed Dec 03 15:40:13 2014] 00000dbc00000e78aaaaa 00000e78 - TRACE: errno 0",
         "malformed process or thread id"),
        ("[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 - INFO: hello", "unknown level word"),
        ("[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 - ", "header without a record"),
        ("[Wed Feb 30 15:40:13 2014] 00000dbc 00000e78 - TRACE: errno 0", "invalid header value"),
        ("\x00\x00\x00\x00", "control characters"),
    ],
)
def test_malformed_records_are_unparsed_with_a_reason(line: str, reason: str) -> None:
    event = parse(line)
    assert isinstance(event, ev.Unparsed)
    assert event.reason.startswith(reason), event.reason
    assert event.text == line and event.line == 7


@pytest.mark.parametrize("level", ["TRACE", "STATS", "ERROR", "WARNING", "DEBUG", "DETAIL", "PLUGIN"])
def test_levels(level: str) -> None:
    event = parse(f"{H}{level}: ws_common: websphereEndRequest: Ending the request")
    assert event.level == ev.Level(level)


# ---------------------------------------------------------------- bodies (§1.3)


def test_body_without_component_is_a_generic_message() -> None:
    # CNB: select() diagnostics during a non-blocking connect
    event = parse("[Wed Dec 03 17:17:12 2014] 00001220 000012a4 - TRACE: errno 0")
    assert isinstance(event, ev.Message)
    assert (event.component, event.function, event.text) == (None, None, "errno 0")


def test_located_message_without_typed_rule_keeps_component_and_function() -> None:
    # TN-ERR/CNB-era line; ESI is a component of its own (§1.3.1)
    event = parse(f"{H}ERROR: ESI: getResponse: failed to get response: rc = 2")
    assert isinstance(event, ev.Message)
    assert (event.component, event.function, event.text) == ("ESI", "getResponse", "failed to get response: rc = 2")


def test_empty_body() -> None:
    event = parse(f"{H}TRACE:")
    assert isinstance(event, ev.Message) and event.text == ""


# ---------------------------------------------------------------- typed events: (line, kind, fields, source)

CASES: list[tuple[str, type[ev.Event], dict[str, object], str]] = [
    # seed 000 = RB51 Example 5-19 (failover and failback)
    ("TRACE: ws_server: serverCreate: Creating the server object", ev.ServerCreate, {}, "seed 000"),
    ("TRACE: ws_server: serverSetName: Setting name was1node_PluginMember1", ev.ServerName,
     {"server": "was1node_PluginMember1"}, "seed 000"),
    ("TRACE: ws_server: serverSetCloneID: Setting clone id v544d031", ev.ServerCloneId,
     {"clone_id": "v544d031"}, "seed 000"),
    ("TRACE: ws_common: websphereHandleSessionAffinity: Checking the cookie affinity: JSESSIONID", ev.AffinityCheck,
     {"source": ev.AffinitySource.COOKIE, "name": "JSESSIONID"}, "seed 000"),
    ("TRACE: lib_htrequest: htrequestGetCookieValue: Looking for cookie: 'JSESSIONID'", ev.CookieLookup,
     {"name": "JSESSIONID"}, "seed 000"),
    ("TRACE: lib_htrequest: htrequestGetCookieValue: name='JSESSIONID', value='0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031'",
     ev.CookieValue, {"name": "JSESSIONID", "value": "0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031"}, "seed 000"),
    ("TRACE: ws_common: websphereParseCloneID: Parsing clone ids from '0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031'",
     ev.CloneIdsParse, {"value": "0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031"}, "seed 000"),
    ("TRACE: ws_common: websphereParseCloneID: Adding clone id 'v544d031'", ev.CloneIdAdded,
     {"clone_id": "v544d031"}, "seed 000"),
    ("TRACE: ws_common: websphereParseCloneID: Returning list of clone ids", ev.CloneIdsReturned, {}, "seed 000"),
    ("TRACE: ws_server_group: serverGroupFindClone: Looking for clone", ev.CloneLookup, {}, "seed 000"),
    ("TRACE: ws_server_group: serverGroupGetFirstPrimaryServer: getting the first primary server", ev.ServerListWalk,
     {"position": ev.WalkPosition.FIRST, "server_list": ev.ServerList.PRIMARY}, "seed 000"),
    ("TRACE: ws_server_group: serverGroupGetNextUpPrimaryServer: Getting the next up primary server",
     ev.ServerListWalk, {"position": ev.WalkPosition.NEXT_UP, "server_list": ev.ServerList.PRIMARY}, "seed 000"),
    ("TRACE: ws_server_group: serverGroupGetNextServer: getting the next server", ev.ServerListWalk,
     {"position": ev.WalkPosition.NEXT, "server_list": ev.ServerList.ALL}, "seed 000"),
    ("TRACE: ws_server_group: serverGroupFindClone: Comparing curCloneID 'v544d031' to server clone id 'v544d0o0'",
     ev.CloneCompare, {"cookie_clone_id": "v544d031", "server_clone_id": "v544d0o0"}, "seed 000"),
    ("TRACE: ws_server_group: serverGroupFindClone: Match for clone 'was1node_PluginMember1'", ev.CloneMatch,
     {"server": "was1node_PluginMember1"}, "seed 000"),
    ("TRACE: ws_server_group: serverGroupFindClone: Returning next up server was2Node_PluginMember2", ev.CloneNextUp,
     {"server": "was2Node_PluginMember2"}, "seed 000"),
    ("TRACE: ws_common: websphereHandleSessionAffinity: Setting server to was2Node_PluginMember2",
     ev.AffinityServerSet, {"server": "was2Node_PluginMember2"}, "seed 000"),
    ("TRACE: ws_transport: transportStreamDequeue: Checking for existing stream from the queue", ev.StreamDequeue,
     {}, "seed 000"),
    ("ERROR: ws_common: websphereGetStream: Failed to connect to app server on host 'app1.itso.ibm.com', OS err=10061",
     ev.ConnectFailed, {"host": "app1.itso.ibm.com", "errno": 10061, "local_port": None}, "seed 000"),
    ("ERROR: ws_common: websphereExecute: Failed to create the stream", ev.StreamCreateFailed, {}, "seed 000"),
    ("ERROR: ws_server: serverSetFailoverStatus: Marking was1node_PluginMember1 down", ev.MarkedDown,
     {"server": "was1node_PluginMember1"}, "seed 000"),
    ("STATS: ws_server: serverSetFailoverStatus: Server was1node_PluginMember1 : pendingConnections 0 "
     "failedConnections 1 affinityConnections 2 totalConnections 2.", ev.ServerStats,
     {"server": "was1node_PluginMember1", "pending": 0, "failed": 1, "affinity": 2, "total": 2,
      "keys": ev.StatsKeys.CONNECTIONS}, "seed 000"),
    ("ERROR: ws_common: websphereHandleRequest: Failed to execute the transaction to 'was1node_PluginMember1'on host "
     "'app1.itso.ibm.com'; will try another one", ev.TransactionFailed,
     {"server": "was1node_PluginMember1", "host": "app1.itso.ibm.com", "will_retry": True}, "seed 000"),
    ("TRACE: ws_server: serverHasReachedMaxConnections: currentConnectionsCount 0, maxConnectionsCount -1.",
     ev.MaxConnectionsCheck, {"current": 0, "maximum": -1}, "seed 000"),
    ("STATS: ws_server_group: serverGroupCheckServerStatus: Checking status of was1node_PluginMember1, "
     "ignoreWeights 1, markedDown 1, retryNow 0, wlbAllows 0 reachedMaxConnectionsLimit 0", ev.StatusCheck,
     {"server": "was1node_PluginMember1", "ignore_weights": 1, "marked_down": 1, "retry_now": 0, "retry_in_sec": None,
      "wlb_allows": 0, "reached_max_connections": 0}, "seed 000"),
    ("TRACE: ws_server_group: serverGroupCheckServerStatus: Server was1node_PluginMember1 is marked down; retry in 55",
     ev.MarkedDownRetry, {"server": "was1node_PluginMember1", "retry_in": 55}, "seed 000"),
    ("TRACE: ws_server_group: serverGroupCheckServerStatus: Time to retry server was1node_PluginMember1", ev.RetryDue,
     {"server": "was1node_PluginMember1"}, "seed 000"),
    ("TRACE: ws_server_group: serverGroupIncrementConnectionCount: Server was2Node_PluginMember2 picked, "
     "pendingConnectionCount 1 totalConnectionsCount 2.", ev.ConnectionCount,
     {"server": "was2Node_PluginMember2", "pending": 1, "total": 2}, "seed 000"),
    ("TRACE: ws_common: websphereExecute: Wrote the request; reading the response", ev.RequestWritten, {}, "seed 000"),
    ("TRACE: lib_htresponse: htresponseRead: Reading the response: b2c384", ev.ResponseReading,
     {"detail": "b2c384"}, "seed 000"),
    ("TRACE: HTTP/1.1 200 OK", ev.ResponseStatus, {"version": "HTTP/1.1", "status": 200, "reason": "OK"}, "seed 000"),
    ("TRACE: Server: WAS/5.1", ev.HttpHeader, {"name": "Server", "value": "WAS/5.1"}, "seed 000"),
    ("TRACE: Set-Cookie: JSESSIONID=0002IWuUT_zhR-gFYB-pOAk75Q5:v544d031:v544d0o0;Path=/", ev.SetCookieHeader,
     {"name": "JSESSIONID", "value": "0002IWuUT_zhR-gFYB-pOAk75Q5:v544d031:v544d0o0", "attributes": "Path=/"},
     "seed 000"),
    ("TRACE: ws_server_group: assureWeightsValid: group PluginCluster", ev.WeightsCheck,
     {"cluster": "PluginCluster"}, "seed 000"),
    ("TRACE: ws_server_group: weights_need_reset: was1node_PluginMember1: 4 max, 0 cur.", ev.WeightState,
     {"server": "was1node_PluginMember1", "max_weight": 4, "cur_weight": 0}, "seed 000"),
    ("TRACE: ws_server_group: weights_need_reset: Time to reset the weights", ev.WeightsReset, {}, "seed 000"),
    ("TRACE: ws_server_group: assureWeightsValid: max multiplication factor 1.", ev.WeightsFactor,
     {"factor": 1}, "seed 000"),
    ("TRACE: ws_server_group: assureWeightsValid: Server was2Node_PluginMember2: 1 max, 1 cur.", ev.WeightState,
     {"server": "was2Node_PluginMember2", "max_weight": 1, "cur_weight": 1}, "seed 000"),
    ("TRACE: ws_server_group: lockedServerGroupUseServer: Server was1node_PluginMember1 picked, weight -1.",
     ev.ServerPicked, {"server": "was1node_PluginMember1", "weight": -1}, "seed 000"),
    ("TRACE: ws_common: websphereFindTransport: Finding the transport", ev.TransportLookup, {}, "seed 000"),
    # CNB (2014 plug-in on Windows)
    ("TRACE: ws_server_group: lockedServerGroupUseServer: Server wasserver_abc picked, weight 2.", ev.ServerPicked,
     {"server": "wasserver_abc", "weight": 2}, "CNB"),
    ("DETAIL: ws_common: websphereFindTransport: Setting the transport(case 1): wasserver on port 9444",
     ev.TransportSet, {"host": "wasserver", "port": 9444, "case": 1}, "CNB"),
    ("TRACE: ws_common: websphereGetStream: Have a connect timeout of 5; Setting socket to not block for the connect",
     ev.ConnectTimeoutSetting, {"seconds": 5}, "CNB"),
    ("DEBUG: ws_common: websphereGetStream: Getting the stream to the app server", ev.StreamGet, {}, "CNB"),
    ("TRACE: ws_common: websphereExecute: Executing the transaction with the app server reqInfo is "
     "OKuseExistingStream=0, client->stream=00000000", ev.TransactionExecute,
     {"detail": "reqInfo is OKuseExistingStream=0, client->stream=00000000"}, "CNB"),
    ("ERROR: ws_common: websphereGetStream: Connect timeout fired", ev.ConnectTimeoutFired, {}, "CNB"),
    ("ERROR: ws_common: websphereWriteRequestReadResponse: Failed to find an app server to handle this request",
     ev.NoAppServer, {}, "CNB"),
    ("ERROR: ws_common: websphereHandleRequest: Failed to handle request", ev.RequestFailed, {}, "CNB"),
    # AIXS (8.5/9 era)
    ("STATS: ws_server_group: serverGroupCheckServerStatus: Checking status of megaNode01_tisales3, ignoreWeights 1, "
     "markedDown 0, retryNow 0, retryInSec --, wlbAllows 0 reachedMaxConnectionsLimit 0", ev.StatusCheck,
     {"server": "megaNode01_tisales3", "marked_down": 0, "retry_in_sec": None, "reached_max_connections": 0}, "AIXS"),
    ("ERROR: ws_common: websphereGetStream: Failed to connect to app server on host 'popeye' (79): Connect (local port "
     "4096)", ev.ConnectFailed, {"host": "popeye", "errno": 79, "local_port": 4096}, "AIXS"),
    ("PLUGIN: Plugins loaded.", ev.PluginsLoaded, {}, "AIXS"),
    # RB51 Example 9-8 (ordered routing), 5.1 status line without retryInSec
    ("TRACE: ws_server_group: serverGroupCheckServerStatus: Checking status of HAClusterServer1, ignoreWeights 1, "
     "markedDown 1, retryNow 0, wlbAllows 0", ev.StatusCheck,
     {"server": "HAClusterServer1", "marked_down": 1, "retry_in_sec": None, "reached_max_connections": None}, "RB51"),
    # RB51 Example 5-12 banner, Example 5-14 affinity, Example 9-2 list build
    ("PLUGIN: Bld version: 5.1.", ev.BannerField, {"key": "Bld version", "value": "5.1."}, "RB51 Ex 5-12"),
    ("PLUGIN: --------------------System Information-----------------------", ev.BannerLine, {}, "RB51 Ex 5-12"),
    ("TRACE: ws_common: websphereWriteRequestReadResponse: Enter", ev.FunctionEnter, {}, "RB51 Ex 5-14"),
    ("TRACE: ws_common: websphereHandleSessionAffinity: Checking for session affinity", ev.AffinityStart, {},
     "RB51 Ex 5-14"),
    ("TRACE: ws_common: websphereHandleSessionAffinity: Checking the SSL session id", ev.AffinityCheck,
     {"source": ev.AffinitySource.SSL}, "RB51 Ex 5-14"),
    ("TRACE: ws_server_group: serverGroupAddPrimaryServerName: adding WebHAbbMember1 to primary server list",
     ev.ServerListAdd, {"server": "WebHAbbMember1", "server_list": ev.ServerList.PRIMARY}, "RB51 Ex 9-2"),
    ("TRACE: ws_server_group: serverGroupAddBackupServerName: adding WebHAbbMember2 to backup server list",
     ev.ServerListAdd, {"server": "WebHAbbMember2", "server_list": ev.ServerList.BACKUP}, "RB51 Ex 9-2"),
    # TN-EVEN: STATS with the 7.0+ key set
    ("STATS: ws_server: serverSetFailoverStatus: Server Node01_member1 : pendingRequests 0 failedRequests 0 "
     "affinityRequests 400 totalRequests 412.", ev.ServerStats,
     {"server": "Node01_member1", "affinity": 400, "total": 412, "keys": ev.StatsKeys.REQUESTS}, "TN-EVEN"),
    # blog-quoted ServerIOTimeout line without component (§2.5)
    ("ERROR: ServerIOTimeout fired. Time out 60. retry count 0. serverIOTimeoutRetry -1, retry YES, rc 10",
     ev.ServerIOTimeoutFired, {"timeout": 60, "retry_count": 0, "retry_limit": -1, "retry": True, "rc": 10},
     "webspherelinks blog"),
    # COV regexes (scanplugin.pl)
    ("DETAIL:    Set-Cookie: JSESSIONID=0000A2MB4IJozU_VM8IffsMNfdR:v544d0o0; Path=/", ev.SetCookieHeader,
     {"name": "JSESSIONID", "value": "0000A2MB4IJozU_VM8IffsMNfdR:v544d0o0"}, "COV"),
    ("TRACE: ws_common: websphereEndRequest: Ending the request", ev.RequestEnd, {}, "COV"),
    ("ERROR: ws_server_group: serverGroupNextRoundRobinServer: Failed to find a server; all could be down",
     ev.NoServer, {"all_down": True}, "COV"),
    ("TRACE: lib_htrequest: htrequestWrite: Writing the request content, length 1024", ev.RequestContent,
     {"length": 1024}, "COV"),
    ("TRACE: lib_htrequest: htrequestWrite: Writing the request:", ev.RequestWriting, {}, "[U] §1.3.4"),
    ("TRACE: ws_transport: transportStreamDequeue: Created a new stream; queue was empty, socket = 12",
     ev.StreamCreated, {"detail": "socket = 12"}, "COV regex"),
    # [U] forms from plugin-facts.md: accepted, never relied on
    ("TRACE: ws_common: websphereHandleRequest: Handling WebSphere request", ev.RequestHandling, {}, "COV regex"),
    ("TRACE: ws_common: websphereWriteRequestReadResponse: Exit", ev.FunctionExit, {"detail": None}, "[U]"),
    ("TRACE: ws_server: serverSetFailoverStatus: Marking was1node_PluginMember1 up", ev.MarkedUp,
     {"server": "was1node_PluginMember1"}, "[U] §2.4"),
    ("TRACE: lib_htrequest: htrequestGetCookieValue: No cookie found for: 'SSLJSESSION'", ev.CookieNotFound,
     {"name": "SSLJSESSION"}, "[U] §2.1"),
    ("TRACE: ws_common: websphereHandleSessionAffinity: Checking the url rewrite affinity: jsessionid",
     ev.AffinityCheck, {"source": ev.AffinitySource.URL, "name": "jsessionid"}, "[U] §2.1"),
    ("TRACE: ws_common: websphereParseSessionID: Parsing session id from '/app;jsessionid=0000abc:v1'",
     ev.UrlSessionParse, {"uri": "/app;jsessionid=0000abc:v1"}, "[U] §2.1"),
    ("TRACE: ws_common: websphereParseSessionID: Failed to parse session id", ev.UrlSessionNotFound, {}, "[U] §2.1"),
    ("DEBUG: ws_common: websphereShouldHandleRequest: trying to match a route for: vhost='www.example.com'; "
     "uri='/app/cart'", ev.RouteLookup, {"vhost": "www.example.com", "uri": "/app/cart"}, "[U] §1.5"),
    ("DETAIL: ws_common: websphereBeginRequest: Request is: host='www.example.com'; uri='/app/cart'", ev.RequestInfo,
     {"fields": (("host", "www.example.com"), ("uri", "/app/cart"))}, "COV regex"),
    ("WARNING: ws_server_group: serverGroupCheckServerStatus: Server member1 has reached maximum connections and is "
     "not selected", ev.MaxConnectionsReached, {"server": "member1"}, "[U] §2.5"),
    ("TRACE: ws_server_group: serverGroupDecrementConnectionCount: Server member1 picked, pendingConnectionCount 0 "
     "totalConnectionsCount 7.", ev.ConnectionCount, {"server": "member1", "pending": 0, "total": 7}, "[U] §2.3"),
    ("TRACE: ws_common: websphereExecute: Failed to read from a new stream; App Server may have gone down during read",
     ev.ReadFailed, {}, "[U] §2.5"),
    ("ERROR: ws_common: websphereFindServer: Failed to find a server", ev.NoServer, {"all_down": False}, "[U] §2.3"),
    ("TRACE: ws_server_group: serverGroupNextRoundRobinServer: Round Robin load balancing", ev.LoadBalanceMode,
     {"mode": "Round Robin"}, "[U] §2.3"),
    ("TRACE: ws_server_group: serverGroupNextRoundRobinServer: numPrimaryServers is 2", ev.PrimaryServerCount,
     {"count": 2}, "[U] §2.3"),
    ("ERROR: ws_config_parser: configParserParse: Failed to parse the config file", ev.ConfigError, {}, "TN-DNS"),
    ("ERROR: ws_common: websphereUpdateConfig: Failed parsing the plugin config file", ev.ConfigError, {}, "TN-ERR"),
    ("TRACE: ws_common: websphereUpdateConfig: Config was successfully reloaded", ev.ConfigReloaded, {}, "COV"),
    ("TRACE:    GET /hitcount HTTP/1.1", ev.HttpRequestLine,
     {"method": "GET", "target": "/hitcount", "version": "HTTP/1.1"}, "[U] §1.3.4"),
    ("TRACE:    Cookie: LtpaToken2=abc; JSESSIONID=0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031", ev.CookieHeader,
     {"cookies": (("LtpaToken2", "abc"), ("JSESSIONID", "0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031"))}, "[U] §1.3.4"),
]


@pytest.mark.parametrize(("body", "cls", "fields", "source"), CASES,
                         ids=[f"{c[1].kind}-{i}" for i, c in enumerate(CASES)])
def test_typed_events(body: str, cls: type[ev.Event], fields: dict[str, object], source: str) -> None:
    event = parse(H + body)
    assert type(event) is cls, (source, event)
    for name, value in fields.items():
        assert getattr(event, name) == value, (source, name)
    assert event.file == "t.log" and event.line == 7 and event.pid == "00001a2c"


@pytest.mark.parametrize(("body", "cls", "fields", "source"), CASES[:12], ids=[c[1].kind for c in CASES[:12]])
def test_documentation_bodies_parse_without_header_in_lenient_mode(
    body: str, cls: type[ev.Event], fields: dict[str, object], source: str
) -> None:
    event = parse(body, lenient=True)
    assert type(event) is cls and event.time is None and event.pid is None


def test_lenient_accepts_a_body_without_level_word() -> None:
    # RB51 prints some records as `ws_common: ...` with no level
    event = parse("ws_common: websphereEndRequest: Ending the request", lenient=True)
    assert type(event) is ev.RequestEnd and event.level is None


def test_without_lenient_a_header_less_body_is_unparsed() -> None:
    assert isinstance(parse("TRACE: ws_common: websphereEndRequest: Ending the request"), ev.Unparsed)


def test_header_regex_finds_every_header_of_a_line() -> None:
    line = "[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 - TRACE: x[11/Sep/2017:18:43:58.84049] 6a 1 - TRACE: y"
    assert [m.start() for m in header.HEADER.finditer(line)] == [0, line.index("[11/")]


def test_the_grammar_header_terminals_are_the_readers() -> None:
    # the reader splits records by tracelens.read.header; the grammar must parse exactly those headers:
    # the parser tracelens builds and the grammar file opened alone both take them from header.lark
    for parser in (build_parser(), build_parser(lenient=True), _standalone()):
        terminals = {t.name: t for t in parser.terminals}
        for name, regex in header.TERMINALS:
            plain, _, priority = name.partition(".")
            assert terminals[plain].pattern.to_regexp() == regex
            assert terminals[plain].priority == int(priority or 0)


def test_the_readers_header_regex_is_made_of_the_grammars_terminals() -> None:
    # lark's own reading of header.lark, every terminal it defines, against the reader's line-by-line one
    builder = GrammarBuilder()
    builder.load_grammar((GRAMMARS / "header.lark").read_text(encoding="utf-8"), str(GRAMMARS / "header.lark"))
    built = builder.build()
    defined, _, _ = built.compile([], {name for name, _ in built.term_defs})
    by_lark = {(t.name if t.priority == 0 else f"{t.name}.{t.priority}", t.pattern.to_regexp()) for t in defined}
    assert by_lark == set(header.TERMINALS)
    # and the reader's header regex is the one the whole grammar's terminals make
    grammar = {t.name: t.pattern.to_regexp() for t in _standalone().terminals}
    exact = header.header_layout(f"(?:{grammar['ASCTIME']}|{grammar['CLFTIME']})",
                                 f"(?:{grammar['IBMI_JOB']} )?{grammar['PROCID']}", grammar["PROCID"])
    assert header.HEADER.pattern == exact


@pytest.mark.parametrize("line", [
    'PROCID: "a"',               # a string terminal: the reader takes /regex/ only
    "LEVEL: /(?:TRACE)/i",       # flags
    "HEADER: ASCTIME PROCID",    # a terminal made of terminals
    "record: header",            # a rule
])
def test_the_reader_refuses_a_header_grammar_line_it_cannot_take(line: str) -> None:
    with pytest.raises(ValueError, match=r"header.lark:2: not a one-line /regex/ terminal"):
        header.terminal_definitions("// header\n" + line + "\n")


def test_every_event_kind_is_produced_by_a_real_line() -> None:
    # test_typed_events parses each case and checks its class: a kind no case produces has no grammar
    # rule that was ever exercised (or none at all)
    # (the WebLogic grammar's kinds have the same test in tests/test_weblogic_parse.py)
    produced = {type(parse(H + body)) for body, _, _, _ in CASES} | {ev.Message, ev.Unparsed}
    missing = [k for k, cls in ev.event_kinds().items() if cls not in produced and cls not in wl.KINDS]
    assert not missing, f"kinds no real line produces: {missing}"
