"""Confidence intervals against the references users reach for, in one process.

1. DeLong for every class at N x K (default 1e6 x 10; goal <= 1 s), from a CurveSet computed
   beforehand (not timed: the app has it already). Reference: scikit-learn's O(N log N)
   ``roc_auc_score`` once per class (the point estimate alone, no variance).
2. 1000 stratified bootstrap resamples of every per-class ROC AUC at N x K (default
   1e5 x 10; goal <= 20 s). References, on explicit resamples (rows drawn with replacement),
   timed on a few resamples and EXTRAPOLATED to the full count:
   - scikit-learn ``roc_auc_score`` per class on each resample;
   - the naive loop: ``compute_curves`` on each resample.
   Also ``summary_intervals`` (what ``evalcore summary --ci`` runs: DeLong for per-class AUC,
   one bootstrap for per-class AP, micro/macro AUC and accuracy), and the peak extra memory
   of the bootstrap (a chunk of weights), as a multiple of the score matrix.

Data: uniform softmax-like float32 scores with labels drawn from them (as bench_curves.py).
Prints medians and ratios. Usage:
    python benchmarks/bench_stats.py [--repeats R] [--delong-size 1e6x10]
                                     [--bootstrap-size 1e5x10] [--resamples 1000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fmt_seconds, median_seconds, peak_bytes  # noqa: E402
from bench_curves import make_data  # noqa: E402

from evalcore import Predictions, compute_curves  # noqa: E402
from evalcore.stats import (  # noqa: E402
    PerClassRocAuc,
    auc_intervals,
    bootstrap_interval,
    summary_intervals,
)


def parse_size(text: str) -> tuple[int, int]:
    n, k = text.lower().split("x")
    return int(float(n)), int(k)


def sklearn_aucs(y: np.ndarray, scores: np.ndarray) -> list[float]:
    return [roc_auc_score(y == c, scores[:, c]) for c in range(scores.shape[1])]


def explicit_resamples(y: np.ndarray, count: int, seed: int) -> list[np.ndarray]:
    """Stratified resamples as row indices (within each class, with replacement)."""
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(y == c) for c in np.unique(y)]
    return [np.concatenate([m[rng.integers(0, m.size, m.size)] for m in members])
            for _ in range(count)]


def bench_delong(size: str, repeats: int) -> None:
    n, k = parse_size(size)
    y, scores = make_data(n, k)
    p = Predictions.from_arrays(y, scores)
    curves = compute_curves(p)
    intervals = auc_intervals(curves)
    reference = sklearn_aucs(y, scores)
    worst = max(abs(iv.estimate - r) for iv, r in zip(intervals, reference))
    assert worst < 1e-12, worst
    t_delong = median_seconds(lambda: auc_intervals(curves), repeats)
    t_sklearn = median_seconds(lambda: sklearn_aucs(y, scores), repeats)
    print(f"DeLong, every class at {size} (median of {repeats}; CurveSet computed beforehand)")
    print(f"  evalcore auc_intervals (AUC + DeLong variance + 95% CI) {fmt_seconds(t_delong):>10}"
          f"   goal <= 1 s: {'met' if t_delong <= 1 else 'MISSED'}")
    print(f"  scikit-learn roc_auc_score per class (AUC only)        {fmt_seconds(t_sklearn):>10}"
          f"   ratio {t_sklearn / t_delong:.1f}x")
    print(f"  largest |AUC - scikit-learn|: {worst:.1e}", flush=True)


def bench_bootstrap(size: str, repeats: int, resamples: int, sample: int) -> None:
    n, k = parse_size(size)
    y, scores = make_data(n, k)
    p = Predictions.from_arrays(y, scores)
    curves = compute_curves(p)

    def fast():
        return bootstrap_interval(p, PerClassRocAuc(), n_resamples=resamples, random_state=0,
                                  curves=curves)

    t_fast = median_seconds(fast, repeats)
    rows = explicit_resamples(y, sample, seed=1)
    t_sklearn = median_seconds(
        lambda: [sklearn_aucs(y[r], scores[r]) for r in rows], 1) / sample * resamples
    t_naive = median_seconds(
        lambda: [compute_curves(Predictions.from_arrays(y[r], scores[r])) for r in rows], 1
    ) / sample * resamples
    t_summary = median_seconds(
        lambda: summary_intervals(p, curves, n_resamples=resamples, random_state=0), 1)
    peak = peak_bytes(lambda: bootstrap_interval(p, PerClassRocAuc(), n_resamples=50,
                                                 random_state=0, curves=curves))
    print(f"\n{resamples} stratified bootstrap resamples of every per-class ROC AUC at {size}")
    print(f"  evalcore bootstrap_interval(PerClassRocAuc)       {fmt_seconds(t_fast):>10}"
          f"   (median of {repeats})   goal <= 20 s: {'met' if t_fast <= 20 else 'MISSED'}")
    print(f"  scikit-learn roc_auc_score per class per resample {fmt_seconds(t_sklearn):>10}"
          f"   EXTRAPOLATED from {sample} resamples   ratio {t_sklearn / t_fast:.1f}x")
    print(f"  naive loop: compute_curves per resample           {fmt_seconds(t_naive):>10}"
          f"   EXTRAPOLATED from {sample} resamples   ratio {t_naive / t_fast:.1f}x")
    print(f"  summary_intervals (DeLong + bootstrap of AP, micro/macro AUC, accuracy) "
          f"{fmt_seconds(t_summary)} (one run)")
    print(f"  peak extra memory of the bootstrap: {peak / scores.nbytes:.2f}x the score matrix",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--delong-size", default="1e6x10", metavar="NxK")
    parser.add_argument("--bootstrap-size", default="1e5x10", metavar="NxK")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--reference-resamples", type=int, default=20,
                        help="explicit resamples timed for the extrapolated references")
    args = parser.parse_args()
    bench_delong(args.delong_size, args.repeats)
    bench_bootstrap(args.bootstrap_size, args.repeats, args.resamples,
                    args.reference_resamples)


if __name__ == "__main__":
    main()
