"""Cached loading: a data source -> Loaded -> the selected Predictions -> CurveSet.

A source is an address: a demo's name, the content hash of uploaded files, which are kept
in the upload store (:mod:`dashboard.store`) and read from there when the data is not in
memory, or a path under the server's data directory (:mod:`dashboard.server_data`), which the
DuckDB engine evaluates out of core: exact curves over every row, and a stratified sample of
rows for what needs rows (sliders, calibration, bootstrap). Loaded data and curves live in one process-wide cache bounded by bytes, shared by
every session: ten sessions on the same file hold one copy. ``Source`` carries no bytes, so a
session's state stays small and a closed session frees nothing but its own views. Nothing
here may mutate the shared objects.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import streamlit as st

from dashboard import server_data, timing
from dashboard.store import Stored, UploadStore, default_store, file_digest, source_key
from evalcore import CurveSet, Predictions, compute_curves, demos
from evalcore.decisions import Confusion, Decision
from evalcore.errors import InputError
from evalcore.io import Layout, Loaded, Mapping, NamedBytes, load, parse_size

if TYPE_CHECKING:
    from evalcore.stats import RateIntervals, SummaryIntervals

#: the shared cache of loaded data and curves, in bytes (EVALCORE_CACHE_BYTES)
DEFAULT_CACHE_BYTES = 2 << 30


@dataclass(frozen=True)
class Source:
    """Where the data comes from: a demo, uploaded prediction file(s), or a Keras model and
    its data. ``key``: the demo's name or the content hash (the store's key). ``files``: the
    bytes, only until they are in the store."""

    kind: str  # "demo" | "file" | "model" | "server"
    key: str  # server: the path or glob, relative to the data directory
    label: str  # what the user sees
    files: tuple[NamedBytes, ...] = field(default=(), compare=False, repr=False)
    label_column: str | None = None  # of a Keras data table
    layer: str | None = None  # Keras layer to evaluate

    def without_bytes(self) -> Source:
        return Source(self.kind, self.key, self.label, (), self.label_column, self.layer)


@dataclass(frozen=True, eq=False)
class Dataset:
    """The data every page shows: the whole file, the selected rows and their curves."""

    source: Source
    mapping: Mapping
    loaded: Loaded
    predictions: Predictions
    curves: CurveSet
    split: str | None
    model: str | None
    full: FullData | None = None  # a server dataset: what was counted over every row

    @property
    def key(self) -> str:
        """Identifies the classes and rows the thresholds belong to."""
        key = f"{self.source.key}|{self.mapping!r}|{self.split}|{self.model}"
        if self.full is not None:  # the files' sizes and times: changed files, new dataset
            key += f"|{hash(self.full.table.resolved.fingerprint):x}"
        return key

    @property
    def sampled(self) -> bool:
        """True when ``predictions`` are a sample of the rows the curves were counted on."""
        return self.full is not None and self.predictions.n_samples < self.full.n_rows


def upload_source(kind: str, files: tuple[NamedBytes, ...], digests: tuple[str, ...],
                  label_column: str | None = None, layer: str | None = None) -> Source:
    """The source of uploaded files (``digests``: their :func:`~dashboard.store.file_digest`)."""
    key = source_key(kind, digests, label_column, layer)
    if kind == "model":
        label = f"{files[0].name} on {files[1].name}"
    else:
        label = " + ".join(f.name for f in files)
    return Source(kind, key, label, files, label_column, layer)


def demo_source(name: str) -> Source:
    return Source("demo", name, demos.DESCRIPTIONS.get(name, name))


def stored_source(key: str) -> Source | None:
    """The source an address names, if its files are still in the store."""
    stored = store().get(key)
    if stored is None:
        return None
    names = [f.name for f in stored.files]
    label = (f"{names[0]} on {names[1]}" if stored.kind == "model" else " + ".join(names))
    return Source(stored.kind, key, label, (), stored.label_column, stored.layer)


def keep(source: Source, into: UploadStore | None = None) -> tuple[Source, bool]:
    """Put an upload's files in the store (``into``, default :func:`store`): the source
    without its bytes when they are safely there (else with them, so that nothing is lost),
    and whether they were there already."""
    if source.kind == "demo" or not source.files:
        return source, True
    s = into if into is not None else store()
    before = s.has(source.key)
    with timing.phase("upload: store"):
        s.put(source.kind, source.files, source.label_column, source.layer, key=source.key)
    return (source.without_bytes() if s.has(source.key) else source), before


def keep_in_background(source: Source) -> Future:
    """:func:`keep` in a thread of its own, so that the store writes an upload while it is
    read (writing and parsing both release the GIL): a Future of keep's answer, done at once
    when there is nothing to write (a demo, or files the store has already)."""
    s = store()
    if source.kind == "demo" or not source.files or s.has(source.key):
        done: Future = Future()
        done.set_result(keep(source, s))
        return done
    pool = ThreadPoolExecutor(1, thread_name_prefix="evalcore-store")
    try:
        return pool.submit(keep, source, s)
    finally:
        pool.shutdown(wait=False)  # the thread ends with the write


def _files(source: Source) -> tuple[NamedBytes, ...]:
    if source.files:
        return source.files
    stored: Stored | None = store().get(source.key)
    if stored is None:
        raise InputError(f"{source.label}: no longer on this server; upload it again")
    return stored.files


@st.cache_resource
def store() -> UploadStore:
    """The upload store of this server process."""
    return default_store()


# --------------------------------------------------------------------------- the shared cache


class SharedCache:
    """Values by key, bounded by their bytes (least recently used out first), computed once
    even when several sessions ask at the same time."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._values: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Any, threading.Lock] = {}

    def get(self, key, compute: Callable[[], Any]):
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key][0]
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:  # one session computes; the others wait for its value
            with self._lock:
                if key in self._values:
                    self._values.move_to_end(key)
                    return self._values[key][0]
            value = compute()
            size = nbytes(value)
            with self._lock:
                self._values[key] = (value, size)
                self._computing.pop(key, None)
                total = sum(s for _, s in self._values.values())
                while total > self.max_bytes and len(self._values) > 1:
                    _, (_, dropped) = self._values.popitem(last=False)
                    total -= dropped
            return value

    def has(self, key) -> bool:
        """Whether ``key``'s value is in the cache (computed already)."""
        with self._lock:
            return key in self._values

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(s for _, s in self._values.values())


