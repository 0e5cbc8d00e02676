"""Every rule from its table of cases (``tests/rule_cases/TLnnn.toml``): a trace, a configuration, its findings.

One file per registered rule, named by its code, as sqlfluff keeps a YAML file of cases per rule. Each case
gives a trace (files of ``sample_logs/`` or ``tests/traces/``, a log written inline, or whole requests built
by ``tests/plugin_requests.py`` and interleaved between threads), an optional plugin-cfg.xml (a file or
inline) and the findings of that rule the analysis must report, exactly: each with its code, severity,
file, line, process, member, session and evidence lines (a field left out must be empty), and substrings of
its message. ``findings = []`` is a case where the rule stays quiet. Every file has at least one of each.

The format of a case (all paths from the repository root)::

    [[case]]
    name = "what the case shows"
    trace = "sample_logs/failover-failback.log"   # or a list of files; or instead:
    log = '''[Mon Jun 07 10:15:06 2004] ...'''     # an inline log, written to `log_name` (http_plugin.log)
    logs = [{name = "b.log", text = '''...'''}]     # several inline logs, read in this order
    requests = {seed = 7, request = [...]}        # whole requests by tests/plugin_requests.py
    config = "sample_logs/plugin-cfg.xml"         # or config_text = '''<?xml ...''' (plugin-cfg.xml)
    config_name = "httpd.conf"                    # the name config_text is written to (plugin-cfg.xml)
    lenient = true                                # --lenient
    gzip_cut = 0.75                               # the trace gzip-compressed and cut to this fraction
    session_limit = 10                            # a lower limit of tracked sessions for this case

    [[case.findings]]
    code = "TL001"
    severity = "warning"
    file = "failover-failback.log"                # the name of the file the finding names
    line = 41
    pid = "00001a2c"
    member = "was1node_PluginMember1"
    session = "IWuUT_zhR-gFYB-pOAk75Q5"
    evidence = [41, 61, 63, 103]                  # lines of that file; "name:line" for another file
    says = ["the connection was refused, line 61"]
"""

from __future__ import annotations

import difflib
import gzip
import json
import random
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import plugin_requests as pr
from tracelens.api import analyze
from tracelens.findings.base import Finding
from tracelens.findings.rules import RULES
from tracelens.requests import sessions

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "rule_cases"
RULE_BY_CODE = {rule.code: rule for rule in RULES}

#: what a case may say; a key outside these is a typo that would leave the case asserting less
CASE_KEYS = frozenset({"name", "trace", "log", "log_name", "logs", "requests", "config", "config_text", "lenient",
                       "gzip_cut", "session_limit", "findings", "config_name"})
FINDING_KEYS = frozenset({"code", "severity", "file", "line", "pid", "member", "session", "evidence", "says"})
REQUEST_KEYS = frozenset({"pid", "tid", "begins", "shape", "session", "uri", "newer", "handling_level"})
BEGINS = {"trace": pr.TRACE, "debug": pr.DEBUG, "detail": pr.DETAIL}


@dataclass(frozen=True)
class Case:
    code: str
    file: Path
    number: int  # 1-based, in the file
    spec: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.code}-{self.number}-{self.spec.get('name', '')}"


def load_cases() -> list[Case]:
    out = []
    for path in sorted(CASES.glob("*.toml")):
        table = tomllib.loads(path.read_text(encoding="utf-8"))
        for number, spec in enumerate(table.get("case", []), 1):
            out.append(Case(path.stem, path, number, spec))
    return out


ALL_CASES = load_cases()


# ---------------------------------------------------------------- building a case's input


def requests_log(spec: dict[str, Any]) -> str:
    """The log of whole requests that ``spec`` lists, each process's banner and configuration load first,
    the requests' lines interleaved between their threads (``seed``)."""
    clf = bool(spec.get("clf", False))
    written = []
    for r in spec["request"]:
        unknown = set(r) - REQUEST_KEYS
        assert not unknown, f"unknown keys of a request: {sorted(unknown)}"
        written.append(pr.request(r["pid"], r["tid"], BEGINS[r.get("begins", "trace")], pr.Shape(r["shape"]),
                                  r["session"], r.get("uri", "/shop/cart"), newer=r.get("newer", True),
                                  handling_level=r.get("handling_level", "TRACE")))
    t0 = datetime(2004, 6, 7, 10, 15, 1, 12345)
    head: list[str] = []
    for i, pid in enumerate(dict.fromkeys(w.pid for w in written)):
        tid = next(w.tid for w in written if w.pid == pid)
        head += pr.config_block(t0 + timedelta(milliseconds=5 * i), pid, tid, clf)
    lines, _ = pr.interleave(written, random.Random(spec.get("seed", 0)), clf)
    return "\n".join(head + lines) + "\n"


