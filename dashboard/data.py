"""Cached loading: a data source -> Loaded -> the selected Predictions -> CurveSet.

Everything is keyed by the content hash of the uploaded bytes (or the demo's name) and the
mapping, never by the bytes themselves (hashing 100 MB on every rerun would cost more than the
slider). ``st.cache_resource`` returns the shared objects: nothing here may mutate them.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

import streamlit as st

from evalcore import CurveSet, Predictions, compute_curves, demos
from evalcore.io import Layout, Loaded, Mapping, NamedBytes, load


@dataclass(frozen=True)
class Source:
    """Where the data comes from: a demo, uploaded prediction file(s), or a Keras model and
    its data (``files`` = model, data)."""

    kind: str  # "demo" | "file" | "model"
    key: str  # the demo's name or the content hash of the files
    label: str  # what the user sees
    files: tuple[NamedBytes, ...] = field(default=(), compare=False, repr=False)
    label_column: str | None = None  # of a Keras data table
    layer: str | None = None  # Keras layer to evaluate


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


def content_key(files: tuple[NamedBytes, ...]) -> str:
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode())
        digest.update(hashlib.sha256(f.data).digest())
    return digest.hexdigest()[:24]


def demo_source(name: str) -> Source:
    return Source("demo", name, demos.DESCRIPTIONS.get(name, name))


MODEL_RUNS = 4  # Keras predictions kept


@st.cache_resource(max_entries=6, show_spinner="Reading the data ...")
def _load(source_key: str, mapping_key: str, _source: Source, _mapping: Mapping) -> Loaded:
    if _source.kind == "demo":
        return demos.load_demo(_source.key, _mapping)
    return load(list(_source.files), _mapping)


@st.cache_resource
def _model_runs() -> tuple[OrderedDict, threading.Lock]:
    """Keras predictions by content: a bounded store shared by sessions. (Not a cached
    function, because the run draws a progress bar, which a cached function cannot.)"""
    return OrderedDict(), threading.Lock()


def _run_model(source: Source, progress: Callable[[int, int], None] | None) -> Loaded:
    from evalcore import models  # TensorFlow only when a model is given

    store, lock = _model_runs()
    with lock:
        if source.key in store:
            store.move_to_end(source.key)
            return store[source.key]
    model, data = source.files
    predictions = models.predict(
        model, data, label_column=source.label_column, layer=source.layer, progress=progress,
    )
    layout = Layout(
        file=f"{model.name} on {data.name}", format="keras",
        n_rows=predictions.n_samples, labels=source.label_column or "array y",
    )
    loaded = Loaded(predictions, layout)
    with lock:
        store[source.key] = loaded
        while len(store) > MODEL_RUNS:
            store.popitem(last=False)
    return loaded


def load_source(
    source: Source, mapping: Mapping, progress: Callable[[int, int], None] | None = None
) -> Loaded:
    """The whole file, read once per content and mapping (InputError on bad input)."""
    if source.kind == "model":
        return _run_model(source, progress)
    return _load(source.key, repr(mapping), source, mapping)


@st.cache_resource(max_entries=24, show_spinner="Computing the curves ...")
def _curves(source_key: str, mapping_key: str, split: str | None, model: str | None,
            _predictions: Predictions) -> CurveSet:
    return compute_curves(_predictions)


def dataset(source: Source, mapping: Mapping, loaded: Loaded, split: str | None,
            model: str | None) -> Dataset:
    """Select the rows of one split and model and attach their (cached) curves."""
    predictions = loaded.predictions.select(split=split, model=model)
    curves = _curves(source.key, repr(mapping), split, model, predictions)
    return Dataset(source, mapping, loaded, predictions, curves, split, model)


def curves_for(source: Source, mapping: Mapping, split: str | None, model: str | None,
               predictions: Predictions) -> CurveSet:
    """The (cached) curves of the rows of one split and model of a source."""
    return _curves(source.key, repr(mapping), split, model, predictions)


def split_curves_for(data: Dataset, split: str) -> CurveSet:
    """The (cached) curves of one split of the same model."""
    p = data.loaded.predictions.select(split=split, model=data.model)
    return curves_for(data.source, data.mapping, split, data.model, p)


def split_curves(data: Dataset) -> list[tuple[str, CurveSet]]:
    """Curves of every other split of the same model, for overlays."""
    return [(split, split_curves_for(data, split))
            for split in data.loaded.predictions.splits if split != data.split]


@st.cache_resource(max_entries=24, show_spinner=False)
def _auc_intervals(dataset_key: str, _curves: CurveSet) -> list:
    from evalcore.stats import auc_intervals

    return auc_intervals(_curves)


def auc_intervals(data: Dataset) -> list:
    """DeLong's 95% interval of every class' ROC AUC (cached with the curves)."""
    return _auc_intervals(data.key, data.curves)


def report_html(data: Dataset, decision, intervals: dict | None = None) -> str:
    """The self-contained HTML report of the current view."""
    from evalcore.calibration import calibration
    from evalcore.report import render_report

    provenance = {"file": data.source.label, "content": data.source.key, "split": data.split,
                  "model": data.model, "rows in file": data.loaded.layout.n_rows,
                  "detected": data.loaded.layout.describe(data.loaded.predictions)}
    return render_report(data.predictions, data.curves, decision, provenance=provenance,
                         intervals=intervals, calibration=calibration(data.predictions))