def nbytes(value, _seen: set[int] | None = None) -> int:
    """The bytes of the NumPy arrays a value holds (dataclasses, tuples, lists, dicts)."""
    seen = set() if _seen is None else _seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        base = value if value.base is None else value.base
        return 0 if id(base) in seen and base is not value else value.nbytes
    if is_dataclass(value) and not isinstance(value, type):
        items = [getattr(value, f.name) for f in fields(value)] + list(
            getattr(value, "__dict__", {}).values())
    elif isinstance(value, (tuple, list)):
        items = list(value)
    elif isinstance(value, dict):
        items = list(value.values())
    else:
        return 0
    return sum(nbytes(item, seen) for item in items)


@st.cache_resource
def shared() -> SharedCache:
    """The process-wide cache of loaded data and curves (and, once per process, a thread that
    hands freed memory back to the system)."""
    size = os.environ.get("EVALCORE_CACHE_BYTES")
    threading.Thread(target=_trim_memory_forever, daemon=True, name="evalcore-trim").start()
    return SharedCache(parse_size(size) if size else DEFAULT_CACHE_BYTES)


TRIM_EVERY = 10.0  # seconds


def _trim_memory_forever() -> None:
    """glibc keeps freed heap memory for reuse: after uploads and closed sessions the server
    would hold on to it. malloc_trim(0) every few seconds returns it (Linux; elsewhere a no-op)."""
    import ctypes
    import ctypes.util
    import time

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return
    while True:
        time.sleep(TRIM_EVERY)
        trim(0)


# --------------------------------------------------------------------------- loading


def load_source(
    source: Source, mapping: Mapping, progress: Callable[[int, int], None] | None = None
) -> Loaded | ServerTable:
    """The whole file, read once per content and mapping for every session (InputError on
    bad input); a server dataset: opened and checked (:func:`open_server`)."""
    if source.kind == "server":
        return open_server(source, mapping)

    def compute() -> Loaded:
        if source.kind == "demo":
            return demos.load_demo(source.key, mapping)
        if source.kind == "model":
            return _run_model(source, progress)
        with timing.phase("load"):
            return load(list(_files(source)), mapping)

    return shared().get(("loaded", source.key, repr(mapping)), compute)


