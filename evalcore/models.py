"""Keras model + data -> Predictions.

Models are loaded safely: :mod:`evalcore.keras_safety` reads the model's config as plain JSON
and refuses anything that would run code from outside Keras before Keras is asked to load it;
only then ``keras.saving.load_model(..., safe_mode=True, compile=False)`` is called. Nothing is
ever unpickled.

TensorFlow/Keras are imported lazily, inside the functions that need them.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import numpy as np

from evalcore.errors import InputError, one_line
from evalcore.keras_safety import SAFE_MODE, keras_module as _keras, read_model_config, refusal
from evalcore.io import TABLE_FORMATS, NamedBytes, Source, read_npz, read_table
from evalcore.predictions import Predictions, ScoreKind

if TYPE_CHECKING:  # pragma: no cover
    import keras



MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
#: the data a model is run on: arrays x and y, or a feature table (evalcore.io.read_table)
DATA_SUFFIXES = (".npz", *TABLE_FORMATS)
#: output activations and the score kind they give
ACTIVATION_KINDS: dict[str, ScoreKind] = {
    "softmax": "probability",
    "sigmoid": "probability",
    "linear": "logit",
    "log_softmax": "logit",  # softmax(log_softmax(z)) == softmax(z)
}
#: layers that pass values through unchanged at inference: look behind them for the activation
PASSTHROUGH_LAYERS = frozenset({
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Flatten", "Reshape",
    "Identity",
})



# ----------------------------------------------------------------------------- public API


def load_model(source: Source) -> keras.Model:
    """Load a ``.keras`` or ``.h5`` model safely (see the module docstring); InputError
    naming the file for anything that is not a plain Keras model.

    >>> import io, json, zipfile
    >>> lambda_layer = {"class_name": "Lambda", "config": {"name": "f", "function": "..."}}
    >>> config = {"class_name": "Sequential", "module": "keras",
    ...           "config": {"layers": [lambda_layer]}}
    >>> archive = io.BytesIO()
    >>> with zipfile.ZipFile(archive, "w") as z:
    ...     z.writestr("config.json", json.dumps(config))
    >>> try:
    ...     load_model(NamedBytes("upload.keras", archive.getvalue()))
    ... except InputError as error:
    ...     print(str(error).split(";")[0])
    upload.keras: refused: Lambda layer (named 'f') holds Python code
    >>> model = load_model("tiny.keras")  # doctest: +SKIP
    >>> model.name, model.output_shape  # doctest: +SKIP
    ('tiny', (None, 3))
    """
    label = _label(source)
    with _local_file(source, label, MODEL_SUFFIXES) as path:
        config = read_model_config(path, label)
        problem = refusal(config)
        if problem:
            raise InputError(
                f"{label}: refused: {problem}; nothing in it was run ({SAFE_MODE})"
            )
        keras = _keras()
        try:
            model = keras.saving.load_model(str(path), safe_mode=True, compile=False)
        except Exception as error:  # keras/tensorflow/h5py errors of any type
            raise InputError(
                f"{label}: cannot load the Keras model ({one_line(error)})"
            ) from None
    if not isinstance(model, keras.Model):
        raise InputError(f"{label}: not a Keras model (it loads as {type(model).__name__})")
    if not model.built:
        raise InputError(
            f"{label}: the model was saved before it was built (no input shape, no weights); "
            "give it a keras.Input or call it on data before saving"
        )
    return model


@dataclass(frozen=True, eq=False)
class ModelPredictions:
    """What :func:`predict_raw` returns: the validated predictions and the model's outputs as
    computed, (N, C) in the model's dtype, before any logit conversion (to write logits).

    >>> import io
    >>> from evalcore.keras_safety import keras_module
    >>> keras = keras_module()  # doctest: +SKIP
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])  # doctest: +SKIP
    >>> arrays = io.BytesIO()
    >>> np.savez(arrays, x=np.random.default_rng(0).normal(size=(6, 4)), y=[0, 1, 2, 1, 0, 2])
    >>> out = predict_raw(model, NamedBytes("data.npz", arrays.getvalue()))  # doctest: +SKIP
    >>> out.raw_scores.shape, out.predictions.score_kind  # doctest: +SKIP
    ((6, 3), 'logit')
    """

    predictions: Predictions
    raw_scores: np.ndarray


def predict(
    model_source: Source | keras.Model,
    data_source: Source,
    *,
    label_column: str | None = None,
    layer: str | None = None,
    batch_size: int = 256,
    progress: Callable[[int, int], None] | None = None,
    class_names: Sequence[str] | None = None,
) -> Predictions:
    """Run a Keras model on data and return validated :class:`Predictions`.

    ``data_source``: an ``.npz`` with arrays ``x``, ``y`` (class indices, one-hot rows, a
    multilabel 0/1 matrix or class names) and optionally ``class_names``; or a CSV/Parquet
    feature table with ``label_column`` (every other numeric column is a feature, in file
    order). ``layer``: evaluate that layer's output instead of the model's. ``progress(done,
    total)`` is called after each batch with the number of samples done. Class names: the
    npz's ``class_names``, else ``class_names``, else the defaults of ``Predictions``.
    The output layer's activation gives the score kind (softmax/sigmoid -> probabilities,
    linear -> logits; otherwise detected from the values).

    >>> import io
    >>> from evalcore.keras_safety import keras_module
    >>> keras = keras_module()  # doctest: +SKIP
    >>> out = keras.layers.Dense(3, activation="softmax", name="scores")  # doctest: +SKIP
    >>> model = keras.Sequential([keras.Input((4,)), out], name="tiny")  # doctest: +SKIP
    >>> arrays = io.BytesIO()
    >>> np.savez(arrays, x=np.random.default_rng(0).normal(size=(6, 4)), y=[0, 1, 2, 1, 0, 2])
    >>> data = NamedBytes("data.npz", arrays.getvalue())
    >>> p = predict(model, data, class_names=["cat", "dog", "eel"])  # doctest: +SKIP
    >>> p.task, p.class_names, p.score_kind  # doctest: +SKIP
    ('multiclass', ('cat', 'dog', 'eel'), 'probability')
    >>> p.notes[1]  # doctest: +SKIP
    "Keras model 'tiny': output layer 'scores' (softmax, 3 units) -> probabilities"
    >>> try:
    ...     predict("tiny.keras", NamedBytes("data.txt", b"x"))
    ... except InputError as error:
    ...     print(str(error).split(";")[0])
    data.txt: unsupported data file type '.txt'
    """
    return predict_raw(
        model_source, data_source, label_column=label_column, layer=layer,
        batch_size=batch_size, progress=progress, class_names=class_names,
    ).predictions


def predict_raw(
    model_source: Source | keras.Model,
    data_source: Source,
    *,
    label_column: str | None = None,
    layer: str | None = None,
    batch_size: int = 256,
    progress: Callable[[int, int], None] | None = None,
    class_names: Sequence[str] | None = None,
) -> ModelPredictions:
    """:func:`predict`, also returning the model's raw outputs (e.g. the logits).

    >>> import io
    >>> from evalcore.keras_safety import keras_module
    >>> keras = keras_module()  # doctest: +SKIP
    >>> layers = [keras.Input((4,)), keras.layers.Dense(3)]  # linear: logits  # doctest: +SKIP
    >>> model = keras.Sequential(layers, name="logits")  # doctest: +SKIP
    >>> arrays = io.BytesIO()
    >>> np.savez(arrays, x=np.random.default_rng(0).normal(size=(6, 4)), y=[0, 1, 2, 1, 0, 2])
    >>> out = predict_raw(model, NamedBytes("data.npz", arrays.getvalue()))  # doctest: +SKIP
    >>> out.predictions.score_kind, out.predictions.notes[0]  # doctest: +SKIP
    ('logit', 'logits (as given), converted with softmax')
    >>> bool(np.allclose(out.predictions.scores.sum(axis=1), 1))  # doctest: +SKIP
    True
    >>> predict_raw("model.keras", "data.npz", batch_size=0)
    Traceback (most recent call last):
        ...
    evalcore.errors.InputError: batch_size must be a positive integer, got 0
    """
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
    if progress is not None and not callable(progress):
        raise InputError(f"progress must be a function progress(done, total), got {progress!r}")
    if layer is not None and not isinstance(layer, str):
        raise InputError(f"layer must be a layer name, got {layer!r}")

    data = _read_data(data_source, label_column)
    if isinstance(model_source, (str, Path)) or _is_named_bytes(model_source):
        model, model_label = load_model(model_source), _label(model_source)
        model_name = Path(model_label).name
    else:
        keras = _keras()
        if not isinstance(model_source, keras.Model):
            raise InputError(
                "model_source must be a file path, NamedBytes or a keras.Model, "
                f"got {type(model_source).__name__}"
            )
        model, model_name = model_source, repr(model_source.name)
        model_label = f"Keras model {model_name}"
    net, out_layer = _select_output(model, layer, model_label)
    _check_input(net, data, model_label)

    notes = list(data.notes)
    names = data.class_names
    if names is None and class_names is not None:
        if isinstance(class_names, (str, bytes)) or not hasattr(class_names, "__iter__"):
            raise InputError(f"class_names must be a list of names, got {class_names!r}")
        names = tuple(str(c) for c in class_names)
    elif names is not None and class_names is not None:
        if tuple(str(c) for c in class_names) != names:
            notes.append(f"class names from {data.name}'s class_names; the class_names argument "
                         "was not used")

    width = _static_width(net, out_layer, model_label)
    if width is not None:
        _check_width(width, names, data, model_label, out_layer.name)
    activation = _activation(out_layer)
    kind = ACTIVATION_KINDS.get(activation) if activation else None

    scores = _run(net, data.x, int(batch_size), progress, model_label)
    if width is None:
        _check_width(scores.shape[1], names, data, model_label, out_layer.name)
    bad = ~np.isfinite(scores)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        hint = "; x has non-finite values" if _has_nonfinite(data.x) else ""
        raise InputError(
            f"{model_label}: the model gave a non-finite score ({scores[row, col]}) for "
            f"sample {row}, column {col}{hint}"
        )
    if names is None and data.y.ndim == 1 and data.y.dtype.kind in "UOS":
        notes.append(
            "class names are the labels in sorted order; pass class_names if the model's "
            "outputs are in another order"
        )
    try:
        result = Predictions.from_arrays(data.y, scores, class_names=names, score_kind=kind)
    except InputError as error:
        raise InputError(f"{data.label}: {error}") from None

    what = f"output layer {out_layer.name!r}" if layer is None else f"layer {out_layer.name!r}"
    act = activation or "no known activation"
    units = f"{scores.shape[1]} unit{'s' if scores.shape[1] != 1 else ''}"
    outcome = {"probability": "probabilities", "logit": "logits"}.get(
        kind, "score kind detected from the values"
    )
    notes.insert(0, f"Keras model {model_name}: {what} ({act}, {units}) -> {outcome}")
    result = dataclasses.replace(result, notes=result.notes + tuple(notes))
    return ModelPredictions(predictions=result, raw_scores=scores)


# ----------------------------------------------------------------------------- sources


def _is_named_bytes(source: Any) -> bool:
    """NamedBytes, or an equivalent upload object (``name`` and ``data``, e.g. evalcore.io's)."""
    return isinstance(source, NamedBytes) or (
        not isinstance(source, (str, Path)) and hasattr(source, "name") and hasattr(source, "data")
    )


def _label(source: Any) -> str:
    if _is_named_bytes(source):
        if not isinstance(source.name, str) or not source.name:
            raise InputError(f"NamedBytes.name must be a file name, got {source.name!r}")
        if not isinstance(source.data, (bytes, bytearray, memoryview)):
            raise InputError(
                f"{source.name}: NamedBytes.data must be bytes, got {type(source.data).__name__}"
            )
        return source.name
    if isinstance(source, (str, Path)):
        return str(source)
    raise InputError(f"expected a file path or NamedBytes, got {type(source).__name__}")


@contextmanager
def _local_file(source: Source, label: str, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """A local path to the content, with a lower-case suffix (Keras picks the format by a
    case-sensitive extension). Uploaded bytes go to a temporary directory."""
    suffix = Path(label).suffix
    if suffix.lower() not in suffixes:
        got = repr(suffix) if suffix else "no extension"
        raise InputError(
            f"{label}: not a Keras model (expected a {' or '.join(suffixes[:2])} file, got {got})"
        )
    if _is_named_bytes(source):
        with tempfile.TemporaryDirectory(prefix="evalcore-") as tmp:
            path = Path(tmp) / f"model{suffix.lower()}"
            path.write_bytes(bytes(source.data))
            yield path
        return
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{label}: no such file")
    if suffix == suffix.lower():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="evalcore-") as tmp:
        local = Path(tmp) / f"model{suffix.lower()}"
        try:
            local.symlink_to(path.resolve())
        except OSError:
            shutil.copyfile(path, local)
        yield local


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True)
class _Data:
    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...] | None
    label: str  # for messages: the path as given or the upload's name
    notes: tuple[str, ...]

    @property
    def name(self) -> str:
        return Path(self.label).name


