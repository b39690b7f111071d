"""The Decision value and the rules people deploy (priority, weighted, cost), against brute
forces written row by row in Python floats: ``score >= threshold`` clears; ties go to the
lowest class index; an abstained sample is a false negative of its true class."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalcore.decisions import ABSTAINED, Decision, confusion, predict
from evalcore.errors import InputError
from evalcore.predictions import Predictions
from tests.core.test_decisions import (
    GRID_VALUES,
    brute_argmax,
    brute_matrix,
    brute_per_class,
    grid_multiclass,
    multiclass,
    strict_json,
)


def brute_priority(scores, order, thresholds) -> np.ndarray:
    out = []
    for row, fallback in zip(scores, brute_argmax(scores)):
        chosen = int(fallback)
        for c in order:
            if float(row[c]) >= float(thresholds[c]):
                chosen = c
                break
        out.append(chosen)
    return np.array(out, dtype=np.int64)


def brute_weighted(scores, weights) -> np.ndarray:
    out = []
    for row in scores:
        values = [float(s) * float(w) for s, w in zip(row, weights)]
        best = 0
        for j in range(1, len(values)):
            if values[j] > values[best]:
                best = j
        out.append(best)
    return np.array(out, dtype=np.int64)


def brute_cost(scores, costs) -> np.ndarray:
    out = []
    for row in scores:
        expected = []
        for j in range(len(costs[0])):
            total = 0.0
            for i in range(len(row)):
                total += float(row[i]) * float(costs[i][j])
            expected.append(total)
        best = 0
        for j in range(1, len(expected)):
            if expected[j] < expected[best]:
                best = j
        out.append(best)
    return np.array(out, dtype=np.int64)


def brute(scores, d: Decision) -> np.ndarray:
    """The brute force of any multiclass decision."""
    k = len(d.classes)
    if d.rule == "argmax":
        return brute_argmax(scores)
    if d.rule == "abstain":
        return np.array([int(b) if float(r[b]) >= d.thresholds[0] else k
                         for r, b in zip(scores, brute_argmax(scores))], dtype=np.int64)
    if d.rule == "per-class":
        return brute_per_class(scores, d.thresholds)
    if d.rule == "priority":
        return brute_priority(scores, d.order, d.thresholds)
    if d.rule == "weighted":
        return brute_weighted(scores, d.weights)
    return brute_cost(scores, d.costs)


# --------------------------------------------------------------------------- priority


def test_priority_flags_a_class_before_the_argmax():
    scores = np.array([[0.7, 0.2, 0.1], [0.5, 0.1, 0.4], [0.3, 0.3, 0.4], [0.6, 0.35, 0.05]])
    y = np.array([0, 2, 2, 1])
    p = multiclass(y, scores, class_names=["benign", "other", "malignant"])
    d = Decision.priority(p.class_names, {"malignant": 0.3, "other": 0.35})
    # row 0: 0.1 < 0.3, 0.2 < 0.35 -> argmax benign; row 1: 0.4 >= 0.3 -> malignant;
    # row 2: malignant; row 3: malignant 0.05 no, other 0.35 >= 0.35 -> other
    np.testing.assert_array_equal(predict(p, d), [0, 2, 2, 1])
    result = confusion(p, d)
    assert result.predicted_labels == p.class_names  # never abstains
    assert result.counts.row(2)["recall"] == 1.0
    assert result.to_dict()["decision"]["thresholds"] == {"malignant": 0.3, "other": 0.35}


def test_priority_order_decides_between_two_classes_that_clear():
    scores = np.array([[0.1, 0.45, 0.45]])
    p = multiclass([1], scores)
    assert predict(p, Decision.priority(p.class_names, {"2": 0.4, "1": 0.4}))[0] == 2
    assert predict(p, Decision.priority(p.class_names, {"1": 0.4, "2": 0.4}))[0] == 1
    assert predict(p, Decision.priority(p.class_names, {}))[0] == 1  # argmax, tie -> lowest


# --------------------------------------------------------------------------- weighted / cost


def test_weighted_is_argmax_of_scores_over_thresholds():
    y, scores = grid_multiclass(3, n=60, k=3)
    p = multiclass(y, scores)
    d = Decision.weighted(p.class_names, [1.0, 2.0, 0.5])
    np.testing.assert_array_equal(predict(p, d), brute_weighted(scores, [1.0, 2.0, 0.5]))
    np.testing.assert_array_equal(predict(p, Decision.weighted(p.class_names, 1.0)),
                                  predict(p, "argmax"))


def test_cost_rule_zero_one_loss_is_argmax_and_a_missed_class_costs_more():
    y, scores = grid_multiclass(4, n=80, k=3)
    p = multiclass(y, scores)
    zero_one = 1 - np.eye(3)
    np.testing.assert_array_equal(predict(p, Decision.cost(p.class_names, zero_one)),
                                  brute_cost(scores, zero_one))
    expensive = zero_one.copy()
    expensive[2, :2] = 10.0  # a missed class 2 costs 10
    missed = confusion(p, Decision.cost(p.class_names, expensive)).counts.fn[2]
    assert missed <= confusion(p, "argmax").counts.fn[2]


def test_cost_rule_with_an_abstain_column_abstains():
    scores = np.array([[0.5, 0.5], [0.9, 0.1]])
    p = multiclass([0, 1], scores)
    costs = [[0, 1, 0.2], [1, 0, 0.2]]  # abstaining costs 0.2 whatever the class
    result = confusion(p, Decision.cost(p.class_names, costs))
    assert result.predicted_labels[-1] == ABSTAINED
    np.testing.assert_array_equal(result.matrix, [[0, 0, 1], [1, 0, 0]])
    assert result.coverage == 0.5


# --------------------------------------------------------------------------- property test


def grid_data(draw, n_min: int = 1, n_max: int = 25, k_max: int = 5):
    """(y, scores): 2..k_max classes, scores from a coarse grid (many exact ties)."""
    k = draw(st.integers(2, k_max))
    n = draw(st.integers(n_min, n_max))
    scores = np.array(draw(st.lists(st.lists(GRID_VALUES, min_size=k, max_size=k),
                                    min_size=n, max_size=n)), dtype=np.float64)
    y = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return y, scores


def random_decision(draw, k: int, rules: tuple[str, ...]) -> Decision:
    """A decision of one of ``rules`` on classes "0".."k-1", its parameters drawn."""
    classes = tuple(str(i) for i in range(k))
    rule = draw(st.sampled_from(rules))
    if rule == "argmax":
        return Decision.argmax(classes)
    if rule == "abstain":
        return Decision.abstain(classes, draw(GRID_VALUES))
    if rule == "per-class":
        return Decision.per_class(classes, draw(st.lists(GRID_VALUES, min_size=k, max_size=k)))
    if rule == "priority":
        order = draw(st.permutations(range(k)))[: draw(st.integers(0, k))]
        return Decision.priority(classes, [(str(c), draw(GRID_VALUES)) for c in order])
    if rule == "weighted":
        return Decision.weighted(classes, draw(st.lists(
            st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]), min_size=k, max_size=k)))
    columns = k + draw(st.integers(0, 1))
    return Decision.cost(classes, draw(st.lists(st.lists(
        st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0, 5.0]), min_size=columns,
        max_size=columns), min_size=k, max_size=k)))


ALL_RULES = ("argmax", "abstain", "per-class", "priority", "weighted", "cost")
SWEPT = ("abstain", "per-class", "priority", "weighted")


@st.composite
def decisions_on_data(draw):
    y, scores = grid_data(draw)
    return y, scores, random_decision(draw, scores.shape[1], ALL_RULES)


@settings(max_examples=300, deadline=None)
@given(decisions_on_data())
def test_every_rule_matches_brute_force_property(case):
    y, scores, d = case
    k = scores.shape[1]
    p = multiclass(y, scores)
    result = confusion(p, d)
    predicted = brute(scores, d)
    columns = k + 1 if d.abstains else k
    np.testing.assert_array_equal(result.matrix, brute_matrix(y, predicted, k, columns))
    np.testing.assert_array_equal(predict(p, d), predicted)
    c = result.counts
    np.testing.assert_array_equal(c.tp + c.fn, np.bincount(y, minlength=k))
    assert result.accuracy == np.count_nonzero(predicted == y) / len(y)
    strict_json(result.to_dict())
    assert Decision.from_dict(json.loads(json.dumps(d.to_dict()))) == d


# --------------------------------------------------------------------------- the Decision value


def test_decision_of_builds_every_rule_from_the_data():
    y, scores = grid_multiclass(0, n=30, k=3)
    p = multiclass(y, scores, class_names=["a", "b", "c"])
    assert Decision.of(p) == Decision.argmax(("a", "b", "c"))
    assert Decision.of(p, "abstain", 0.6).thresholds == (0.6, 0.6, 0.6)
    assert Decision.of(p, "per-class", {"b": 0.7}).thresholds == (0.5, 0.7, 0.5)
    assert Decision.of(p, "priority", {"c": 0.1, "a": 0.9}).order == (2, 0)
    assert Decision.of(p, "priority", 0.4).order == (0, 1, 2)
    assert Decision.of(p, "weighted", weights={"b": 2}).weights == (1.0, 2.0, 1.0)
    np.testing.assert_array_equal(Decision.of(p, "abstain", 0.6).class_thresholds(), [0.6] * 3)
    np.testing.assert_array_equal(Decision.of(p, "weighted").class_thresholds(), [np.nan] * 3)


@pytest.mark.parametrize("make, match", [
    (lambda: Decision("argmax", ("a",)), "at least 2 distinct classes"),
    (lambda: Decision("per-class", ("a", "b"), (0.5,)), "expected one threshold or 2"),
    (lambda: Decision("abstain", ("a", "b"), (0.5, 0.6)), "takes one threshold"),
    (lambda: Decision("per-class", ("a", "b"), (0.5, float("nan"))), "NaN"),
    (lambda: Decision.priority(("a", "b"), {"a": 0.5, "z": 0.1}), r"expected a class name or index of \(a, b\), got 'z'"),
    (lambda: Decision.priority(("a", "b"), [("a", 0.5), ("a", 0.1)]), "listed twice"),
    (lambda: Decision.weighted(("a", "b"), [1.0, -1.0]), "weights must be finite, >= 0"),
    (lambda: Decision.weighted(("a", "b"), [0.0, 0.0]), "not all 0"),
    (lambda: Decision.cost(("a", "b"), [[0, 1]]), r"must be 2 x 2"),
    (lambda: Decision.cost(("a", "b"), [[0, 1], [1, float("inf")]]), "finite"),
    (lambda: Decision("weighted", ("a", "b"), (0.5, 0.5), weights=(1.0, 1.0)), "takes no thresholds"),
    (lambda: Decision("bogus", ("a", "b")), "rule must be one of"),
])
def test_malformed_decisions_are_one_line_errors(make, match):
    with pytest.raises(InputError, match=match):
        make()


def test_a_decision_for_other_classes_is_refused():
    y, scores = grid_multiclass(0, n=30, k=3)
    p = multiclass(y, scores)
    with pytest.raises(InputError, match="the decision is for classes"):
        confusion(p, Decision.argmax(("x", "y", "z")))
    with pytest.raises(InputError, match="does not apply to multiclass"):
        confusion(p, Decision.multilabel(p.class_names))


def test_from_dict_errors_name_the_source():
    with pytest.raises(InputError, match="t.json: malformed decision"):
        Decision.from_dict({"rule": "per-class", "classes": ["a", "b"], "thresholds": {"a": 1}},
                           "t.json")
    with pytest.raises(InputError, match="t.json: rule must be one of"):
        Decision.from_dict({"rule": "nope", "classes": ["a", "b"]}, "t.json")


def test_binary_counts_have_the_rows_of_the_curve():
    # one row set for every count: the scored column (the positive class), as counts_at
    from evalcore.curves import compute_curves

    p = Predictions.from_arrays([0, 1, 1, 0, 1], [0.2, 0.8, 0.4, 0.6, 0.9],
                                class_names=["ham", "spam"])
    result = confusion(p, "binary", 0.5)
    assert result.counts.names == ("spam",)
    at = compute_curves(p).counts_at(0.5)
    for key in ("tp", "fp", "fn", "tn"):
        np.testing.assert_array_equal(getattr(result.counts, key), getattr(at, key))
    np.testing.assert_array_equal(result.matrix, [[1, 1], [1, 2]])