def _run_model(source: Source, progress: Callable[[int, int], None] | None) -> Loaded:
    from evalcore import models  # TensorFlow only when a model is given

    model, data = _files(source)
    predictions = models.predict(
        model, data, label_column=source.label_column, layer=source.layer, progress=progress,
    )
    layout = Layout(
        file=f"{model.name} on {data.name}", format="keras",
        n_rows=predictions.n_samples, labels=source.label_column or "array y",
    )
    return Loaded(predictions, layout)


def curves_for(source: Source, mapping: Mapping, split: str | None, model: str | None,
               predictions: Predictions) -> CurveSet:
    """The (shared) curves of the rows of one split and model of a source."""
    def compute() -> CurveSet:
        with timing.phase("curves"):
            return compute_curves(predictions)

    return shared().get(("curves", source.key, repr(mapping), split, model), compute)


def dataset(source: Source, mapping: Mapping, loaded: Loaded | ServerTable, split: str | None,
            model: str | None, progress: Callable[[float, str], None] | None = None) -> Dataset:
    """Select the rows of one split and model and attach their (shared) curves."""
    if isinstance(loaded, ServerTable):
        return server_dataset(source, mapping, loaded, split, model, progress)
    predictions = loaded.predictions.select(split=split, model=model)
    curves = curves_for(source, mapping, split, model, predictions)
    return Dataset(source, mapping, loaded, predictions, curves, split, model)


def split_curves_for(data: Dataset, split: str) -> CurveSet:
    """The (shared) curves of one split of the same model."""
    p = data.loaded.predictions.select(split=split, model=data.model)
    return curves_for(data.source, data.mapping, split, data.model, p)


def split_curves(data: Dataset) -> list[tuple[str, CurveSet]]:
    """Curves of every other split of the same model, for overlays."""
    return [(split, split_curves_for(data, split))
            for split in data.loaded.predictions.splits if split != data.split]


def auc_intervals(data: Dataset) -> list:
    """DeLong's 95% interval of every class' ROC AUC (shared with the curves)."""
    from evalcore.stats import auc_intervals as compute

    return shared().get(("delong", data.key), lambda: compute(data.curves))


@dataclass(frozen=True, eq=False)
class Bootstrapped:
    """The Overview's bootstrap of one dataset: the summary intervals and the rates'
    intervals of the decision they were computed for."""

    key: str  # the dataset's
    summary: SummaryIntervals
    rates: RateIntervals
    decision: Decision

    def rates_of(self, decision: Decision) -> RateIntervals | None:
        """The rates' intervals, when they are ``decision``'s own (else None)."""
        return self.rates if decision == self.decision else None


def bootstrap(data: Dataset, decision: Decision,
              progress: Callable[[float, str], None] | None = None) -> Bootstrapped:
    """Bootstrap intervals of the summary (AP, micro/macro AUC, accuracy) and of the
    decision's per-class precision, recall and F1 on ``data``'s rows (the sample of a server
    dataset); ``progress(fraction, text)``."""
    from evalcore.stats import rate_intervals, summary_intervals

    def part(offset: float):
        if progress is None:
            return None
        return lambda done, total: progress(offset + done / total / 2,
                                            f"Resampling: {done} / {total}")

    summary = summary_intervals(data.predictions, rows_curves(data), progress=part(0.0))
    rates = rate_intervals(data.predictions, decision, progress=part(0.5))
    return Bootstrapped(data.key, summary, rates, decision)


def report_html(data: Dataset, decision, intervals: SummaryIntervals | None = None) -> str:
    """The self-contained HTML report of the current view."""
    from evalcore.calibration import calibration
    from evalcore.report import render_report

    provenance = {"file": data.source.label, "content": data.source.key, "split": data.split,
                  "model": data.model, "rows in file": data.loaded.layout.n_rows,
                  "detected": data.loaded.layout.describe(data.loaded.predictions)}
    if data.full is not None:
        provenance["detected"] = data.full.table.description
        provenance["rows in file"] = data.full.table.n_rows
    if data.sampled:
        provenance["rows counted"] = (
            f"curves and AUCs: all {data.full.n_rows:,} rows; the decision's counts and "
            f"calibration: a stratified sample of {data.predictions.n_samples:,} rows (seed "
            f"{SAMPLE_SEED})")
    return render_report(data.predictions, data.curves, decision, provenance=provenance,
                         intervals=intervals, calibration=calibration(data.predictions))


def digest(upload) -> str:
    """An upload's digest (hashed once per upload and session: hashing 100 MB on every rerun
    would cost more than the rerun)."""
    from dashboard import state

    hashes = st.session_state.setdefault(state.HASHES, {})
    if upload.file_id not in hashes:
        with timing.phase("upload: hash"):
            hashes[upload.file_id] = file_digest(NamedBytes(upload.name, upload.getvalue()))
    return hashes[upload.file_id]


