"""Prediction files -> Predictions: CSV, TSV, Parquet, NPZ and NPY pairs. Nothing is unpickled.

A table is read in the *wide layout*, detected and overridable (:class:`Mapping`):

- a label column named one of :data:`LABEL_COLUMNS`, holding class names or indices, or label
  sets delimited by ``|``, ``;`` or ``,`` (multilabel); or one 0/1 indicator column per class,
  ``true_<class>`` or ``y_<class>`` (multilabel);
- one score column per class, prefixed ``prob_``, ``proba_``, ``p_``, ``score_`` or ``logit_``
  (logits), or named by the class; a single score column for binary data;
- optional ``split``, ``model`` and ``id`` columns; other columns are ignored and listed.

What was found is a :class:`Layout`, reported to the user.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import io
import mmap
import os
import re
import tokenize
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from evalcore.errors import InputError
from evalcore.predictions import Predictions, ScoreKind, Task

DEFAULT_MAX_BYTES = 1 << 30
#: the memory a file may take once read is bounded by the size limit, and never below this
MIN_MEMORY_LIMIT = 64 << 20
MAX_BYTES_ENV = "EVALCORE_MAX_BYTES"
LABEL_COLUMNS = ("label", "labels", "y_true", "target", "class", "truth", "ground_truth")
SCORE_PREFIXES = ("prob_", "proba_", "p_", "score_", "logit_")
INDICATOR_PREFIXES = ("true_", "y_")
GROUP_COLUMNS = ("split", "model", "id")
LABEL_DELIMITERS = ("|", ";", ",")
TABLE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}
ARRAY_FORMATS = {".npz": "npz", ".npy": "npy"}
FORMATS = {**TABLE_FORMATS, **ARRAY_FORMATS}
DEFAULT_SPLIT = "test"
#: score columns that say they hold probabilities: a value outside [0, 1] is an error
PROBABILITY_PREFIXES = ("prob_", "proba_", "p_")
#: a single score column with one of these names scores the positive class of 0/1 labels
GENERIC_SCORE_NAMES = ("score", "scores", "y_score", "y_prob", "y_proba", "prob", "proba",
                       "probability", "p", "pred", "y_pred", "prediction", "output")
#: unnamed first columns that pandas' DataFrame.to_csv() writes for the index
INDEX_NAMES = ("", "index", "unnamed: 0", "unnamed:0")
IGNORE_HINT = "ignore it with --ignore-columns"
#: how a number may be written in a text cell of a score column
NUMBER_TEXT = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"


@dataclass(frozen=True)
class NamedBytes:
    """An uploaded file: its original name (for the format and messages) and its bytes.

    >>> upload = NamedBytes("preds.csv", b"label,prob_cat,prob_dog\\ncat,0.8,0.2\\ndog,0.3,0.7\\n")
    >>> load(upload).predictions.class_names
    ('cat', 'dog')
    """

    name: str
    data: bytes


Source = str | Path | NamedBytes


@dataclass(frozen=True)
class Mapping:
    """The user's overrides of what is detected in a file (None: detect).

    >>> data = NamedBytes("iris.csv",
    ...                   b"species,setosa,versicolor\\nsetosa,0.9,0.1\\nversicolor,0.4,0.6\\n")
    >>> layout = load(data, Mapping(label_column="species",
    ...                             score_columns=("setosa", "versicolor"))).layout
    >>> layout.label_column, layout.score_columns
    ('species', ('setosa', 'versicolor'))
    """

    label_column: str | None = None
    score_columns: tuple[str, ...] | None = None
    class_names: tuple[str, ...] | None = None  # the class order (renames when not a reorder)
    task: Task | None = None
    score_kind: ScoreKind | None = None
    ignore_columns: tuple[str, ...] | None = None  # columns that are neither scores nor labels


@dataclass(frozen=True)
class Layout:
    """What was found in a file and how it was read.

    >>> upload = NamedBytes("preds.csv", b"label,prob_cat,prob_dog\\ncat,0.8,0.2\\ndog,0.3,0.7\\n")
    >>> loaded = load(upload)
    >>> loaded.layout.label_column, loaded.layout.score_columns, loaded.layout.n_rows
    ('label', ('prob_cat', 'prob_dog'), 2)
    >>> for part in loaded.layout.describe(loaded.predictions).split("; "):
    ...     print(part)
    preds.csv: CSV, 2 rows
    labels: 'label' (class names)
    scores: prob_cat, prob_dog
    multiclass, 2 classes, scores: softmax probabilities: rows sum to 1
    """

    file: str
    format: str
    n_rows: int
    labels: str  # where the labels came from, in words
    label_column: str | None = None
    score_columns: tuple[str, ...] = ()
    indicator_columns: tuple[str, ...] = ()
    split_column: str | None = None
    model_column: str | None = None
    id_column: str | None = None
    ignored_columns: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()  # every column of a table, in file order

    def describe(self, predictions: Predictions) -> str:
        """One line for the user: format, rows, columns used, task and score kind."""
        parts = [f"{self.file}: {self.format.upper()}, {self.n_rows} rows", f"labels: {self.labels}"]
        if self.score_columns:
            parts.append(f"scores: {_span(self.score_columns)}")
        kind = predictions.notes[0] if predictions.notes else (
            f"{predictions.score_kind}s".replace("probabilitys", "probabilities"))
        parts.append(f"{predictions.task}, {len(predictions.class_names)} classes, "
                     f"scores: {kind}")
        for what, values in (("splits", predictions.splits), ("models", predictions.models)):
            if values:
                parts.append(f"{what}: {', '.join(values)}")
        if self.ignored_columns:
            parts.append(f"ignored: {', '.join(self.ignored_columns)}")
        return "; ".join(parts)

    def to_dict(self) -> dict:
        return {key: list(v) if isinstance(v, tuple) else v for key, v in self.__dict__.items()}


@dataclass(frozen=True, eq=False)
class Loaded:
    """A whole file as read (every split and model) and what was detected in it.

    >>> text = (b"label,prob_cat,prob_dog,split\\ncat,0.8,0.2,test\\n"
    ...         b"dog,0.3,0.7,test\\ndog,0.6,0.4,train\\n")
    >>> loaded = load(NamedBytes("preds.csv", text))
    >>> loaded.predictions.n_samples, loaded.predictions.splits
    (3, ('train', 'test'))
    >>> loaded.select().n_samples   # the test split by default
    2
    """

    predictions: Predictions
    layout: Layout
    notes: tuple[str, ...] = field(default=())

    def select(self, split: str | None = None, model: str | None = None) -> Predictions:
        """One model and split: by default the ``test`` split when the file has one (all rows
        otherwise) and the first model with rows in it. InputError for an empty choice."""
        p = self.predictions
        if split is None and DEFAULT_SPLIT in p.splits:
            split = DEFAULT_SPLIT
        if model is None and p.models:
            model = self.default_model(split)
        return p.select(split=split, model=model)

    def default_model(self, split: str | None) -> str | None:
        """The first model with rows in ``split`` (None: any), else the first model."""
        p = self.predictions
        if not p.models:
            return None
        in_split = [m for m in p.models if split is None or split not in p.splits
                    or np.any((p.model == m) & (p.split == split))]
        return (in_split or p.models)[0]


# --------------------------------------------------------------------------- entry points


def load(
    sources: Source | Sequence[Source],
    mapping: Mapping = Mapping(),
    *,
    max_bytes: int | None = None,
) -> Loaded:
    """Read one prediction file (or an NPY pair: labels, then scores) into Predictions.

    Raises :class:`InputError` naming the file, row or column on any bad input.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "preds.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("label,prob_cat,prob_dog\\ncat,0.8,0.2\\ndog,0.3,0.7\\ndog,0.6,0.4\\n")
    >>> loaded = load(path)
    >>> loaded.predictions.n_samples, loaded.predictions.class_names, loaded.layout.format
    (3, ('cat', 'dog'), 'csv')
    """
    items = [sources] if isinstance(sources, (str, Path, NamedBytes)) else list(sources)
    if not 1 <= len(items) <= 2:
        raise InputError(f"expected one prediction file or two .npy files, got {len(items)}")
    formats = [file_format(item) for item in items]
    if len(items) == 2 or formats[0] == "npy":
        if formats != ["npy", "npy"]:
            names = " and ".join(source_name(i) for i in items)
            raise InputError(
                f"{names}: two files must be an NPY pair (labels .npy, scores .npy)"
            )
        return _load_npy_pair(items[0], items[1], mapping, max_bytes)
    if formats[0] == "npz":
        return _load_npz(items[0], mapping, max_bytes)
    frame, floats = _read_frame(items[0], max_bytes)
    return _table_predictions(frame, mapping, source_name(items[0]), formats[0], None, floats)


def load_predictions(
    sources: Source | Sequence[Source],
    mapping: Mapping = Mapping(),
    *,
    split: str | None = None,
    model: str | None = None,
    max_bytes: int | None = None,
) -> Predictions:
    """:func:`load`, then one model and split (see :meth:`Loaded.select`).

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "preds.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("label,prob_cat,prob_dog,split\\ncat,0.8,0.2,test\\n"
    ...                 "dog,0.3,0.7,test\\ndog,0.6,0.4,train\\n")
    >>> load_predictions(path).n_samples, load_predictions(path, split="train").n_samples
    (2, 1)
    """
    return load(sources, mapping, max_bytes=max_bytes).select(split, model)


def source_name(source: Source) -> str:
    """The name a source is known by in messages: an upload's name, else the path.

    >>> source_name(NamedBytes("upload.csv", b"label,p\\n")), source_name("data/preds.csv")
    ('upload.csv', 'data/preds.csv')
    """
    return source.name if isinstance(source, NamedBytes) else str(source)


def file_format(source: Source) -> str:
    """The format named by the file's extension; InputError listing the supported ones.

    >>> file_format("scores.parquet"), file_format(NamedBytes("preds.TSV", b""))
    ('parquet', 'tsv')
    >>> file_format("preds.xlsx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    evalcore.errors.InputError: preds.xlsx: unsupported file type '.xlsx'; expected one of .csv, ...
    """
    name = source_name(source)
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            f"{name}: unsupported file type {suffix or '(none)'!r}; expected one of "
            f"{', '.join(sorted(FORMATS))}"
        )
    return FORMATS[suffix]


def max_bytes_default() -> int:
    """The size limit: ``$EVALCORE_MAX_BYTES`` if set, else 1 GiB.

    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"EVALCORE_MAX_BYTES": "500M"}):
    ...     max_bytes_default()
    524288000
    >>> with mock.patch.dict(os.environ):
    ...     _ = os.environ.pop("EVALCORE_MAX_BYTES", None)
    ...     max_bytes_default() == 1 << 30
    True
    """
    value = os.environ.get(MAX_BYTES_ENV)
    if not value:
        return DEFAULT_MAX_BYTES
    try:
        return parse_size(value)
    except InputError as error:
        raise InputError(f"{MAX_BYTES_ENV}: {error}") from None


def parse_size(text: str) -> int:
    """'1G', '500M', '10k' or a number of bytes -> bytes.

    >>> [parse_size(s) for s in ("1G", "500M", "10k", "1.5MiB", "2048")]
    [1073741824, 524288000, 10240, 1572864, 2048]
    """
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    spec = str(text).strip().lower().removesuffix("ib").removesuffix("b")
    scale = units.get(spec[-1:], 1)
    number = spec[:-1] if spec[-1:] in units else spec
    try:
        size = int(float(number) * scale)
    except ValueError:
        size = -1
    if size <= 0:
        raise InputError(f"expected a size like 1G, 500M or a number of bytes, got {text!r}")
    return size


def read_bytes(source: Source, *, max_bytes: int | None = None) -> bytes:
    """The file's bytes, after checking that it exists and is within the size limit.

    >>> read_bytes(NamedBytes("preds.csv", b"label,p\\n1,0.5\\n"))
    b'label,p\\n1,0.5\\n'
    >>> read_bytes(NamedBytes("preds.csv", b"x" * 100), max_bytes=10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    evalcore.errors.InputError: preds.csv: 100 bytes is over the size limit of 10 bytes (set it ...)
    """
    _checked_size(source, max_bytes)
    return source.data if isinstance(source, NamedBytes) else Path(source).read_bytes()


def _checked_size(source: Source, max_bytes: int | None) -> int:
    """The file's size, after checking that it exists, is not empty and is within the limit."""
    name = source_name(source)
    limit = max_bytes or max_bytes_default()
    if isinstance(source, NamedBytes):
        size = len(source.data)
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{name}: no such file")
        size = path.stat().st_size
    if size > limit:
        raise InputError(
            f"{name}: {_human(size)} is over the size limit of {_human(limit)} "
            f"(set it with --max-size or {MAX_BYTES_ENV})"
        )
    if size == 0:
        raise InputError(f"{name}: empty file")
    return size


# --------------------------------------------------------------------------- tables


def read_table(source: Source, *, max_bytes: int | None = None) -> pd.DataFrame:
    """A CSV, TSV or Parquet file as a DataFrame with unique, stripped string column names.

    >>> frame = read_table(NamedBytes("preds.csv", b" label ,p_dog\\ncat,0.2\\ndog,0.9\\n"))
    >>> list(frame.columns), frame.shape
    (['label', 'p_dog'], (2, 2))
    """
    return _read_frame(source, max_bytes)[0]


#: a C-order matrix of float columns read from a file, and the names of its columns
Floats = tuple[np.ndarray, tuple[str, ...]]
#: CSV/TSV text is read in pieces of about this size (whole lines), so that pyarrow holds one
#: piece's text and numbers at a time besides the matrix they are copied into
CSV_PIECE_BYTES = 8 << 20
#: the types later pieces are converted to as the first piece inferred them (pyarrow converts
#: text to these the same way whether the type was inferred or given)
PIECE_TYPES = (pa.null(), pa.bool_(), pa.int64(), pa.float64(), pa.string())


def _read_frame(source: Source, max_bytes: int | None) -> tuple[pd.DataFrame, Floats | None]:
    """:func:`read_table`'s frame and, for CSV/TSV, the matrix of its float64 columns, which
    the frame's columns are views of (a score matrix of exactly those columns is no copy)."""
    name = source_name(source)
    fmt = file_format(source)
    if fmt not in ("csv", "tsv", "parquet"):
        raise InputError(f"{name}: expected a table (.csv, .tsv or .parquet), got .{fmt}")
    size = _checked_size(source, max_bytes)
    limit = max_bytes or max_bytes_default()
    if fmt == "parquet":
        table = _read_parquet(source, name, limit)
        columns = _column_names(table.column_names, table.num_rows, name)
        return table.rename_columns(columns).to_pandas(split_blocks=True), None
    with _text_bytes(source) as data:
        delimiter = "\t" if fmt == "tsv" else _delimiter(data[:65536])
        newlines = _count(data, b"\n")
        # every cell becomes at most one 8-byte number (or a short string): bounded before
        # parsing, whatever the text; a cell takes a byte at least, so the size bounds them too
        if 8 * (size + 1) > max(limit, MIN_MEMORY_LIMIT):
            check_expanded(name, 8 * (_count(data, delimiter.encode()) + newlines + 1), limit)
        try:
            return _gathered(_text_pieces(data, delimiter), name, newlines, size)
        except _ReadWhole:
            return _gathered(iter([_read_text_table(data, name, fmt)]), name, None, size)


class _ReadWhole(Exception):
    """The text cannot be read in pieces exactly as pyarrow reads it whole: read it whole."""


def _text_pieces(data, delimiter: str) -> Iterator[pa.Table]:
    """UTF-8 text in pieces of about CSV_PIECE_BYTES (whole lines), each read as
    :func:`_read_text_table` reads the whole text; _ReadWhole on any problem, or where the
    pieces might differ from the whole (then that reading decides). The types the first
    piece infers are the whole text's when every later piece converts to them: pyarrow infers
    the first of its kinds (null, int64, bool, ..., float64, ..., string) that every block
    of a column converts to."""
    several = len(data) > CSV_PIECE_BYTES
    # in unquoted text every newline ends a row, so it may end a piece (a memchr-fast find)
    if b"\x00" in data[:65536] or not _is_utf8(data) or (several and data.find(b'"') >= 0):
        raise _ReadWhole
    bad_rows: list = []
    parse = pa_csv.ParseOptions(delimiter=delimiter,
                                invalid_row_handler=lambda row: bad_rows.append(row) or "skip")
    read, convert = pa_csv.ReadOptions(encoding="utf8"), CSV_CONVERT
    view = memoryview(data)
    start = 0
    while start < len(data):
        end = (data.find(b"\n", start + CSV_PIECE_BYTES) + 1 or len(data)) if several else len(data)
        try:
            piece = pa_csv.read_csv(pa.BufferReader(view[start:end]), read_options=read,
                                    parse_options=parse, convert_options=convert)
        except (pa.ArrowException, ValueError):
            raise _ReadWhole from None
        if bad_rows:
            raise _ReadWhole
        if start == 0 and end < len(data):
            names, types = piece.column_names, piece.schema.types
            if len(set(names)) < len(names) or not all(t in PIECE_TYPES for t in types):
                raise _ReadWhole
            read = pa_csv.ReadOptions(encoding="utf8", column_names=names)
            convert = pa_csv.ConvertOptions(
                column_types=dict(zip(names, types)), true_values=CSV_CONVERT.true_values,
                false_values=CSV_CONVERT.false_values)
        yield piece
        start = end


def _gathered(pieces: Iterator[pa.Table], name: str, newlines: int | None, size: int
              ) -> tuple[pd.DataFrame, Floats]:
    """The frame of a table read in pieces: its float64 columns copied into one C-order
    matrix piece by piece (the frame's columns are views of it; each piece's own numbers
    freed once copied), the others as pyarrow converts them. ``newlines`` bounds the rows
    (None: one piece, the whole table)."""
    piece = next(pieces)
    raw_names = piece.column_names
    floats = [j for j, t in enumerate(piece.schema.types) if t == pa.float64()]
    others = [j for j in range(piece.num_columns) if j not in floats]
    # a valid row takes a byte per field at least: whatever the text, its size bounds the rows
    rows = piece.num_rows if newlines is None else min(newlines, size // max(len(raw_names), 1) + 1)
    matrix = np.empty((rows, len(floats)))
    kept, n = [], 0
    while piece is not None:
        m = piece.num_rows
        if n + m > rows:
            raise _ReadWhole
        for i, j in enumerate(floats):
            matrix[n:n + m, i] = piece.column(j).to_numpy()
        kept.append(piece.select(others))
        n += m
        piece = next(pieces, None)
    columns = _column_names(raw_names, n, name)
    rest = pa.concat_tables(kept).rename_columns([columns[j] for j in others]).to_pandas(
        split_blocks=True)
    matrix = matrix[:n]
    values = {c: matrix[:, floats.index(j)] if j in floats else rest[c]
              for j, c in enumerate(columns)}
    return pd.DataFrame(values, copy=False), (matrix, tuple(columns[j] for j in floats))


def _column_names(names: Sequence, rows: int, name: str) -> list[str]:
    """A table's column names, stripped; InputError for a duplicate name or no rows."""
    columns = [str(c).strip() for c in names]
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise InputError(f"{name}: duplicate column name {column!r}")
        seen.add(column)
    if rows == 0:
        raise InputError(f"{name}: has a header but no data rows")
    return columns


@contextlib.contextmanager
def _text_bytes(source: Source) -> Iterator[bytes | mmap.mmap]:
    """An upload's bytes, or a file mapped into memory read-only (not copied; what pyarrow
    reads from it are copies of its text, never views)."""
    if isinstance(source, NamedBytes):
        yield source.data
        return
    with open(source, "rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        yield mapped
    finally:
        try:
            mapped.close()
        except BufferError:  # still viewed (by an exception's traceback): unmapped when unused
            pass


def _count(data, byte: bytes) -> int:
    """How often one byte occurs in bytes-like data (numpy, 1 MiB at a time)."""
    view = np.frombuffer(data, dtype=np.uint8)
    step = 1 << 20
    return sum(int(np.count_nonzero(view[i:i + step] == byte[0]))
               for i in range(0, view.size, step))


def _read_parquet(source: Source, name: str, limit: int) -> pa.Table:
    file = pa.BufferReader(source.data) if isinstance(source, NamedBytes) else pa.OSFile(str(source))
    with file:
        if file.read(4) != b"PAR1":
            raise InputError(f"{name}: not a Parquet file (it does not start with PAR1)")
        try:
            # ParquetFile, not read_table: the dataset layer refuses duplicate column names
            # with a cryptic "Multiple matches for FieldRef" before ours can name them
            parquet = pq.ParquetFile(file)
            check_expanded(name, _parquet_bytes(parquet.metadata), limit)
            table = _parquet_columns(parquet)
            table.validate(full=True)  # e.g. invalid UTF-8 in a string column, found here
        except InputError:
            raise
        except (pa.ArrowException, OSError, ValueError) as error:
            raise InputError(f"{name}: cannot read as Parquet ({_first_line(error)})") from None
    if not _text_names(table):
        raise InputError(f"{name}: column names are not valid UTF-8")
    return table


def _parquet_columns(parquet: pq.ParquetFile) -> pa.Table:
    """The whole table, read a column at a time (pyarrow then holds one column's pages at
    once, not every column's); in one read where a name would not select one column."""
    schema = parquet.schema_arrow
    columns = []
    for column in schema.names:
        part = parquet.read(columns=[column])
        if part.column_names != [column]:  # a name repeated, or the prefix of a nested one
            return parquet.read()
        columns.append(part.column(0))
    return pa.Table.from_arrays(columns, schema=schema)


def _delimiter(head: bytes) -> str:
    """The most frequent of , ; tab in the header line (European CSV uses ;)."""
    first_line = head.split(b"\n", 1)[0]
    return max((",", ";", "\t"), key=lambda d: first_line.count(d.encode()))


def _parquet_bytes(metadata) -> int:
    """What a Parquet file takes in memory, from its metadata alone: per column, rows x its
    value width, or its uncompressed bytes where that is more (strings)."""
    rows = metadata.num_rows
    total = 0
    for j in range(metadata.num_columns):
        physical = metadata.schema.column(j).physical_type
        width = {"BOOLEAN": 1, "INT32": 4, "FLOAT": 4, "INT64": 8, "DOUBLE": 8,
                 "INT96": 12}.get(physical, 8)
        uncompressed = sum(metadata.row_group(g).column(j).total_uncompressed_size
                           for g in range(metadata.num_row_groups))
        total += max(rows * width, uncompressed)
    return total


def check_expanded(name: str, nbytes: int, limit: int, what: str = "is") -> None:
    """Refuse, before allocating, data that would take more memory than the size limit (at
    least MIN_MEMORY_LIMIT: a small file's bound is no reason to refuse it).

    >>> check_expanded("big.csv", 1 << 20, 1 << 20)   # within the limit: nothing happens
    >>> check_expanded("big.csv", 100 << 20, 1 << 20)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    evalcore.errors.InputError: big.csv: is too large for memory once read (about 100.0 MiB; ...)
    """
    limit = max(limit, MIN_MEMORY_LIMIT)
    if nbytes > limit:
        raise InputError(
            f"{name}: {what} too large for memory once read (about {_human(nbytes)}; the limit "
            f"is {_human(limit)}, set it with --max-size or {MAX_BYTES_ENV})")


def _read_text_table(data: bytes, name: str, fmt: str) -> pa.Table:
    head = data[:65536]
    if b"\x00" in head:
        raise InputError(f"{name}: a binary file, not {fmt.upper()} text")
    delimiter = "\t" if fmt == "tsv" else _delimiter(head)
    bad_rows: list = []

    def on_bad_row(row) -> str:
        bad_rows.append(row)
        return "skip"

    # decided before parsing: pyarrow decodes a refused row's text as UTF-8 for the handler,
    # and a Latin-1 row there is an "Exception ignored" on stderr and no line number
    for encoding in ("utf8", "latin-1") if _is_utf8(data) else ("latin-1",):
        bad_rows.clear()
        try:
            table = pa_csv.read_csv(
                pa.BufferReader(data),
                read_options=pa_csv.ReadOptions(encoding=encoding),
                parse_options=pa_csv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_bad_row),
                convert_options=CSV_CONVERT,
            )
        except (pa.ArrowException, ValueError) as error:
            message = _first_line(error)
            if "Empty CSV file" in message:  # also a lone header line without a newline
                what = "has a header but no data rows" if data[:].strip() else "empty file"
                raise InputError(f"{name}: {what}") from None
            raise InputError(f"{name}: cannot read as {fmt.upper()} ({message})") from None
        if bad_rows:  # the first in the file: threaded parsing may report blocks out of order
            located = [(_line_of(data, r), r) for r in bad_rows[:50]]
            line, row = min(located, key=lambda item: item[0] if isinstance(item[0], int) else 1 << 62)
            raise InputError(
                f"{name}: line {line} has {row.actual_columns} fields, expected "
                f"{row.expected_columns} (as the header)"
            )
        # invalid UTF-8 comes back as binary columns: read the file again as Latin-1
        if not any(pa.types.is_binary(t) for t in table.schema.types) and _text_names(table):
            return table
    raise InputError(f"{name}: cannot decode the text as UTF-8 or Latin-1")


#: booleans only from true/false words: pyarrow's defaults also take 1 and 0, which turned a
#: 0/1 label column holding one "TRUE" into booleans ("TRUE" read as 1)
CSV_CONVERT = pa_csv.ConvertOptions(true_values=["true", "True", "TRUE"],
                                    false_values=["false", "False", "FALSE"])


def _is_utf8(data: bytes) -> bool:
    """Whether the bytes are valid UTF-8 (pyarrow checks them in place, without a copy)."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    blob = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        blob.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _text_names(table: pa.Table) -> bool:
    """Whether every column name is valid UTF-8 (pyarrow checks only when asked for them)."""
    try:
        table.column_names
    except UnicodeDecodeError:
        return False
    return True


def table_predictions(
    frame: pd.DataFrame, mapping: Mapping = Mapping(), *, name: str = "table", fmt: str = "csv",
    where: Callable[[int], str] | None = None,
) -> Loaded:
    """Detect the wide layout in a DataFrame (or apply ``mapping``) and validate it.
    ``where(i)``: how an error names the frame's row i (default: by ``fmt``).

    >>> frame = pd.DataFrame({"label": ["cat", "dog"], "prob_cat": [0.8, 0.3],
    ...                       "prob_dog": [0.2, 0.7]})
    >>> loaded = table_predictions(frame, name="frame")
    >>> loaded.predictions.class_names, loaded.layout.score_columns
    (('cat', 'dog'), ('prob_cat', 'prob_dog'))
    """
    return _table_predictions(frame, mapping, name, fmt, where, None)


def _table_predictions(frame: pd.DataFrame, mapping: Mapping, name: str, fmt: str,
                       where: Callable[[int], str] | None, floats: Floats | None) -> Loaded:
    """:func:`table_predictions`; ``floats``: the matrix of float columns the frame's are
    views of (:func:`_read_frame`)."""
    columns = [str(c) for c in frame.columns]
    where = where or _row_namer(fmt)
    lower = {c.lower(): c for c in reversed(columns)}

    def find(column: str | None, what: str) -> str | None:
        if column is not None and column not in columns:
            raise InputError(f"{name}: no {what} column {column!r}; columns are {columns}")
        return column

    label = find(mapping.label_column, "label")
    ignored_by_user = set(mapping.ignore_columns or ())
    for column in ignored_by_user:
        find(column, "ignored")
    overridden = set(mapping.score_columns or ()) | ignored_by_user
    if label is None:
        label = next((lower[c] for c in LABEL_COLUMNS if c in lower and lower[c] not in overridden), None)
    groups = {g: lower.get(g) for g in GROUP_COLUMNS}
    groups = {g: c for g, c in groups.items() if c is not None and c != label and c not in overridden}
    used = {label, *groups.values(), *ignored_by_user}

    indicators = {} if label is not None else _indicator_columns(frame, columns, used)
    used |= set(indicators.values())

    if mapping.score_columns is not None:
        for column in mapping.score_columns:
            find(column, "score")
        score_columns = list(mapping.score_columns)
        class_names = [_strip_prefix(c)[0] for c in score_columns]
        prefixes = {_strip_prefix(c)[1] for c in score_columns}
    else:
        classes = (list(indicators) if indicators else
                   _label_values(frame[label]) if label is not None else None)
        score_columns, class_names, prefixes = _detect_scores(
            frame, columns, used, classes, label is not None and _is_numeric(frame[label]),
            mapping.class_names, name)
    if len(prefixes) > 1 and mapping.score_columns is None:
        raise InputError(
            f"{name}: score columns with different prefixes ({', '.join(sorted(p for p in prefixes if p))}); "
            "choose them with --score-columns"
        )
    if not score_columns:
        raise InputError(
            f"{name}: no score columns found; expected numeric columns prefixed "
            f"{', '.join(SCORE_PREFIXES)} or named by class (columns are {columns})"
        )
    if label is None and not indicators:
        candidates = [c for c in columns if c not in used and c not in score_columns]
        raise InputError(
            f"{name}: no label column found; expected one named {', '.join(LABEL_COLUMNS)} or "
            f"true_<class> indicator columns (candidates: {candidates or columns}; "
            "choose one with --label-column)"
        )
    used |= set(score_columns)

    single = len(score_columns) == 1 and not indicators and mapping.task != "multilabel"
    if mapping.class_names is not None and not single:
        detected = class_names
        score_columns, class_names = _apply_class_order(
            score_columns, class_names, list(mapping.class_names), name
        )
        if indicators and sorted(class_names) != sorted(detected):
            # renamed: each indicator column goes with its class's score column
            indicators = {new: indicators[old] for old, new in zip(detected, class_names)
                          if old in indicators}
    scores = _score_matrix(frame, score_columns, name, where, floats)
    score_kind = mapping.score_kind or ("logit" if prefixes == {"logit_"} else None)
    if mapping.score_kind != "logit":
        _check_probability_columns(scores, score_columns, name, where)

    task = mapping.task
    if indicators:
        y, label_text = _indicator_matrix(frame, indicators, class_names, name, where), "indicator columns"
        task = task or "multilabel"
        names: list[str] | None = class_names
    elif single:
        y, names, label_text = _binary_labels(frame[label], label, score_columns[0],
                                              mapping.class_names, name, where)
        task = task or "binary"
    else:
        y, names, label_text, task = _labels(frame[label], label, class_names, task, name, where)
    try:
        predictions = Predictions.from_arrays(
            y, scores, class_names=names, task=task, score_kind=score_kind
        )
    except InputError as error:
        raise InputError(f"{name}: {error}") from None
    group_values = {g: _group_column(frame, c, name, where) for g, c in groups.items()}
    predictions = replace(predictions, split=group_values.get("split"),
                          model=group_values.get("model"), ids=group_values.get("id"))
    layout = Layout(
        file=name,
        format=fmt,
        n_rows=len(frame),
        labels=label_text,
        label_column=label,
        score_columns=tuple(score_columns),
        indicator_columns=tuple(indicators.values()),
        split_column=groups.get("split"),
        model_column=groups.get("model"),
        id_column=groups.get("id"),
        ignored_columns=tuple(c for c in columns if c not in used),
        columns=tuple(columns),
    )
    return Loaded(predictions, layout)


def _strip_prefix(column: str) -> tuple[str, str]:
    """(class name, prefix) of a score column name."""
    lowered = column.lower()
    for prefix in SCORE_PREFIXES:
        if lowered.startswith(prefix) and len(column) > len(prefix):
            return column[len(prefix):], prefix
    return column, ""


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _label_values(series: pd.Series) -> list[str]:
    """The distinct labels of a label column as text (label sets split), in order of
    appearance; at most the first 10,000 distinct values are looked at."""
    if _is_numeric(series) or pd.api.types.is_bool_dtype(series):
        values = pd.unique(series.dropna())[:10000]
        return [str(int(v)) if np.isfinite(float(v)) and float(v) == int(float(v)) else str(v)
                for v in values]
    text = _text_codes(series.dropna())[1][:10000]
    delimiter = next((d for d in LABEL_DELIMITERS if any(d in t for t in text)), None)
    if delimiter is None:
        return [t for t in text if t]
    found: dict[str, None] = {}
    for t in text:
        found.update(dict.fromkeys(v.strip() for v in t.split(delimiter) if v.strip()))
    return list(found)


def _detect_scores(frame, columns, used, labels: list[str] | None, numeric_labels: bool,
                   classes: tuple[str, ...] | None, name) -> tuple[list[str], list[str], set[str]]:
    """The score columns, their classes and prefixes. Prefixed columns say what they are
    (other columns are then ignored and listed). Without prefixes every numeric column is a
    score column or an error naming it: a column is a class' when a label names it, and the
    numeric columns no label names are classes only where every row's scores sum to 1 (a
    softmax over classes that have no samples here), else an error."""
    free = [c for c in columns if c not in used]
    prefixed = [c for c in free if _strip_prefix(c)[1]]
    if prefixed:
        return prefixed, [_strip_prefix(c)[0] for c in prefixed], {_strip_prefix(c)[1] for c in prefixed}
    numeric = [c for c in free if _is_numeric(frame[c])]
    for column in free:
        if column.strip().lower() in INDEX_NAMES or column.lower().startswith("unnamed: "):
            what = f"column {column!r}" if column.strip() else "the column with no name"
            ignore = (f"{IGNORE_HINT} {column}" if column.strip()
                      else "give it a name and ignore it with --ignore-columns")
            raise InputError(
                f"{name}: {what} looks like the row index that pandas' to_csv() writes; write "
                f"the file with index=False, or {ignore}")
    if labels is None:  # no label column: refused next, naming the candidates
        return numeric, numeric, {""}
    named_by = set(labels) | set(classes or ())
    named = [c for c in free if c in named_by]
    if len(numeric) == 1 and not named:  # one score column: binary, checked with its labels
        return numeric, numeric, {""}
    if not named and numeric and numeric_labels:
        # integer labels index columns named by class, in column order
        if not all(v.lstrip("-").isdigit() for v in labels):
            return numeric, numeric, {""}  # a label that is no class index: refused next
        top = max(int(v) for v in labels) if labels else -1
        if len(numeric) == top + 1 or _rows_sum_to_one(frame, numeric):
            return numeric, numeric, {""}
        raise InputError(
            f"{name}: {len(numeric)} numeric columns ({_span(numeric)}) for labels 0..{top}: "
            "which are the scores? Prefix them prob_ (or logit_), or choose them with "
            "--score-columns")
    if not named:
        if numeric:
            raise InputError(
                f"{name}: no numeric column is named by a label ({_span(labels or [])}); name "
                f"the score columns prob_<class> (columns are {columns})")
        return [], [], set()
    unnamed = [c for c in numeric if c not in named]
    if unnamed and not _rows_sum_to_one(frame, named + unnamed):
        raise InputError(
            f"{name}: numeric column {unnamed[0]!r} is not named by any label "
            f"({_span(labels or [])}); {IGNORE_HINT} {unnamed[0]}, or, if it is a class "
            "without samples here, list the classes with --classes")
    if numeric_labels:  # columns named 0, 1, ...: in the order of the class index
        chosen = sorted(named + unnamed, key=lambda c: int(c) if c.isdigit() else len(columns))
        return chosen, chosen, {""}
    chosen = [c for c in free if c in named or c in unnamed]
    return chosen, chosen, {""}


def _rows_sum_to_one(frame: pd.DataFrame, columns: list[str]) -> bool:
    from evalcore.predictions import ROW_SUM_TOLERANCE

    try:
        values = frame[columns].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        return False
    sums = values.sum(axis=1)
    return bool(np.isfinite(sums).all() and (np.abs(sums - 1) <= ROW_SUM_TOLERANCE).all()
                and (values >= 0).all())


def _check_probability_columns(scores: np.ndarray, columns: list[str], name, where) -> None:
    """Columns that say they are probabilities (prob_, proba_, p_) hold values in [0, 1]."""
    said = [j for j, column in enumerate(columns) if _strip_prefix(column)[1] in PROBABILITY_PREFIXES]
    if not said or not len(scores) or (scores.min() >= 0 and scores.max() <= 1):
        return  # all in [0, 1]: a pass each over the matrix, no temporaries
    for j in said:
        column = columns[j]
        bad = np.flatnonzero((scores[:, j] < 0) | (scores[:, j] > 1))
        if bad.size:
            value = float(scores[bad[0], j])
            top = float(scores[:, j].max())
            hint = " (percentages? divide by 100)" if 1.5 < top <= 100 and value > 1 else ""
            raise InputError(
                f"{name}: score column {column!r}, {where(int(bad[0]))}: {value!r} is outside "
                f"[0, 1], expected a probability{hint}; for logits name the columns logit_<class> "
                "or say --score-kind logit")


def _binary_labels(series: pd.Series, column: str, score_column: str,
                   classes: tuple[str, ...] | None, name, where):
    """Binary labels for one score column: the column scores the class it names (the
    positive class), or the class 1 of 0/1 labels for a generic name (``score``, ``y_score``,
    ...), or the second of ``classes`` (NEGATIVE, POSITIVE). (y, names, labels in words)."""
    if series.isna().any():
        i = int(np.flatnonzero(series.isna().to_numpy())[0])
        raise InputError(f"{name}: label column {column!r}, {where(i)}: is empty")
    numeric = _is_numeric(series) or pd.api.types.is_bool_dtype(series)
    if numeric:
        numbers = series.to_numpy(dtype=np.float64)
        bad = (numbers != np.round(numbers)) | ~(np.abs(numbers) < 2**62)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{name}: label column {column!r}, {where(i)}: {numbers[i]:g} is not a class index")
        text = pd.Series(numbers.astype(np.int64)).astype(str)
        codes, present = pd.factorize(text)
        present = [str(u) for u in present]
    else:
        codes, present = _text_codes(series)
    scored, prefix = _strip_prefix(score_column)
    if classes is not None:
        if len(classes) != 2:
            raise InputError(f"{name}: one score column ({score_column!r}) needs 2 class names "
                             f"(negative, positive), got {len(classes)}")
        negative, positive = (str(c) for c in classes)
        why = f"{score_column!r} scores the positive class {positive!r}, as given"
    elif scored in present:
        positive = scored
        others = [v for v in present if v != positive]
        if len(others) > 1:
            raise InputError(f"{name}: one score column ({score_column!r}) but {len(present)} "
                             f"labels ({_span(present)}): binary data has 2")
        negative = others[0] if others else f"not {positive}"
        why = f"{score_column!r} scores the positive class {positive!r}, which it names"
    elif (not prefix and score_column.strip().lower() in GENERIC_SCORE_NAMES and numeric
          and set(present) <= {"0", "1"}):
        negative, positive = "0", "1"
        why = f"{score_column!r} scores the positive class '1' of 0/1 labels"
    else:
        raise InputError(
            f"{name}: the one score column {score_column!r} names no class among the labels "
            f"({_span(present)}); name it prob_<positive class>, or give the classes as "
            "--classes NEGATIVE,POSITIVE")
    unknown = [v for v in present if v not in (negative, positive)]
    if unknown:
        i = int(np.flatnonzero(codes == present.index(unknown[0]))[0])
        raise InputError(f"{name}: label column {column!r}, {where(i)}: {unknown[0]!r} is neither "
                         f"{negative!r} nor {positive!r}")
    lookup = np.array([1 if v == positive else 0 for v in present], dtype=np.int64)
    return lookup[codes], [negative, positive], f"{column!r} ({why})"


def _indicator_columns(frame, columns, used) -> dict[str, str]:
    """{class: column} of 0/1 columns named true_<class> or y_<class>."""
    found = {}
    for column in columns:
        lowered = column.lower()
        for prefix in INDICATOR_PREFIXES:
            if lowered.startswith(prefix) and len(column) > len(prefix) and column not in used:
                values = frame[column]
                if _is_numeric(values) or pd.api.types.is_bool_dtype(values):
                    found[column[len(prefix):]] = column
    return found


def _apply_class_order(score_columns, class_names, order, name):
    if sorted(order) == sorted(class_names):
        by_name = dict(zip(class_names, score_columns))
        return [by_name[c] for c in order], order
    if len(order) == len(class_names):
        return score_columns, order  # names for the columns, in their order
    raise InputError(
        f"{name}: {len(order)} class names given for {len(score_columns)} score columns "
        f"({', '.join(score_columns)})"
    )


def _score_matrix(frame, score_columns, name, where, floats: Floats | None = None) -> np.ndarray:
    """The (N, K) scores of ``score_columns``, C order: float32 when every column is, else
    float64; InputError for a cell that is not a finite number. ``floats``: a matrix the
    frame's float columns are views of, returned itself when it holds exactly these columns."""
    dtypes = {getattr(frame[c], "dtype", None) for c in score_columns}
    if score_columns and dtypes <= {np.dtype(np.float32), np.dtype(np.float64)}:
        # numbers already (no text, no other types to refuse): one matrix, checked in one pass
        if floats is not None and tuple(score_columns) == floats[1]:
            scores = floats[0]
        else:
            dtype = np.float32 if dtypes == {np.dtype(np.float32)} else np.float64
            scores = np.empty((len(frame), len(score_columns)), dtype)
            for j, column in enumerate(score_columns):
                scores[:, j] = frame[column].to_numpy()
        # NaN or an infinity makes the min or the max non-finite (a pass each, no temporaries)
        if len(scores) and not (np.isfinite(scores.min()) and np.isfinite(scores.max())):
            for j, column in enumerate(score_columns):
                _refuse_non_finite(scores[:, j], column, name, where)
        return scores
    blocks = []
    for column in score_columns:
        values = frame[column]
        refused = _refused_type(values)
        if refused:
            raise InputError(f"{name}: score column {column!r} holds {refused}, expected numbers")
        if not _is_numeric(values):
            text = values.astype(str).str.strip()
            # plain ASCII numbers only: "0x10", "١٥" or "1,5" are text, not silently numbers
            plain = text.str.fullmatch(NUMBER_TEXT) | (text == "")
            numbers = pd.to_numeric(text.where(values.notna() & plain), errors="coerce")
            bad = numbers.isna() & values.notna() & (text != "")
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                cell = str(values.iloc[i])
                hint = (" (a decimal comma? write 0.5, not 0,5)"
                        if re.fullmatch(r"[-+]?\d*,\d+", cell.strip()) else "")
                raise InputError(
                    f"{name}: score column {column!r}, {where(i)}: {values.iloc[i]!r} is not a "
                    f"number{hint}"
                )
            values = numbers
        array = values.to_numpy(dtype=values.dtype if values.dtype.kind == "f" else np.float64,
                                na_value=np.nan)
        _refuse_non_finite(array, column, name, where)
        blocks.append(array)
    dtype = np.float32 if all(b.dtype == np.float32 for b in blocks) else np.float64
    return np.column_stack([b.astype(dtype, copy=False) for b in blocks])


def _refuse_non_finite(array: np.ndarray, column: str, name: str, where) -> None:
    """InputError naming the first row of a score column that is empty, NaN or infinite."""
    missing = ~np.isfinite(array)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        what = "is empty" if np.isnan(array[i]) else f"is {array[i]}"
        raise InputError(f"{name}: score column {column!r}, {where(i)}: {what}, expected a finite number")


def _refused_type(values: pd.Series) -> str | None:
    """What a score column holds when it is a type evalcore will not turn into numbers
    (true/false, timestamps, bytes, decimals), else None."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "true/false values"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "timestamps"
    if dtype == object:
        first = values.dropna()
        first = first.iloc[0] if len(first) else None
        if isinstance(first, (bytes, bytearray)):
            return "bytes (a binary column)"
        if isinstance(first, decimal.Decimal):
            return "decimals (a Parquet decimal column: cast it to float64)"
        if isinstance(first, (datetime.date, datetime.time)):
            return "dates or times"
        if isinstance(first, (bool, np.bool_)):
            return "true/false values"
    return None


def _labels(series: pd.Series, column: str, class_names: list[str], task, name, where):
    """(y_true, class_names or None, what the labels are in words, task)."""
    if series.isna().any() and task != "multilabel":
        i = int(np.flatnonzero(series.isna().to_numpy())[0])
        raise InputError(f"{name}: label column {column!r}, {where(i)}: is empty")
    if _is_numeric(series) or pd.api.types.is_bool_dtype(series):
        numbers = series.to_numpy(dtype=np.float64)
        # not an integer, or none int64 holds (nan, inf, 1e300): cast, they would be garbage
        bad = (numbers != np.round(numbers)) | ~(np.abs(numbers) < 2**62)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{name}: label column {column!r}, {where(i)}: {numbers[i]:g} is not a class index")
        ints = numbers.astype(np.int64)
        present = np.unique(ints)
        if set(str(v) for v in present) <= set(class_names) and class_names != [
            str(i) for i in range(len(class_names))
        ]:
            return ints.astype(str), class_names, f"{column!r} (class names)", task
        bad = (ints < 0) | (ints >= len(class_names))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{name}: label column {column!r}, {where(i)}: {ints[i]} is not a class "
                f"index 0..{len(class_names) - 1} (nor a class name {class_names})"
            )
        return ints, class_names, f"{column!r} (class indices)", task
    # a label column holds few distinct values: factorize once (O(N)), then work on those
    codes, distinct = _text_codes(series)
    delimited = any(d in u for u in distinct for d in LABEL_DELIMITERS)
    if "" in distinct and task != "multilabel" and not delimited:
        i = int(np.flatnonzero(codes == distinct.index(""))[0])
        raise InputError(
            f"{name}: label column {column!r}, {where(i)}: is empty (a sample without a label; "
            "for multilabel data with empty label sets say --task multilabel)")

    def first_row(k: int) -> int:
        return int(np.flatnonzero(codes == k)[0])

    if task in ("multilabel", None):
        delimiter = next((d for d in LABEL_DELIMITERS if any(d in u for u in distinct)), None)
        if task == "multilabel" or delimiter is not None:
            y = _label_sets(distinct, codes, delimiter, class_names, column, name, where)
            return y, class_names, f"{column!r} (label sets split on {delimiter or '|'!r})", "multilabel"
    index = {c: i for i, c in enumerate(class_names)}
    unknown = [k for k, u in enumerate(distinct) if u not in index]
    if unknown:  # uniques are in order of appearance: the first unknown one is on the first row
        i = first_row(unknown[0])
        raise InputError(
            f"{name}: label column {column!r}, {where(i)}: {distinct[unknown[0]]!r} is not among "
            f"the classes {class_names}"
        )
    lookup = np.array([index[u] for u in distinct], dtype=np.int64)
    return lookup[codes], class_names, f"{column!r} (class names)", task


def _text_codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's text, stripped ("" where missing), as codes into the distinct texts in
    order of appearance (pd.factorize). A string column is factorized first and only its
    distinct values stripped: the same codes, with string work per distinct value.

    >>> codes, distinct = _text_codes(pd.Series(["cat", " dog", None, "dog "], dtype="str"))
    >>> codes.tolist(), distinct
    ([0, 1, 2, 1], ['cat', 'dog', ''])
    """
    def factorized(values: pd.Series) -> tuple[np.ndarray, list[str]]:
        codes, uniques = pd.factorize(values.astype(str).str.strip().where(values.notna(), ""))
        return codes, [str(u) for u in uniques]

    if not isinstance(series.dtype, pd.StringDtype):  # objects: 1 and 1.0 are one value
        return factorized(series)
    raw_codes, raw = pd.factorize(series, use_na_sentinel=False)
    codes, distinct = factorized(pd.Series(raw))
    return codes[raw_codes], distinct


def _label_sets(distinct, codes, delimiter, class_names, column, name, where) -> np.ndarray:
    """(N, K) indicators from label-set strings: each distinct set parsed once."""
    index = {c: i for i, c in enumerate(class_names)}
    rows = np.zeros((len(distinct), len(class_names)), dtype=bool)
    for k, text in enumerate(distinct):
        for label in text.split(delimiter or "|"):
            label = label.strip()
            if not label:
                continue
            j = index.get(label)
            if j is None:
                i = int(np.flatnonzero(codes == k)[0])
                raise InputError(
                    f"{name}: label column {column!r}, {where(i)}: {label!r} is not among the "
                    f"classes {class_names}"
                )
            rows[k, j] = True
    return rows[codes]


def _indicator_matrix(frame, indicators, class_names, name, where) -> np.ndarray:
    missing = [c for c in class_names if c not in indicators]
    if missing:
        raise InputError(
            f"{name}: no indicator column for class {missing[0]!r}; found "
            f"{', '.join(indicators.values())}"
        )
    blocks = []
    for cls in class_names:
        column = indicators[cls]
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = (values != 0) & (values != 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{name}: indicator column {column!r}, {where(i)}: {values[i]} is not 0 or 1")
        blocks.append(values == 1)
    return np.column_stack(blocks)


def _group_column(frame, column, name, where) -> np.ndarray:
    series = frame[column]
    if series.isna().any():
        i = int(np.flatnonzero(series.isna().to_numpy())[0])
        raise InputError(f"{name}: column {column!r}, {where(i)}: is empty")
    values = series.astype(str).str.strip().to_numpy(dtype=str)  # " test" is split "test"
    if (values == "").any():  # an empty CSV cell is an empty string, not a missing value
        i = int(np.flatnonzero(values == "")[0])
        raise InputError(f"{name}: column {column!r}, {where(i)}: is empty")
    return values


def _row_namer(fmt: str):
    """Rows as a user finds them: 1-based data rows, with the line of a text file."""
    if fmt in ("csv", "tsv"):
        return lambda i: f"row {i + 1} (line {i + 2})"
    return lambda i: f"row {i + 1}"


# --------------------------------------------------------------------------- arrays


def read_npz(source: Source, *, max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Every array of an .npz archive, read with ``allow_pickle=False``.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "preds.npz")
    >>> np.savez(path, y_true=np.array([0, 1]), y_score=np.array([0.2, 0.9]))
    >>> arrays = read_npz(path)
    >>> sorted(arrays), arrays["y_score"].tolist()
    (['y_score', 'y_true'], [0.2, 0.9])
    """
    name = source_name(source)
    data = read_bytes(source, max_bytes=max_bytes)
    if data.startswith(b"\x93NUMPY"):
        raise InputError(f"{name}: holds a single array (.npy), expected an .npz archive")
    if not data.startswith(b"PK"):
        raise InputError(f"{name}: not an .npz archive (a zip of .npy arrays)")
    limit = max_bytes or max_bytes_default()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = 0
            for member in archive.infolist():
                if member.filename.endswith(".npy"):
                    with archive.open(member) as stream:
                        total += _npy_bytes(stream, f"{name}: {member.filename}")
        check_expanded(name, total, limit, "declares arrays")
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except InputError:
        raise
    # object arrays refused by allow_pickle=False; bad headers (numpy's header parser may
    # raise tokenize.TokenError, not ValueError)
    except (ValueError, tokenize.TokenError) as error:
        raise InputError(
            f"{name}: cannot read as NumPy arrays without unpickling ({_first_line(error)})"
        ) from None
    except MemoryError:
        raise InputError(f"{name}: declares an array too large for memory") from None
    # damaged or unsupported zip: bad deflate data, zip features zipfile lacks, encryption
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, zlib.error, NotImplementedError,
            RuntimeError) as error:
        raise InputError(f"{name}: not a readable .npz file ({_first_line(error)})") from None


def read_npy(source: Source, *, max_bytes: int | None = None) -> np.ndarray:
    """One .npy array, read with ``allow_pickle=False``.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "scores.npy")
    >>> np.save(path, np.array([[0.2, 0.8], [0.7, 0.3]]))
    >>> read_npy(path).tolist()
    [[0.2, 0.8], [0.7, 0.3]]
    """
    name = source_name(source)
    data = read_bytes(source, max_bytes=max_bytes)
    if not data.startswith(b"\x93NUMPY"):
        raise InputError(f"{name}: not an .npy file")
    check_expanded(name, _npy_bytes(io.BytesIO(data), name), max_bytes or max_bytes_default(),
                   "declares an array")
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError, tokenize.TokenError) as error:
        raise InputError(
            f"{name}: cannot read as a NumPy array without unpickling ({_first_line(error)})"
        ) from None
    except MemoryError:  # a header declaring a huge shape: numpy allocates before reading
        raise InputError(f"{name}: declares an array too large for memory") from None


def _npy_bytes(stream, name: str) -> int:
    """The bytes an .npy array declares in its header (shape x item size), read before the
    array is: numpy allocates by the header."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    except (ValueError, tokenize.TokenError, EOFError, OSError) as error:
        raise InputError(f"{name}: cannot read as a NumPy array without unpickling "
                         f"({_first_line(error)})") from None
    count = 1
    for size in shape:
        count *= int(size)
    return count * max(dtype.itemsize, 1)


def _load_npz(source: Source, mapping: Mapping, max_bytes: int | None) -> Loaded:
    name = source_name(source)
    arrays = read_npz(source, max_bytes=max_bytes)
    missing = [key for key in ("y_true", "y_score") if key not in arrays]
    if missing:
        raise InputError(
            f"{name}: missing array {missing[0]!r}; found {sorted(arrays)}, expected "
            "'y_true', 'y_score' and optionally 'class_names', 'split', 'model'"
        )
    known = ("y_true", "y_score", "class_names", "split", "model")
    return _from_arrays(
        arrays, mapping, name, "npz", ignored=tuple(k for k in arrays if k not in known)
    )


def _load_npy_pair(labels: Source, scores: Source, mapping, max_bytes) -> Loaded:
    name = f"{source_name(labels)} + {source_name(scores)}"
    arrays = {
        "y_true": read_npy(labels, max_bytes=max_bytes),
        "y_score": read_npy(scores, max_bytes=max_bytes),
    }
    return _from_arrays(arrays, mapping, name, "npy")


def _from_arrays(arrays, mapping: Mapping, name: str, fmt: str, ignored=()) -> Loaded:
    names = mapping.class_names
    if names is None and "class_names" in arrays:
        names = [_text(v) for v in np.asarray(arrays["class_names"]).reshape(-1).tolist()]
    groups = {}
    try:
        predictions = Predictions.from_arrays(
            arrays["y_true"], arrays["y_score"], class_names=names,
            task=mapping.task, score_kind=mapping.score_kind,
        )
        for key in ("split", "model"):
            if key in arrays:
                values = np.array([_text(v).strip() for v in
                                   np.asarray(arrays[key]).reshape(-1).tolist()], dtype=str)
                if values.size != predictions.n_samples:
                    raise InputError(
                        f"{key!r} has {values.size} values but there are {predictions.n_samples} rows"
                    )
                groups[key] = values
    except InputError as error:
        raise InputError(f"{name}: {error}") from None
    predictions = replace(predictions, **groups)
    layout = Layout(
        file=name, format=fmt, n_rows=predictions.n_samples, labels="array y_true",
        split_column="split" if "split" in groups else None,
        model_column="model" if "model" in groups else None,
        ignored_columns=tuple(ignored),
    )
    return Loaded(predictions, layout)


# --------------------------------------------------------------------------- scores to decide


@dataclass(frozen=True, eq=False)
class ScoreTable:
    """Scores of known classes read from a file that need not hold labels (to apply a
    decision): the (N, C) matrix, the kind its columns say (None: not said), and the ids and
    labels when the file has them.

    >>> new = NamedBytes("new.csv", b"id,prob_cat,prob_dog\\na,0.9,0.1\\n")
    >>> table = read_scores(new, ["cat", "dog"])
    >>> table.scores.tolist(), table.score_kind, table.ids.tolist(), table.labels
    ([[0.9, 0.1]], 'probability', ['a'], None)
    """

    scores: np.ndarray
    score_kind: ScoreKind | None
    ids: np.ndarray | None = None
    labels: np.ndarray | None = None
    columns: tuple[str, ...] = ()


def read_scores(source: Source, scored: Sequence[str], *, max_bytes: int | None = None
                ) -> ScoreTable:
    """The score columns of ``scored`` classes (``prob_<c>``, ``logit_<c>``, ... or ``<c>``)
    of a CSV/TSV/Parquet table, or ``y_score`` of an NPZ (``id``, ``y_true`` optional) or one
    NPY array; an ``id`` and a label column are carried when present.

    >>> new = NamedBytes("new.csv", b"id,logit_cat,logit_dog\\na,2.0,-1.0\\nb,0.5,1.5\\n")
    >>> table = read_scores(new, ["cat", "dog"])
    >>> table.scores.tolist(), table.score_kind, table.ids.tolist(), table.columns
    ([[2.0, -1.0], [0.5, 1.5]], 'logit', ['a', 'b'], ('logit_cat', 'logit_dog'))
    """
    name = source_name(source)
    fmt = file_format(source)
    if fmt == "npy":
        return ScoreTable(read_npy(source, max_bytes=max_bytes), None)
    if fmt == "npz":
        arrays = read_npz(source, max_bytes=max_bytes)
        if "y_score" not in arrays:
            raise InputError(f"{name}: missing array 'y_score'; found {sorted(arrays)}")
        ids = arrays.get("id")
        labels = arrays.get("y_true")
        return ScoreTable(arrays["y_score"], None,
                          None if ids is None else np.asarray(ids).astype(str),
                          None if labels is None or labels.ndim != 1 else labels.astype(str))
    frame = read_table(source, max_bytes=max_bytes)
    columns = [str(c) for c in frame.columns]
    chosen, prefixes = [], set()
    for cls in scored:
        found = [c for c in columns if _strip_prefix(c)[0] == cls and (
            _strip_prefix(c)[1] or c == cls)]
        if len(found) != 1:
            what = "no score column" if not found else f"{len(found)} score columns ({', '.join(found)})"
            raise InputError(
                f"{name}: {what} for class {cls!r}; expected one of prob_{cls}, logit_{cls} or "
                f"{cls} (columns are {columns})")
        chosen.append(found[0])
        prefixes.add(_strip_prefix(found[0])[1])
    if len({p == "logit_" for p in prefixes}) > 1:
        raise InputError(f"{name}: score columns mix logits and probabilities: {chosen}")
    kind: ScoreKind | None = None
    if prefixes == {"logit_"}:
        kind = "logit"
    elif prefixes and prefixes <= {"prob_", "proba_", "p_"}:
        kind = "probability"
    scores = _score_matrix(frame, chosen, name, _row_namer(fmt))
    lower = {c.lower(): c for c in reversed(columns)}
    id_column = lower.get("id")
    label = next((lower[c] for c in LABEL_COLUMNS if c in lower), None)
    return ScoreTable(
        scores, kind,
        None if id_column is None else frame[id_column].astype(str).to_numpy(dtype=object),
        None if label is None else frame[label].astype(str).to_numpy(dtype=object),
        tuple(chosen),
    )


def read_cost_matrix(source: Source, classes: Sequence[str]) -> np.ndarray:
    """A cost matrix from a small table: a header of predicted class names (optionally
    ``abstained`` last), one row per true class named in the first column; rows and columns
    in any order, returned in ``classes`` order, K x K or K x (K + 1).

    ``costs.csv``::

        true,cat,dog,abstained
        cat,0,1,0.2
        dog,5,0,0.2

    >>> costs = NamedBytes("costs.csv", b"true,cat,dog,abstained\\ncat,0,1,0.2\\ndog,5,0,0.2\\n")
    >>> read_cost_matrix(costs, ["dog", "cat"]).tolist()   # rows and columns in class order
    [[0.0, 5.0, 0.2], [1.0, 0.0, 0.2]]
    """
    name = source_name(source)
    frame = read_table(source)
    columns = [str(c) for c in frame.columns]
    classes = [str(c) for c in classes]
    predicted = columns[1:]
    abstains = predicted[-1:] == ["abstained"]
    named = predicted[:-1] if abstains else predicted
    for what, given in (("columns", named),
                        ("rows", frame[columns[0]].astype(str).str.strip().tolist())):
        missing = [c for c in classes if c not in given]
        unknown = [c for c in given if c not in classes]
        if missing or unknown or len(given) != len(classes):
            problem = (f"no {what[:-1]} for class {missing[0]!r}" if missing else
                       f"{what[:-1]} {unknown[0]!r} is not a class" if unknown else
                       f"a class appears twice among the {what}")
            raise InputError(
                f"{name}: {problem}; expected a header 'true,{','.join(classes)}[,abstained]' "
                f"and one row per class {classes}")
    frame = frame.set_index(frame[columns[0]].astype(str).str.strip())
    order = classes + (["abstained"] if abstains else [])
    values = _score_matrix(frame.reset_index(drop=True), order, name, _row_namer("csv"))
    rows = [list(frame.index).index(c) for c in classes]
    return values[rows].astype(np.float64)


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """A DataFrame as CSV or Parquet, by the path's extension.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "decisions.csv")
    >>> write_table(pd.DataFrame({"id": ["a", "b"], "predicted": ["cat", "dog"]}), path)
    >>> print(open(path).read().strip())
    id,predicted
    a,cat
    b,dog
    """
    path = Path(path)
    fmt = TABLE_FORMATS.get(path.suffix.lower())
    if fmt not in ("csv", "parquet"):
        raise InputError(f"{path}: expected an output file ending in .csv or .parquet")
    try:
        if fmt == "csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
    except OSError as error:
        raise InputError(f"{path}: cannot write ({_first_line(error)})") from None


# --------------------------------------------------------------------------- writing


def write_predictions(
    predictions: Predictions, path: str | Path, *, raw_scores: np.ndarray | None = None
) -> None:
    """Write Predictions as a wide-layout CSV or Parquet file that :func:`load` reads back to
    the same values: a ``label`` column (or ``true_<class>`` columns for multilabel), one
    ``prob_<class>`` column per scored class, and ``split``/``model`` when present.

    ``raw_scores``: the logits the predictions were converted from. When given and the
    predictions are logits, they are written as ``logit_<class>`` columns instead (one per
    class; one, the positive class', for binary), which read back as the same probabilities
    and score kind ``logit``.

    >>> import os, tempfile
    >>> p = Predictions.from_arrays([0, 1, 1], np.array([[.8, .2], [.6, .4], [.1, .9]]),
    ...                             class_names=["cat", "dog"])
    >>> path = os.path.join(tempfile.mkdtemp(), "preds.parquet")
    >>> write_predictions(p, path)
    >>> read_table(path).columns.tolist()
    ['label', 'prob_cat', 'prob_dog']
    >>> load_predictions(path).scores.tolist() == p.scores.tolist()
    True
    """
    path = Path(path)
    if TABLE_FORMATS.get(path.suffix.lower()) not in ("csv", "parquet"):
        raise InputError(f"{path}: expected an output file ending in .csv or .parquet")
    p = predictions
    prefix, scores = "prob_", p.scores
    if raw_scores is not None and p.score_kind == "logit":
        prefix, scores = "logit_", _raw_logits(p, raw_scores)
    columns: dict[str, np.ndarray] = {}
    if p.task == "multilabel":
        for j, cls in enumerate(p.class_names):
            columns[f"true_{cls}"] = p.y_true[:, j].astype(np.int8)
    else:
        columns["label"] = np.asarray(p.class_names, dtype=object)[p.y_true]
    for j, cls in enumerate(p.curve_names):
        # float64 holds every float32 exactly; CSV writes the shortest round-trip text
        columns[f"{prefix}{cls}"] = scores[:, j].astype(np.float64)
    for key in ("split", "model"):
        if getattr(p, key) is not None:
            columns[key] = getattr(p, key)
    write_table(pd.DataFrame(columns), path)


def _raw_logits(p: Predictions, raw_scores) -> np.ndarray:
    """The (N, C) logits to write for ``p``, one column per curve, in float64."""
    raw = np.asarray(raw_scores, dtype=np.float64)
    if raw.ndim == 1:
        raw = raw[:, None]
    if p.task == "binary" and raw.ndim == 2 and raw.shape[1] == 2:
        # two-column binary logits: softmax's positive column is exactly the sigmoid of the
        # difference d (both compute 1 / (1 + e) or e / (1 + e), e = exp(-|d|), from the same d)
        raw = raw[:, 1:] - raw[:, :1]
    if raw.shape != p.scores.shape:
        raise InputError(
            f"raw_scores has shape {raw.shape}, expected {p.scores.shape} (one column per "
            f"class{'; one for binary' if p.task == 'binary' else ''})"
        )
    return raw


# --------------------------------------------------------------------------- helpers


def _line_of(data: bytes, row) -> int | str:
    """The 1-based line of a row pyarrow refused (it does not count lines when threaded)."""
    if row.number and row.number > 0:
        return row.number
    if not row.text:
        return "?"
    for encoding in ("utf-8", "latin-1"):
        needle = row.text.encode(encoding, errors="replace")
        at = data.find(needle)
        while at >= 0:  # a whole line, not the start of a longer one ("b,0.6" in "b,0.6,0.4")
            end = at + len(needle)
            if (at == 0 or data[at - 1:at] == b"\n") and data[end:end + 1] in (b"", b"\n", b"\r"):
                return _count(memoryview(data)[:at], b"\n") + 1
            at = data.find(needle, at + 1)
    return "?"


def _text(value) -> str:
    """An array element as text: bytes decoded as UTF-8 (NPZ string arrays saved as bytes)."""
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"class, split and model names must be UTF-8 text, got {value!r}") from None
    return str(value)


def _span(columns: Sequence[str]) -> str:
    """Names for a one-line message: at most four, control characters escaped."""
    names = [repr(str(c))[1:-1] for c in columns]
    return ", ".join(names) if len(names) <= 4 else f"{names[0]} .. {names[-1]} ({len(names)})"


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def _human(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} bytes"
