"""Keras model + data -> Predictions (evalcore.models): scores equal Keras' own predictions,
the output activation gives the score kind, unsafe models are refused before Keras loads them
(and their code never runs), bad input is one clear InputError naming the file.

Tiny models are built here with Keras on CPU and saved to a temporary directory."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
keras = pytest.importorskip("keras")

import evalcore  # noqa: E402
from evalcore import keras_safety, models  # noqa: E402
from evalcore.errors import InputError  # noqa: E402
from evalcore.models import NamedBytes, load_model, predict, predict_raw  # noqa: E402

from _inputs import sigmoid, softmax  # noqa: E402

# Keras' TensorFlow backend converts tensors with np.array(x) when saving (numpy 2 warns)
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

N, F = 60, 5
NAMES = ("cat", "dog", "eel")
MARKER = "code-ran.txt"


def _save(model, root: Path, stem: str) -> dict[str, Path]:
    paths = {}
    for suffix in (".keras", ".h5"):
        path = root / f"{stem}{suffix}"
        model.save(path)
        paths[suffix] = path
    return paths


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def data(root):
    """x (N, F), multiclass y (3 classes), a multilabel Y (4 labels), saved as .npz files."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(N, F)).astype(np.float32)
    y = np.arange(N) % 3
    rng.shuffle(y)
    multi = (rng.random((N, 4)) < 0.4).astype(np.int8)
    multi[0] = [1, 1, 0, 0]  # surely not one-hot: multilabel
    files = {
        "multiclass": root / "multiclass.npz",
        "named": root / "named.npz",
        "multilabel": root / "multilabel.npz",
        "binary": root / "binary.npz",
        "wide": root / "wide.npz",
    }
    np.savez(files["multiclass"], x=x, y=y)
    np.savez(files["named"], x=x, y=np.array(NAMES)[y], class_names=np.array(NAMES))
    np.savez(files["multilabel"], x=x, y=multi)
    np.savez(files["binary"], x=x, y=(y == 1).astype(np.int64))
    np.savez(files["wide"], x=np.concatenate([x, x[:, :2]], axis=1), y=y)
    return {"x": x, "y": y, "multi": multi, "files": files}


@pytest.fixture(scope="module")
def softmax_model(root):
    inputs = keras.Input((F,), name="features")
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(hidden)
    model = keras.Model(inputs, outputs)
    return model, _save(model, root, "softmax")


@pytest.fixture(scope="module")
def logit_model(root):
    """Linear output, 4 units (multilabel logits); compiled with keras' own loss object."""
    inputs = keras.Input((F,))
    outputs = keras.layers.Dense(4, name="logits")(inputs)  # no activation: "linear"
    model = keras.Model(inputs, outputs)
    model.compile(loss=keras.losses.binary_crossentropy)
    return model, _save(model, root, "logits")


@pytest.fixture(scope="module")
def layered_model(root):
    """Dense logits followed by a Softmax layer, behind a Dropout (inference: identity)."""
    model = keras.Sequential([
        keras.Input((F,)),
        keras.layers.Dense(8, activation="tanh", name="hidden"),
        keras.layers.Dense(3, name="scores"),
        keras.layers.Softmax(name="probs"),
        keras.layers.Dropout(0.5, name="drop"),
    ])
    return model, _save(model, root, "layered")


@pytest.fixture(scope="module")
def binary_model(root):
    model = keras.Sequential([keras.Input((F,)), keras.layers.Dense(1, activation="sigmoid")])
    return model, _save(model, root, "binary")


def _expected(model, x, layer: str | None = None) -> np.ndarray:
    if layer is not None:
        model = keras.Model(model.inputs, model.get_layer(layer).output)
    return model.predict(x, verbose=0)


# ----------------------------------------------------------------------------- predictions


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_softmax_multiclass_equals_keras_predict(softmax_model, data, suffix):
    model, paths = softmax_model
    p = predict(paths[suffix], data["files"]["multiclass"], batch_size=16)
    np.testing.assert_allclose(p.scores, _expected(model, data["x"]), rtol=0, atol=1e-6)
    assert p.task == "multiclass"
    assert p.score_kind == "probability"
    assert p.conversion is None
    np.testing.assert_array_equal(p.y_true, data["y"])
    assert p.class_names == ("0", "1", "2")
    assert f"Keras model softmax{suffix}: output layer 'out' (softmax, 3 units) -> probabilities" \
        in p.notes


