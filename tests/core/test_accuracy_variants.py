"""accuracy_variants against what real Keras reports: `metrics=["accuracy"]` and
`BinaryAccuracy()` evaluated by `model.evaluate` on the same outputs (TensorFlow on the CPU)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, hamming_loss

from evalcore import Predictions
from evalcore.decisions import accuracy_variants

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
keras = pytest.importorskip("keras")


def keras_metrics(outputs: np.ndarray, y: np.ndarray, loss: str, binary: bool = True) -> dict:
    """model.evaluate of an identity model on fixed outputs: Keras' own metric values."""
    inputs = keras.Input(shape=outputs.shape[1:])
    model = keras.Model(inputs, keras.layers.Identity()(inputs))
    metrics = ["accuracy"] + ([keras.metrics.BinaryAccuracy(name="bin")] if binary else [])
    model.compile(loss=loss, metrics=metrics)
    return model.evaluate(outputs, y, verbose=0, return_dict=True, batch_size=len(y))


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_multilabel_logits(rng):
    n, k = 400, 4
    y = (rng.random((n, k)) < 0.4).astype(np.float32)
    logits = (rng.normal(size=(n, k)) + 1.5 * (2 * y - 1)).astype(np.float32)
    got = accuracy_variants(Predictions.from_arrays(y, logits))
    ref = keras_metrics(logits, y, "binary_crossentropy")
    assert got.keras_metric == "categorical_accuracy"
    assert got.keras_accuracy == pytest.approx(ref["accuracy"], abs=1e-6)
    assert got.keras_binary_accuracy == pytest.approx(ref["bin"], abs=1e-6)  # raw logits > 0.5
    # the right threshold on logits is 0: probability 0.5
    expected = np.mean((logits >= 0) == (y == 1))
    assert got.binary_accuracy == pytest.approx(expected, abs=1e-12)
    assert got.binary_accuracy != pytest.approx(got.keras_binary_accuracy)
    predicted = (logits >= 0).astype(int)
    assert got.subset_accuracy == pytest.approx(accuracy_score(y, predicted), abs=1e-12)
    assert got.hamming_loss == pytest.approx(hamming_loss(y, predicted), abs=1e-12)


def test_multilabel_probabilities(rng):
    n, k = 300, 3
    y = (rng.random((n, k)) < 0.5).astype(np.float32)
    p = np.clip(0.5 + 0.3 * (2 * y - 1) + rng.normal(scale=0.25, size=(n, k)), 0, 1).astype(np.float32)
    got = accuracy_variants(Predictions.from_arrays(y, p))
    ref = keras_metrics(p, y, "binary_crossentropy")
    assert got.keras_accuracy == pytest.approx(ref["accuracy"], abs=1e-6)
    assert got.keras_binary_accuracy == pytest.approx(ref["bin"], abs=1e-6)


def test_binary_sigmoid_output(rng):
    n = 500
    y = (rng.random(n) < 0.3).astype(np.float32)
    p = np.clip(0.3 + 0.4 * y + rng.normal(scale=0.2, size=n), 0, 1).astype(np.float32)[:, None]
    got = accuracy_variants(Predictions.from_arrays(y.astype(int), p))
    ref = keras_metrics(p, y[:, None], "binary_crossentropy")
    assert got.keras_metric == "binary_accuracy"
    assert got.keras_accuracy == pytest.approx(ref["accuracy"], abs=1e-6)


def test_multiclass_softmax_with_integer_labels(rng):
    n, k = 400, 5
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k))
    z[np.arange(n), y] += 1.0
    p = (np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)).astype(np.float32)
    got = accuracy_variants(Predictions.from_arrays(y, p))
    ref = keras_metrics(p, y, "sparse_categorical_crossentropy", binary=False)
    assert got.keras_metric == "sparse_categorical_accuracy"
    assert got.keras_accuracy == pytest.approx(ref["accuracy"], abs=1e-6)
    assert got.keras_accuracy == pytest.approx(accuracy_score(y, p.argmax(axis=1)), abs=1e-12)
