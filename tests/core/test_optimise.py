"""The joint optimiser: known optima, constraints met (or said to be unmet), results counted by
the real kernel, coordinate-wise optimal, deterministic."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score

from evalcore.curves import compute_curves
from evalcore.decisions import Decision, confusion, predict
from evalcore.errors import InputError
from evalcore.operating import operating_point
from evalcore.optimise import Constraint, optimise, score
from evalcore.predictions import Predictions
from evalcore.sweeps import sweep
from tests.core.test_decisions import multiclass
from tests.core.test_rules import SWEPT, grid_data, random_decision
from tests.core.test_sweeps import holdout


def test_binary_optimum_is_the_best_of_every_threshold():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = np.clip(rng.normal(0.4 + 0.25 * y, 0.2), 0, 1).round(2)
    p = Predictions.from_arrays(y, s)
    for objective, metric in (("accuracy", accuracy_score),
                              ("macro-f1", lambda a, b: f1_score(a, b, zero_division=0))):
        best = max(metric(y, (s >= t).astype(int)) for t in np.r_[np.unique(s), 2.0])
        result = optimise(p, Decision.of(p), objective)
        assert result.after.objective == pytest.approx(best, abs=1e-15)
        t = result.decision.thresholds[0]
        assert result.after.objective == pytest.approx(metric(y, (s >= t).astype(int)), abs=1e-15)


def test_multilabel_macro_f1_is_the_mean_of_each_labels_best_f1():
    rng = np.random.default_rng(1)
    y = (rng.random((150, 4)) < 0.35).astype(int)
    s = np.clip(rng.normal(0.3 + 0.3 * y, 0.2), 0, 1).round(2)
    p = Predictions.from_arrays(y, s, task="multilabel")
    curves = compute_curves(p)
    each = [operating_point(curves, c, "f1").counts.f1[0] for c in range(4)]
    result = optimise(p, Decision.of(p), "macro-f1")
    assert result.after.objective == pytest.approx(np.mean(each), abs=1e-12)
    predicted = predict(p, result.decision)
    assert result.after.objective == pytest.approx(
        f1_score(y, predicted, average="macro", zero_division=0), abs=1e-12)


def test_weights_that_undo_a_miscalibration_reach_accuracy_one():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 300)
    s = rng.uniform(0.0, 0.3, (300, 3))
    s[np.arange(300), y] = rng.uniform(0.6, 0.9, 300)
    s[:, 2] /= 4  # class 2 under-scored: argmax misses it
    p = multiclass(y, s)
    assert confusion(p, "argmax").accuracy < 0.8
    result = optimise(p, Decision.weighted(p.class_names, 1.0), "accuracy")
    assert result.after.objective == 1.0
    assert confusion(p, result.decision).accuracy == 1.0


def test_constraint_recall_of_one_class_is_met_by_the_deployed_matrix():
    p = holdout(800, seed=4)
    result = optimise(p, Decision.priority(p.class_names, {}), "macro-f1",
                      constraints=["recall(malignant)>=0.99"])
    assert result.feasible
    matrix_recall = confusion(p, result.decision).counts.row(2)["recall"]
    assert matrix_recall >= 0.99
    assert result.after.constraints == (matrix_recall,)
    assert result.to_dict()["constraints"][0]["met"] is True
    # the truth of before and after is the kernel's count
    assert result.after == score(p, result.decision, "macro-f1",
                                 constraints=result.constraints)
    assert result.before == score(p, result.start, "macro-f1", constraints=result.constraints)


def test_an_infeasible_constraint_is_reported_not_faked():
    p = holdout(400, seed=5)
    # all of malignant and nothing else: its scores overlap the others', no rule separates them
    result = optimise(p, Decision.per_class(p.class_names, 0.2), "macro-f1",
                      constraints=["recall(malignant)>=1", "precision(malignant)>=1"])
    out = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert result.feasible is False and out["feasible"] is False
    assert any(not c["met"] for c in out["constraints"])


def test_minimise_cost_never_costs_more_than_the_start():
    p = holdout(500, seed=6)
    costs = 1 - np.eye(4)
    costs[2, :] = [8, 8, 0, 8]  # a missed malignant costs 8
    start = Decision.weighted(p.class_names, 1.0)
    result = optimise(p, start, "cost", costs=costs)
    assert result.after.objective <= result.before.objective
    matrix = confusion(p, result.decision).matrix
    assert result.after.objective == pytest.approx((matrix * costs).sum() / p.n_samples)


def test_deterministic_and_coordinate_wise_optimal():
    p = holdout(300, seed=7)
    a = optimise(p, Decision.per_class(p.class_names, 0.5), "accuracy")
    b = optimise(p, Decision.per_class(p.class_names, 0.5), "accuracy")
    assert a.decision == b.decision and a.after == b.after
    # no single class' threshold does better, at any step where the decision can change
    for c in range(4):
        s = sweep(p, a.decision, c)
        assert (s.correct() / p.n_samples).max() <= a.after.objective + 1e-12


@st.composite
def small_case(draw):
    y, scores = grid_data(draw, n_min=3, n_max=20, k_max=4)
    rule = random_decision(draw, scores.shape[1], SWEPT).rule
    return y, scores, rule, draw(st.sampled_from(["macro-f1", "accuracy"]))


@settings(max_examples=60, deadline=None)
@given(small_case())
def test_never_worse_than_the_start_property(case):
    y, scores, rule, objective = case
    p = multiclass(y, scores)
    result = optimise(p, Decision.of(p, rule), objective)
    assert result.after.objective >= result.before.objective - 1e-12
    assert result.after == score(p, result.decision, objective)


def test_progress_reports_to_the_end():
    p = holdout(200)
    seen = []
    optimise(p, Decision.per_class(p.class_names, 0.5), "macro-f1",
             progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1]
    assert all(a <= b for (a, _), (b, _) in zip(seen, seen[1:]))


@pytest.mark.parametrize("text, match", [
    ("recall(nope)>=0.9", r"expected a class name or index of \(benign, cyst, malignant, normal\)"),
    ("recall(cyst)<=0.9", "recall takes >="),
    ("fpr(cyst)>=0.1", "fpr takes <="),
    ("recall(cyst)>=1.5", "between 0 and 1"),
    ("bogus", "constraint must be"),
])
def test_bad_constraints(text, match):
    with pytest.raises(InputError, match=match):
        Constraint.parse(text, holdout(20).class_names)


def test_bad_objectives_and_rules():
    p = holdout(50)
    with pytest.raises(InputError, match="objective must be one of"):
        optimise(p, Decision.of(p, "per-class"), "speed")
    with pytest.raises(InputError, match="argmax rule has nothing to tune"):
        optimise(p, Decision.of(p), "accuracy")
    with pytest.raises(InputError, match="needs an 'abstained' column"):
        optimise(p, Decision.of(p, "per-class"), "cost", costs=1 - np.eye(4))
    with pytest.raises(InputError, match="needs a cost matrix"):
        optimise(p, Decision.of(p, "weighted"), "cost")