def test_class_names_from_npz_win_over_the_argument(softmax_model, data):
    _, paths = softmax_model
    p = predict(paths[".keras"], data["files"]["named"], class_names=["a", "b", "c"])
    assert p.class_names == NAMES
    np.testing.assert_array_equal(p.y_true, data["y"])
    assert any("class_names argument was not used" in note for note in p.notes)
    q = predict(paths[".keras"], data["files"]["multiclass"], class_names=NAMES)
    assert q.class_names == NAMES


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_linear_output_multilabel_is_logits_converted_with_sigmoid(logit_model, data, suffix):
    model, paths = logit_model
    p = predict(paths[suffix], data["files"]["multilabel"])
    assert p.task == "multilabel"
    assert p.score_kind == "logit"
    assert p.conversion == "sigmoid"
    np.testing.assert_allclose(p.scores, sigmoid(_expected(model, data["x"])), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(p.y_true, data["multi"].astype(bool))
    assert any("'logits' (linear, 4 units) -> logits" in note for note in p.notes)
    raw = predict_raw(paths[suffix], data["files"]["multilabel"], batch_size=7)
    np.testing.assert_allclose(raw.raw_scores, _expected(model, data["x"]), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(raw.predictions.scores, p.scores)


def test_softmax_layer_behind_dropout_gives_probabilities(layered_model, data):
    model, paths = layered_model
    p = predict(paths[".keras"], data["files"]["multiclass"])
    assert p.score_kind == "probability"
    np.testing.assert_allclose(p.scores, _expected(model, data["x"]), rtol=0, atol=1e-6)
    assert any("output layer 'drop' (softmax, 3 units)" in note for note in p.notes)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_layer_option_gives_that_layers_outputs(layered_model, data, suffix):
    model, paths = layered_model
    p = predict(paths[suffix], data["files"]["multiclass"], layer="scores")
    raw = _expected(model, data["x"], layer="scores")
    assert p.score_kind == "logit" and p.conversion == "softmax"
    np.testing.assert_allclose(p.scores, softmax(raw), rtol=0, atol=1e-6)
    assert any("layer 'scores' (linear, 3 units) -> logits" in note for note in p.notes)
    q = predict(paths[suffix], data["files"]["multiclass"], layer="probs")
    np.testing.assert_allclose(q.scores, _expected(model, data["x"], "probs"), rtol=0, atol=1e-6)
    assert q.score_kind == "probability"


def test_unknown_layer_lists_the_layers(layered_model, data):
    _, paths = layered_model
    with pytest.raises(InputError, match=r"no layer named 'nope'; layers: hidden, scores, probs"):
        predict(paths[".keras"], data["files"]["multiclass"], layer="nope")


def test_binary_sigmoid_model(binary_model, data):
    model, paths = binary_model
    p = predict(paths[".h5"], data["files"]["binary"], class_names=["other", "dog"])
    assert p.task == "binary" and p.score_kind == "probability"
    assert p.class_names == ("other", "dog")
    np.testing.assert_allclose(p.scores, _expected(model, data["x"]), rtol=0, atol=1e-6)


@pytest.mark.parametrize("batch_size", [16, 20, 1000])
def test_progress_is_called_after_each_batch(softmax_model, data, batch_size, capfd):
    _, paths = softmax_model
    calls: list[tuple[int, int]] = []
    capfd.readouterr()
    p = predict(paths[".keras"], data["files"]["multiclass"], batch_size=batch_size,
                progress=lambda done, total: calls.append((done, total)))
    assert capfd.readouterr().out == ""  # no progress bar from keras
    assert len(calls) == math.ceil(N / batch_size)
    done = [d for d, _ in calls]
    assert done == sorted(set(done)) and done[-1] == N
    assert all(total == N for _, total in calls)
    assert done[0] == min(batch_size, N)
    assert p.n_samples == N


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True, "8"])
def test_bad_batch_size(softmax_model, data, batch_size):
    with pytest.raises(InputError, match="batch_size must be a positive integer"):
        predict(softmax_model[1][".keras"], data["files"]["multiclass"], batch_size=batch_size)


