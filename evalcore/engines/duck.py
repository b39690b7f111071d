"""DuckDB, the out-of-core engine on one machine: Parquet files (one, a glob, a directory) or a
CSV in the wide layout, evaluated by SQL under a memory limit, spilling to disk.

- **Detection** is :func:`evalcore.io.table_predictions` itself, run on a probe: the first
  ``PROBE_ROWS`` rows plus the first row of every distinct label, so that every class is seen.
  Then every row is checked in SQL (numbers in the score columns, finite, probabilities in
  [0, 1], no empty label, split or model; the first bad row is named as the in-memory reader
  names it) and the score kind is decided from aggregates over all rows
  (:func:`~evalcore.predictions.score_kind_of`).
- **Curves**: for each curve DuckDB sorts (score, label) and streams it to
  :class:`~evalcore.scorestats.SortedStream`: ROC AUC, AP and Hand & Till are exact at any size;
  the statistics behind thresholds and plots are exact up to ``budget`` distinct scores, else
  binned on one grid over [0, 1] (the CurveSet says so; thresholds are bin edges).
- **Rows** (the confusion matrix of any rule, accuracy, calibration): one scan in batches,
  each counted by the in-memory kernel (:class:`~evalcore.decisions.Tally`,
  :class:`~evalcore.calibration.CalibrationSums`), the counts added.

Logits: sigmoid scores are sorted by the logit and converted per batch by the same NumPy
function as in memory (a monotone map: identical results); softmax probabilities are computed
in SQL (IEEE doubles: equal to NumPy's up to the last bit of ``exp``).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from evalcore import io
from evalcore.calibration import Calibration, Strategy, calibration_of_batches
from evalcore.curves import CurveSet, DEFAULT_PLOT_POINTS, from_stats
from evalcore.decisions import Confusion, Decision, confusion_of_batches, as_decision
from evalcore.errors import InputError
from evalcore.predictions import (
    ROW_SUM_TOLERANCE, SIGMOID_SATURATION, Predictions, _sigmoid, ordered_groups, score_kind_of,
)
from evalcore.scorestats import DEFAULT_BUDGET, SortedStream, bin_edges

PROBE_ROWS = 20_000
MAX_LABELS = 100_000  # distinct label values (label sets of a multilabel column included)
MAX_GROUPS = 10_000  # distinct split x model values
BATCH_ROWS = 1 << 19
#: rows of the sample the app's sliders count on
SAMPLE_ROWS = 1_000_000
#: the default memory limit: this share of the machine's memory
MEMORY_FRACTION = 0.5


def memory_default() -> int:
    """Half the machine's physical memory, in bytes."""
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * MEMORY_FRACTION)


