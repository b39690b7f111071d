"""Loading a wide prediction file against pyarrow reading the same file, in one process.

Writes a 1e6-row x 10-class table (a ``label`` column of class names and ten ``prob_<class>``
float32 columns, softmax-like rows) as CSV and as Parquet in a temporary directory, then times:
- ``evalcore.io.load``: read, detect the layout, validate, build Predictions;
- the reference, a plain read of the same file by pyarrow (no detection, no validation):
  Parquet: ``pyarrow.parquet.read_table(path)`` and ``.to_numpy()`` of every column (the label
  column becomes an object array of str); CSV: ``pyarrow.csv.read_csv(path)`` (a pyarrow
  Table: nothing converted to NumPy).

Peak memory of one load, in a fresh subprocess per format (after a first tiny load, which
loads the compiled checks' code): tracemalloc's peak (NumPy arrays,
Python objects) plus the peak of pyarrow's default memory pool (``max_memory()``; pyarrow's
allocations are invisible to tracemalloc), an upper bound of what was allocated at once; shown
against the score matrix (N x K float32 bytes). For information also the peak RSS over the
RSS before the load (``VmHWM - VmRSS`` after resetting VmHWM): it counts the pages of a file
that is read memory-mapped (CSV), which the kernel can drop, and allocator caches.

Prints medians and ratios (load / reference) and the goals (time <= 1.5x the reference,
peak <= 3x the score matrix). Timings are wall clock: noisy on a shared machine.
Usage: python benchmarks/bench_io.py [--rows 1e6] [--classes 10] [--repeats 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fmt_seconds, median_seconds  # noqa: E402

from evalcore.io import load  # noqa: E402

TIME_GOAL = 1.5  # load / reference
MEMORY_GOAL = 3.0  # peak / (N x K float32 bytes)
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


def read_parquet_reference(path: Path) -> list[np.ndarray]:
    table = pq.read_table(path)
    return [table.column(c).to_numpy() for c in table.column_names]


def read_csv_reference(path: Path):
    return pa_csv.read_csv(path)


REFERENCES = {"csv": read_csv_reference, "parquet": read_parquet_reference}


def measure_peak(path: str) -> dict:
    """One load's peaks, in this (fresh) process: see the module's docstring."""
    import tracemalloc

    import pyarrow as pa

    def status(key: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
        return -1

    from evalcore import Predictions

    # the compiled checks load their machine code on first use (Python objects, once per
    # process): not memory of a load
    Predictions.from_arrays([0, 1], [[0.8, 0.2], [0.3, 0.7]])
    pool = pa.default_memory_pool()
    arrow_before = pool.max_memory()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
        rss_before = status("VmRSS")
    except OSError:
        rss_before = -1
    tracemalloc.start()
    loaded = load(path)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    p = loaded.predictions
    return {"traced": traced, "arrow": pool.max_memory() - arrow_before,
            "rss": status("VmHWM") - rss_before if rss_before >= 0 else -1,
            "matrix": p.n_samples * len(p.class_names) * 4}


def peak_in_subprocess(path: Path) -> dict:
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import bench_io; "
            "print(json.dumps(bench_io.measure_peak(sys.argv[2])))")
    done = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), str(path)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


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
        del frame

        print(f"{n:.0e} rows x {k} classes (label + {k} prob_ columns), "
              f"medians of {args.repeats} runs; score matrix {n * k * 4 / 2**20:.0f} MiB (float32)")
        print(f"{'format':>8} {'file size':>10} {'evalcore load':>14} {'pyarrow read':>13} "
              f"{'ratio':>7} {'met':>4} {'peak alloc':>11} {'x matrix':>9} {'met':>4} "
              f"{'peak RSS':>9}")
        for fmt, path in paths.items():
            loaded = load(path)  # warm up, and check what was read
            p = loaded.predictions
            assert p.n_samples == n and len(p.class_names) == k and p.task == "multiclass"
            del loaded, p
            t_load = median_seconds(lambda: load(path), args.repeats)
            t_ref = median_seconds(lambda: REFERENCES[fmt](path), args.repeats)
            peak = peak_in_subprocess(path)
            alloc = peak["traced"] + peak["arrow"]
            times = alloc / peak["matrix"]
            size = path.stat().st_size / 2**20
            ratio = t_load / t_ref
            print(
                f"{fmt:>8} {size:>7.0f} MiB {fmt_seconds(t_load):>14} {fmt_seconds(t_ref):>13} "
                f"{ratio:>6.2f}x {'yes' if ratio <= TIME_GOAL else 'NO':>4} "
                f"{alloc / 2**20:>7.0f} MiB {times:>8.2f}x {'yes' if times <= MEMORY_GOAL else 'NO':>4} "
                f"{peak['rss'] / 2**20:>5.0f} MiB",
                flush=True,
            )
        print(f"goals: load <= {TIME_GOAL}x the pyarrow read; peak allocations <= "
              f"{MEMORY_GOAL}x the score matrix (tracemalloc + pyarrow pool)")
        if args.profile:
            for path in paths.values():
                profile(path)


if __name__ == "__main__":
    main()
