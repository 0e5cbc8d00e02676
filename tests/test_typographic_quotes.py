"""Pasted excerpts (issue 14 §3): under --lenient, typographic quotes where the plug-in wrote `'` are
quotes, and the record is typed; without --lenient nothing changes. Both paths (fast, LALR) agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, SAMPLES, run_cli, write
from tests.test_grammar_properties import bodies, headers
from tracelens.parse import events as ev
from tracelens.parse.parser import RecordParser
from tracelens.read.reader import RawRecord, ReadStats, read_records

STRICT, STRICT_SLOW = RecordParser(), RecordParser(fast=False)
LENIENT, LENIENT_SLOW = RecordParser(lenient=True), RecordParser(lenient=True, fast=False)
TYPOGRAPHIC = "\u2018\u2019\u201c\u201d"  # left and right single, left and right double
HEAD = "[Wed Dec 03 17:17:12 2014] 00001220 000012a4 - "

CASES = [
    # CNB as the blog shows it (plugin-facts §1.3): the first quote of each name became a left single quote
    ("ERROR: ws_common: websphereHandleRequest: Failed to execute the transaction to \u2018wasserverNode01_abc'on "
     "host \u2018wasserver'; will try another one", ev.TransactionFailed,
     {"server": "wasserverNode01_abc", "host": "wasserver", "will_retry": True}),
    ("TRACE: lib_htrequest: htrequestGetCookieValue: name=\u201cJSESSIONID\u201d, "
     "value=\u201c0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031\u201d", ev.CookieValue,
     {"name": "JSESSIONID", "value": "0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031"}),
    ("TRACE: lib_htrequest: htrequestGetCookieValue: Looking for cookie: \u2018JSESSIONID\u2019", ev.CookieLookup,
     {"name": "JSESSIONID"}),
    ("TRACE: ws_server_group: serverGroupFindClone: Comparing curCloneID \u2018v544d031\u2019 to server clone id "
     "\u2018v544d0o0\u2019", ev.CloneCompare, {"cookie_clone_id": "v544d031", "server_clone_id": "v544d0o0"}),
    ("TRACE: ws_server_group: serverGroupFindClone: Match for clone \u2018was1node_PluginMember1\u2019",
     ev.CloneMatch, {"server": "was1node_PluginMember1"}),
    ("ERROR: ws_common: websphereGetStream: Failed to connect to app server on host \u2018app1.itso.ibm.com\u2019, "
     "OS err=10061", ev.ConnectFailed, {"host": "app1.itso.ibm.com"}),
    ("TRACE: ws_common: websphereShouldHandleRequest: trying to match a route for: vhost=\u2018www.example.com\u2019; "
     "uri=\u2018/shop/cart\u2019", ev.RouteLookup, {"vhost": "www.example.com", "uri": "/shop/cart"}),
    ("DETAIL: ws_common: websphereHandleRequest: Request is: host=\u201cwww.example.com\u201d, "
     "uri=\u201c/shop/cart\u201d, protocol=\u201cHTTP/1.1\u201d", ev.RequestInfo,
     {"fields": (("host", "www.example.com"), ("uri", "/shop/cart"), ("protocol", "HTTP/1.1"))}),
]


@pytest.mark.parametrize(("body", "kind", "fields"), CASES, ids=lambda c: getattr(c, "__name__", None))
def test_lenient_reads_typographic_quotes_as_quotes(body: str, kind: type[ev.Event], fields: dict[str, object]) -> None:
    raw = RawRecord("pasted.log", 1, HEAD + body)
    event = LENIENT.parse(raw)
    assert type(event) is kind
    assert {k: getattr(event, k) for k in fields} == fields
    assert LENIENT_SLOW.parse(raw) == event


@pytest.mark.parametrize(("body", "kind", "fields"), CASES, ids=lambda c: getattr(c, "__name__", None))
def test_without_lenient_they_stay_generic_messages(body: str, kind: type[ev.Event], fields: dict[str, object]) -> None:
    raw = RawRecord("pasted.log", 1, HEAD + body)
    event = STRICT.parse(raw)
    assert type(event) is ev.Message and event.text == body.split(": ", 3)[-1]
    assert STRICT_SLOW.parse(raw) == event


def test_the_same_line_with_ascii_quotes_is_typed_the_same_either_way() -> None:
    for body, kind, _ in CASES:
        ascii_body = body.translate({ord(q): "'" for q in TYPOGRAPHIC})
        raw = RawRecord("f.log", 1, HEAD + ascii_body)
        assert type(STRICT.parse(raw)) is kind
        assert STRICT.parse(raw) == LENIENT.parse(raw)


@pytest.mark.parametrize("path", sorted([*SAMPLES.glob("failover-*.log"), *(ROOT / "tests" / "traces").glob("*.log")]),
                         ids=lambda p: p.name)
def test_lenient_changes_nothing_in_headered_logs_with_ascii_quotes(path: Path) -> None:
    records = list(read_records([str(path)], ReadStats()))
    assert [LENIENT.parse(r) for r in records] == [STRICT.parse(r) for r in records]


@settings(max_examples=300, deadline=None)
@given(headers(), bodies(), st.lists(st.sampled_from(TYPOGRAPHIC), min_size=1, max_size=8))
def test_fast_path_and_lalr_agree_under_lenient(header: tuple[str, object, str, str],
                                                body: tuple[str, object, object], quotes: list[str]) -> None:
    # every ASCII quote of a generated record becomes a typographic one, in turn
    text, out = header[0] + body[0], []
    for i, ch in enumerate(text):
        out.append(quotes[i % len(quotes)] if ch == "'" else ch)
    for candidate in (text, "".join(out)):
        raw = RawRecord("f.log", 3, candidate)
        assert LENIENT.parse(raw) == LENIENT_SLOW.parse(raw), candidate
        assert STRICT.parse(raw) == STRICT_SLOW.parse(raw), candidate


def _pasted(tmp_path: Path) -> Path:
    """The sample's failover request (lines 41-102) as a ticket shows it: every `'` a typographic quote."""
    lines = (SAMPLES / "failover-failback.log").read_text(encoding="utf-8").splitlines()
    text = "\n".join(lines[:102]) + "\n"
    opened = [False]

    def quote(ch: str) -> str:
        opened[0] = not opened[0]
        return "\u2018" if opened[0] else "\u2019"

    return write(tmp_path, "pasted.log", "".join(quote(c) if c == "'" else c for c in text))


def test_analyze_lenient_types_a_pasted_excerpt(tmp_path: Path) -> None:
    path = str(_pasted(tmp_path))
    lenient = json.loads(run_cli("analyze", "--lenient", "--format", "json", path).stdout)
    strict = json.loads(run_cli("analyze", "--format", "json", path).stdout)
    # 21 of the 102 records quote a value: typed only under --lenient
    assert (lenient["accounting"]["typed"], lenient["accounting"]["message"]) == (102, 0)
    assert (strict["accounting"]["typed"], strict["accounting"]["message"]) == (81, 21)
    assert "affinity.failover" in {f["name"] for f in lenient["findings"]}


def _requests(*args: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in run_cli("requests", "--format", "jsonl", *args).stdout.splitlines()]


def test_requests_lenient_reads_the_quoted_cookie_and_the_refused_host(tmp_path: Path) -> None:
    path = str(_pasted(tmp_path))
    lenient, strict = _requests("--lenient", path), _requests(path)
    ascii_requests = _requests(str(SAMPLES / "failover-failback.log"))[:2]
    # the plug-in's own cookie read (lines 16, 45) and the host it could not reach, as from the real log
    assert [(r["cookie_line"], r["attempts"]) for r in lenient] == [(r["cookie_line"], r["attempts"])
                                                                     for r in ascii_requests]
    assert [r["cookie_line"] for r in lenient] == [16, 45]
    # without --lenient only the unquoted `Cookie:` request headers stand in, and the host is unknown
    assert [r["cookie_line"] for r in strict] == [35, 95]
    assert [a["host"] for a in strict[1]["attempts"]] == [None, None]  # type: ignore[index]


def test_parse_summary_counts_the_typed_records_only_under_lenient(tmp_path: Path) -> None:
    path = str(_pasted(tmp_path))
    strict = run_cli("parse", "--summary", path).stdout
    lenient = run_cli("parse", "--summary", "--lenient", path).stdout
    assert "cookie_value" not in strict and "cookie_value" in lenient
    assert "transaction_failed" not in strict and "transaction_failed" in lenient
