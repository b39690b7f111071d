"""`evalcore predict` writes a prediction file the other commands read back unchanged, and the
Keras demo opens by name. Real TensorFlow, tiny models."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from evalcore import demos, models
from evalcore.cli import main
from evalcore.io import load

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
keras = pytest.importorskip("keras")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_predict_round_trip_of_the_keras_demo(tmp_path, capsys, suffix):
    out = tmp_path / f"preds{suffix}"
    code, stdout, stderr = run(capsys, "predict", demos.KERAS_MODEL, demos.KERAS_DATA, "-o", out)
    assert code == 0, stderr
    assert "predicting [" in stderr and str(out) in stdout
    expected = models.predict(demos.KERAS_MODEL, demos.KERAS_DATA)
    back = load(out).predictions
    assert back.class_names == expected.class_names
    assert np.array_equal(back.y_true, expected.y_true)
    assert np.array_equal(back.scores, expected.scores)
    code, stdout, _ = run(capsys, "summary", out, "--json")
    assert code == 0
    summary = json.loads(stdout)
    code, stdout, _ = run(capsys, "summary", "--demo", "keras", "--json")
    assert code == 0 and json.loads(stdout)["per_class"] == summary["per_class"]


def test_predict_of_a_logit_model_writes_logit_columns(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 6)).astype(np.float32)
    y = (rng.random((80, 3)) < 0.4).astype(np.int8)
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(3)])  # linear: logits
    model.save(tmp_path / "m.keras")
    np.savez(tmp_path / "d.npz", x=x, y=y, class_names=np.array(["a", "b", "c"]))
    out = tmp_path / "p.csv"
    code, _, stderr = run(capsys, "predict", tmp_path / "m.keras", tmp_path / "d.npz", "-o", out,
                          "--quiet")
    assert code == 0 and stderr == ""
    header = out.read_text().splitlines()[0].split(",")
    assert [c for c in header if c.startswith("logit_")] == ["logit_a", "logit_b", "logit_c"]
    back = load(out).predictions
    expected = models.predict(tmp_path / "m.keras", tmp_path / "d.npz")
    assert back.score_kind == "logit" and back.task == "multilabel"
    assert np.array_equal(back.scores, expected.scores)
    assert np.array_equal(back.y_true, expected.y_true)


def test_predict_refuses_a_lambda_model_with_one_line(tmp_path, capsys):
    inputs = keras.Input(shape=(4,))
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Lambda(lambda t: t + 1)(inputs))
    keras.Model(inputs, outputs).save(tmp_path / "evil.keras")
    np.savez(tmp_path / "d.npz", x=np.zeros((5, 4), np.float32), y=np.array([0, 1, 0, 1, 0]))
    code, stdout, stderr = run(capsys, "predict", tmp_path / "evil.keras", tmp_path / "d.npz",
                               "-o", tmp_path / "o.csv")
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("evalcore: error: ") and "Lambda" in stderr
    assert not (tmp_path / "o.csv").exists()