def test_a_loaded_model_object_is_accepted(softmax_model, data):
    model, paths = softmax_model
    loaded = load_model(paths[".h5"])
    p = predict(loaded, data["files"]["multiclass"])
    np.testing.assert_allclose(p.scores, _expected(model, data["x"]), rtol=0, atol=1e-6)
    assert f"Keras model {loaded.name!r}: output layer 'out' (softmax, 3 units) -> probabilities" \
        in p.notes


def test_multi_output_model_needs_a_layer(root, data):
    inputs = keras.Input((F,))
    model = keras.Model(inputs, [keras.layers.Dense(3, name="a")(inputs),
                                 keras.layers.Dense(3, activation="softmax", name="b")(inputs)])
    model.save(root / "two_outputs.keras")
    with pytest.raises(InputError, match=r"has 2 outputs \['a', 'b'\]; choose one with layer="):
        predict(root / "two_outputs.keras", data["files"]["multiclass"])
    p = predict(root / "two_outputs.keras", data["files"]["multiclass"], layer="b")
    assert p.score_kind == "probability"


def test_unbuilt_model_is_refused(root, data):
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    with pytest.warns(UserWarning):
        model.save(root / "unbuilt.keras")
    with pytest.raises(InputError, match=r"unbuilt\.keras: the model was saved before it was "
                                         r"built"):
        predict(root / "unbuilt.keras", data["files"]["multiclass"])


def test_upper_case_extension(softmax_model, data, tmp_path):
    model, paths = softmax_model
    upper = tmp_path / "SOFTMAX.KERAS"
    upper.write_bytes(paths[".keras"].read_bytes())
    p = predict(upper, data["files"]["multiclass"])
    np.testing.assert_allclose(p.scores, _expected(model, data["x"]), rtol=0, atol=1e-6)


# ----------------------------------------------------------------------------- NamedBytes


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_named_bytes_work_as_paths(softmax_model, data, suffix):
    model, paths = softmax_model
    upload = NamedBytes(f"upload{suffix}", paths[suffix].read_bytes())
    npz = NamedBytes("data.npz", data["files"]["named"].read_bytes())
    p = predict(upload, npz)
    q = predict(paths[suffix], data["files"]["named"])
    np.testing.assert_array_equal(p.scores, q.scores)
    assert p.class_names == q.class_names == NAMES
    assert any(note.startswith(f"Keras model upload{suffix}:") for note in p.notes)
    assert isinstance(load_model(upload), keras.Model)


def test_named_bytes_errors_name_the_upload(data):
    with pytest.raises(InputError, match=r"^mine\.keras: not a Keras model \("):
        load_model(NamedBytes("mine.keras", b"hello, I am text"))
    with pytest.raises(InputError, match=r"^d\.npz: not an \.npz archive"):
        predict(NamedBytes("m.keras", b"x"), NamedBytes("d.npz", b"text"))


# ----------------------------------------------------------------------------- safety


def _marker_lambda_model(marker: Path):
    # self-contained (no closure, no defaults), so that Keras can serialize it: any run of
    # its code, even a trace, appends to the marker file
    body = eval(f"lambda t: (open({str(marker)!r}, 'a').write('ran'), t * 2.0)[1]")
    inputs = keras.Input((F,))
    hidden = keras.layers.Lambda(body, name="doubler")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax")(hidden)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def lambda_paths(root):
    marker = root / MARKER
    paths = _save(_marker_lambda_model(marker), root, "lambda")
    marker.unlink(missing_ok=True)  # building the model traced the lambda once
    return marker, paths


@pytest.fixture
def spy_keras_load(monkeypatch):
    calls = []
    real = keras.saving.load_model

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(keras.saving, "load_model", spy)
    return calls


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_lambda_model_is_refused_and_its_code_never_runs(
    lambda_paths, data, spy_keras_load, suffix
):
    marker, paths = lambda_paths
    with pytest.raises(InputError) as info:
        load_model(paths[suffix])
    message = str(info.value)
    assert message.startswith(f"{paths[suffix]}: refused: Lambda layer (named 'doubler')")
    assert "\n" not in message
    with pytest.raises(InputError, match="Lambda"):
        predict(paths[suffix], data["files"]["multiclass"])
    with pytest.raises(InputError, match="Lambda"):
        load_model(NamedBytes(f"up{suffix}", paths[suffix].read_bytes()))
    assert spy_keras_load == []  # refused before keras was asked to load anything
    assert not marker.exists()


