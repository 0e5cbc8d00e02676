"""`tracelens report` opened in headless Chromium: it renders, asks for nothing over the network, shows everything.

The browser is the system's ``chromium`` (Debian's package; ``TRACELENS_CHROMIUM`` names another),
driven by Playwright's Python client, which starts no browser of its own. Without a chromium the
tests are skipped with the reason, unless ``TRACELENS_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then
they fail, so that CI cannot pass without having opened the report.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SAMPLES, run_cli
from tests.test_html_report import HOSTILE_LINE, HOSTILE_MEMBER, hostile_log

ARTEFACTS = ROOT / "build"
SAMPLE = SAMPLES / "failover-failback.log"


def _require_or_skip(reason: str) -> None:
    if os.environ.get("TRACELENS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"TRACELENS_REQUIRE_BROWSER=1, but {reason}")
    pytest.skip(reason)


def chromium_path() -> str | None:
    for name in (os.environ.get("TRACELENS_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name) if name else None
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        _require_or_skip("no chromium on this machine (apt-get install chromium, or set TRACELENS_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require_or_skip("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@dataclass
class Visit:
    page: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_report(browser: Any, html: Path) -> Visit:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, java_script_enabled=True)
    page = context.new_page()
    visit = Visit(page)
    page.on("request", lambda r: visit.requests.append(r.url))
    page.on("console", lambda m: visit.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.errors.append(f"page error: {e}"))
    page.on("dialog", lambda d: (visit.dialogs.append(d.message), d.dismiss()))
    page.goto(html.as_uri())
    page.wait_for_function("document.documentElement.dataset.plots !== undefined", timeout=60_000)
    return visit


def write_report(tmp_path: Path, log: Path) -> Path:
    out = tmp_path / "incident.html"
    result = run_cli("report", str(log), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return out


def outside(requests: list[str], page_url: str) -> list[str]:
    """The requests other than the page itself, data: and about: URLs: what would go over a network."""
    return [u for u in requests if u != page_url and not u.startswith(("data:", "about:"))]


def test_the_sample_report_renders_offline_with_everything_in_it(browser: Any, tmp_path: Path) -> None:
    html = write_report(tmp_path, SAMPLE)
    visit = open_report(browser, html)
    page = visit.page
    assert page.evaluate("document.documentElement.dataset.plots") == "ready"
    assert visit.errors == []
    assert outside(visit.requests, html.as_uri()) == []
    # the summary: its figures and one sentence per warning rule of the sample (TL001, TL101)
    summary = page.inner_text("#summary")
    assert "2004-06-07 10:15:01 → 2004-06-07 10:16:23" in summary
    assert page.locator("ul.sentences li").count() == 2
    assert "1 mark-down of was1node_PluginMember1 in 1 of 1 process between 10:15:20 and 10:16:23" in summary
    # the timeline: one lane per process and member, drawn by Plotly as SVG, bands and marks
    lanes = page.eval_on_selector_all("#plot-timeline .ytick text", "els => els.map(e => e.textContent)")
    assert sorted(lanes) == ["00001a2c · was1node_PluginMember1", "00001a2c · was2Node_PluginMember2"]
    assert page.locator("#plot-timeline .bars .point").count() >= 3  # up, marked down, retry window
    assert page.locator("#plot-timeline .scatterlayer .point").count() == 4  # the four requests
    legend = page.eval_on_selector_all("#plot-timeline .legendtext", "els => els.map(e => e.textContent)")
    assert {"up", "marked down", "retry window", "failover", "failback"} <= set(legend)
    # the plots over time
    for plot in ("plot-verdicts", "plot-failovers", "plot-down"):
        assert page.locator(f"#{plot} svg.main-svg").count() >= 1, plot
    # every finding, with its message and its evidence lines
    findings = json.loads(run_cli("analyze", str(SAMPLE), "--format", "json").stdout)["findings"]
    assert page.locator("li.finding").count() == len(findings) == 3
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # printing opens every collapsed part
    assert page.evaluate("[...document.querySelectorAll('details')].every(d => d.open)")
    text = page.inner_text("body")
    for f in findings:
        assert f["message"] in text
        for where in f["evidence"]:
            line = int(where.rsplit(":", 1)[1])
            logged = SAMPLE.read_text(encoding="utf-8").splitlines()[line - 1]
            assert logged.strip() in text
    # the session a finding names is a link to its story
    page.click("#rule-TL001 a[href^='#session-']")
    assert page.evaluate("document.getElementById('session-IWuUT_zhR-gFYB-pOAk75Q5').open")
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "report-sample.png"), full_page=True)
    page.pdf(path=str(ARTEFACTS / "report-sample.pdf"))
    assert (ARTEFACTS / "report-sample.png").stat().st_size > 10_000
    assert visit.dialogs == []


def test_markup_in_the_log_stays_text_in_the_browser(browser: Any, tmp_path: Path) -> None:
    html = write_report(tmp_path, hostile_log(tmp_path))
    visit = open_report(browser, html)
    page = visit.page
    assert page.evaluate("document.documentElement.dataset.plots") == "ready"
    assert visit.errors == [] and visit.dialogs == []  # no alert() ran
    assert outside(visit.requests, html.as_uri()) == []
    assert page.locator("img, textarea, iframe, object, embed").count() == 0
    # the page's own three scripts and the one that unpacked Plotly's library: none from the log
    assert page.evaluate("document.scripts.length") == 4
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    text = page.inner_text("body")
    assert HOSTILE_LINE in text
    assert HOSTILE_MEMBER in text
    lanes = page.eval_on_selector_all("#plot-timeline .ytick text", "els => els.map(e => e.textContent)")
    assert f"00001a2c · {HOSTILE_MEMBER}" in lanes  # Plotly shows the name as text too
