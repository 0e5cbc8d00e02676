"""WebLogic: the cookie decoder, requests, replica history, verdicts, the weblogic.* findings, the faces."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import tracelens
from tests.conftest import ROOT, SAMPLES, run_cli, write
from tracelens.requests.weblogic_cookie import parse_wl_cookie
from tracelens.routing.replay import Verdict

TWO_SERVER = SAMPLES / "wlproxy-two-server-failover.log"  # ctime-only lines: the 6.x-8.1 plug-ins
RANDOM = ROOT / "tests" / "traces" / "weblogic" / "id-random-failover.log"  # <16-digit id> lines: 9.x and later
SID = "Gh4kT2mQp9XwZ1vB7nR3sL8yD5cF0aJ6eU2iO4"

# ---------------------------------------------------------------- the cookie decoder

SESSION_IDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=1,
                      max_size=60)
JVMIDS = st.integers(min_value=-(2**31), max_value=2**31 - 1).map(str)
CREATED = st.integers(min_value=10**12, max_value=10**13 - 1)


@given(SESSION_IDS, JVMIDS, st.none() | JVMIDS, st.none() | CREATED)
def test_the_cookie_decoder_reads_back_what_it_is_given(sid: str, primary: str, secondary: str | None,
                                                        created: int | None) -> None:
    value = "!".join([sid, primary, *([secondary] if secondary else []), *([str(created)] if created else [])])
    cookie = parse_wl_cookie(value)
    assert cookie.valid, cookie.malformed
    assert (cookie.session_id, cookie.primary, cookie.secondary, cookie.created_ms) == (sid, primary, secondary,
                                                                                       created)
    if created is not None:
        assert cookie.created is not None and int(cookie.created.timestamp()) // 100 >= 0


def test_cookie_examples_of_the_facts() -> None:
    four = parse_wl_cookie("Ab12!-2032354160!-457294087!1308677666322")
    assert (four.primary, four.secondary, four.created_ms) == ("-2032354160", "-457294087", 1308677666322)
    assert four.created is not None and four.created.isoformat() == "2011-06-21T17:34:26.322000"
    three = parse_wl_cookie("Ab12!-2032354160!1308677666322")  # no secondary: primary + creation time
    assert (three.primary, three.secondary, three.created_ms) == ("-2032354160", None, 1308677666322)
    old = parse_wl_cookie("Ab12!-2032354160!-457294087")  # the older form: no creation time
    assert (old.primary, old.secondary, old.created_ms) == ("-2032354160", "-457294087", None)
    assert parse_wl_cookie("Ab12!NaN").malformed == "a JVMID that is not a number"
    assert parse_wl_cookie("Ab12").malformed == "no JVMID after the session ID"
    assert parse_wl_cookie("!1").malformed == "no session ID before the first '!'"
    assert "tokens" in (parse_wl_cookie("a!1!2!3!1308677666322").malformed or "")


# ---------------------------------------------------------------- requests, verdicts and the replica history


def test_two_server_failover_verdicts_and_copies() -> None:
    report = tracelens.analyze(str(TWO_SERVER))
    assert report.system == "weblogic"
    assert [v.verdict for v in report.verdicts] == [
        Verdict.NEW_SESSION, Verdict.KEPT, Verdict.SECONDARY_USED, Verdict.KEPT, Verdict.KEPT, Verdict.FAILOVER]
    assert report.weblogic is not None and report.weblogic.settings.failover.value == "secondary"
    third = report.requests[2]
    assert (third.method, third.uri, third.served_by, third.status) == (
        "POST", "/shop/cart/add", "app2.example.com:7003", 200)
    assert [(a.member, a.outcome.value) for a in third.attempts] == [
        ("app1.example.com:7003", "connect_refused"), ("app2.example.com:7003", "served")]
    detail = report.weblogic.details[2]
    assert (detail.found_primary, detail.found_secondary) == ("app1.example.com:7003", "app2.example.com:7003")
    assert detail.cookie is not None and detail.cookie.created is not None
    history = report.weblogic.history(SID)
    assert history is not None
    pairs = [(s.primary_server, s.secondary_server, s.next_secondary) for s in history.steps]
    assert pairs[1] == ("app1.example.com:7003", "app2.example.com:7003", "-457294087")
    assert pairs[2] == ("app1.example.com:7003", "app2.example.com:7003", None)  # the failover left one copy
    assert history.steps[-1].next_session == "Qw8eR5tY2uI9oP3aS6dF1gH4jK7lZ0xC5vB8nM1"
    assert report.accounting.reconciles and report.accounting.joined_lines == 1


def test_random_failover_trace_verdicts_by_request_id() -> None:
    report = tracelens.analyze(str(RANDOM))
    assert report.weblogic is not None and report.weblogic.settings.failover.value == "random"
    by_id = {r.tid: v.verdict for r, v in zip(report.requests, report.verdicts, strict=True)}
    assert by_id == {
        "1457431200000001": Verdict.KEPT, "1457431200000002": Verdict.NEW_SESSION,
        "1457431200000003": Verdict.NEW_SESSION, "1457431200000004": Verdict.FAILOVER,
        "1457431200000005": Verdict.FAILOVER, "1457431200000006": Verdict.JVMID_STALE,
        "1457431200000007": Verdict.NO_MEMBER, "1457431200000008": Verdict.UNEXPLAINED,
        "1457431200000009": Verdict.INCOMPLETE,
    }
    # requests 1 and 2 interleave: each keeps its own lines
    first, second = report.requests[0], report.requests[1]
    assert (first.uri, first.served_by, second.uri, second.served_by) == (
        "/shop/cart", "app1.example.com:7003", "/shop/upload", "app3.example.com:7003")
    fifth = report.verdicts[4]
    assert "marked bad less than MaxSkipTime (10 s)" in fifth.reason
    assert [p.value for p in report.requests[-1].partial] == ["end_missing"]


def test_weblogic_failover_option_overrides_the_line_shape() -> None:
    report = tracelens.analyze(str(RANDOM), weblogic_failover="secondary")
    verdict = report.verdicts[3]
    assert verdict.verdict is Verdict.UNEXPLAINED
    assert "not to its secondary app1.example.com:7005 (--weblogic-failover secondary)" in verdict.reason
    result = run_cli("analyze", "--format", "json", "--weblogic-failover", "secondary", str(RANDOM))
    weblogic = json.loads(result.stdout)["topology"]["weblogic"]
    assert (weblogic["failover"], weblogic["failover_source"]) == ("secondary", "option")


# ---------------------------------------------------------------- findings, firing and quiet


def _codes(path: Path) -> dict[str, int]:
    report = tracelens.analyze(str(path))
    counts: dict[str, int] = {}
    for f in report.findings:
        counts[f.name] = counts.get(f.name, 0) + 1
    return counts


def test_findings_of_the_two_server_trace() -> None:
    counts = _codes(TWO_SERVER)
    assert counts.get("weblogic.single-copy") == 1
    assert counts.get("weblogic.session-lost") == 1
    for quiet in ("weblogic.jvmid-stale", "weblogic.secondary-same-host", "weblogic.cookie-name",
                  "weblogic.post-over-64k", "affinity.session-lost"):
        assert quiet not in counts, quiet


def test_findings_of_the_random_failover_trace() -> None:
    counts = _codes(RANDOM)
    for firing in ("weblogic.jvmid-stale", "weblogic.secondary-same-host", "weblogic.cookie-name",
                   "weblogic.post-over-64k", "availability.no-member-available", "input.partial-request"):
        assert counts.get(firing) == 1, firing
    # the failover to app3 left a secondary (app1:7005) in the cookie, and no session ID changed
    assert "weblogic.single-copy" not in counts
    assert "weblogic.session-lost" not in counts


def test_single_copy_window_message() -> None:
    report = tracelens.analyze(str(TWO_SERVER))
    finding = next(f for f in report.findings if f.name == "weblogic.single-copy")
    assert finding.message == (
        f"session {SID}: after the failover at 2004-06-07 10:01:00 the cookie names only app2.example.com:7003 "
        "(-457294087) and no secondary, until 2004-06-07 10:04:10 (4 request(s) in the window): one more failure "
        "loses the session")
    assert (finding.file, finding.line) == (str(TWO_SERVER), 22)


def test_secondary_on_another_host_and_default_cookie_name_are_quiet(tmp_path: Path) -> None:
    log = write(tmp_path, "wlproxy.log", "\n".join([
        "================New Request: [POST /upload HTTP/1.1] =================",
        "Mon Jun 07 10:00:00 2004 Hdrs from clnt:[Cookie]=[JSESSIONID=Ab12Cd34!-2!-3!1086861600000]",
        "Mon Jun 07 10:00:00 2004 Hdrs from clnt:[Content-Length]=[204800]",
        "Mon Jun 07 10:00:00 2004 [Found Primary]: app1:7003:65535",
        "Mon Jun 07 10:00:00 2004 [Found Secondary]: app2:7003:65535",
        "Mon Jun 07 10:00:00 2004 Trying POST /upload at backend host 'app1; port 7003; using SSL 'no'",
        "Mon Jun 07 10:00:00 2004 Hdrs from WLS:[HTTP/1.1 200 OK]",
    ]) + "\n")
    report = tracelens.analyze(str(log))
    assert [v.verdict for v in report.verdicts] == [Verdict.KEPT]
    assert report.findings == []


# ---------------------------------------------------------------- the faces


def test_analyze_prints_the_failover_the_window_and_the_copies() -> None:
    result = run_cli("analyze", str(TWO_SERVER))
    assert result.exit_code == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "secondary_used" in out and "failed over to its secondary app2.example.com:7003" in out
    assert "TL702 weblogic.single-copy" in out and "until 2004-06-07 10:04:10" in out
    assert "WebLogic sessions: primary and secondary copies" in out
    assert ("copies app1.example.com:7003 (-2032354160) + app2.example.com:7003 (-457294087) → secondary_used on "
            "app2.example.com:7003; then app2.example.com:7003 (-457294087) + none (one copy)") in out


def test_check_gates_on_the_two_server_trace() -> None:
    result = run_cli("check", str(TWO_SERVER))
    assert result.exit_code == 1
    assert f"{TWO_SERVER}:81: TL704 weblogic.session-lost [error]" in result.stdout
    assert run_cli("check", "--ignore", "weblogic,affinity", str(TWO_SERVER)).exit_code == 0
    sarif = json.loads(run_cli("check", "--format", "sarif", "--exit-zero", str(TWO_SERVER)).stdout)
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"TL001", "TL702", "TL704"}


def test_json_report_names_the_system_per_input_and_the_copies() -> None:
    result = run_cli("analyze", "--format", "json", str(SAMPLES / "failover-failback.log"), str(TWO_SERVER))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["system"] == "websphere+weblogic"
    assert {i["path"]: i["system"] for i in data["inputs"]} == {
        str(SAMPLES / "failover-failback.log"): "websphere", str(TWO_SERVER): "weblogic"}
    weblogic = next(s for s in data["sessions"] if s["id"] == SID)
    assert [c["next_secondary"] for c in weblogic["copies"]][:3] == ["-457294087", "-457294087", None]
    websphere = next(s for s in data["sessions"] if s["id"] != SID)
    assert websphere["copies"] == []
    assert data["accounting"]["reconciles"] is True


def test_session_command_tells_the_copies() -> None:
    result = run_cli("session", SID, str(TWO_SERVER))
    assert result.exit_code == 0, result.stderr
    assert "primary and secondary, request by request:" in result.stdout
    assert "failover on app1.example.com:7003; new session Qw8eR5tY2uI9oP3aS6dF1gH4jK7lZ0xC5vB8nM1" in result.stdout


def test_requests_timeline_and_export_show_weblogic_requests(tmp_path: Path) -> None:
    rows = [json.loads(x) for x in run_cli("requests", "--format", "jsonl", str(RANDOM)).stdout.splitlines()]
    assert [r["tid"] for r in rows][:2] == ["1457431200000001", "1457431200000002"]
    timeline = run_cli("timeline", str(TWO_SERVER), "--width", "80")
    assert timeline.exit_code == 0, timeline.stderr
    lanes = [line for line in timeline.stdout.splitlines() if line.startswith("wlproxy")]
    assert [line.split()[1] for line in lanes] == ["app1.example.com:7003", "app2.example.com:7003"]
    assert "L" in lanes[0] and "F" in lanes[1]
    out = tmp_path / "requests.jsonl"
    done = run_cli("export", str(TWO_SERVER), "--table", "requests", "--to", str(out))
    assert done.exit_code == 0, done.stderr
    verdicts = [json.loads(x)["verdict"] for x in out.read_text(encoding="utf-8").splitlines()]
    assert verdicts == ["new_session", "kept", "secondary_used", "kept", "kept", "failover"]


def test_explain_documents_every_weblogic_rule() -> None:
    for name in ("weblogic.jvmid-stale", "weblogic.single-copy", "weblogic.secondary-same-host",
                 "weblogic.session-lost", "weblogic.cookie-name", "weblogic.post-over-64k"):
        result = run_cli("explain", name)
        assert result.exit_code == 0
        for section in ("What it finds", "Why it matters", "Example", "What to do"):
            assert section in result.stdout, (name, section)


# ---------------------------------------------------------------- one story, either line shape

STAMPED = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} ")


def _to_id_shape(text: str) -> str:
    """The ctime-only trace with a <16-digit id> on every line, one id per request (banner to banner)."""
    out, rid = [], 0
    for line in text.splitlines():
        if line.startswith("="):
            rid += 1
            out.append(f"Mon Jun 07 10:00:00 2004 <10868616000000{rid:02d}> {line}")
        elif STAMPED.match(line):
            out.append(f"{line[:24]} <10868616000000{rid:02d}>{line[24:]}")
        else:
            out.append(line)  # a continuation line stays one
    return "\n".join(out) + "\n"


def _to_ctime_shape(text: str) -> str:
    """The <id> trace with each request's lines together (banner first) and the ids removed."""
    by_id: dict[str, list[str]] = {}
    last = ""
    for line in text.splitlines():
        if STAMPED.match(line):
            last = line[25:43]
            by_id.setdefault(last, []).append(line[:24] + line[43:])
        else:
            by_id[last].append(line)
    lines = []
    for request in by_id.values():
        banner = next(x for x in request if "New Request" in x)
        lines.append(banner[25:])
        lines.extend(x for x in request if x is not banner)
    return "\n".join(lines) + "\n"


