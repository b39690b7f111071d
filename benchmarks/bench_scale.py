"""Larger than memory: the duckdb engine's exact summary of 1e7 and 1e8 rows x 10 classes;
Spark local[2] at 1e7.

Writes (in chunks of 1e6 rows, 1e7 rows per file) directories of Parquet files with float32
softmax-like scores and int16 labels, then runs whole processes, each timed from start to
exit with its peak RSS (``os.wait4``'s ``ru_maxrss``):

- ``evalcore summary DIR --engine duckdb --memory-limit LIMIT --json`` at every size;
- at 1e7 also the numpy path (``--engine numpy``; one file) and the scikit-learn per-class loop
  (``roc_auc_score`` + ``average_precision_score`` for each class, the data read with pyarrow),
  and the figures of the three compared; and ``--engine spark --spark-master local[2]``
  (driver memory ``--spark-memory``, default 4g; the whole process includes the JVM's start).

Goals on this 2-core machine: 1e8 x 10 in <= 5 min with peak RSS <= 6 GB under
--memory-limit 4G; 1e7 x 10 with duckdb within 3x of the numpy path.
Usage: python benchmarks/bench_scale.py [--sizes 1e7,1e8] [--repeats 3] [--memory-limit 4G]
       [--dir DIR (reuse the files there)] [--sklearn-repeats 1] [--spark-repeats 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fmt_seconds  # noqa: E402

K = 10
CHUNK = 1_000_000
PER_FILE = 10_000_000

SKLEARN_LOOP = """
import json, sys
import numpy as np, pyarrow.dataset as ds
from sklearn.metrics import average_precision_score, roc_auc_score
table = ds.dataset(sys.argv[1], format="parquet").to_table()
y = table.column("label").to_numpy()
out = {}
for c in range(int(sys.argv[2])):
    s = table.column(f"prob_{c}").to_numpy()
    out[str(c)] = [roc_auc_score(y == c, s), average_precision_score(y == c, s)]
print(json.dumps(out))
"""


def write_parquet(directory: Path, rows: int, seed: int = 0) -> None:
    """``rows`` x K float32 scores (uniform, normalised) and labels drawn from them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, rows, CHUNK):
        if start % PER_FILE == 0 and writer is not None:
            writer.close()
            writer = None
        m = min(CHUNK, rows - start)
        scores = rng.random((m, K), dtype=np.float32)
        scores /= scores.sum(axis=1, keepdims=True)
        drawn = rng.random((m, 1), dtype=np.float32) > np.cumsum(scores, axis=1)
        labels = np.minimum(drawn.sum(axis=1), K - 1).astype(np.int16)
        table = pa.table({"label": labels, **{f"prob_{c}": scores[:, c] for c in range(K)}})
        if writer is None:
            writer = pq.ParquetWriter(directory / f"part-{start // PER_FILE:04d}.parquet",
                                      table.schema)
        writer.write_table(table, row_group_size=CHUNK)
    writer.close()


