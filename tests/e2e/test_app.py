"""The dashboard in a real browser: demo, upload, thresholds, click-to-set, errors, URL, pictures.

Widgets are found by their visible labels, elements by the ``st-key-<key>`` class Streamlit
gives an element created with ``key=`` (confusion-matrix, curves.roc -> st-key-curves-roc, ...).
Expected numbers come from the engine (evalcore), computed in the test.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pandas as pd
import pytest

from evalcore import compute_curves
from tests.e2e.conftest import StreamlitPage
from evalcore.decisions import confusion
from evalcore.demos import load_demo
from evalcore.io import NamedBytes, load

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips (or, with CI set, fails) every test here
    expect = None

pytestmark = pytest.mark.e2e

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ANIMALS = ("heron", "otter", "lynx")
STEP = 0.001  # the threshold sliders' step


# ---------------------------------------------------------------------------------------------
# helpers


def eventually(page, read, accept, timeout: float = 20.0, interval_ms: int = 100):
    """Poll ``read()`` until ``accept(value)``; return the value (fail with the last one).

    Waits with ``page.wait_for_timeout``, not ``time.sleep``: the sync API handles the
    browser's events (e.g. the URL changes behind ``page.url``) only inside its own calls.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout:.0f} s; last value: {value!r}")
        page.wait_for_timeout(interval_ms)


def animals_csv(n: int = 90, seed: int = 7, bad_cell: bool = False) -> bytes:
    """A small wide CSV: ``label`` (3 class names) and one ``prob_<class>`` column per class."""
    rng = np.random.default_rng(seed)
    scores = rng.random((n, len(ANIMALS))) ** 2
    scores /= scores.sum(axis=1, keepdims=True)
    y = scores.argmax(axis=1)
    noisy = rng.random(n) < 0.3
    y[noisy] = rng.integers(0, len(ANIMALS), noisy.sum())
    frame = pd.DataFrame({"label": np.asarray(ANIMALS)[y]})
    for j, name in enumerate(ANIMALS):
        frame[f"prob_{name}"] = [f"{v:.6f}" for v in scores[:, j]]
    if bad_cell:
        frame.loc[5, "prob_otter"] = "abc"
    return frame.to_csv(index=False).encode()


def upload(app, name: str, data: bytes) -> None:
    """Choose "Prediction file" in the sidebar and put ``data`` into its file input."""
    app.choose("Source", "Prediction file")
    app.page.get_by_test_id("stSidebar").locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )


def matrix_cells(app) -> list[list[int]]:
    table = app.table(app.keyed("confusion-matrix"))
    return [[int(v.replace(",", "")) for v in row] for row in table["cells"]]


def expect_plots(app, keys: list[str]) -> None:
    """Each keyed plotly chart is drawn: an svg with at least one non-empty curve path."""
    for key in keys:
        plot = app.keyed(key).locator(".js-plotly-plot")
        expect(plot).to_be_visible()
        expect(plot.locator("svg.main-svg").first).to_be_attached()
        eventually(
            app.page, lambda: plot.evaluate(
                "gd => [...gd.querySelectorAll('.scatterlayer path.js-line')]"
                ".filter(p => (p.getAttribute('d') || '').length > 20).length"),
            lambda n: n >= 1,
        )


# ---------------------------------------------------------------------------------------------
# tests


def test_demo_opens_with_metrics_and_curves_render(app):
    page = app.page
    app.open("/", heading="Overview")
    curves = compute_curves(load_demo("digits").select())

    metrics = page.get_by_test_id("stMetric")
    expect(metrics).to_have_count(4)
    expect(metrics.filter(has_text="ROC AUC (macro)")).to_contain_text(f"{curves.roc_auc.macro:.4f}")
    expect(metrics.filter(has_text="AP (macro)")).to_contain_text(
        f"{curves.average_precision.macro:.4f}")
    expect(page.get_by_text("multiclass, 10 classes, 360 samples")).to_be_visible()
    classes = app.dataframe_column(page.get_by_test_id("stDataFrame").first)
    assert tuple(classes[: len(DIGITS)]) == DIGITS

    app.navigate("Curves")
    assert urlparse(page.url).path == "/curves"
    expect_plots(app, ["curves.roc", "curves.pr"])
    assert page.locator(".js-plotly-plot").count() >= 2
    expect(app.keyed("curves.roc").get_by_text(
        f"zero (AUC {curves.classes[0].roc_auc:.3f})")).to_be_attached()
    app.assert_no_exception()


