"""Predictions.from_arrays: detection, conversion, label encoding and every InputError path."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.special
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import LabelEncoder

from _inputs import ABSENT_NAMES, CASES, STRING_CLASSES, Case
from evalcore.curves import compute_curves
from evalcore.errors import InputError
from evalcore.predictions import SIGMOID_SATURATION, Predictions


def _from(case: Case) -> tuple[Predictions, np.ndarray, np.ndarray, dict]:
    y_true, y_score, kwargs = case.inputs()
    return Predictions.from_arrays(y_true, y_score, **kwargs), y_true, y_score, kwargs


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)
    with pytest.raises(ValueError):  # callers catching ValueError also catch it
        Predictions.from_arrays([0, 1], [[0.5, 0.5]])


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize("case", CASES, ids=str)
def test_detects_task_score_kind_conversion_and_notes(case: Case):
    p, y_true, y_score, _ = _from(case)
    assert p.task == case.task
    assert p.score_kind == case.score_kind
    assert p.conversion == case.conversion
    assert any(case.note in note for note in p.notes), p.notes
    assert p.class_names == case.class_names
    n = len(y_true)
    assert p.n_samples == n
    assert p.scores.shape == (n, case.n_curves)
    assert p.curve_names == (case.class_names[1:] if case.task == "binary" else case.class_names)
    assert p.scores.dtype == (np.float32 if case.float32 else np.float64)
    assert p.to_dict()["task"] == case.task and p.to_dict()["classes"] == list(case.class_names)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_scores_are_the_input_or_its_exact_conversion(case: Case):
    p, _, y_score, kwargs = _from(case)
    raw = np.asarray(y_score, dtype=np.float64)
    if raw.ndim == 1:
        raw = raw[:, None]
    if case.conversion == "softmax":
        expected = scipy.special.softmax(raw, axis=1)
    elif case.conversion == "sigmoid":
        expected = scipy.special.expit(raw)
    else:
        expected = raw
    if case.task == "binary" and raw.shape[1] == 2:
        expected = expected[:, 1:]  # the positive class' column
    assert p.scores.shape == expected.shape
    if case.conversion is None:
        assert np.array_equal(p.scores.astype(np.float64), expected)  # untouched
    else:
        np.testing.assert_allclose(p.scores, expected, rtol=0, atol=1e-12)
    assert ((p.scores >= 0) & (p.scores <= 1)).all()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_y_true_encoding_and_positives(case: Case):
    p, y_true, _, _ = _from(case)
    y = np.asarray(y_true)
    if case.task == "multilabel":
        assert p.y_true.dtype == bool and np.array_equal(p.y_true, y.astype(bool))
        expected_pos = [y[:, c] == 1 for c in range(y.shape[1])]
    else:
        if y.ndim == 2:  # one-hot
            idx = y.argmax(axis=1)
        elif y.dtype.kind in "US":
            idx = np.array([case.class_names.index(v) for v in y])
        else:
            idx = y
        assert p.y_true.dtype == np.int64 and np.array_equal(p.y_true, idx)
        if case.task == "binary":
            expected_pos = [idx == 1]
        else:
            expected_pos = [idx == c for c in range(len(case.class_names))]
    assert len(expected_pos) == case.n_curves
    for c, expected in enumerate(expected_pos):
        assert np.array_equal(p.positives(c), expected)
        assert (c in case.no_positives) == (not expected.any())
        assert (c in case.only_positives) == bool(expected.all())


def test_multiclass_logits_convert_with_softmax_exactly_like_scipy():
    rng = np.random.default_rng(21)
    logits = rng.normal(scale=30.0, size=(200, 6))  # wide range: stability matters
    p = Predictions.from_arrays(rng.integers(0, 6, 200), logits)
    assert p.conversion == "softmax" and p.score_kind == "logit"
    np.testing.assert_allclose(p.scores, scipy.special.softmax(logits, axis=1), rtol=0, atol=1e-12)
    np.testing.assert_allclose(p.scores.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_sigmoid_is_accurate_in_both_tails():
    logits = np.array([-700.0, -40.0, -5.0, -1e-9, 0.0, 1e-9, 5.0, 40.0, 700.0])
    y = np.array([0, 1] * 4 + [1])
    p = Predictions.from_arrays(y, logits)
    assert p.conversion == "sigmoid"
    expected = scipy.special.expit(logits)[:, None]
    np.testing.assert_allclose(p.scores, expected, rtol=1e-12, atol=0)  # relative, even tiny
    assert p.scores[0, 0] > 0  # no underflow to 0 at -700 (expit gives 9.86e-305)
    assert any(str(SIGMOID_SATURATION) in note for note in p.notes)  # 40 and 700 saturate


def test_claimed_logits_in_unit_interval_are_still_converted():
    y = np.array([0, 1, 1, 0])
    s = np.array([0.1, 0.9, 0.6, 0.4])
    p = Predictions.from_arrays(y, s, score_kind="logit")
    assert p.score_kind == "logit" and p.conversion == "sigmoid"
    np.testing.assert_allclose(p.scores[:, 0], scipy.special.expit(s), rtol=0, atol=1e-12)
    assert any("as given" in note for note in p.notes)


def test_claimed_probability_is_kept():
    y = np.array([0, 1, 2, 1])
    s = np.array([[0.2, 0.3, 0.1], [0.1, 0.8, 0.3], [0.0, 0.2, 0.9], [0.5, 0.5, 0.5]])
    p = Predictions.from_arrays(y, s, score_kind="probability")
    assert p.score_kind == "probability" and p.conversion is None
    assert np.array_equal(p.scores, s)


def test_binary_two_column_logits_use_softmax_then_the_positive_column():
    rng = np.random.default_rng(5)
    logits = rng.normal(scale=3, size=(50, 2))
    p = Predictions.from_arrays(rng.integers(0, 2, 50), logits, task="binary")
    assert (p.task, p.score_kind, p.conversion) == ("binary", "logit", "softmax")
    expected = scipy.special.softmax(logits, axis=1)[:, 1:]
    np.testing.assert_allclose(p.scores, expected, rtol=0, atol=1e-12)


def test_two_columns_without_task_is_multiclass_with_two_classes():
    p = Predictions.from_arrays([0, 1, 1], [[0.7, 0.3], [0.4, 0.6], [0.2, 0.8]])
    assert p.task == "multiclass" and p.scores.shape == (3, 2)
    assert p.class_names == ("0", "1")


def test_float32_scores_stay_float32_and_are_not_copied():
    rng = np.random.default_rng(3)
    scores = scipy.special.softmax(rng.normal(size=(100, 3)), axis=1).astype(np.float32)
    p = Predictions.from_arrays(rng.integers(0, 3, 100), scores)
    assert p.scores.dtype == np.float32
    assert np.shares_memory(p.scores, scores)


def test_float16_scores_are_widened_exactly():
    scores = np.array([0.25, 0.5, 0.125, 0.875], dtype=np.float16)
    p = Predictions.from_arrays([0, 1, 0, 1], scores)
    assert p.scores.dtype == np.float32
    assert np.array_equal(p.scores[:, 0], scores.astype(np.float32))


def test_integer_and_bool_scores_become_float64():
    p = Predictions.from_arrays([0, 1, 1, 0], np.array([0, 1, 1, 1]))
    assert p.scores.dtype == np.float64 and p.score_kind == "probability"
    p = Predictions.from_arrays([0, 1, 1, 0], np.array([False, True, True, True]))
    assert p.scores.dtype == np.float64 and np.array_equal(p.scores[:, 0], [0, 1, 1, 1])


# --------------------------------------------------------------------------- class names


def test_string_labels_sorted_like_scikit_learn():
    rng = np.random.default_rng(8)
    labels = rng.choice(np.array(["pear", "apple", "fig", "kiwi"]), 120)
    p = Predictions.from_arrays(labels, rng.random((120, 4)))
    encoder = LabelEncoder().fit(labels)
    assert p.class_names == tuple(encoder.classes_)
    assert np.array_equal(p.y_true, encoder.transform(labels))


def test_string_labels_follow_given_class_names_order():
    order = ("dog", "bird", "cat")
    labels = np.array(["cat", "dog", "bird", "cat", "dog"])
    p = Predictions.from_arrays(labels, np.full((5, 3), 1 / 3), class_names=order)
    assert p.class_names == order
    assert np.array_equal(p.y_true, [2, 0, 1, 2, 0])
    assert sorted(order) == list(STRING_CLASSES)  # the same names, another order


def test_string_labels_with_class_names_may_leave_a_class_without_samples():
    labels = np.array(["a", "c", "a", "c"])
    p = Predictions.from_arrays(labels, np.full((4, 3), 1 / 3), class_names=["a", "b", "c"])
    assert np.array_equal(p.y_true, [0, 2, 0, 2])
    assert not p.positives(1).any()


def test_integer_labels_with_class_names_keep_the_given_order():
    rng = np.random.default_rng(2)
    y = rng.choice(np.array([0, 1, 3]), 30)
    p = Predictions.from_arrays(y, np.full((30, 4), 0.25), class_names=ABSENT_NAMES)
    assert p.class_names == ABSENT_NAMES
    assert np.array_equal(p.y_true, y)


def test_binary_string_labels_take_the_later_sorted_name_as_positive():
    labels = np.array(["pos", "neg", "neg", "pos"])
    p = Predictions.from_arrays(labels, [0.9, 0.2, 0.4, 0.7])
    assert p.task == "binary" and p.class_names == ("neg", "pos")
    assert p.curve_names == ("pos",)
    assert np.array_equal(p.positives(0), labels == "pos")


def test_binary_string_labels_with_class_names_choose_the_positive():
    labels = np.array(["pos", "neg", "neg", "pos"])
    p = Predictions.from_arrays(labels, [0.1, 0.8, 0.6, 0.3], class_names=["pos", "neg"])
    assert p.curve_names == ("neg",)
    assert np.array_equal(p.positives(0), labels == "neg")


@pytest.mark.parametrize("values", [(-1, 1), (3, 7), (0, 2), (-5, -2)])
def test_binary_with_two_non_01_integer_labels_the_larger_is_positive(values):
    rng = np.random.default_rng(11)
    y = rng.choice(np.array(values), 80)
    s = rng.random(80)
    p = Predictions.from_arrays(y, s)
    assert p.task == "binary"
    assert p.class_names == (str(values[0]), str(values[1]))
    assert np.array_equal(p.positives(0), y == values[1])
    # scikit-learn's roc_auc_score also takes the larger label as positive
    assert compute_curves(p).classes[0].roc_auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_binary_bool_and_float_labels():
    s = [0.2, 0.9, 0.4, 0.6]
    for y in (np.array([False, True, False, True]), np.array([0.0, 1.0, 0.0, 1.0])):
        p = Predictions.from_arrays(y, s)
        assert p.task == "binary" and np.array_equal(p.y_true, [0, 1, 0, 1])


def test_column_vector_y_true_is_flattened():
    p = Predictions.from_arrays(np.array([[0], [1], [2]]), np.eye(3))
    assert p.task == "multiclass" and np.array_equal(p.y_true, [0, 1, 2])


def test_multilabel_indicator_with_one_label_per_row_can_be_forced_multilabel():
    y = np.eye(3, dtype=int)[[0, 1, 2, 1]]
    s = np.random.default_rng(0).random((4, 3))
    assert Predictions.from_arrays(y, s).task == "multiclass"
    p = Predictions.from_arrays(y, s, task="multilabel")
    assert p.task == "multilabel" and p.y_true.dtype == bool


# --------------------------------------------------------------------------- InputError paths

P3 = [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.6, 0.2, 0.2]]


@pytest.mark.parametrize(
    "y_true, y_score, kwargs, pattern",
    [
        # shapes
        pytest.param([0, 1, 2], P3 + [[0.3, 0.3, 0.4]], {}, r"y_true has 3 rows but y_score has 4",
                     id="rows-differ"),
        pytest.param([0, 1, 2, 1], [0.1, 0.2, 0.3], {}, r"y_true has 4 rows but y_score has 3",
                     id="rows-differ-binary"),
        pytest.param([[0, 1], [1, 0], [0, 1]], P3, {}, r"y_true has 2 columns but y_score has 3",
                     id="indicator-columns-differ"),
        pytest.param(np.zeros((2, 2, 2)), np.zeros((2, 2)), {}, r"y_true must be 1-D or 2-D",
                     id="y_true-3d"),
        pytest.param([0, 1], np.zeros((2, 2, 2)), {}, r"y_score must be 1-D or 2-D",
                     id="y_score-3d"),
        pytest.param([0, 1], np.zeros((2, 0)), {}, r"y_score has no columns", id="no-columns"),
        # non-finite scores, naming row and column
        pytest.param([0, 1, 2], [[0.2, 0.3, 0.5], [0.1, np.nan, 0.8], [0.6, 0.2, 0.2]], {},
                     r"non-finite value \(nan\) at row 1, column 1", id="nan"),
        pytest.param([0, 1, 2], [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.6, 0.2, np.inf]], {},
                     r"non-finite value \(inf\) at row 2, column 2", id="inf"),
        pytest.param([0, 1, 0], [0.5, -np.inf, 0.1], {},
                     r"non-finite value \(-inf\) at row 1, column 0", id="minus-inf-binary"),
        pytest.param([0, 1], np.array([[0.5, np.nan], [0.5, 0.5]], dtype=np.float32), {},
                     r"non-finite value \(nan\) at row 0, column 1", id="nan-float32"),
        # labels outside the classes
        pytest.param([0, 3, 2], P3, {}, r"y_true label 3 at row 1 is outside the classes 0\.\.2",
                     id="int-label-too-large"),
        pytest.param([0, 1, -1], P3, {},
                     r"y_true label -1 at row 2 is outside the classes 0\.\.2", id="negative-label"),
        pytest.param([0, 2, 1], [0.1, 0.5, 0.7], {"class_names": ["n", "p"]},
                     r"y_true label 2 at row 1 is outside the classes 0\.\.1",
                     id="binary-label-outside-named-classes"),
        pytest.param(["a", "b", "x"], P3, {"class_names": ["a", "b", "c"]},
                     r"y_true label 'x' at row 2 is not among the classes \['a', 'b', 'c'\]",
                     id="string-label-unknown"),
        pytest.param(["a", "b", "c", "d"], P3 + [[0.3, 0.3, 0.4]], {},
                     r"4 distinct labels but y_score has 3 column", id="too-many-string-labels"),
        pytest.param([0, 1, 2], [0.1, 0.5, 0.7], {}, r"binary y_true holds 3 distinct labels",
                     id="binary-three-labels"),
        pytest.param([0.0, 0.5, 1.0], P3, {}, r"row 1 is 0\.5", id="fractional-label"),
        pytest.param([0.0, np.nan, 1.0], P3, {}, r"non-finite label at row 1", id="nan-label"),
        # fewer than 2 classes
        pytest.param([0, 0, 0], [[1.0], [1.0], [1.0]], {"task": "multiclass"},
                     r"need at least 2 classes, got 1", id="one-class-multiclass"),
        pytest.param(["a", "a", "a"], [0.1, 0.2, 0.3], {}, r"y_true only holds \['a'\]",
                     id="one-string-label"),
        # probabilities outside [0, 1]
        pytest.param([0, 1, 2], [[0.2, 0.3, 0.5], [0.1, 0.1, 1.5], [0.6, 0.2, 0.2]],
                     {"score_kind": "probability"},
                     r"score_kind='probability' but y_score row 1 column 2 is 1\.5, outside \[0, 1\]",
                     id="probability-above-one"),
        pytest.param([0, 1, 1], [0.2, -0.25, 0.3], {"score_kind": "probability"},
                     r"row 1 column 0 is -0\.25, outside \[0, 1\]", id="probability-negative"),
        # bad option strings
        pytest.param([0, 1], [0.1, 0.9], {"task": "regression"},
                     r"task must be one of binary, multiclass, multilabel, got 'regression'",
                     id="bad-task"),
        pytest.param([0, 1], [0.1, 0.9], {"score_kind": "proba"},
                     r"score_kind must be one of probability, logit, got 'proba'",
                     id="bad-score-kind"),
        # 2-D y_true
        pytest.param([[0, 1, 0], [0, 2, 0], [1, 0, 0]], P3, {},
                     r"2-D y_true must hold 0/1 values, row 1 column 1 is 2", id="indicator-two"),
        pytest.param([[0, 1, 0], [0, 1, 0], [0.5, 0, 0]], P3, {},
                     r"row 2 column 0 is 0\.5", id="indicator-half"),
        pytest.param(np.array([["a", "b", "c"]] * 3), P3, {},
                     r"2-D y_true must hold 0/1 values, got type", id="indicator-strings"),
        pytest.param([[1, 1, 0], [0, 1, 0], [1, 0, 0]], P3, {"task": "multiclass"},
                     r"exactly one 1 per row of y_true, row 0 has 2", id="multiclass-not-one-hot"),
        pytest.param([[1, 1, 0], [0, 1, 0], [1, 0, 0]], P3, {"task": "binary"},
                     r"task='binary' needs 1-D y_true", id="binary-2d-y"),
        pytest.param([0, 1, 2], P3, {"task": "multilabel"}, r"task='multilabel' needs a 2-D",
                     id="multilabel-1d-y"),
        pytest.param([0, 1, 1], P3, {"task": "binary"},
                     r"task='binary' needs y_score of shape \(N,\), \(N, 1\) or \(N, 2\), got \(N, 3\)",
                     id="binary-three-columns"),
        # non-numeric scores
        pytest.param([0, 1], ["a", "b"], {}, r"y_score must be numeric, got values of type <U1",
                     id="string-scores"),
        pytest.param([0, 1], np.array([0.1, 0.2], dtype=object), {},
                     r"y_score must be numeric", id="object-scores"),
        # empty
        pytest.param([], [], {}, r"no samples", id="empty"),
        pytest.param(np.zeros(0, dtype=int), np.zeros((0, 3)), {}, r"no samples", id="empty-2d"),
        # class_names
        pytest.param([0, 1, 2], P3, {"class_names": ["a", "b", "a"]},
                     r"class_names has duplicates: \['a', 'b', 'a'\]", id="duplicate-names"),
        pytest.param([0, 1, 2], P3, {"class_names": ["a", "b"]},
                     r"class_names has 2 names but there are 3 classes", id="too-few-names"),
        pytest.param([0, 1], [0.2, 0.7], {"class_names": ["a", "b", "c"]},
                     r"class_names has 3 names but there are 2 classes", id="binary-too-many-names"),
        pytest.param([[0, 1, 0], [0, 1, 1], [1, 0, 0]], P3, {"class_names": ["a", "b", "c", "d"]},
                     r"class_names has 4 names but there are 3 columns of y_score",
                     id="indicator-names"),
    ],
)
def test_input_errors(y_true, y_score, kwargs, pattern):
    with pytest.raises(InputError, match=pattern):
        Predictions.from_arrays(y_true, y_score, **kwargs)


def test_input_error_message_names_the_first_bad_position():
    scores = np.full((50, 4), 0.25)
    scores[37, 2] = np.nan
    scores[41, 0] = np.inf
    with pytest.raises(InputError, match=re.escape("at row 37, column 2")):
        Predictions.from_arrays(np.zeros(50, dtype=int), scores)


@pytest.mark.parametrize(
    "labels",
    [["a", "zz", "b", "q", "a"], [None, "a", 1, "c", "b"], ["c", "c", "b", "x", "a"]],
    ids=["strings", "objects", "one-unknown"],
)
def test_unknown_string_label_message_names_a_row_holding_that_label(labels):
    with pytest.raises(InputError, match=r"is not among the classes") as info:
        Predictions.from_arrays(np.array(labels, dtype=object), np.full((5, 3), 1 / 3),
                                class_names=["a", "b", "c"])
    found = re.search(r"y_true label '(.*)' at row (\d+)", str(info.value))
    assert found, str(info.value)
    label, row = found.group(1), int(found.group(2))
    assert label not in ("a", "b", "c")
    assert str(labels[row]) == label


# --------------------------------------------------------------------------- only InputError


def test_ragged_y_score_is_an_input_error():
    """A ragged list of rows (e.g. from JSON) is bad input and must be an InputError."""
    with pytest.raises(InputError):
        Predictions.from_arrays([0, 1], [[0.1, 0.9], [0.3]])


def test_extreme_finite_logits_convert_without_warnings():
    """Finite logits of any size are valid; softmax must not overflow (the project's pytest
    configuration turns RuntimeWarnings from evalcore into errors)."""
    p = Predictions.from_arrays([0, 1], [[-1e308, 1e308], [0.0, 1.0]])
    assert p.conversion == "softmax"
    np.testing.assert_allclose(p.scores[0], [0.0, 1.0], rtol=0, atol=0)


def test_huge_float_label_is_reported_as_given():
    """A float label far outside the classes must be named as given, not as its int64 cast."""
    with pytest.raises(InputError, match=r"label 1e\+300 at row 0"):
        Predictions.from_arrays([1e300, 0.0], [[0.2, 0.8], [0.5, 0.5]])


def test_class_names_that_are_not_a_list_is_an_input_error():
    with pytest.raises(InputError, match=r"class_names must be a list of names, got 3"):
        Predictions.from_arrays([0, 1], [[0.6, 0.4], [0.3, 0.7]], class_names=3)


def test_binary_with_one_label_other_than_0_1_asks_for_class_names():
    """All labels 7: which class is that? Inventing a class '6' would be a guess."""
    with pytest.raises(InputError, match=r"only holds the label 7; pass class_names"):
        Predictions.from_arrays([7, 7, 7], [0.2, 0.5, 0.9])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_at_rank_is_the_stable_descending_order(dtype):
    rng = np.random.default_rng(5)
    scores = np.round(rng.random((500, 7)), 1).astype(dtype)  # many ties
    scores[::9] = 0.0
    scores[3, 2] = -0.0  # signed zero: the packed key must not be used
    p = Predictions.from_arrays(rng.integers(0, 7, 500), scores, task="multiclass",
                                score_kind="probability")
    order = np.argsort(-p.scores, axis=1, kind="stable")  # ties: lowest class first
    rows = rng.permutation(500)[:300]
    for r in range(7):
        classes, ranked = p.at_rank(r, rows)
        assert np.array_equal(classes, order[rows, r])
        assert np.array_equal(ranked, p.scores[rows, order[rows, r]])
    q = Predictions.from_arrays(p.y_true, np.abs(p.scores), task="multiclass",
                                score_kind="probability")
    assert q._ranking[0] is not None or dtype == np.float64  # the packed key where it applies
    classes, _ = q.at_rank(6, np.arange(500))
    assert np.array_equal(classes, np.argsort(-q.scores, axis=1, kind="stable")[:, 6])
