"""Loading a wide prediction file against pandas reading the same file, in one process.

Writes a 1e6-row x 10-class table (a ``label`` column of class names and ten ``prob_<class>``
float32 columns, softmax-like rows) as CSV and as Parquet in a temporary directory, then times:
- ``evalcore.io.load``: read, detect the layout, validate, build Predictions;
- the reference, pandas' own ``pd.read_csv`` / ``pd.read_parquet`` of the same file (a plain
  read: no detection, no validation).

Prints medians and ratios (load / reference) and the goals (CSV <= 10 s, Parquet <= 2 s).
Usage: python benchmarks/bench_io.py [--rows 1e6] [--classes 10] [--repeats 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fmt_seconds, median_seconds  # noqa: E402

from evalcore.io import load  # noqa: E402

GOALS = {"csv": 10.0, "parquet": 2.0}
CLASS_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def make_frame(n: int, k: int, seed: int = 0) -> pd.DataFrame:
    """Class-name labels and softmax-like float32 scores (labels drawn from the scores)."""
    rng = np.random.default_rng(seed)
    names = [CLASS_NAMES[i] if i < len(CLASS_NAMES) else f"class{i}" for i in range(k)]
    scores = rng.random((n, k), dtype=np.float32) ** 3
    scores /= scores.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(scores, axis=1)
    y = np.minimum((rng.random((n, 1), dtype=np.float32) > cumulative).sum(axis=1), k - 1)
    columns = {"label": np.asarray(names, dtype=object)[y]}
    columns.update({f"prob_{name}": scores[:, j] for j, name in enumerate(names)})
    return pd.DataFrame(columns)


def profile(path: Path, top: int = 15) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    load(path)
    profiler.disable()
    print(f"\nprofile of load({path.name}), by cumulative time:")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e6)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="profile one load of each file")
    args = parser.parse_args()
    n, k = int(args.rows), args.classes

    with tempfile.TemporaryDirectory(prefix="bench_io_") as tmp:
        frame = make_frame(n, k)
        paths = {"csv": Path(tmp) / "wide.csv", "parquet": Path(tmp) / "wide.parquet"}
        frame.to_csv(paths["csv"], index=False)
        frame.to_parquet(paths["parquet"], index=False)
        readers = {"csv": pd.read_csv, "parquet": pd.read_parquet}
        del frame

        print(f"{n:.0e} rows x {k} classes (label + {k} prob_ columns), "
              f"medians of {args.repeats} runs")
        print(f"{'format':>8} {'file size':>10} {'evalcore load':>14} {'pandas read':>12} "
              f"{'ratio':>7} {'goal':>7} {'met':>4}")
        for fmt, path in paths.items():
            loaded = load(path)  # warm up, and check what was read
            p = loaded.predictions
            assert p.n_samples == n and len(p.class_names) == k and p.task == "multiclass"
            del loaded, p
            t_load = median_seconds(lambda: load(path), args.repeats)
            t_ref = median_seconds(lambda: readers[fmt](path), args.repeats)
            size = path.stat().st_size / 2**20
            goal = GOALS[fmt]
            print(
                f"{fmt:>8} {size:>7.0f} MiB {fmt_seconds(t_load):>14} {fmt_seconds(t_ref):>12} "
                f"{t_load / t_ref:>6.2f}x {fmt_seconds(goal):>7} "
                f"{'yes' if t_load <= goal else 'NO':>4}",
                flush=True,
            )
        if args.profile:
            for path in paths.values():
                profile(path)


if __name__ == "__main__":
    main()
