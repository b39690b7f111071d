"""The dashboard as a user sees it: a 1e6-row x 10-class CSV through the browser.

Writes a wide CSV (a ``label`` column of class names and ten ``prob_<class>`` columns,
softmax-like float32 rows, labels drawn from the scores), starts ``streamlit run app.py`` as
the e2e fixture does (with ``--server.maxUploadSize 1024``), opens it in Debian's chromium
(Playwright, headless) and measures:

- upload -> curves: from the end of the upload (the file input set, on the Curves page) until
  the ROC chart shows the uploaded classes' curves (this includes sending the file to the
  server, reading it, computing the curves and drawing them);
- slider -> matrix: on the Thresholds page with the abstain rule, ``--moves`` presses of
  ArrowRight on the "Threshold" slider, each timed in the page from the keydown to the first
  DOM change of the confusion-matrix table's numbers (a MutationObserver), one move at a time.

Prints the upload time, the median and p90 of the moves, and the goals (slider -> matrix
<= 300 ms median, curves visible <= 10 s after the upload).
Usage: python benchmarks/bench_browser.py [--rows 1e6] [--classes 10] [--moves 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fmt_seconds  # noqa: E402

from tests.e2e.conftest import (  # noqa: E402  the same server and browser as the e2e tests
    CHROMIUM, VIEWPORT, StreamlitPage, launch_chromium, streamlit_server,
)

GOAL_MOVE_MEDIAN = 0.300  # seconds
GOAL_UPLOAD_TO_CURVES = 10.0  # seconds
NAMES = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
         "juliet")
MOVE_TIMEOUT_MS = 30_000

# Every page: note when websocket messages go out to and come in from the server, and the
# main thread's long tasks (> 50 ms: rendering, mostly).
PAGE_LOG = """(() => {
    const Original = window.WebSocket;
    window.__ws = {sent: [], received: []};
    class Logged extends Original {
        constructor(...args) {
            super(...args);
            this.addEventListener('message', () => window.__ws.received.push(performance.now()));
        }
        send(data) {
            window.__ws.sent.push(performance.now());
            return super.send(data);
        }
    }
    window.WebSocket = Logged;
    window.__longTasks = [];
    new PerformanceObserver(list => {
        for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
    }).observe({type: 'longtask', buffered: true});
})()"""

# Before each key press: resolve window.__move with the time from the keydown to the first DOM
# mutation after which the matrix' text differs from what it was before the press; also when
# the rerun request went out, when the first reply came in, and how long the main thread was
# busy with long tasks in between.
ARM_MOVE = """() => {
    const read = () => {
        const body = document.querySelector('.st-key-confusion-matrix table tbody');
        return body ? body.textContent : null;
    };
    const before = read();
    window.__move = new Promise(resolve => {
        let start = null;
        window.addEventListener('keydown', () => { start = performance.now(); },
                                {capture: true, once: true});
        const observer = new MutationObserver(() => {
            if (start === null) return;
            const now = read();
            if (now !== null && now !== before) {
                observer.disconnect();
                const end = performance.now();
                const sent = window.__ws.sent.find(t => t >= start);
                const reply = sent === undefined ? undefined
                    : window.__ws.received.find(t => t >= sent);
                // long tasks are reported when they end: give the one in progress a moment
                setTimeout(() => {
                    const busy = window.__longTasks
                        .map(([s, d]) => Math.max(0, Math.min(s + d, end) - Math.max(s, start)))
                        .reduce((a, b) => a + b, 0);
                    resolve({ms: end - start, sent: sent === undefined ? null : sent - start,
                             reply: reply === undefined ? null : reply - start, busy});
                }, 0);
            }
        });
        observer.observe(document.body, {subtree: true, childList: true, characterData: true});
        setTimeout(() => { observer.disconnect(); resolve({ms: null}); }, %d);
    });
}""" % MOVE_TIMEOUT_MS

BUSY_SINCE = """(since) => window.__longTasks
    .map(([s, d]) => Math.max(0, s + d - Math.max(s, since))).reduce((a, b) => a + b, 0)"""

FILE_NAMED = """(name) => [...document.querySelectorAll(
    '[data-testid="stSidebar"] [data-testid="stCaptionContainer"]')]
    .some(c => (c.textContent || '').includes(name))"""

CURVES_SHOWN = """(name) => {
    const gd = document.querySelector('.st-key-curves-roc .js-plotly-plot');
    if (!gd || !(gd.textContent || '').includes(name + ' (AUC')) return false;
    return [...gd.querySelectorAll('.scatterlayer path.js-line')]
        .some(p => (p.getAttribute('d') || '').length > 20);
}"""


def class_names(k: int) -> list[str]:
    return [NAMES[i] if i < len(NAMES) else f"class{i}" for i in range(k)]


def write_csv(path: Path, n: int, k: int, seed: int = 0) -> None:
    """Class-name labels and softmax-like float32 scores, written by Arrow's CSV writer."""
    rng = np.random.default_rng(seed)
    names = class_names(k)
    scores = rng.random((n, k), dtype=np.float32) ** 3
    scores /= scores.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(scores, axis=1)
    y = np.minimum((rng.random((n, 1), dtype=np.float32) > cumulative).sum(axis=1), k - 1)
    labels = pa.DictionaryArray.from_arrays(pa.array(y.astype(np.int32)), pa.array(names))
    columns = {"label": labels.cast(pa.string())}
    columns.update({f"prob_{name}": pa.array(scores[:, j]) for j, name in enumerate(names)})
    pa_csv.write_csv(pa.table(columns), path)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile, linear between order statistics (numpy's default)."""
    return float(np.percentile(values, q * 100))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e6)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--moves", type=int, default=20)
    args = parser.parse_args()
    n, k = int(args.rows), args.classes
    if not Path(CHROMIUM).exists():
        sys.exit(f"no chromium at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench_browser_") as tmp:
        csv_path = Path(tmp) / f"wide_{n:.0e}.csv".replace("+0", "")
        start = time.perf_counter()
        write_csv(csv_path, n, k)
        size = csv_path.stat().st_size / 2**20
        print(f"{n:,} rows x {k} classes: {csv_path.name}, {size:.0f} MiB, written in "
              f"{fmt_seconds(time.perf_counter() - start)}", flush=True)

        log = Path(tmp) / "streamlit.log"
        with streamlit_server("--server.maxUploadSize", "1024", log=log) as url, \
                sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(120_000)
            context.add_init_script(PAGE_LOG)
            page = context.new_page()
            app = StreamlitPage(page, url)

            # upload on the Curves page, wait for the uploaded classes' ROC curves
            app.open("/curves", heading="Curves")
            app.choose("Source", "Prediction file")
            page.get_by_test_id("stSidebar").locator("input[type=file]").set_input_files(csv_path)
            uploaded = time.perf_counter()
            uploaded_in_page = page.evaluate("performance.now()")
            page.wait_for_function(FILE_NAMED, arg=csv_path.name, timeout=300_000, polling=50)
            upload_to_read = time.perf_counter() - uploaded
            page.wait_for_function(CURVES_SHOWN, arg=class_names(k)[0], timeout=300_000,
                                   polling=50)
            upload_to_curves = time.perf_counter() - uploaded
            upload_busy = page.evaluate(BUSY_SINCE, uploaded_in_page) / 1000
            expect(app.sidebar_caption().first).to_contain_text(csv_path.name)
            expect(app.sidebar_caption().first).to_contain_text(f"{n:,} rows")
            app.wait_for_app()

            # the Thresholds page, abstain rule: one key press at a time
            app.navigate("Thresholds")
            app.choose("Decision rule", "abstain")
            slider = app.slider("Threshold")
            expect(app.keyed("confusion-matrix").locator("table")).to_be_visible()
            app.wait_for_app(settle_ms=500)
            times, sent, reply, busy, unchanged = [], [], [], [], 0
            for _ in range(args.moves):
                page.evaluate(ARM_MOVE)
                slider.focus()
                page.keyboard.press("ArrowRight")
                result = page.evaluate("window.__move")
                if result["ms"] is None:
                    unchanged += 1
                else:
                    times.append(result["ms"] / 1000)
                    busy.append(result["busy"] / 1000)
                    if result["sent"] is not None and result["reply"] is not None:
                        sent.append(result["sent"] / 1000)
                        reply.append(result["reply"] / 1000)
                app.wait_for_app()
            final = app.slider_value("Threshold")
            context.close()
            browser.close()

    print(f"upload -> ROC curves visible: {fmt_seconds(upload_to_curves)} "
          f"(goal <= {fmt_seconds(GOAL_UPLOAD_TO_CURVES)}: "
          f"{'met' if upload_to_curves <= GOAL_UPLOAD_TO_CURVES else 'NOT met'}); "
          f"the sidebar named the file after {fmt_seconds(upload_to_read)}; the browser's main "
          f"thread was busy (long tasks) for {fmt_seconds(upload_busy)} of it")
    if not times:
        print(f"slider -> matrix: no move changed the matrix ({unchanged} moves)")
        return
    median, p90 = statistics.median(times), percentile(times, 0.9)
    print(f"slider -> matrix ({len(times)} moves, threshold now {final:.3f}"
          + (f", {unchanged} moves left the matrix unchanged" if unchanged else "") + "): "
          f"median {fmt_seconds(median)}, p90 {fmt_seconds(p90)}, "
          f"min {fmt_seconds(min(times))}, max {fmt_seconds(max(times))} "
          f"(goal: median <= {fmt_seconds(GOAL_MOVE_MEDIAN)}: "
          f"{'met' if median <= GOAL_MOVE_MEDIAN else 'NOT met'})")
    if sent:
        print(f"  medians after the key press: rerun request sent {fmt_seconds(statistics.median(sent))}, "
              f"first reply {fmt_seconds(statistics.median(reply))}, matrix changed "
              f"{fmt_seconds(median)}; the browser's main thread was busy (long tasks) for "
              f"{fmt_seconds(statistics.median(busy))} of it")


if __name__ == "__main__":
    main()