def test_upload_csv_replaces_the_demo(app):
    page = app.page
    app.open("/", heading="Overview")
    data = animals_csv()
    upload(app, "animals.csv", data)

    caption = app.sidebar_caption().first
    expect(caption).to_contain_text("animals.csv")
    expect(caption).to_contain_text("3 classes")
    expect(page.get_by_text("multiclass, 3 classes, 90 samples")).to_be_visible()
    app.wait_for_app()
    grid = page.get_by_test_id("stDataFrame").first
    classes = eventually(page, lambda: app.dataframe_column(grid),
                         lambda c: tuple(c[: len(ANIMALS)]) == ANIMALS)
    assert not set(DIGITS) & set(classes), "the demo's classes are still shown"
    expected = compute_curves(load([NamedBytes("animals.csv", data)]).predictions)
    expect(page.get_by_test_id("stMetric").filter(has_text="ROC AUC (macro)")).to_contain_text(
        f"{expected.roc_auc.macro:.4f}")
    expect(page.get_by_test_id("stSidebar").get_by_test_id("stAlert")).to_have_count(0)
    app.assert_no_exception()


def test_abstain_slider_keys_give_the_engines_confusion_matrix(app):
    page = app.page
    app.open("/thresholds", heading="Thresholds")
    app.choose("Decision rule", "abstain")
    p = load_demo("digits").select()  # the app's default split, test

    slider = app.slider("Threshold")
    expect(slider).to_be_visible()
    t0 = app.slider_value("Threshold")
    start = eventually(page, lambda: matrix_cells(app),
                       lambda m: m == confusion(p, "abstain", t0).matrix.tolist())
    table = app.table(app.keyed("confusion-matrix"))
    assert table["columns"][1:] == [*DIGITS, "abstained"]
    assert table["index"] == list(DIGITS)

    def steps_to_change(direction: int) -> int:
        """Key presses until the engine's matrix differs from the one at t0 (so the DOM
        must change)."""
        for k in range(1, 200):
            t = round(t0 + direction * k * STEP, 3)
            if confusion(p, "abstain", t).matrix.tolist() != start:
                return k
        pytest.fail("no threshold near t0 changes the abstain matrix")

    for key, direction in (("ArrowRight", +1), ("ArrowLeft", -1)):
        before = app.slider_value("Threshold")
        target = round(t0 + direction * steps_to_change(direction) * STEP, 3)
        presses = round(abs(target - before) / STEP)
        slider.focus()
        for _ in range(presses):
            page.keyboard.press(key)
        t = eventually(page, lambda: app.slider_value("Threshold"),
                       lambda v: abs(v - target) < STEP / 2)
        expected = confusion(p, "abstain", t).matrix.tolist()
        eventually(page, lambda: matrix_cells(app), lambda m: m == expected)
        app.wait_for_app()
        assert app.slider_value("Threshold") == t
        assert matrix_cells(app) == expected, f"matrix at t={t} (after {key})"
    app.assert_no_exception()


# The point to click on a plotly chart: of the class curves' points (trace.meta = the class
# index, customdata[j][0] = the threshold), the one farthest from every other trace's points, in
# page pixels (axis c2p within the drag area's box), so that plotly's "closest" picks it.
FIND_POINT = """gd => {
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
    const points = [];
    gd.calcdata.forEach((cd, i) => {
        const trace = gd._fullData[i];
        if (trace.visible !== true || !String(trace.mode).includes('markers')) return;
        cd.forEach((p, j) => {
            if (isFinite(p.x) && isFinite(p.y))
                points.push({i, j, meta: trace.meta, x: box.left + xa.c2p(p.x),
                             y: box.top + ya.c2p(p.y)});
        });
    });
    let best = null;  // the class point farthest from every other trace's points
    for (const a of points) {
        if (typeof a.meta !== 'number') continue;
        const threshold = Number(gd._fullData[a.i].customdata[a.j][0]);
        if (!isFinite(threshold) || threshold <= 0 || threshold >= 1) continue;
        let gap = Infinity;
        for (const b of points) if (b.i !== a.i) gap = Math.min(gap, Math.hypot(a.x - b.x, a.y - b.y));
        if (!best || gap > best.gap) best = {...a, gap, threshold};
    }
    return best;
}"""


