"""Request assembly: one request per (pid, tid), attempts and outcomes, cookies, sessions, partial and
interleaved logs, and the `requests` / `members` commands."""

from __future__ import annotations

import functools
import json
import random
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, SAMPLES, run_cli, write
from tracelens.api import reconstruct
from tracelens.parse import events as ev
from tracelens.parse.parser import RecordParser
from tracelens.read.reader import ReadStats, read_records
from tracelens.reporters.shapes import request_dict
from tracelens.requests.assemble import AttemptOutcome, Partial, RequestAssembler
from tracelens.requests.cookies import CookieOutcome, cookie_outcome, parse_session_cookie, session_from_uri

FAILOVER = str(SAMPLES / "failover-failback.log")
TRACES = ROOT / "tests" / "traces"
M1 = "was1node_PluginMember1"
M2 = "was2Node_PluginMember2"
SESSION = "IWuUT_zhR-gFYB-pOAk75Q5"


def trace(name: str) -> str:
    path = TRACES / name
    if not path.exists():  # the scenario traces are still being written
        pytest.skip(f"{path} not there")
    return str(path)


# ---------------------------------------------------------------- the failover sample, request by request


def test_requests_carrying_one_cookie_value_share_one_parsed_cookie() -> None:
    # memory: a session's requests hold one SessionCookie, not a copy each
    requests = reconstruct([FAILOVER]).requests
    assert [r.cookie.raw for r in requests if r.cookie] == [
        f"0001{SESSION}:v544d031", f"0001{SESSION}:v544d031",
        f"0002{SESSION}:v544d031:v544d0o0", f"0002{SESSION}:v544d031:v544d0o0"]
    assert requests[0].cookie is requests[1].cookie and requests[2].cookie is requests[3].cookie
    assert requests[1].cookie is not requests[2].cookie


def test_requests_share_one_copy_of_each_process_thread_clone_and_member_name() -> None:
    # memory: the names a kept request holds are the few distinct values, not the text of its lines
    requests = reconstruct([FAILOVER]).requests
    assert len({r.pid for r in requests}) == 1 and len({id(r.pid) for r in requests}) == 1
    assert len({id(r.tid) for r in requests}) == len({r.tid for r in requests})
    clones = [c for r in requests for compare in r.clone_compares for c in compare[:2]]
    assert "v544d031" in clones and "v544d0o0" in clones
    assert len({id(c) for c in clones}) == len(set(clones))
    members = ([m for r in requests for m, _ in r.clone_matches]
               + [s.member for r in requests for s in r.status_checks]
               + [a.member for r in requests for a in r.attempts if a.member]
               + [m for r in requests for m, _ in r.mark_downs]
               + [r.served_by for r in requests if r.served_by])
    assert M1 in members and len({id(m) for m in members}) == len(set(members))


def test_failover_sample_gives_four_requests() -> None:
    requests = reconstruct([FAILOVER]).requests
    got = [
        (r.first_line, r.last_line, r.tid, r.served_by, [(a.member, a.outcome) for a in r.attempts],
         list(r.cookie.clone_ids) if r.cookie else None, r.cookie_outcome)
        for r in requests
    ]
    assert got == [
        (12, 40, "00000e78", M1, [(M1, AttemptOutcome.SERVED)], ["v544d031"], CookieOutcome.NONE),
        (41, 102, "00000f10", M2, [(M1, AttemptOutcome.CONNECT_REFUSED), (M2, AttemptOutcome.SERVED)], ["v544d031"],
         CookieOutcome.CLONE_APPENDED),
        (103, 144, "00000e78", M2, [(M2, AttemptOutcome.SERVED)], ["v544d031", "v544d0o0"], CookieOutcome.NONE),
        (145, 190, "00001004", M1, [(M1, AttemptOutcome.SERVED)], ["v544d031", "v544d0o0"], CookieOutcome.NONE),
    ]
    assert all(r.pid == "00001a2c" and r.partial == () and r.status == 200 for r in requests)
    assert all(r.session_id == SESSION and r.uri == "/hitcount" and r.method == "GET" for r in requests)
    assert [r.cookie_line for r in requests] == [16, 45, 107, 149]


