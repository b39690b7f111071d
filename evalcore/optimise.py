"""Choose every class' threshold (or weight) at once: maximise macro-F1 or accuracy, or
minimise the expected cost, subject to constraints such as ``recall(malignant)>=0.99``.

The search is coordinate ascent over exact sweeps (:mod:`evalcore.sweeps`): each class'
parameter in turn is set to the best of every value where the decision can change, the others
held; rounds repeat until no class moves. A step is better when it violates the constraints
less, then when its objective is better; ties keep the current value, so the result is
deterministic. Before and after are counted by :func:`evalcore.decisions.confusion` on the
final decision, not taken from the search.

Objectives (all over the scored classes: every class; the positive class for binary):

- ``macro-f1``  mean F1, a class with no true and no predicted sample counting 0 (as
                scikit-learn's ``f1_score(average="macro", zero_division=0)``)
- ``accuracy``  correct / all (abstained samples are wrong; multilabel: subset accuracy)
- ``cost``      mean cost C[true, predicted] per sample (minimised; K x K or K x (K + 1)
                with an ``abstained`` column)

>>> import numpy as np
>>> from evalcore.predictions import Predictions
>>> from evalcore.decisions import Decision
>>> p = Predictions.from_arrays([0, 1, 1, 0], [0.2, 0.45, 0.8, 0.5])
>>> best = optimise(p, Decision.of(p), "accuracy")
>>> best.decision.thresholds, best.before.objective, best.after.objective
((0.8,), 0.5, 0.75)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from evalcore.counts import as_json
from evalcore.decisions import Decision, confusion, predict
from evalcore.errors import InputError
from evalcore.predictions import Predictions, class_index
from evalcore.sweeps import SWEPT_RULES, Sweep, sweep

OBJECTIVES = ("macro-f1", "accuracy", "cost")
CONSTRAINT_HELP = "recall(NAME)>=R, precision(NAME)>=P, fpr(NAME)<=F or coverage>=C"
_CONSTRAINT = re.compile(
    r"(?P<metric>recall|precision|fpr)\((?P<name>.+)\)(?P<op>>=|<=)(?P<bound>[0-9.eE+-]+)"
    r"|(?P<coverage>coverage)(?P<cop>>=)(?P<cbound>[0-9.eE+-]+)")
MAX_ROUNDS = 20
_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Constraint:
    """A bound on one class' recall, precision or FPR, or on the coverage.

    >>> Constraint.parse("recall(dog)>=0.9", ("cat", "dog", "eel"))
    Constraint(metric='recall', curve=1, op='>=', bound=0.9, text='recall(dog)>=0.9')
    >>> Constraint.parse("coverage >= 0.8", ("cat", "dog", "eel")).metric
    'coverage'
    """

    metric: str  # recall | precision | fpr | coverage
    curve: int | None  # the scored column; None for coverage
    op: str  # ">=" or "<="
    bound: float
    text: str

    @classmethod
    def parse(cls, text: str, scored: tuple[str, ...]) -> Constraint:
        """``recall(malignant)>=0.99`` (a class name or index) etc.; InputError otherwise."""
        spec = str(text).strip().replace(" ", "")
        match = _CONSTRAINT.fullmatch(spec)
        if not match:
            raise InputError(f"constraint must be {CONSTRAINT_HELP}; got {text!r}")
        if match["coverage"]:
            metric, curve, op, bound = "coverage", None, ">=", match["cbound"]
        else:
            metric, op, bound = match["metric"], match["op"], match["bound"]
            name = match["name"]
            curve = class_index(scored, int(name) if name.isdigit() and name not in scored
                                else name)
            expected = "<=" if metric == "fpr" else ">="
            if op != expected:
                raise InputError(f"constraint {text!r}: {metric} takes {expected}")
        try:
            value = float(bound)
        except ValueError:
            raise InputError(f"constraint {text!r}: {bound!r} is not a number") from None
        if not 0 <= value <= 1:
            raise InputError(f"constraint {text!r}: expected a rate between 0 and 1")
        return cls(metric, curve, op, value, spec)


@dataclass(frozen=True)
class Score:
    """An objective's value and each constraint's, for one decision on some data.

    >>> import numpy as np
    >>> p = Predictions.from_arrays([0, 1, 2, 1], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1]]))
    >>> goal = Constraint.parse("recall(1)>=1", p.class_names)
    >>> s = score(p, Decision.per_class(p.class_names, 0.5), "macro-f1", constraints=(goal,))
    >>> round(s.objective, 4), s.constraints, float(s.violation((goal,)))
    (0.7778, (0.5,), 0.5)
    """

    objective: float
    constraints: tuple[float | None, ...]

    def violation(self, constraints: tuple[Constraint, ...]) -> float:
        return _violation(np.array([[np.nan if v is None else v] for v in self.constraints]),
                          constraints)[0] if constraints else 0.0


@dataclass(frozen=True)
class Optimised:
    """What :func:`optimise` found: the decision, the objective before and after, each
    constraint before and after, and whether every constraint is met.

    >>> import numpy as np
    >>> p = Predictions.from_arrays([0, 1, 2, 1], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1]]))
    >>> best = optimise(p, Decision.priority(p.class_names, {}), "accuracy",
    ...                 constraints=["recall(1)>=1"])
    >>> best.feasible, best.decision.describe(), best.after.objective
    (True, 'priority (1 >= 0.4), else argmax', 1.0)
    >>> {k: best.to_dict()[k] for k in ("direction", "before", "after")}
    {'direction': 'maximise', 'before': 0.75, 'after': 1.0}
    """

    objective: str
    decision: Decision
    start: Decision
    before: Score
    after: Score
    constraints: tuple[Constraint, ...]
    rounds: int

    @property
    def feasible(self) -> bool:
        return bool(self.after.violation(self.constraints) <= _TOLERANCE)

    def to_dict(self) -> dict:
        return {
            "objective": self.objective,
            "direction": "minimise" if self.objective == "cost" else "maximise",
            "before": as_json(self.before.objective),
            "after": as_json(self.after.objective),
            "feasible": self.feasible,
            "constraints": [
                {"constraint": c.text, "before": b, "after": a,
                 "met": a is not None and _met(a, c)}
                for c, b, a in zip(self.constraints, self.before.constraints,
                                   self.after.constraints)
            ],
            "rounds": self.rounds,
            "decision": self.decision.to_dict(),
        }


def score(predictions: Predictions, decision: Decision, objective: str = "macro-f1", *,
          costs=None, constraints: tuple[Constraint, ...] = ()) -> Score:
    """The objective and constraint values of ``decision`` on ``predictions``, counted by
    :func:`~evalcore.decisions.confusion` (use it to report on another split).

    >>> import numpy as np
    >>> p = Predictions.from_arrays([0, 1, 2, 1], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1]]))
    >>> tuned = optimise(p, Decision.per_class(p.class_names, 0.5), "macro-f1").decision
    >>> other = Predictions.from_arrays([1, 0, 2], np.array(
    ...     [[.3, .5, .2], [.7, .2, .1], [.2, .3, .5]]))
    >>> score(other, tuned, "macro-f1").objective, score(other, tuned, "accuracy").objective
    (1.0, 1.0)
    >>> costs = [[0, 1, 1], [5, 0, 1], [1, 1, 0]]  # calling a true 1 a 0 costs 5
    >>> score(p, Decision.argmax(p.class_names), "cost", costs=costs).objective
    1.25
    """
    p = predictions
    _check_objective(objective, p, decision, costs)
    result = confusion(p, decision, zero_division=0.0)
    counts = result.counts
    if objective == "macro-f1":
        value = float(np.mean(np.nan_to_num(counts.f1, nan=0.0)))
    elif objective == "accuracy":
        value = result.accuracy
    else:
        matrix = result.matrix
        value = float((matrix * _cost_matrix(costs, matrix.shape)).sum() / p.n_samples)
    values = []
    for c in constraints:
        if c.metric == "coverage":
            values.append(result.coverage)
        else:
            values.append(as_json(getattr(counts, c.metric)[c.curve]))
    return Score(value, tuple(values))


def optimise(
    predictions: Predictions, decision: Decision, objective: str = "macro-f1", *,
    costs=None, constraints: tuple[Constraint | str, ...] = (), max_rounds: int = MAX_ROUNDS,
    progress: Callable[[int, int], None] | None = None,
) -> Optimised:
    """Tune every class' threshold (per-class, priority, multilabel), weight (weighted) or
    the one threshold (abstain, binary) of ``decision`` for ``objective``.

    >>> import numpy as np
    >>> p = Predictions.from_arrays([0, 1, 2, 1], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1]]), class_names=["cat", "dog", "eel"])
    >>> best = optimise(p, Decision.per_class(p.class_names, 0.5), "macro-f1")
    >>> round(best.before.objective, 4), best.after.objective, best.decision.describe()
    (0.7778, 1.0, 'per-class (cat 0.6, dog 0.4, eel 0.5)')
    """
    p = predictions
    d = decision.check(p)
    if d.rule not in SWEPT_RULES:
        raise InputError(f"the {d.rule} rule has nothing to tune; choose per-class, priority, "
                         "weighted or abstain")
    _check_objective(objective, p, d, costs)
    goals = tuple(c if isinstance(c, Constraint) else Constraint.parse(c, d.scored)
                  for c in constraints)
    if p.task == "multilabel" and any(c.metric == "coverage" for c in goals):
        raise InputError("coverage is always 1 for multilabel decisions")
    cost_matrix = None if costs is None else np.asarray(costs, dtype=np.float64)
    tuned = _tuned(d, goals)
    total = max(1, max_rounds * len(tuned))
    done = rounds = 0
    current = d
    for rounds in range(1, max_rounds + 1):
        moved = False
        for c in tuned:
            s = sweep(p, current, c)
            values, violation = _evaluate(p, current, s, objective, cost_matrix, goals)
            here = _current_step(s, current)
            key = np.round(violation / _TOLERANCE) * _TOLERANCE
            sign = 1.0 if objective == "cost" else -1.0
            order = np.lexsort((sign * values, key))  # least violation, then best objective
            best = int(order[0])
            better = key[best] < key[here] - _TOLERANCE or (
                key[best] <= key[here] + _TOLERANCE
                and sign * values[best] < sign * values[here] - _TOLERANCE)
            if better:
                current = s.decision_at(best)
                moved = True
            done += 1
            if progress is not None:
                progress(done, total)
        if not moved:
            break
    if progress is not None:
        progress(total, total)
    before = score(p, d, objective, costs=cost_matrix, constraints=goals)
    after = score(p, current, objective, costs=cost_matrix, constraints=goals)
    return Optimised(objective, current, d, before, after, goals, rounds)


def _tuned(d: Decision, goals: tuple[Constraint, ...]) -> list[int]:
    """The scored columns whose parameter is tuned, in order."""
    if d.rule in ("abstain", "binary"):
        return [0]
    if d.rule == "priority":
        listed = list(d.order)
        for c in (g.curve for g in goals if g.curve is not None):
            if c not in listed:
                listed.insert(0, c)
        return listed or list(range(len(d.scored)))
    return list(range(len(d.scored)))


def _check_objective(objective: str, p: Predictions, d: Decision, costs) -> None:
    if objective not in OBJECTIVES:
        raise InputError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if objective != "cost":
        return
    if p.task == "multilabel":
        raise InputError("the cost objective needs a K x K matrix; multilabel decisions have none")
    if costs is None:
        raise InputError("the cost objective needs a cost matrix (rows true, columns predicted)")
    k = len(p.class_names)
    shape = np.shape(costs)
    if len(shape) != 2 or shape[0] != k or shape[1] not in (k, k + 1):
        raise InputError(f"the cost matrix must be {k} x {k} or {k} x {k + 1} (an abstained "
                         f"column last), got {shape}")
    if d.abstains and shape[1] != k + 1:
        raise InputError(f"the {d.rule} rule abstains: the cost matrix needs an 'abstained' "
                         f"column (its cost of abstaining), {k} x {k + 1}")


def _cost_matrix(costs, shape: tuple[int, int]) -> np.ndarray:
    """The cost matrix cut to a confusion matrix's columns (no abstained column when the rule
    never abstains)."""
    return np.asarray(costs, dtype=np.float64)[:, : shape[1]]


def _current_step(s: Sweep, d: Decision) -> int:
    """The step of the sweep that holds the decision's own parameter value."""
    if s.parameter == "weight":
        return max(int(np.searchsorted(s.values, d.weights[s.curve], side="right")) - 1, 0)
    t = d.thresholds[s.curve]
    # rows with key >= t are switched: the last step whose value is >= t
    return max(int(np.searchsorted(-s.values, -t, side="right")) - 1, 0)