def test_the_lambda_marker_does_record_a_run(lambda_paths, data):
    """The marker is real: loading unsafely and predicting writes it (so its absence above
    proves that evalcore never ran the code)."""
    marker, paths = lambda_paths
    unsafe = keras.saving.load_model(paths[".keras"], safe_mode=False, compile=False)
    unsafe.predict_on_batch(data["x"][:2])
    assert marker.exists()
    marker.unlink()


CUSTOM_INITS: list[str] = []


@keras.saving.register_keras_serializable(package="evalcore_test")
class Doubler(keras.layers.Layer):
    """A custom layer Keras *could* load (it is registered in this process)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        CUSTOM_INITS.append(self.name)

    def call(self, inputs):
        return inputs * 2.0


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_registered_custom_layer_is_refused(root, data, spy_keras_load, suffix):
    inputs = keras.Input((F,))
    outputs = keras.layers.Dense(3, activation="softmax")(Doubler(name="twice")(inputs))
    paths = _save(keras.Model(inputs, outputs), root, "custom")
    CUSTOM_INITS.clear()
    with pytest.raises(InputError, match=r"refused: custom layer 'evalcore_test>Doubler' "
                                         r"\(named 'twice'\) is code from outside Keras"):
        predict(paths[suffix], data["files"]["multiclass"])
    assert CUSTOM_INITS == [] and spy_keras_load == []


def custom_activation(x):
    return keras.activations.softmax(x)


def custom_loss(y_true, y_pred):
    raise AssertionError("a custom loss must never run")


def test_custom_function_is_refused_but_a_custom_loss_is_never_loaded(root, data):
    inputs = keras.Input((F,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation=custom_activation)(inputs))
    model.save(root / "custom_fn.keras")
    with pytest.raises(InputError, match=r"custom function 'custom_activation'"):
        load_model(root / "custom_fn.keras")
    # the top-level compile_config is never deserialized with compile=False: allowed
    plain = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))
    plain.compile(loss=custom_loss)
    plain.save(root / "custom_loss.keras")
    p = predict(root / "custom_loss.keras", data["files"]["multiclass"])
    assert p.score_kind == "probability"


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_varied_keras_models_are_not_refused(root, suffix):
    """No false refusals: common layers, wrappers, regularizers, ops, a nested model and
    keras' own functions passed as objects."""
    image = keras.Input((6, 6, 2))
    z = keras.layers.Rescaling(1 / 255)(image)
    z = keras.layers.Conv2D(4, 3, padding="same", kernel_regularizer="l2")(z)
    z = keras.layers.BatchNormalization()(z)
    z = keras.layers.Activation(keras.activations.gelu)(z)
    z = keras.layers.Reshape((6, 24))(z)
    z = keras.layers.Bidirectional(keras.layers.SimpleRNN(3, return_sequences=True))(z)
    z = keras.layers.TimeDistributed(keras.layers.Dense(2))(z)
    inner_in = keras.Input((12,))
    inner_out = keras.layers.Dense(4, activation=keras.activations.tanh)(inner_in)
    inner = keras.Model(inner_in, inner_out)
    z = inner(keras.layers.Flatten()(z))
    z = keras.layers.Add()([z, z])
    if suffix == ".keras":  # the legacy .h5 loader cannot rebuild keras.ops nodes
        z = keras.ops.add(z, 1.0)
    nonneg = keras.constraints.NonNeg()
    out = keras.layers.Dense(3, activation="softmax", kernel_constraint=nonneg)(z)
    model = keras.Model(image, out)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.sparse_categorical_crossentropy,
                  metrics=[keras.metrics.sparse_categorical_accuracy])
    path = root / f"varied{suffix}"
    model.save(path)
    assert keras_safety.refusal(keras_safety.read_model_config(path, path.name)) is None
    assert load_model(path).count_params() == model.count_params()


def _config(layer: dict, **top) -> dict:
    base = {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
            "config": {"name": "dense", "activation": "relu"}}
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": "s", "layers": [{**base, **layer}]}, **top}


