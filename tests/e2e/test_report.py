"""The HTML report opens in the browser from a file: figures rendered, no console error, and no
request leaves the file (plotly is inlined, nothing is fetched)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalcore.cli import main

pytestmark = pytest.mark.e2e


def test_report_opens_offline_with_its_figures(browser, tmp_path: Path, artifacts: Path):
    report = tmp_path / "report.html"
    assert main(["report", "--demo", "digits", "--ci", "-o", str(report)]) == 0
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(report.as_uri())
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        page.wait_for_timeout(500)
        plots = page.locator(".js-plotly-plot")
        assert plots.count() >= 4  # ROC, PR, confusion heatmap, reliability
        for i in range(plots.count()):
            assert plots.nth(i).locator("path.js-line, g.trace, rect").count() > 0
        assert "evalcore report" in page.locator("h1").inner_text()
        assert page.locator("table").count() >= 3
        page.screenshot(path=str(artifacts / "report.png"))
    finally:
        context.close()
    assert errors == []
    assert [url for url in requests if not url.startswith("file://")] == []
