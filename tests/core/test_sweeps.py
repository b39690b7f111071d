"""Sweeps and operating points under a decision: at every step the sweep's counts are the
brute-force counts of the decision at that step's parameter, no value of the parameter between
two steps gives other counts, and the objective's choice is the best over a scan of every
candidate, checked against brute-force counts."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalcore.decisions import Decision, confusion
from evalcore.errors import InputError
from evalcore.operating import operating_point
from evalcore.predictions import Predictions
from evalcore.sweeps import sweep
from tests.core.test_decisions import brute_matrix, multiclass
from tests.core.test_rules import SWEPT, brute, grid_data, random_decision

OBJECTIVES = ["f1", "f2", "youden", "recall>=0.9", "recall>=0.5", "precision>=0.7",
              "fpr<=0.1", "cost:1,5"]


@st.composite
def swept(draw):
    y, scores = grid_data(draw, n_min=2, n_max=30)
    k = scores.shape[1]
    return y, scores, random_decision(draw, k, SWEPT), draw(st.integers(0, k - 1))


def brute_counts(y, scores, d: Decision):
    k = scores.shape[1]
    return brute_matrix(y, brute(scores, d), k, k + 1 if d.abstains else k)


def between(s, j: int) -> float | None:
    """A parameter value strictly inside step j (before step j + 1 switches more rows)."""
    a = float(s.values[j])
    if j + 1 >= s.values.size:
        return a * 2 if s.parameter == "weight" else (a / 2 if a > 0 else None)
    b = float(s.values[j + 1])
    middle = (a + b) / 2
    return middle if middle not in (a, b) else None  # adjacent floats: nothing between


@settings(max_examples=250, deadline=None)
@given(swept())
def test_sweep_steps_are_the_decisions_own_matrices_property(case):
    y, scores, d, c = case
    p = multiclass(y, scores)
    s = sweep(p, d, c)
    assert s.ends[0] == 0 and np.all(np.diff(s.ends) > 0)
    correct = s.correct()
    for j in range(s.values.size):
        at = s.decision_at(j)
        expected = brute_counts(y, scores, at)
        np.testing.assert_array_equal(confusion(p, at).matrix, expected)
        for k in range(scores.shape[1]):
            tp, fp, fn, tn = (a[j] for a in s.class_counts(k))
            assert (tp, fp, fn) == (expected[k, k], expected[:, k].sum() - expected[k, k],
                                    expected[k].sum() - expected[k, k])
            assert tp + fp + fn + tn == len(y)
        assert correct[j] == np.trace(expected[:, : scores.shape[1]])
        # completeness: inside a step nothing changes
        inside = between(s, j)
        if inside is not None and inside > 0:
            moved = (at.with_weight(s.curve, inside) if s.parameter == "weight"
                     else at.with_threshold(s.curve, inside))
            np.testing.assert_array_equal(brute_counts(y, scores, moved), expected)


def scan_choice(p, d, c, objective):
    """The objective's choice over a scan of every step, with counts from the brute force and
    rational arithmetic: (parameter value or None)."""
    s = sweep(p, d, c)
    y, scores = p.y_true, p.scores
    rows = []
    for j in range(s.values.size):
        m = brute_counts(y, scores, s.decision_at(j))
        tp = int(m[c, c])
        fp = int(m[:, c].sum() - tp)
        fn = int(m[c].sum() - tp)
        rows.append((tp, fp, fn))
    support = int(np.count_nonzero(y == c))
    negatives = len(y) - support
    goal = objective
    if support == 0 and not goal.startswith("cost"):
        return None
    if goal in ("youden", ) or goal.startswith("fpr"):
        if negatives == 0:
            return None

    def best(values):
        index = None
        for i, v in enumerate(values):
            if v is not None and (index is None or v > values[index]):
                index = i
        return index

    if goal.startswith("f") and not goal.startswith("fpr"):
        b2 = Fraction(goal[1:]) ** 2
        i = best([((1 + b2) * t) / ((1 + b2) * t + b2 * n + f) if (t or f or n) else None
                  for t, f, n in rows])
    elif goal == "youden":
        i = best([Fraction(t, support) - Fraction(f, negatives) for t, f, _ in rows])
    elif goal.startswith("cost"):
        a, b = (Fraction(v) for v in goal[5:].split(","))
        i = best([-(a * f + b * n) for t, f, n in rows])
    elif goal.startswith("recall"):
        hits = [i for i, (t, _, _) in enumerate(rows) if Fraction(t, support) >= Fraction(goal[8:])]
        i = hits[0] if hits else None
    elif goal.startswith("precision"):
        hits = [i for i, (t, f, _) in enumerate(rows)
                if t + f and Fraction(t, t + f) >= Fraction(goal[11:])]
        i = hits[-1] if hits else None
    else:
        hits = [i for i, (_, f, _) in enumerate(rows) if Fraction(f, negatives) <= Fraction(goal[5:])]
        i = hits[-1] if hits else None
    return None if i is None else float(s.values[i])


@settings(max_examples=120, deadline=None)
@given(swept(), st.sampled_from(OBJECTIVES))
def test_operating_point_under_a_decision_is_the_scans_best_property(case, objective):
    y, scores, d, c = case
    p = multiclass(y, scores)
    point = operating_point(p, str(c), objective, decision=d)
    expected = scan_choice(p, d, c, objective)
    assert point.threshold == expected, (d, c, objective)
    if expected is None:
        assert not point.feasible and point.reason
        return
    # the answer's counts are the counted decision's own
    decided = confusion(p, point.decision).counts.row(c)
    row = point.counts.row(0)
    assert all(row[key] == decided[key] for key in ("tp", "fp", "fn", "tn"))


# --------------------------------------------------------------------------- the seed's question


def holdout(n: int = 600, seed: int = 0) -> Predictions:
    """Four softmax classes where malignant is often outscored: argmax recall well under 1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    logits = rng.normal(size=(n, 4)) + 1.2 * np.eye(4)[y]
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return Predictions.from_arrays(y, p, class_names=["benign", "cyst", "malignant", "normal"])