@pytest.mark.parametrize("config, reason", [
    (_config({"module": "os", "class_name": "system"}), "comes from module 'os'"),
    (_config({"config": {"name": "d", "activation": {
        "module": "builtins", "class_name": "function", "config": "exec",
        "registered_name": "function"}}}), "custom function 'exec'"),
    (_config({"config": {"name": "d", "kernel_initializer": {
        "module": "my_pkg.init", "class_name": "Evil", "config": {}}}}),
     "'Evil' (in layer 'd') comes from module 'my_pkg.init'"),
    (_config({"module": None, "registered_name": "pkg>Thing"}), "custom layer 'pkg>Thing'"),
    (_config({"class_name": "TFSMLayer"}), "TFSMLayer layer"),
    (_config({"config": {"name": "d", "fn": {"class_name": "__lambda__", "config": {}}}}),
     "a Python lambda"),
    # a legacy .h5 layer has no module: it must be one of keras.layers
    ({"class_name": "Sequential", "config": {"layers": [
        {"class_name": "MyLayer", "config": {"name": "mine"}}]}}, "custom layer 'MyLayer'"),
    # Keras' own functions that are not model building blocks
    (_config({"config": {"name": "d", "activation": {
        "module": "keras.utils", "class_name": "function", "config": "get_file"}}}),
     "from 'keras.utils', which is not a model building block"),
    (_config({"module": "keras.src.saving.serialization_lib", "class_name": "enable"}),
     "from 'keras.src.saving.serialization_lib', which is not a model building block"),
    # a wrapper's inner layer is a layer too
    (_config({"class_name": "TimeDistributed", "config": {"name": "td", "layer": {
        "module": "keras.layers", "class_name": "Lambda", "config": {"name": "inner"}}}}),
     "Lambda layer (named 'inner')"),
    # a nested model's compile_config *is* deserialized
    (_config({"module": "keras.src.models.functional", "class_name": "Functional",
              "config": {"name": "inner", "layers": []}, "compile_config": {
                  "loss": {"module": "builtins", "class_name": "function",
                           "config": "my_loss", "registered_name": "function"}}}),
     "custom function 'my_loss'"),
    # the allow-list: functions of keras.config / keras itself are not activations, even
    # where the module passes as "keras" (the reproducer of the loading issue)
    (_config({"config": {"name": "d", "activation": {
        "module": "keras", "class_name": "function", "config": "config.set_floatx"}}}),
     "function 'config.set_floatx' of 'keras' (in layer 'd') is not a Keras activation"),
    (_config({"config": {"name": "d", "activation": {
        "module": "keras.ops", "class_name": "function", "config": "convert_to_tensor"}}}),
     "is not a Keras activation"),
    (_config({"config": {"name": "d", "kernel_initializer": {
        "module": "keras.initializers", "class_name": "get", "config": {}}}}),
     "'get' of 'keras.initializers' (in layer 'd') is not a Keras layer"),
    (_config({"module": "keras.layers", "class_name": "deserialize"}),
     "'deserialize' of 'keras.layers'"),
    (_config({"module": "keras", "class_name": "Variable"}), "'Variable' of 'keras'"),
    (_config({"module": "keras.src.ops.numpy", "class_name": "nope"}), "'nope'"),
    (_config({"module": "keras.src.ops.nothere", "class_name": "Add"}), "'Add'"),
])
def test_config_walk_refuses_code_from_outside_keras(config, reason):
    assert reason in (keras_safety.refusal(config) or "")


