"""`tracelens check`, the CI gate: exit codes, selection, settings files, and every output format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from tests.conftest import ROOT, SAMPLES, run_cli, write
from tracelens.findings.rules import RULES

FAILOVER = str(SAMPLES / "failover-failback.log")
SCHEMA = xmlschema.XMLSchema(str(ROOT / "tests" / "schemas" / "junit-jenkins.xsd"))
# the failover sample's findings (see test_findings): two warnings and an info
EXPECTED = {"TL001", "TL101", "TL002"}


@pytest.fixture(autouse=True)
def _no_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # run where no .tracelens.toml / pyproject.toml of this repository is found
    monkeypatch.chdir(tmp_path)


def test_fails_on_warning() -> None:
    result = run_cli("check", "--fail-on", "warning", FAILOVER)
    assert result.exit_code == 1
    assert "tracelens check FAILED: 3 finding(s), 2 at or above --fail-on warning" in result.stdout
    assert f"{FAILOVER}:41: TL001 affinity.failover [warning]" in result.stdout


def test_passes_when_those_findings_are_ignored() -> None:
    result = run_cli("check", "--fail-on", "warning", "--ignore", "affinity.failover,TL101", FAILOVER)
    assert result.exit_code == 0, result.stdout
    assert "passed: 1 finding(s), 0 at or above" in result.stdout


def test_threshold_error_passes_and_info_fails() -> None:
    assert run_cli("check", "--fail-on", "error", FAILOVER).exit_code == 0
    assert run_cli("check", "--fail-on", "info", "--select", "affinity.failback", FAILOVER).exit_code == 1


def test_select_by_group_and_glob() -> None:
    result = run_cli("check", "--format", "json", "--select", "availability", FAILOVER)
    assert {f["code"] for f in json.loads(result.stdout)["findings"]} == {"TL101"}
    result = run_cli("check", "--format", "json", "--select", "affinity.fail*", FAILOVER)
    assert {f["code"] for f in json.loads(result.stdout)["findings"]} == {"TL001", "TL002"}


def test_exit_2_for_missing_file_bad_selector_and_bad_config(tmp_path: Path) -> None:
    for args in (("check", str(tmp_path / "nope.log")), ("check", "--select", "no.such", FAILOVER),
                 ("check", "--config", str(tmp_path / "missing.xml"), FAILOVER)):
        result = run_cli(*args)
        assert result.exit_code == 2, args
        assert len(result.stderr.strip().splitlines()) == 1 and "tracelens: error:" in result.stderr


def test_json_carries_every_finding_and_the_exit_code() -> None:
    result = run_cli("check", "--format", "json", FAILOVER)
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["exit_code"] == 1 and data["failed"] is True
    assert {f["code"] for f in data["findings"]} == EXPECTED


def test_junit_validates_and_carries_every_finding() -> None:
    # NOTE: one test case per finding (it was one per rule with a failure per finding, of which Jenkins,
    # Azure DevOps and the JUnit actions show only the first); test_check_formats tests the rest
    result = run_cli("check", "--format", "junit", FAILOVER)
    assert result.exit_code == 1
    SCHEMA.validate(result.stdout)
    root = ET.fromstring(result.stdout)
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    assert len(cases) == len(RULES)  # three findings of three rules, and one passing case per other rule
    failures = cases[("TL001 affinity.failover", f"{FAILOVER}:41")].findall("failure")
    assert len(failures) == 1 and "failover-failback.log:41" in (failures[0].get("message") or "")
    assert cases[("TL101 availability.member-down", f"{FAILOVER}:63")].find("failure") is not None
    # the info finding is below the threshold: carried in system-out, not a failure
    out = cases[("TL002 affinity.failback", f"{FAILOVER}:145")].find("system-out")
    assert out is not None and "below --fail-on warning" in (out.text or "")
    assert cases[("TL003 affinity.session-lost", "no findings")].find("failure") is None
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "2" and suite.get("tests") == str(len(RULES))


def test_github_annotations_for_every_finding() -> None:
    result = run_cli("check", "--format", "github", FAILOVER)
    lines = [x for x in result.stdout.splitlines() if x.startswith("::")]
    assert len(lines) == 3
    assert lines[0].startswith(f"::warning file={FAILOVER},line=41,title=TL001 affinity.failover::session ")
    assert any(x.startswith("::notice ") and "TL002" in x for x in lines)


def test_github_output_cannot_be_injected_by_log_text(tmp_path: Path) -> None:
    # a member name with a comma, a colon and percent signs must not break out of the annotation
    text = (SAMPLES / "failover-failback.log").read_text(encoding="utf-8")
    log = write(tmp_path, "evil.log", text.replace("was1node_PluginMember1", "was1%0A::error::x"))
    result = run_cli("check", "--format", "github", str(log))
    annotations = [x for x in result.stdout.splitlines() if x.startswith("::")]
    assert not any(x.startswith("::error::x") for x in annotations)
    assert all("%250A" in x for x in annotations if "was1" in x)


def test_settings_from_tracelens_toml(tmp_path: Path) -> None:
    write(tmp_path, ".tracelens.toml", 'fail-on = "error"\nignore = ["TL002"]\nformat = "json"\n')
    result = run_cli("check", FAILOVER)
    assert result.exit_code == 0
    assert {f["code"] for f in json.loads(result.stdout)["findings"]} == {"TL001", "TL101"}
    # the command line wins over the file
    assert run_cli("check", "--fail-on", "warning", FAILOVER).exit_code == 1


def test_settings_from_pyproject_in_a_parent_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.tracelens]\nselect = ["availability"]\n')
    sub = tmp_path / "logs"
    sub.mkdir()
    monkeypatch.chdir(sub)
    result = run_cli("check", "--format", "json", FAILOVER)
    assert {f["code"] for f in json.loads(result.stdout)["findings"]} == {"TL101"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('fail-on = "sometimes"\n', "must be one of"),
        ('failon = "error"\n', "unknown tracelens setting"),
        ("select = 'TL001'\n", "must be a list"),
        ("fail-on = \n", "not valid TOML"),
    ],
)
def test_bad_settings_file_is_one_line_and_exit_2(tmp_path: Path, content: str, message: str) -> None:
    write(tmp_path, ".tracelens.toml", content)
    result = run_cli("check", FAILOVER)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