def test_failover_request_in_detail() -> None:
    r = reconstruct([FAILOVER]).requests[1]
    refused, served = r.attempts
    # the pick (56), `Setting server to` (58): by affinity; refused at 61; marked down at 63
    assert (refused.line, refused.by_affinity, refused.outcome_line) == (56, True, 61)
    assert refused.host == "app1.itso.ibm.com"
    assert (served.line, served.by_affinity, served.outcome_line, served.status) == (87, True, 98, 200)
    assert r.mark_downs == ((M1, 63),)
    assert r.set_cookie is not None and r.set_cookie_line == 101
    assert (r.set_cookie.cache_id, r.set_cookie.session_id, r.set_cookie.clone_ids) == ("0002", SESSION,
                                                                                         ("v544d031", "v544d0o0"))
    assert r.cookie is not None and r.cookie.cache_id == "0001"  # the cache ID changed: not a new session
    assert [(s.member, s.line, s.marked_down, s.retry_in) for s in r.status_checks] == [
        (M1, 54, False, None), (M1, 76, True, 60), (M2, 85, False, None),
    ]
    assert {file for file, _ in r.evidence} == {r.file}
    lines = [line for _, line in r.evidence]
    assert lines[0] == 41 and lines[-1] == 102 and {61, 63, 98, 101} <= set(lines)


def test_requests_see_what_their_process_believed_when_they_began() -> None:
    requests = reconstruct([FAILOVER]).requests
    states = [{v.member: v.state.value for v in r.state_at_begin} for r in requests]
    assert states[0] == {}  # nothing known yet about any member
    assert states[2][M1] == "down" and states[3][M1] == "down"  # the retry is due only inside request 4


def test_failover_sample_is_one_session_that_switched_twice() -> None:
    (session,) = reconstruct([FAILOVER]).sessions
    assert session.session_id == SESSION
    assert session.members == (M1, M2)
    assert session.switches == 2
    assert session.processes == ("00001a2c",)
    assert [s.line for s in session.steps] == [12, 41, 103, 145]
    assert [s.served_by for s in session.steps] == [M1, M2, M2, M1]


def test_both_header_forms_give_the_same_requests() -> None:
    def strip(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if k not in ("file", "time", "end", "duration_s")}

    a = [strip(request_dict(r)) for r in reconstruct([FAILOVER]).requests]
    b = [strip(request_dict(r)) for r in reconstruct([str(SAMPLES / "failover-failback-85.log")]).requests]
    assert a == b


def test_status_and_error_lines_alone_open_no_request() -> None:
    # LogLevel Stats has no request boundaries: guessing them would invent requests
    assert reconstruct([str(SAMPLES / "stats-85.log")]).requests == []


# ---------------------------------------------------------------- cookies


