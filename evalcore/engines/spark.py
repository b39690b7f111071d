"""Spark, the distributed engine: Parquet files, a CSV, or a ``pyspark.sql.DataFrame`` already
in the user's session, evaluated where the data lives. Detection and the row checks are the
SQL engines' (:mod:`evalcore.engines.sql`), run as Spark SQL.

- **Curves**: the curves stacked (``stack``) and grouped by curve and score (positives,
  samples; for multiclass the samples of each label, which keeps Hand & Till exact) by the
  executors. A curve whose distinct scores are within ``budget`` (HyperLogLog's estimate,
  1% relative error, decides) comes to the driver whole, as Arrow: every figure is exact.
  The others are grouped into ``budget`` equal-width bins of the probability instead, each
  with its lowest score: their figures say ``exact: false`` and carry the bounds of
  :mod:`evalcore.scorestats` (the distinct scores counted are the estimate); thresholds are
  the lowest score of a bin, where the counts are exact.
- **Rows** (the confusion matrix of any rule, calibration): ``mapInArrow`` runs the in-memory
  kernel on each partition; only the counts (a few KB) travel to the driver.

No row is collected to the driver except the samples (:meth:`SqlDataset.sample`,
:meth:`SqlDataset.stratified_sample`). The session: ``SPARK_REMOTE`` (Spark Connect), else
``master`` (default ``local[*]``); the Python of the driver runs the executors' kernels in
local mode, a cluster needs evalcore installed on its workers.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import shutil
import sys
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from evalcore import io
from evalcore.curves import CurveSet, DEFAULT_PLOT_POINTS, from_stats
from evalcore.errors import InputError, quiet_stderr
from evalcore.predictions import _sigmoid
from evalcore.scorestats import DEFAULT_BUDGET, CurveStats, StreamResult
from evalcore.engines.sql import SqlDataset, dataset_files, predictions_of

DEFAULT_MASTER = "local[*]"
#: the relative error of the distinct scores' estimate that decides exact or binned
DISTINCT_RSD = 0.01
_VIEWS = re.compile(r"\b(FROM|JOIN) (src|located|data|codes)\b|\b(codes|located)\.")


def session(master: str | None = None):
    """The Spark session evalcore evaluates in: the active one, else Spark Connect at
    ``SPARK_REMOTE``, else a new classic session on ``master`` (quiet, without its web UI).
    One line of error when Java or pyspark is missing.

    >>> spark = session("local[1]")  # doctest: +SKIP
    >>> spark.sparkContext.appName, spark.sparkContext.master  # doctest: +SKIP
    ('evalcore', 'local[1]')
    >>> spark.conf.get("spark.ui.enabled")  # doctest: +SKIP
    'false'
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError("the spark engine needs pyspark: pip install 'evalcore[spark]'") from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    remote = os.environ.get("SPARK_REMOTE")
    if remote and master is None:
        return _started(lambda: SparkSession.builder.remote(remote).getOrCreate(), remote)
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise InputError("the spark engine needs Java 17 or newer (Debian: apt-get install "
                         "openjdk-17-jre-headless), or SPARK_REMOTE for Spark Connect")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the executors' Python
    builder = (SparkSession.builder.master(master or DEFAULT_MASTER).appName("evalcore")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", str(2 * (os.cpu_count() or 2))))
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    logging.getLogger("pyspark").setLevel(logging.CRITICAL + 1)
    with _quiet_jvm():
        spark = _started(builder.getOrCreate, master or DEFAULT_MASTER)
    spark.sparkContext.setLogLevel("OFF")
    return spark


def _quiet_jvm():
    """While the JVM starts, its console (log4j's banner, warnings, its own stack traces) goes
    to /dev/null: its errors reach us through py4j. EVALCORE_SPARK_LOGS=1 keeps it."""
    return nullcontext() if os.environ.get("EVALCORE_SPARK_LOGS") else quiet_stderr()


def _started(start, where: str):
    try:
        return start()
    except Exception as error:  # the JVM did not start, the server did not answer
        raise InputError(f"could not start Spark ({where}): {_spark_message(error)}") from None


@dataclass
class SparkDataset(SqlDataset):
    """Prediction files or a DataFrame evaluated by Spark. ``budget``: distinct scores a curve
    keeps exactly; ``master``: a Spark master URL (default: the active session, else
    ``local[*]``).

    >>> import tempfile, pandas as pd
    >>> path = tempfile.mkdtemp() + "/p.parquet"
    >>> pd.DataFrame({"label": [0, 0, 1, 1], "score": [0.1, 0.4, 0.35, 0.8]}).to_parquet(path)
    >>> with SparkDataset([path], master="local[1]") as data:  # doctest: +SKIP
    ...     data.curves().classes[0].roc_auc
    0.75
    """

    engine = "spark"
    TEXT = "STRING"

    paths: Sequence[str | Path] = ()
    mapping: io.Mapping = field(default_factory=io.Mapping)
    budget: int = DEFAULT_BUDGET
    master: str | None = None
    frame: Any = None  # a pyspark.sql.DataFrame in the wide layout

    def __post_init__(self) -> None:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        self._errors = (PySparkException, Py4JError)
        if self.frame is not None:
            self.spark = self.frame.sparkSession
            self.name, self.files, self.format = "DataFrame", ["DataFrame"], "dataframe"
        else:
            self.name, self.files, self.format = dataset_files(self.paths, "spark")
            self.spark = session(self.master)
        self._prefix = f"evalcore_{id(self):x}_"
        self._created: list[str] = []
        self._open()

    # ------------------------------------------------------------------ life cycle

    def close(self) -> None:
        """Drop the views this dataset made (the session stays, for the next one)."""
        for view in self.__dict__.pop("_created", []):
            try:
                self.spark.catalog.dropTempView(view)
            except Exception:  # the session is gone already
                pass

    # ------------------------------------------------------------------ the dialect

    def _sql(self, query: str):
        """A DataFrame of ``query``, this dataset's views named by their session names."""
        query = _VIEWS.sub(lambda m: (f"{m[1]} {self._prefix}{m[2]}" if m[1]
                                      else f"{self._prefix}{m[3]}."), query)
        try:
            return self.spark.sql(query)
        except self._errors as error:
            raise InputError(f"{self.name}: {_spark_message(error)}") from None

    def _run(self, fetch):
        try:
            return fetch()
        except self._errors as error:
            raise InputError(f"{self.name}: {_spark_message(error)}") from None

    def _rows(self, query: str) -> list[tuple]:
        frame = self._sql(query)
        return self._run(lambda: [tuple(r) for r in frame.collect()])

    def _arrow(self, query: str):
        frame = self._sql(query)
        return self._run(frame.toArrow)

    def _register(self, name: str, frame) -> None:
        self._run(lambda: frame.createOrReplaceTempView(self._prefix + name))
        self._created.append(self._prefix + name)

    def _view(self, name: str, query: str) -> None:
        self._register(name, self._sql(query))

    def _table_from(self, name: str, frame: pd.DataFrame) -> None:
        self._register(name, self._run(lambda: self.spark.createDataFrame(frame)))

    @staticmethod
    def q(name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    @staticmethod
    def lit(value: str) -> str:
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"

    def full_match(self, expr: str, pattern: str) -> str:
        return f"({expr} RLIKE {self.lit('^(?:' + pattern + ')$')})"

    def unit_hash(self, exprs: str) -> str:
        return ("((CAST(xxhash64(" + exprs + ") AS DOUBLE) + 9223372036854775808.0) "
                "/ 18446744073709551616.0)")

    def quantiles(self, expr: str, qs: Sequence[float]) -> str:
        return f"percentile(CAST({expr} AS DOUBLE), array({', '.join(map(repr, qs))}))"

    def _create_sources(self) -> tuple[list[str], list[str]]:
        from pyspark.sql import functions as F

        if self.format == "dataframe":
            table = self.frame
            where = [F.lit("DataFrame").alias("__file"),
                     F.monotonically_increasing_id().alias("__row")]
        else:
            reader = self.spark.read
            if self.format == "parquet":
                table = self._run(lambda: reader.parquet(*self.files))
                row = F.col("_metadata.row_index")
            else:
                head = Path(self.files[0]).read_bytes()[:65536]
                if b"\x00" in head:
                    raise InputError(f"{self.name}: a binary file, not {self.format.upper()} "
                                     "text")
                delimiter = "\t" if self.format == "tsv" else io._delimiter(head)
                utf8 = io._is_utf8(head[: head.rfind(b"\n") + 1] or head)
                table = self._run(lambda: reader.csv(
                    self.files[0], header=True, sep=delimiter, inferSchema=True,
                    encoding="UTF-8" if utf8 else "ISO-8859-1", mode="FAILFAST",
                    multiLine=True))
                row = F.monotonically_increasing_id()
            where = [F.col("_metadata.file_path").alias("__file"), row.alias("__row")]
        self._register("src", table)
        self._register("located", self._run(lambda: table.select(*where, "*")))
        return list(table.columns), [_type_name(f.dataType) for f in table.schema.fields]

    def _row_position(self, file: str, row: int) -> int:
        if self.format == "parquet":
            return row
        # a monotonically increasing id: the rows before it are its position
        return self._rows(f"SELECT count(*) FROM located WHERE __file = {self.lit(file)} "
                          f"AND __row < {int(row)}")[0][0]

    # ------------------------------------------------------------------ statistics

    def curves(self, *, plot_points: int = DEFAULT_PLOT_POINTS,
               progress: Callable[[int, int], None] | None = None) -> CurveSet:
        """Every curve's statistics and figures (see the module docstring): one scan
        estimates each curve's distinct scores, one more groups the curves within the budget
        by score, one more the others by bin; ``progress(done, total)`` after each scan."""
        info = self.info
        multiclass = self.task == "multiclass"
        curves = range(len(info.curve_names))
        estimate = self._rows("SELECT " + ", ".join(
            f"approx_count_distinct({self._curve_score(c)}, {DISTINCT_RSD})" for c in curves)
            + f" FROM data {self._where_selected}")[0]
        exact = [c for c in curves if estimate[c] <= self.budget]
        results: dict[int, StreamResult | CurveStats] = {}
        if exact:
            groups = self._grouped(exact, "score", multiclass)
            for c, part in _by_curve(groups, exact):
                results[c] = self._exact(part, multiclass)
        if progress is not None:
            progress(len(exact), len(curves))
        binned = [c for c in curves if c not in exact]
        if binned:
            probability = "1 / (1 + exp(-score))" if self.conversion == "sigmoid" else "score"
            key = (f"least(CAST(floor({probability} * {self.budget}) AS BIGINT), "
                   f"{self.budget - 1})")
            groups = self._grouped(binned, key, False)
            for c, part in _by_curve(groups, binned):
                results[c] = self._binned(part, int(estimate[c]))
            if progress is not None:
                progress(len(curves), len(curves))
        return from_stats(tuple(results[c] for c in curves), class_names=self.class_names,
                          task=self.task, score_kind=self.score_kind,
                          n_samples=info.n_samples, plot_points=plot_points,
                          label_sizes=self._totals if multiclass else None)

    def _grouped(self, curves: Sequence[int], key: str, multiclass: bool):
        """(curve, lowest score, positives, samples[, samples of each label]) grouped by
        curve and ``key`` (of ``score``), every curve stacked in one scan."""
        stacked = ", ".join(f"{c}, {self._curve_score(c)}, {self._positive(c)}"
                            for c in curves)
        labels = "".join(f", count_if(y = {j}) AS l{j}" for j in range(self.k)) \
            if multiclass else ""
        y = ", y" if multiclass else ""
        rows = (f"(SELECT stack({len(curves)}, {stacked}) AS (curve, score, label){y} "
                f"FROM data {self._where_selected})")
        return self._arrow(f"SELECT curve, min(score) AS score, count_if(label) AS pos, "
                           f"count(*) AS n{labels} FROM {rows} GROUP BY curve, {key}")

    def _binned(self, groups, n_distinct: int) -> CurveStats:
        values, pos, n = (groups.column(j).to_numpy() for j in (1, 2, 3))
        if self.conversion == "sigmoid":
            values = _sigmoid(values)
        return CurveStats.from_counts(values, pos, n - pos, exact=False,
                                      n_distinct=n_distinct)

    def _exact(self, groups, multiclass: bool) -> StreamResult:
        values = groups.column(1).to_numpy()
        order = np.argsort(values, kind="stable")
        values = values[order]
        pos = groups.column(2).to_numpy()[order]
        n = groups.column(3).to_numpy()[order]
        by_label = (np.column_stack([groups.column(4 + j).to_numpy()[order]
                                     for j in range(self.k)]) if multiclass else None)
        if self.conversion == "sigmoid":  # distinct logits may meet as probabilities
            values = _sigmoid(values)
            new = np.r_[True, values[1:] != values[:-1]]
            first = np.flatnonzero(new)
            values, pos, n = values[first], np.add.reduceat(pos, first), np.add.reduceat(n, first)
            by_label = None if by_label is None else np.add.reduceat(by_label, first)
        stats = CurveStats.from_counts(values, pos, n - pos, n_distinct=int(values.size))
        u2_by_label = None
        if by_label is not None:
            weight = stats.tp.astype(np.float64)  # tp_v + tp_v+1: see curves._u2_by_label
            weight[:-1] += weight[1:]
            u2_by_label = weight @ by_label
        return StreamResult(stats, stats.u2(), stats.ap(), u2_by_label)

    # ------------------------------------------------------------------ rows

    def _partials(self, count):
        rows = self._sql(self._row_query())
        kernel = partial(_count_partition, count=count, width=len(self._label_names),
                         class_names=self.class_names, task=self.task,
                         score_kind=self.score_kind)
        parts = self._run(lambda: rows.mapInArrow(kernel, "part binary").toArrow())
        for blob in parts.column(0).to_pylist():
            yield pickle.loads(blob)  # counts made by our own kernel on the executors


def _by_curve(groups, curves: Sequence[int]):
    """(curve, its rows of ``groups``) for each curve."""
    curve = groups.column(0).to_numpy()
    for c in curves:
        yield c, groups.filter(pa.array(curve == c))


def _count_partition(batches, *, count, width, class_names, task, score_kind):
    """On an executor: ``count`` of each Arrow batch of a partition, added, as one pickled
    value (no row leaves the executor)."""
    total = None
    for batch in batches:
        if batch.num_rows:
            part = count(predictions_of(batch, width, class_names, task, score_kind))
            total = part if total is None else total + part
    if total is not None:
        yield pa.RecordBatch.from_arrays([pa.array([pickle.dumps(total)], pa.binary())],
                                         names=["part"])


def _type_name(data_type) -> str:
    """Spark's type as the SQL engines name it (FLOAT, DOUBLE, VARCHAR, ...)."""
    name = data_type.simpleString()
    return {"float": "FLOAT", "double": "DOUBLE", "string": "VARCHAR"}.get(name, name.upper())


def _spark_message(error: BaseException) -> str:
    """Spark's message, first line, without its error class and SQLSTATE."""
    java = getattr(error, "java_exception", None)
    text = str(java.getMessage() if java is not None else error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    line = re.sub(r"\s*SQLSTATE: \w+\.?$", "", line)
    return re.sub(r"^\[[A-Z_.]+\]\s*", "", line).strip()
