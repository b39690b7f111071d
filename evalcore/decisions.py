"""Decision rules -> what a deployed model predicts -> confusion matrices and metrics.

Rules (a score clears a threshold when ``score >= threshold``; ties go to the lowest index):

- ``argmax``     multiclass: the top-scoring class.
- ``abstain``    multiclass: the top class when its score clears one threshold, else abstain.
- ``per-class``  multiclass: the top-scoring class among those clearing their own threshold,
                 else abstain.
- ``multilabel`` every label whose score clears its threshold.
- ``binary``     the positive class when its score clears the threshold.

Per-class TP/FP/FN/TN are derived from the K x K matrix; an abstained sample is a false
negative of its true class and a false positive of none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalcore.counts import Counts, as_json, f_beta, ratio
from evalcore.errors import InputError
from evalcore.predictions import Predictions, threshold_in_dtype

RULES: tuple[str, ...] = ("argmax", "abstain", "per-class", "multilabel", "binary")
RULES_BY_TASK: dict[str, tuple[str, ...]] = {
    "multiclass": ("argmax", "abstain", "per-class"),
    "multilabel": ("multilabel",),
    "binary": ("binary",),
}
ABSTAINED = "abstained"
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class MultilabelMetrics:
    """Sample- and cell-level metrics of a multilabel decision."""

    subset_accuracy: float
    hamming_loss: float
    binary_accuracy: float
    f1_micro: float | None
    f1_macro: float | None
    f1_samples: float | None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class Confusion:
    """The outcome of one decision rule at given thresholds.

    ``matrix`` has rows = true classes and columns = ``predicted_labels`` ("abstained" last
    where the rule abstains); it is None for multilabel, whose ``counts`` are per label.
    ``thresholds`` maps each scored column (every class; the positive class for binary) to its
    threshold (NaN for argmax). ``accuracy`` counts abstained samples as wrong;
    ``covered_accuracy`` is the accuracy on the samples not abstained.
    """

    rule: str
    labels: tuple[str, ...]
    predicted_labels: tuple[str, ...]
    matrix: np.ndarray | None
    counts: Counts
    thresholds: dict[str, float]
    coverage: float
    accuracy: float
    covered_accuracy: float | None
    multilabel: MultilabelMetrics | None = None

    def normalized(self, axis: str) -> np.ndarray:
        """The matrix divided by its row ("true") or column ("pred") sums (NaN for 0/0)."""
        if self.matrix is None:
            raise InputError("a multilabel decision has no K x K matrix to normalise")
        m = self.matrix
        sums = m.sum(axis=1, keepdims=True) if axis == "true" else m.sum(axis=0, keepdims=True)
        return ratio(m, sums)

    def to_dict(self) -> dict:
        out = {
            "rule": self.rule,
            "labels": list(self.labels),
            "predicted_labels": list(self.predicted_labels),
            "thresholds": {name: as_json(t) for name, t in self.thresholds.items()},
            "per_class": self.counts.to_dict(),
            "coverage": self.coverage,
            "accuracy": self.accuracy,
            "covered_accuracy": self.covered_accuracy,
        }
        if self.matrix is not None:
            out["matrix"] = self.matrix.tolist()
        if self.multilabel is not None:
            out.update(self.multilabel.to_dict())
        return out


def default_rule(task: str) -> str:
    return RULES_BY_TASK[task][0]


def confusion(
    predictions: Predictions, rule: str | None = None, thresholds=DEFAULT_THRESHOLD
) -> Confusion:
    """Apply ``rule`` at ``thresholds`` (a scalar, or one per class) and count the outcome."""
    p = predictions
    rule, t = _checked(p, rule, thresholds)
    predicted = _predict(p, rule, t)
    if rule == "multilabel":
        return _multilabel(p, predicted, t)
    if rule == "argmax":
        t = np.full(t.size, np.nan)
    return _from_predicted(p, rule, predicted, t, abstains=rule in ("abstain", "per-class"))


def predict(
    predictions: Predictions, rule: str | None = None, thresholds=DEFAULT_THRESHOLD
) -> np.ndarray:
    """What the rule predicts for each row: class indices (``K`` = abstained; binary: 0 or 1),
    or a bool (N, K) matrix for multilabel. The same kernel as :func:`confusion` counts."""
    rule, t = _checked(predictions, rule, thresholds)
    return _predict(predictions, rule, t)


def _checked(p: Predictions, rule: str | None, thresholds) -> tuple[str, np.ndarray]:
    """The rule (default by task) and one threshold per scored column, validated."""
    rule = rule or default_rule(p.task)
    if rule not in RULES:
        raise InputError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    if rule not in RULES_BY_TASK[p.task]:
        raise InputError(
            f"rule {rule!r} does not apply to {p.task} data; use one of "
            f"{', '.join(RULES_BY_TASK[p.task])}"
        )
    n_columns = p.scores.shape[1]
    t = np.asarray(thresholds, dtype=np.float64)
    if t.ndim > 1 or (t.ndim == 1 and t.size not in (1, n_columns)):
        raise InputError(
            f"expected one threshold or {n_columns} (one per class), got {t.size}"
        )
    if np.isnan(t).any():
        raise InputError("thresholds must be numbers, got NaN")
    if rule == "abstain" and t.size != 1:
        raise InputError("the abstain rule takes one threshold, on the top score")
    return rule, np.broadcast_to(t.reshape(-1) if t.ndim else t, (n_columns,)).copy()


def _predict(p: Predictions, rule: str, t: np.ndarray) -> np.ndarray:
    if rule == "multilabel":
        return p.scores >= threshold_in_dtype(t, p.scores.dtype)
    if rule == "binary":
        return (p.scores[:, 0] >= threshold_in_dtype(t[0], p.scores.dtype)).astype(np.int64)
    if rule == "argmax":
        return p.top_class
    if rule == "abstain":
        top = p.top_score
        return np.where(top >= threshold_in_dtype(t[0], top.dtype), p.top_class, p.scores.shape[1])
    return _per_class_predictions(p, t)


def _per_class_predictions(p: Predictions, t: np.ndarray) -> np.ndarray:
    """The top class among those clearing their own threshold, else K (abstain). Rank by rank
    (``Predictions.ranked``): a row is decided at the first rank whose class clears its
    threshold, and given up (abstain) once its r-th score is below every threshold, since no
    later rank scores higher. Most rows are decided at rank 0 or 1."""
    k = p.scores.shape[1]
    key = threshold_in_dtype(t, p.scores.dtype)
    floor = key.min()
    predicted = np.full(p.n_samples, k, dtype=np.int64)
    classes, scores = p.ranked
    hit = p.top_score >= key[p.top_class]
    predicted[hit] = p.top_class[hit]
    rows = np.flatnonzero(~hit & (p.top_score >= floor))
    for r in range(1, k):
        if not rows.size:
            break
        cls, score = classes[r][rows], scores[r][rows]
        hit = score >= key[cls]
        predicted[rows[hit]] = cls[hit]
        rows = rows[~hit & (score >= floor)]
    return predicted


def _from_predicted(
    p: Predictions, rule: str, predicted: np.ndarray, t: np.ndarray, *, abstains: bool
) -> Confusion:
    k = len(p.class_names)
    columns = k + 1 if abstains else k
    matrix = np.bincount(p.y_true * columns + predicted, minlength=k * columns).reshape(k, columns)
    tp = np.diag(matrix[:, :k]).copy()
    fn = matrix.sum(axis=1) - tp
    fp = matrix[:, :k].sum(axis=0) - tp
    n = p.n_samples
    counts = Counts(p.class_names, tp, fp, fn, n - tp - fp - fn)
    covered = n - (int(matrix[:, k:].sum()) if abstains else 0)
    correct = int(tp.sum())
    return Confusion(
        rule=rule,
        labels=p.class_names,
        predicted_labels=p.class_names + ((ABSTAINED,) if abstains else ()),
        matrix=matrix,
        counts=counts,
        thresholds=dict(zip(p.curve_names, t.tolist())),
        coverage=covered / n,
        accuracy=correct / n,
        covered_accuracy=correct / covered if covered else None,
    )


def _multilabel(p: Predictions, predicted: np.ndarray, t: np.ndarray) -> Confusion:
    y = p.y_true
    tp = np.count_nonzero(predicted & y, axis=0)
    fp = np.count_nonzero(predicted & ~y, axis=0)
    fn = np.count_nonzero(~predicted & y, axis=0)
    n, k = y.shape
    counts = Counts(p.class_names, tp, fp, fn, n - tp - fp - fn)
    wrong_cells = np.count_nonzero(predicted != y, axis=1)
    exact = float(np.mean(wrong_cells == 0))
    hamming = float(wrong_cells.sum() / (n * k))
    sample_tp = np.count_nonzero(predicted & y, axis=1)
    sample_f1 = f_beta(sample_tp, predicted.sum(axis=1) - sample_tp, y.sum(axis=1) - sample_tp)
    label_f1 = counts.f1
    metrics = MultilabelMetrics(
        subset_accuracy=exact,
        hamming_loss=hamming,
        binary_accuracy=1.0 - hamming,
        f1_micro=as_json(f_beta(tp.sum(), fp.sum(), fn.sum())),
        f1_macro=_nanmean(label_f1),
        f1_samples=_nanmean(sample_f1),
    )
    return Confusion(
        rule="multilabel",
        labels=p.class_names,
        predicted_labels=p.class_names,
        matrix=None,
        counts=counts,
        thresholds=dict(zip(p.curve_names, t.tolist())),
        coverage=1.0,
        accuracy=exact,
        covered_accuracy=exact,
        multilabel=metrics,
    )


def _nanmean(values: np.ndarray) -> float | None:
    """Mean over the defined values (NaN = undefined is left out); None if none is defined."""
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if defined.size else None


def accuracy(predictions: Predictions) -> float:
    """The headline accuracy: argmax for multiclass, exact match at 0.5 on the probability
    scale for multilabel (logit 0), the 0.5 threshold for binary."""
    return confusion(predictions).accuracy


@dataclass(frozen=True)
class AccuracyVariants:
    """The accuracies quoted for one model output, side by side.

    ``keras_metric`` is what Keras 3's ``metrics=["accuracy"]`` picks from the shapes alone
    (``keras.src.trainers.compile_utils.get_metric``): one output column -> binary accuracy
    (``raw output > 0.5``, on logits too); integer labels -> sparse categorical; otherwise
    categorical accuracy, argmax(output) == argmax(y_true) even for multi-hot labels.
    ``keras_accuracy`` is its value on the raw outputs.
    """

    keras_metric: str
    keras_accuracy: float
    threshold: float
    binary_accuracy: float | None  # every cell, score >= threshold (multilabel, binary)
    keras_binary_accuracy: float | None  # keras.metrics.BinaryAccuracy(): raw output > 0.5
    categorical_accuracy: float  # argmax(scores) == argmax(y_true)
    subset_accuracy: float | None
    hamming_loss: float | None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def accuracy_variants(predictions: Predictions, threshold: float = DEFAULT_THRESHOLD) -> AccuracyVariants:
    """Keras' ``accuracy``, binary, categorical and subset accuracy of one output."""
    p = predictions
    raw_half = 1.0 / (1.0 + np.exp(-0.5)) if p.conversion == "sigmoid" else 0.5
    if p.task == "multilabel":
        y_arg = p.y_true.argmax(axis=1)  # the first true label (0 when there is none)
        categorical = float(np.mean(p.top_class == y_arg))
        decided = confusion(p, "multilabel", threshold)
        strict = float(np.mean((p.scores > raw_half) == p.y_true))
        m = decided.multilabel
        return AccuracyVariants(
            "categorical_accuracy", categorical, threshold, m.binary_accuracy, strict,
            categorical, m.subset_accuracy, m.hamming_loss,
        )
    if p.task == "binary":
        positive = p.y_true == 1
        keras = float(np.mean((p.scores[:, 0] > raw_half) == positive))
        cleared = p.scores[:, 0] >= threshold_in_dtype(threshold, p.scores.dtype)
        ours = float(np.mean(cleared == positive))
        return AccuracyVariants(
            "binary_accuracy", keras, threshold, ours, keras, ours, None, None,
        )
    categorical = float(np.mean(p.top_class == p.y_true))
    return AccuracyVariants(
        "sparse_categorical_accuracy", categorical, threshold, None, None, categorical, None, None,
    )
