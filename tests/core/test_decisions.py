"""evalcore.decisions.confusion: every decision rule against scikit-learn and a brute force.

The brute forces are explicit Python loops over rows, comparing Python floats (float64), so
they encode the spec literally: a score clears a threshold when ``score >= threshold``; ties
go to the lowest class index; an abstained sample is a false negative of its true class.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    hamming_loss,
    multilabel_confusion_matrix,
    precision_recall_fscore_support,
)

from evalcore.decisions import ABSTAINED, confusion
from evalcore.errors import InputError
from evalcore.predictions import Predictions

GRID = np.array([0.0, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 1.0])


# --------------------------------------------------------------------------- helpers


def grid_multiclass(seed: int, n: int = 80, k: int = 4):
    """Multiclass probabilities drawn from a coarse grid (many exact ties, within rows and
    across rows); labels correlated with the scores so that every cell of the matrix fills."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    scores = rng.choice(GRID, size=(n, k))
    boost = rng.random(n) < 0.6
    scores[boost, y[boost]] = np.maximum(scores[boost, y[boost]], rng.choice(GRID[4:], boost.sum()))
    y[:k] = np.arange(k)  # every class present
    return y, scores


def multiclass(y, scores, **kw) -> Predictions:
    kw.setdefault("score_kind", "probability")
    return Predictions.from_arrays(np.asarray(y), np.asarray(scores), **kw)


def brute_argmax(scores) -> np.ndarray:
    out = []
    for row in scores:
        best = 0
        for j in range(1, len(row)):
            if float(row[j]) > float(row[best]):
                best = j
        out.append(best)
    return np.array(out, dtype=np.int64)


def brute_abstain(scores, t: float) -> np.ndarray:
    k = len(scores[0])
    out = []
    for row, best in zip(scores, brute_argmax(scores)):
        out.append(int(best) if float(row[best]) >= float(t) else k)
    return np.array(out, dtype=np.int64)


def brute_per_class(scores, thresholds) -> np.ndarray:
    k = len(scores[0])
    out = []
    for row in scores:
        best = None
        for j in range(k):
            if float(row[j]) >= float(thresholds[j]) and (
                best is None or float(row[j]) > float(row[best])
            ):
                best = j
        out.append(k if best is None else best)
    return np.array(out, dtype=np.int64)


def brute_matrix(y, predicted, k: int, columns: int) -> np.ndarray:
    m = np.zeros((k, columns), dtype=np.int64)
    for t, p in zip(y, predicted):
        m[int(t), int(p)] += 1
    return m


def same(a, b) -> bool:
    """Equal floats, where None / NaN (undefined) only equals None / NaN."""
    a_undefined = a is None or (isinstance(a, float) and math.isnan(a))
    b_undefined = b is None or (isinstance(b, float) and math.isnan(b))
    if a_undefined or b_undefined:
        return a_undefined and b_undefined
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-15)


def assert_same_array(got, expected):
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    assert got.shape == expected.shape
    assert all(same(a, b) for a, b in zip(got.tolist(), expected.tolist())), (got, expected)


def strict_json(value) -> object:
    text = json.dumps(value, allow_nan=False)

    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


# --------------------------------------------------------------------------- argmax


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_argmax_matches_sklearn_confusion_matrix(seed, k):
    y, scores = grid_multiclass(seed, n=90, k=k)
    result = confusion(multiclass(y, scores), "argmax")
    expected = confusion_matrix(y, scores.argmax(1), labels=range(k))
    np.testing.assert_array_equal(result.matrix, expected)
    assert result.predicted_labels == result.labels == tuple(str(i) for i in range(k))
    assert result.matrix.shape == (k, k)
    assert result.coverage == 1.0
    assert result.accuracy == pytest.approx(accuracy_score(y, scores.argmax(1)), abs=1e-15)
    assert result.covered_accuracy == result.accuracy