def _evaluate(p: Predictions, d: Decision, s: Sweep, objective: str, costs, goals
              ) -> tuple[np.ndarray, np.ndarray]:
    """The objective and the constraints' total violation at every step of ``s``."""
    if p.task == "multilabel":
        tp, fp, fn = _multilabel_counts(p, d, s)
        correct = _subset_correct(p, d, s)
        covered = np.full(s.values.size, p.n_samples)
    else:
        rows = [1] if p.task == "binary" else range(len(p.class_names))
        tp, fp, fn = (np.stack(a) for a in zip(*(s.class_counts(k)[:3] for k in rows)))
        correct = s.correct()
        k = len(p.class_names)
        covered = (p.n_samples - s.matrix[:, k:].sum()
                   + s.cumulative((s.target != k).astype(np.int64) - (s.base != k)))
    n = p.n_samples
    if objective == "macro-f1":
        denominator = 2 * tp + fp + fn
        f1 = np.divide(2 * tp, denominator, out=np.zeros(tp.shape), where=denominator > 0)
        values = f1.mean(axis=0)
    elif objective == "accuracy":
        values = correct / n
    else:
        c = _cost_matrix(costs, s.matrix.shape)
        total = float((s.matrix * c).sum()) + s.cumulative(c[s.y, s.target] - c[s.y, s.base])
        values = total / n
    metrics = []
    for g in goals:
        if g.metric == "coverage":
            metrics.append(covered / n)
            continue
        t, f, m = tp[g.curve], fp[g.curve], fn[g.curve]
        with np.errstate(divide="ignore", invalid="ignore"):
            if g.metric == "recall":
                metrics.append(t / (t + m))
            elif g.metric == "precision":
                metrics.append(t / (t + f))
            else:
                negatives = n - (t + m)
                metrics.append(f / negatives)
    violation = _violation(np.array(metrics), goals) if goals else np.zeros(values.size)
    return np.asarray(values, dtype=np.float64), violation


