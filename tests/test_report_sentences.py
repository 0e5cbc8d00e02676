"""The HTML report's summary: one sentence per error or warning rule, built from the findings' data."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from tests.conftest import ROOT, SAMPLES
from tracelens.api import analyze
from tracelens.findings.base import Finding, Severity
from tracelens.findings.rules import RULES
from tracelens.reporters.html.sentences import PHRASES, LineTimes, names, sentence, summary_sentences

TRACES = ROOT / "tests" / "traces"


def test_every_error_and_warning_rule_has_a_phrase() -> None:
    serious = {r.code for r in RULES if r.severity in (Severity.ERROR, Severity.WARNING)}
    assert serious - set(PHRASES) == set()
    assert set(PHRASES) <= {r.code for r in RULES}  # no phrase for a rule that does not exist


@pytest.mark.parametrize("rule", [r for r in RULES if r.severity is not Severity.INFO], ids=lambda r: r.code)
def test_every_serious_rule_gets_a_sentence_from_its_findings(rule: type) -> None:
    """Three findings of the rule, on two members in two of three processes: the sentence counts them."""
    base = analyze([str(SAMPLES / "failover-failback.log")], None)
    log = base.stats.files[0]
    findings = [
        Finding(rule.code, rule.name, rule.severity, "m1", file=log, line=61, pid="00001a2c", member="alpha_1",
                session="S1", evidence=((log, 61),)),
        Finding(rule.code, rule.name, rule.severity, "m2", file=log, line=159, pid="00001a2c", member="alpha_2",
                session="S2", evidence=((log, 159),)),
        Finding(rule.code, rule.name, rule.severity, "m3", file=log, line=188, pid="00002b3d", member="alpha_1",
                session="S2", evidence=((log, 188),)),
    ]
    report = dataclasses.replace(base, findings=findings)
    s = sentence(report, findings)
    assert s.code == rule.code and s.severity is rule.severity and s.findings == 3
    phrase = PHRASES[rule.code]
    assert s.text.endswith(".")
    assert " in 2 of 2 processes" in s.text
    # the lines' times, from the analysis: line 61 is the mark-down at 10:15:20, line 188 at 10:16:23
    assert "between 10:15:20 and 10:16:23" in s.text
    if phrase.preposition:
        assert "alpha_1 and alpha_2" in s.text
    else:
        assert "alpha_1" not in s.text


def test_the_sample_log_sentences() -> None:
    report = analyze([str(SAMPLES / "failover-failback.log")], None)
    texts = [s.text for s in summary_sentences(report)]
    assert texts == [
        "1 session failed over from was1node_PluginMember1 in 1 of 1 process between 10:15:20 and 10:15:26 "
        "(connect refused).",
        "1 mark-down of was1node_PluginMember1 in 1 of 1 process between 10:15:20 and 10:16:23 (connect refused).",
    ]
    # the info finding (TL002, the failback) has no sentence: the summary is for what went wrong
    assert all(s.severity is not Severity.INFO for s in summary_sentences(report))
    assert [s.code for s in summary_sentences(report, at_least=Severity.INFO)] == ["TL001", "TL101", "TL002"]


def test_errors_come_first_and_sessions_are_counted_once() -> None:
    report = analyze([str(TRACES / "session-lost.log")], None)
    sentences = summary_sentences(report)
    assert [s.code for s in sentences] == ["TL003", "TL001", "TL101"]
    assert sentences[0].severity is Severity.ERROR
    assert sentences[0].text.startswith("1 session lost after a switch of member to was2Node_PluginMember2 in 1 of 1 "
                                        "process")


def test_several_members_and_no_member_requests() -> None:
    report = analyze([str(TRACES / "no-member.log")], None)
    texts = {s.code: s.text for s in summary_sentences(report)}
    assert texts["TL101"] == ("2 mark-downs of was1node_PluginMember1 and was2Node_PluginMember2 in 1 of 1 process "
                              "between 10:15:20 and 10:15:30 (connect refused).")
    assert texts["TL102"].startswith("1 run of requests that found no member in 1 of 1 process")


def test_unparsed_records_are_counted_from_the_input() -> None:
    report = analyze([str(SAMPLES / "real-03-redbook-ex9-8-ordered-routing.log")], None)
    (s,) = summary_sentences(report)
    assert s.code == "TL401"
    assert s.text == f"{report.accounting.unparsed} unparsed records."


def test_names_are_listed_then_counted() -> None:
    assert names(["a"]) == "a"
    assert names(["a", "b"]) == "a and b"
    assert names(["a", "b", "c"]) == "a, b and c"
    assert names(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"


def test_a_line_takes_the_time_of_the_nearest_timed_line_before_it() -> None:
    t1, t2 = datetime(2004, 6, 7, 10, 15, 1), datetime(2004, 6, 7, 10, 15, 9)
    times = LineTimes([("a.log", 10, t1), ("a.log", 20, t2), ("b.log", 5, t2)])
    assert times.at("a.log", 10) == t1
    assert times.at("a.log", 19) == t1
    assert times.at("a.log", 25) == t2
    assert times.at("a.log", 9) is None  # before the first timed line
    assert times.at("c.log", 1) is None
