"""Cached loading: a data source -> Loaded -> the selected Predictions -> CurveSet.

A source is an address: a demo's name, or the content hash of uploaded files, which are kept
in the upload store (:mod:`dashboard.store`) and read from there when the data is not in
memory. Loaded data and curves live in one process-wide cache bounded by bytes, shared by
every session: ten sessions on the same file hold one copy. ``Source`` carries no bytes, so a
session's state stays small and a closed session frees nothing but its own views. Nothing
here may mutate the shared objects.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Callable

import numpy as np
import streamlit as st

from dashboard.store import Stored, UploadStore, default_store, file_digest, source_key
from evalcore import CurveSet, Predictions, compute_curves, demos
from evalcore.errors import InputError
from evalcore.io import Layout, Loaded, Mapping, NamedBytes, load, parse_size

#: the shared cache of loaded data and curves, in bytes (EVALCORE_CACHE_BYTES)
DEFAULT_CACHE_BYTES = 2 << 30


@dataclass(frozen=True)
class Source:
    """Where the data comes from: a demo, uploaded prediction file(s), or a Keras model and
    its data. ``key``: the demo's name or the content hash (the store's key). ``files``: the
    bytes, only until they are in the store."""

    kind: str  # "demo" | "file" | "model"
    key: str
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

    @property
    def key(self) -> str:
        """Identifies the classes and rows the thresholds belong to."""
        return f"{self.source.key}|{self.mapping!r}|{self.split}|{self.model}"


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


def keep(source: Source) -> tuple[Source, bool]:
    """Put an upload's files in the store: the source without its bytes when they are safely
    there (else with them, so that nothing is lost), and whether they were there already."""
    if source.kind == "demo" or not source.files:
        return source, True
    s = store()
    before = s.has(source.key)
    s.put(source.kind, source.files, source.label_column, source.layer)
    return (source.without_bytes() if s.has(source.key) else source), before


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
) -> Loaded:
    """The whole file, read once per content and mapping for every session (InputError on
    bad input)."""
    def compute() -> Loaded:
        if source.kind == "demo":
            return demos.load_demo(source.key, mapping)
        if source.kind == "model":
            return _run_model(source, progress)
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
    return shared().get(("curves", source.key, repr(mapping), split, model),
                        lambda: compute_curves(predictions))


def dataset(source: Source, mapping: Mapping, loaded: Loaded, split: str | None,
            model: str | None) -> Dataset:
    """Select the rows of one split and model and attach their (shared) curves."""
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


def report_html(data: Dataset, decision, intervals: dict | None = None) -> str:
    """The self-contained HTML report of the current view."""
    from evalcore.calibration import calibration
    from evalcore.report import render_report

    provenance = {"file": data.source.label, "content": data.source.key, "split": data.split,
                  "model": data.model, "rows in file": data.loaded.layout.n_rows,
                  "detected": data.loaded.layout.describe(data.loaded.predictions)}
    return render_report(data.predictions, data.curves, decision, provenance=provenance,
                         intervals=intervals, calibration=calibration(data.predictions))


def digest(upload) -> str:
    """An upload's digest (hashed once per upload and session: hashing 100 MB on every rerun
    would cost more than the rerun)."""
    from dashboard import state

    hashes = st.session_state.setdefault(state.HASHES, {})
    if upload.file_id not in hashes:
        hashes[upload.file_id] = file_digest(NamedBytes(upload.name, upload.getvalue()))
    return hashes[upload.file_id]


def second_file(upload) -> Source:
    """The source of a second prediction file (the Compare page)."""
    return upload_source("file", (NamedBytes(upload.name, upload.getvalue()),),
                         (digest(upload),))
