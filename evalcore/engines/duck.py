"""DuckDB, the out-of-core engine on one machine: Parquet files (one, a glob, a directory) or a
CSV in the wide layout, evaluated by SQL under a memory limit, spilling to disk. Detection and
the row checks are the SQL engines' (:mod:`evalcore.engines.sql`).

- **Curves**: for each curve DuckDB sorts (score, label) and streams it to
  :class:`~evalcore.scorestats.SortedStream`: ROC AUC, AP and Hand & Till are exact at any size;
  the statistics behind thresholds and plots are exact up to ``budget`` distinct scores, else
  binned on one grid over [0, 1] (the CurveSet says so; thresholds are bin edges).
- **Rows** (the confusion matrix of any rule, accuracy, calibration): one scan in batches,
  each counted by the in-memory kernel, the counts added.

Logits: sigmoid scores are sorted by the logit and converted per batch by the same NumPy
function as in memory (a monotone map: identical results); softmax probabilities are computed
in SQL (IEEE doubles: equal to NumPy's up to the last bit of ``exp``).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from evalcore import io
from evalcore.curves import CurveSet, DEFAULT_PLOT_POINTS, from_stats
from evalcore.errors import InputError
from evalcore.predictions import _sigmoid
from evalcore.scorestats import DEFAULT_BUDGET, SortedStream, bin_edges
from evalcore.engines import sql
from evalcore.engines.sql import SqlDataset, dataset_files

BATCH_ROWS = 1 << 19
#: the default memory limit: this share of the machine's memory
MEMORY_FRACTION = 0.5


def memory_default() -> int:
    """Half the machine's physical memory, in bytes.

    >>> import os
    >>> memory_default() == int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.5)
    True
    """
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * MEMORY_FRACTION)


@dataclass
class DuckDataset(SqlDataset):
    """Prediction files evaluated by DuckDB. ``memory_limit`` in bytes (default
    :func:`memory_default`); ``budget``: distinct scores a curve keeps exactly.

    >>> import tempfile, pandas as pd
    >>> path = tempfile.mkdtemp() + "/p.parquet"
    >>> pd.DataFrame({"label": [0, 0, 1, 1], "score": [0.1, 0.4, 0.35, 0.8]}).to_parquet(path)
    >>> with DuckDataset([path]) as data:
    ...     data.curves().classes[0].roc_auc
    0.75
    """

    engine = "duckdb"

    paths: Sequence[str | Path]
    mapping: io.Mapping = field(default_factory=io.Mapping)
    memory_limit: int | None = None
    budget: int = DEFAULT_BUDGET
    threads: int | None = None

    def __post_init__(self) -> None:
        import duckdb

        self._duckdb = duckdb
        self.name, self.files, self.format = dataset_files(self.paths)
        limit = self.memory_limit or memory_default()
        self._spill = tempfile.mkdtemp(prefix="evalcore-duckdb-")
        config = {"memory_limit": f"{max(limit >> 20, 64)}MiB", "temp_directory": self._spill,
                  "preserve_insertion_order": "true"}
        if self.threads:
            config["threads"] = str(self.threads)
        self.con = duckdb.connect(config=config)
        self._open()

    # ------------------------------------------------------------------ life cycle

    def close(self) -> None:
        con = getattr(self, "con", None)
        if con is not None:
            con.close()
            self.con = None
        shutil.rmtree(self._spill, ignore_errors=True)

    # ------------------------------------------------------------------ the dialect

    def _run(self, query: str, fetch):
        """``fetch`` of the relation of ``query``; DuckDB's errors become one line naming
        the data."""
        try:
            return fetch(self.con.sql(query))
        except self._duckdb.Error as error:
            raise InputError(f"{self.name}: {_duck_message(error)}") from None

    def _rows(self, query: str) -> list[tuple]:
        return self._run(query, lambda r: r.fetchall())

    def _arrow(self, query: str):
        return self._run(query, lambda r: r.to_arrow_table())

    def _view(self, name: str, query: str) -> None:
        self._run(f"CREATE VIEW {name} AS {query}", lambda r: None)

    def _table_from(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register("__frame", frame)
        self._run(f"CREATE TABLE {name} AS SELECT * FROM __frame", lambda r: None)
        self.con.unregister("__frame")

    def full_match(self, expr: str, pattern: str) -> str:
        return f"regexp_full_match({expr}, {self.lit(pattern)})"

    def unit_hash(self, exprs: str) -> str:
        return f"(CAST(hash({exprs}) AS DOUBLE) / 18446744073709551616.0)"

    def quantiles(self, expr: str, qs: Sequence[float]) -> str:
        return f"quantile_cont({expr}, [{', '.join(map(repr, qs))}])"

    def _create_sources(self) -> tuple[list[str], list[str]]:
        files = "[" + ", ".join(self.lit(f) for f in self.files) + "]"
        if self.format == "parquet":
            source = f"read_parquet({files})"
        else:
            head = Path(self.files[0]).read_bytes()[:65536]
            if b"\x00" in head:
                raise InputError(f"{self.name}: a binary file, not {self.format.upper()} text")
            delimiter = "\t" if self.format == "tsv" else io._delimiter(head)
            utf8 = io._is_utf8(head[: head.rfind(b"\n") + 1] or head)
            source = (f"read_csv({files}, header = true, delim = {self.lit(delimiter)}, "
                      f"encoding = {self.lit('utf-8' if utf8 else 'latin-1')}, "
                      f"sample_size = {sql.PROBE_ROWS})")
        self._view("src", f"SELECT * FROM {source}")
        row = "file_row_number" if self.format == "parquet" else "row_number() OVER () - 1"
        self._view("located", f"SELECT filename AS __file, {row} AS __row, * FROM {source}")
        return self._run("SELECT * FROM src LIMIT 0",
                         lambda r: (list(r.columns), [str(t) for t in r.types]))

    # ------------------------------------------------------------------ statistics

    def _stream(self, query: str) -> Iterator:
        try:
            reader = self.con.sql(query).to_arrow_reader(BATCH_ROWS)
            for batch in reader:
                yield batch
        except self._duckdb.Error as error:
            raise InputError(f"{self.name}: {_duck_message(error)}") from None

    def curves(self, *, plot_points: int = DEFAULT_PLOT_POINTS,
               progress: Callable[[int, int], None] | None = None) -> CurveSet:
        """Every curve's statistics and exact figures (see the module docstring);
        ``progress(done, total)`` after each curve."""
        info, n = self.info, self.info.n_samples
        multiclass = self.task == "multiclass"
        edges = bin_edges(0.0, 1.0, self.budget)
        results = []
        for c in range(len(info.curve_names)):
            label = "y" if multiclass else self._positive(c)
            stream = SortedStream(int(self._totals[c]), n, budget=self.budget, edges=edges,
                                  n_labels=self.k if multiclass else None)
            query = (f"SELECT {self._curve_score(c)} AS score, {label} AS label FROM data "
                     f"{self._where_selected} ORDER BY score")
            for batch in self._stream(query):
                values = batch.column(0).to_numpy()
                if self.conversion == "sigmoid":
                    values = _sigmoid(values)
                labels = batch.column(1).to_numpy(zero_copy_only=False)
                if multiclass:
                    labels = labels.astype(np.int64)
                    stream.add(values, labels == c, labels)
                else:
                    stream.add(values, labels.astype(bool))
            results.append(stream.result())
            if progress is not None:
                progress(c + 1, len(info.curve_names))
        # the micro average: merged from exact statistics, else every cell sorted once
        binned = len(results) > 1 and not all(r.stats.exact for r in results)
        return from_stats(tuple(results), class_names=self.class_names, task=self.task,
                          score_kind=self.score_kind, n_samples=n,
                          micro=self._micro(edges) if binned else None,
                          plot_points=plot_points,
                          label_sizes=self._totals if multiclass else None)

    def _micro(self, edges: np.ndarray):
        """The micro average of curves whose statistics were binned: every cell sorted once."""
        parts = " UNION ALL ".join(
            f"SELECT {self._curve_score(c)} AS score, ({self._positive(c)}) AS label FROM data "
            f"{self._where_selected}" for c in range(len(self.info.curve_names)))
        n = self.info.n_samples * len(self.info.curve_names)
        stream = SortedStream(int(self._totals.sum()), n, budget=self.budget, edges=edges)
        for batch in self._stream(f"SELECT score, label FROM ({parts}) ORDER BY score"):
            values = batch.column(0).to_numpy()
            if self.conversion == "sigmoid":
                values = _sigmoid(values)
            stream.add(values, batch.column(1).to_numpy(zero_copy_only=False).astype(bool))
        return stream.result()

    def _partials(self, count):
        for batch in self._stream(self._row_query()):
            yield count(self._predictions(batch))


def _duck_message(error: BaseException) -> str:
    """DuckDB's message, first line, without its error class."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return re.sub(r"^[A-Za-z ]*Error: ", "", text)
