"""A 1e7-row dataset on the server, in the browser: opened from "Dataset on this server", its
ROC curves, a threshold slider moving the sample's matrix, "Count exactly" over every row
(checked against NumPy counts of the generated arrays), pictures of the pages."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from evalcore import Predictions, compute_curves
from evalcore.decisions import confusion
from evalcore.engines.duck import DuckDataset
from tests.e2e.test_app import eventually, expect_plots, matrix_cells

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips (or, with CI set, fails) every test here
    expect = None

pytestmark = pytest.mark.e2e

N_ROWS, CHUNK, SAMPLE = 10_000_000, 1_000_000, 1_000_000
CLASSES = ("ash", "elm", "oak")
STEP = 0.001
SEPARATION = np.array([0.8, 1.3, 1.9], dtype=np.float32)  # three different curves
OPEN_TIMEOUT_MS = 300_000  # the first evaluation of 1e7 rows on a busy 2-core machine


@pytest.fixture(scope="module")
def big(server_data_dir: Path):
    """1e7 rows written in chunks with pyarrow: integer labels, float32 softmax scores of 3
    classes (prob_<class>); returns (labels, scores) as written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(2024)
    k = len(CLASSES)
    y = np.empty(N_ROWS, dtype=np.int64)
    scores = np.empty((N_ROWS, k), dtype=np.float32)
    schema = pa.schema([("label", pa.int64())] + [(f"prob_{c}", pa.float32()) for c in CLASSES])
    with pq.ParquetWriter(server_data_dir / "big.parquet", schema) as writer:
        for start in range(0, N_ROWS, CHUNK):
            part = slice(start, start + CHUNK)
            y[part] = rng.integers(0, k, CHUNK)
            z = rng.standard_normal((CHUNK, k), dtype=np.float32)
            z[np.arange(CHUNK), y[part]] += SEPARATION[y[part]]
            e = np.exp(z)
            scores[part] = e / e.sum(axis=1, keepdims=True)
            writer.write_table(pa.table({"label": y[part], **{
                f"prob_{c}": scores[part, j] for j, c in enumerate(CLASSES)}}))
    return y, scores


def abstain_matrix(y: np.ndarray, scores: np.ndarray, t: float) -> list[list[int]]:
    """NumPy: the top class when its score is >= t (as real numbers), else abstained (last
    column); rows the true classes."""
    k = scores.shape[1]
    top = scores.argmax(axis=1)  # ties: the lowest index
    cleared = scores[np.arange(scores.shape[0]), top].astype(np.float64) >= np.float64(t)
    predicted = np.where(cleared, top, k)
    return np.bincount(y * (k + 1) + predicted, minlength=k * (k + 1)).reshape(k, k + 1).tolist()


def exact_cells(app) -> list[list[int]]:
    table = app.table(app.keyed("thr.exact-result"))
    return [[int(v.replace(",", "")) for v in row] for row in table["cells"][:len(CLASSES)]]


def test_a_1e7_row_server_dataset_curves_sliders_and_exact_count(app, big, server_data_dir: Path,
                                                                 artifacts: Path):
    y, scores = big
    page = app.page
    app.open("/", heading="Overview")
    app.choose("Source", "Dataset on this server")
    sidebar = page.get_by_test_id("stSidebar")
    expect(app.widget("Datasets found", "stSelectbox")).to_be_visible()
    field = app.widget("Path or glob under the data directory", "stTextInput").locator("input")
    started = time.monotonic()
    field.fill("big.parquet")
    field.press("Enter")
    bar = page.get_by_test_id("stProgress")
    expect(bar).to_be_visible(timeout=OPEN_TIMEOUT_MS)
    expect(bar).to_contain_text("with DuckDB, once for every session")
    app.screenshot(artifacts / "server-progress.png")
    statement = page.get_by_test_id("stAlert").filter(has_text="Curves and AUCs")
    expect(statement).to_be_visible(timeout=OPEN_TIMEOUT_MS)
    opened = time.monotonic() - started
    expect(statement).to_contain_text(f"Curves and AUCs: all {N_ROWS:,} rows (exact).")
    expect(statement).to_contain_text(
        f"Confusion matrices while you move sliders: a stratified sample of {SAMPLE:,} rows "
        "(seed 0)")
    expect(sidebar.get_by_test_id("stCaptionContainer").first).to_contain_text(
        f"{N_ROWS:,} rows")
    app.wait_for_app(timeout=OPEN_TIMEOUT_MS)
    (artifacts / "server-open-seconds.txt").write_text(f"{opened:.1f}\n")
    app.assert_no_exception()
    app.screenshot(artifacts / "server-overview.png")

    # the ROC curves, their AUCs those of every row (NumPy's in-memory engine on the arrays)
    every_row = compute_curves(Predictions.from_arrays(y, scores, class_names=CLASSES))
    app.navigate("Curves")
    expect_plots(app, ["curves.roc", "curves.pr"])
    for s in every_row.classes:
        expect(app.keyed("curves.roc").get_by_text(f"{s.name} (AUC {s.roc_auc:.3f})")
               ).to_be_attached()
    app.assert_no_exception()
    app.screenshot(artifacts / "server-curves.png")

    # the sliders count the sample of 1e6 rows (seed 0)
    with DuckDataset([server_data_dir / "big.parquet"]) as engine:
        sample = engine.select().stratified_sample(SAMPLE, seed=0)
    app.navigate("Thresholds")
    app.choose("Decision rule", "abstain")
    slider = app.slider("Threshold")
    t0 = app.slider_value("Threshold")
    start = eventually(page, lambda: matrix_cells(app),
                       lambda m: m == confusion(sample, "abstain", t0).matrix.tolist())
    assert sum(map(sum, start)) == sample.n_samples
    slider.focus()
    for _ in range(50):
        page.keyboard.press("ArrowRight")
    t1 = eventually(page, lambda: app.slider_value("Threshold"),
                    lambda v: abs(v - (t0 + 50 * STEP)) < STEP / 2)
    moved = confusion(sample, "abstain", t1).matrix.tolist()
    assert moved != start
    eventually(page, lambda: matrix_cells(app), lambda m: m == moved)
    app.wait_for_app()

    # Count exactly: every row, the NumPy count of the generated arrays
    page.get_by_role("button", name="Count exactly").click()
    done = page.get_by_test_id("stAlert").filter(has_text="counted over all")
    expect(done).to_be_visible(timeout=OPEN_TIMEOUT_MS)
    expect(done).to_contain_text(f"counted over all {N_ROWS:,} rows in")
    app.wait_for_app()
    expected = abstain_matrix(y, scores, t1)
    assert exact_cells(app) == expected
    assert sum(map(sum, expected)) == N_ROWS
    app.assert_no_exception()
    app.screenshot(artifacts / "server-thresholds-exact.png")
    seconds = float(done.inner_text().split(" rows in ")[1].split(" s")[0])
    (artifacts / "server-exact-seconds.txt").write_text(f"{seconds:.1f}\n")

    # the slider moves: the exact count of t1 is hidden, the sample's matrix follows
    slider.focus()
    page.keyboard.press("ArrowRight")
    t2 = eventually(page, lambda: app.slider_value("Threshold"), lambda v: v != t1)
    eventually(page, lambda: matrix_cells(app),
               lambda m: m == confusion(sample, "abstain", t2).matrix.tolist())
    expect(done).to_have_count(0)
    expect(page.get_by_text("The exact count was of another decision")).to_be_visible()
    app.assert_no_exception()

