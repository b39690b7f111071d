"""The dashboard as a user sees it: a 1e6-row x 10-class CSV through the browser.

Writes wide CSVs (a ``label`` column of class names and ten ``prob_<class>`` columns,
softmax-like float32 rows, labels drawn from the scores; one file per upload, each of its own
seed, so that no upload finds the previous one's data cached), starts ``streamlit run app.py``
as the e2e fixture does (with ``--server.maxUploadSize 1024`` and ``EVALCORE_TIMINGS``: the
app's data layer and pages write their phases to a file, :mod:`dashboard.timing`), opens it in
Debian's chromium (Playwright, headless) and measures:

- upload -> curves, ``--uploads`` times (each in a fresh browser session): from the end of the
  upload (the file input set, on the Curves page) until the ROC chart shows the uploaded
  classes' curves. Printed: the median and each upload, then where the time went (medians
  over the uploads, in seconds after the file input was set): the browser's HTTP request
  that sends the file, the server's phases, the figure messages and the drawing; one more
  upload, traced (Chrome's trace with its V8 CPU profile, not in the median), says what the
  browser's main thread did meanwhile;
- slider -> matrix: on the Thresholds page with the abstain rule, ``--moves`` presses of
  ArrowRight on the "Threshold" slider, each timed in the page from the keydown to the first
  DOM change of the confusion-matrix table's numbers (a MutationObserver), one move at a time:
  the median and p90; then ``--traced-moves`` more moves under Chrome's trace (not in the
  median), and what the main thread spent on each, to the matrix and for the whole move
  (until the charts are drawn): plotly.js, Streamlit's React render (markdown and CSS-in-JS
  apart), websocket messages and their protobuf decode, garbage collection, style and layout,
  paint and compositing, other tasks, idle (waiting for the server); and the server's phases.

Goals (issue 17): slider -> matrix <= 150 ms median, curves visible <= 4 s after the upload.
The machine's load average is printed at the start and the end: timings on a loaded machine
are not the code's.
Usage: python benchmarks/bench_browser.py [--rows 1e6] [--classes 10] [--moves 20]
       [--traced-moves 5] [--uploads 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fmt_seconds  # noqa: E402

import _trace  # noqa: E402

from dashboard import timing  # noqa: E402  (no streamlit import: the server's phase log)
from tests.e2e.conftest import (  # noqa: E402  the same server and browser as the e2e tests
    CHROMIUM, VIEWPORT, StreamlitPage, launch_chromium, streamlit_server,
)

GOAL_MOVE_MEDIAN = 0.150  # seconds
GOAL_UPLOAD_TO_CURVES = 4.0  # seconds
NAMES = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
         "juliet")
MOVE_TIMEOUT_MS = 30_000

# Every page: the time (performance.now) and size of each websocket message in and out.
PAGE_LOG = """(() => {
    const Original = window.WebSocket;
    window.__ws = {sent: [], received: []};
    const size = d => d.byteLength ?? d.size ?? d.length ?? 0;
    class Logged extends Original {
        constructor(...args) {
            super(...args);
            this.addEventListener('message',
                e => window.__ws.received.push([performance.now(), size(e.data)]));
        }
        send(data) {
            window.__ws.sent.push([performance.now(), size(data)]);
            return super.send(data);
        }
    }
    window.WebSocket = Logged;
})()"""

# Before each key press: resolve window.__move with the time from the keydown to the first DOM
# mutation after which the matrix' text differs from what it was before the press (marks
# move-start and move-matrix for the trace), the keydown's time since the epoch (to line up
# the server's phases), when the rerun request went out and the first reply came in.
ARM_MOVE = """() => {
    const read = () => {
        const body = document.querySelector('.st-key-confusion-matrix table tbody');
        return body ? body.textContent : null;
    };
    const before = read();
    window.__move = new Promise(resolve => {
        let start = null;
        window.addEventListener('keydown', () => {
            start = performance.now();
            performance.mark('move-start');
        }, {capture: true, once: true});
        const observer = new MutationObserver(() => {
            if (start === null) return;
            const now = read();
            if (now !== null && now !== before) {
                observer.disconnect();
                performance.mark('move-matrix');
                const end = performance.now();
                const sent = window.__ws.sent.find(([t]) => t >= start);
                const reply = sent === undefined ? undefined
                    : window.__ws.received.find(([t]) => t >= sent[0]);
                const inbound = window.__ws.received.filter(([t]) => t >= start);
                resolve({ms: end - start, epoch: performance.timeOrigin + start,
                         messages: inbound.length,
                         bytes: inbound.reduce((a, [, n]) => a + n, 0),
                         sent: sent === undefined ? null : sent[0] - start,
                         reply: reply === undefined ? null : reply[0] - start});
            }
        });
        observer.observe(document.body, {subtree: true, childList: true, characterData: true});
        setTimeout(() => { observer.disconnect(); resolve({ms: null}); }, %d);
    });
}""" % MOVE_TIMEOUT_MS

# After a run: the next frame has been drawn (a mark for the trace's window end)
MARK_DRAWN = """(name) => new Promise(resolve => requestAnimationFrame(() => setTimeout(() => {
    performance.mark(name); resolve(performance.timeOrigin + performance.now());
}, 0)))"""

# The browser's upload requests to Streamlit's endpoint: [start, end] (performance.now)
UPLOAD_REQUESTS = """() => performance.getEntriesByType('resource')
    .filter(e => e.name.includes('/_stcore/upload_file'))
    .map(e => [e.startTime, e.responseEnd])"""

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


@dataclass
class Upload:
    """One upload: seconds after the file input was set (``t0``, since the epoch)."""

    to_curves: float
    to_named: float
    request: tuple[float, float] | None  # the browser's HTTP request sending the file
    phases: list[tuple[str, float, float]]  # the server's, in the order they ended
    figures: tuple[int, float, float] | None  # figure messages: count, MB, the last one's time
    breakdown: _trace.Breakdown | None = None


def upload(browser, url: str, csv_path: Path, k: int, timings: Path, trace: bool) -> Upload:
    """Upload ``csv_path`` on the Curves page of a fresh session; wait for the ROC curves."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(300_000)
    context.add_init_script(PAGE_LOG)
    page = context.new_page()
    app = StreamlitPage(page, url)
    app.open("/curves", heading="Curves")
    app.choose("Source", "Prediction file")
    if trace:
        browser.start_tracing(page=page, categories=_trace.CATEGORIES)
    page.get_by_test_id("stSidebar").locator("input[type=file]").set_input_files(csv_path)
    t0, t0_page = time.time(), page.evaluate("performance.mark('upload-start').startTime")
    page.wait_for_function(FILE_NAMED, arg=csv_path.name, timeout=300_000, polling=50)
    named = time.time() - t0
    page.wait_for_function(CURVES_SHOWN, arg=class_names(k)[0], timeout=300_000, polling=50)
    shown = time.time() - t0
    page.evaluate("performance.mark('upload-end')")
    breakdown = None
    if trace:
        windows = _trace.analyse(browser.stop_tracing(), "upload-start", "upload-end")
        breakdown = windows[0] if windows else None
    expect(app.sidebar_caption().first).to_contain_text(csv_path.name)
    requests = page.evaluate(UPLOAD_REQUESTS)
    request = ((requests[-1][0] - t0_page) / 1000, (requests[-1][1] - t0_page) / 1000
               ) if requests else None
    big = [(t, n) for t, n in page.evaluate("window.__ws.received")
           if t >= t0_page and n >= 100_000]
    figures = (len(big), sum(n for _, n in big) / 1e6, (big[-1][0] - t0_page) / 1000
               ) if big else None
    phases = [(p["phase"], p["start"] - t0, p["end"] - t0) for p in timing.read(timings)
              if t0 <= p["start"] and p["end"] <= t0 + shown + 1]
    context.close()
    return Upload(shown, named, request, phases, figures, breakdown)


