"""The engines that evaluate tables by SQL (DuckDB on one machine, Spark on a cluster): what
they share. An engine subclasses :class:`SqlDataset` and says how to run a query and how its
dialect spells a few things; everything else is written once here.

- **Detection** is :func:`evalcore.io.table_predictions` itself, run on a probe: the first
  ``PROBE_ROWS`` rows plus the first row of every distinct label, so that every class is seen.
  Then every row is checked in SQL (numbers in the score columns, finite, probabilities in
  [0, 1], no empty label, split or model; the first bad row is named as the in-memory reader
  names it) and the score kind is decided from aggregates over all rows
  (:func:`~evalcore.predictions.score_kind_of`).
- The view ``data`` then holds y (a class index; multilabel y0..), the scores s0.. (and the
  raw cells r0..), split, model, ``__file`` and ``__row``; each engine counts its statistics
  from it (see its module).
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Callable, Iterable, Sequence, TypeVar

import numpy as np
import pandas as pd

from evalcore import io
from evalcore.calibration import (
    Calibration, CalibrationSums, Strategy, _check_bins, _check_strategy,
)
from evalcore.decisions import Confusion, Decision, Tally, as_decision
from evalcore.errors import InputError
from evalcore.predictions import (
    ROW_SUM_TOLERANCE, SIGMOID_SATURATION, Predictions, ordered_groups, score_kind_of,
)

PROBE_ROWS = 20_000
MAX_LABELS = 100_000  # distinct label values (label sets of a multilabel column included)
MAX_GROUPS = 10_000  # distinct split x model values
#: rows of the sample the app's sliders count on
SAMPLE_ROWS = 1_000_000

T = TypeVar("T")


def dataset_files(paths: Sequence[str | Path], engine: str = "duckdb"
                  ) -> tuple[str, list[str], str]:
    """(name for messages, files, format) of the PATH arguments: Parquet files, a glob, or a
    directory of Parquet files (searched recursively); or one CSV/TSV file.

    >>> import os, tempfile, pandas as pd
    >>> folder = tempfile.mkdtemp()
    >>> for i in range(2):   # a directory of Parquet parts
    ...     frame = pd.DataFrame({"label": [0, 1], "score": [0.2, 0.7]})
    ...     frame.to_parquet(f"{folder}/part-{i}.parquet")
    >>> name, files, fmt = dataset_files([folder])
    >>> [os.path.basename(f) for f in files], fmt
    (['part-0.parquet', 'part-1.parquet'], 'parquet')
    """
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
    raise InputError(f"{name}: the {engine} engine reads Parquet files or one CSV/TSV, got "
                     f"{', '.join(sorted('.' + f for f in formats))}")


@dataclass(frozen=True)
class Info:
    """What the engine knows of the selected rows without holding them (as Predictions says
    it of rows in memory).

    >>> import tempfile, pandas as pd
    >>> from evalcore.engines.duck import DuckDataset
    >>> path = tempfile.mkdtemp() + "/preds.csv"
    >>> pd.DataFrame({"label": ["cat", "dog", "dog", "cat"],
    ...               "prob_dog": [0.2, 0.9, 0.6, 0.7]}).to_csv(path, index=False)
    >>> with DuckDataset([path]) as data:
    ...     info = data.info
    >>> info.class_names, info.task, info.n_samples, info.curve_names
    (('cat', 'dog'), 'binary', 4, ('dog',))
    """

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



class SqlDataset:
    """Rows behind an SQL engine, in the wide layout. A subclass sets ``name``, ``files``,
    ``format``, ``mapping`` and ``budget``, defines the views ``src`` (the table as read)
    and ``located`` (``__file``, ``__row`` and every column of ``src``) in
    :meth:`_create_sources`, runs queries (:meth:`_rows`, :meth:`_arrow`) and spells its
    dialect (:meth:`q`, :meth:`lit`, :meth:`full_match`, :meth:`unit_hash`,
    :meth:`quantiles`); then calls :meth:`_open`.

    >>> import tempfile, pandas as pd
    >>> from evalcore.engines.duck import DuckDataset   # a SqlDataset
    >>> path = tempfile.mkdtemp() + "/preds.csv"
    >>> pd.DataFrame({"label": ["cat", "dog", "dog", "cat"],
    ...               "prob_dog": [0.2, 0.9, 0.6, 0.7]}).to_csv(path, index=False)
    >>> with DuckDataset([path]) as data:   # counted in SQL, the rows never all in memory
    ...     data.confusion().accuracy, data.curves().roc_auc.macro
    (0.75, 0.75)
    """

    TEXT = "VARCHAR"  # the dialect's text type
    engine: str
    predictions = None  # the rows are never all in memory
    name: str
    files: list[str]
    format: str
    mapping: io.Mapping
    budget: int

    # ------------------------------------------------------------------ what an engine says

    def _create_sources(self) -> tuple[list[str], list[str]]:
        """Define the views ``src`` and ``located``; (column names, types as FLOAT, DOUBLE,
        VARCHAR or other names)."""
        raise NotImplementedError

    def _rows(self, query: str) -> list[tuple]:
        raise NotImplementedError

    def _arrow(self, query: str):
        """The result as one pyarrow Table."""
        raise NotImplementedError

    def _view(self, name: str, query: str) -> None:
        raise NotImplementedError

    def _table_from(self, name: str, frame: pd.DataFrame) -> None:
        """A table ``name`` holding ``frame`` (a small one: the label codes)."""
        raise NotImplementedError

    def _row_position(self, file: str, row: int) -> int:
        """The 0-based position in its file of the row whose ``__row`` is ``row``."""
        return row

    @staticmethod
    def q(name: str) -> str:
        """An identifier."""
        return '"' + name.replace('"', '""') + '"'

    @staticmethod
    def lit(value: str) -> str:
        """A text literal."""
        return "'" + str(value).replace("'", "''") + "'"

    def full_match(self, expr: str, pattern: str) -> str:
        raise NotImplementedError

    def unit_hash(self, exprs: str) -> str:
        """A seeded hash of ``exprs`` as a DOUBLE in [0, 1)."""
        raise NotImplementedError

    def quantiles(self, expr: str, qs: Sequence[float]) -> str:
        """The exact quantiles (linear interpolation, as np.percentile) as an array."""
        raise NotImplementedError

    def _records(self, query: str) -> list[dict]:
        table = self._arrow(query)
        return table.to_pylist()

    # ------------------------------------------------------------------ life cycle

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def _open(self) -> None:
        """Read, detect and check the data; closed again when anything fails."""
        try:
            self._read()
        except BaseException:
            self.close()
            raise

    def _read(self) -> None:
        self._split = self._model = None
        raw, types = self._create_sources()
        stripped = [c.strip() for c in raw]
        if len(set(stripped)) != len(stripped):
            twice = next(c for c in stripped if stripped.count(c) > 1)
            raise InputError(f"{self.name}: duplicate column name {twice!r}")
        self.column = dict(zip(stripped, raw))  # stripped name -> the name in SQL
        self.types = dict(zip(stripped, types))
        n = self._rows("SELECT count(*) FROM src")[0][0]
        if n == 0:
            raise InputError(f"{self.name}: has a header but no data rows")
        self.n_rows = n
        loaded = self._detect()
        self.layout = loaded.layout
        self.probe = loaded.predictions
        self._define_data()
        self._check_rows()

    def _detect(self) -> io.Loaded:
        loaded = self._table(self._arrow(f"SELECT * FROM located LIMIT {PROBE_ROWS}")
                             .to_pandas())
        self._probe_keys = None
        label = loaded.layout.label_column
        if label is None:
            return loaded
        # the label's text as the engine writes it, the key of the label codes joined to rows
        key = f"CAST({self.q(self.column[label])} AS {self.TEXT})"
        frame = self._arrow(f"SELECT {key} AS __key, * FROM located LIMIT {PROBE_ROWS}"
                            ).to_pandas()
        keys = frame.pop("__key").tolist()
        distinct = [k for (k,) in self._rows(f"SELECT DISTINCT {key} FROM src "
                                             f"LIMIT {MAX_LABELS + 1}")]
        if len(distinct) > MAX_LABELS:
            raise InputError(f"{self.name}: label column {label!r} holds more than "
                             f"{MAX_LABELS} distinct values")
        missing = set(distinct) - set(keys)
        if missing:  # the first row of each label the probe has not seen
            conditions = []
            if missing - {None}:
                conditions.append(f"{key} IN ({', '.join(self.lit(k) for k in missing - {None})})")
            if None in missing:
                conditions.append(f"{key} IS NULL")
            extra = self._arrow(
                f"SELECT * FROM (SELECT {key} AS __key, *, row_number() OVER (PARTITION BY "
                f"{key} ORDER BY __file, __row) AS __n FROM located WHERE "
                f"{' OR '.join(conditions)}) WHERE __n = 1").to_pandas().drop(columns="__n")
            keys += extra.pop("__key").tolist()
            frame = pd.concat([frame, extra], ignore_index=True)
        self._probe_keys = keys
        return self._table(frame)

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
        row = self._row_position(file, row)
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
        scores = [f"{self._number(c)} AS s{j}, {self.q(c)} AS r{j}"
                  for j, c in enumerate(columns)]
        self.k = len(columns)
        self.labels_select, join = self._label_sql()
        groups = []
        for what in ("split", "model"):
            column = getattr(layout, f"{what}_column")
            groups.append(f"trim(CAST({self.q(self.column[column])} AS {self.TEXT})) AS {what}"
                          if column else f"CAST(NULL AS {self.TEXT}) AS {what}")
        self._view("data", f"SELECT {self.labels_select}, {', '.join(scores)}, "
                           f"{', '.join(groups)}, __file, __row FROM located{join}")

    def _number(self, column: str) -> str:
        """SQL of a score column as a number: text only when it is a plain ASCII number (as
        the in-memory reader: "0x10", "1,5" or an Arabic digit are text), else NULL."""
        raw = self.q(column)
        if self.types[column.strip()] != "VARCHAR":
            return f"try_cast({raw} AS {self.score_type})"
        return (f"CASE WHEN {self.full_match(f'trim({raw})', io.NUMBER_TEXT)} "
                f"THEN CAST(trim({raw}) AS DOUBLE) END")

    def _label_sql(self) -> tuple[str, str]:
        """(the label columns of ``data``, a join with the label codes or '')."""
        layout, p = self.layout, self.probe
        if layout.indicator_columns:
            return ", ".join(
                f"try_cast({self.q(self.column[c])} AS DOUBLE) AS y{j}"
                for j, c in enumerate(layout.indicator_columns)), ""
        codes = pd.DataFrame({"__key": pd.array(self._probe_keys, dtype="string")})
        if p.task == "multilabel":
            for j in range(len(p.class_names)):
                codes[f"y{j}"] = p.y_true[:, j].astype(np.float64)
            picks = ", ".join(f"codes.y{j} AS y{j}" for j in range(len(p.class_names)))
        else:
            codes["y"] = p.y_true.astype(np.int64)
            picks = "codes.y AS y"
        self._table_from("codes", codes.drop_duplicates("__key"))
        label = self.q(self.column[layout.label_column])
        return picks, (f" LEFT JOIN codes ON CAST(located.{label} AS {self.TEXT}) IS NOT "
                       "DISTINCT FROM codes.__key")

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
            checks[f"missing{j}"] = (f"{raw} IS NULL OR isnan({s[j]}) OR "
                                    f"abs({s[j]}) = CAST('Infinity' AS DOUBLE){blank}")
        for name in self._label_names:
            checks[f"label_{name}"] = f"{name} IS NULL" + (
                f" OR {name} NOT IN (0, 1)" if self.task == "multilabel" else "")
        for what in ("split", "model"):
            if getattr(self.layout, f"{what}_column"):
                checks[what] = f"{what} IS NULL OR {what} = ''"
        total = " + ".join(s)
        aggregates = [f"count(*) FILTER (WHERE {c}) AS {k}" for k, c in checks.items()]
        aggregates += [f"min({c}) AS min{j}, max({c}) AS max{j}" for j, c in enumerate(s)]
        aggregates.append(f"max(abs(CAST({total} AS DOUBLE) - 1)) AS sum_error")
        values = self._records(f"SELECT {', '.join(aggregates)} FROM data")[0]
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
        row = self._records(f"SELECT * FROM data WHERE {condition} ORDER BY __file, __row "
                            "LIMIT 1")[0]
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
            "SELECT split, model, count(*), min(__file), min(__row) FROM data GROUP BY split, model "
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

    def select(self, split: str | None = None, model: str | None = None) -> SqlDataset:
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
        parts = [f"{what} = {self.lit(v)}" for what, v in (("split", self._split),
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
        return layout.describe(shown) + f"; engine: {self.engine}"

    # ------------------------------------------------------------------ statistics

    def _curve_score(self, c: int) -> str:
        """SQL of curve c's score: the probability, or the logit a sigmoid maps monotonically
        (converted in NumPy), or a softmax probability."""
        column = c + 1 if self.task == "binary" and self.k == 2 else c
        if self.conversion != "softmax":
            return f"s{column}"
        top = f"CAST(greatest({', '.join(f's{j}' for j in range(self.k))}) AS DOUBLE)"
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

    # ------------------------------------------------------------------ rows

    def _row_query(self, source: str | None = None, limit: int | None = None) -> str:
        """SQL of the labels and scores of the selected rows (or of ``source``)."""
        labels = ", ".join(self._label_names)
        scores = ", ".join(f"s{j}" for j in range(self.k))
        query = f"SELECT {labels}, {scores} FROM {source or 'data ' + self._where_selected}"
        return query + (f" LIMIT {limit}" if limit else "")

    def _predictions(self, batch) -> Predictions:
        return predictions_of(batch, len(self._label_names), self.class_names, self.task,
                              self.score_kind)

    def sample(self) -> Predictions:
        """A few rows with the dataset's classes and task (to build a Decision on)."""
        return self._predictions(self._arrow(self._row_query(limit=1000)))

    def _decision(self, rule: str | Decision | None, thresholds) -> Decision:
        return rule if isinstance(rule, Decision) else as_decision(self.sample(), rule,
                                                                   thresholds)

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
        h = self.unit_hash(f"__file, __row, {int(seed)}")
        where = self._where_selected or "WHERE true"
        drawn = (f"(SELECT *, {h} AS __h, CASE {cases} END AS __rate FROM data {where})")
        ranked = (f"(SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY __h, __file, "
                  f"__row) AS __n FROM {drawn} WHERE __h < __rate OR __rate >= 1)")
        source = f"{ranked} WHERE __n <= CASE {limits} END ORDER BY __file, __row"
        return self._predictions(self._arrow(self._row_query(source)))

    def _label_counts(self) -> dict:
        """Rows of each true label in the selection (one key, None, for multilabel data)."""
        if self.task == "multilabel":
            return {None: self.info.n_samples}
        return dict(self._rows(f"SELECT y, count(*) FROM data {self._where_selected} "
                               "GROUP BY y ORDER BY y"))

    # ------------------------------------------------------------------ counted over rows

    def _partials(self, count: Callable[[Predictions], T]) -> Iterable[T]:
        """``count`` of every part of the selected rows (counts that add up), wherever the
        engine counts them."""
        raise NotImplementedError

    def _total(self, count: Callable[[Predictions], T]) -> T:
        total = None
        for part in self._partials(count):
            total = part if total is None else total + part
        if total is None:
            raise InputError(f"{self.name}: no rows to count")
        return total

    def confusion(self, rule: str | Decision | None = None, thresholds=0.5, *,
                  zero_division: float | None = 0.0) -> Confusion:
        """The matrix of any decision rule: one scan, each part counted by the in-memory
        kernel (:class:`~evalcore.decisions.Tally`), the counts added."""
        tally = self._total(partial(Tally.of, decision=self._decision(rule, thresholds)))
        return tally.confusion(zero_division)

    def calibration(self, *, bins: int = 10, strategy: Strategy = "uniform") -> Calibration:
        """Reliability bins, counted as :meth:`confusion` is
        (:class:`~evalcore.calibration.CalibrationSums`)."""
        bins, strategy = _check_bins(bins), _check_strategy(strategy)
        edges = self._quantile_edges(bins) if strategy == "quantile" else None
        sums = self._total(partial(CalibrationSums.of, bins=bins, edges=edges))
        return sums.calibration(strategy)

    def _quantile_edges(self, bins: int) -> list[np.ndarray | None]:
        """Each curve's and the top label's equal-mass edges, exact (linear interpolation
        between order statistics, as np.percentile)."""
        qs = np.linspace(0, 1, bins + 1).tolist()
        scores = [self._curve_score(c) for c in range(len(self.info.curve_names))]
        if self.conversion == "sigmoid":  # the probability scale (NumPy's sigmoid per batch)
            raise InputError("quantile bins of sigmoid logits: use --strategy uniform with the "
                             f"{self.engine} engine")
        top = None
        if self.task == "multiclass":
            top = f"greatest({', '.join(self._curve_score(c) for c in range(self.k))})"
        elif self.task == "binary":
            top = f"greatest({scores[0]}, 1 - {scores[0]})"
        exprs = [self.quantiles(s, qs) for s in scores + ([top] if top else [])]
        row = self._rows(f"SELECT {', '.join(exprs)} FROM data {self._where_selected}")[0]
        edges = [np.array(v, dtype=np.float64) for v in row]
        return edges + ([] if top else [None])

    def accuracy(self) -> float:
        """The headline accuracy (:func:`evalcore.decisions.accuracy`), from one scan."""
        return self.confusion().accuracy


def predictions_of(batch, width: int, class_names: tuple[str, ...], task: str,
                   score_kind: str) -> Predictions:
    """A pyarrow batch or table of labels (``width`` columns) and scores as Predictions with
    the dataset's classes, task and score kind (logits converted by the in-memory code).

    >>> import pyarrow as pa
    >>> batch = pa.table({"y": [0, 1, 1], "s0": [0.2, 0.7, 0.9]})
    >>> p = predictions_of(batch, 1, ("neg", "pos"), "binary", "probability")
    >>> p.n_samples, p.class_names, p.y_true.tolist()
    (3, ('neg', 'pos'), [0, 1, 1])
    """
    arrays = [batch.column(j).to_numpy(zero_copy_only=False) for j in range(batch.num_columns)]
    y = np.column_stack(arrays[:width]) == 1 if task == "multilabel" else arrays[0].astype(np.int64)
    scores = np.column_stack(arrays[width:])
    return Predictions.from_arrays(y, scores, class_names=class_names, task=task,
                                   score_kind=score_kind)


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
