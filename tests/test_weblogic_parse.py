"""WebLogic proxy plug-in logs: detection by content, the grammar's line shapes, continuation lines, accounting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES, run_cli, write
from tracelens.parse import events as ev
from tracelens.parse import weblogic_events as wl
from tracelens.parse.weblogic_parser import parse_records
from tracelens.read.reader import ReadStats
from tracelens.read.weblogic import System, detect, read_weblogic_records

WL = ROOT / "tests" / "traces" / "weblogic"
REAL = sorted(WL.glob("real-*.log"))


def _events(path: Path) -> tuple[list[ev.Event], ReadStats]:
    stats = ReadStats()
    return list(parse_records(read_weblogic_records([str(path)], stats))), stats


@pytest.mark.parametrize("lenient", [False, True])
@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_real_excerpts_parse_with_every_record_typed(path: Path, lenient: bool) -> None:
    args = ["parse", "--summary", str(path)] + (["--lenient"] if lenient else [])
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    assert "every non-blank line is accounted for" in result.stdout
    assert "message 0, unparsed 0" in result.stdout


def test_real_cookie_excerpt_events() -> None:
    events, _ = _events(WL / "real-01-bea-cookie-primary-secondary-2004.log")
    cookie = events[0]
    assert isinstance(cookie, wl.WlCookieJvmids)
    assert (cookie.primary, cookie.secondary) == ("-2032354160", "-457294087")
    found = [e for e in events if isinstance(e, wl.WlFoundServer)]
    assert [(f.role, f.server, f.ssl_port) for f in found] == [
        ("primary", "172.18.137.50:38625", 65535), ("secondary", "172.18.137.54:38625", 65535)]
    assert isinstance(events[-1], wl.WlServersFound) and events[-1].count == 2
    assert events[0].time is not None and events[0].time.isoformat() == "2004-05-10T13:14:40"


def test_banner_without_timestamp_opens_with_method_and_uri() -> None:
    events, _ = _events(WL / "real-03-bea-faq-new-request-2001.log")
    banner, request_string = events
    assert isinstance(banner, wl.WlNewRequest)
    assert (banner.method, banner.uri, banner.protocol, banner.time) == ("GET", "/", "HTTP/1.1", None)
    assert isinstance(request_string, wl.WlRequestString) and request_string.uri == "/index.jsp"


def test_id_shape_carries_the_request_id_and_joins_continuation_lines(tmp_path: Path) -> None:
    p = write(tmp_path, "wlproxy.log",
              "Tue Mar 08 10:00:00 2016 <1457431200000001> ================New Request: [GET /a HTTP/1.1] =====\n"
              "Tue Mar 08 10:00:00 2016 <1457431200000001> primaryJVMID: [-2032354160]\n"
              "secondaryJVMID: []\n"
              "\n"
              "Tue Mar 08 10:00:01 2016 <1457431200000001> getPreferredFromCookie: Either JVMIDs not set or they are"
              " stale. Will try to get JVMIDs from WLS\n")
    events, stats = _events(p)
    assert [type(e) for e in events] == [wl.WlNewRequest, wl.WlJvmidPair, wl.WlJvmidsStale]
    assert {e.tid for e in events} == {"1457431200000001"}
    pair = events[1]
    assert isinstance(pair, wl.WlJvmidPair) and (pair.primary, pair.secondary) == ("-2032354160", None)
    assert (stats.physical_lines, stats.blank_lines, stats.joined_lines) == (5, 1, 1)


def test_unknown_text_is_a_message_and_a_headless_first_line_unparsed(tmp_path: Path) -> None:
    p = write(tmp_path, "wlproxy.log", "stray note before the log\n"
                                       "Mon May 10 13:14:40 2004 some message the grammar does not type\n")
    result = run_cli("parse", "--summary", "--system", "weblogic", str(p))
    assert result.exit_code == 0
    assert "typed 0, message 1, unparsed 1" in result.stdout
    assert f"{p}:1: no WebLogic timestamp" in result.stdout


def test_error_log_form_takes_pid_and_id(tmp_path: Path) -> None:
    p = write(tmp_path, "error_log",
              "[Thu Jun 04 10:00:00.123456 2020] [weblogic:debug] [pid 4242:tid 140] ApacheProxy.cpp(2603): "
              "[client 10.0.0.1:5678] <424212345678901> [Found Primary]: app1:7003:65535\n"
              "[Thu Jun 04 10:00:01 2020] [core:error] [pid 4242:tid 140] AH00124: request exceeded the limit\n")
    assert detect(str(p)) is System.WEBLOGIC
    events, _ = _events(p)
    found = events[0]
    assert isinstance(found, wl.WlFoundServer)
    assert (found.pid, found.tid, found.server, found.time.microsecond if found.time else None) == (
        "4242", "424212345678901", "app1:7003", 123456)
    assert isinstance(events[1], ev.Message)


def test_detection_per_file_and_forced() -> None:
    assert detect(str(SAMPLES / "failover-failback.log")) is System.WEBSPHERE
    assert all(detect(str(p)) is System.WEBLOGIC for p in REAL)
    # forced: the WebSphere trace read as WebLogic is all unparsed, and says so
    websphere = SAMPLES / "real-05-technote-stats-not-balancing-evenly.log"
    result = run_cli("parse", "--summary", "--system", "weblogic", str(websphere))
    assert result.exit_code == 0
    assert "typed 0, message 0, unparsed 2" in result.stdout


def test_mixed_set_reads_each_file_by_its_grammar() -> None:
    websphere = SAMPLES / "real-05-technote-stats-not-balancing-evenly.log"
    result = run_cli("parse", str(websphere), str(WL / "real-03-bea-faq-new-request-2001.log"))
    assert result.exit_code == 0, result.stderr
    kinds = [json.loads(line)["kind"] for line in result.stdout.splitlines()]
    # two web servers (two directories), read in the order of their first records: the WebLogic excerpt is of 2001
    assert kinds == ["wl_new_request", "wl_request_string", "server_stats", "server_stats"]


def test_strict_refuses_unparsed_weblogic_lines(tmp_path: Path) -> None:
    p = write(tmp_path, "wlproxy.log", "Mon May 10 13:14:40 2004 Found 2 servers\n=====New Request: [GET /cut\n")
    result = run_cli("parse", "--summary", "--strict", str(p))
    assert result.exit_code == 2
    assert "malformed request banner" in result.stderr


#: one line per WebLogic event kind: ([S] verified or [U] tolerant guess, the line, its class, some fields)
KIND_CASES: list[tuple[str, str, type[ev.Event], dict[str, object]]] = [
    ("S", "================New Request: [POST /shop/cart HTTP/1.1] =================", wl.WlNewRequest,
     {"method": "POST", "uri": "/shop/cart"}),
    ("S", "Fri Jun 22 14:24:40 2001 The request string is '/index.jsp'", wl.WlRequestString, {"uri": "/index.jsp"}),
    ("S", "Mon May 10 13:14:40 2004 getpreferredServersFromCookie: [-457294087]", wl.WlCookieJvmids,
     {"primary": "-457294087", "secondary": None}),
    ("S", "Mon May 10 13:14:40 2004 primaryJVMID: [] secondaryJVMID: [12]", wl.WlJvmidPair,
     {"primary": None, "secondary": "12"}),
    ("S", "Mon May 10 13:14:40 2004 GET Primary JVMID1: -2032354160", wl.WlPrimaryJvmid, {"jvmid": "-2032354160"}),
    ("S", "Mon May 10 13:14:40 2004 secondary str: -457294087", wl.WlSecondaryJvmid, {"jvmid": "-457294087"}),
    ("S", "Mon May 10 13:14:40 2004 No of JVMIDs found in cookie: 2", wl.WlJvmidCount, {"count": 2}),
    ("S", "Mon May 10 13:14:40 2004 getPreferredFromCookie: Start Position is 1, listLen is 3", wl.WlStartPosition,
     {"start_position": 1, "list_length": 3}),
    ("S", "Mon May 10 13:14:40 2004 getPreferredFromCookie: Either JVMIDs not set or they are stale. Will try to get "
          "JVMIDs from WLS", wl.WlJvmidsStale, {}),
    ("S", "Mon May 10 13:14:40 2004 initJVMID: Iterating SrvrList from position 1", wl.WlIterating,
     {"start_position": 1}),
    ("S", "Mon May 10 13:14:40 2004 [Found Secondary]: app2:7003:7004", wl.WlFoundServer,
     {"role": "secondary", "host": "app2", "port": 7003, "ssl_port": 7004}),
    ("S", "Mon May 10 13:14:40 2004 list[3].jvmid: 77", wl.WlListJvmid, {"index": 3, "jvmid": "77"}),
    ("S", "Mon May 10 13:14:40 2004 Found 3 servers", wl.WlServersFound, {"count": 3}),
    ("U", "Mon May 10 13:14:40 2004 Trying POST /shop/cart at backend host 'app1; port 7003; using SSL 'yes'",
     wl.WlTrying, {"host": "app1", "port": 7003, "ssl": True}),
    ("U", "Mon May 10 13:14:40 2004 Connected to app1:7003", wl.WlConnected, {"server": "app1:7003"}),
    ("U", "Mon May 10 13:14:40 2004 Connect returns -1, and error no set to 111, msg 'Connection refused'",
     wl.WlConnectFailed, {"errno": 111, "text": "Connection refused"}),
    ("U", "Mon May 10 13:14:40 2004 Marking app1:7003 as bad", wl.WlMarkedBad, {"server": "app1:7003"}),
    ("U", "Mon May 10 13:14:40 2004 Failing over after CONNECTION_REFUSED exception in sendRequest()",
     wl.WlFailingOver, {"reason": "CONNECTION_REFUSED"}),
    ("U", "Mon May 10 13:14:40 2004 No backend server available for connection: timed out after 10 seconds or "
          "idempotent set to OFF or method not idempotent.", wl.WlNoBackend, {"seconds": 10}),
    ("U", "Mon May 10 13:14:40 2004 request [/shop/cart] processed successfully..................",
     wl.WlRequestDone, {"uri": "/shop/cart", "ok": True}),
    ("U", "Mon May 10 13:14:40 2004 Hdrs from WLS:[Set-Cookie]=[JSESSIONID=Ab1!-2!-3!1308677666322; path=/]",
     wl.WlHeader, {"direction": "from WLS", "name": "Set-Cookie",
                   "value": "JSESSIONID=Ab1!-2!-3!1308677666322; path=/"}),
    ("U", "Mon May 10 13:14:40 2004 Hdrs from WLS:[HTTP/1.1 503 Service Unavailable]", wl.WlStatus,
     {"status": 503, "reason": "Service Unavailable"}),
]


@pytest.mark.parametrize(("shape", "line", "cls", "fields"), KIND_CASES, ids=[c[2].kind for c in KIND_CASES])
def test_each_form_types_its_event(shape: str, line: str, cls: type[ev.Event], fields: dict[str, object],
                                   tmp_path: Path) -> None:
    for text in (line, line.replace(" 2004 ", " 2004 <1457431200000001> ", 1)):
        events, _ = _events(write(tmp_path, "one.log", text + "\n"))
        assert len(events) == 1 and type(events[0]) is cls, (shape, text, events)
        assert {k: getattr(events[0], k) for k in fields} == fields


def test_every_weblogic_kind_is_produced_by_a_line() -> None:
    assert {c[2] for c in KIND_CASES} == set(wl.KINDS)