def print_uploads(uploads: list[Upload], traced: Upload | None) -> None:
    times = [u.to_curves for u in uploads]
    median = statistics.median(times)
    print(f"upload -> ROC curves visible, median of {len(times)} uploads: {fmt_seconds(median)} "
          f"(goal <= {fmt_seconds(GOAL_UPLOAD_TO_CURVES)}: "
          f"{'met' if median <= GOAL_UPLOAD_TO_CURVES else 'NOT met'}); each: "
          + ", ".join(fmt_seconds(t) for t in times)
          + f"; the sidebar named the file after {fmt_seconds(statistics.median(u.to_named for u in uploads))}")
    print("  where the time went (medians over the uploads; seconds after the file input was set):")
    requests = [u.request for u in uploads if u.request]
    if requests:
        print(f"    browser -> server, the HTTP request that sends the file: "
              f"{statistics.median(r[0] for r in requests):.2f} -> "
              f"{statistics.median(r[1] for r in requests):.2f} s")
    names = list(dict.fromkeys(name for u in uploads for name, _, _ in u.phases))
    for name in names:
        spans = [[(a, b) for n, a, b in u.phases if n == name] for u in uploads]
        spans = [s for s in spans if s]
        took = statistics.median(sum(b - a for a, b in s) for s in spans)
        first = statistics.median(s[0][0] for s in spans)
        last = statistics.median(s[-1][1] for s in spans)
        runs = statistics.median(len(s) for s in spans)
        print(f"    server, {name}: {fmt_seconds(took)} ({first:.2f} -> {last:.2f} s"
              + (f", {runs:.0f} times" if runs > 1 else "") + ")")
    figures = [u.figures for u in uploads if u.figures]
    if figures:
        print(f"    figure messages: {statistics.median(f[0] for f in figures):.0f} of "
              f"{statistics.median(f[1] for f in figures):.2f} MB, the last one in at "
              f"{statistics.median(f[2] for f in figures):.2f} s; curves visible at "
              f"{median:.2f} s")
    if traced and traced.breakdown:
        print(f"  the browser's main thread during one more upload (traced, "
              f"{fmt_seconds(traced.to_curves)}, not in the median): "
              f"{_trace.describe(traced.breakdown)}")


