"""Ten people on one server: N browser sessions upload the same 1e6-row x 10-class CSV and
move the abstain slider, against one ``streamlit run app.py`` (loopback only, bounded in time).

For each N in --sessions (default 1, 5, 10), on a fresh server (a cold cache, as when N people
arrive with the same file):

- upload -> loaded: every session sets the file at once; the time until its sidebar names the
  file (the server received, hashed, read and shared it);
- slider -> matrix: round-robin over the sessions, one key press at a time, timed in the page
  from the keydown to the matrix' change (as bench_browser.py); the other sessions stay open;
- server RSS (the process' VmRSS, sampled every 0.25 s): before, the peak while the sessions
  are open, and after they close, every second for --after seconds, compared with the level
  of one session that has loaded the file (the N=1 run).

Goals at N = 10: slider p95 <= 500 ms, upload -> loaded <= 10 s, RSS <= 1.5 GB while open and
back within 20% of the single-session level within 60 s after the sessions close.
Usage: python benchmarks/bench_load.py [--rows 1e6] [--sessions 1,5,10] [--moves 30] [--after 75]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fmt_seconds  # noqa: E402
from bench_browser import ARM_MOVE, FILE_NAMED, PAGE_LOG, write_csv  # noqa: E402

from tests.e2e.conftest import (  # noqa: E402  the same server and browser as the e2e tests
    CHROMIUM, StreamlitPage, launch_chromium, streamlit_server,
)

GOAL_P95 = 0.500
GOAL_UPLOAD = 10.0
GOAL_RSS = 1.5e9
GOAL_RELEASE = 0.20
TIMEOUT_MS = 300_000


def rss(pid: int) -> int:
    """The resident memory of a process, in bytes (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Sampler:
    """The peak RSS of a process between start() and stop(), sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.25):
        self.pid, self.every, self.peak = pid, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run(n_sessions: int, csv_path: Path, moves: int, after: float, single: int | None) -> dict:
    from playwright.sync_api import expect, sync_playwright

    log = csv_path.parent / f"streamlit-{n_sessions}.log"
    with streamlit_server("--server.maxUploadSize", "1024", log=log, pid=True) as (url, pid), \
            sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        idle = rss(pid)
        contexts, apps = [], []
        for _ in range(n_sessions):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            context.add_init_script(PAGE_LOG)
            page = context.new_page()
            app = StreamlitPage(page, url)
            app.open("/thresholds", heading="Thresholds")
            app.choose("Source", "Prediction file")
            contexts.append(context)
            apps.append(app)
        sent = []  # when each session's upload request finished (the bytes are on the server)
        for app in apps:
            app.page.on("requestfinished", lambda r: sent.append(time.perf_counter())
                        if "/upload_file/" in r.url and r.method == "PUT" else None)
        with Sampler(pid) as sampler:
            # every session sets the file at once; then each waits for its sidebar to name it
            start = time.perf_counter()
            for app in apps:
                app.page.get_by_test_id("stSidebar").locator("input[type=file]").set_input_files(
                    csv_path)
            loaded = []
            for app in apps:
                app.page.wait_for_function(FILE_NAMED, arg=csv_path.name, timeout=TIMEOUT_MS,
                                           polling=100)
                loaded.append(time.perf_counter() - start)
            sent = [t - start for t in sent]
            for app in apps:
                app.wait_for_app()
                app.choose("Decision rule", "abstain")
                expect(app.keyed("confusion-matrix").locator("table")).to_be_visible()
                app.wait_for_app(settle_ms=300)
            loaded_rss = rss(pid)
            times = []
            for i in range(moves):
                app = apps[i % n_sessions]
                app.page.evaluate(ARM_MOVE)
                app.slider("Threshold").focus()
                app.page.keyboard.press("ArrowRight")
                result = app.page.evaluate("window.__move")
                if result["ms"] is not None:
                    times.append(result["ms"] / 1000)
                app.wait_for_app()
            peak = sampler.peak
        for context in contexts:
            context.close()
        closed = time.perf_counter()
        released = []
        while time.perf_counter() - closed < after:
            time.sleep(1.0)
            released.append((time.perf_counter() - closed, rss(pid)))
        browser.close()
    return {"n": n_sessions, "idle": idle, "loaded": loaded_rss, "peak": peak,
            "upload": loaded, "sent": sent, "moves": times, "released": released,
            "single": single}


def report(r: dict) -> None:
    gb = 1e9
    moves = r["moves"]
    p50 = statistics.median(moves) if moves else float("nan")
    p95 = float(np.percentile(moves, 95)) if moves else float("nan")
    up = r["upload"]
    print(f"N={r['n']:>2}: upload -> loaded median {fmt_seconds(statistics.median(up))}, "
          f"max {fmt_seconds(max(up))} (the upload requests ended after "
          f"{fmt_seconds(min(r['sent'] or [0]))} to {fmt_seconds(max(r['sent'] or [0]))}); "
          f"slider -> matrix p50 {fmt_seconds(p50)}, "
          f"p95 {fmt_seconds(p95)} ({len(moves)} moves); server RSS idle "
          f"{r['idle'] / gb:.2f} GB, loaded {r['loaded'] / gb:.2f} GB, peak {r['peak'] / gb:.2f} GB")
    level = r["single"] or r["loaded"]
    back = next((t for t, v in r["released"] if v <= level * (1 + GOAL_RELEASE)), None)
    last = r["released"][-1] if r["released"] else (0, 0)
    print(f"      after the sessions closed: RSS {last[1] / gb:.2f} GB at {last[0]:.0f} s; "
          + (f"within 20% of the single-session level ({level / gb:.2f} GB) after {back:.0f} s"
             if back is not None else
             f"not back within 20% of the single-session level ({level / gb:.2f} GB)"))
    if r["n"] >= 10:
        checks = [("slider p95 <= 500 ms", p95 <= GOAL_P95),
                  ("upload -> loaded <= 10 s", max(up) <= GOAL_UPLOAD),
                  ("RSS <= 1.5 GB", r["peak"] <= GOAL_RSS),
                  ("RSS back within 20% within 60 s", back is not None and back <= 60)]
        print("      goals: " + "; ".join(f"{name}: {'met' if ok else 'NOT met'}"
                                         for name, ok in checks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e6)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--sessions", default="1,5,10")
    parser.add_argument("--moves", type=int, default=30)
    parser.add_argument("--after", type=float, default=75.0)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"no chromium at {CHROMIUM}: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
        csv_path = Path(tmp) / "shared.csv"
        write_csv(csv_path, int(args.rows), args.classes)
        print(f"{int(args.rows):,} rows x {args.classes} classes, "
              f"{csv_path.stat().st_size / 2**20:.0f} MiB; sessions {args.sessions}", flush=True)
        single = None
        for n in (int(v) for v in args.sessions.split(",")):
            result = run(n, csv_path, args.moves, args.after if n > 1 else 5.0, single)
            if n == 1:
                single = result["loaded"]
            report(result)


if __name__ == "__main__":
    main()