@pytest.mark.parametrize(
    ("raw", "separator", "cache", "session", "clones"),
    [
        ("0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031", ":", "0001", SESSION, ("v544d031",)),
        ("0002IWuUT_zhR-gFYB-pOAk75Q5:v544d031:v544d0o0", ":", "0002", SESSION, ("v544d031", "v544d0o0")),
        ("0000A2MB4IJozU_VM8IffsMNfdR", ":", "0000", "A2MB4IJozU_VM8IffsMNfdR", ()),  # no clone ID (yet)
        ("0001IWuUT_zhR-gFYB-pOAk75Q5+v544d031+v544d0o0", "+", "0001", SESSION, ("v544d031", "v544d0o0")),
        ('"0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031"', ":", "0001", SESSION, ("v544d031",)),  # a quoted value
        (" 0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031 ", ":", "0001", SESSION, ("v544d031",)),
        # a partition ID (memory-to-memory replication, facts §4.3) is a long number
        ("0000A2MB4IJozU_VM8IffsMNfdR:-4528941562719", ":", "0000", "A2MB4IJozU_VM8IffsMNfdR", ("-4528941562719",)),
        # Liberty and custom generators: the session part is not 23 characters
        ("0000abcdefghij0123456789ABCDEFGHIJ:uuid-1234", ":", "0000", "abcdefghij0123456789ABCDEFGHIJ", ("uuid-1234",)),
    ],
)
def test_session_cookie_parts(raw: str, separator: str, cache: str, session: str, clones: tuple[str, ...]) -> None:
    c = parse_session_cookie(raw, separator)
    assert (c.raw, c.cache_id, c.session_id, c.clone_ids, c.malformed) == (raw, cache, session, clones, None)
    assert c.valid


@pytest.mark.parametrize(
    ("raw", "separator", "why"),
    [
        ("", ":", "empty value"),
        ('""', ":", "empty value"),
        ("garbage", ":", "too short"),
        ("0001abc:v544d031", ":", "too short"),
        ("0001IWuUT zhR-gFYB-pOAk75Q5:v544d031", ":", "characters that a session ID does not contain"),
        ("0001IWuUT_zhR-gFYB-pOAk75Q5::v544d031", ":", "an empty clone ID"),
        ("0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031:", ":", "an empty clone ID"),
        ("0001IWuUT_zhR-gFYB-pOAk75Q5:", ":", "an empty clone ID"),
        ("0001IWuUT_zhR-gFYB-pOAk75Q5:v544 d031", ":", "characters that a clone ID does not contain"),
        # CloneSeparatorChange on one side only (facts §5.7): `+` read with `:` is not a session ID
        ("0001IWuUT_zhR-gFYB-pOAk75Q5+v544d031", ":", "characters that a session ID does not contain"),
    ],
)
def test_malformed_session_cookies(raw: str, separator: str, why: str) -> None:
    c = parse_session_cookie(raw, separator)
    assert c.malformed is not None and why in c.malformed
    assert not c.valid


def test_colon_value_read_with_the_plus_separator_is_one_long_session_id() -> None:
    c = parse_session_cookie("0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031", "+")
    assert c.clone_ids == () and not c.valid  # ':' is no session ID character


@pytest.mark.parametrize(
    ("sent", "received", "outcome"),
    [
        ("0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031", None, CookieOutcome.NONE),
        (None, None, CookieOutcome.NONE),
        ("0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031", "0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031", CookieOutcome.SAME_SESSION),
        # the cache ID changes mid-session without meaning anything (facts §4.3)
        ("0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031", "0002IWuUT_zhR-gFYB-pOAk75Q5:v544d031", CookieOutcome.SAME_SESSION),
        ("0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031", "0002IWuUT_zhR-gFYB-pOAk75Q5:v544d031:v544d0o0",
         CookieOutcome.CLONE_APPENDED),
        ("0001IWuUT_zhR-gFYB-pOAk75Q5", "0001IWuUT_zhR-gFYB-pOAk75Q5:v544d0o0", CookieOutcome.CLONE_APPENDED),
        ("0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031", "0000Xq3LmPz8_RtY-kWc2NvB0aH:v544d0o0", CookieOutcome.NEW_SESSION),
        (None, "0000Xq3LmPz8_RtY-kWc2NvB0aH:v544d0o0", CookieOutcome.NEW_SESSION),
        ("garbage", "0000Pw5eRt8Yu_Io1-As4Df7GhJ:v544d031", CookieOutcome.NEW_SESSION),
    ],
)
def test_cookie_outcome(sent: str | None, received: str | None, outcome: CookieOutcome) -> None:
    s = parse_session_cookie(sent) if sent is not None else None
    r = parse_session_cookie(received) if received is not None else None
    assert cookie_outcome(s, r) is outcome