def test_recall_goal_under_per_class_is_the_matrix_recall_or_infeasible_with_priority_hint():
    p = holdout()
    d = Decision.per_class(p.class_names, 0.5)
    point = operating_point(p, "malignant", "recall>=0.99", decision=d)
    if point.feasible:
        assert confusion(p, point.decision).counts.row(2)["recall"] >= 0.99
    else:
        assert "per-class" in point.reason and "priority" in point.reason
    fixed = operating_point(p, "malignant", "recall>=0.99",
                            decision=Decision.priority(p.class_names, {}))
    matrix_recall = confusion(p, fixed.decision).counts.row(2)["recall"]
    assert fixed.feasible and matrix_recall >= 0.99
    assert fixed.counts.row(0)["recall"] == matrix_recall  # the answer is the matrix's number
    # the one-vs-rest curve's answer differs from what the deployed decision does
    one_vs_rest = operating_point(p, "malignant", "recall>=0.99")
    assert one_vs_rest.rule is None and one_vs_rest.to_dict()["counted"] == "one-vs-rest curve"


def test_argmax_and_cost_have_no_threshold_to_set():
    p = holdout(100)
    point = operating_point(p, "cyst", "recall>=0.9", decision=Decision.argmax(p.class_names))
    assert not point.feasible and "argmax rule has no threshold" in point.reason
    assert "priority rule" in point.reason  # and which rule would
    with pytest.raises(InputError, match="cost rule has no per-class threshold"):
        sweep(p, Decision.cost(p.class_names, 1 - np.eye(4)), 0)


def test_weighted_operating_point_returns_a_weight():
    p = holdout(300, seed=2)
    d = Decision.weighted(p.class_names, 1.0)
    point = operating_point(p, "malignant", "recall>=0.9", decision=d)
    assert point.parameter == "weight" and point.feasible
    out = point.to_dict()
    assert out["weight"] == point.threshold and out["threshold"] is None
    assert confusion(p, point.decision).counts.row(2)["recall"] >= 0.9
    # the smallest such weight: a little less and the goal is missed
    less = point.decision.with_weight(2, float(np.nextafter(point.threshold, 0)))
    assert confusion(p, less).counts.row(2)["recall"] < 0.9


def test_multilabel_and_binary_sweeps_are_their_curves():
    from evalcore.curves import compute_curves

    rng = np.random.default_rng(3)
    y = (rng.random((80, 3)) < 0.4).astype(int)
    scores = np.clip(rng.normal(0.3 + 0.3 * y, 0.2), 0, 1).round(2)
    p = Predictions.from_arrays(y, scores, task="multilabel")
    curves = compute_curves(p)
    for c in range(3):
        for objective in OBJECTIVES:
            on_curve = operating_point(curves, c, objective)
            under = operating_point(p, c, objective, decision=Decision.multilabel(p.class_names, 0.5))
            if on_curve.threshold is None:
                assert under.threshold is None
            elif np.isfinite(on_curve.threshold):
                assert under.threshold == on_curve.threshold
            for key in ("tp", "fp", "fn", "tn"):
                if on_curve.counts is not None:
                    assert int(getattr(under.counts, key)[0]) == int(getattr(on_curve.counts, key)[0])
    b = Predictions.from_arrays(y[:, 0], scores[:, 0])
    point = operating_point(b, "1", "f1", decision=Decision.of(b))
    assert point.threshold == operating_point(compute_curves(b), "1", "f1").threshold