def _read_data(source: Source, label_column: str | None) -> _Data:
    label = _label(source)
    suffix = Path(label).suffix.lower()
    if suffix == ".npz":
        if label_column is not None:
            raise InputError(f"{label}: label_column is for feature tables; an .npz holds y")
        return _read_npz(source, label)
    if suffix not in DATA_SUFFIXES:
        raise InputError(
            f"{label}: unsupported data file type {suffix or '(none)'!r}; expected .npz (arrays "
            f"x and y) or a feature table ({', '.join(TABLE_FORMATS)}) with a label column"
        )
    return _read_table(source, label, label_column)


def _read_npz(source: Source, label: str) -> _Data:
    arrays = read_npz(source)
    missing = [key for key in ("x", "y") if key not in arrays]
    if missing:
        raise InputError(
            f"{label}: missing array {missing[0]!r}; found {sorted(arrays)}, "
            "expected 'x', 'y' and optionally 'class_names'"
        )
    x, y = arrays["x"], arrays["y"]
    if x.dtype.kind not in "biuf":
        raise InputError(f"{label}: x must be numeric, got values of type {x.dtype}")
    if x.ndim < 2:
        raise InputError(
            f"{label}: x must have one row per sample and at least one feature, got shape {x.shape}"
        )
    if y.shape[:1] != x.shape[:1]:
        raise InputError(f"{label}: x has {x.shape[0]} rows but y has "
                         f"{y.shape[0] if y.ndim else 'no'} rows: they must match")
    names = arrays.get("class_names")
    if names is not None:
        if names.ndim != 1:
            raise InputError(f"{label}: class_names must be a 1-D array, got shape {names.shape}")
        names = tuple(str(c) for c in names.tolist())
    note = f"data {Path(label).name}: x of shape {x.shape}"
    if names is not None:
        note += f", class names from its class_names ({len(names)})"
    return _Data(x=x, y=y, class_names=names, label=label, notes=(note,))


