"""Server time of the dashboard on a 1e6-row x 10-class prediction file (AppTest, in-process).

- the upload: reading the CSV and computing the curves (once; cached afterwards);
- a slider move on the Thresholds page (abstain and per-class rules): the whole script rerun
  as AppTest does it (an upper bound: in the browser only the threshold fragment reruns), and
  the fragment's own work measured alone (the decision, counts_at and the figures);
- the Curves page once the data is loaded.

Prints medians and p90. Usage: python benchmarks/bench_app.py [--rows 1000000] [--moves 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fmt_seconds  # noqa: E402

from dashboard import state  # noqa: E402

CLASSES = [f"class_{i}" for i in range(10)]


def make_csv(rows: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(CLASSES), rows)
    z = rng.normal(size=(rows, len(CLASSES))).astype(np.float32)
    z[np.arange(rows), y] += 2.0
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    frame = pd.DataFrame(p, columns=[f"prob_{c}" for c in CLASSES])
    frame.insert(0, "label", np.array(CLASSES)[y])
    return frame.to_csv(index=False, float_format="%.6g").encode()


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def summary(times: list[float]) -> str:
    times = sorted(times)
    p90 = times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))]
    return f"median {fmt_seconds(statistics.median(times))}, p90 {fmt_seconds(p90)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--moves", type=int, default=20)
    args = parser.parse_args()
    from streamlit.testing.v1 import AppTest

    data = make_csv(args.rows)
    print(f"{args.rows:,} rows x {len(CLASSES)} classes, CSV of {len(data) / 2**20:.0f} MiB")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    at.sidebar.radio(key=state.SOURCE_KIND).set_value("file").run()
    uploader = at.sidebar.file_uploader(key=state.UPLOAD)
    print(f"upload -> Overview (read, validate, curves): "
          f"{fmt_seconds(timed(lambda: uploader.set_value(('big.csv', data, 'text/csv')).run()))}")
    assert not at.exception and not at.sidebar.error, "the file did not load"

    at.switch_page("views/curves.py")
    print(f"Curves page, data loaded: {fmt_seconds(timed(at.run))}")
    at.switch_page("views/thresholds.py").run()
    values = np.linspace(0.30, 0.70, args.moves)
    for rule in ("abstain", "per-class"):
        at.radio(key=state.widget_key(state.RULE)).set_value(rule).run()
        slider = at.slider(key=state.widget_key(state.GLOBAL))
        times = [timed(lambda v=v: slider.set_value(float(v)).run()) for v in values]
        assert not at.exception
        print(f"slider move, {rule:<9} whole-script rerun (AppTest): {summary(times)}")
        print(f"slider move, {rule:<9} fragment work alone:         {fragment_work(at, rule, values)}")


def fragment_work(at, rule: str, values) -> str:
    """What the threshold fragment does for each slider value, outside Streamlit: the
    decision, counts_at, the tuned class' figures moved (built once, as the page keeps them)
    and serialised as st.plotly_chart does, and the confusion table."""
    import plotly.io as pio

    from dashboard.widgets import DATASET_KEY, confusion_table
    from evalcore import figures
    from evalcore.decisions import confusion

    data = at.session_state[DATASET_KEY]
    t0 = np.full(len(data.curves.names), 0.5)
    counts = data.curves.counts_at(t0)
    own = confusion(data.predictions, rule, 0.5 if rule == "abstain" else t0).counts
    markers = dict(counts=counts, decision=own, decision_name=rule)
    roc = figures.roc_figure(data.curves, classes=[0], show_micro=False, show_macro=False,
                             **markers)
    pr = figures.pr_figure(data.curves, classes=[0], show_micro=False, **markers)
    metrics = figures.threshold_metrics_figure(data.curves, 0, threshold=0.5)
    times = []
    for v in values:
        t = np.full(len(data.curves.names), float(v))
        start = time.perf_counter()
        decision = confusion(data.predictions, rule, float(v) if rule == "abstain" else t)
        counts = data.curves.counts_at(decision.decision.class_thresholds())
        for fig in (roc, pr):
            figures.move_operating_points(fig, data.curves, counts, decision.counts, rule,
                                          classes=[0])
        figures.move_threshold_line(metrics, float(v))
        for fig in (roc, pr, metrics):
            pio.to_json(fig.to_dict(), validate=False)
        confusion_table(decision, None)
        times.append(time.perf_counter() - start)
    return summary(times)


if __name__ == "__main__":
    main()