def test_argmax_ties_go_to_lowest_class_index():
    third = 1.0 / 3.0
    scores = np.array(
        [
            [0.4, 0.4, 0.2],  # tie 0/1 -> 0
            [0.2, 0.4, 0.4],  # tie 1/2 -> 1
            [0.4, 0.2, 0.4],  # tie 0/2 -> 0
            [third, third, third],  # three-way tie -> 0
            [0.0, 0.5, 0.5],  # tie 1/2 -> 1
        ]
    )
    y = np.array([2, 2, 2, 2, 2])
    result = confusion(multiclass(y, scores, class_names=["a", "b", "c"]), "argmax")
    np.testing.assert_array_equal(result.matrix, [[0, 0, 0], [0, 0, 0], [3, 2, 0]])
    np.testing.assert_array_equal(brute_argmax(scores), [0, 1, 0, 0, 1])


def test_default_rule_is_argmax_for_multiclass():
    y, scores = grid_multiclass(3, k=3)
    p = multiclass(y, scores)
    np.testing.assert_array_equal(confusion(p).matrix, confusion(p, "argmax").matrix)
    assert confusion(p).rule == "argmax"


# --------------------------------------------------------------------------- abstain


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("t", [0.0, 0.25, 0.5, 0.6, 0.75, 0.9, 1.0, 0.55])
def test_abstain_matches_brute_force(seed, t):
    k = 4
    y, scores = grid_multiclass(seed, n=70, k=k)
    result = confusion(multiclass(y, scores), "abstain", t)
    predicted = brute_abstain(scores, t)
    expected = brute_matrix(y, predicted, k, k + 1)
    np.testing.assert_array_equal(result.matrix, expected)
    assert result.predicted_labels[-1] == ABSTAINED
    assert result.predicted_labels[:-1] == result.labels
    assert result.matrix.shape == (k, k + 1)
    n = len(y)
    covered = int(np.count_nonzero(predicted != k))
    correct = int(np.count_nonzero(predicted == y))
    assert result.coverage == covered / n
    assert result.accuracy == correct / n
    if covered:
        assert result.covered_accuracy == correct / covered
    else:
        assert result.covered_accuracy is None


