"""Built-in demos, shipped with the package (regenerate with ``scripts/make_demos.py``).

- ``digits``      10 classes, softmax probabilities of a small model on scikit-learn's digits,
                  with train / validation / test splits;
- ``multilabel``  4 labels derived from the digit (even, prime, large, loop), logits;
- ``binary``      breast cancer screening, the probability of ``malignant``;
- ``keras``       a tiny Keras model (``digits_model.keras``) and its test data
                  (``digits_data.npz``), run through the model loader.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from evalcore.errors import InputError
from evalcore.io import Layout, Loaded, Mapping, load

HERE = Path(__file__).resolve().parent
FILES = {"digits": "digits.csv", "multilabel": "multilabel.csv", "binary": "breast_cancer.csv"}
KERAS_MODEL = HERE / "digits_model.keras"
KERAS_DATA = HERE / "digits_data.npz"
NAMES: tuple[str, ...] = (*FILES, "keras")
DESCRIPTIONS = {
    "digits": "Digits: 10 classes, softmax probabilities, train/validation/test splits",
    "multilabel": "Digit properties: 4 labels (multi-label), logits",
    "binary": "Breast cancer: binary, probability of malignant",
    "keras": "Keras model: a tiny digits model run on its test data",
}


def demo_path(name: str) -> Path:
    """The prediction file of a demo (not for ``keras``, which is a model and its data).

    >>> demo_path("binary").name
    'breast_cancer.csv'
    """
    if name not in FILES:
        raise InputError(f"no demo {name!r}; demos are {', '.join(NAMES)}")
    return HERE / FILES[name]


def load_demo(name: str, mapping: Mapping = Mapping()) -> Loaded:
    """A demo read as a user's file would be.

    >>> loaded = load_demo("binary")
    >>> loaded.layout.file, loaded.predictions.n_samples, loaded.predictions.class_names
    ('demo binary (breast_cancer.csv)', 569, ('benign', 'malignant'))
    """
    if name == "keras":
        from evalcore import models  # imports TensorFlow: only when asked for

        predictions = models.predict(KERAS_MODEL, KERAS_DATA)
        layout = Layout(
            file=f"demo keras ({KERAS_MODEL.name} on {KERAS_DATA.name})", format="keras",
            n_rows=predictions.n_samples, labels="array y",
        )
        return Loaded(predictions, layout)
    loaded = load(demo_path(name), mapping)
    return replace(loaded, layout=replace(loaded.layout, file=f"demo {name} ({FILES[name]})"))
