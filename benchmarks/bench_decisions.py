"""Objectives under a decision rule at 1e6 x 10: the exact sweep search of
``operating_point(..., decision=...)`` against two references measured in the same run:

- a scan that recounts the decision's confusion matrix at every candidate threshold (what an
  exact answer to any objective takes without the sweep; one recount timed, times the number
  of candidates: the full scan would take hours, so it is extrapolated and printed as such);
- a bisection over the sorted candidates, 20 recounts (only for a goal that is monotone in
  the threshold, such as recall >= r; F1 or cost are not);

and two optimiser runs.

Usage: python benchmarks/bench_decisions.py [--rows 1000000] [--classes 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fmt_seconds, median_seconds  # noqa: E402

from evalcore import Predictions  # noqa: E402
from evalcore.decisions import Decision, confusion  # noqa: E402
from evalcore.operating import operating_point  # noqa: E402
from evalcore.optimise import optimise  # noqa: E402


def softmax_scores(rows: int, k: int, seed: int = 0) -> Predictions:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, rows)
    z = rng.normal(size=(rows, k)).astype(np.float32)
    z[np.arange(rows), y] += 2.0
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return Predictions.from_arrays(y, p, score_kind="probability")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    p = softmax_scores(args.rows, args.classes)
    def ranking() -> None:  # what the per-class rule sorts once per dataset
        p.__dict__.pop("_ranking", None)
        p.at_rank(1, np.arange(1))

    sort_once = median_seconds(ranking, args.repeats)
    argsort = median_seconds(lambda: np.argsort(p.scores, axis=1), args.repeats)
    print(f"the ranking of every row's classes (packed-key sort, rank 1 unpacked): "
          f"{fmt_seconds(sort_once)}; one argsort of the matrix: {fmt_seconds(argsort)} "
          f"({sort_once / argsort:.2f}x; goal <= 1x)")
    c = 3
    print(f"{args.rows:,} x {args.classes}, float32 softmax; class {p.class_names[c]!r}, "
          "objective recall>=0.99 (medians of "
          f"{args.repeats})")
    print(f"{'rule':<10} {'operating_point':>16} {'recount once':>13} {'candidates':>11} "
          f"{'scan (extrapolated)':>20} {'ratio':>8} {'bisection':>10} {'ratio':>6}  answer")
    for d in (Decision.per_class(p.class_names, 0.5), Decision.priority(p.class_names, {}),
              Decision.abstain(p.class_names, 0.5), Decision.weighted(p.class_names, 1.0)):
        ours = median_seconds(lambda: operating_point(p, c, "recall>=0.99", decision=d),
                              args.repeats)
        point = operating_point(p, c, "recall>=0.99", decision=d)
        once = median_seconds(lambda: confusion(p, d), args.repeats)
        candidates = np.unique(p.scores[:, c]).size + 1 if d.rule != "abstain" else (
            np.unique(p.top_score).size + 1)
        everything = once * candidates
        bisection = once * int(np.ceil(np.log2(candidates)))
        answer = (f"{point.parameter} {point.threshold:.6g}, recall "
                  f"{point.counts.recall[0]:.4f}" if point.feasible else "infeasible: "
                  + point.reason.split(";")[0][:60])
        print(f"{d.rule:<10} {fmt_seconds(ours):>16} {fmt_seconds(once):>13} {candidates:>11,} "
              f"{fmt_seconds(everything):>20} {everything / ours:>7.0f}x "
              f"{fmt_seconds(bisection):>10} {bisection / ours:>5.1f}x  {answer}")
    for start_decision, constraints in (
        (Decision.per_class(p.class_names, 0.5), ()),
        (Decision.priority(p.class_names, {}), (f"recall({p.class_names[c]})>=0.99",)),
    ):
        start = time.perf_counter()
        result = optimise(p, start_decision, "macro-f1", constraints=constraints)
        took = time.perf_counter() - start
        print(f"optimise {start_decision.rule}, macro-F1"
              + (f" s.t. {constraints[0]}" if constraints else "")
              + f": {fmt_seconds(took)}, {result.rounds} rounds, {result.before.objective:.4f} "
              f"-> {result.after.objective:.4f}, constraints met: {result.feasible}")


if __name__ == "__main__":
    main()