def second_file(upload) -> Source:
    """The source of a second prediction file (the Compare page)."""
    return upload_source("file", (NamedBytes(upload.name, upload.getvalue()),),
                         (digest(upload),))


# --------------------------------------------------------------------------- server datasets

ENGINE = "duckdb"
#: the sample the pages count on while sliders move (rows: EVALCORE_SAMPLE_ROWS; seed)
SAMPLE_ROWS, SAMPLE_SEED = 1_000_000, 0
#: one DuckDB query at a time in this process: the memory limit holds for the whole server.
#: A DuckDataset is opened per request (0.5 s on 1e7 rows), never shared between threads.
_ENGINE_LOCK = threading.Lock()


@dataclass(frozen=True)
class ServerTable:
    """A server dataset opened and checked (every row), before a split and model are chosen:
    what the sidebar shows and offers."""

    resolved: server_data.Resolved
    layout: Layout
    description: str  # DuckDataset.describe(): one line
    n_rows: int
    splits: tuple[str, ...]
    models: tuple[str, ...]
    defaults: tuple[tuple[str | None, str | None], ...]  # (split, its default model)
    seconds: float  # to open and check every row

    def default_model(self, split: str | None) -> str | None:
        """The model the engine picks for ``split`` (as :meth:`Loaded.default_model`)."""
        return dict(self.defaults).get(split, self.models[0] if self.models else None)


@dataclass(frozen=True, eq=False)
class FullData:
    """What the DuckDB engine counted over every row of one split and model."""

    table: ServerTable
    n_rows: int  # rows of the selection: the curves' rows
    seconds: float  # to open, sort every curve and draw the sample
    key: tuple  # the cache key of these statistics


@dataclass(frozen=True)
class ExactCount:
    """A decision counted over every row of a server dataset, and how long it took."""

    decision: Decision
    confusion: Confusion
    n_rows: int
    seconds: float


def sample_rows() -> int:
    """Rows of a server dataset's sample (EVALCORE_SAMPLE_ROWS, default 1,000,000)."""
    value = os.environ.get("EVALCORE_SAMPLE_ROWS", "").strip()
    try:
        return max(int(float(value)), 1) if value else SAMPLE_ROWS
    except ValueError:
        return SAMPLE_ROWS


def server_source(pattern: str) -> Source:
    """The source of a path or glob under the data directory (checked when it is read)."""
    text = pattern.strip()
    return Source("server", text, text)


def _engine(resolved: server_data.Resolved, mapping: Mapping):
    """A DuckDataset of the checked real paths, under the app's memory limit."""
    from evalcore.engines.duck import DuckDataset

    return DuckDataset(list(resolved.files), mapping=mapping,
                       memory_limit=server_data.memory_limit())


def _one_line(label: str, error: Exception) -> InputError:
    """Any failure of the engine as one line naming the dataset."""
    if isinstance(error, InputError):
        return error
    text = (str(error).strip().splitlines() or [""])[0]
    return InputError(f"{label}: could not be evaluated ({type(error).__name__}: {text})")


def open_server(source: Source, mapping: Mapping) -> ServerTable:
    """The dataset a server source names, opened and checked once per files (their real
    paths, sizes and times) and mapping, for every session."""
    resolved = server_data.resolve(source.key)

    def compute() -> ServerTable:
        start = time.perf_counter()
        try:
            with _ENGINE_LOCK, _engine(resolved, mapping) as engine:
                splits, models = engine.splits, engine.models
                defaults = []
                for split in (*splits, None):
                    engine.select(split=split)
                    defaults.append((split, engine.info.models[0] if models else None))
                return ServerTable(resolved, engine.layout, engine.describe(), engine.n_rows,
                                   splits, models, tuple(defaults),
                                   time.perf_counter() - start)
        except Exception as error:  # never a traceback in the app
            raise _one_line(source.label, error) from None

    return shared().get(("server-table", resolved.fingerprint, repr(mapping)), compute)