def test_the_two_server_story_reads_the_same_in_the_id_shape(tmp_path: Path) -> None:
    ctime = tracelens.analyze(str(TWO_SERVER))
    log = write(tmp_path, "wlproxy.log", _to_id_shape(TWO_SERVER.read_text(encoding="utf-8")))
    with_ids = tracelens.analyze(str(log), weblogic_failover="secondary")
    assert {r.tid for r in with_ids.requests} == {f"10868616000000{k:02d}" for k in range(1, 7)}
    assert [v.verdict for v in with_ids.verdicts] == [v.verdict for v in ctime.verdicts]
    assert sorted(f.code for f in with_ids.findings) == sorted(f.code for f in ctime.findings)
    assert with_ids.accounting.reconciles


def test_the_random_story_reads_the_same_in_the_ctime_shape(tmp_path: Path) -> None:
    with_ids = tracelens.analyze(str(RANDOM))
    log = write(tmp_path, "wlproxy.log", _to_ctime_shape(RANDOM.read_text(encoding="utf-8")))
    ctime = tracelens.analyze(str(log), weblogic_failover="random")
    assert {r.tid for r in ctime.requests} == {None}
    assert sorted(v.verdict.value for v in ctime.verdicts) == sorted(v.verdict.value for v in with_ids.verdicts)
    assert sorted(f.code for f in ctime.findings) == sorted(f.code for f in with_ids.findings)
