"""Docs: regenerate docs/report.png, the README's picture of the HTML report of the bundled sample log.

    python docs/screenshot.py

It writes the report with the installed tracelens and photographs it in the system's chromium
(Debian's ``chromium`` package), driven by Playwright (the ``test`` extra); no browser is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_logs" / "failover-failback.log"
OUT = ROOT / "docs" / "report.png"
WIDTH, HEIGHT = 1200, 1500


def chromium() -> str:
    for name in (os.environ.get("TRACELENS_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name) if name else None
        if path:
            return path
    sys.exit("screenshot: no chromium found (apt-get install chromium, or set TRACELENS_CHROMIUM)")


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        page_file = Path(tmp) / "report.html"
        subprocess.run([sys.executable, "-m", "tracelens", "report", str(SAMPLE.relative_to(ROOT)), "-o",
                        str(page_file)], cwd=ROOT, check=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=1)
            page.goto(page_file.as_uri())
            page.wait_for_function("document.documentElement.dataset.plots === 'ready'", timeout=60_000)
            page.screenshot(path=str(OUT))
            browser.close()
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
