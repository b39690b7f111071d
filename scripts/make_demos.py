"""Regenerate the built-in demos in evalcore/demos/ from data bundled with scikit-learn.

No network: digits and breast_cancer ship inside scikit-learn. Models are small and seeded, so
a rerun gives the same files (up to TensorFlow's own nondeterminism for the Keras demo).

    .venv/bin/python scripts/make_demos.py
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

OUT = Path(__file__).resolve().parents[1] / "evalcore" / "demos"
SEED = 0
DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
DIGIT_PROPERTIES = {  # multilabel targets derived from the digit
    "even": {0, 2, 4, 6, 8},
    "prime": {2, 3, 5, 7},
    "large": {5, 6, 7, 8, 9},
    "loop": {0, 6, 8, 9},
}


def splits(n: int, y: np.ndarray) -> np.ndarray:
    """train / validation / test = 60 / 20 / 20, stratified, seeded."""
    index = np.arange(n)
    train, rest = train_test_split(index, test_size=0.4, stratify=y, random_state=SEED)
    validation, test = train_test_split(rest, test_size=0.5, stratify=y[rest], random_state=SEED)
    out = np.empty(n, dtype=object)
    out[train], out[validation], out[test] = "train", "validation", "test"
    return out


def pooled_digits() -> tuple[np.ndarray, np.ndarray]:
    """Digits pooled 2 x 2 to 4 x 4 pixels: a small model makes realistic mistakes."""
    digits = load_digits()
    x = digits.images.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(-1, 16) / 16.0
    return x, digits.target


def digits_csv() -> None:
    x, y = pooled_digits()
    split = splits(len(y), y)
    model = LogisticRegression(C=1.0, max_iter=5000).fit(x[split == "train"], y[split == "train"])
    proba = model.predict_proba(x)
    frame = pd.DataFrame({"id": np.arange(len(y)), "label": np.array(DIGIT_NAMES)[y]})
    for j, name in enumerate(DIGIT_NAMES):
        frame[f"prob_{name}"] = np.round(proba[:, j], 6)
    frame["split"] = split
    frame.to_csv(OUT / "digits.csv", index=False)


def multilabel_csv() -> None:
    x, digit = pooled_digits()
    split = splits(len(digit), digit)
    frame = pd.DataFrame({"id": np.arange(len(digit))})
    logits = {}
    for name, members in DIGIT_PROPERTIES.items():
        target = np.isin(digit, list(members)).astype(int)
        frame[f"true_{name}"] = target
        model = LogisticRegression(C=1.0, max_iter=5000)
        model.fit(x[split == "train"], target[split == "train"])
        logits[name] = np.round(model.decision_function(x), 5)
    for name, values in logits.items():
        frame[f"logit_{name}"] = values
    frame["split"] = split
    frame.to_csv(OUT / "multilabel.csv", index=False)


def binary_csv() -> None:
    data = load_breast_cancer()
    # three features only: a usable, imperfect screening model
    x = data.data[:, [0, 1, 4]]
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    malignant = (data.target == 0).astype(int)  # scikit-learn codes malignant as 0
    split = splits(len(malignant), malignant)
    model = LogisticRegression(max_iter=2000).fit(x[split == "train"], malignant[split == "train"])
    frame = pd.DataFrame({
        "id": np.arange(len(malignant)),
        "target": np.where(malignant == 1, "malignant", "benign"),
        "p_malignant": np.round(model.predict_proba(x)[:, 1], 6),
        "split": split,
    })
    frame.to_csv(OUT / "breast_cancer.csv", index=False)


def keras_demo() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    keras.utils.set_random_seed(SEED)
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target
    split = splits(len(y), y)
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(16, activation="relu", name="hidden"),
        keras.layers.Dense(10, activation="softmax", name="output"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[split == "train"], y[split == "train"], epochs=15, batch_size=64, verbose=0)
    model.save(OUT / "digits_model.keras")
    test = split == "test"
    np.savez_compressed(
        OUT / "digits_data.npz", x=x[test], y=y[test], class_names=np.array(DIGIT_NAMES)
    )


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    digits_csv()
    multilabel_csv()
    binary_csv()
    keras_demo()
    for path in sorted(OUT.iterdir()):
        print(f"{path.name:<24} {path.stat().st_size:>9} bytes")