@pytest.mark.parametrize("config", [
    _config({}),
    _config({"config": {"name": "d", "activation": {
        "module": "builtins", "class_name": "function", "config": "relu",
        "registered_name": "function"}}}),  # how keras saves its own functions
    _config({}, compile_config={"loss": {"module": "builtins", "class_name": "function",
                                         "config": "my_loss", "registered_name": "function"}}),
    {"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {}}]}},
    _config({"config": {"name": "d", "activation": {
        "module": "keras.activations", "class_name": "function", "config": "gelu"}}}),
    _config({"config": {"name": "d", "kernel_regularizer": {
        "module": "keras.regularizers", "class_name": "L1L2", "config": {}}}}),
])
def test_config_walk_allows_keras_own_objects(config):
    assert keras_safety.refusal(config) is None


# ----------------------------------------------------------------------------- bad input


def test_input_shape_mismatch_names_both_shapes(softmax_model, data):
    with pytest.raises(InputError, match=r"expects inputs of shape \(N, 5\) but x in wide\.npz "
                                         r"has shape \(60, 7\)"):
        predict(softmax_model[1][".keras"], data["files"]["wide"])


def test_output_width_mismatch(softmax_model, binary_model, data):
    path = softmax_model[1][".keras"]
    with pytest.raises(InputError, match=r"layer 'out' gives 3 scores per sample but there are "
                                         r"4 classes"):
        predict(path, data["files"]["multiclass"], class_names=["a", "b", "c", "d"])
    with pytest.raises(InputError, match=r"but there are 2 classes .*expected 1 or 2"):
        predict(path, data["files"]["binary"], class_names=["no", "yes"])
    with pytest.raises(InputError, match=r"gives 3 scores per sample but y in multilabel\.npz "
                                         r"has 4 columns"):
        predict(path, data["files"]["multilabel"])
    with pytest.raises(InputError, match=r"layer 'hidden' gives 8 scores per sample but y in "
                                         r"multilabel\.npz has 4 columns"):
        predict(path, data["files"]["multilabel"], layer="hidden")


@pytest.fixture(scope="module")
def not_models(root, softmax_model):
    good = softmax_model[1][".keras"].read_bytes()
    rng = np.random.default_rng(3)
    import h5py

    weights_only = root / "weights_only.h5"
    with h5py.File(weights_only, "w") as h5:
        h5["w"] = np.zeros(3)
    no_weights = root / "no_weights.keras"
    with zipfile.ZipFile(softmax_model[1][".keras"]) as src, zipfile.ZipFile(no_weights, "w") as z:
        z.writestr("config.json", src.read("config.json"))
    files = {
        "text.keras": b"this is a text file, renamed\n",
        "truncated.keras": good[: len(good) // 2],
        "random.h5": rng.bytes(4096),
        "model.txt": good,
        "empty.keras": b"",
        "nojson.keras": None,
    }
    paths = {}
    for name, content in files.items():
        if content is None:
            with zipfile.ZipFile(root / name, "w") as z:
                z.writestr("config.json", "{not json")
        else:
            (root / name).write_bytes(content)
        paths[name] = root / name
    paths["weights_only.h5"] = weights_only
    return paths, no_weights


@pytest.mark.parametrize("name, detail", [
    ("text.keras", "not a zip archive"),
    ("truncated.keras", "not a zip archive"),
    ("empty.keras", "not a zip archive"),
    ("nojson.keras", "not valid JSON"),
    ("random.h5", "not an HDF5 file"),
    ("weights_only.h5", "without a model_config attribute"),
    ("model.txt", "expected a .keras or .h5 file, got '.txt'"),
])
def test_not_a_model(not_models, data, name, detail):
    path = not_models[0][name]
    for source in (path, NamedBytes(name, path.read_bytes())):
        label = str(source) if isinstance(source, Path) else name
        with pytest.raises(InputError) as info:
            predict(source, data["files"]["multiclass"])
        message = str(info.value)
        assert message.startswith(f"{label}: not a Keras model (")
        assert detail in message and "\n" not in message


def test_keras_errors_become_one_line(not_models, data):
    no_weights = not_models[1]
    with pytest.raises(InputError) as info:
        load_model(no_weights)
    message = str(info.value)
    assert message.startswith(f"{no_weights}: cannot load the Keras model (")
    assert "\n" not in message and "Traceback" not in message


def test_missing_files(data, softmax_model, tmp_path):
    with pytest.raises(InputError, match=r"nope\.keras: no such file"):
        load_model(tmp_path / "nope.keras")
    with pytest.raises(InputError, match=r"nope\.npz: no such file"):
        predict(softmax_model[1][".keras"], tmp_path / "nope.npz")


def test_bad_npz(softmax_model, tmp_path):
    model = softmax_model[1][".keras"]
    np.savez(tmp_path / "objects.npz", x=np.array([[1.0], "a"], dtype=object), y=np.zeros(2))
    with pytest.raises(InputError, match=r"objects\.npz: cannot read as NumPy arrays without "
                                         r"unpickling"):
        predict(model, tmp_path / "objects.npz")
    np.savez(tmp_path / "no_y.npz", x=np.zeros((2, F)), labels=np.zeros(2))
    with pytest.raises(InputError, match=r"no_y\.npz: missing array 'y'; found \['labels', 'x'\]"):
        predict(model, tmp_path / "no_y.npz")
    np.savez(tmp_path / "rows.npz", x=np.zeros((3, F)), y=np.zeros(2))
    with pytest.raises(InputError, match=r"rows\.npz: x has 3 rows but y has 2 rows"):
        predict(model, tmp_path / "rows.npz")
    np.savez(tmp_path / "labels.npz", x=np.zeros((3, F)), y=[0, 1, 5])
    with pytest.raises(InputError, match=r"has the class index 5 \(expected 0\.\.2\)"):
        predict(model, tmp_path / "labels.npz")
    with pytest.raises(InputError, match=r"unsupported data file type '\.npy'"):
        predict(model, tmp_path / "data.npy")


# ----------------------------------------------------------------------------- feature tables


def _has_read_table() -> bool:
    import evalcore.io

    return callable(getattr(evalcore.io, "read_table", None))


needs_read_table = pytest.mark.skipif(not _has_read_table(), reason="evalcore.io.read_table")


@needs_read_table
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_feature_table_with_label_column(softmax_model, data, tmp_path, suffix):
    import pandas as pd

    model, paths = softmax_model
    frame = pd.DataFrame(data["x"].astype(np.float64), columns=[f"f{i}" for i in range(F)])
    frame.insert(2, "id", [f"s{i}" for i in range(N)])  # text: not a feature
    frame.insert(0, "animal", np.array(NAMES)[data["y"]])
    path = tmp_path / f"features{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False, float_format="%.9g")
    else:
        frame.to_parquet(path)
    p = predict(paths[".keras"], path, label_column="animal", class_names=NAMES)
    np.testing.assert_allclose(p.scores, _expected(model, data["x"]), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(p.y_true, data["y"])
    assert p.class_names == NAMES
    assert any("5 numeric feature columns, label column 'animal'; ignored non-numeric "
               "columns: 'id'" in note for note in p.notes)
    upload = predict(NamedBytes("m.keras", paths[".keras"].read_bytes()),
                     NamedBytes(path.name, path.read_bytes()), label_column="animal",
                     class_names=NAMES)
    np.testing.assert_array_equal(upload.scores, p.scores)
    with pytest.raises(InputError, match=r"no label column 'label'; columns: \['animal', 'f0'"):
        predict(paths[".keras"], path, label_column="label")
    with pytest.raises(InputError, match=r"needs label_column"):
        predict(paths[".keras"], path)


@needs_read_table
def test_feature_table_errors(softmax_model, tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("a,b,c,d,e,y\n1,2,3,4,5,0\n1,,3,4,5,1\n")
    with pytest.raises(InputError, match=r"gaps\.csv: feature column 'b' has a missing or "
                                         r"non-finite value at row 1"):
        predict(softmax_model[1][".keras"], path, label_column="y")
    path.write_text("a,b,c,d,y\n1,2,3,4,0\n")
    with pytest.raises(InputError, match=r"expects inputs of shape \(N, 5\) but x in gaps\.csv "
                                         r"has shape \(1, 4\)"):
        predict(softmax_model[1][".keras"], path, label_column="y")


# ----------------------------------------------------------------------------- lazy import


def test_importing_models_imports_neither_tensorflow_nor_keras(tmp_path):
    source = str(Path(evalcore.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
    program = (
        "import json, sys, evalcore, evalcore.models\n"
        "print(json.dumps({'file': evalcore.models.__file__,\n"
        "                  'loaded': sorted({m.split('.')[0] for m in sys.modules})}))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert Path(result["file"]).resolve() == Path(models.__file__).resolve()
    loaded = set(result["loaded"])
    assert "evalcore" in loaded and "numpy" in loaded
    for name in ("tensorflow", "keras", "h5py", "streamlit"):
        assert name not in loaded, f"importing evalcore.models imported {name}"
