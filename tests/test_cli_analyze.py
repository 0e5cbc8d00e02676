"""`tracelens analyze` and `tracelens session` as a user runs them: the rich report, the JSON shape, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLES, run_cli, write
from tracelens.api import analyze
from tracelens.reporters.shapes import finding_dict
from tracelens.routing.replay import Verdict

TRACES = Path(__file__).resolve().parent / "traces"
FAILOVER = str(SAMPLES / "failover-failback.log")
CFG = str(SAMPLES / "plugin-cfg.xml")
M1, M2 = "was1node_PluginMember1", "was2Node_PluginMember2"
S1 = "IWuUT_zhR-gFYB-pOAk75Q5"
FULL_COOKIE = "0002IWuUT_zhR-gFYB-pOAk75Q5:v544d031:v544d0o0"

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Config><ServerCluster Name="&lol3;"/></Config>
"""


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("tracelens: error: ")
    assert "Traceback" not in stderr
    return lines[0]


def analyze_json(*args: str) -> dict[str, Any]:
    result = run_cli("analyze", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# ---------------------------------------------------------------- the rich report


def test_rich_report_of_the_failover_sample() -> None:
    result = run_cli("analyze", FAILOVER)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "tracelens analyze" in out
    for part in ("190 lines,", "4 requests,", "1 sessions,", "no --config: topology inferred"):
        assert part in out  # the header panel wraps at the terminal width
    assert "Members, per web-server process" in out
    assert "process 00001a2c" in out
    for name in ("affinity.failover", "availability.member-down", "affinity.failback"):
        assert name in out
    for code in ("TL001", "TL101", "TL002"):
        assert code in out
    counts = dict((v, int(n)) for n, v in re.findall(r"^\s+(\d+)\s+([a-z_]+)\s{2}", out, flags=re.MULTILINE)
                  if v in {x.value for x in Verdict})
    assert counts == {"kept": 1, "failover": 2, "failback": 1}
    assert "0 error(s), 2 warning(s), 1 info" in out
    assert "\x1b[" not in out  # NO_COLOR
    assert max(len(line) for line in out.splitlines()) <= 100  # COLUMNS


def test_rich_report_shows_the_first_down_intervals_of_a_member_and_counts_the_rest(tmp_path: Path) -> None:
    # a member refused, marked down and back (served) twelve times in one process
    lines, second = [], 0

    def add(body: str, tid: str = "00000f10") -> None:
        nonlocal second
        lines.append(f"[Mon Jun 07 10:{second // 60:02d}:{second % 60:02d} 2004] 00001a2c {tid} - {body}")
        second += 1

    for _ in range(12):
        add("ERROR: ws_common: websphereGetStream: Failed to connect to app server on host "
            "'app1.itso.ibm.com', OS err=10061")
        add(f"ERROR: ws_server: serverSetFailoverStatus: Marking {M1} down")
        add(f"TRACE: ws_server_group: serverGroupIncrementConnectionCount: Server {M1} picked, "
            "pendingConnectionCount 1 totalConnectionsCount 1.", "00000e78")
        add("TRACE:    HTTP/1.1 200 OK", "00000e78")
        add("TRACE: ws_common: websphereEndRequest: Ending the request", "00000e78")
    log = write(tmp_path, "flapping.log", "\n".join(lines) + "\n")
    assert len(analyze([str(log)]).tracker.record("00001a2c", M1).intervals) == 12
    result = run_cli("analyze", str(log))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.count("      down ") == 8  # the first eight, two seconds each
    assert "… and 4 more down intervals (8 s; `tracelens members` and --format json list all)" in " ".join(out.split())


def test_rich_report_with_config_names_it() -> None:
    result = run_cli("analyze", "--config", CFG, FAILOVER)
    assert result.exit_code == 0
    assert f"topology from {CFG}" in result.stdout
    assert M2 in result.stdout and "up throughout" in result.stdout


def test_rich_report_without_findings() -> None:
    result = run_cli("analyze", "--config", CFG, str(TRACES / "interleaved.log"))
    assert result.exit_code == 0
    assert "no findings" in result.stdout
    assert "0 error(s), 0 warning(s), 0 info" in result.stdout


def test_rich_report_lists_every_finding_name() -> None:
    path = str(TRACES / "no-member.log")
    report = analyze([path], CFG)
    result = run_cli("analyze", "--config", CFG, path)
    assert result.exit_code == 0
    assert report.findings
    for f in report.findings:
        assert f"{f.code} {f.name}" in result.stdout
    assert re.search(r"^\s+2\s+no_member\s", result.stdout, flags=re.MULTILINE)


# ---------------------------------------------------------------- --format json


def _is(value: Any, *types: type) -> bool:
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def check_schema(data: dict[str, Any]) -> None:
    """The documented JSON shape (README "JSON output"), key by key and type by type."""
    assert data["schema_version"] == 2
    assert data["tool"]["name"] == "tracelens" and _is(data["tool"]["version"], str)
    assert data["inputs"]
    for i in data["inputs"]:
        assert set(i) >= {"path", "lines", "records", "unparsed"}
        assert _is(i["path"], str) and all(_is(i[k], int) for k in ("lines", "records", "unparsed"))
    summary = data["summary"]
    assert all(_is(summary[k], int) for k in ("requests", "sessions", "processes"))
    assert set(summary["verdicts"]) == {v.value for v in Verdict}
    assert all(_is(n, int) and n >= 0 for n in summary["verdicts"].values())
    assert sum(summary["verdicts"].values()) == summary["requests"]
    assert set(summary["findings"]) == {"info", "warning", "error"}
    for m in data["members"]:
        assert set(m) >= {"name", "clone_id", "cluster", "source"}
        assert _is(m["name"], str) and _is(m["cluster"], str)
        assert m["clone_id"] is None or _is(m["clone_id"], str)
        assert m["source"] in ("config", "trace")
    for p in data["processes"]:
        assert set(p) >= {"web_server", "pid", "members"} and _is(p["pid"], str)
        assert p["web_server"] is None or _is(p["web_server"], str)
        for pm in p["members"]:
            assert set(pm) >= {"name", "down_intervals"}
            for iv in pm["down_intervals"]:
                assert set(iv) >= {"start", "end", "reason", "line"}
                assert _is(iv["line"], int) and _is(iv["reason"], str)
                assert iv["start"] is None or _is(iv["start"], str)
                assert iv["end"] is None or _is(iv["end"], str)
    for s in data["sessions"]:
        assert set(s) >= {"id", "members", "switches"}
        assert _is(s["id"], str) and _is(s["switches"], int) and all(_is(x, str) for x in s["members"])
    for f in data["findings"]:
        assert set(f) == {"code", "name", "severity", "message", "file", "line", "web_server", "pid", "member",
                          "session", "evidence"}
        assert re.fullmatch(r"TL\d{3}", f["code"]) and f["severity"] in ("info", "warning", "error")
        assert f["line"] is None or _is(f["line"], int)
        # every evidence line names its file: "file:line" (schema 2)
        assert all(_is(x, str) and re.fullmatch(r".+:\d+", x) for x in f["evidence"])
    assert sum(summary["findings"].values()) == len(data["findings"])


def test_json_of_the_failover_sample() -> None:
    data = analyze_json(FAILOVER)
    check_schema(data)
    assert data["system"] == "websphere"
    assert data["inputs"] == [{"path": FAILOVER, "web_server": None, "system": "websphere",
                               "first": "2004-06-07T10:15:01", "last": "2004-06-07T10:16:23", "lines": 190,
                               "records": 190, "unparsed": 0}]
    assert data["input_order"] == {"order": "first-timestamp", "reordered": False, "given": [FAILOVER],
                                   "web_servers": [], "duplicates": []}
    assert (data["summary"]["requests"], data["summary"]["sessions"], data["summary"]["processes"]) == (4, 1, 1)
    assert data["summary"]["verdicts"]["kept"] == 1
    assert data["summary"]["verdicts"]["failover"] == 2
    assert data["summary"]["verdicts"]["failback"] == 1
    assert data["topology"]["source"] == "trace" and data["topology"]["config"] is None
    assert [(m["name"], m["clone_id"], m["cluster"], m["source"]) for m in data["members"]] == [
        (M1, "v544d031", "PluginCluster", "trace"), (M2, "v544d0o0", "PluginCluster", "trace")]
    (process,) = data["processes"]
    assert process["pid"] == "00001a2c"
    by_name = {m["name"]: m for m in process["members"]}
    (iv,) = by_name[M1]["down_intervals"]
    assert (iv["start"], iv["end"], iv["reason"], iv["line"]) == (
        "2004-06-07T10:15:20", "2004-06-07T10:16:23", "connect_refused", 63)
    assert by_name[M2]["down_intervals"] == []
    (session,) = data["sessions"]
    assert (session["id"], session["members"], session["switches"]) == (S1, [M1, M2], 2)
    assert [(f["code"], f["name"], f["line"]) for f in data["findings"]] == [
        ("TL001", "affinity.failover", 41), ("TL101", "availability.member-down", 63),
        ("TL002", "affinity.failback", 145)]
    failover = data["findings"][0]
    assert (failover["severity"], failover["file"], failover["pid"], failover["member"], failover["session"]) == (
        "warning", FAILOVER, "00001a2c", M1, S1)


def test_json_findings_are_the_apis_findings() -> None:
    path = str(TRACES / "process-divergence.log")
    data = analyze_json("--config", CFG, path)
    assert data["findings"] == [finding_dict(f) for f in analyze([path], CFG).findings]


def test_json_with_config_takes_members_from_it() -> None:
    data = analyze_json("--config", CFG, FAILOVER)
    check_schema(data)
    assert data["topology"]["source"] == "config" and data["topology"]["config"] == CFG
    assert {m["source"] for m in data["members"]} == {"config"}
    assert [(m["name"], m["weight"]) for m in data["members"]] == [(M1, 4), (M2, 1)]


@pytest.mark.parametrize("name", sorted(p.name for p in TRACES.glob("*.log")))
def test_json_shape_of_every_scenario_trace(name: str) -> None:
    check_schema(analyze_json(str(TRACES / name)))


def test_json_of_two_inputs() -> None:
    stats = str(SAMPLES / "stats-85.log")
    data = analyze_json(FAILOVER, stats)
    check_schema(data)
    assert [(i["path"], i["lines"]) for i in data["inputs"]] == [(FAILOVER, 190), (stats, 51)]
    assert data["summary"]["processes"] == 3


def test_affinity_miss_next_in_list_is_accepted() -> None:
    data = analyze_json("--affinity-miss", "next-in-list", "--config", CFG, FAILOVER)
    assert data["topology"]["affinity_miss"] == "next-in-list"
    # two members: the next primary after member1 is member2, which is where the plug-in sent the session
    assert [f["name"] for f in data["findings"]] == ["affinity.failover", "availability.member-down",
                                                     "affinity.failback"]
    assert analyze_json(FAILOVER)["topology"]["affinity_miss"] == "load-balance"
    rich = run_cli("analyze", "--affinity-miss", "next-in-list", FAILOVER)
    assert rich.exit_code == 0


# ---------------------------------------------------------------- errors


def test_missing_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.xml")
    result = run_cli("analyze", "--config", missing, FAILOVER)
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert missing in line and "no such file" in line
    assert result.stdout == ""


def test_billion_laughs_config_is_refused_in_one_line(tmp_path: Path) -> None:
    bomb = write(tmp_path, "plugin-cfg.xml", BILLION_LAUGHS)
    result = run_cli("analyze", "--config", str(bomb), FAILOVER)
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert str(bomb) in line and "DOCTYPE" in line
    assert result.stdout == ""


def test_config_that_is_not_xml_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = write(tmp_path, "plugin-cfg.xml", "<Config><ServerCluster>\n")
    result = run_cli("analyze", "--format", "json", "--config", str(bad), FAILOVER)
    assert result.exit_code == 2
    assert "not well-formed XML" in one_error_line(result.stderr)


def test_session_with_a_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli("session", S1, "--config", str(tmp_path / "nope.xml"), FAILOVER)
    assert result.exit_code == 2
    one_error_line(result.stderr)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: str(d / "nope.log"), "no such file"),
        (lambda d: str(write(d, "empty.log", "")), "empty input"),
    ],
)
def test_bad_trace_is_one_line_and_exit_2(tmp_path: Path, setup, message: str) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("analyze", setup(tmp_path))
    assert result.exit_code == 2
    assert message in one_error_line(result.stderr)