def server_dataset(source: Source, mapping: Mapping, table: ServerTable, split: str | None,
                   model: str | None,
                   progress: Callable[[float, str], None] | None = None) -> Dataset:
    """Curves over every row of one split and model, and the stratified sample the pages
    count on; computed once, in a thread of its own (:func:`in_background`), for every
    session (``progress(share, text)`` while it waits)."""
    rows = sample_rows()
    key = ("server-stats", table.resolved.fingerprint, repr(mapping), ENGINE, split, model,
           rows, SAMPLE_SEED)

    def compute(say: Callable[[float, str], None]):
        start = time.perf_counter()
        try:
            with _ENGINE_LOCK:
                say(0.0, "opening")
                with _engine(table.resolved, mapping) as engine:
                    engine.select(split=split, model=model)
                    n = engine.info.n_samples
                    say(0.05, f"sorting the scores of {n:,} rows, curve 1 of "
                              f"{len(engine.info.curve_names)}")
                    curves = engine.curves(progress=lambda done, total: say(
                        0.05 + 0.75 * done / total,
                        f"sorted curve {done} of {total}; " + (
                            f"curve {done + 1} next" if done < total
                            else "the micro average next (every cell, when binned)")))
                    say(0.8, f"drawing a stratified sample of {rows:,} rows")
                    sample = engine.stratified_sample(rows, SAMPLE_SEED)
        except Exception as error:
            raise _one_line(source.label, error) from None
        return curves, sample, n, time.perf_counter() - start

    curves, sample, n, seconds = in_background(key, compute, progress)
    loaded = Loaded(sample, table.layout)
    return Dataset(source, mapping, loaded, sample, curves, split, model,
                   FullData(table, n, seconds, key))


class _Job:
    """A computation of the shared cache running in its own thread: what it is doing (for
    every session that waits), then its value or its error."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.progress: tuple[float, str] = (0.0, "waiting for the engine")
        self.value: Any = None
        self.error: BaseException | None = None

    def report(self, share: float, text: str) -> None:
        self.progress = (min(max(share, 0.0), 1.0), text)


_JOBS: dict[Any, _Job] = {}
_JOBS_LOCK = threading.Lock()


def in_background(key, compute: Callable[[Callable[[float, str], None]], Any],
                  progress: Callable[[float, str], None] | None = None, poll: float = 0.25):
    """``shared().get(key, ...)`` computed in a thread of its own: a rerun of the session that
    asked (a click while it waits) does not abandon the work, and every session that asks
    meanwhile waits for the same job, seeing its ``progress(share, text)``."""
    cache = shared()
    if cache.has(key):
        return cache.get(key, lambda: compute(lambda share, text: None))
    with _JOBS_LOCK:
        job = _JOBS.get(key)
        if job is None:
            job = _JOBS[key] = _Job()

            def run(job: _Job = job) -> None:
                try:
                    job.value = cache.get(key, lambda: compute(job.report))
                except BaseException as error:  # handed to whoever waits
                    job.error = error
                finally:
                    with _JOBS_LOCK:
                        _JOBS.pop(key, None)
                    job.done.set()

            threading.Thread(target=run, daemon=True, name="evalcore-engine").start()
    while not job.done.wait(poll):
        if progress is not None:
            progress(*job.progress)
    if job.error is not None:
        raise job.error
    return job.value


def is_computed(table: ServerTable, mapping: Mapping, split: str | None,
                model: str | None) -> bool:
    """Whether the statistics of this selection are in the cache already."""
    return shared().has(("server-stats", table.resolved.fingerprint, repr(mapping), ENGINE,
                         split, model, sample_rows(), SAMPLE_SEED))


def count_exactly(data: Dataset, decision: Decision) -> ExactCount:
    """``decision`` counted over every row of the server dataset (one scan; shared by every
    session that asks for the same decision)."""
    if data.full is None:
        raise InputError("exact counts are for a dataset on the server")
    full = data.full

    def compute() -> ExactCount:
        start = time.perf_counter()
        try:
            with _ENGINE_LOCK, _engine(full.table.resolved, data.mapping) as engine:
                engine.select(split=data.split, model=data.model)
                result = engine.confusion(decision)
        except Exception as error:
            raise _one_line(data.source.label, error) from None
        return ExactCount(decision, result, full.n_rows, time.perf_counter() - start)

    return shared().get(("server-exact", full.key, repr(decision)), compute)


def rows_curves(data: Dataset) -> CurveSet:
    """The curves of the rows the pages count on: the dataset's own, or those of a server
    dataset's sample (for what pairs rows with curves: bootstrap intervals)."""
    if not data.sampled:
        return data.curves
    return shared().get(("sample-curves", data.full.key),
                        lambda: compute_curves(data.predictions))