def move(page, app: StreamlitPage, slider, mark_done: bool) -> dict:
    """One ArrowRight on the slider: the page's timing of it (``ms`` None: no change)."""
    page.evaluate(ARM_MOVE)
    slider.focus()
    page.keyboard.press("ArrowRight")
    result = page.evaluate("window.__move")
    app.wait_for_app()
    result["done"] = page.evaluate(MARK_DRAWN, "move-done" if mark_done else "drawn")
    if result["ms"] is not None:
        inbound = [n for t, n in page.evaluate("window.__ws.received")
                   if t >= result["epoch"] - page.evaluate("performance.timeOrigin")]
        result["all_messages"], result["all_bytes"] = len(inbound), sum(inbound)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e6)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--moves", type=int, default=20)
    parser.add_argument("--traced-moves", type=int, default=5)
    parser.add_argument("--uploads", type=int, default=3)
    args = parser.parse_args()
    n, k = int(args.rows), args.classes
    if not Path(CHROMIUM).exists():
        sys.exit(f"no chromium at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    print(f"load average at the start: {' '.join(f'{v:.2f}' for v in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_browser_") as tmp:
        paths = []
        for i in range(max(args.uploads, 1) + 1):  # the last one: the traced upload
            path = Path(tmp) / f"wide_{n:.0e}_{i}.csv".replace("+0", "")
            start = time.perf_counter()
            write_csv(path, n, k, seed=i)
            paths.append(path)
        size = paths[0].stat().st_size / 2**20
        print(f"{n:,} rows x {k} classes: {len(paths)} CSVs of {size:.0f} MiB (the last "
              f"written in {fmt_seconds(time.perf_counter() - start)})", flush=True)

        log, timings = Path(tmp) / "streamlit.log", Path(tmp) / "timings.jsonl"
        with streamlit_server("--server.maxUploadSize", "1024", log=log,
                              env={timing.ENV: str(timings)}) as url, \
                sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            uploads = [upload(browser, url, path, k, timings, trace=False) for path in paths[:-1]]
            traced_upload = upload(browser, url, paths[-1], k, timings, trace=True)
            print_uploads(uploads, traced_upload)

            # the Thresholds page, abstain rule: one key press at a time
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(120_000)
            context.add_init_script(PAGE_LOG)
            page = context.new_page()
            app = StreamlitPage(page, url)
            app.open("/curves", heading="Curves")  # the last upload is this server's data now
            app.choose("Source", "Prediction file")
            page.get_by_test_id("stSidebar").locator("input[type=file]").set_input_files(paths[0])
            expect(app.sidebar_caption().first).to_contain_text(f"{n:,} rows", timeout=300_000)
            app.wait_for_app()
            app.navigate("Thresholds")
            app.choose("Decision rule", "abstain")
            slider = app.slider("Threshold")
            expect(app.keyed("confusion-matrix").locator("table")).to_be_visible()
            app.wait_for_app(settle_ms=500)
            results = [move(page, app, slider, mark_done=False) for _ in range(args.moves)]
            browser.start_tracing(page=page, categories=_trace.CATEGORIES)
            for _ in range(args.traced_moves):
                move(page, app, slider, mark_done=True)
            trace = browser.stop_tracing()
            final = app.slider_value("Threshold")
            context.close()
            browser.close()
        phases = timing.read(timings)

    times = [r["ms"] / 1000 for r in results if r["ms"] is not None]
    unchanged = len(results) - len(times)
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
    sent = [r["sent"] for r in results if r["ms"] is not None and r["sent"] is not None]
    reply = [r["reply"] for r in results if r["ms"] is not None and r["reply"] is not None]
    if sent and reply:
        print(f"  medians after the key press: rerun request sent "
              f"{fmt_seconds(statistics.median(sent) / 1000)}, first reply "
              f"{fmt_seconds(statistics.median(reply) / 1000)}, matrix changed {fmt_seconds(median)}")
    counted = [r for r in results if r["ms"] is not None]
    print(f"  websocket messages in per move (medians): {statistics.median(r['messages'] for r in counted):.0f} "
          f"({statistics.median(r['bytes'] for r in counted) / 1e3:.1f} kB) until the matrix, "
          f"{statistics.median(r['all_messages'] for r in counted):.0f} "
          f"({statistics.median(r['all_bytes'] for r in counted) / 1e3:.0f} kB) in all")
    server = {}
    for r in counted:  # the server's phases of each untraced move, ms after its keydown
        for p in phases:
            if r["epoch"] / 1000 <= p["start"] <= r["done"] / 1000:
                server.setdefault(p["phase"], []).append(
                    ((p["start"] - r["epoch"] / 1000) * 1000, (p["end"] - r["epoch"] / 1000) * 1000))
    to_matrix = _trace.analyse(trace, "move-start", "move-matrix")
    whole = _trace.analyse(trace, "move-start", "move-done")
    if to_matrix and whole:
        m, w = _trace.median_breakdown(to_matrix), _trace.median_breakdown(whole)
        print(f"  the browser's main thread, medians of {len(to_matrix)} traced moves (not in the "
              f"median above; tracing slows the page):")
        print(f"    key -> matrix ({m.window_ms:.0f} ms): {_trace.describe(m)}")
        print(f"    the whole move, until the charts are drawn ({w.window_ms:.0f} ms): "
              f"{_trace.describe(w)}")
    for name, spans in server.items():
        print(f"  server, {name}: {statistics.median(a for a, _ in spans):.0f} -> "
              f"{statistics.median(b for _, b in spans):.0f} ms after the key press (median of "
              f"the untraced moves)")
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
