"""Where a request begins: the begin lines of every plug-in version and log level, in any subset and
order, interleaved with other threads, in both timestamp styles (issue 14 §1)."""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, run_cli, write
from tests.plugin_requests import (
    DEBUG,
    DETAIL,
    M1,
    M2,
    TRACE,
    Begin,
    Shape,
    Written,
    begin_lines_trace,
    header,
    interleave,
    request,
)
from tracelens.api import analyze, reconstruct
from tracelens.requests.assemble import Partial, Request
from tracelens.routing.replay import Verdict

TRACES = ROOT / "tests" / "traces"
A, B = "00001a2c", "00001b40"


def _log(tmp: Path, requests: list[Written], rnd: random.Random, clf: bool) -> tuple[Path, list[list[int]]]:
    lines, numbers = interleave(requests, rnd, clf)
    return write(tmp, "http_plugin.log", "\n".join(lines) + "\n"), numbers


def _assigned(found: list[Request], written: list[Written], numbers: list[list[int]]) -> None:
    """Each written request is one request found, with its own lines and none of another's."""
    assert len(found) == len(written)
    assert [r for r in found if r.partial] == []
    by_start = {(r.pid, r.tid, r.first_line): r for r in found}
    for w, lines in zip(written, numbers, strict=True):
        r = by_start[(w.pid, w.tid, lines[0])]
        mine = set(lines)
        assert r.last_line == lines[-1]
        assert {file for file, _ in r.evidence} == {r.file}
        assert {line for _, line in r.evidence} <= mine
        assert {a.line for a in r.attempts} | {s.line for s in r.status_checks} <= mine
        assert r.cookie_line is None or r.cookie_line in mine
        assert r.served_by == w.served_by
        # the URI is in the route lookup, `Request is:` and the request line (which a request that no
        # member took never writes)
        shows_uri = {Begin.ROUTE, Begin.INFO} & set(w.begins) or w.shape is not Shape.NO_MEMBER
        assert r.uri == (w.uri if shows_uri else None)
        if w.shape is Shape.NO_MEMBER:
            assert r.no_member_line in mine and r.status is None
        else:
            assert r.status == 200 and r.status_line in mine
        if w.cookie is not None:
            assert r.cookie is not None and r.cookie.raw == w.cookie


# ---------------------------------------------------------------- the test traces


@pytest.mark.parametrize("name", ["begin-lines.log", "begin-lines-85.log"])
def test_begin_line_traces_give_one_request_per_request_written(name: str) -> None:
    requests = reconstruct([str(TRACES / name)]).requests
    # tests/traces/README.md §10: the same eight requests in both timestamp styles
    assert [(r.pid, r.tid, r.first_line, r.last_line, r.served_by) for r in requests] == [
        (A, "00000e78", 23, 145, M1),  # Trace: route lookup, Handling, Request is, Enter
        (A, "00000f10", 24, 156, M1),  # Debug: route lookup, Handling, Request is
        (A, "00001004", 25, 120, M1),  # Detail: Request is only
        (B, "00000c20", 27, 157, M1),  # Trace, the older plug-in's function names
        (A, "00001004", 126, 199, M2),  # Debug
        (A, "00000e78", 150, 222, M2),  # Detail
        (A, "00000f10", 159, 235, M2),  # Trace
        (B, "00000c20", 161, 274, M2),  # Trace, fails over
    ]
    assert all(r.partial == () and r.status == 200 for r in requests)
    assert [r.uri for r in requests] == ["/shop/cart", "/shop/list", "/shop/item", "/shop/cart", "/shop/home",
                                         "/shop/home", "/shop/home", "/shop/checkout"]