# ---------------------------------------------------------------- tracelens session


SESSION_VERDICTS = ["kept", "failover", "failover", "failback"]


def session_verdicts(stdout: str) -> list[str]:
    words = "|".join(v.value for v in Verdict)
    return re.findall(rf"^\s{{6}}({words})\s", stdout, flags=re.MULTILINE)


@pytest.mark.parametrize("session_id", [S1, "0001" + S1, FULL_COOKIE], ids=["id", "with-cache-id", "full-cookie"])
def test_session_prints_each_requests_verdict(session_id: str) -> None:
    result = run_cli("session", session_id, FAILOVER)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"session {S1}")
    assert "4 request(s) in 1 process(es)" in out
    assert session_verdicts(out) == SESSION_VERDICTS
    for line in (12, 41, 103, 145):
        assert f"failover-failback.log:{line}" in out
    assert "the connection was refused, line 61" in out
    assert "TL001 affinity.failover" in out and "TL002 affinity.failback" in out


def test_session_output_is_the_same_for_every_form_of_the_id() -> None:
    outputs = {run_cli("session", sid, "--config", CFG, FAILOVER).stdout for sid in (S1, FULL_COOKIE)}
    assert len(outputs) == 1


def test_session_with_next_in_list() -> None:
    result = run_cli("session", "--affinity-miss", "next-in-list", FULL_COOKIE, FAILOVER)
    assert result.exit_code == 0
    assert session_verdicts(result.stdout) == SESSION_VERDICTS


def test_session_across_processes() -> None:
    result = run_cli("session", S1, "--config", CFG, str(TRACES / "process-divergence.log"))
    assert result.exit_code == 0
    assert "4 request(s) in 2 process(es)" in result.stdout
    assert session_verdicts(result.stdout) == ["failover", "kept", "failover", "kept"]
    assert "TL005 affinity.process-divergence" in result.stdout


def test_unknown_session_is_one_line_and_exit_2() -> None:
    result = run_cli("session", "0001AAAAAAAAAAAAAAAAAAAAAAA:v544d031", FAILOVER)
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert "0001AAAAAAAAAAAAAAAAAAAAAAA:v544d031" in line and "does not appear" in line
    assert result.stdout == ""