def _read_table(source: Source, label: str, label_column: str | None) -> _Data:
    from pandas.api import types

    frame = read_table(source)
    columns = [str(c) for c in frame.columns]
    if label_column is None:
        raise InputError(
            f"{label}: a feature table needs label_column naming the label column; "
            f"columns: {columns[:20]}{' ...' if len(columns) > 20 else ''}"
        )
    if label_column not in frame.columns:
        raise InputError(
            f"{label}: no label column {label_column!r}; columns: "
            f"{columns[:20]}{' ...' if len(columns) > 20 else ''}"
        )
    if list(frame.columns).count(label_column) > 1:
        raise InputError(f"{label}: more than one column is named {label_column!r}")
    features, ignored = [], []
    for column in frame.columns:
        if column == label_column:
            continue
        dtype = frame[column].dtype
        (features if types.is_numeric_dtype(dtype) else ignored).append(column)
    if not features:
        raise InputError(
            f"{label}: no numeric feature columns besides the label column {label_column!r}"
        )
    if frame.shape[0] == 0:
        raise InputError(f"{label}: the table has no rows")
    x = frame[features].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(x)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        raise InputError(
            f"{label}: feature column {str(features[col])!r} has a missing or non-finite value "
            f"at row {row}"
        )
    y = _label_values(frame[label_column], label, label_column)
    note = (f"data {Path(label).name}: {len(features)} numeric feature columns, label column "
            f"{label_column!r}")
    if ignored:
        shown = ", ".join(repr(str(c)) for c in ignored[:5]) + (" ..." if len(ignored) > 5 else "")
        note += f"; ignored non-numeric columns: {shown}"
    return _Data(x=x, y=y, class_names=None, label=label, notes=(note,))