def case_input(spec: dict[str, Any], tmp_path: Path) -> tuple[list[str], str | None]:
    """The paths and the configuration that the analysis of ``spec`` reads."""
    sources = [key for key in ("trace", "log", "logs", "requests") if key in spec]
    assert len(sources) == 1, f"a case has one of trace, log, logs, requests: {sources}"
    if "trace" in spec:
        given = spec["trace"] if isinstance(spec["trace"], list) else [spec["trace"]]
        paths = [str(ROOT / p) for p in given]
        for p in paths:
            assert Path(p).is_file(), p
    elif "logs" in spec:
        paths = []
        for log in spec["logs"]:
            paths.append(str(tmp_path / log["name"]))
            Path(paths[-1]).write_text(log["text"], encoding="utf-8")
    else:
        text = spec["log"] if "log" in spec else requests_log(spec["requests"])
        paths = [str(tmp_path / spec.get("log_name", "http_plugin.log"))]
        Path(paths[0]).write_text(text, encoding="utf-8")
    if "gzip_cut" in spec:
        data = gzip.compress(Path(paths[0]).read_bytes())
        paths = [str(tmp_path / (Path(paths[0]).name + ".gz"))]
        Path(paths[0]).write_bytes(data[: int(len(data) * spec["gzip_cut"])])
    assert not ("config" in spec and "config_text" in spec), "config or config_text, not both"
    config = None
    if "config" in spec:
        config = str(ROOT / spec["config"])
        assert Path(config).is_file(), config
    elif "config_text" in spec:
        config = str(tmp_path / spec.get("config_name", "plugin-cfg.xml"))
        Path(config).write_text(spec["config_text"], encoding="utf-8")
    return paths, config


# ---------------------------------------------------------------- comparing


def shown(f: Finding) -> dict[str, Any]:
    """A finding's identifying fields as a case writes them (the message is checked by ``says``)."""
    name = Path(f.file).name if f.file else None
    evidence = [line if file == f.file else f"{Path(file).name}:{line}" for file, line in f.evidence]
    return {"code": f.code, "severity": f.severity.value, "file": name, "line": f.line, "pid": f.pid,
            "member": f.member, "session": f.session, "evidence": evidence}


def expected(case: Case) -> list[dict[str, Any]]:
    out = []
    for given in case.spec["findings"]:
        unknown = set(given) - FINDING_KEYS
        assert not unknown, f"{case.file.name} case {case.number}: unknown keys {sorted(unknown)}"
        out.append({"code": given["code"], "severity": given["severity"], "file": given.get("file"),
                    "line": given.get("line"), "pid": given.get("pid"), "member": given.get("member"),
                    "session": given.get("session"), "evidence": given.get("evidence", [])})
    return out


def diff(want: list[dict[str, Any]], got: list[dict[str, Any]]) -> str:
    def lines(items: list[dict[str, Any]]) -> list[str]:
        return [json.dumps(item, ensure_ascii=False) for item in items] or ["(no finding)"]

    return "\n".join(difflib.unified_diff(lines(want), lines(got), "expected", "reported", lineterm=""))


# ---------------------------------------------------------------- the tests


def test_every_registered_rule_has_a_case_file_and_every_file_a_rule() -> None:
    files = {p.stem for p in CASES.glob("*")}
    registered = set(RULE_BY_CODE)
    assert files - registered == set(), "case files that name no registered rule"
    assert registered - files == set(), "registered rules without a case file"


@pytest.mark.parametrize("path", sorted(CASES.glob("*.toml")), ids=lambda p: p.stem)
def test_a_case_file_names_its_rule_and_has_a_case_that_fires_and_one_that_does_not(path: Path) -> None:
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    rule = RULE_BY_CODE.get(path.stem)
    assert rule is not None, f"{path.name} names no registered rule"
    assert table.get("rule") == rule.name, f"{path.name}: rule = {table.get('rule')!r}, registered as {rule.name}"
    assert set(table) == {"rule", "case"}, sorted(table)
    cases = table["case"]
    assert any(c["findings"] for c in cases), f"{path.name}: no case where {rule.code} fires"
    assert any(not c["findings"] for c in cases), f"{path.name}: no case where {rule.code} stays quiet"
    for c in cases:
        assert set(c) <= CASE_KEYS, f"{path.name} case {c.get('name')!r}: unknown keys {sorted(set(c) - CASE_KEYS)}"
        assert c.get("name"), f"{path.name}: a case without a name"
        assert all(f.get("code") == rule.code for f in c["findings"]), f"{path.name}: a finding of another rule"


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_rule_case(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if "session_limit" in case.spec:
        monkeypatch.setattr(sessions, "SESSION_LIMIT", case.spec["session_limit"])
    paths, config = case_input(case.spec, tmp_path)
    report = analyze(paths, config, lenient=bool(case.spec.get("lenient", False)))
    found = [f for f in report.findings if f.code == case.code]
    want, got = expected(case), [shown(f) for f in found]
    others = sorted({f.code for f in report.findings} - {case.code})
    assert got == want, (f"{case.file.name} case {case.number} ({case.spec['name']}); other findings: {others}\n"
                         + diff(want, got))
    rule = RULE_BY_CODE[case.code]
    for given, f in zip(case.spec["findings"], found, strict=True):
        assert f.name == rule.name
        for text in given.get("says", []):
            assert text in f.message, f"{case.file.name} case {case.number}: {text!r} not in\n{f.message}"