def run(command: list[str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in GB, stdout) of one whole process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode:
            raise SystemExit(f"{' '.join(command)} failed: {err.read().decode()[-2000:]}")
        return seconds, usage.ru_maxrss * 1024 / 1e9, out.read().decode()


def measure(command: list[str], repeats: int) -> tuple[float, float, str]:
    runs = [run(command) for _ in range(repeats)]
    return (statistics.median(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2])


def summary(engine: str, path: Path, limit: str) -> list[str]:
    extra = ["--spark-master", "local[2]"] if engine == "spark" else []
    return [sys.executable, "-m", "evalcore.cli", "summary", str(path), "--engine", engine,
            "--memory-limit", limit, "--max-size", "64G", "--json", *extra]


def per_class(out: str) -> np.ndarray:
    result = json.loads(out)
    return np.array([[row["roc_auc"], row["average_precision"]]
                     for row in result["per_class"].values()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e7,1e8")
    parser.add_argument("--repeats", type=int, default=3, help="runs at 1e7 (1e8: one run)")
    parser.add_argument("--sklearn-repeats", type=int, default=1)
    parser.add_argument("--spark-repeats", type=int, default=1, help="0: no Spark")
    parser.add_argument("--spark-memory", default="4g")
    parser.add_argument("--memory-limit", default="4G")
    parser.add_argument("--dir", type=Path, help="keep the Parquet files here (reused)")
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="evalcore-scale-"))
    print(f"{K} classes, float32 scores; duckdb --memory-limit {args.memory_limit}; "
          f"files in {base}")
    try:
        for size in (int(float(s)) for s in args.sizes.split(",")):
            directory = base / f"rows-{size:.0e}"
            if not (directory / "done").exists():
                shutil.rmtree(directory, ignore_errors=True)
                directory.mkdir(parents=True)
                start = time.perf_counter()
                write_parquet(directory, size)
                (directory / "done").touch()
                print(f"{size:.0e} rows: wrote {sum(f.stat().st_size for f in directory.glob('*.parquet')) / 2**30:.1f} "
                      f"GiB in {time.perf_counter() - start:.0f} s")
            repeats = args.repeats if size <= 10**7 else 1
            seconds, rss, out = measure(summary("duckdb", directory, args.memory_limit), repeats)
            result = json.loads(out)
            exact = "statistics exact" if result.get("exact", True) else (
                "AUC/AP exact, thresholds and plots binned")
            print(f"{size:.0e} x {K} duckdb: {fmt_seconds(seconds)} (median of {repeats}), "
                  f"peak RSS {rss:.2f} GB; {exact}")
            if size > 10**7:
                continue
            files = sorted(directory.glob("*.parquet"))
            if len(files) != 1:
                print("  (numpy and scikit-learn: one file only, skipped)")
                continue
            n_seconds, n_rss, n_out = measure(summary("numpy", files[0], args.memory_limit),
                                              repeats)
            print(f"{size:.0e} x {K} numpy:  {fmt_seconds(n_seconds)} (median of {repeats}), "
                  f"peak RSS {n_rss:.2f} GB; duckdb / numpy = {seconds / n_seconds:.2f}x")
            s_seconds, s_rss, s_out = measure(
                [sys.executable, "-c", SKLEARN_LOOP, str(files[0]), str(K)], args.sklearn_repeats)
            print(f"{size:.0e} x {K} scikit-learn per-class loop: {fmt_seconds(s_seconds)} "
                  f"(median of {args.sklearn_repeats}), peak RSS {s_rss:.2f} GB; "
                  f"duckdb / scikit-learn = {seconds / s_seconds:.2f}x")
            ours, numpy_, sk = per_class(out), per_class(n_out), np.array(
                list(json.loads(s_out).values()))
            print(f"  largest |difference| of per-class AUC and AP: duckdb vs numpy "
                  f"{np.abs(ours - numpy_).max():.1e}, duckdb vs scikit-learn "
                  f"{np.abs(ours - sk).max():.1e}")
            if args.spark_repeats:
                os.environ["PYSPARK_SUBMIT_ARGS"] = (f"--driver-memory {args.spark_memory} "
                                                     "pyspark-shell")
                p_seconds, p_rss, p_out = measure(summary("spark", directory, args.memory_limit),
                                                  args.spark_repeats)
                binned = "" if json.loads(p_out).get("exact", True) else "; binned (+- bounds)"
                print(f"{size:.0e} x {K} spark local[2]: {fmt_seconds(p_seconds)} (median of "
                      f"{args.spark_repeats}), peak RSS of the Python process "
                      f"{p_rss:.2f} GB (the JVM apart: --driver-memory {args.spark_memory}); "
                      f"spark / numpy = {p_seconds / n_seconds:.2f}x, "
                      f"spark / duckdb = {p_seconds / seconds:.2f}x{binned}; largest "
                      f"|difference| vs numpy {np.abs(per_class(p_out) - numpy_).max():.1e}")
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