def test_click_on_a_roc_point_sets_that_class_threshold(app):
    """A real mouse click on a marker of a class curve (position from the plot's axes:
    ``xaxis.c2p`` / ``yaxis.c2p`` within the drag area's box), not plotly's event emitter."""
    page = app.page
    app.open("/thresholds", heading="Thresholds")
    app.choose("Decision rule", "per-class")
    plot = app.keyed("thr.roc").locator(".js-plotly-plot")
    expect_plots(app, ["thr.roc"])
    plot.scroll_into_view_if_needed()
    app.wait_for_app()

    point = plot.evaluate(FIND_POINT)
    assert point is not None, "no clickable class point on the ROC chart"
    # plotly picks the closest marker: nothing else may be near the one we click
    assert point["gap"] >= 8, f"no class point stands apart on the ROC chart: {point}"
    name = DIGITS[point["meta"]]
    t = point["threshold"]

    page.mouse.move(point["x"], point["y"])
    hovered = eventually(page, lambda: plot.evaluate(
        "gd => (gd._hoverdata || []).map(h => [h.curveNumber, h.pointNumber])"), bool, timeout=5)
    assert hovered[0] == [point["i"], point["j"]], "the hovered point is not the one aimed at"
    page.mouse.click(point["x"], point["y"])

    expect(page.get_by_text("Own thresholds:")).to_contain_text(f"{name} {t:.4f}")
    class_slider = app.slider(f"Threshold of {name}")
    expect(class_slider).to_have_attribute("aria-valuetext", f"{t:.3f}")
    assert abs(app.slider_value(f"Threshold of {name}") - t) <= STEP / 2
    eventually(page, lambda: parse_qs(urlparse(page.url).query).get("ct", []),
               lambda ct: f"{name}:{t!r}" in ct)  # exact: the shortest text of the float
    app.assert_no_exception()


def select(app, label: str, option: str) -> None:
    """Choose ``option`` in the selectbox labelled ``label`` (after any run under way: a run
    redraws the selectbox and closes its list)."""
    box = app.widget(label, "stSelectbox")
    for _ in range(3):
        app.wait_for_app()
        box.click()
        choice = app.page.get_by_role("option").filter(
            has=app.page.get_by_text(option, exact=True)).first
        try:
            choice.click(timeout=5_000)
        except Exception:  # the list closed under a run: open it again
            continue
        app.wait_for_app()
        if box.locator("input").first.input_value() == option:
            return
    pytest.fail(f"could not choose {option!r} in {label!r}")


def test_recall_objective_under_priority_is_the_matrix_recall(app):
    """The most common question: cut one class' false negatives. Under the priority rule the
    objective recall >= 0.99 is met by the confusion matrix's own row, and the answer on the
    page states that same recall."""
    page = app.page
    app.open("/thresholds", heading="Thresholds")
    app.choose("Decision rule", "priority")
    select(app, "Class (moving its slider lists it first)", "nine")
    page.get_by_text("Set a threshold from an objective").click()
    select(app, "Objective", "recall >= r (bound the type II error)")
    field = app.widget("r", "stNumberInput").locator("input")
    field.fill("0.99")
    field.press("Enter")
    app.wait_for_app()
    page.get_by_role("button", name="Set the threshold of nine").click()
    app.wait_for_app()

    def nine_recall() -> float:
        table = app.table(app.keyed("confusion-matrix"))
        row = [int(v.replace(",", "")) for v in table["cells"][table["index"].index("nine")]]
        return row[DIGITS.index("nine")] / sum(row)

    recall = eventually(page, nine_recall, lambda r: r >= 0.99)
    answer = page.get_by_text("for recall>=0.99 under the priority rule")
    expect(answer).to_contain_text(f"recall {recall:.3f}")
    assert app.chosen("Decision rule") == "priority"
    query = eventually(page, lambda: parse_qs(urlparse(page.url).query),
                       lambda q: q.get("rule") == ["priority"])
    assert query["ct"][0].startswith("nine:")
    app.assert_no_exception()