@pytest.mark.parametrize(
    ("uri", "value"),
    [
        ("/hitcount;jsessionid=0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031?x=1", "0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031"),
        ("/hitcount;JSESSIONID=0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031", "0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031"),
        ("/a;jsessionid=0001IWuUT_zhR-gFYB-pOAk75Q5/b", "0001IWuUT_zhR-gFYB-pOAk75Q5"),
        ("/hitcount?jsessionid=0001IWuUT_zhR-gFYB-pOAk75Q5", None),  # a query parameter is not URL rewriting
        ("/hitcount", None),
    ],
)
def test_session_from_rewritten_url(uri: str, value: str | None) -> None:
    assert session_from_uri(uri) == value


def test_cookie_anomalies_trace() -> None:
    first, second = reconstruct([trace("cookie-anomalies.log")]).requests
    # two JSESSIONID cookies in the header: the request uses the one the plug-in read (line 16)
    assert first.cookies_in_header == ("0001AAAAAAAAAAAAAAAAAAAAAAA:v544d031", "0001BBBBBBBBBBBBBBBBBBBBBBB:v544d0o0")
    assert first.cookie is not None and (first.cookie_line, first.cookie.session_id) == (16, "A" * 23)
    assert second.cookie is not None and second.cookie.raw == "garbage" and not second.cookie.valid
    assert second.cookie_outcome is CookieOutcome.NEW_SESSION


def test_separator_plus_through_the_whole_pipeline(tmp_path: Path) -> None:
    text = Path(FAILOVER).read_text().replace("pOAk75Q5:v544d031:v544d0o0", "pOAk75Q5+v544d031+v544d0o0")
    text = text.replace("pOAk75Q5:v544d031", "pOAk75Q5+v544d031")
    requests = reconstruct([str(write(tmp_path, "plus.log", text))], separator="+").requests
    assert [list(r.cookie.clone_ids) for r in requests if r.cookie] == [
        ["v544d031"], ["v544d031"], ["v544d031", "v544d0o0"], ["v544d031", "v544d0o0"]]
    assert requests[1].cookie_outcome is CookieOutcome.CLONE_APPENDED


# ---------------------------------------------------------------- partial requests


def test_partial_requests_trace() -> None:
    first, middle, last = reconstruct([trace("partial-requests.log")]).requests
    assert (first.first_line, first.last_line, first.tid) == (1, 12, "00000f10")
    assert first.partial == (Partial.BEGIN_MISSING,)
    assert (first.served_by, first.status) == (M2, 200)
    assert first.cookie is not None and first.cookie.clone_ids == ("v544d0o0",)  # only the request header has it
    assert (middle.first_line, middle.last_line, middle.partial, middle.served_by) == (13, 41, (), M1)
    assert (last.first_line, last.last_line, last.tid, last.partial) == (42, 59, "00001004", (Partial.END_MISSING,))
    assert last.served_by is None and last.status is None
    assert [(a.member, a.outcome) for a in last.attempts] == [(M1, AttemptOutcome.UNKNOWN)]


def test_log_starting_and_ending_inside_requests(tmp_path: Path) -> None:
    # lines 20-60 of the sample: the end of request 1 (from `Looking for clone`), the start of request 2
    lines = Path(FAILOVER).read_text().splitlines()[19:60]
    first, second = reconstruct([str(write(tmp_path, "cut.log", "\n".join(lines) + "\n"))]).requests
    assert (first.first_line, first.last_line, first.partial) == (1, 21, (Partial.BEGIN_MISSING,))
    assert first.served_by == M1
    # the plug-in's cookie read was cut off: the `Cookie:` request header (sample line 35) stands in for it
    assert first.cookie is not None and (first.cookie_line, first.cookie.clone_ids) == (16, ("v544d031",))
    assert (second.first_line, second.last_line, second.partial) == (22, 41, (Partial.END_MISSING,))
    assert second.cookie is not None and second.cookie.clone_ids == ("v544d031",)
    assert [(a.member, a.outcome) for a in second.attempts] == [(M1, AttemptOutcome.UNKNOWN)]
    assert second.served_by is None