def test_abstain_threshold_equal_to_top_score_covers_the_row():
    scores = np.array([[0.6, 0.3, 0.1], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    y = np.array([0, 0, 1])
    result = confusion(multiclass(y, scores), "abstain", 0.6)
    # row 0: 0.6 >= 0.6 -> class 0; row 1: 0.5 < 0.6 -> abstained; row 2: 0.6 -> class 2
    np.testing.assert_array_equal(result.matrix, [[1, 0, 0, 1], [0, 0, 1, 0], [0, 0, 0, 0]])
    assert result.coverage == pytest.approx(2 / 3)
    assert result.accuracy == pytest.approx(1 / 3)
    assert result.covered_accuracy == pytest.approx(1 / 2)


def test_abstain_everything_abstains_above_one():
    y, scores = grid_multiclass(5, n=30, k=3)
    result = confusion(multiclass(y, scores), "abstain", 1.01)
    assert result.coverage == 0.0
    assert result.accuracy == 0.0
    assert result.covered_accuracy is None
    np.testing.assert_array_equal(result.matrix[:, -1], np.bincount(y, minlength=3))
    assert result.matrix[:, :-1].sum() == 0
    # every sample is a false negative of its class, and a false positive of none
    np.testing.assert_array_equal(result.counts.fn, np.bincount(y, minlength=3))
    np.testing.assert_array_equal(result.counts.fp, 0)
    np.testing.assert_array_equal(result.counts.tp, 0)
    assert strict_json(result.to_dict())["covered_accuracy"] is None


def test_abstain_ties_go_to_lowest_index():
    scores = np.array([[0.45, 0.45, 0.1], [0.1, 0.45, 0.45]])
    result = confusion(multiclass([2, 2], scores), "abstain", 0.45)
    np.testing.assert_array_equal(result.matrix[2], [1, 1, 0, 0])


# --------------------------------------------------------------------------- per-class


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_class_matches_brute_force_with_thresholds_equal_to_scores(seed):
    k = 4
    y, scores = grid_multiclass(seed, n=80, k=k)
    rng = np.random.default_rng(100 + seed)
    for _ in range(6):
        # each threshold is a score that occurs in its own column
        thresholds = np.array([rng.choice(scores[:, j]) for j in range(k)])
        result = confusion(multiclass(y, scores), "per-class", thresholds)
        predicted = brute_per_class(scores, thresholds)
        np.testing.assert_array_equal(result.matrix, brute_matrix(y, predicted, k, k + 1))
        assert result.predicted_labels[-1] == ABSTAINED
        np.testing.assert_array_equal(list(result.thresholds.values()), thresholds)
        covered = int(np.count_nonzero(predicted != k))
        assert result.coverage == covered / len(y)
        assert result.accuracy == np.count_nonzero(predicted == y) / len(y)


def test_per_class_picks_highest_scoring_cleared_class_not_argmax():
    # class 0 has the top score but does not clear its (high) threshold: class 1 wins
    scores = np.array([[0.5, 0.3, 0.2], [0.5, 0.25, 0.25], [0.1, 0.45, 0.45], [0.9, 0.05, 0.05]])
    y = np.array([1, 2, 2, 0])
    thresholds = [0.95, 0.25, 0.25]
    result = confusion(multiclass(y, scores), "per-class", thresholds)
    # row 0 -> 1 (0.3 >= 0.25); row 1 -> 1 (tie 0.25/0.25 -> lowest); row 2 -> 1 (tie);
    # row 3 -> abstained (0.9 < 0.95, 0.05 < 0.25)
    np.testing.assert_array_equal(brute_per_class(scores, thresholds), [1, 1, 1, 3])
    expected = brute_matrix(y, [1, 1, 1, 3], 3, 4)
    np.testing.assert_array_equal(result.matrix, expected)


def test_per_class_scalar_threshold_applies_to_every_class():
    y, scores = grid_multiclass(7, k=3)
    p = multiclass(y, scores)
    np.testing.assert_array_equal(
        confusion(p, "per-class", 0.4).matrix, confusion(p, "per-class", [0.4, 0.4, 0.4]).matrix
    )


# --------------------------------------------------------------------------- per-class counts


@pytest.mark.parametrize("rule", ["argmax", "abstain", "per-class"])
@pytest.mark.parametrize("seed", [0, 1])
def test_counts_match_sklearn_with_abstained_as_extra_label(rule, seed):
    k = 4
    y, scores = grid_multiclass(seed, n=80, k=k)
    y = y.copy()
    y[y == 3] = 2  # class 3 has no true samples (recall undefined)
    y[:3] = np.arange(3)
    thresholds = {"argmax": 0.5, "abstain": 0.6, "per-class": [0.5, 0.75, 0.4, 0.9]}[rule]
    result = confusion(multiclass(y, scores), rule, thresholds)
    if rule == "argmax":
        predicted = brute_argmax(scores)
    elif rule == "abstain":
        predicted = brute_abstain(scores, thresholds)
    else:
        predicted = brute_per_class(scores, thresholds)
    labels = list(range(k))
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, labels=labels, zero_division=np.nan
    )
    c = result.counts
    assert_same_array(c.precision, precision)
    assert_same_array(c.recall, recall)
    assert_same_array(c.f1, f1)
    np.testing.assert_array_equal(c.tp + c.fn, support)
    mcm = multilabel_confusion_matrix(y, predicted, labels=labels)
    np.testing.assert_array_equal(c.tn, mcm[:, 0, 0])
    np.testing.assert_array_equal(c.fp, mcm[:, 0, 1])
    np.testing.assert_array_equal(c.fn, mcm[:, 1, 0])
    np.testing.assert_array_equal(c.tp, mcm[:, 1, 1])
    # an abstained sample is a false negative of its true class
    if rule != "argmax":
        abstained = np.bincount(y[predicted == k], minlength=k)
        off_diagonal = result.matrix[:, :k].sum(axis=1) - np.diag(result.matrix)
        np.testing.assert_array_equal(c.fn, abstained + off_diagonal)


# --------------------------------------------------------------------------- multilabel


def multilabel_case(seed: int, n: int = 60, k: int = 4):
    """Random multilabel data; the last label has no positives and is never predicted."""
    rng = np.random.default_rng(seed)
    y = (rng.random((n, k)) < 0.4).astype(int)
    scores = np.clip(0.35 * y + rng.choice(GRID, size=(n, k)) * 0.7, 0, 1)
    y[:, -1] = 0
    scores[:, -1] = rng.choice(GRID[:4], n)  # all < 0.5
    y[0] = [1] * (k - 1) + [0]
    y[1] = 0  # a sample with no labels at all
    scores[1] = 0.0  # ... and no predictions: its sample F1 is undefined
    return y, scores


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("thresholds", [0.5, [0.5, 0.4, 0.6, 0.5], np.array([0.3, 0.7, 0.2, 0.45])])
def test_multilabel_matches_sklearn(seed, thresholds):
    y, scores = multilabel_case(seed)
    p = Predictions.from_arrays(y, scores, task="multilabel")
    result = confusion(p, "multilabel", thresholds)
    t = np.broadcast_to(np.asarray(thresholds, dtype=float), (4,))
    predicted = np.array(
        [[int(float(s) >= float(t[j])) for j, s in enumerate(row)] for row in scores]
    )
    assert result.matrix is None
    mcm = multilabel_confusion_matrix(y, predicted)
    c = result.counts
    np.testing.assert_array_equal(c.tn, mcm[:, 0, 0])
    np.testing.assert_array_equal(c.fp, mcm[:, 0, 1])
    np.testing.assert_array_equal(c.fn, mcm[:, 1, 0])
    np.testing.assert_array_equal(c.tp, mcm[:, 1, 1])
    m = result.multilabel
    assert m.subset_accuracy == pytest.approx(accuracy_score(y, predicted), abs=1e-15)
    assert result.accuracy == m.subset_accuracy
    assert m.hamming_loss == pytest.approx(hamming_loss(y, predicted), abs=1e-15)
    assert m.binary_accuracy == pytest.approx(1 - hamming_loss(y, predicted), abs=1e-15)
    assert m.binary_accuracy == pytest.approx(np.mean(predicted == y), abs=1e-15)
    # by default as scikit-learn's default (zero_division 0: the empty sample's F1 is 0) ...
    assert m.zero_division == 0.0
    for average in ("micro", "macro", "samples"):
        expected = f1_score(y, predicted, average=average, zero_division=0.0)
        got = getattr(m, f"f1_{average}")
        assert same(got, float(expected)), (average, got, expected)
    # ... or with zero_division=None, undefined values left out, as zero_division=np.nan
    left_out = confusion(p, "multilabel", thresholds, zero_division=None).multilabel
    for average in ("micro", "macro", "samples"):
        expected = f1_score(y, predicted, average=average, zero_division=np.nan)
        got = getattr(left_out, f"f1_{average}")
        assert same(got, float(expected)), (average, got, expected)
    # the label with no positives and no predictions: F1 undefined, left out of the macro
    assert math.isnan(c.f1[-1])
    assert left_out.f1_macro == pytest.approx(np.mean(c.f1[:-1]), abs=1e-15)
    assert m.f1_macro == pytest.approx(np.mean(np.r_[c.f1[:-1], 0.0]), abs=1e-15)
    out = strict_json(result.to_dict())
    assert out["per_class"]["3"]["f1"] is None and "zero_division" in out["f1_convention"]


def test_multilabel_f1_undefined_everywhere_is_none():
    y = np.zeros((3, 2), dtype=int)
    scores = np.array([[0.1, 0.2], [0.3, 0.0], [0.4, 0.49]])
    result = confusion(Predictions.from_arrays(y, scores, task="multilabel"), "multilabel", 0.5)
    m = result.multilabel
    assert m.f1_micro == m.f1_macro == m.f1_samples == 0.0  # scikit-learn's zero_division
    assert m.subset_accuracy == 1.0 and m.hamming_loss == 0.0
    p = Predictions.from_arrays(y, scores, task="multilabel")
    m = confusion(p, "multilabel", 0.5, zero_division=None).multilabel
    assert m.f1_micro is None and m.f1_macro is None and m.f1_samples is None
    strict_json(result.to_dict())


KERAS_Y_TRUE = [[1], [1], [0], [0]]
KERAS_Y_PRED = [[0.98], [1], [0], [0.6]]


def test_keras_binary_accuracy_example_binary_rule():
    # keras.metrics.BinaryAccuracy docs: update_state([[1], [1], [0], [0]],
    # [[0.98], [1], [0], [0.6]]) -> 0.75 (threshold 0.5)
    p = Predictions.from_arrays(np.array(KERAS_Y_TRUE), np.array(KERAS_Y_PRED))
    assert p.task == "binary"
    result = confusion(p, "binary", 0.5)
    assert result.accuracy == 0.75
    np.testing.assert_array_equal(result.matrix, [[1, 1], [0, 2]])


def test_keras_binary_accuracy_example_multilabel():
    y1 = np.array(KERAS_Y_TRUE)
    s1 = np.array(KERAS_Y_PRED, dtype=float)
    # two labels: the example and its complement, each 3 of 4 right
    y = np.hstack([y1, 1 - y1])
    scores = np.hstack([s1, 1 - s1])
    result = confusion(Predictions.from_arrays(y, scores, task="multilabel"), "multilabel", 0.5)
    assert result.multilabel.binary_accuracy == 0.75
    assert result.multilabel.hamming_loss == 0.25
    assert result.multilabel.subset_accuracy == 0.75
    # duplicated column: same cell accuracy
    dup = Predictions.from_arrays(np.hstack([y1, y1]), np.hstack([s1, s1]), task="multilabel")
    assert confusion(dup, "multilabel").multilabel.binary_accuracy == 0.75


def test_multilabel_logits_threshold_half_is_logit_zero():
    rng = np.random.default_rng(11)
    logits = rng.normal(0, 2, size=(50, 3)).round(1)  # many exact 0.0 and ties
    logits[:5] = [[0.0, -0.0, 1e-12], [-1e-12, 0.0, 0.1], [-0.1, 1e-9, -1e-9],
                  [0.0, 0.0, 0.0], [-5.0, 5.0, -0.0]]
    y = (rng.random((50, 3)) < 0.5).astype(int)
    p = Predictions.from_arrays(y, logits, task="multilabel")
    assert p.score_kind == "logit" and p.conversion == "sigmoid"
    result = confusion(p, "multilabel", 0.5)
    predicted = logits >= 0
    truth = y.astype(bool)
    c = result.counts
    np.testing.assert_array_equal(c.tp, np.count_nonzero(predicted & truth, axis=0))
    np.testing.assert_array_equal(c.fp, np.count_nonzero(predicted & ~truth, axis=0))
    np.testing.assert_array_equal(c.fn, np.count_nonzero(~predicted & truth, axis=0))
    assert result.multilabel.subset_accuracy == accuracy_score(truth, predicted)
    assert result.multilabel.hamming_loss == pytest.approx(hamming_loss(truth, predicted))


# --------------------------------------------------------------------------- binary


@pytest.mark.parametrize("seed", [0, 1])
def test_binary_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 60)
    scores = rng.choice(GRID, 60)
    p = Predictions.from_arrays(y, scores)
    assert p.task == "binary"
    for t in [0.0, 0.1, 0.25, 0.5, 0.55, 0.9, 1.0, 1.5]:
        result = confusion(p, "binary", t)
        expected = confusion_matrix(y, (scores >= t).astype(int), labels=[0, 1])
        np.testing.assert_array_equal(result.matrix, expected)
        assert result.predicted_labels == ("0", "1")
        assert result.coverage == 1.0
        assert result.accuracy == pytest.approx(np.mean((scores >= t) == y), abs=1e-15)
    assert confusion(p).rule == "binary"