def test_bad_file_shows_a_one_line_error_and_the_app_keeps_working(app):
    page = app.page
    app.open("/", heading="Overview")
    upload(app, "bad.csv", animals_csv(bad_cell=True))

    alert = page.get_by_test_id("stSidebar").get_by_test_id("stAlert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("bad.csv")
    expect(alert).to_contain_text("prob_otter")
    message = alert.get_by_test_id("stMarkdownContainer").inner_text().strip()
    assert message and "\n" not in message, f"not one line: {message!r}"
    app.wait_for_app()
    app.assert_no_exception()

    # the demo is still in use, and every page still works
    expect(app.sidebar_caption().first).to_contain_text("Digits")
    expect(page.get_by_text("multiclass, 10 classes, 360 samples")).to_be_visible()
    app.navigate("Curves")
    expect_plots(app, ["curves.roc", "curves.pr"])
    app.navigate("Thresholds")
    expect(app.keyed("confusion-matrix").locator("table")).to_be_visible()
    app.assert_no_exception()


def test_url_restores_thresholds_and_follows_the_slider(app):
    page = app.page
    app.open("/thresholds?demo=digits&rule=per-class&t=0.3&ct=three:0.8", heading="Thresholds")

    assert app.chosen("Decision rule") == "per-class"
    assert app.slider_value("Threshold (all classes)") == pytest.approx(0.3, abs=1e-12)
    expect(page.get_by_text("Own thresholds:")).to_contain_text("three 0.8000")

    slider = app.slider("Threshold (all classes)")
    slider.focus()
    page.keyboard.press("ArrowRight")
    t = eventually(page, lambda: app.slider_value("Threshold (all classes)"),
                   lambda v: abs(v - 0.301) < STEP / 2)
    query = eventually(page, lambda: parse_qs(urlparse(page.url).query),
                       lambda q: q.get("t") == [f"{t:.6g}"])
    assert query.get("rule") == ["per-class"]
    assert query.get("ct") == ["three:0.8"]
    assert query.get("demo") == ["digits"]
    app.assert_no_exception()


def test_screenshot_of_every_page(app, artifacts: Path):
    app.open("/", heading="Overview")
    shots = {}
    for title, slug, plots in (
        ("Overview", "overview", []),
        ("Curves", "curves", ["curves.roc", "curves.pr"]),
        ("Thresholds", "thresholds", ["thr.roc", "thr.pr"]),
        ("Accuracy explained", "accuracy", []),
    ):
        if title != "Overview":
            app.navigate(title)
        expect_plots(app, plots)
        app.wait_for_app()
        app.assert_no_exception()
        shots[title] = app.screenshot(artifacts / f"page-{slug}.png")
    for title, path in shots.items():
        assert path.stat().st_size > 10_000, f"{title}: {path} looks empty"


def test_plotly_toolbar_downloads_a_figure_as_png(app):
    """Figures download through plotly's own toolbar (PNG), in the browser."""
    page = app.page
    app.open("/curves", heading="Curves")
    chart = app.keyed("curves.roc").locator(".js-plotly-plot")
    expect(chart).to_be_visible()
    chart.hover()
    button = chart.locator('.modebar-btn[data-title^="Download plot"]')
    expect(button).to_be_visible()
    with page.expect_download(timeout=30_000) as download:
        button.click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".png")
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_link_to_an_uploaded_files_view_opens_the_same_view_elsewhere(app, browser, app_url):
    """Upload, set per-class thresholds, then open the URL in a fresh browser context (a
    colleague on the same server): the same data, decision and matrix."""
    page = app.page
    app.open("/", heading="Overview")
    upload(app, "animals.csv", animals_csv(n=120, seed=11))
    expect(app.sidebar_caption().first).to_contain_text("animals.csv")
    app.navigate("Thresholds")
    app.choose("Decision rule", "per-class")
    select(app, "Class", "lynx")
    slider = app.slider("Threshold of lynx")
    slider.focus()
    for _ in range(150):
        page.keyboard.press("ArrowRight")
    eventually(page, lambda: parse_qs(urlparse(page.url).query).get("ct", []),
               lambda ct: any(c.startswith("lynx:") for c in ct))
    app.wait_for_app()
    shown = matrix_cells(app)
    link = page.url
    query = parse_qs(urlparse(link).query)
    assert query["file"] == ["animals.csv"] and len(query["data"][0]) == 64
    assert urlparse(link).path == "/thresholds"

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        other = StreamlitPage(context.new_page(), app_url)
        other.page.goto(link)
        expect(other.page.get_by_role("heading", name="Thresholds", exact=True)).to_be_visible()
        other.wait_for_app()
        assert other.chosen("Decision rule") == "per-class"
        eventually(other.page, lambda: matrix_cells(other), lambda m: m == shown)
        expect(other.sidebar_caption().first).to_contain_text("animals.csv")
        other.assert_no_exception()
    finally:
        context.close()


def test_no_request_leaves_the_machine(app, app_url):
    """Every page of the app, and the favicon, come from this server alone."""
    page = app.page
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not (
        r.url.startswith(app_url) or r.url.startswith(("data:", "blob:"))) else None)
    app.open("/", heading="Overview")
    for title in ("Curves", "Thresholds", "Accuracy explained", "Calibration", "Compare"):
        app.navigate(title)
    page.wait_for_timeout(1000)
    assert outside == []