def test_a_thread_starting_a_new_request_cuts_the_previous_one(tmp_path: Path) -> None:
    lines = Path(FAILOVER).read_text().splitlines()
    # request 2's thread writes its first 20 lines, then starts request 4's lines under the same tid
    text = lines[40:60] + [line.replace("00001004", "00000f10") for line in lines[144:190]]
    first, second = reconstruct([str(write(tmp_path, "cut.log", "\n".join(text) + "\n"))]).requests
    assert (first.first_line, first.last_line, first.partial, first.tid) == (1, 20, (Partial.END_MISSING,), "00000f10")
    assert (second.first_line, second.last_line, second.partial, second.served_by) == (21, 66, (), M1)


def test_a_restart_cuts_the_open_requests_of_its_process_only(tmp_path: Path) -> None:
    lines = Path(FAILOVER).read_text().splitlines()
    other = [line.replace("00001a2c", "00001b40") for line in lines[11:25]]  # request 1's start, another pid
    restart = lines[0].replace("00000e78", "00000abc")  # `Plugins loaded.` in pid 00001a2c
    text = lines[11:25] + other + [restart] + [line.replace("00001a2c", "00001b40") for line in lines[25:40]]
    requests = reconstruct([str(write(tmp_path, "restart.log", "\n".join(text) + "\n"))]).requests
    assert [(r.pid, r.first_line, r.last_line, r.partial) for r in requests] == [
        ("00001a2c", 1, 14, (Partial.END_MISSING,)),
        ("00001b40", 15, 44, ()),
    ]
    assert requests[1].served_by == M1


def test_a_request_spanning_two_files_has_lines_of_its_own_file(tmp_path: Path) -> None:
    lines = Path(FAILOVER).read_text().splitlines()
    a = write(tmp_path, "a.log", "\n".join(lines[36:60]) + "\n")  # request 1's end, then request 2's start (line 5)
    b = write(tmp_path, "b.log", "\n".join(lines[100:102]) + "\n")  # request 2's Set-Cookie and end
    requests = reconstruct([str(a), str(b)]).requests
    second = next(r for r in requests if r.tid == "00000f10")
    assert second.file == str(a) and second.first_line == 5
    assert second.last_line >= second.first_line


# ---------------------------------------------------------------- interleaving


def _logs() -> list[Path]:
    return [SAMPLES / "failover-failback.log", SAMPLES / "failover-failback-85.log", *sorted(TRACES.glob("*.log"))]


@functools.cache
def _events(path: str) -> tuple[ev.Event, ...]:
    parser = RecordParser()
    return tuple(parser.parse(raw) for raw in read_records([path], ReadStats()))


def _thread(e: ev.Event) -> tuple[str, str | None]:
    return (e.pid if e.pid is not None else "-", e.tid)