def dataset_files(paths: Sequence[str | Path]) -> tuple[str, list[str], str]:
    """(name for messages, files, format) of the PATH arguments: Parquet files, a glob, or a
    directory of Parquet files (searched recursively); or one CSV/TSV file."""
    files: list[str] = []
    for path in map(str, paths):
        if os.path.isdir(path):
            found = sorted(glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True))
            if not found:
                raise InputError(f"{path}: a directory without .parquet files")
            files += found
        elif any(ch in path for ch in "*?["):
            found = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
            if not found:
                raise InputError(f"{path}: no file matches")
            files += found
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise InputError(f"{path}: no such file")
    formats = {io.file_format(f) for f in files}
    name = ", ".join(map(str, paths))
    if formats == {"parquet"}:
        return name, files, "parquet"
    if formats <= {"csv", "tsv"} and len(files) == 1:
        return name, files, formats.pop()
    if formats <= {"csv", "tsv"}:
        raise InputError(f"{name}: one CSV at a time (or Parquet files, which may be many)")
    raise InputError(f"{name}: the duckdb engine reads Parquet files or one CSV/TSV, got "
                     f"{', '.join(sorted('.' + f for f in formats))}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Info:
    """What the engine knows of the selected rows without holding them (as Predictions says
    it of rows in memory)."""

    class_names: tuple[str, ...]
    task: str
    score_kind: str
    conversion: str | None
    notes: tuple[str, ...]
    n_samples: int
    splits: tuple[str, ...] = ()
    models: tuple[str, ...] = ()

    @property
    def curve_names(self) -> tuple[str, ...]:
        return self.class_names[1:] if self.task == "binary" else self.class_names


@dataclass
class DuckDataset:
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
    predictions = None  # the rows are never all in memory

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
        self._split = self._model = None
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ life cycle

    def close(self) -> None:
        con = getattr(self, "con", None)
        if con is not None:
            con.close()
            self.con = None
        shutil.rmtree(self._spill, ignore_errors=True)

    def __enter__(self) -> DuckDataset:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def sql(self, query: str):
        """Run ``query``; DuckDB's errors become one line naming the data."""
        try:
            return self.con.sql(query)
        except self._duckdb.Error as error:
            raise InputError(f"{self.name}: {_duck_message(error)}") from None

    def _rows(self, query: str) -> list[tuple]:
        try:
            return self.sql(query).fetchall()
        except self._duckdb.Error as error:
            raise InputError(f"{self.name}: {_duck_message(error)}") from None

    # ------------------------------------------------------------------ reading

    def _source(self) -> str:
        files = "[" + ", ".join(_text(f) for f in self.files) + "]"
        if self.format == "parquet":
            return f"read_parquet({files})"
        head = Path(self.files[0]).read_bytes()[:65536]
        if b"\x00" in head:
            raise InputError(f"{self.name}: a binary file, not {self.format.upper()} text")
        delimiter = "\t" if self.format == "tsv" else io._delimiter(head)
        encoding = "utf-8" if io._is_utf8(head[: head.rfind(b"\n") + 1] or head) else "latin-1"
        return (f"read_csv({files}, header = true, delim = {_text(delimiter)}, "
                f"encoding = {_text(encoding)}, sample_size = {PROBE_ROWS})")

    def _open(self) -> None:
        source = self._source()
        self.sql(f"CREATE VIEW src AS SELECT * FROM {source}")
        relation = self.sql("SELECT * FROM src LIMIT 0")
        raw = list(relation.columns)
        stripped = [c.strip() for c in raw]
        if len(set(stripped)) != len(stripped):
            twice = next(c for c in stripped if stripped.count(c) > 1)
            raise InputError(f"{self.name}: duplicate column name {twice!r}")
        self.column = dict(zip(stripped, raw))  # stripped name -> the name in SQL
        self.types = {s: str(t) for s, t in zip(stripped, relation.types)}
        row = ("file_row_number" if self.format == "parquet" else "row_number() OVER () - 1")
        self.sql(f"CREATE VIEW located AS SELECT filename AS __file, {row} AS __row, * "
                 f"FROM {source}")
        n = self._rows("SELECT count(*) FROM src")[0][0]
        if n == 0:
            raise InputError(f"{self.name}: has a header but no data rows")
        self.n_rows = n
        loaded = self._detect()
        self.layout = loaded.layout
        self.probe = loaded.predictions
        self._define_data()
        self._check_rows()

    def _probe(self, where: str | None = None) -> pd.DataFrame:
        """Rows of ``located`` as the in-memory reader gets them (pyarrow -> pandas)."""
        query = f"SELECT * FROM located {'WHERE ' + where if where else ''} LIMIT {PROBE_ROWS}"
        try:
            frame = self.sql(query).to_arrow_table().to_pandas()
        except self._duckdb.Error as error:
            raise InputError(f"{self.name}: {_duck_message(error)}") from None
        return frame

    def _detect(self) -> io.Loaded:
        frame = self._probe()
        loaded = self._table(frame)
        self._probe_keys = None
        label = loaded.layout.label_column
        if label is None:
            return loaded
        # the label's text as DuckDB writes it, the key of the label codes joined to every row
        key = f"CAST({_quote(self.column[label])} AS VARCHAR)"
        keys = [k for (k,) in self._rows(f"SELECT {key} FROM located LIMIT {PROBE_ROWS}")]
        distinct = [k for (k,) in self._rows(f"SELECT DISTINCT {key} FROM src "
                                             f"LIMIT {MAX_LABELS + 1}")]
        if len(distinct) > MAX_LABELS:
            raise InputError(f"{self.name}: label column {label!r} holds more than "
                             f"{MAX_LABELS} distinct values")
        missing = set(distinct) - set(keys)
        if missing:  # the first row of each label the probe has not seen
            conditions = []
            if missing - {None}:
                conditions.append(f"{key} IN ({', '.join(_text(k) for k in missing - {None})})")
            if None in missing:
                conditions.append(f"{key} IS NULL")
            extra = self.sql(
                f"SELECT {key} AS __key, * FROM located WHERE {' OR '.join(conditions)} "
                f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY __file, __row) = 1"
            ).to_arrow_table().to_pandas()
            keys += extra.pop("__key").tolist()
            frame = pd.concat([frame, extra], ignore_index=True)
            loaded = self._table(frame)
        self._probe_keys = keys
        return loaded

    def _table(self, frame: pd.DataFrame) -> io.Loaded:
        files, rows = frame["__file"].tolist(), frame["__row"].tolist()
        data = frame.drop(columns=["__file", "__row"])
        data.columns = [c.strip() for c in data.columns]
        many = len(self.files) > 1

        def where(i: int) -> str:
            return self._where(files[i], int(rows[i]), many)

        return io.table_predictions(data, self.mapping, name=self.name, fmt=self.format,
                                    where=where)

    def _where(self, file: str, row: int, many: bool | None = None) -> str:
        many = len(self.files) > 1 if many is None else many
        line = f" (line {row + 2})" if self.format in ("csv", "tsv") else ""
        return (f"file {os.path.basename(file)!r}, " if many else "") + f"row {row + 1}{line}"

    # ------------------------------------------------------------------ the data view

    def _define_data(self) -> None:
        """The view ``data``: y (class index; multilabel y0..), raw scores s0.., split,
        model, in SQL types the in-memory reader would give."""
        layout, p = self.layout, self.probe
        self.task = p.task
        self.class_names = p.class_names
        columns = [self.column[c] for c in layout.score_columns]
        self.score_columns = list(layout.score_columns)
        floats = all(self.types[c] == "FLOAT" for c in layout.score_columns)
        self.score_type = "FLOAT" if floats else "DOUBLE"
        scores = [f"{self._number(c)} AS s{j}, {_quote(c)} AS r{j}" for j, c in enumerate(columns)]
        self.k = len(columns)
        self.labels_select, join = self._label_sql()
        groups = []
        for what in ("split", "model"):
            column = getattr(layout, f"{what}_column")
            groups.append(f"trim(CAST({_quote(self.column[column])} AS VARCHAR)) AS {what}"
                          if column else f"NULL::VARCHAR AS {what}")
        self.sql(
            f"CREATE VIEW data AS SELECT {self.labels_select}, {', '.join(scores)}, "
            f"{', '.join(groups)}, __file, __row FROM located{join}")

    def _number(self, column: str) -> str:
        """SQL of a score column as a number: text only when it is a plain ASCII number (as
        the in-memory reader: "0x10", "1,5" or an Arabic digit are text), else NULL."""
        raw = _quote(column)
        if self.types[column.strip()] != "VARCHAR":
            return f"TRY_CAST({raw} AS {self.score_type})"
        return (f"CASE WHEN regexp_full_match(trim({raw}), {_text(io.NUMBER_TEXT)}) "
                f"THEN CAST(trim({raw}) AS DOUBLE) END")

    def _label_sql(self) -> tuple[str, str]:
        """(the label columns of ``data``, a join with the label codes or '')."""
        layout, p = self.layout, self.probe
        if layout.indicator_columns:
            return ", ".join(
                f"TRY_CAST({_quote(self.column[c])} AS DOUBLE) AS y{j}"
                for j, c in enumerate(layout.indicator_columns)), ""
        codes = pd.DataFrame({"__key": pd.array(self._probe_keys, dtype="string")})
        if p.task == "multilabel":
            for j in range(len(p.class_names)):
                codes[f"y{j}"] = p.y_true[:, j].astype(np.float64)
            picks = ", ".join(f"codes.y{j} AS y{j}" for j in range(len(p.class_names)))
        else:
            codes["y"] = p.y_true.astype(np.int64)
            picks = "codes.y AS y"
        codes = codes.drop_duplicates("__key")
        self.con.register("label_codes", codes)
        self.sql("CREATE TABLE codes AS SELECT * FROM label_codes")
        self.con.unregister("label_codes")
        label = _quote(self.column[layout.label_column])
        return picks, (f" LEFT JOIN codes ON CAST(located.{label} AS VARCHAR) IS NOT DISTINCT "
                       "FROM codes.__key")

    @property
    def _label_names(self) -> list[str]:
        return ([f"y{j}" for j in range(len(self.class_names))] if self.task == "multilabel"
                else ["y"])

    def _check_rows(self) -> None:
        """Every row as the in-memory reader checks it; the score kind from all rows."""
        s = [f"s{j}" for j in range(self.k)]
        checks = {}
        for j, column in enumerate(self.score_columns):
            raw = f"r{j}"
            blank = f" OR trim({raw}) = ''" if self.types[column] == "VARCHAR" else ""
            checks[f"text{j}"] = f"{raw} IS NOT NULL AND {s[j]} IS NULL AND NOT (false{blank})"
            checks[f"missing{j}"] = f"{raw} IS NULL OR isnan({s[j]}) OR isinf({s[j]}){blank}"
        for name in self._label_names:
            checks[f"label_{name}"] = f"{name} IS NULL" + (
                f" OR {name} NOT IN (0, 1)" if self.task == "multilabel" else "")
        for what in ("split", "model"):
            if getattr(self.layout, f"{what}_column"):
                checks[what] = f"{what} IS NULL OR {what} = ''"
        total = " + ".join(s)
        aggregates = [f"count(*) FILTER (WHERE {c}) AS {k}" for k, c in checks.items()]
        aggregates += [f"min({c}) AS min{j}, max({c}) AS max{j}" for j, c in enumerate(s)]
        aggregates.append(f"max(abs(({total})::DOUBLE - 1)) AS sum_error")
        result = self.sql(f"SELECT {', '.join(aggregates)} FROM data")
        values = dict(zip(result.columns, result.fetchall()[0]))
        for key, condition in checks.items():
            if values[key]:
                self._refuse(key, condition)
        low = min(values[f"min{j}"] for j in range(self.k))
        high = max(values[f"max{j}"] for j in range(self.k))
        for j, column in enumerate(self.score_columns):
            prefix = io._strip_prefix(column)[1]
            if (prefix in io.PROBABILITY_PREFIXES and self.mapping.score_kind != "logit"
                    and (values[f"min{j}"] < 0 or values[f"max{j}"] > 1)):
                self._refuse_range(j, column, values[f"max{j}"])
        claimed = self.mapping.score_kind or (
            "logit" if {io._strip_prefix(c)[1] for c in self.score_columns} == {"logit_"}
            else None)
        in_unit = low >= 0 and high <= 1
        if claimed == "probability" and not in_unit:
            self._refuse_range(None, None, high)
        self.score_kind, self.conversion, self.notes = score_kind_of(
            in_unit=in_unit, sums_to_one=in_unit and values["sum_error"] <= ROW_SUM_TOLERANCE,
            saturated=high > SIGMOID_SATURATION, task=self.task, n_columns=self.k,
            claimed=claimed)
        if self.task == "binary" and self.k == 2:
            self.notes += (f"binary: column 2 of y_score is the positive class "
                           f"{self.class_names[1]!r}",)

    def _located(self, condition: str) -> tuple[dict, str]:
        result = self.sql(f"SELECT * FROM data WHERE {condition} ORDER BY __file, __row LIMIT 1")
        row = dict(zip(result.columns, result.fetchall()[0]))
        return row, self._where(row["__file"], int(row["__row"]))

    def _refuse(self, key: str, condition: str) -> None:
        row, where = self._located(condition)
        if key.startswith(("text", "missing")):
            j = int(key.removeprefix("text").removeprefix("missing"))
            column = self.score_columns[j]
            raw = row[f"r{j}"]
            if key.startswith("text"):
                raise InputError(f"{self.name}: score column {column!r}, {where}: {raw!r} is "
                                 "not a number")
            value = row[f"s{j}"]
            what = "is empty" if value is None or value != value else f"is {value}"
            raise InputError(f"{self.name}: score column {column!r}, {where}: {what}, "
                             "expected a finite number")
        if key.startswith("label_"):
            if self.layout.indicator_columns:
                j = int(key.removeprefix("label_y"))
                column = self.layout.indicator_columns[j]
                raise InputError(f"{self.name}: indicator column {column!r}, {where}: "
                                 f"{row[f'y{j}']} is not 0 or 1")
            raise InputError(f"{self.name}: label column {self.layout.label_column!r}, "
                             f"{where}: is empty")
        column = getattr(self.layout, f"{key}_column")
        raise InputError(f"{self.name}: column {column!r}, {where}: is empty")

    def _refuse_range(self, j: int | None, column: str | None, top: float) -> None:
        if j is None:
            outside = " OR ".join(f"s{i} < 0 OR s{i} > 1" for i in range(self.k))
            row, where = self._located(outside)
            raise InputError(f"{self.name}: --score-kind probability but {where} holds a score "
                             "outside [0, 1]")
        row, where = self._located(f"s{j} < 0 OR s{j} > 1")
        value = row[f"s{j}"]
        hint = " (percentages? divide by 100)" if 1.5 < top <= 100 and value > 1 else ""
        raise InputError(
            f"{self.name}: score column {column!r}, {where}: {value!r} is outside [0, 1], "
            f"expected a probability{hint}; for logits name the columns logit_<class> or say "
            "--score-kind logit")

    # ------------------------------------------------------------------ selection

    @cached_property
    def _groups(self) -> list[tuple[str | None, str | None, int]]:
        rows = self._rows(
            "SELECT split, model, count(*), min(__file), min(__row) FROM data GROUP BY ALL "
            f"ORDER BY min(__file), min(__row) LIMIT {MAX_GROUPS + 1}")
        if len(rows) > MAX_GROUPS:
            raise InputError(f"{self.name}: more than {MAX_GROUPS} split x model values")
        return [(s, m, n) for s, m, n, _, _ in rows]

    @property
    def splits(self) -> tuple[str, ...]:
        if not self.layout.split_column:
            return ()
        return ordered_groups(list(dict.fromkeys(s for s, _, _ in self._groups)))

    @property
    def models(self) -> tuple[str, ...]:
        if not self.layout.model_column:
            return ()
        return tuple(dict.fromkeys(m for _, m, _ in self._groups))

    def select(self, split: str | None = None, model: str | None = None) -> DuckDataset:
        """Evaluate one split and model from now on, chosen as :meth:`Loaded.select` does:
        by default the ``test`` split when there is one, and the first model with rows in
        it. InputError for an empty choice."""
        splits, models = self.splits, self.models
        if split is None and io.DEFAULT_SPLIT in splits:
            split = io.DEFAULT_SPLIT
        for what, value, values in (("split", split, splits), ("model", model, models)):
            if value is not None and value not in values:
                have = f"one of {list(values)}" if values else f"no {what} column"
                raise InputError(f"no {what} {value!r}: the data has {have}")
        if model is None and models:
            in_split = [m for m in models if split is None
                        or any(s == split and g == m for s, g, _ in self._groups)]
            model = (in_split or list(models))[0]
        n = sum(c for s, m, c in self._groups
                if (split is None or s == split) and (model is None or m == model))
        if not n:
            chosen = " and ".join(f"{c} {v!r}" for c, v in (("split", split), ("model", model))
                                  if v is not None)
            raise InputError(f"no rows for {chosen}: that combination is not in the data")
        self._split, self._model = split, model
        self.__dict__.pop("info", None)
        self.__dict__.pop("_totals", None)
        return self

    @property
    def _where_selected(self) -> str:
        parts = [f"{what} = {_text(v)}" for what, v in (("split", self._split),
                                                         ("model", self._model)) if v is not None]
        return ("WHERE " + " AND ".join(parts)) if parts else ""

    @cached_property
    def info(self) -> Info:
        """Class names, task, score kind and the number of rows of the selection."""
        n = self._rows(f"SELECT count(*) FROM data {self._where_selected}")[0][0]
        return Info(self.class_names, self.task, self.score_kind, self.conversion, self.notes,
                    n, self.splits if self._split is None else (self._split,),
                    self.models if self._model is None else (self._model,))

    def describe(self) -> str:
        """One line, as :meth:`Layout.describe` (the in-memory reader's)."""
        layout = io.Layout(**{**self.layout.__dict__, "n_rows": self.n_rows})
        shown = Info(self.class_names, self.task, self.score_kind, self.conversion, self.notes,
                     self.n_rows, self.splits, self.models)
        return layout.describe(shown) + "; engine: duckdb"

    # ------------------------------------------------------------------ statistics

    def _curve_score(self, c: int) -> str:
        """SQL of curve c's score: the probability, or the logit a sigmoid maps monotonically
        (converted per batch in NumPy), or a softmax probability."""
        column = c + 1 if self.task == "binary" and self.k == 2 else c
        if self.conversion != "softmax":
            return f"s{column}"
        top = f"greatest({', '.join(f's{j}' for j in range(self.k))})::DOUBLE"
        total = " + ".join(f"exp(s{j} - {top})" for j in range(self.k))
        return f"exp(s{column} - {top}) / ({total})"

    def _positive(self, c: int) -> str:
        if self.task == "multilabel":
            return f"y{c} = 1"
        return "y = 1" if self.task == "binary" else f"y = {c}"

    @cached_property
    def _totals(self) -> np.ndarray:
        """Positives of each curve in the selection."""
        sums = ", ".join(f"count(*) FILTER (WHERE {self._positive(c)})"
                         for c in range(len(self.info.curve_names)))
        return np.array(self._rows(f"SELECT {sums} FROM data {self._where_selected}")[0])

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

    # ------------------------------------------------------------------ rows in batches

    def batches(self, limit: int | None = None, *, source: str | None = None
                ) -> Iterator[Predictions]:
        """The selected rows (or those of the query ``source`` over ``data``), a batch at a
        time, as Predictions with the dataset's classes, task and score kind (logits converted
        by the in-memory code)."""
        labels = ", ".join(self._label_names)
        scores = ", ".join(f"s{j}" for j in range(self.k))
        query = f"SELECT {labels}, {scores} FROM {source or 'data ' + self._where_selected}"
        if limit:
            query += f" LIMIT {limit}"
        width = len(self._label_names)
        for batch in self._stream(query):
            arrays = [batch.column(j).to_numpy(zero_copy_only=False) for j in range(batch.num_columns)]
            if self.task == "multilabel":
                y = np.column_stack(arrays[:width]) == 1
            else:
                y = arrays[0].astype(np.int64)
            scores_ = np.column_stack(arrays[width:])
            yield Predictions.from_arrays(y, scores_, class_names=self.class_names,
                                          task=self.task, score_kind=self.score_kind)

    def confusion(self, rule: str | Decision | None = None, thresholds=0.5, *,
                  zero_division: float | None = 0.0) -> Confusion:
        """The matrix of any decision rule: one scan, each batch counted by the kernel."""
        decision = rule if isinstance(rule, Decision) else as_decision(
            self.sample(), rule, thresholds)
        return confusion_of_batches(self.batches(), decision, zero_division=zero_division)

    def sample(self) -> Predictions:
        """A few rows with the dataset's classes and task (to build a Decision on)."""
        return next(self.batches(limit=1000))

    def stratified_sample(self, n: int = SAMPLE_ROWS, seed: int = 0) -> Predictions:
        """About ``n`` of the selected rows, each true label in its share of the data (every
        row when there are fewer): one scan, rows kept by a seeded hash of their position, so
        the same data and seed give the same sample. Multilabel rows: a uniform sample."""
        quota = _quotas(self._label_counts(), n)
        rates = {y: min(1.0, (q + 5 * q ** 0.5 + 10) / m) for y, (q, m) in quota.items()}
        key = "NULL" if self.task == "multilabel" else "y"
        cases = " ".join(f"WHEN {key} {'IS NULL' if y is None else '= ' + str(y)} "
                         f"THEN {rate!r}" for y, rate in rates.items())
        limits = " ".join(f"WHEN {key} {'IS NULL' if y is None else '= ' + str(y)} THEN {q}"
                          for y, (q, _) in quota.items())
        h = f"hash(__file, __row, {int(seed)})"
        where = self._where_selected or "WHERE true"
        drawn = (f"(SELECT * FROM (SELECT *, {h} AS __h, CASE {cases} END AS __rate FROM data "
                 f"{where}) WHERE __rate >= 1 OR __h::DOUBLE < __rate * 18446744073709551616.0)")
        source = (f"(SELECT * FROM {drawn} QUALIFY row_number() OVER "
                  f"(PARTITION BY {key} ORDER BY __h, __file, __row) <= CASE {limits} END "
                  "ORDER BY __file, __row)")
        parts = list(self.batches(source=source))
        if not parts:
            return next(self.batches(limit=1))
        if len(parts) == 1:
            return parts[0]
        return replace(parts[0], y_true=np.concatenate([p.y_true for p in parts]),
                       scores=np.concatenate([p.scores for p in parts]))

    def _label_counts(self) -> dict:
        """Rows of each true label in the selection (one key, None, for multilabel data)."""
        if self.task == "multilabel":
            return {None: self.info.n_samples}
        return dict(self._rows(f"SELECT y, count(*) FROM data {self._where_selected} "
                               "GROUP BY y ORDER BY y"))

    def calibration(self, *, bins: int = 10, strategy: Strategy = "uniform") -> Calibration:
        edges = self._quantile_edges(bins) if strategy == "quantile" else None
        return calibration_of_batches(self.batches(), bins=bins, strategy=strategy, edges=edges)

    def _quantile_edges(self, bins: int) -> list[np.ndarray | None]:
        """Each curve's and the top label's equal-mass edges, exact (DuckDB's quantile_cont:
        linear interpolation between order statistics, as np.percentile)."""
        q = ", ".join(repr(float(x)) for x in np.linspace(0, 1, bins + 1))
        scores = [self._curve_score(c) for c in range(len(self.info.curve_names))]
        if self.conversion == "sigmoid":  # the probability scale (NumPy's sigmoid per batch)
            raise InputError("quantile bins of sigmoid logits: use --strategy uniform with the "
                             "duckdb engine")
        top = None
        if self.task == "multiclass":
            top = f"greatest({', '.join(self._curve_score(c) for c in range(self.k))})"
        elif self.task == "binary":
            top = f"greatest({scores[0]}, 1 - {scores[0]})"
        exprs = [f"quantile_cont({s}, [{q}])" for s in scores + ([top] if top else [])]
        row = self._rows(f"SELECT {', '.join(exprs)} FROM data {self._where_selected}")[0]
        edges = [np.array(v, dtype=np.float64) for v in row]
        return edges + ([] if top else [None])

    def accuracy(self) -> float:
        """The headline accuracy (:func:`evalcore.decisions.accuracy`), from one scan."""
        return self.confusion().accuracy


def _quotas(counts: dict, n: int) -> dict:
    """{label: (rows to draw, rows there are)}: ``n`` shared in proportion to the counts
    (largest remainders), never more than a label has.

    >>> _quotas({0: 900, 1: 100}, 10)
    {0: (9, 900), 1: (1, 100)}
    """
    total = sum(counts.values())
    if total <= n:
        return {y: (m, m) for y, m in counts.items()}
    exact = {y: n * m / total for y, m in counts.items()}
    quota = {y: int(e) for y, e in exact.items()}
    for y in sorted(exact, key=lambda y: quota[y] - exact[y])[: n - sum(quota.values())]:
        quota[y] += 1
    return {y: (min(quota[y], m), m) for y, m in counts.items()}


def _duck_message(error: BaseException) -> str:
    """DuckDB's message, first line, without its error class."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return re.sub(r"^[A-Za-z ]*Error: ", "", text)
