"""evalcore.operating: the operating-point search against a brute force over scikit-learn's
full curve (``confusion_matrix_at_thresholds``) plus the "predict none" point at +inf.

The brute force scores every candidate with exact rational arithmetic (fractions), so ties
are real ties, and the objective's bound is the decimal number written in the objective.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix_at_thresholds

from evalcore.curves import compute_curves
from evalcore.errors import InputError
from evalcore.operating import Objective, operating_point
from evalcore.predictions import Predictions

OBJECTIVES = ["f1", "f0.5", "f2", "youden", "recall>=0.9", "precision>=0.8", "fpr<=0.1", "cost:1,5"]


# --------------------------------------------------------------------------- cases


def multiclass_case(seed: int, n: int = 150, k: int = 3, decimals: int = 2) -> Predictions:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return Predictions.from_arrays(y, p.round(decimals), score_kind="probability")


def binary_case(seed: int, n: int = 120) -> Predictions:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    scores = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1).round(1)  # heavy ties
    return Predictions.from_arrays(y, scores)


def multilabel_case(seed: int, n: int = 100, k: int = 3) -> Predictions:
    rng = np.random.default_rng(seed)
    y = (rng.random((n, k)) < 0.35).astype(int)
    scores = np.clip(rng.normal(0.3 + 0.35 * y, 0.2), 0, 1).astype(np.float32)
    return Predictions.from_arrays(y, scores, task="multilabel")


def float32_case(seed: int) -> Predictions:
    rng = np.random.default_rng(seed)
    n = 200
    y = rng.integers(0, 2, n)
    scores = rng.random(n).astype(np.float32) * 0.5 + 0.4 * y
    return Predictions.from_arrays(y, np.clip(scores, 0, 1))


CASES = {
    "multiclass-0": lambda: multiclass_case(0),
    "multiclass-1": lambda: multiclass_case(1, decimals=1),
    "multiclass-2": lambda: multiclass_case(2, n=400, decimals=3),
    "binary-0": lambda: binary_case(0),
    "binary-1": lambda: binary_case(1, n=40),
    "multilabel-0": lambda: multilabel_case(0),
    "float32-0": lambda: float32_case(0),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    p = CASES[request.param]()
    return p, compute_curves(p)


# --------------------------------------------------------------------------- brute force


def sklearn_candidates(p: Predictions, c: int):
    """(thresholds, tp, fp, P, N) over the full sklearn curve plus +inf (predict none)."""
    positives = p.positives(c).astype(int)
    scores = p.scores[:, c].astype(np.float64)
    tns, fps, fns, tps, thresholds = confusion_matrix_at_thresholds(positives, scores)
    n_pos, n_neg = int(positives.sum()), int(positives.size - positives.sum())
    assert np.all(tps + fns == n_pos) and np.all(fps + tns == n_neg)
    return (
        [math.inf] + thresholds.tolist(),
        [0] + tps.astype(int).tolist(),
        [0] + fps.astype(int).tolist(),
        n_pos,
        n_neg,
    )


def rational(text: str) -> Fraction:
    return Fraction(text)


def brute_force(p: Predictions, c: int, objective: str):
    """The threshold the spec asks for, or None."""
    thresholds, tp, fp, n_pos, n_neg = sklearn_candidates(p, c)
    fn = [n_pos - t for t in tp]
    goal = objective.replace(" ", "")

    def argbest(values):  # maximum; undefined never; ties -> first = highest threshold
        best = None
        for i, v in enumerate(values):
            if v is not None and (best is None or v > values[best]):
                best = i
        return None if best is None else thresholds[best]

    if goal.startswith("f") and not goal.startswith("fpr"):
        b2 = rational(goal[1:]) ** 2
        values = [
            ((1 + b2) * t) / ((1 + b2) * t + b2 * n + f) if (t or n or f) else None
            for t, f, n in zip(tp, fp, fn)
        ]
        return argbest(values)
    if goal == "youden":
        return argbest([Fraction(t, n_pos) - Fraction(f, n_neg) for t, f in zip(tp, fp)])
    if goal.startswith("cost:"):
        c_fp, c_fn = (rational(v) for v in goal[5:].split(","))
        return argbest([-(c_fp * f + c_fn * n) for f, n in zip(fp, fn)])
    if goal.startswith("recall>="):
        r = rational(goal[8:])
        hits = [i for i, t in enumerate(tp) if Fraction(t, n_pos) >= r]
        return thresholds[hits[0]] if hits else None  # highest threshold reaching it
    if goal.startswith("precision>="):
        q = rational(goal[11:])
        hits = [i for i, (t, f) in enumerate(zip(tp, fp)) if t + f and Fraction(t, t + f) >= q]
        return thresholds[hits[-1]] if hits else None  # lowest threshold meeting it
    if goal.startswith("fpr<="):
        q = rational(goal[5:])
        hits = [i for i, f in enumerate(fp) if Fraction(f, n_neg) <= q]
        return thresholds[hits[-1]] if hits else None  # lowest threshold meeting it
    raise AssertionError(goal)


def strict_json(value):
    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(json.dumps(value, allow_nan=False), parse_constant=refuse)


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_threshold_matches_brute_force(case, objective):
    p, curves = case
    for c, name in enumerate(curves.names):
        expected = brute_force(p, c, objective)
        point = operating_point(curves, name, objective)
        assert point.threshold == expected, (name, objective, point.threshold, expected)
        assert point.class_name == name
        if expected is None:
            assert point.counts is None and point.reason
            continue
        # the counts reproduce with counts_at at the returned threshold
        thresholds = np.zeros(len(curves.names))
        thresholds[c] = point.threshold
        at = curves.counts_at(thresholds)
        for key in ("tp", "fp", "fn", "tn"):
            assert int(getattr(point.counts, key)[0]) == int(getattr(at, key)[c]), (name, key)
        # and with a direct count on the data
        positives = p.positives(c)
        called = p.scores[:, c].astype(np.float64) >= point.threshold
        assert int(point.counts.tp[0]) == np.count_nonzero(called & positives)
        assert int(point.counts.fp[0]) == np.count_nonzero(called & ~positives)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_integer_class_index_equals_name(case, objective):
    _, curves = case
    for c, name in enumerate(curves.names):
        assert operating_point(curves, c, objective).threshold == (
            operating_point(curves, name, objective).threshold
        )


def test_threshold_is_a_real_score(case):
    p, curves = case
    for c, name in enumerate(curves.names):
        for objective in ("f1", "youden", "recall>=0.5", "precision>=0.6"):
            t = operating_point(curves, name, objective).threshold
            if t is not None and math.isfinite(t):
                assert t in set(p.scores[:, c].astype(np.float64).tolist())


def test_ties_go_to_the_highest_threshold():
    # positives at 0.9 and 0.3, negatives at 0.6 and 0.1:
    # t=0.9: tp 1 fp 0 fn 1 -> F1 2/3; t=0.6: tp 1 fp 1 fn 1 -> 1/2; t=0.3: tp 2 fp 1 -> 4/5;
    # cost:1,1 -> t=0.9: 0 + 1 = 1, t=0.6: 2, t=0.3: 1 (tie) -> highest: 0.9
    p = Predictions.from_arrays([1, 0, 1, 0], [0.9, 0.6, 0.3, 0.1])
    curves = compute_curves(p)
    assert operating_point(curves, "1", "cost:1,1").threshold == 0.9
    assert operating_point(curves, "1", "f1").threshold == 0.3
    # youden: t=0.9: 1/2 - 0; t=0.3: 1 - 1/2 = 1/2 (tie) -> 0.9
    assert operating_point(curves, "1", "youden").threshold == 0.9
    # recall>=0.5: 0.9 (highest); precision>=0.6: lowest meeting it is 0.3 (2/3; 0.1 has 1/2)
    assert operating_point(curves, "1", "recall>=0.5").threshold == 0.9
    assert operating_point(curves, "1", "precision>=0.6").threshold == 0.3
    assert operating_point(curves, "1", "precision>=0.5").threshold == 0.1
    # fpr<=0.5: the lowest threshold with at most one negative above: 0.3
    assert operating_point(curves, "1", "fpr<=0.5").threshold == 0.3


@pytest.mark.parametrize(
    "y, scores, expected",
    [
        # P = N = 3: t=0.9 gives 2/3 - 0, t=0.5 gives 3/3 - 1/3 = 2/3: an exact tie, which
        # float64 sees as 0.6666666666666666 vs 0.6666666666666667
        ([1, 1, 1, 0, 0, 0], [0.9, 0.9, 0.5, 0.5, 0.1, 0.1], 0.9),
        ([0, 1, 1, 0, 1, 0], [0.625, 0.625, 0.875, 0.5, 0.875, 0.0], 0.875),
    ],
)
def test_youden_exact_ties_go_to_the_highest_threshold(y, scores, expected):
    p = Predictions.from_arrays(y, scores)
    assert brute_force(p, 0, "youden") == expected
    assert operating_point(compute_curves(p), "1", "youden").threshold == expected


def test_precision_one_unattainable_when_top_score_is_negative():
    p = Predictions.from_arrays([0, 1, 1, 0, 1], [0.95, 0.8, 0.7, 0.2, 0.1])
    curves = compute_curves(p)
    point = operating_point(curves, "1", "precision>=1.0")
    assert point.threshold is None
    assert point.counts is None
    assert "precision>=1.0" in point.reason and "'1'" in point.reason
    out = strict_json(point.to_dict())
    assert out["threshold"] is None and out["tp"] is None and out["reason"] == point.reason


def test_class_without_positives_is_none_with_reason():
    y = np.array([0, 1, 0, 1, 0, 1])
    scores = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.5, 0.3, 0.2],
                       [0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.1, 0.8, 0.1]])
    curves = compute_curves(Predictions.from_arrays(y, scores, class_names=["a", "b", "c"]))
    for objective in ("f1", "f2", "youden", "recall>=0.9", "precision>=0.8", "fpr<=0.1"):
        point = operating_point(curves, "c", objective)
        assert point.threshold is None, objective
        assert point.counts is None
        assert "no positive samples" in point.reason and "'c'" in point.reason
        assert strict_json(point.to_dict())["threshold"] is None


def test_predict_none_wins_and_serialises_as_null():
    # the top score is a negative: any positive call costs 100, predicting none costs 2
    p = Predictions.from_arrays([0, 1, 1, 0], [0.9, 0.8, 0.7, 0.1])
    curves = compute_curves(p)
    point = operating_point(curves, "1", "cost:100,1")
    assert point.threshold == math.inf
    assert (int(point.counts.tp[0]), int(point.counts.fp[0]), int(point.counts.fn[0])) == (0, 0, 2)
    assert point.reason and "predict none" in point.reason
    out = strict_json(point.to_dict())
    assert out["threshold"] is None
    assert out["tp"] == 0 and out["fn"] == 2 and out["tn"] == 2
    assert out["precision"] is None  # 0 / 0
    assert out["recall"] == 0.0
    # fpr<=0 with a negative on top: only +inf meets it
    assert operating_point(curves, "1", "fpr<=0").threshold == math.inf


def test_to_dict_keys_and_values(case):
    _, curves = case
    name = curves.names[0]
    point = operating_point(curves, name, "f1")
    out = strict_json(point.to_dict())
    assert set(out) == {
        "class", "objective", "threshold", "precision", "recall", "f1", "fpr",
        "tp", "fp", "fn", "tn", "reason", "rule", "counted", "feasible",
    }
    assert out["rule"] is None and out["counted"] == "one-vs-rest curve" and out["feasible"]
    assert out["class"] == name and out["objective"] == "f1"
    assert out["threshold"] == point.threshold
    tp, fp, fn = out["tp"], out["fp"], out["fn"]
    assert out["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn), rel=1e-12)
    assert out["recall"] == pytest.approx(tp / (tp + fn), rel=1e-12)


# --------------------------------------------------------------------------- Objective.parse


@pytest.mark.parametrize(
    "text, kind, value, cost_fn",
    [
        ("f1", "fbeta", 1.0, 1.0),
        ("F0.5", "fbeta", 0.5, 1.0),
        ("f2", "fbeta", 2.0, 1.0),
        ("youden", "youden", 1.0, 1.0),
        ("recall >= 0.9", "recall", 0.9, 1.0),
        ("precision>=0.8", "precision", 0.8, 1.0),
        ("fpr<=0.1", "fpr", 0.1, 1.0),
        ("cost:1,5", "cost", 1.0, 5.0),
    ],
)
def test_objective_parse(text, kind, value, cost_fn):
    goal = Objective.parse(text)
    assert (goal.kind, goal.value, goal.cost_fn) == (kind, value, cost_fn)


@pytest.mark.parametrize(
    "text, match",
    [
        ("f0", "beta > 0"),
        ("recall>=1.5", "between 0 and 1"),
        ("precision>=2", "between 0 and 1"),
        ("bogus", "objective must be one of"),
        ("cost:1", "objective must be one of"),
        ("f1.2.3", "objective must be one of"),
        ("", "objective must be one of"),
        ("recall<=0.9", "objective must be one of"),
    ],
)
def test_objective_parse_errors(text, match):
    with pytest.raises(InputError, match=match):
        Objective.parse(text)


def test_bad_objective_and_unknown_class_through_operating_point(case):
    _, curves = case
    with pytest.raises(InputError, match="objective must be one of"):
        operating_point(curves, curves.names[0], "bogus")
    with pytest.raises(InputError, match="expected a class name or index of .*, got 'nope'"):
        operating_point(curves, "nope", "f1")