@pytest.mark.parametrize("name", ["begin-lines.log", "begin-lines-85.log"])
def test_begin_line_traces_analyze_without_cut_requests(name: str) -> None:
    result = run_cli("analyze", str(TRACES / name), "--config", str(ROOT / "sample_logs" / "plugin-cfg.xml"),
                     "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["summary"]["requests"] == 8 and report["summary"]["partial_requests"] == 0
    assert report["summary"]["verdicts"]["incomplete"] == 0
    assert {f["name"] for f in report["findings"]} == {"affinity.failover", "availability.member-down"}


@pytest.mark.parametrize(("name", "clf"), [("begin-lines.log", False), ("begin-lines-85.log", True)])
def test_begin_line_traces_are_what_the_request_builder_writes(name: str, clf: bool) -> None:
    # regenerate with: python -c "from tests.plugin_requests import begin_lines_trace; ..." (README §10)
    assert (TRACES / name).read_text(encoding="utf-8") == begin_lines_trace(clf)


# ---------------------------------------------------------------- the rule


@pytest.mark.parametrize("begins", [p for n in range(1, 5) for c in itertools.combinations(Begin, n)
                                    for p in itertools.permutations(c)], ids=lambda b: "+".join(x.value for x in b))
def test_every_subset_and_order_of_begin_lines_is_one_request(begins: tuple[Begin, ...], tmp_path: Path) -> None:
    written = [request(A, "00000e78", begins, Shape.KEPT, "IWuUT_zhR-gFYB-pOAk75Q5", "/shop/cart"),
               request(A, "00000e78", begins, Shape.NEW, "Bn6mVc3Xz_Lk2-Jh5Gf8DsA", "/shop/home"),
               request(A, "00000f10", TRACE, Shape.KEPT, "Qr7tYu2Io_Pa9-Sd4Fg6HjK", "/shop/item")]
    path, numbers = _log(tmp_path, written, random.Random(len(begins)), clf=False)
    _assigned(reconstruct([str(path)]).requests, written, numbers)


def test_a_begin_line_of_a_kind_the_request_holds_begins_the_next(tmp_path: Path) -> None:
    # LogLevel Detail: `Request is:` and header lines the assembler does not read; the second
    # `Request is:` can only be the next request's
    now = datetime(2004, 6, 7, 10, 15, 6)
    bodies = [
        "DETAIL: ws_common: websphereHandleRequest: Request is: host='www.example.com', uri='/a', protocol='HTTP/1.1'",
        "DETAIL:    Host: www.example.com",
        "DETAIL: ws_common: websphereHandleRequest: Request is: host='www.example.com', uri='/b', protocol='HTTP/1.1'",
        "DETAIL:    Host: www.example.com",
    ]
    path = write(tmp_path, "detail.log", "".join(header(now, A, "00000e78", clf=False) + b + "\n" for b in bodies))
    first, second = reconstruct([str(path)]).requests
    assert (first.first_line, first.uri, first.partial) == (1, "/a", (Partial.END_MISSING,))
    assert (second.first_line, second.uri) == (3, "/b")


def test_the_state_a_request_is_judged_by_is_its_process_state_at_its_first_line(tmp_path: Path) -> None:
    # thread e78 writes its route lookup; thread f10 of the same process fails over, marking member1
    # down; then e78 writes the rest of its begin lines and is load balanced to member2
    late = request(A, "00000e78", TRACE, Shape.NEW, "Bn6mVc3Xz_Lk2-Jh5Gf8DsA", "/shop/home")
    failover = request(A, "00000f10", TRACE, Shape.FAILOVER, "IWuUT_zhR-gFYB-pOAk75Q5", "/shop/cart")
    now = datetime(2004, 6, 7, 10, 15, 6)
    lines = []
    for w, body in ([(late, late.bodies[0])] + [(failover, b) for b in failover.bodies]
                    + [(late, b) for b in late.bodies[1:]]):
        now += timedelta(milliseconds=3)
        lines.append(header(now, w.pid, w.tid, clf=True) + body)
    path = write(tmp_path, "state.log", "\n".join(lines) + "\n")
    result = reconstruct([str(path)])
    down_at = next(v for v in result.requests if v.tid == "00000f10").mark_downs[0][1]
    judged = next(r for r in result.requests if r.tid == "00000e78")
    assert (judged.first_line, len(result.requests)) == (1, 2) and judged.partial == ()
    assert down_at > judged.first_line
    assert {v.member: v.state.value for v in judged.state_at_begin}.get(M1) != "down"


# ---------------------------------------------------------------- property: any interleaving of whole requests

THREADS = [(A, "00000e78"), (A, "00000f10"), (A, "00001004"), (B, "00000c20"), (B, "00000e78")]
_begins = st.lists(st.sampled_from(list(Begin)), min_size=1, max_size=4, unique=True)
_written = st.tuples(st.sampled_from(range(len(THREADS))), st.sampled_from(list(Shape)),
                     st.one_of(_begins, st.sampled_from([TRACE, DEBUG, DETAIL])), st.booleans(),
                     st.sampled_from(["TRACE", "DEBUG"]))


@settings(max_examples=60, deadline=None)
@given(specs=st.lists(_written, min_size=1, max_size=14), clf=st.booleans(), rnd=st.randoms(use_true_random=False))
def test_any_interleaving_of_whole_requests_gives_each_request_back_whole(
        specs: list[tuple[int, Shape, list[Begin], bool, str]], clf: bool, rnd: random.Random) -> None:
    written = [request(*THREADS[thread], tuple(begins), shape, f"IWuUT_zhR-gFYB-p{i:07d}", f"/shop/p{i}",
                       newer=newer, handling_level=level)
               for i, (thread, shape, begins, newer, level) in enumerate(specs)]
    with tempfile.TemporaryDirectory() as tmp:
        path, numbers = _log(Path(tmp), written, rnd, clf)
        _assigned(reconstruct([str(path)]).requests, written, numbers)


# ---------------------------------------------------------------- the benchmark's trace


def _generator() -> Any:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import generate  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return generate


def test_the_benchmark_trace_analyzes_to_the_requests_it_wrote(tmp_path: Path) -> None:
    generate = _generator()
    tally = generate.Tally()
    path = tmp_path / "bench.log"
    path.write_text("".join(line + "\n" for line in generate.generate(30_000, seed=7, tally=tally)), encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    # every request writes the whole Trace sequence (the end of the trace may cut one inside it)
    for begin in ("trying to match a route for:", "Handling WebSphere request", "websphereHandleRequest: Request is:",
                  "websphereWriteRequestReadResponse: Enter"):
        assert tally.requests_whole <= text.count(begin) <= tally.requests
    report = analyze([str(path)])
    assert (len(report.requests), tally.lines) == (tally.requests, 30_000)
    cut = [r for r in report.requests if r.partial]
    assert len(cut) == tally.requests_cut > 0  # the end of the trace cuts the requests still at work
    assert {r.partial for r in cut} == {(Partial.END_MISSING,)}
    incomplete = [report.requests[v.index] for v in report.verdicts if v.verdict is Verdict.INCOMPLETE]
    assert all(r.partial for r in incomplete)


def test_the_generator_says_what_it_wrote(tmp_path: Path) -> None:
    out, summary = tmp_path / "t.log", tmp_path / "t.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--lines", "3000", "--seed", "3",
                           "--out", str(out), "--summary", str(summary)], capture_output=True, text=True, check=True)
    tally = json.loads(summary.read_text(encoding="utf-8"))
    assert tally["lines"] == 3000 == len(out.read_text(encoding="utf-8").splitlines())
    assert tally["requests"] == tally["requests_whole"] + tally["requests_cut"]
    assert f"{tally['requests']:,} requests ({tally['requests_whole']:,} whole, {tally['requests_cut']:,} cut" \
        in done.stderr
    assert len(reconstruct([str(out)]).requests) == tally["requests"]