def interleave(events: tuple[ev.Event, ...], rnd: random.Random) -> list[ev.Event]:
    """Another order the same threads could have been written in.

    Each thread keeps its own order. ``Plugins loaded.`` concerns its whole process, so it stays after
    everything that process wrote before it and before everything it wrote after it; between processes
    anything goes.
    """
    # per process: epochs split at `Plugins loaded.`, each [barrier or None, {tid: queue}]
    plan: dict[str, list[list[Any]]] = {}
    for e in events:
        pid, tid = _thread(e)
        epochs = plan.setdefault(pid, [])
        barrier = isinstance(e, ev.PluginsLoaded)
        if barrier or not epochs:
            epochs.append([e if barrier else None, {}])
        if not barrier:
            epochs[-1][1].setdefault(tid, deque()).append(e)
    cursor = dict.fromkeys(plan, 0)
    out: list[ev.Event] = []
    while True:
        ready: list[tuple[str, str | None, bool]] = []
        for pid, epochs in plan.items():
            i = cursor[pid]
            while i < len(epochs) and epochs[i][0] is None and not any(epochs[i][1].values()):
                i += 1
            cursor[pid] = i
            if i == len(epochs):
                continue
            barrier, queues = epochs[i]
            if barrier is not None:
                ready.append((pid, None, True))
            else:
                ready.extend((pid, tid, False) for tid, q in queues.items() if q)
        if not ready:
            return out
        pid, tid, is_barrier = rnd.choice(ready)
        epoch = plan[pid][cursor[pid]]
        if is_barrier:
            out.append(epoch[0])
            epoch[0] = None
        else:
            out.append(epoch[1][tid].popleft())


def _requests(events: list[ev.Event] | tuple[ev.Event, ...]) -> list[dict[str, Any]]:
    return [request_dict(r) for r in RequestAssembler().assemble(events)]


@pytest.mark.parametrize("path", _logs(), ids=lambda p: p.name)
@settings(max_examples=20, deadline=None)
@given(rnd=st.randoms(use_true_random=False))
def test_interleaving_threads_differently_gives_the_same_requests(path: Path, rnd: random.Random) -> None:
    # the events keep their original line numbers, so the requests must be identical, lines included
    events = _events(str(path))
    shuffled = interleave(events, rnd)
    assert sorted(e.line for e in shuffled) == sorted(e.line for e in events)
    by_thread: dict[tuple[str, str | None], list[int]] = {}
    for e in shuffled:
        by_thread.setdefault(_thread(e), []).append(e.line)
    assert all(lines == sorted(lines) for lines in by_thread.values())
    assert _requests(shuffled) == _requests(events)


def test_the_generator_really_interleaves() -> None:
    events = _events(FAILOVER)
    orders = {tuple(e.line for e in interleave(events, random.Random(seed))) for seed in range(5)}
    assert len(orders) > 1


def _by_record(path: str) -> tuple[dict[tuple[str, str | None], list[str]], dict[tuple[str, str | None, int], int],
                                   ReadStats]:
    """Each thread's record texts in order, and (pid, tid, line) -> the record's position in its thread."""
    stats = ReadStats()
    parser = RecordParser()
    texts: dict[tuple[str, str | None], list[str]] = {}
    position: dict[tuple[str, str | None, int], int] = {}
    for raw in read_records([path], stats):
        thread = _thread(parser.parse(raw))
        seq = texts.setdefault(thread, [])
        assert (*thread, raw.line) not in position, "two records of one thread on one line"
        position[(*thread, raw.line)] = len(seq)
        # the header's time is the thread's own; the rest of the record is what must be the same
        seq.append(raw.text)
    return texts, position, stats


def _located(d: dict[str, Any], position: dict[tuple[str, str | None, int], int]) -> dict[str, Any]:
    """``d`` with every line number replaced by the position of that record in the request's thread."""
    def at(line: int | None) -> int | None:
        return None if line is None else position[(d["pid"], d["tid"], line)]

    out = {k: v for k, v in d.items() if k != "file"}
    for key in ("first_line", "last_line", "cookie_line", "set_cookie_line", "no_member_line"):
        out[key] = at(d[key])
    out["attempts"] = [{**a, "line": at(a["line"]), "outcome_line": at(a["outcome_line"])} for a in d["attempts"]]
    out["mark_downs"] = [{**m, "line": at(m["line"])} for m in d["mark_downs"]]
    return out