# --------------------------------------------------------------------------- float32 scores


def float32_pair():
    a = np.float32(0.3)
    b = np.nextafter(a, np.float32(1))
    between = (float(a) + float(b)) / 2
    assert float(a) < between < float(b)
    return a, b, between


def test_float32_scores_exact_comparison_abstain_and_per_class():
    a, b, between = float32_pair()
    # row 0 tops at a, row 1 tops at b, the next float32 above a
    scores = np.array([[0.3, 0.2, 0.2], [0.2, 0.3, 0.2]], dtype=np.float32)
    scores[0, 0], scores[1, 1] = a, b
    y = np.array([0, 1])
    p = multiclass(y, scores)
    assert p.scores.dtype == np.float32
    s64 = scores.astype(np.float64)
    just_above_a = float(np.nextafter(float(a), np.inf))
    for t in [between, float(a), just_above_a, 0.3, float(b)]:
        result = confusion(p, "abstain", t)
        expected = brute_matrix(y, brute_abstain(s64, t), 3, 4)
        np.testing.assert_array_equal(result.matrix, expected, err_msg=f"abstain at {t!r}")
        thresholds = [t, t, t]
        result = confusion(p, "per-class", thresholds)
        expected = brute_matrix(y, brute_per_class(s64, thresholds), 3, 4)
        np.testing.assert_array_equal(result.matrix, expected, err_msg=f"per-class at {t!r}")
    # the decisive case: a float64 threshold just above a float32 score does not clear it
    assert confusion(p, "abstain", just_above_a).matrix[0, 3] == 1
    assert confusion(p, "abstain", between).matrix.tolist() == [[0, 0, 0, 1], [0, 1, 0, 0], [0, 0, 0, 0]]


