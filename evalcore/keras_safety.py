"""The security boundary of Keras uploads, in one file to review: a model's config is read as
plain JSON (``config.json`` in a ``.keras`` zip, the ``model_config`` attribute of an ``.h5``
file) and walked before Keras sees the file. A model holding a ``Lambda`` layer or any object
from outside Keras (a custom layer, a function from another module, a registered custom
object) is refused, so its code never runs. Objects that name a module are checked against an
allow-list: a class must be a Keras layer, initializer, regulariser, constraint, optimizer (or
schedule), loss, metric or dtype policy; a function a Keras activation, loss or metric.
Nothing is ever unpickled.

>>> refusal({"class_name": "Sequential", "config": {"layers": [
...     {"class_name": "Lambda", "config": {"function": "..."}}]}})
'Lambda layer holds Python code'
>>> refusal({"class_name": "Dense", "module": "mypkg.layers", "config": {}})
"layer 'Dense' comes from module 'mypkg.layers', not from Keras"
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections import deque
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from evalcore.errors import InputError, one_line, quiet_stderr

#: config.json larger than this is refused (a model config is kilobytes; this guards a zip bomb)
MAX_CONFIG_BYTES = 64 * 2**20
#: layers that wrap code from outside the model's config: refused whatever their module
FOREIGN_CODE_LAYERS = {
    "Lambda": "holds Python code",
    "TFSMLayer": "runs an external TensorFlow SavedModel",
    "TorchModuleWrapper": "holds a pickled PyTorch module",
    "JaxLayer": "holds Python functions",
    "FlaxLayer": "holds Python code",
    "TFOpLambda": "calls an arbitrary TensorFlow function",
}
#: parts of Keras that are not model building blocks (file downloads and I/O, saving, global
#: configuration such as enable_unsafe_deserialization, pretrained applications): refused in a
#: model config whether as ``keras.<part>`` or ``keras.src.<part>...``
NON_MODELING_PARTS = frozenset({
    "applications", "backend", "callbacks", "config", "datasets", "distribution", "export",
    "legacy", "preprocessing", "saving", "tree", "utils", "visualization",
})
#: Keras modules searched for a built-in function saved as module "builtins" (as Keras does)
KERAS_FUNCTION_MODULES = (
    "activations", "losses", "metrics", "initializers", "regularizers", "constraints",
    "optimizers",
)

SAFE_MODE = "evalcore loads only models built from Keras' own layers, in safe mode"


def read_model_config(path: Path, label: str) -> dict:
    """The model's config as plain JSON, read without Keras.

    >>> import json, tempfile, zipfile
    >>> from pathlib import Path
    >>> config = {"class_name": "Sequential", "module": "keras", "config": {"layers": []}}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder, "model.keras")
    ...     with zipfile.ZipFile(path, "w") as archive:
    ...         archive.writestr("config.json", json.dumps(config))
    ...     same = read_model_config(path, "model.keras") == config
    ...     _ = Path(folder, "broken.keras").write_bytes(b"not a zip")
    ...     try:
    ...         read_model_config(Path(folder, "broken.keras"), "broken.keras")
    ...     except InputError as error:
    ...         print(error)
    broken.keras: not a Keras model (not a zip archive, or a truncated one)
    >>> same
    True
    """
    if path.suffix == ".keras":
        text = _keras_zip_config(path, label)
    else:
        text = _h5_config(path, label)
    try:
        config = json.loads(text)
    except (ValueError, RecursionError):
        raise InputError(
            f"{label}: not a Keras model (its model config is not valid JSON)"
        ) from None
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise InputError(f"{label}: not a Keras model (its config does not describe a model)")
    return config


def _keras_zip_config(path: Path, label: str) -> bytes:
    if not zipfile.is_zipfile(path):
        raise InputError(f"{label}: not a Keras model (not a zip archive, or a truncated one)")
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                info = archive.getinfo("config.json")
            except KeyError:
                raise InputError(
                    f"{label}: not a Keras model (the zip archive has no config.json)"
                ) from None
            if info.file_size > MAX_CONFIG_BYTES:
                raise InputError(
                    f"{label}: not a Keras model (config.json is {info.file_size} bytes; "
                    f"at most {MAX_CONFIG_BYTES} expected)"
                )
            with archive.open(info) as member:
                text = member.read(MAX_CONFIG_BYTES + 1)
            if len(text) > MAX_CONFIG_BYTES:  # the zip header lied about the size
                raise InputError(
                    f"{label}: not a Keras model (config.json is over {MAX_CONFIG_BYTES} bytes)"
                )
            return text
    except InputError:
        raise
    except Exception as error:  # BadZipFile, zlib.error, EOFError, OSError, NotImplementedError
        raise InputError(
            f"{label}: not a Keras model (damaged zip archive: {one_line(error)})"
        ) from None


def _h5_config(path: Path, label: str) -> str | bytes:
    import h5py  # lazily: only models need it

    try:
        with h5py.File(path, "r") as h5:
            config = h5.attrs.get("model_config")
    except Exception as error:  # OSError for anything that is not HDF5
        raise InputError(
            f"{label}: not a Keras model (not an HDF5 file: {one_line(error)})"
        ) from None
    if config is None:
        raise InputError(
            f"{label}: not a Keras model (an HDF5 file without a model_config attribute; "
            "a weights-only file?)"
        )
    if isinstance(config, np.ndarray) and config.shape == ():
        config = config[()]
    if isinstance(config, np.bytes_):
        config = bytes(config)
    if not isinstance(config, (str, bytes)):
        raise InputError(f"{label}: not a Keras model (its model_config is not text)")
    return config


def refusal(config: dict) -> str | None:
    """Why the config must not be loaded (code from outside Keras), or None. Walks every
    object in file order. The top-level ``compile_config`` is skipped: with
    ``compile=False`` Keras never deserializes it (a nested model's is deserialized).

    >>> refusal({"class_name": "Sequential", "module": "keras", "config": {"layers": []}}) is None
    True
    >>> refusal({"class_name": "Sequential", "module": "keras", "config": {"layers": [],
    ...     "seed": {"class_name": "Seeder", "module": "mypkg.tools", "config": {}}}})
    "object 'Seeder' comes from module 'mypkg.tools', not from Keras"
    >>> refusal({"class_name": "Dense", "registered_name": "mypkg>Dense", "config": {}})
    "custom layer 'mypkg>Dense' is code from outside Keras"
    """
    # (object, is it a layer or the model, name of the enclosing layer)
    queue: deque[tuple[Any, bool, str | None]] = deque([(config, True, None)])
    while queue:
        node, is_layer, owner = queue.popleft()
        if isinstance(node, list):
            queue.extend((item, False, owner) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        class_name = node.get("class_name")
        if isinstance(class_name, str):
            if is_layer:
                owner = _layer_name(node) or owner
            problem = _foreign(node, class_name, is_layer, owner)
            if problem:
                return problem
        for key, value in node.items():
            if key == "compile_config" and node is config:
                continue
            if key == "layers" and isinstance(value, list):
                queue.extend((item, True, owner) for item in value)
            elif key in ("layer", "backward_layer") and isinstance(value, dict):  # wrappers
                queue.append((value, True, owner))
            else:
                queue.append((value, False, owner))
    return None


def _layer_name(node: dict) -> str | None:
    inner = node.get("config")
    name = inner.get("name") if isinstance(inner, dict) else None
    name = name if isinstance(name, str) else node.get("name")
    return name if isinstance(name, str) else None


def _foreign(node: dict, class_name: str, is_layer: bool, owner: str | None) -> str | None:
    """Why this one serialized object is code from outside Keras, or None."""
    if is_layer:
        what, where = "layer", f" (named {owner!r})" if owner else ""
    else:
        what, where = "object", f" (in layer {owner!r})" if owner else ""
    outside = "is code from outside Keras"
    base = class_name.rsplit(">", 1)[-1]
    if base in FOREIGN_CODE_LAYERS:
        return f"{base} layer{where} {FOREIGN_CODE_LAYERS[base]}"
    if class_name == "__lambda__":
        return f"a Python lambda{where} holds Python code"
    registered = node.get("registered_name")
    if isinstance(registered, str) and ">" in registered:
        return f"custom {what} {registered!r}{where} {outside}"
    if ">" in class_name:
        return f"custom {what} {class_name!r}{where} {outside}"
    if "module" in node:
        module = node["module"]
        if module is None:
            if isinstance(registered, str) and registered not in (class_name, "function"):
                return f"custom {what} {registered!r}{where} {outside}"
            return None
        if not isinstance(module, str):
            return f"{what} {class_name!r}{where} has a module that is not text: {module!r}"
        if module == "builtins" and class_name == "function":
            function = node.get("config")
            if _is_keras_function(function):
                return None  # how Keras saves its own functions (e.g. a loss passed as object)
            return f"custom function {function!r}{where} {outside}"
        if module != "keras" and not module.startswith("keras."):
            return f"{what} {class_name!r}{where} comes from module {module!r}, not from Keras"
        parts = module.split(".")[1:]
        part = parts[1:2] if parts[:1] == ["src"] else parts[:1]
        if part and part[0] in NON_MODELING_PARTS:
            return (f"{what} {class_name!r}{where} comes from {module!r}, which is not a "
                    "model building block")
        if class_name == "function":
            function = node.get("config")
            if _allowed_function(module, function):
                return None
            return (f"function {function!r} of {module!r}{where} is not a Keras activation, "
                    "loss or metric")
        if _allowed_class(module, class_name):
            return None
        return (f"{what} {class_name!r} of {module!r}{where} is not a Keras layer, activation, "
                "initializer, regulariser, constraint, optimizer, loss or metric")
    if is_layer and class_name not in _keras_layer_names():
        return f"custom layer {class_name!r}{where} {outside}"
    return None


#: the modules a serialized class may name (Keras 3 saves the public module), each with the
#: base class its objects must derive from (None: only the listed names)
ALLOWED_CLASS_MODULES = {
    "keras.layers": "layers.Layer",
    "keras.initializers": "initializers.Initializer",
    "keras.regularizers": "regularizers.Regularizer",
    "keras.constraints": "constraints.Constraint",
    "keras.optimizers": "optimizers.Optimizer",
    "keras.optimizers.schedules": "optimizers.schedules.LearningRateSchedule",
    "keras.losses": "losses.Loss",
    "keras.metrics": "metrics.Metric",
    "keras.dtype_policies": "dtype_policies.DTypePolicy",
}
#: classes named with module "keras" itself or a model module
ALLOWED_TOP_CLASSES = {
    "keras": {"DTypePolicy", "FloatDTypePolicy", "QuantizedDTypePolicy",
              "QuantizedFloat8DTypePolicy", "Model", "Sequential", "Functional"},
    "keras.src.models.functional": {"Functional"},
    "keras.src.models.sequential": {"Sequential"},
    "keras.src.models.model": {"Model"},
}
#: the modules a serialized function may name
ALLOWED_FUNCTION_MODULES = ("keras.activations", "keras.losses", "keras.metrics")


def _resolve(path: str):
    """keras.<path> (dotted), or None."""
    obj = keras_module()
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


@lru_cache(maxsize=4096)
def _allowed_class(module: str, class_name: str) -> bool:
    """Whether ``module``.``class_name`` is one of Keras' own building blocks (an allow-list:
    anything else, e.g. a function of keras.config, is refused)."""
    if class_name in ALLOWED_TOP_CLASSES.get(module, ()):
        return True
    if re.fullmatch(r"keras\.src\.ops\.[a-z_]+", module) and class_name.isidentifier():
        # Keras ops used in a functional model (x + y is keras.src.ops.numpy.Add): an
        # Operation of Keras' own ops modules
        import importlib

        from keras.src.ops.operation import Operation

        try:
            candidate = getattr(importlib.import_module(module), class_name, None)
        except ImportError:
            return False
        return isinstance(candidate, type) and issubclass(candidate, Operation)
    base = ALLOWED_CLASS_MODULES.get(module)
    if base is None or not class_name.isidentifier() or class_name.startswith("_"):
        return False
    namespace = _resolve(module.removeprefix("keras."))
    candidate = getattr(namespace, class_name, None)
    expected = _resolve(base)
    return isinstance(candidate, type) and isinstance(expected, type) and issubclass(
        candidate, expected)


@lru_cache(maxsize=4096)
def _allowed_function(module: str, name: Any) -> bool:
    if module not in ALLOWED_FUNCTION_MODULES or not isinstance(name, str):
        return False
    if not name.isidentifier() or name.startswith("_"):
        return False
    candidate = getattr(_resolve(module.removeprefix("keras.")), name, None)
    return callable(candidate) and not isinstance(candidate, type)


@lru_cache(maxsize=None)
def _keras_layer_names() -> frozenset[str]:
    keras = keras_module()
    names = {name for name in dir(keras.layers) if isinstance(getattr(keras.layers, name), type)}
    return frozenset(names | {"Functional", "Sequential", "Model"})


@lru_cache(maxsize=4096)
def _is_keras_function(name: Any) -> bool:
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        return False
    keras = keras_module()
    return any(
        callable(getattr(getattr(keras, module, None), name, None))
        for module in KERAS_FUNCTION_MODULES
    )


def keras_module():
    """Import Keras lazily. TensorFlow's C++ start-up lines ("oneDNN custom operations are
    on", absl's "All log messages before absl::InitializeLog()") are written straight to file
    descriptor 2 whatever TF_CPP_MIN_LOG_LEVEL says, so the import runs with it pointed at
    /dev/null: the CLI's stderr keeps its one line on error.

    >>> keras = keras_module()  # doctest: +SKIP
    >>> keras.__version__, keras.backend.backend()  # doctest: +SKIP
    ('3.15.1', 'tensorflow')
    """
    import sys

    if "keras" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_stderr():
        import keras
    return keras