def _label_values(series, label: str, column: str) -> np.ndarray:
    from pandas.api import types

    missing = series.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise InputError(f"{label}: label column {column!r} is empty at row {row}")
    dtype = series.dtype
    if types.is_bool_dtype(dtype):
        return series.to_numpy(dtype=bool)
    if types.is_integer_dtype(dtype):
        return series.to_numpy(dtype=np.int64)
    if types.is_float_dtype(dtype):
        return series.to_numpy(dtype=np.float64)
    return series.astype(str).to_numpy(dtype=str)


def _has_nonfinite(x: np.ndarray) -> bool:
    return x.dtype.kind == "f" and not np.isfinite(x).all()


# ----------------------------------------------------------------------------- model


def _select_output(model, layer: str | None, label: str):
    """(network to run, layer whose output it gives)."""
    keras = _keras()
    try:
        outputs, inputs = list(model.outputs or []), list(model.inputs or [])
    except Exception as error:  # a subclassed or unbuilt model has no graph
        raise InputError(
            f"{label}: the model has no defined inputs and outputs ({one_line(error)})"
        ) from None
    if not outputs or not inputs:
        raise InputError(f"{label}: the model has no defined inputs and outputs")
    if layer is None:
        if len(outputs) != 1:
            names = [_producer(t).name for t in outputs if _producer(t) is not None]
            raise InputError(
                f"{label}: the model has {len(outputs)} outputs {names}; choose one with layer="
            )
        producer = _producer(outputs[0])
        return model, producer if producer is not None else model.layers[-1]
    names = [chosen.name for chosen in model.layers]
    if layer not in names:
        raise InputError(f"{label}: no layer named {layer!r}; layers: {', '.join(names)}")
    chosen = model.get_layer(layer)
    try:
        net = keras.Model(inputs, chosen.output)
    except Exception as error:
        raise InputError(
            f"{label}: cannot evaluate layer {layer!r} on its own ({one_line(error)})"
        ) from None
    return net, chosen


