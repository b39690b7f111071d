"""Shared, seeded input cases for the core tests (after torchmetrics' ``_inputs.py``).

Every case is a :class:`Case`: ``case.inputs()`` returns ``(y_true, y_score, kwargs)`` for
``Predictions.from_arrays(y_true, y_score, **kwargs)``, freshly built from
``numpy.random.default_rng(case.seed)`` (so a test may not disturb another). The other
fields say what the engine is expected to detect and which curves are degenerate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def _informative_logits(rng, y: np.ndarray, k: int, signal: float = 1.5) -> np.ndarray:
    """(N, K) normal logits with the true class pushed up by ``signal``."""
    z = rng.normal(size=(y.size, k))
    z[np.arange(y.size), y] += signal
    return z


@dataclass(frozen=True)
class Case:
    name: str
    seed: int
    build: Callable[[np.random.Generator], tuple]
    task: str
    score_kind: str
    conversion: str | None
    note: str  # a substring of one of Predictions.notes
    class_names: tuple[str, ...]
    no_positives: tuple[int, ...] = ()  # curves with no positive sample
    only_positives: tuple[int, ...] = ()  # curves whose every sample is positive
    float32: bool = False  # y_score is float32 and kept so
    tags: frozenset = field(default_factory=frozenset)

    def inputs(self) -> tuple[np.ndarray, np.ndarray, dict]:
        y_true, y_score, kwargs = self.build(np.random.default_rng(self.seed))
        return y_true, y_score, dict(kwargs)

    @property
    def n_curves(self) -> int:
        return 1 if self.task == "binary" else len(self.class_names)

    @property
    def all_defined(self) -> bool:
        return not self.no_positives and not self.only_positives

    def __str__(self) -> str:  # pytest ids
        return self.name


# --------------------------------------------------------------------------- builders


def _multiclass_softmax_f32(rng):
    n, k = 600, 4
    y = rng.integers(0, k, n)
    scores = softmax(_informative_logits(rng, y, k)).astype(np.float32)
    return y, scores, {}


def _multiclass_ties_f64(rng):
    n, k = 800, 3
    y = rng.integers(0, k, n)
    p = softmax(_informative_logits(rng, y, k, signal=1.0))
    decimals = rng.integers(1, 3, n)[:, None]  # 1 or 2 decimals per row
    p = np.where(decimals == 1, np.round(p, 1), np.round(p, 2))
    p = p / p.sum(axis=1, keepdims=True)
    return y, p, {}


def _multiclass_logits(rng):
    n, k = 500, 5
    y = rng.integers(0, k, n)
    return y, 3.0 * _informative_logits(rng, y, k), {}


STRING_CLASSES = ("bird", "cat", "dog")  # sorted, as scikit-learn's unique labels


def _multiclass_strings(rng):
    n = 400
    y = rng.integers(0, 3, n)
    labels = np.array(STRING_CLASSES)[y]
    return labels, softmax(_informative_logits(rng, y, 3)), {}


def _multiclass_one_hot(rng):
    n, k = 300, 4
    y = rng.integers(0, k, n)
    return np.eye(k, dtype=np.int64)[y], softmax(_informative_logits(rng, y, k)), {}


def _multilabel_probs(rng):
    n, k = 500, 4
    y = rng.random((n, k)) < np.array([0.1, 0.3, 0.5, 0.7])
    scores = sigmoid(rng.normal(size=(n, k)) + 1.5 * y - 0.5)
    return y.astype(np.int64), scores, {}


def _multilabel_logits(rng):
    n, k = 500, 3
    y = rng.random((n, k)) < 0.4
    return y.astype(np.int64), 2.0 * rng.normal(size=(n, k)) + 2.0 * y - 1.0, {}


def _multilabel_degenerate(rng):
    """Label 1 has no positives, label 2 only positives."""
    n, k = 200, 4
    y = (rng.random((n, k)) < 0.4).astype(np.int64)
    y[:, 1] = 0
    y[:, 2] = 1
    scores = sigmoid(rng.normal(size=(n, k)) + 1.5 * y)
    return y, scores, {}


def _binary_1d(rng):
    n = 1000
    y = rng.integers(0, 2, n)
    return y, sigmoid(rng.normal(size=n) + 1.2 * y), {}


def _binary_logits_1d(rng):
    n = 700
    y = rng.integers(0, 2, n)
    return y, 2.0 * rng.normal(size=n) + 1.5 * y - 0.7, {}


def _binary_n1_f32(rng):
    n = 800
    y = rng.integers(0, 2, n)
    return y, sigmoid(rng.normal(size=(n, 1)) + y[:, None]).astype(np.float32), {}


def _binary_strings(rng):
    n = 500
    y = rng.integers(0, 2, n)
    return np.array(["neg", "pos"])[y], sigmoid(rng.normal(size=n) + y), {}


def _binary_two_column(rng):
    n = 600
    y = rng.integers(0, 2, n)
    return y, softmax(_informative_logits(rng, y, 2)), {"task": "binary"}


def _binary_sub_float32(rng):
    """Distinct float64 scores 1e-12 apart: float32 would merge them into a few values."""
    n = 400
    i = rng.permutation(n)
    scores = 0.5 + i * 1e-12
    y = (rng.random(n) < 0.2 + 0.6 * i / n).astype(np.int64)
    return y, scores, {}


ABSENT_NAMES = ("zeta", "alpha", "mu", "beta")  # deliberately unsorted; 'mu' has no samples


def _multiclass_absent_class(rng):
    n, k = 300, 4
    y = rng.choice(np.array([0, 1, 3]), n)
    return y, softmax(_informative_logits(rng, y, k)), {"class_names": list(ABSENT_NAMES)}


# --------------------------------------------------------------------------- the cases

CASES: tuple[Case, ...] = (
    Case("multiclass_softmax_f32", 1, _multiclass_softmax_f32, "multiclass", "probability",
         None, "rows sum to 1", ("0", "1", "2", "3"), float32=True),
    Case("multiclass_ties_f64", 2, _multiclass_ties_f64, "multiclass", "probability",
         None, "rows sum to 1", ("0", "1", "2"), tags=frozenset({"ties"})),
    Case("multiclass_logits", 3, _multiclass_logits, "multiclass", "logit", "softmax",
         "converted with softmax", ("0", "1", "2", "3", "4")),
    Case("multiclass_strings", 4, _multiclass_strings, "multiclass", "probability", None,
         "rows sum to 1", STRING_CLASSES),
    Case("multiclass_one_hot", 5, _multiclass_one_hot, "multiclass", "probability", None,
         "rows sum to 1", ("0", "1", "2", "3")),
    Case("multilabel_probs", 6, _multilabel_probs, "multilabel", "probability", None,
         "independent probabilities", ("0", "1", "2", "3")),
    Case("multilabel_logits", 7, _multilabel_logits, "multilabel", "logit", "sigmoid",
         "converted with sigmoid", ("0", "1", "2")),
    Case("multilabel_degenerate", 8, _multilabel_degenerate, "multilabel", "probability",
         None, "independent probabilities", ("0", "1", "2", "3"),
         no_positives=(1,), only_positives=(2,)),
    Case("binary_1d", 9, _binary_1d, "binary", "probability", None,
         "independent probabilities", ("0", "1")),
    Case("binary_logits_1d", 10, _binary_logits_1d, "binary", "logit", "sigmoid",
         "converted with sigmoid", ("0", "1")),
    Case("binary_n1_f32", 11, _binary_n1_f32, "binary", "probability", None,
         "independent probabilities", ("0", "1"), float32=True),
    Case("binary_strings", 12, _binary_strings, "binary", "probability", None,
         "independent probabilities", ("neg", "pos")),
    Case("binary_two_column", 13, _binary_two_column, "binary", "probability", None,
         "column 2 of y_score is the positive class", ("0", "1")),
    Case("binary_sub_float32", 14, _binary_sub_float32, "binary", "probability", None,
         "independent probabilities", ("0", "1"), tags=frozenset({"sub_float32"})),
    Case("multiclass_absent_class", 15, _multiclass_absent_class, "multiclass",
         "probability", None, "rows sum to 1", ABSENT_NAMES, no_positives=(2,)),
)

CASE_IDS = [c.name for c in CASES]
BY_NAME = {c.name: c for c in CASES}


def cases(predicate: Callable[[Case], bool] = lambda c: True) -> list[Case]:
    return [c for c in CASES if predicate(c)]