def _violation(metrics: np.ndarray, goals: tuple[Constraint, ...]) -> np.ndarray:
    """Total shortfall of every constraint (undefined values: the whole bound)."""
    total = np.zeros(metrics.shape[1])
    for value, g in zip(metrics, goals):
        if g.op == ">=":
            miss = np.where(np.isnan(value), g.bound, np.maximum(g.bound - value, 0.0))
        else:
            miss = np.where(np.isnan(value), 1.0, np.maximum(value - g.bound, 0.0))
        total += miss
    return total


def _met(value: float, c: Constraint) -> bool:
    return bool(value >= c.bound - _TOLERANCE if c.op == ">=" else value <= c.bound + _TOLERANCE)


def _multilabel_counts(p: Predictions, d: Decision, s: Sweep):
    """Per-label TP/FP/FN at every step: label ``s.curve`` moves, the others stay."""
    base = confusion(p, d).counts
    steps = s.values.size
    tp, fp, fn = (np.repeat(np.asarray(a, dtype=np.int64)[:, None], steps, axis=1)
                  for a in (base.tp, base.fp, base.fn))
    tp[s.curve], fp[s.curve], fn[s.curve] = s.class_counts(1)[:3]
    return tp, fp, fn


def _subset_correct(p: Predictions, d: Decision, s: Sweep) -> np.ndarray:
    """Rows with every label right, at every step of label ``s.curve``'s threshold."""
    right = predict(p, d) == p.y_true
    right[:, s.curve] = True
    others = right.all(axis=1)
    truth = p.y_true[:, s.curve]
    start = int(np.count_nonzero(others & ~truth))  # step 0: the label predicted nowhere
    gain = others[s.rows].astype(np.int64) * np.where(s.y == 1, 1, -1)
    return start + s.cumulative(gain)
