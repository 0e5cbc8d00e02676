"""`tracelens report`: one self-contained HTML file, escaped log text, evidence lines, the extra it needs."""

from __future__ import annotations

import builtins
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLES, run_cli, write

SAMPLE = SAMPLES / "failover-failback.log"
HOSTILE_MEMBER = "was2<script>alert(1)</script>"
HOSTILE_LINE = "garbage </textarea><img src=x onerror=alert(4)> <script>alert(5)</script>"


def hostile_log(tmp_path: Path) -> Path:
    """The sample log with markup where the log has text: a member's name, and an unparsed line."""
    text = SAMPLE.read_text(encoding="utf-8").replace("was2Node_PluginMember2", HOSTILE_MEMBER)
    lines = text.splitlines(keepends=True)
    lines.insert(40, HOSTILE_LINE + "\n")
    return write(tmp_path, "http_plugin.log", "".join(lines))


class Page(HTMLParser):
    """The elements of a page and its text outside scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if not self._in:
            self.text.append(data)


def parsed(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def report_of(tmp_path: Path, *args: str) -> str:
    out = tmp_path / "incident.html"
    result = run_cli("report", *args, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    return out.read_text(encoding="utf-8")


def test_report_of_the_sample_is_one_file_without_network_references(tmp_path: Path) -> None:
    html = report_of(tmp_path, str(SAMPLE))
    page = parsed(html)
    # nothing to fetch: no element names an external resource, no script or stylesheet has a src
    for tag, attrs in page.tags:
        for name in ("src", "href", "data", "action", "poster"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    assert not re.search(r"\b(?:https?:)?//[a-z0-9.-]+\.(?:com|org|net|io)/[^\s\"']*\.(?:js|css|woff2?)", html)
    assert [t for t, _ in page.tags if t == "link"] == []
    text = " ".join(" ".join(page.text).split())
    for heading in ("Summary", "Timeline", "Over time", "Findings", "Sessions that changed member", "Configuration"):
        assert heading in text
    # the summary's sentences, from the findings' data
    assert ("1 session failed over from was1node_PluginMember1 in 1 of 1 process between 10:15:20 and 10:15:26 "
            "(connect refused).") in text
    assert "1 mark-down of was1node_PluginMember1 in 1 of 1 process between 10:15:20 and 10:16:23" in text
    ids = {attrs.get("id") for _, attrs in page.tags}
    assert {"plot-timeline", "plot-verdicts", "plot-failovers", "plot-down", "rule-TL001", "rule-TL101",
            "rule-TL002", "session-IWuUT_zhR-gFYB-pOAk75Q5"} <= ids


def test_the_sample_report_stays_under_five_megabytes(tmp_path: Path) -> None:
    html = report_of(tmp_path, str(SAMPLE))
    size = len(html.encode("utf-8"))
    assert size < 5 * 1024 * 1024, size
    assert size < 3 * 1024 * 1024, f"{size}: Plotly's library should travel compressed"


def test_markup_in_the_log_is_text_in_the_report(tmp_path: Path) -> None:
    html = report_of(tmp_path, str(hostile_log(tmp_path)))
    page = parsed(html)
    tags = [t for t, _ in page.tags]
    # no element came from the log: the page's three scripts, no image, no textarea
    assert tags.count("script") == 3
    assert "img" not in tags and "textarea" not in tags
    text = "".join(page.text)
    assert HOSTILE_LINE in text  # the unparsed line, as evidence of TL401
    assert HOSTILE_MEMBER in text  # the member's name in the configuration's table and the findings
    # inside the figures' JSON no "<" is left to end the element early; the name is an entity for Plotly,
    # whose labels take a little HTML, and its "&" unicode-escaped for the script element
    figures = html.split('<script type="application/json" id="figures">', 1)[1].split("</script>", 1)[0]
    assert "<" not in figures
    assert "was2\\u0026lt;script\\u0026gt;alert(1)" in figures


def test_evidence_lines_are_shown_with_their_routing_words_marked(tmp_path: Path) -> None:
    html = report_of(tmp_path, str(SAMPLE))
    line_61 = SAMPLE.read_text(encoding="utf-8").splitlines()[60]
    assert "Connection refused" in line_61 or "connect" in line_61.lower()
    row = re.search(r"<code>[^<]*failover-failback\.log:61</code></th>\s*<td><code class=\"logline\">(.*?)</code>",
                    html, re.S)
    assert row is not None
    assert "<mark>" in row.group(1)
    unmarked = re.sub(r"</?mark>", "", row.group(1))
    import html as html_module

    assert html_module.unescape(unmarked) == line_61


def test_evidence_read_from_standard_input_is_said_to_be_unreadable(tmp_path: Path) -> None:
    out = tmp_path / "stdin.html"
    result = run_cli("report", "-", "-o", str(out), input=SAMPLE.read_bytes())
    assert result.exit_code == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "not readable again: the log was read from standard input" in html


def test_without_the_extra_the_report_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    real_import = builtins.__import__

    def no_plotly(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "plotly" or name.startswith("plotly."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    import tracelens.reporters

    # as if never imported: `from tracelens.reporters import html` takes the package's attribute first
    for module in [m for m in sys.modules if m.startswith(("plotly", "tracelens.reporters.html"))]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.delattr(tracelens.reporters, "html", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_plotly)
    out = tmp_path / "x.html"
    result = run_cli("report", str(SAMPLE), "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr == "tracelens: error: report needs Jinja2 and Plotly: pip install 'tracelens[report]'\n"
    assert not out.exists()


def test_a_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_cli("report", str(tmp_path / "nope.log"), "-o", str(tmp_path / "x.html"))
    assert result.exit_code == 2
    assert result.stderr.startswith("tracelens: error: ") and result.stderr.count("\n") == 1


def figures_of(html: str) -> dict[str, Any]:
    import json

    return dict(json.loads(html.split('<script type="application/json" id="figures">', 1)[1].split("</script>", 1)[0]))


def test_configuration_and_the_share_of_load_against_weight(tmp_path: Path) -> None:
    traces = SAMPLES.parent / "tests" / "traces"
    html = report_of(tmp_path, str(traces / "uneven-balance.log"), "--config", str(traces / "uneven-balance-cfg.xml"))
    configuration = html.split('<section id="configuration">', 1)[1]
    text = " ".join(" ".join(parsed(configuration).text).split())
    assert "retry interval 60 s (from config)" in text and "load balance Round Robin" in text
    for member, clone in (("was1node_PluginMember1", "v544d031"), ("was2Node_PluginMember2", "v544d0o0"),
                          ("was3Node_PluginMember3", "v544d0q2")):
        assert f"{member} {clone} 1 unlimited primary config" in text
    assert 'id="rule-TL603"' in configuration  # the configuration's findings are shown with it
    shares = figures_of(html)["plot-shares"]["data"]
    by_name = {trace["name"]: trace["x"] for trace in shares}
    # 4 of the 6 load-balanced requests went to member1, against a third of the weight each
    assert [round(x, 1) for x in by_name["share of load-balanced requests"]] == [66.7, 16.7, 16.7]
    assert [round(x, 1) for x in by_name["share of configured weight"]] == [33.3, 33.3, 33.3]


def test_lanes_are_named_by_web_server_process_and_member(tmp_path: Path) -> None:
    # the same story logged by two web servers (the second in the 8.5 plug-in's timestamp format)
    for server, log in (("ihs1", SAMPLE), ("ihs2", SAMPLES / "failover-failback-85.log")):
        (tmp_path / server).mkdir()
        (tmp_path / server / "http_plugin.log").write_bytes(log.read_bytes())
    html = report_of(tmp_path, str(tmp_path / "ihs1" / "http_plugin.log"), str(tmp_path / "ihs2" / "http_plugin.log"))
    timeline = figures_of(html)["plot-timeline"]
    lanes = timeline["layout"]["yaxis"]["categoryarray"]
    assert sorted(lanes) == sorted(f"{server} · 00001a2c · {member}" for server in ("ihs1", "ihs2")
                                   for member in ("was1node_PluginMember1", "was2Node_PluginMember2"))
    text = " ".join(" ".join(parsed(html).text).split())
    assert "2 web servers" in text or "web servers 2: ihs1, ihs2" in text
    # with several files every evidence line names its file
    assert re.search(r"<code>[^<]*ihs2/http_plugin\.log:61</code>", html)


def test_a_generated_trace_of_twenty_thousand_lines_stays_within_the_budget(tmp_path: Path) -> None:
    from tests.golden import regenerate as golden

    trace = golden.write_generated_trace(tmp_path)
    html = report_of(tmp_path, str(trace))
    assert len(html.encode("utf-8")) < 5 * 1024 * 1024
    page = parsed(html)
    assert [t for t, _ in page.tags].count("script") == 3
    assert "plot-timeline" in figures_of(html)