def test_at_loglevel_detail_a_request_that_got_its_answer_ends_when_its_thread_begins_the_next(
        tmp_path: Path) -> None:
    # LogLevel Detail writes no `Ending the request`: `Request is:`, the transport and the response's
    # header lines (DETAIL, four spaces: COV's scanner), two threads taking turns
    def detail(uri: str, host: str) -> list[str]:
        return [f"DETAIL: ws_common: websphereHandleRequest: Request is: host='www.example.com', uri='{uri}', "
                "protocol='HTTP/1.1'",
                f"DETAIL: ws_common: websphereFindTransport: Setting the transport(case 0): {host} on port 9080",
                "DETAIL:    HTTP/1.1 200 OK", "DETAIL:    Cache-Control: no-cache"]

    threads = {"00000e78": detail("/a", "app1.itso.ibm.com") + detail("/b", "app2.itso.ibm.com"),
               "00000f10": detail("/c", "app1.itso.ibm.com") + detail("/d", "app1.itso.ibm.com")}
    now, lines = datetime(2004, 6, 7, 10, 15, 6), []
    for i in range(8):
        for tid, bodies in threads.items():
            now += timedelta(milliseconds=2)
            lines.append(header(now, A, tid, clf=True) + bodies[i])
    requests = reconstruct([str(write(tmp_path, "detail.log", "\n".join(lines) + "\n"))]).requests
    assert [(r.tid, r.uri, r.status, r.partial) for r in requests] == [
        ("00000e78", "/a", 200, ()),
        ("00000f10", "/c", 200, ()),
        # the log ends after them: whether more of them was to come, it cannot say
        ("00000e78", "/b", 200, (Partial.END_MISSING,)),
        ("00000f10", "/d", 200, (Partial.END_MISSING,)),
    ]
    assert [a.host for r in requests for a in r.attempts] == ["app1.itso.ibm.com", "app1.itso.ibm.com",
                                                              "app2.itso.ibm.com", "app1.itso.ibm.com"]