def test_interleaved_and_sorted_traces_give_the_same_requests() -> None:
    """`interleaved.log` and `interleaved-sorted.log` hold the same records in a different order.

    Compared: every field of every request (pid, tid, times, URI, cookie, clone IDs, attempts with member,
    affinity, outcome, host and status, served by, status, Set-Cookie, cookie outcome, mark-downs, partial).
    Not compared as numbers: the line fields, which differ between the files by construction; each is
    replaced by the position of the record it points at within its own thread, so that `first_line 23` in
    one file and `first_line 12` in the other must still name the same record. Not compared at all: the
    file name. The only other difference is that `interleaved.log` has one physical line holding two
    records, which the reader splits (checked below).
    """
    a_texts, a_pos, a_stats = _by_record(trace("interleaved.log"))
    b_texts, b_pos, b_stats = _by_record(trace("interleaved-sorted.log"))
    assert a_texts == b_texts  # the same records per thread, in the same order: the premise of the comparison
    assert (a_stats.split_records, b_stats.split_records) == (1, 0)
    assert a_stats.expected_records == b_stats.expected_records

    def located(path: str, position: dict[tuple[str, str | None, int], int]) -> list[dict[str, Any]]:
        rows = [_located(request_dict(r), position) for r in reconstruct([path]).requests]
        return sorted(rows, key=lambda d: (d["pid"], d["tid"], d["first_line"]))

    a = located(trace("interleaved.log"), a_pos)
    b = located(trace("interleaved-sorted.log"), b_pos)
    assert len(a) == 4
    assert a == b
    assert all(d["partial"] == [] and d["status"] == 200 and d["cookie_outcome"] == "none" for d in a)


def test_the_split_line_gives_its_second_cookie_to_the_other_process() -> None:
    requests = reconstruct([trace("interleaved.log")]).requests
    by_thread = {(r.pid, r.tid): r for r in requests}
    assert by_thread[("00001b40", "00000c20")].cookie.session_id == "Bn6mVc3Xz_Lk2-Jh5Gf8DsA"  # type: ignore[union-attr]
    assert by_thread[("00001a2c", "00001004")].cookie.session_id == SESSION  # type: ignore[union-attr]
    assert {(r.tid, r.served_by) for r in requests} == {("00000e78", M1), ("00000f10", M2), ("00001004", M1),
                                                       ("00000c20", M2)}


# ---------------------------------------------------------------- the commands


def test_requests_command_jsonl() -> None:
    result = run_cli("requests", FAILOVER, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["first_line"], r["last_line"], r["tid"], r["served_by"], r["cookie_outcome"]) for r in rows] == [
        (12, 40, "00000e78", M1, "none"),
        (41, 102, "00000f10", M2, "clone_appended"),
        (103, 144, "00000e78", M2, "none"),
        (145, 190, "00001004", M1, "none"),
    ]
    assert [[(a["member"], a["outcome"]) for a in r["attempts"]] for r in rows][1] == [(M1, "connect_refused"),
                                                                                       (M2, "served")]
    assert [r["clone_ids"] for r in rows] == [["v544d031"], ["v544d031"], ["v544d031", "v544d0o0"],
                                              ["v544d031", "v544d0o0"]]
    assert {r["session_id"] for r in rows} == {SESSION}
    assert rows[1]["mark_downs"] == [{"member": M1, "line": 63}]
    assert rows[1]["set_cookie"]["clone_ids"] == ["v544d031", "v544d0o0"]
    assert rows[0]["file"] == FAILOVER and rows[0]["time"] == "2004-06-07T10:15:06"


