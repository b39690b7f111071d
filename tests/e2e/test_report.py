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


# In the page: each curve figure's box, its drawn svg, its legend, and where FPR / recall 1.0
# lands, with the element found there (the figure must not be covered by its neighbour).
FIGURE_GEOMETRY = """() => [...document.querySelectorAll('.fig .js-plotly-plot')].slice(0, 2).map(gd => {
    gd.scrollIntoView({block: 'center'});
    const box = gd.closest('.fig').getBoundingClientRect();
    const svg = gd.querySelector('svg.main-svg').getBoundingClientRect();
    const legend = gd.querySelector('.legend').getBoundingClientRect();
    const drag = gd.querySelector('.nsewdrag').getBoundingClientRect();
    const fl = gd._fullLayout;
    const x1 = drag.left + fl.xaxis.c2p(1.0), ymid = drag.top + drag.height / 2;
    const hit = document.elementFromPoint(x1 - 1, ymid);
    return {box: box.toJSON(), svg: svg.toJSON(), legend: legend.toJSON(), drag: drag.toJSON(),
            x1, inside: !!hit && gd.contains(hit), legendItems: gd.querySelectorAll('.legend .traces').length};
})"""


@pytest.mark.parametrize("width", [1000, 1300, 1920])
def test_report_curves_render_whole_with_their_legends(browser, tmp_path: Path, width: int):
    report = tmp_path / "report.html"
    assert main(["report", "--demo", "digits", "-o", str(report)]) == 0
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    try:
        page.goto(report.as_uri())
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        page.wait_for_timeout(800)
        figures = page.evaluate(FIGURE_GEOMETRY)
    finally:
        context.close()
    assert len(figures) == 2  # ROC and PR
    for f in figures:
        box, svg, legend, drag = f["box"], f["svg"], f["legend"], f["drag"]
        # drawn within its own box, not wider (the neighbour would cover it)
        assert svg["width"] <= box["width"] + 1 and svg["left"] >= box["left"] - 1
        # the x axis reaches 1.0 inside the figure, and that point is this figure's own
        assert box["left"] < f["x1"] <= box["right"] and f["inside"], f
        # the legend is visible: inside the figure's box, below the plot, with every entry
        assert legend["width"] > 100 and legend["height"] > 50
        assert legend["left"] >= box["left"] - 1 and legend["right"] <= box["right"] + 1
        assert legend["top"] >= drag["bottom"] and legend["bottom"] <= box["bottom"] + 1
        assert f["legendItems"] >= 11
        # a square plot area of a useful size
        assert drag["width"] >= 380 and abs(drag["width"] - drag["height"]) <= 2