def _producer(tensor):
    history = getattr(tensor, "_keras_history", None)
    return getattr(history, "operation", None) if history is not None else None


def _shape(shape: Sequence) -> str:
    inner = ", ".join("N" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def _check_input(net, data: _Data, label: str) -> None:
    inputs = list(net.inputs or [])
    if len(inputs) != 1:
        raise InputError(
            f"{label}: the model has {len(inputs)} inputs; evalcore feeds it one array x"
        )
    expected = tuple(inputs[0].shape)[1:]
    got = data.x.shape[1:]
    if len(expected) != len(got) or any(e is not None and e != g for e, g in zip(expected, got)):
        hint = ""
        if None not in expected and math.prod(expected) == math.prod(got):
            hint = (" (the same number of values per sample: reshape x to "
                    f"{_shape((None, *expected))})")
        raise InputError(
            f"{label}: the model expects inputs of shape {_shape((None, *expected))} but x in "
            f"{data.name} has shape {tuple(data.x.shape)}{hint}"
        )


def _static_width(net, out_layer, label: str) -> int | None:
    shape = tuple(net.outputs[0].shape)
    if len(shape) == 1:
        return 1
    if len(shape) != 2:
        raise InputError(
            f"{label}: layer {out_layer.name!r} outputs shape {_shape(shape)}; evalcore needs "
            "one score per class, shape (N, classes)"
        )
    return shape[1]


def _check_width(width: int, names, data: _Data, label: str, out_name: str) -> None:
    scores = f"{width} score{'s' if width != 1 else ''} per sample"
    if names is not None:
        k = len(names)
        if (width not in (1, 2)) if k == 2 else (width != k):
            need = "1 or 2 (binary)" if k == 2 else str(k)
            raise InputError(
                f"{label}: layer {out_name!r} gives {scores} but there are {k} classes "
                f"{list(names)[:10]}; expected {need}"
            )
        return
    y = data.y
    if y.ndim == 2 and y.shape[1] != 1:
        if y.shape[1] != width:
            raise InputError(
                f"{label}: layer {out_name!r} gives {scores} but y in {data.name} has "
                f"{y.shape[1]} columns (one per class)"
            )
        return
    if width > 1 and y.dtype.kind in "iuf" and y.size:
        top = y.max()
        if np.isfinite(top) and top >= width:
            raise InputError(
                f"{label}: layer {out_name!r} gives {scores} but y in {data.name} has the class "
                f"index {top:g} (expected 0..{width - 1})"
            )


def _activation(layer) -> str | None:
    """The activation that produced ``layer``'s output, looking behind pass-through layers."""
    for _ in range(16):
        kind = type(layer).__name__
        if kind == "Softmax":
            return "softmax"
        try:
            config = layer.get_config()
        except Exception:
            return None
        activation = config.get("activation") if isinstance(config, dict) else None
        if isinstance(activation, dict):  # a serialized function
            activation = activation.get("config")
        if isinstance(activation, str):
            return activation
        if kind not in PASSTHROUGH_LAYERS:
            return None
        try:
            previous = _producer(layer.input)
        except Exception:  # a layer used more than once has no single input
            return None
        if previous is None:
            return None
        layer = previous
    return None


def _run(net, x: np.ndarray, batch_size: int, progress, label: str) -> np.ndarray:
    n = int(x.shape[0])
    if n == 0:
        raise InputError(f"{label}: no samples to predict (x is empty)")
    dtype = np.dtype(getattr(net.inputs[0], "dtype", "float32") or "float32")
    cast = dtype if dtype.kind == "f" else None
    scores = None
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        batch = x[start:stop]
        if cast is not None and batch.dtype != cast:
            batch = batch.astype(cast)
        try:
            out = np.asarray(net.predict_on_batch(batch))
        except Exception as error:
            raise InputError(
                f"{label}: prediction failed on samples {start}..{stop - 1} ({one_line(error)})"
            ) from None
        if out.ndim == 1:
            out = out[:, None]
        if out.ndim != 2 or out.shape[0] != stop - start:
            raise InputError(
                f"{label}: the model gave shape {out.shape} for {stop - start} samples; "
                "expected one row of scores per sample"
            )
        if scores is None:
            scores = np.empty((n, out.shape[1]), dtype=out.dtype)
        scores[start:stop] = out
        if progress is not None:
            progress(stop, n)
    return scores