def test_members_command_jsonl() -> None:
    result = run_cli("members", FAILOVER, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    rows = {(r["pid"], r["member"]): r for r in map(json.loads, result.stdout.splitlines())}
    assert set(rows) == {("00001a2c", M1), ("00001a2c", M2)}
    m1, m2 = rows[("00001a2c", M1)], rows[("00001a2c", M2)]
    assert (m1["state_at_end"], m1["requests_served"], m2["state_at_end"], m2["requests_served"]) == ("up", 2, "up", 2)
    assert m2["down_intervals"] == []
    (iv,) = m1["down_intervals"]
    assert iv["line"] == 63  # the interval's start line
    assert (iv["reason"], iv["reason_line"], iv["end_line"], iv["end_reason"]) == ("connect_refused", 61, 188, "served")
    assert [(c["line"], c["retry_in"]) for c in iv["countdowns"]] == [(78, 60), (119, 55)]
    assert (iv["retry_due_line"], iv["start"], iv["end"], iv["seconds"]) == (
        159, "2004-06-07T10:15:20", "2004-06-07T10:16:23", 63.0)
    assert m1["counters"]["line"] == 64 and m1["counters"]["failed"] == 1


def test_members_command_keeps_processes_apart() -> None:
    result = run_cli("members", str(SAMPLES / "stats-85.log"), "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    down = {(r["pid"], r["member"]): [(iv["line"], iv["end_line"]) for iv in r["down_intervals"]] for r in rows}
    assert down == {
        ("006a00f8", "Node01_member1"): [(24, 50)],
        ("006a00f8", "Node02_member2"): [],
        ("006a0114", "Node01_member1"): [],
        ("006a0114", "Node02_member2"): [],
    }


@pytest.mark.parametrize("command", ["requests", "members"])
def test_table_format_names_the_members(command: str) -> None:
    result = run_cli(command, FAILOVER)
    assert result.exit_code == 0, result.stderr
    assert M1 in result.stdout and M2 in result.stdout
    assert "00001a2c" in result.stdout


def test_requests_table_shows_the_failover() -> None:
    out = run_cli("requests", FAILOVER, "--format", "table").stdout
    assert "connect_refused" in out and "clone_appended" in out and SESSION in out


@pytest.mark.parametrize("command", ["requests", "members"])
def test_empty_input_is_a_one_line_error(command: str, tmp_path: Path) -> None:
    result = run_cli(command, str(write(tmp_path, "empty.log", "")))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "empty input" in result.stderr


# ---------------------------------------------------------------- one failure vocabulary


@pytest.mark.parametrize(("failure_line", "failure"), [
    ("ERROR: ws_common: websphereGetStream: Failed to connect to app server on host 'app1.itso.ibm.com', "
     "OS err=10061", ev.Failure.CONNECT_REFUSED),
    ("ERROR: ws_common: websphereGetStream: Connect timeout fired", ev.Failure.CONNECT_TIMEOUT),
    ("ERROR: ServerIOTimeout fired. Time out 60. retry count 0. serverIOTimeoutRetry -1, retry YES, rc 10",
     ev.Failure.SERVER_IO_TIMEOUT),
    ("TRACE: ws_common: websphereExecute: Failed to read from a new stream; App Server may have gone down "
     "during read", ev.Failure.STREAM_FAILED),
    ("ERROR: ws_common: websphereExecute: Failed to create the stream", ev.Failure.STREAM_FAILED),
])
def test_a_failure_is_named_alike_by_the_attempt_and_by_the_member_it_marked_down(
        tmp_path: Path, failure_line: str, failure: ev.Failure) -> None:
    # the failover sample with its refused connect (line 61) replaced by each failure the plug-in logs:
    # the attempt's outcome and the reason the member went down come from one table (ev.FAILURES)
    lines = Path(FAILOVER).read_text(encoding="utf-8").splitlines(keepends=True)
    assert "Failed to connect to app server" in lines[60]
    lines[60] = lines[60][: lines[60].index(" - ") + 3] + failure_line + "\n"
    path = tmp_path / "http_plugin.log"
    path.write_text("".join(lines), encoding="utf-8")
    refused, served = reconstruct([str(path)]).requests[1].attempts
    assert (refused.member, refused.outcome_line, refused.outcome.value) == (M1, 61, failure.value)
    seen_down = {view.member: view for view in served.state}[M1]
    assert seen_down.reason is not None and seen_down.reason.value == failure.value
