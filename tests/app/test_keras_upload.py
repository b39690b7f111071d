"""A Keras model and its data uploaded in the sidebar, run through real TensorFlow."""

from __future__ import annotations

import numpy as np

from evalcore import demos, models
from evalcore.decisions import confusion
from tests.app.conftest import assert_clean, open_app


def upload_model(at, model: tuple[str, bytes], data: tuple[str, bytes]):
    at.sidebar.radio(key="source.kind").set_value("model").run()
    at.sidebar.file_uploader(key="source.model_file").set_value((*model, "application/octet-stream"))
    at.sidebar.file_uploader(key="source.model_data").set_value((*data, "application/octet-stream"))
    return at.run()


def test_the_keras_demo_model_uploaded_gives_the_engines_matrix():
    model = ("digits_model.keras", demos.KERAS_MODEL.read_bytes())
    data = ("digits_data.npz", demos.KERAS_DATA.read_bytes())
    at = upload_model(open_app(), model, data)
    assert_clean(at)
    assert not at.sidebar.error, [e.value for e in at.sidebar.error]
    assert any("digits_model.keras on digits_data.npz" in c.value for c in at.sidebar.caption)
    expected = models.predict(demos.KERAS_MODEL, demos.KERAS_DATA)
    at.switch_page("views/thresholds.py").run()
    table = next(t for t in at.table if "zero" in t.value.columns)
    assert np.array_equal(table.value.to_numpy(dtype=np.int64), confusion(expected, "argmax").matrix)


def test_a_model_with_a_lambda_layer_is_refused_and_never_runs(tmp_path):
    import keras

    marker = tmp_path / "ran"
    inputs = keras.Input(shape=(4,))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    outputs = keras.layers.Dense(3, activation="softmax")(outputs)
    path = tmp_path / "evil.keras"
    keras.Model(inputs, outputs).save(path)
    x = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    y = np.arange(30) % 3
    np.savez(tmp_path / "d.npz", x=x, y=y)
    at = upload_model(open_app(), ("evil.keras", path.read_bytes()),
                      ("d.npz", (tmp_path / "d.npz").read_bytes()))
    assert_clean(at)
    (message,) = [e.value for e in at.sidebar.error]
    assert message.startswith("evil.keras: ") and "Lambda" in message and "\n" not in message
    assert not marker.exists()
    assert at.dataframe[0].value["class"].tolist()[:2] == ["zero", "one"]  # the demo stays
