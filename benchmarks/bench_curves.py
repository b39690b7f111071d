"""Curve engine against the per-class scikit-learn loop users write today, and against the
sort floor, in one process.

For each size and score distribution (float32; ``gaussian``: softmax of Gaussian logits with
+2 on the true class; ``cubed``: uniform values cubed, rows normalised, labels drawn from
the scores; ``uniform``: the same without the cube):
- the scikit-learn loop: roc_curve, roc_auc_score, precision_recall_curve and
  average_precision_score for every class;
- the floor: for every class, one packed uint64 key (score bits high, the label low) built
  and sorted with ``np.sort``; no figure is computed;
- evalcore: Predictions.from_arrays + compute_curves (sorts once, everything after is a query);
- counts_at at per-class thresholds against a recount over the N x K scores;
- the abstain-rule K x K matrix (the top class cached, as on a slider move);
- peak extra memory of from_arrays + compute_curves, as a multiple of the score matrix.

The three timings of a repeat run one after the other (so a busy machine slows all three).
Prints medians, the speed-up over scikit-learn, evalcore / floor, and evalcore's CPU time
(user, and system: page faults of the arrays it allocates; every thread counted).
Usage: python benchmarks/bench_curves.py [--repeats R] [--sizes 1e5x10 ...] [--dists gaussian cubed]
"""

from __future__ import annotations

import argparse
import itertools
import resource
import statistics
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fmt_seconds, median_seconds, peak_bytes  # noqa: E402

from evalcore import Predictions, compute_curves  # noqa: E402
from evalcore.curves import WORKERS  # noqa: E402
from evalcore.decisions import confusion  # noqa: E402

SIZES = ("1e5x10", "1e5x100", "1e6x10", "1e6x100")
DISTS = ("gaussian", "uniform", "cubed")


def make_data(n: int, k: int, seed: int = 0, dist: str = "uniform") -> tuple[np.ndarray, np.ndarray]:
    """Float32 softmax rows and labels: ``gaussian`` logits N(0, 1) with +2 on the true class
    (uniform labels); ``uniform`` values normalised, or ``cubed`` uniform values cubed and
    normalised (labels drawn from the scores)."""
    rng = np.random.default_rng(seed)
    if dist == "gaussian":
        y = rng.integers(0, k, n)
        z = rng.standard_normal((n, k), dtype=np.float32)
        z[np.arange(n), y] += 2
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return y, (z / z.sum(axis=1, keepdims=True)).astype(np.float32)
    scores = rng.random((n, k), dtype=np.float32)
    if dist == "cubed":
        scores **= 3
    scores /= scores.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(scores, axis=1)
    y = (rng.random((n, 1), dtype=np.float32) > cumulative).sum(axis=1)
    return np.minimum(y, k - 1), scores


def sort_floor(y: np.ndarray, scores: np.ndarray) -> None:
    """The work no exact engine can skip: each class' scores sorted with their labels."""
    for c in range(scores.shape[1]):
        key = scores[:, c].view(np.uint32).astype(np.uint64) << np.uint64(32)
        key |= (y == c).astype(np.uint64)
        key.sort()


def sklearn_loop(y: np.ndarray, scores: np.ndarray) -> None:
    for c in range(scores.shape[1]):
        positive = y == c
        roc_curve(positive, scores[:, c], drop_intermediate=False)
        roc_auc_score(positive, scores[:, c])
        precision_recall_curve(positive, scores[:, c])
        average_precision_score(positive, scores[:, c])


def recount(y: np.ndarray, scores: np.ndarray, thresholds: np.ndarray) -> None:
    cleared = scores >= thresholds
    positive = y[:, None] == np.arange(scores.shape[1])
    (cleared & positive).sum(axis=0), (cleared & ~positive).sum(axis=0)


def bench(size: str, dist: str, repeats: int) -> dict:
    n_text, k_text = size.split("x")
    n, k = int(float(n_text)), int(k_text)
    y, scores = make_data(n, k, dist=dist)

    def engine():
        return compute_curves(Predictions.from_arrays(y, scores))

    engine()  # compiled once per machine; loaded from the cache after
    times = {"sklearn": [], "floor": [], "engine": []}
    runs = {"sklearn": lambda: sklearn_loop(y, scores), "floor": lambda: sort_floor(y, scores),
            "engine": engine}
    cpu = {"user": [], "sys": []}  # the engine's CPU time, every thread (sys: page faults)
    for _ in range(repeats):
        for name, run in runs.items():
            before = resource.getrusage(resource.RUSAGE_SELF)
            times[name].append(median_seconds(run, 1))
            after = resource.getrusage(resource.RUSAGE_SELF)
            if name == "engine":
                cpu["user"].append(after.ru_utime - before.ru_utime)
                cpu["sys"].append(after.ru_stime - before.ru_stime)
    t_sklearn, t_floor, t_engine = (statistics.median(times[name]) for name in runs)
    peak = peak_bytes(engine)
    p = Predictions.from_arrays(y, scores)
    curves = compute_curves(p)
    thresholds = np.linspace(0.05, 0.5, k)
    counts = curves.counts_at(thresholds)
    t_counts = median_seconds(lambda: curves.counts_at(thresholds), max(repeats, 50))
    t_recount = median_seconds(lambda: recount(y, scores, thresholds), repeats)
    # sanity: the binary search gives the recount's numbers
    cleared = scores >= thresholds
    assert (counts.tp == (cleared & (y[:, None] == np.arange(k))).sum(axis=0)).all()
    confusion(p, "abstain", 0.3)  # caches the top class and score once
    t_abstain = median_seconds(lambda: confusion(p, "abstain", 0.3), max(repeats, 10))
    return {
        "size": size,
        "dist": dist,
        "sklearn": t_sklearn,
        "floor": t_floor,
        "engine": t_engine,
        "user": statistics.median(cpu["user"]),
        "sys": statistics.median(cpu["sys"]),
        "counts_at": t_counts,
        "recount": t_recount,
        "abstain": t_abstain,
        "memory": peak / scores.nbytes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), metavar="NxK")
    parser.add_argument("--dists", nargs="+", default=list(DISTS), choices=DISTS)
    args = parser.parse_args()
    header = (
        f"{'N x K':>9} {'scores':>9} {'sklearn loop':>13} {'floor':>9} {'evalcore':>10} "
        f"{'speed-up':>9} {'/ floor':>8} {'cpu user + sys':>19} "
        f"{'counts_at':>10} {'recount':>10} {'ratio':>8} {'abstain KxK':>12} {'peak mem':>9}"
    )
    print(f"medians of {args.repeats} runs (counts_at of >= 50, abstain of >= 10); "
          f"{WORKERS} threads")
    print(header)
    for size, dist in itertools.product(args.sizes, args.dists):
        r = bench(size, dist, args.repeats)
        print(
            f"{r['size']:>9} {r['dist']:>9} {fmt_seconds(r['sklearn']):>13} "
            f"{fmt_seconds(r['floor']):>9} {fmt_seconds(r['engine']):>10} "
            f"{r['sklearn'] / r['engine']:>8.1f}x {r['engine'] / r['floor']:>7.2f}x "
            f"{fmt_seconds(r['user']) + ' + ' + fmt_seconds(r['sys']):>19} "
            f"{fmt_seconds(r['counts_at']):>10} "
            f"{fmt_seconds(r['recount']):>10} {r['recount'] / r['counts_at']:>7.0f}x "
            f"{fmt_seconds(r['abstain']):>12} {r['memory']:>8.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