def test_float32_scores_exact_comparison_binary_and_multilabel():
    a, b, between = float32_pair()
    scores = np.array([a, b, a, b], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    p = Predictions.from_arrays(y, scores)
    assert p.scores.dtype == np.float32
    for t in [between, float(a), float(np.nextafter(float(a), np.inf)), 0.3]:
        expected = confusion_matrix(y, (scores.astype(np.float64) >= t).astype(int), labels=[0, 1])
        np.testing.assert_array_equal(confusion(p, "binary", t).matrix, expected)
    ml_scores = np.array([[a, b], [b, a], [a, a]], dtype=np.float32)
    ml_y = np.array([[1, 1], [0, 1], [1, 0]])
    q = Predictions.from_arrays(ml_y, ml_scores, task="multilabel")
    result = confusion(q, "multilabel", between)
    predicted = ml_scores.astype(np.float64) >= between
    np.testing.assert_array_equal(result.counts.tp, np.count_nonzero(predicted & (ml_y == 1), axis=0))
    np.testing.assert_array_equal(result.counts.fp, np.count_nonzero(predicted & (ml_y == 0), axis=0))


# --------------------------------------------------------------------------- errors


@pytest.fixture(scope="module")
def three_class():
    y, scores = grid_multiclass(0, n=20, k=3)
    return multiclass(y, scores, class_names=["cat", "dog", "eel"])


def test_unknown_rule(three_class):
    with pytest.raises(InputError, match=r"rule must be one of .*got 'bogus'"):
        confusion(three_class, "bogus")


@pytest.mark.parametrize("rule", ["binary", "multilabel"])
def test_rule_that_does_not_fit_multiclass(three_class, rule):
    with pytest.raises(InputError, match=rf"rule '{rule}' does not apply to multiclass"):
        confusion(three_class, rule)


@pytest.mark.parametrize("rule", ["argmax", "abstain", "per-class", "binary"])
def test_rule_that_does_not_fit_multilabel(rule):
    y, scores = multilabel_case(0)
    p = Predictions.from_arrays(y, scores, task="multilabel")
    with pytest.raises(InputError, match=rf"rule '{rule}' does not apply to multilabel"):
        confusion(p, rule)


def test_rule_that_does_not_fit_binary():
    p = Predictions.from_arrays([0, 1, 1], [0.2, 0.7, 0.4])
    with pytest.raises(InputError, match="does not apply to binary"):
        confusion(p, "argmax")


@pytest.mark.parametrize("thresholds", [[0.5, 0.5], [0.1, 0.2, 0.3, 0.4], [[0.5, 0.5, 0.5]]])
def test_wrong_number_of_thresholds(three_class, thresholds):
    with pytest.raises(InputError, match="expected one threshold or 3"):
        confusion(three_class, "per-class", thresholds)


def test_wrong_number_of_thresholds_binary():
    p = Predictions.from_arrays([0, 1, 1], [0.2, 0.7, 0.4])
    with pytest.raises(InputError, match="expected one threshold or 1"):
        confusion(p, "binary", [0.5, 0.5])


@pytest.mark.parametrize("thresholds", [float("nan"), [0.5, float("nan"), 0.5]])
def test_nan_threshold(three_class, thresholds):
    with pytest.raises(InputError, match="NaN"):
        confusion(three_class, "per-class", thresholds)


def test_nan_threshold_multilabel():
    y, scores = multilabel_case(0)
    p = Predictions.from_arrays(y, scores, task="multilabel")
    with pytest.raises(InputError, match="NaN"):
        confusion(p, "multilabel", np.nan)


def test_abstain_with_per_class_thresholds(three_class):
    with pytest.raises(InputError, match="abstain rule takes one threshold"):
        confusion(three_class, "abstain", [0.5, 0.6, 0.7])


# --------------------------------------------------------------------------- to_dict / normalized


@pytest.mark.parametrize("rule", ["argmax", "abstain", "per-class"])
def test_to_dict_is_strict_json(rule):
    y, scores = grid_multiclass(1, n=40, k=4)
    y[y == 3] = 0  # class 3: no true samples -> undefined recall
    thresholds = {"argmax": 0.5, "abstain": 0.9, "per-class": [0.9, 1.0, 0.9, 1.0]}[rule]
    result = confusion(multiclass(y, scores, class_names=list("wxyz")), rule, thresholds)
    out = strict_json(result.to_dict())
    assert out["rule"] == rule
    assert out["labels"] == list("wxyz")
    assert out["predicted_labels"] == list("wxyz") + ([ABSTAINED] if rule != "argmax" else [])
    assert out["matrix"] == result.matrix.tolist()
    assert set(out["per_class"]) == set("wxyz")
    assert out["per_class"]["z"]["recall"] is None
    assert out["coverage"] == result.coverage and out["accuracy"] == result.accuracy
    for name, row in out["per_class"].items():
        i = "wxyz".index(name)
        assert row["tp"] == result.matrix[i, i]


def test_to_dict_binary_and_multilabel_are_strict_json():
    p = Predictions.from_arrays([0, 0, 0], [0.2, 0.7, 0.4])  # no positives
    out = strict_json(confusion(p, "binary", 0.5).to_dict())
    assert out["matrix"] == [[2, 1], [0, 0]]
    y, scores = multilabel_case(2)
    out = strict_json(confusion(Predictions.from_arrays(y, scores, task="multilabel")).to_dict())
    assert "matrix" not in out
    for key in ("subset_accuracy", "hamming_loss", "binary_accuracy", "f1_micro", "f1_macro"):
        assert isinstance(out[key], float)


def test_to_dict_binary_threshold_belongs_to_the_positive_class():
    # the binary rule thresholds the positive class' score ("spam"), not "ham"'s
    p = Predictions.from_arrays([0, 1, 1, 0], [0.2, 0.8, 0.4, 0.6], class_names=["ham", "spam"])
    out = strict_json(confusion(p, "binary", 0.7).to_dict())
    assert out["thresholds"].get("spam") == 0.7, out["thresholds"]
    assert out["thresholds"].get("ham") is None, out["thresholds"]


@pytest.mark.parametrize("rule", ["argmax", "abstain", "per-class"])
def test_normalized_rows_and_columns_sum_to_one(rule):
    y, scores = grid_multiclass(4, n=50, k=4)
    y[y == 2] = 1  # row 2 empty: undefined
    thresholds = {"argmax": 0.5, "abstain": 0.75, "per-class": [0.5, 0.6, 1.01, 0.75]}[rule]
    result = confusion(multiclass(y, scores), rule, thresholds)
    m = result.matrix
    true = result.normalized("true")
    pred = result.normalized("pred")
    assert true.shape == pred.shape == m.shape
    rows = m.sum(axis=1) > 0
    cols = m.sum(axis=0) > 0
    np.testing.assert_allclose(true[rows].sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(pred[:, cols].sum(axis=0), 1.0, rtol=1e-12)
    assert np.isnan(true[~rows]).all() and np.isnan(pred[:, ~cols]).all()
    assert (~rows).any()  # the case really has an empty row
    np.testing.assert_allclose(true[rows], m[rows] / m[rows].sum(axis=1, keepdims=True))


def test_normalized_multilabel_raises():
    y, scores = multilabel_case(0)
    result = confusion(Predictions.from_arrays(y, scores, task="multilabel"))
    with pytest.raises(InputError, match="multilabel"):
        result.normalized("true")


# --------------------------------------------------------------------------- property test

GRID_VALUES = st.sampled_from([0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 1.0])


@st.composite
def small_multiclass(draw):
    k = draw(st.integers(2, 4))
    n = draw(st.integers(1, 15))
    scores = draw(st.lists(st.lists(GRID_VALUES, min_size=k, max_size=k), min_size=n, max_size=n))
    y = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    t = draw(GRID_VALUES)
    per_class = draw(st.lists(GRID_VALUES, min_size=k, max_size=k))
    return np.array(y), np.array(scores, dtype=np.float64), t, per_class


@settings(max_examples=50, deadline=None)
@given(small_multiclass())
def test_rules_match_brute_force_property(case):
    y, scores, t, per_class = case
    k = scores.shape[1]
    p = multiclass(y, scores)
    argmax = confusion(p, "argmax")
    np.testing.assert_array_equal(argmax.matrix, brute_matrix(y, brute_argmax(scores), k, k))
    abstain = confusion(p, "abstain", t)
    predicted = brute_abstain(scores, t)
    np.testing.assert_array_equal(abstain.matrix, brute_matrix(y, predicted, k, k + 1))
    covered = np.count_nonzero(predicted != k)
    assert abstain.coverage == covered / len(y)
    assert abstain.covered_accuracy == (
        np.count_nonzero(predicted == y) / covered if covered else None
    )
    per = confusion(p, "per-class", per_class)
    predicted = brute_per_class(scores, per_class)
    np.testing.assert_array_equal(per.matrix, brute_matrix(y, predicted, k, k + 1))
    for result in (argmax, abstain, per):
        c = result.counts
        assert (c.tp + c.fp + c.fn + c.tn == len(y)).all()
        np.testing.assert_array_equal(c.tp + c.fn, np.bincount(y, minlength=k))
        strict_json(result.to_dict())


@st.composite
def wide_multiclass(draw):
    """Up to 8 classes, heavy ties, thresholds that differ per class (the rank walk of the
    per-class rule visits several ranks and gives rows up below the lowest threshold)."""
    k = draw(st.integers(2, 8))
    n = draw(st.integers(1, 30))
    scores = draw(st.lists(st.lists(GRID_VALUES, min_size=k, max_size=k), min_size=n, max_size=n))
    y = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    per_class = draw(st.lists(GRID_VALUES, min_size=k, max_size=k))
    return np.array(y), np.array(scores, dtype=np.float64), per_class


@settings(max_examples=150, deadline=None)
@given(wide_multiclass())
def test_per_class_rank_walk_matches_brute_force_property(case):
    y, scores, per_class = case
    k = scores.shape[1]
    got = confusion(multiclass(y, scores), "per-class", per_class)
    expected = brute_matrix(y, brute_per_class(scores, per_class), k, k + 1)
    np.testing.assert_array_equal(got.matrix, expected)
