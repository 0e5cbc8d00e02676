"""Findings through ``tracelens.api.analyze``, beyond each rule's table of cases.

Each rule's cases (a trace that must raise it, one that must not) are data in ``tests/rule_cases/``, run by
``tests/test_rule_cases.py``. Here: the seed's failover trace exactly, the scenario traces of
``tests/traces/`` request by request against their README, closer tests of single rules, and every
rule's documentation (four sections, unique code and name), ``tracelens explain``, ``tracelens rules``
and the README's generated findings table. The small traces written here are cut from real message texts
only: the records of ``sample_logs/failover-failback.log`` (RB51 Example 5-19, plugin-facts §0) and of the
scenario traces in ``tests/traces/`` (whose sources are listed in their README), with server names, times or
lines moved.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_cli, write
from tracelens.api import analyze
from tracelens.findings.base import Finding, Rule
from tracelens.findings.rules import RULES
from tracelens.report import Report
from tracelens.routing.replay import Verdict

TRACES = Path(__file__).resolve().parent / "traces"
FAILOVER = str(SAMPLES / "failover-failback.log")
FAILOVER_85 = str(SAMPLES / "failover-failback-85.log")
CFG = str(SAMPLES / "plugin-cfg.xml")
UNEVEN_CFG = str(TRACES / "uneven-balance-cfg.xml")

M1, M2, M3 = "was1node_PluginMember1", "was2Node_PluginMember2", "was3Node_PluginMember3"
PID, PID_B = "00001a2c", "00001b40"
S1 = "IWuUT_zhR-gFYB-pOAk75Q5"

SAMPLE_LINES = (SAMPLES / "failover-failback.log").read_text(encoding="utf-8").splitlines()
NO_MEMBER_LINES = (TRACES / "no-member.log").read_text(encoding="utf-8").splitlines()


def lines_of(f: Finding) -> set[int]:
    """The evidence line numbers of a finding of one file: each names that file (issue 14)."""
    assert all(file == f.file for file, _ in f.evidence), f.evidence
    return {line for _, line in f.evidence}


def trace(name: str) -> str:
    return str(TRACES / name)


def sample(first: int, last: int) -> list[str]:
    """Lines ``first``..``last`` (1-based, inclusive) of the failover sample."""
    return SAMPLE_LINES[first - 1:last]


def log(tmp_path: Path, name: str, lines: list[str]) -> str:
    return str(write(tmp_path, name, "\n".join(lines) + "\n"))


def plugin_cfg(
    members: Sequence[tuple[str, str | None, int, int]], retry_interval: str = "60", primary: list[str] | None = None
) -> str:
    """A generated-style plugin-cfg.xml (layout of ``sample_logs/plugin-cfg.xml``).

    ``members``: (name, CloneID or None, LoadBalanceWeight, ServerIOTimeout).
    """
    servers = []
    for i, (name, clone, weight, sio) in enumerate(members, 1):
        clone_attr = f' CloneID="{clone}"' if clone else ""
        servers.append(
            f'      <Server{clone_attr} ConnectTimeout="5" ExtendedHandshake="false" LoadBalanceWeight="{weight}" '
            f'MaxConnections="-1" Name="{name}" ServerIOTimeout="{sio}" WaitForContinue="false">\n'
            f'         <Transport Hostname="app{i}.itso.ibm.com" Port="9080" Protocol="http"/>\n'
            "      </Server>"
        )
    listed = primary if primary is not None else [m[0] for m in members]
    primaries = "".join(f'\n         <Server Name="{n}"/>' for n in listed)
    return (
        '<?xml version="1.0"?>\n<Config RefreshInterval="60">\n'
        '   <ServerCluster CloneSeparatorChange="false" IgnoreAffinityRequests="true" LoadBalance="Round Robin" '
        f'Name="PluginCluster" RetryInterval="{retry_interval}">\n'
        + "\n".join(servers)
        + f"\n      <PrimaryServers>{primaries}\n      </PrimaryServers>\n   </ServerCluster>\n"
        '   <UriGroup Name="default_host_PluginCluster_URIs">\n'
        '      <Uri AffinityCookie="JSESSIONID" AffinityURLIdentifier="jsessionid" Name="/hitcount"/>\n'
        "   </UriGroup>\n"
        '   <Route ServerCluster="PluginCluster" UriGroup="default_host_PluginCluster_URIs"/>\n</Config>\n'
    )


def cfg(tmp_path: Path, members: Sequence[tuple[str, str | None, int, int]], **kw: object) -> str:
    return str(write(tmp_path, "plugin-cfg.xml", plugin_cfg(members, **kw)))  # type: ignore[arg-type]


TWO = [(M1, "v544d031", 4, 60), (M2, "v544d0o0", 1, 60)]  # as sample_logs/plugin-cfg.xml


def names(report: Report) -> Counter[str]:
    return Counter(f.name for f in report.findings)


def of(report: Report, code: str) -> list[Finding]:
    return [f for f in report.findings if f.code == code]


def verdicts(report: Report) -> list[tuple[int, str, str | None]]:
    return [(report.requests[v.index].first_line, v.verdict.value, v.routed_to) for v in report.verdicts]


# ---------------------------------------------------------------- small traces built from real texts


def single_member_trace(tmp_path: Path) -> str:
    """A cluster of member1 alone: the config load, then sample request 2 up to `retry in 60`, then no member."""
    return log(tmp_path, "single.log",
               sample(1, 6) + sample(10, 10) + sample(41, 78) + NO_MEMBER_LINES[49:53])


# ---------------------------------------------------------------- the seed's failover trace, exactly


@pytest.mark.parametrize("config", [None, CFG], ids=["inferred", "plugin-cfg"])
@pytest.mark.parametrize("path", [FAILOVER, FAILOVER_85], ids=["asctime", "8.5-headers"])
def test_failover_sample_gives_exactly_failover_member_down_failback(path: str, config: str | None) -> None:
    report = analyze([path], config)
    got = sorted((f.name, f.line) for f in report.findings)
    assert got == [("affinity.failback", 145), ("affinity.failover", 41), ("availability.member-down", 63)]
    failover = of(report, "TL001")[0]
    assert (failover.member, failover.pid, failover.line, failover.session) == (M1, PID, 41, S1)
    down = of(report, "TL101")[0]
    assert (down.member, down.pid) == (M1, PID)
    assert "2 request(s) affected" in down.message
    assert "until it served a request again (line 188)" in down.message
    back = of(report, "TL002")[0]
    assert (back.member, back.pid, back.session) == (M1, PID, S1)
    assert verdicts(report) == [(12, "kept", M1), (41, "failover", M2), (103, "failover", M2), (145, "failback", M1)]


def test_findings_are_sorted_by_severity_then_code() -> None:
    report = analyze([trace("session-lost.log")], CFG)
    ranks = [(-f.severity.rank, f.code) for f in report.findings]
    assert ranks == sorted(ranks)
    assert report.findings[0].name == "affinity.session-lost"  # the only error


# ---------------------------------------------------------------- tests/traces/README.md, request by request

# (first line, last line, pid, tid, verdict, served by): the README's request tables; the verdict names
# are tracelens's own words for the README's "Expected findings"
K, FO, FB, NS, LB, CU, NM = (Verdict.KEPT, Verdict.FAILOVER, Verdict.FAILBACK, Verdict.NEW_SESSION,
                              Verdict.LOAD_BALANCED, Verdict.CLONE_UNKNOWN, Verdict.NO_MEMBER)
T1, T2, T3, T4 = "00000e78", "00000f10", "00001004", "000010c8"

_UNEVEN_PATTERN = [M1, M1, M2, M1, M1, M3] * 5
EXPECTED_REQUESTS: dict[str, list[tuple[int, int, str, str, Verdict, str | None]]] = {
    "session-lost.log": [(12, 40, PID, T1, K, M1), (41, 102, PID, T2, FO, M2), (103, 133, PID, T1, K, M2)],
    "clone-unknown.log": [(12, 42, PID, T1, CU, M2), (43, 73, PID, T2, K, M2)],
    "process-divergence.log": [(23, 84, PID, T2, FO, M2), (85, 114, PID_B, "00000d14", K, M1),
                               (115, 156, PID, T1, FO, M2), (157, 186, PID_B, "00000c20", K, M1)],
    "no-member.log": [(12, 53, PID, T2, NM, None), (54, 81, PID, T1, NM, None)],
    "cookie-anomalies.log": [(12, 40, PID, T1, K, M1), (41, 64, PID, T2, LB, M1)],
    # request 3 is cut after `Setting server to`: routed by affinity, but neither served nor failed
    "partial-requests.log": [(1, 12, PID, T2, K, M2), (13, 41, PID, T1, K, M1), (42, 59, PID, T3, K, None)],
    "interleaved.log": [(23, 134, PID, T1, K, M1), (24, 140, PID, T2, K, M2), (25, 136, PID, T3, K, M1),
                        (26, 141, PID_B, "00000c20", K, M2)],
    "interleaved-sorted.log": [(12, 40, PID, T1, K, M1), (41, 71, PID, T2, K, M2), (72, 100, PID, T3, K, M1),
                               (112, 142, PID_B, "00000c20", K, M2)],
    "retry-due-failback.log": [(12, 73, PID, T2, FO, M2), (74, 115, PID, T1, FO, M2), (116, 146, PID, T2, FB, M1),
                               (147, 176, PID, T1, K, M1)],
    "uneven-balance.log": [(16 + 21 * k, 36 + 21 * k, PID, (T1, T2, T3, T4)[k % 4], NS, _UNEVEN_PATTERN[k])
                           for k in range(30)],
}

# the README's "Expected findings" of each file, as tracelens groups them: one affinity.failover per
# failover episode of a session, one no-member-available per outage, one partial-request per file
EXPECTED_FINDINGS: dict[str, dict[str, int]] = {
    "session-lost.log": {"availability.member-down": 1, "affinity.failover": 1, "affinity.session-lost": 1},
    "clone-unknown.log": {"affinity.clone-unknown": 1, "affinity.session-lost": 1},
    "process-divergence.log": {"availability.member-down": 1, "affinity.failover": 1,
                               "affinity.process-divergence": 1},
    "no-member.log": {"availability.member-down": 2, "availability.no-member-available": 1},
    "cookie-anomalies.log": {"cookie.multiple": 1, "cookie.malformed": 1},
    "partial-requests.log": {"input.partial-request": 1},
    "interleaved.log": {},
    "interleaved-sorted.log": {"input.time-backwards": 1},  # sorted by thread: each thread starts over in time
    "retry-due-failback.log": {"availability.member-down": 1, "affinity.failover": 1, "affinity.failback": 1},
    "uneven-balance.log": {"balance.uneven": 1, "config.equal-weights": 1},
}


def _config_for(name: str) -> str:
    return UNEVEN_CFG if name == "uneven-balance.log" else CFG


@pytest.mark.parametrize("name", sorted(EXPECTED_REQUESTS))
def test_trace_requests_and_verdicts_match_the_readme(name: str) -> None:
    report = analyze([trace(name)], _config_for(name))
    got = [(report.requests[v.index].first_line, report.requests[v.index].last_line, report.requests[v.index].pid,
            report.requests[v.index].tid, v.verdict, report.requests[v.index].served_by) for v in report.verdicts]
    assert got == EXPECTED_REQUESTS[name]


@pytest.mark.parametrize("name", sorted(EXPECTED_REQUESTS))
def test_trace_verdicts_are_the_same_without_config(name: str) -> None:
    # every file starts with the configuration load (except partial-requests.log, whose requests carry
    # the clone IDs), so the inferred topology must lead to the same verdicts
    with_cfg = analyze([trace(name)], _config_for(name))
    inferred = analyze([trace(name)])
    assert [v.verdict for v in inferred.verdicts] == [v.verdict for v in with_cfg.verdicts]


@pytest.mark.parametrize("name", sorted(EXPECTED_FINDINGS))
def test_trace_findings_match_the_readme(name: str) -> None:
    report = analyze([trace(name)], _config_for(name))
    assert dict(names(report)) == EXPECTED_FINDINGS[name], [f.message for f in report.findings]


def test_session_lost_details() -> None:
    report = analyze([trace("session-lost.log")], CFG)
    down = of(report, "TL101")[0]
    assert (down.line, down.pid, down.member) == (63, PID, M1)
    assert 61 in lines_of(down) and "still down when the log ends" in down.message
    failover = of(report, "TL001")[0]
    assert (failover.line, failover.member, failover.session) == (41, M1, S1)
    assert "NEW session ID" in failover.message
    lost = of(report, "TL003")[0]
    assert f"served by {M2} instead of {M1}" in lost.message


def test_process_divergence_details() -> None:
    report = analyze([trace("process-divergence.log")], CFG)
    (down,) = of(report, "TL101")
    assert (down.pid, down.member, down.line) == (PID, M1, 45)  # pid 00001a2c only
    assert 43 in lines_of(down)
    (failover,) = of(report, "TL001")
    assert failover.pid == PID and {23, 115} <= lines_of(failover)  # requests 1 and 3, one episode
    assert "1 later request(s) of the session stayed on " + M2 in failover.message
    (divergence,) = of(report, "TL005")
    assert divergence.session == S1 and "within 4 s" in divergence.message


def test_no_member_details() -> None:
    report = analyze([trace("no-member.log")], CFG)
    downs = sorted((f.member, f.line, f.pid) for f in of(report, "TL101"))
    assert downs == [(M1, 25, PID), (M2, 40, PID)]
    by_member = {f.member: f for f in of(report, "TL101")}
    assert 23 in lines_of(by_member[M1]) and 38 in lines_of(by_member[M2])
    (outage,) = of(report, "TL102")
    assert {50, 78} <= lines_of(outage)
    assert "2 request(s) in process 00001a2c from 2004-06-07 10:15:20 to 2004-06-07 10:15:30" in outage.message
    # request 2: the report says its affinity member was marked down, retry in 50
    second = report.verdicts[1]
    assert second.verdict is Verdict.NO_MEMBER
    assert f"{M1}: marked down, retry in 50 s" in second.reason
    assert report.requests[1].no_member_line == 78


def test_partial_requests_details() -> None:
    report = analyze([trace("partial-requests.log")], CFG)
    first, complete, cut = report.requests
    assert [p.value for p in first.partial] == ["begin_missing"]
    assert complete.partial == ()
    assert [p.value for p in cut.partial] == ["end_missing"]
    # the cut request is neither served nor failed
    assert cut.served_by is None and not any(a.outcome.failed for a in cut.attempts)
    assert [r.tid for r in report.requests] == [T2, T1, T3]  # not merged across threads


def test_interleaved_and_sorted_give_the_same_requests() -> None:
    a = analyze([trace("interleaved.log")], CFG)
    b = analyze([trace("interleaved-sorted.log")], CFG)

    def shape(report: Report) -> list[tuple[object, ...]]:
        return sorted((r.pid, r.tid, r.cookie.raw if r.cookie else None, r.served_by, r.status, r.cookie_outcome.value)
                      for r in report.requests)

    assert shape(a) == shape(b)
    assert len(a.requests) == 4
    # the joined line 41: the second cookie value belongs to pid 00001b40 / tid 00000c20
    i4 = next(r for r in a.requests if r.pid == PID_B)
    assert i4.cookie is not None and i4.cookie.session_id == "Bn6mVc3Xz_Lk2-Jh5Gf8DsA" and i4.cookie_line == 41


def test_retry_due_failback_details() -> None:
    report = analyze([trace("retry-due-failback.log")], CFG)
    (down,) = of(report, "TL101")
    assert (down.line, down.pid, down.member) == (34, PID, M1)
    assert {32, 144} <= lines_of(down)
    (failover,) = of(report, "TL001")
    assert failover.line == 12 and {12, 74} <= lines_of(failover)
    (back,) = of(report, "TL002")
    assert (back.line, back.member) == (116, M1)


def test_uneven_balance_names_member1_and_equal_weights() -> None:
    report = analyze([trace("uneven-balance.log")], UNEVEN_CFG)
    (uneven,) = of(report, "TL201")
    assert uneven.pid == PID
    assert f"{M1} got 20 of 30 (expected about 10)" in uneven.message
    # 5 of 30 is exactly half of the expected 10: inside the tolerance, so members 2 and 3 are not named
    assert M2 not in uneven.message and M3 not in uneven.message
    (equal,) = of(report, "TL603")
    assert equal.file == UNEVEN_CFG and "every member has weight 2" in equal.message


# ---------------------------------------------------------------- config rules, closer


@pytest.mark.parametrize(
    ("retry_interval", "fires"),
    # two members, ServerIOTimeout 60: rule of thumb (2 - 1) * 60 - 1 = 59 s; tolerated from 29.5 to 118
    [("29", True), ("30", False), ("59", False), ("118", False), ("119", True), ("600", True)],
)
def test_retry_interval_against_the_rule_of_thumb(retry_interval: str, fires: bool, tmp_path: Path) -> None:
    report = analyze([FAILOVER], cfg(tmp_path, TWO, retry_interval=retry_interval))
    assert bool(of(report, "TL602")) is fires


def test_retry_interval_uses_the_absolute_server_io_timeout(tmp_path: Path) -> None:
    # a negative ServerIOTimeout also marks the member down on timeout; |-60| is what the rule uses
    config = cfg(tmp_path, [(M1, "v544d031", 4, -60), (M2, "v544d0o0", 1, -60)], retry_interval="600")
    (f,) = of(analyze([FAILOVER], config), "TL602")
    assert "ServerIOTimeout 60 s gives 59 s" in f.message


def test_too_short_retry_interval_says_so(tmp_path: Path) -> None:
    (f,) = of(analyze([FAILOVER], cfg(tmp_path, TWO, retry_interval="10")), "TL602")
    assert "retried again before" in f.message


def test_config_problem_keeps_the_default_retry_interval(tmp_path: Path) -> None:
    report = analyze([FAILOVER], cfg(tmp_path, TWO, retry_interval="sixty"))
    assert report.topology.clusters[0].retry_interval == 60
    assert sorted(names(report)) == sorted(["affinity.failover", "availability.member-down", "affinity.failback",
                                            "config.problem"])


def test_single_member_down_without_config(tmp_path: Path) -> None:
    report = analyze([single_member_trace(tmp_path)])
    (f,) = of(report, "TL604")
    assert (f.member, f.pid, f.line) == (M1, PID, 30)
    assert of(report, "TL102")  # the request found no member


# ---------------------------------------------------------------- bugs and open disagreements


def test_clone_unknown_followed_by_a_new_session_is_a_lost_session() -> None:
    report = analyze([trace("clone-unknown.log")], CFG)
    lost = of(report, "TL003")
    assert len(lost) == 1
    assert (lost[0].line, lost[0].session) == (41, S1)


def test_request_cut_after_a_failed_attempt_is_not_a_failover(tmp_path: Path) -> None:
    path = log(tmp_path, "cut.log", sample(1, 65))  # ends at `will try another one`
    report = analyze([path], CFG)
    assert report.verdicts[1].verdict is Verdict.INCOMPLETE
    assert of(report, "TL001") == []


def test_redbook_ordered_routing_is_not_a_single_member_cluster() -> None:
    report = analyze([str(SAMPLES / "real-03-redbook-ex9-8-ordered-routing.log")], lenient=True)
    assert of(report, "TL604") == []


def test_trace_mismatch_reports_a_clone_id_that_differs_from_the_config(tmp_path: Path) -> None:
    report = analyze([FAILOVER], cfg(tmp_path, [(M1, "v544dzzz", 4, 60), (M2, "v544d0o0", 1, 60)]))
    assert any(f.member == M1 or "v544d031" in f.message for f in of(report, "TL606"))


def test_small_truncated_gzip_is_analysed_with_a_damage_finding(tmp_path: Path) -> None:
    data = gzip.compress((SAMPLES / "failover-failback.log").read_bytes())
    path = write(tmp_path, "cut.log.gz", data[:1000])  # 42 readable lines, about 5 KB
    report = analyze([str(path)])
    assert of(report, "TL403")


# ---------------------------------------------------------------- rule documentation: explain, rules, README

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION_TITLES = ("What it finds", "Why it matters", "Example", "What to do")


def test_codes_and_names_are_unique_and_well_formed() -> None:
    codes = [r.code for r in RULES]
    rule_names = [r.name for r in RULES]
    assert len(set(codes)) == len(codes)
    assert len(set(rule_names)) == len(rule_names)
    for r in RULES:
        assert re.fullmatch(r"TL\d{3}", r.code), r.code
        # (a word of a name may start with a digit: weblogic.post-over-64k is the name issue 16 gives)
        assert re.fullmatch(r"[a-z]+(\.[a-z]+(-[a-z0-9]+)*)+", r.name), r.name
    assert codes == sorted(codes)  # "every rule, in code order"


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_documentation_has_the_four_sections(rule: type[Rule]) -> None:
    sections = rule.sections()
    assert tuple(sections) == SECTION_TITLES
    assert all(text.strip() for text in sections.values())
    summary = rule.summary()
    assert summary and summary.endswith(".") and summary not in SECTION_TITLES


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_explain_by_code_and_by_name_print_the_same_documentation(rule: type[Rule]) -> None:
    by_code = run_cli("explain", rule.code)
    by_name = run_cli("explain", rule.name)
    assert by_code.exit_code == 0 and by_name.exit_code == 0
    assert by_code.stdout == by_name.stdout
    out = by_code.stdout
    assert out.startswith(f"{rule.code} {rule.name} ({rule.severity.value})")
    for title in SECTION_TITLES:
        assert re.search(rf"^{title}$", out, flags=re.MULTILINE), title
    flat = " ".join(out.split())
    assert " ".join(rule.summary().split()) in flat


def test_explain_is_case_insensitive_for_codes() -> None:
    assert run_cli("explain", "tl001").stdout == run_cli("explain", "TL001").stdout


def test_explain_of_an_unknown_finding_is_one_line_and_exit_2() -> None:
    result = run_cli("explain", "TL999")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracelens: error:") and "TL999" in lines[0]


def test_rules_lists_every_code_and_name() -> None:
    result = run_cli("rules")
    assert result.exit_code == 0
    listed = re.findall(r"^(TL\d{3})\s+(\S+)", result.stdout, flags=re.MULTILINE)
    assert listed == [(r.code, r.name) for r in RULES]


def test_readme_findings_table_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- rules:begin -->\n(.*?)<!-- rules:end -->", text, flags=re.DOTALL)
    if match is None:
        pytest.skip("README has no generated findings table yet (<!-- rules:begin --> ... <!-- rules:end -->)")
    result = run_cli("rules", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    assert match.group(1) == result.stdout, "README findings table is stale: regenerate it with " \
                                            "`tracelens rules --format markdown`"
    rows = re.findall(r"^\| (TL\d{3}) \| `([^`]+)` \|", match.group(1), flags=re.MULTILINE)
    assert rows == [(r.code, r.name) for r in RULES]
