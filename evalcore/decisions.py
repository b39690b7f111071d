"""Decisions: what a deployed model predicts, as one value, and the confusion it gives.

A :class:`Decision` is the rule and its parameters (a threshold, weight or cost per class, in
the data's class order). It is the one thing the engine counts (:func:`confusion`), the CLI
reads and prints, a thresholds file stores and the app keeps and puts in its URL.

Rules (a score clears a threshold when ``score >= threshold``; ties go to the lowest index):

- ``argmax``     multiclass: the top-scoring class.
- ``abstain``    multiclass: the top class when its score clears one threshold, else abstain.
- ``per-class``  multiclass: the top-scoring class among those clearing their own threshold,
                 else abstain.
- ``priority``   multiclass: the first class, in a given order, whose score clears its
                 threshold, else the argmax ("flag malignant when p >= 0.06, else argmax").
- ``weighted``   multiclass: the argmax of w_k * p_k (the same as the argmax of p_k / T_k
                 with T_k = 1 / w_k).
- ``cost``       multiclass: the class of least expected cost sum_i C[i, j] p_i under a cost
                 matrix (rows true, columns predicted, optionally an ``abstained`` column).
- ``multilabel`` every label whose score clears its threshold.
- ``binary``     the positive class when its score clears the threshold.

Per-class TP/FP/FN/TN are derived from the K x K matrix; an abstained sample is a false
negative of its true class and a false positive of none.

>>> import numpy as np
>>> p = Predictions.from_arrays([0, 1, 2, 2], np.array(
...     [[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.5, 0.1, 0.4], [0.1, 0.2, 0.7]]))
>>> confusion(p, "argmax").matrix.tolist()
[[1, 0, 0], [0, 1, 0], [1, 0, 1]]
>>> flag_two = Decision.priority(p.class_names, {"2": 0.35})
>>> confusion(p, flag_two).matrix.tolist()
[[1, 0, 0], [0, 1, 0], [0, 0, 2]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from evalcore.counts import Counts, as_json, f_beta, ratio
from evalcore.errors import InputError
from evalcore.predictions import Predictions, class_index, threshold_in_dtype

RULES: tuple[str, ...] = (
    "argmax", "abstain", "per-class", "priority", "weighted", "cost", "multilabel", "binary",
)
RULES_BY_TASK: dict[str, tuple[str, ...]] = {
    "multiclass": ("argmax", "abstain", "per-class", "priority", "weighted", "cost"),
    "multilabel": ("multilabel",),
    "binary": ("binary",),
}
#: rules whose parameter is a threshold per scored column
THRESHOLD_RULES = ("abstain", "per-class", "priority", "multilabel", "binary")
ABSTAINED = "abstained"
DEFAULT_THRESHOLD = 0.5
#: multilabel F1 of a sample (or label) with no true and no predicted label: as scikit-learn's
#: default ``zero_division``; None leaves such samples out of the average instead
DEFAULT_ZERO_DIVISION = 0.0


@dataclass(frozen=True)
class Decision:
    """A decision rule with its parameters, in the class order of the data it applies to.

    ``thresholds`` has one probability-scale value per scored column (every class; the
    positive class for binary); ``abstain`` holds its one threshold in every entry.
    ``order`` (priority) lists the scored columns checked first to last; ``weights``
    (weighted) one weight per class; ``costs`` (cost) the K x K matrix, or K x (K + 1) with
    the cost of abstaining last. Build one with the class methods, or :meth:`of`.

    >>> d = Decision.priority(("cat", "dog", "eel"), {"eel": 0.2})
    >>> d.order, d.class_thresholds().tolist()
    ((2,), [nan, nan, 0.2])
    >>> Decision.from_dict(d.to_dict()) == d
    True
    """

    rule: str
    classes: tuple[str, ...]
    thresholds: tuple[float, ...] = ()
    order: tuple[int, ...] = ()
    weights: tuple[float, ...] = ()
    costs: tuple[tuple[float, ...], ...] = field(default=())

    def __post_init__(self) -> None:
        _validate(self)

    # ------------------------------------------------------------------ constructors

    @classmethod
    def argmax(cls, classes: Sequence[str]) -> Decision:
        return cls("argmax", tuple(classes))

    @classmethod
    def abstain(cls, classes: Sequence[str], threshold: float) -> Decision:
        return cls("abstain", tuple(classes), (float(threshold),) * len(classes))

    @classmethod
    def per_class(cls, classes: Sequence[str], thresholds) -> Decision:
        return cls("per-class", tuple(classes), _per_column(thresholds, tuple(classes)))

    @classmethod
    def priority(cls, classes: Sequence[str],
                 thresholds: Mapping[str, float] | Sequence[tuple[str, float]]) -> Decision:
        """``thresholds``: (class, threshold) pairs in priority order (a dict keeps its
        order). Classes not listed are only reached by the argmax fallback."""
        classes = tuple(classes)
        pairs = list(thresholds.items() if isinstance(thresholds, Mapping) else thresholds)
        values = [np.inf] * len(classes)
        order = []
        for name, t in pairs:
            c = class_index(classes, name)
            if c in order:
                raise InputError(f"class {classes[c]!r} is listed twice in the priority order")
            order.append(c)
            values[c] = float(t)
        return cls("priority", classes, tuple(values), tuple(order))

    @classmethod
    def weighted(cls, classes: Sequence[str], weights) -> Decision:
        return cls("weighted", tuple(classes), weights=_per_column(weights, tuple(classes), 1.0))

    @classmethod
    def cost(cls, classes: Sequence[str], costs) -> Decision:
        matrix = np.asarray(costs, dtype=np.float64)
        return cls("cost", tuple(classes), costs=tuple(tuple(row) for row in matrix.tolist()))

    @classmethod
    def multilabel(cls, classes: Sequence[str], thresholds=DEFAULT_THRESHOLD) -> Decision:
        return cls("multilabel", tuple(classes), _per_column(thresholds, tuple(classes)))

    @classmethod
    def binary(cls, classes: Sequence[str], threshold: float = DEFAULT_THRESHOLD) -> Decision:
        return cls("binary", tuple(classes), (float(np.asarray(threshold).reshape(-1)[0]),))

    @classmethod
    def of(cls, predictions: Predictions, rule: str | None = None, thresholds=DEFAULT_THRESHOLD,
           *, weights=None, costs=None) -> Decision:
        """The decision ``rule`` (default: by task) on ``predictions``' classes. Thresholds:
        a scalar, one per scored column, or {class: threshold} (for priority, in order;
        for per-class and multilabel, classes not named take ``DEFAULT_THRESHOLD``)."""
        p = predictions
        rule = rule or default_rule(p.task)
        _check_rule(rule, p.task)
        names = p.class_names
        if rule == "argmax":
            return cls.argmax(names)
        if rule == "weighted":
            return cls.weighted(names, 1.0 if weights is None else weights)
        if rule == "cost":
            if costs is None:
                raise InputError("the cost rule needs a cost matrix (rows true, columns predicted)")
            return cls.cost(names, costs)
        if rule == "priority":
            if not isinstance(thresholds, Mapping):
                t = np.broadcast_to(_threshold_values(thresholds, len(names)), (len(names),))
                thresholds = dict(zip(names, t.tolist()))
            return cls.priority(names, thresholds)
        if rule in ("abstain", "binary"):
            t = _threshold_values(thresholds, len(p.curve_names))
            if t.size != 1:
                raise InputError(f"the {rule} rule takes one threshold, got {t.size}")
            return cls.abstain(names, float(t[0])) if rule == "abstain" else cls.binary(names, t[0])
        if isinstance(thresholds, Mapping):
            values = dict.fromkeys(names, DEFAULT_THRESHOLD)
            values.update({names[class_index(names, n)]: float(t) for n, t in thresholds.items()})
            thresholds = list(values.values())
        make = cls.per_class if rule == "per-class" else cls.multilabel
        return make(names, thresholds)

    # ------------------------------------------------------------------ views

    @property
    def scored(self) -> tuple[str, ...]:
        """The scored columns the thresholds belong to (binary: the positive class)."""
        return self.classes[1:] if self.rule == "binary" else self.classes

    @property
    def abstains(self) -> bool:
        """Whether the rule can abstain (its matrix has an ``abstained`` column)."""
        k = len(self.classes)
        return self.rule in ("abstain", "per-class") or (
            self.rule == "cost" and len(self.costs[0]) == k + 1)

    def class_thresholds(self) -> np.ndarray:
        """The threshold acting on each scored column, NaN where the rule uses none (argmax,
        weighted, cost; classes missing from a priority order)."""
        if self.rule not in THRESHOLD_RULES:
            return np.full(len(self.scored), np.nan)
        t = np.array(self.thresholds, dtype=np.float64)
        if self.rule == "priority":
            listed = np.zeros(t.size, dtype=bool)
            listed[list(self.order)] = True
            t[~listed] = np.nan
        return t

    def with_threshold(self, c: int, t: float, *, first: bool = True) -> Decision:
        """Class ``c``'s threshold set to ``t`` (abstain: the one threshold). A priority
        decision that does not list ``c`` puts it first (``first=False``: last)."""
        t = float(t)
        if self.rule == "abstain":
            return replace(self, thresholds=(t,) * len(self.thresholds))
        if self.rule not in THRESHOLD_RULES:
            raise InputError(f"the {self.rule} rule has no thresholds")
        values = list(self.thresholds)
        values[c] = t
        order = self.order
        if self.rule == "priority" and c not in order:
            order = (c, *order) if first else (*order, c)
        return replace(self, thresholds=tuple(values), order=order)

    def with_weight(self, c: int, w: float) -> Decision:
        if self.rule != "weighted":
            raise InputError(f"the {self.rule} rule has no weights")
        values = list(self.weights)
        values[c] = float(w)
        return replace(self, weights=tuple(values))

    def describe(self) -> str:
        """The decision in one line, as the CLI and the app state it."""
        if self.rule == "argmax":
            return "argmax"
        if self.rule in ("abstain", "binary"):
            return f"{self.rule} at {self.thresholds[0]:.6g}"
        if self.rule == "priority":
            listed = ", ".join(f"{self.classes[c]} >= {self.thresholds[c]:.6g}" for c in self.order)
            return f"priority ({listed or 'no class listed'}), else argmax"
        if self.rule == "weighted":
            return "weighted (" + ", ".join(
                f"{n} x{w:.6g}" for n, w in zip(self.classes, self.weights)) + ")"
        if self.rule == "cost":
            return f"cost matrix {len(self.costs)} x {len(self.costs[0])}"
        return f"{self.rule} (" + ", ".join(
            f"{n} {t:.6g}" for n, t in zip(self.scored, self.thresholds)) + ")"

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict:
        """JSON-ready: the rule, the classes and the parameters the rule uses (thresholds by
        class name; a priority decision's in priority order)."""
        out: dict = {"rule": self.rule, "classes": list(self.classes)}
        if self.rule == "priority":
            out["thresholds"] = {self.classes[c]: self.thresholds[c] for c in self.order}
        elif self.rule in THRESHOLD_RULES:
            out["thresholds"] = dict(zip(self.scored, self.thresholds))
            if self.rule == "abstain":
                out["threshold"] = self.thresholds[0]
        if self.rule == "weighted":
            out["weights"] = dict(zip(self.classes, self.weights))
        if self.rule == "cost":
            out["costs"] = [list(row) for row in self.costs]
            out["cost_columns"] = list(self.classes) + ([ABSTAINED] if self.abstains else [])
        return out

    @classmethod
    def from_dict(cls, spec: dict, name: str = "decision") -> Decision:
        """The inverse of :meth:`to_dict`; InputError naming ``name`` when malformed."""
        try:
            rule = str(spec["rule"])
            classes = tuple(str(c) for c in spec["classes"])
            _check_rule(rule, None)
            if rule == "argmax":
                return cls.argmax(classes)
            if rule == "weighted":
                return cls.weighted(classes, spec.get("weights", 1.0))
            if rule == "cost":
                return cls.cost(classes, spec["costs"])
            thresholds = spec["thresholds"]
            if not isinstance(thresholds, Mapping):
                raise TypeError("thresholds must map class names to numbers")
            values = {str(k): _number(v) for k, v in thresholds.items()}
            if rule == "priority":
                return cls.priority(classes, values)
            if rule in ("abstain", "binary"):
                t = spec.get("threshold", next(iter(values.values()), None))
                return (cls.abstain(classes, _number(t)) if rule == "abstain"
                        else cls.binary(classes, _number(t)))
            scored = classes
            missing = [c for c in scored if c not in values]
            if missing:
                raise KeyError(f"no threshold for class {missing[0]!r}")
            make = cls.per_class if rule == "per-class" else cls.multilabel
            return make(classes, [values[c] for c in scored])
        except InputError as error:
            raise InputError(f"{name}: {error}") from None
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise InputError(f"{name}: malformed decision ({type(error).__name__}: {error})") from None

    def check(self, predictions: Predictions) -> Decision:
        """This decision, after checking that it fits ``predictions`` (classes, task)."""
        p = predictions
        if tuple(p.class_names) != self.classes:
            raise InputError(f"the decision is for classes {list(self.classes)}, the data has "
                             f"{list(p.class_names)}")
        _check_rule(self.rule, p.task)
        return self


def default_rule(task: str) -> str:
    """The headline decision rule of a task (the first of RULES_BY_TASK[task]).

    >>> default_rule("multiclass"), default_rule("binary"), default_rule("multilabel")
    ('argmax', 'binary', 'multilabel')
    """
    return RULES_BY_TASK[task][0]


def as_decision(predictions: Predictions, rule: str | Decision | None = None,
                thresholds=DEFAULT_THRESHOLD) -> Decision:
    """A Decision (checked against ``predictions``), or one built by :meth:`Decision.of`.

    >>> p = Predictions.from_arrays([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> as_decision(p).describe(), as_decision(p, "binary", 0.35).describe()
    ('binary at 0.5', 'binary at 0.35')
    >>> d = Decision.binary(p.class_names, 0.4)
    >>> as_decision(p, d) is d
    True
    """
    if isinstance(rule, Decision):
        return rule.check(predictions)
    return Decision.of(predictions, rule, thresholds)


def _check_rule(rule: str, task: str | None) -> None:
    if rule not in RULES:
        raise InputError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    if task is not None and rule not in RULES_BY_TASK[task]:
        raise InputError(
            f"rule {rule!r} does not apply to {task} data; use one of "
            f"{', '.join(RULES_BY_TASK[task])}"
        )


def _number(value) -> float:
    if isinstance(value, Mapping):  # a thresholds file's {"probability": t, "logit": ...}
        value = value["probability"]
    if isinstance(value, bool) or value is None:
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def _threshold_values(thresholds, n: int) -> np.ndarray:
    try:
        t = np.asarray(thresholds, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"thresholds must be numbers, got {thresholds!r}") from None
    if t.ndim > 1 or (t.ndim == 1 and t.size not in (1, n)):
        raise InputError(f"expected one threshold or {n} (one per class), got {t.size}")
    return t.reshape(-1)


def _per_column(values, classes: tuple[str, ...], default: float | None = None) -> tuple[float, ...]:
    if isinstance(values, Mapping):
        out = [default if default is not None else DEFAULT_THRESHOLD] * len(classes)
        for name, v in values.items():
            out[class_index(classes, name)] = float(v)
        return tuple(out)
    n = len(classes)
    t = _threshold_values(values, n)
    return tuple(np.broadcast_to(t, (n,)).tolist())


def _validate(d: Decision) -> None:
    """Every Decision is well formed: the parameters its rule needs, of the right sizes."""
    _check_rule(d.rule, None)
    k = len(d.classes)
    if k < 2 or len(set(d.classes)) != k:
        raise InputError(f"a decision needs at least 2 distinct classes, got {list(d.classes)}")
    n_scored = 1 if d.rule == "binary" else k
    if d.rule in THRESHOLD_RULES:
        if len(d.thresholds) != n_scored:
            raise InputError(f"expected one threshold or {n_scored} (one per class), "
                             f"got {len(d.thresholds)}")
        t = np.array(d.thresholds, dtype=np.float64)
        if np.isnan(t).any():
            raise InputError("thresholds must be numbers, got NaN")
        if d.rule == "abstain" and len(set(d.thresholds)) != 1:
            raise InputError("the abstain rule takes one threshold, on the top score")
        if d.rule != "priority" and not np.isfinite(t).all():
            raise InputError("thresholds must be finite numbers")
    elif d.thresholds:
        raise InputError(f"the {d.rule} rule takes no thresholds")
    if d.rule == "priority":
        listed = np.array(d.order, dtype=np.int64)
        if listed.size and (listed.min() < 0 or listed.max() >= k or len(set(d.order)) != listed.size):
            raise InputError(f"priority order must list distinct classes 0..{k - 1}, got {d.order}")
        if not np.isfinite(np.array(d.thresholds)[listed]).all():
            raise InputError("every class in the priority order needs a finite threshold")
    elif d.order:
        raise InputError(f"the {d.rule} rule takes no priority order")
    if d.rule == "weighted":
        w = np.array(d.weights, dtype=np.float64)
        if w.size != k:
            raise InputError(f"expected {k} weights (one per class), got {w.size}")
        if not (np.isfinite(w).all() and (w >= 0).all() and (w > 0).any()):
            raise InputError(f"weights must be finite, >= 0 and not all 0, got {w.tolist()}")
    elif d.weights:
        raise InputError(f"the {d.rule} rule takes no weights")
    if d.rule == "cost":
        try:
            c = np.array(d.costs, dtype=np.float64)
        except ValueError:
            raise InputError("the cost matrix has rows of different lengths") from None
        if c.ndim != 2 or c.shape[0] != k or c.shape[1] not in (k, k + 1):
            raise InputError(f"the cost matrix must be {k} x {k} (rows true, columns predicted) "
                             f"or {k} x {k + 1} (an abstained column last), got {c.shape}")
        if not np.isfinite(c).all():
            raise InputError("the cost matrix must hold finite numbers")
    elif d.costs:
        raise InputError(f"the {d.rule} rule takes no cost matrix")


# --------------------------------------------------------------------------- counting


@dataclass(frozen=True)
class MultilabelMetrics:
    """Sample- and cell-level metrics of a multilabel decision. ``zero_division``: the F1 of
    a sample or label with no true and no predicted label (None: left out of the average).

    >>> import numpy as np
    >>> p = Predictions.from_arrays(np.array([[1, 0], [1, 1], [0, 1]]), np.array(
    ...     [[.9, .2], [.6, .4], [.3, .8]]), class_names=["cat", "dog"])
    >>> m = confusion(p, "multilabel", 0.5).multilabel
    >>> [round(v, 4) for v in (m.subset_accuracy, m.hamming_loss, m.f1_samples, m.f1_macro)]
    [0.6667, 0.1667, 0.8889, 0.8333]
    """

    subset_accuracy: float
    hamming_loss: float
    binary_accuracy: float
    f1_micro: float | None
    f1_macro: float | None
    f1_samples: float | None
    zero_division: float | None = DEFAULT_ZERO_DIVISION

    def to_dict(self) -> dict:
        out = dict(self.__dict__)
        out["f1_convention"] = (
            "a sample or label with no true and no predicted label has F1 "
            + (f"{self.zero_division:g}" if self.zero_division is not None else
               "undefined and is left out of the averages")
            + " (scikit-learn's zero_division)")
        return out


@dataclass(frozen=True, eq=False)
class Confusion:
    """The outcome of one :class:`Decision` on some data.

    ``matrix`` has rows = true classes and columns = ``predicted_labels`` ("abstained" last
    where the rule abstains); it is None for multilabel. ``counts`` holds the decision's own
    TP/FP/FN/TN of each scored column (every class; the positive class for binary; each label
    for multilabel). ``accuracy`` counts abstained samples as wrong; ``covered_accuracy`` is
    the accuracy on the samples not abstained.

    >>> import numpy as np
    >>> p = Predictions.from_arrays([0, 1, 2, 1], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1]]))
    >>> c = confusion(p, "argmax")
    >>> c.accuracy, c.matrix.tolist(), c.counts.recall.tolist()
    (0.75, [[1, 0, 0], [1, 1, 0], [0, 0, 1]], [1.0, 0.5, 1.0])
    >>> c = confusion(p, "abstain", 0.55)
    >>> c.predicted_labels[-1], c.coverage, c.covered_accuracy
    ('abstained', 0.5, 1.0)
    """

    decision: Decision
    labels: tuple[str, ...]
    predicted_labels: tuple[str, ...]
    matrix: np.ndarray | None
    counts: Counts
    coverage: float
    accuracy: float
    covered_accuracy: float | None
    multilabel: MultilabelMetrics | None = None

    @property
    def rule(self) -> str:
        return self.decision.rule

    @property
    def thresholds(self) -> dict[str, float]:
        """The threshold acting on each scored column (NaN where the rule uses none)."""
        return dict(zip(self.decision.scored, self.decision.class_thresholds().tolist()))

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
            "decision": self.decision.to_dict(),
            "labels": list(self.labels),
            "predicted_labels": list(self.predicted_labels),
            "thresholds": {name: as_json(t) for name, t in self.thresholds.items()},
            "per_class": self.counts.to_dict(),
            "coverage": self.coverage,
            "accuracy": self.accuracy,
            "covered_accuracy": self.covered_accuracy,
        }
        if len(self.counts.names) > 1:  # micro, macro, weighted precision / recall / F1
            out["averages"] = {avg: dict(zip(("precision", "recall", "f1"), map(as_json, v)))
                               for avg, v in self.counts.averages().items()}
        if self.matrix is not None:
            out["matrix"] = self.matrix.tolist()
        if self.multilabel is not None:
            out.update(self.multilabel.to_dict())
        return out


def confusion(
    predictions: Predictions, rule: str | Decision | None = None, thresholds=DEFAULT_THRESHOLD,
    *, zero_division: float | None = DEFAULT_ZERO_DIVISION,
) -> Confusion:
    """Count what ``rule`` (a :class:`Decision`, or a rule name with ``thresholds``) predicts
    on ``predictions``: the K x K matrix, per-class counts, coverage and accuracy.

    >>> p = Predictions.from_arrays([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> confusion(p, "binary", 0.35).counts.row(0)["recall"], confusion(p).accuracy
    (1.0, 0.75)
    """
    p = predictions
    decision = as_decision(p, rule, thresholds)
    return Tally.of(p, decision).confusion(zero_division)


def predict(predictions: Predictions, rule: str | Decision | None = None,
            thresholds=DEFAULT_THRESHOLD) -> np.ndarray:
    """What the decision predicts for each row: class indices (``K`` = abstained; binary: 0
    or 1), or a bool (N, K) matrix for multilabel. The one kernel :func:`confusion` counts.

    >>> import numpy as np
    >>> p = Predictions.from_arrays([0, 1, 2, 1], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1]]))
    >>> predict(p, "argmax").tolist(), predict(p, "abstain", 0.55).tolist()   # 3: abstained
    ([0, 1, 2, 0], [0, 3, 2, 3])
    """
    p = predictions
    d = as_decision(p, rule, thresholds)
    key = threshold_in_dtype(np.array(d.thresholds, dtype=np.float64), p.scores.dtype)
    k = p.scores.shape[1]
    if d.rule == "multilabel":
        return p.scores >= key
    if d.rule == "binary":
        return (p.scores[:, 0] >= key[0]).astype(np.int64)
    if d.rule == "argmax":
        return p.top_class
    if d.rule == "abstain":
        return np.where(p.top_score >= key[0], p.top_class, k)
    if d.rule == "per-class":
        return _per_class_predictions(p, key)
    if d.rule == "priority":
        predicted = p.top_class.copy()
        for c in reversed(d.order):  # the earliest class in the order is written last
            predicted[p.scores[:, c] >= key[c]] = c
        return predicted
    if d.rule == "weighted":
        w = np.array(d.weights, dtype=np.float64)
        if (w == w[0]).all():
            return p.top_class
        return np.argmax(p.scores * w, axis=1)
    return np.argmin(expected_costs(p.scores, np.array(d.costs, dtype=np.float64)), axis=1)


def expected_costs(scores: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """(N, columns) expected cost of each prediction, sum_i p_i C[i, j], summed in class
    order (the same rounding as a sum written out by hand).

    >>> import numpy as np
    >>> scores = np.array([[0.7, 0.3], [0.2, 0.8]])
    >>> costs = np.array([[0.0, 1.0], [10.0, 0.0]])  # missing class 1 costs 10
    >>> expected_costs(scores, costs).round(2).tolist()
    [[3.0, 0.7], [8.0, 0.2]]
    >>> expected_costs(scores, costs).argmin(axis=1).tolist()
    [1, 1]
    """
    out = np.zeros((scores.shape[0], costs.shape[1]))
    for i in range(costs.shape[0]):
        out += scores[:, i : i + 1].astype(np.float64) * costs[i]
    return out


def _per_class_predictions(p: Predictions, key: np.ndarray) -> np.ndarray:
    """The top class among those clearing their own threshold, else K (abstain). Rank by rank
    (``Predictions.at_rank``): a row is decided at the first rank whose class clears its
    threshold, and given up (abstain) once its r-th score is below every threshold, since no
    later rank scores higher. Most rows are decided at rank 0 or 1."""
    k = p.scores.shape[1]
    floor = key.min()
    predicted = np.full(p.n_samples, k, dtype=np.int64)
    hit = p.top_score >= key[p.top_class]
    predicted[hit] = p.top_class[hit]
    rows = np.flatnonzero(~hit & (p.top_score >= floor))
    for r in range(1, k):
        if not rows.size:
            break
        cls, score = p.at_rank(r, rows)
        hit = score >= key[cls]
        predicted[rows[hit]] = cls[hit]
        rows = rows[~hit & (score >= floor)]
    return predicted


def from_predicted(p: Predictions, decision: Decision, predicted: np.ndarray) -> Confusion:
    """The Confusion of per-row predictions (class indices, K = abstained) of a decision.

    >>> import numpy as np
    >>> p = Predictions.from_arrays([0, 1, 2, 1], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1]]))
    >>> d = Decision.abstain(p.class_names, 0.55)
    >>> c = from_predicted(p, d, predict(p, d))
    >>> c.matrix.tolist(), c.coverage
    ([[1, 0, 0, 0], [0, 0, 0, 2], [0, 0, 1, 0]], 0.5)
    """
    return Tally.of(p, decision, predicted).confusion()


@dataclass(frozen=True, eq=False)
class Tally:
    """The counts behind a :class:`Confusion`, which add up over batches of rows: the matrix
    (rows true classes, columns predicted [+ abstained]); multilabel: per-label TP/FP/FN,
    exactly matched rows, wrong cells, and the per-sample F1 sum (with its undefined count).

    >>> import numpy as np
    >>> p = Predictions.from_arrays([0, 1, 2, 1], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1]]))
    >>> q = Predictions.from_arrays([2, 0], np.array([[.2, .2, .6], [.3, .6, .1]]))
    >>> d = Decision.argmax(p.class_names)
    >>> total = Tally.of(p, d) + Tally.of(q, d)
    >>> total.n, total.matrix.tolist()
    (6, [[1, 1, 0], [1, 1, 0], [0, 0, 2]])
    >>> round(total.confusion().accuracy, 4)
    0.6667
    """

    decision: Decision
    class_names: tuple[str, ...]
    task: str
    n: int
    matrix: np.ndarray | None = None
    label_counts: np.ndarray | None = None  # (3, K): TP, FP, FN of each label
    exact_rows: int = 0
    wrong_cells: int = 0
    f1_sum: float = 0.0
    f1_undefined: int = 0

    @classmethod
    def of(cls, p: Predictions, decision: Decision, predicted: np.ndarray | None = None) -> Tally:
        """Count ``decision`` on ``p`` (``predicted``: its :func:`predict`, when at hand)."""
        predicted = predict(p, decision) if predicted is None else predicted
        k = len(p.class_names)
        if decision.rule == "multilabel":
            y = p.y_true
            hits = predicted & y
            counts = np.stack([np.count_nonzero(hits, axis=0),
                               np.count_nonzero(predicted & ~y, axis=0),
                               np.count_nonzero(~predicted & y, axis=0)])
            wrong = np.count_nonzero(predicted != y, axis=1)
            sample_tp = np.count_nonzero(hits, axis=1)
            f1 = f_beta(sample_tp, predicted.sum(axis=1) - sample_tp, y.sum(axis=1) - sample_tp)
            undefined = np.isnan(f1)
            return cls(decision, p.class_names, p.task, p.n_samples, label_counts=counts,
                       exact_rows=int(np.count_nonzero(wrong == 0)), wrong_cells=int(wrong.sum()),
                       f1_sum=float(f1[~undefined].sum()), f1_undefined=int(undefined.sum()))
        columns = k + 1 if decision.abstains else k
        matrix = np.bincount(p.y_true * columns + predicted,
                             minlength=k * columns).reshape(k, columns)
        return cls(decision, p.class_names, p.task, p.n_samples, matrix=matrix)

    def __add__(self, other: Tally) -> Tally:
        def add(a, b):
            return None if a is None else a + b

        return replace(self, n=self.n + other.n, matrix=add(self.matrix, other.matrix),
                       label_counts=add(self.label_counts, other.label_counts),
                       exact_rows=self.exact_rows + other.exact_rows,
                       wrong_cells=self.wrong_cells + other.wrong_cells,
                       f1_sum=self.f1_sum + other.f1_sum,
                       f1_undefined=self.f1_undefined + other.f1_undefined)

    def confusion(self, zero_division: float | None = DEFAULT_ZERO_DIVISION) -> Confusion:
        if self.label_counts is not None:
            return self._multilabel(zero_division)
        decision, matrix, n = self.decision, self.matrix, self.n
        k = len(self.class_names)
        tp = np.diag(matrix[:, :k]).copy()
        fn = matrix.sum(axis=1) - tp
        fp = matrix[:, :k].sum(axis=0) - tp
        rows = slice(1, None) if self.task == "binary" else slice(None)
        names = self.class_names[rows]
        counts = Counts(names, tp[rows], fp[rows], fn[rows], (n - tp - fp - fn)[rows],
                        thresholds=decision.class_thresholds())
        covered = n - (int(matrix[:, k:].sum()) if decision.abstains else 0)
        correct = int(tp.sum())
        return Confusion(
            decision=decision,
            labels=self.class_names,
            predicted_labels=self.class_names + ((ABSTAINED,) if decision.abstains else ()),
            matrix=matrix,
            counts=counts,
            coverage=covered / n,
            accuracy=correct / n,
            covered_accuracy=correct / covered if covered else None,
        )

    def _multilabel(self, zero_division: float | None) -> Confusion:
        n, k = self.n, len(self.class_names)
        tp, fp, fn = self.label_counts
        counts = Counts(self.class_names, tp, fp, fn, n - tp - fp - fn,
                        thresholds=self.decision.class_thresholds())
        exact = self.exact_rows / n
        hamming = self.wrong_cells / (n * k)
        if zero_division is not None:
            f1_samples = (self.f1_sum + zero_division * self.f1_undefined) / n
        else:
            defined = n - self.f1_undefined
            f1_samples = self.f1_sum / defined if defined else None
        metrics = MultilabelMetrics(
            subset_accuracy=exact,
            hamming_loss=hamming,
            binary_accuracy=1.0 - hamming,
            f1_micro=_mean(f_beta(tp.sum(), fp.sum(), fn.sum()).reshape(1), zero_division),
            f1_macro=_mean(counts.f1, zero_division),
            f1_samples=f1_samples,
            zero_division=zero_division,
        )
        return Confusion(
            decision=self.decision,
            labels=self.class_names,
            predicted_labels=self.class_names,
            matrix=None,
            counts=counts,
            coverage=1.0,
            accuracy=exact,
            covered_accuracy=exact,
            multilabel=metrics,
        )


def _mean(values: np.ndarray, zero_division: float | None) -> float | None:
    """Mean of F-scores whose undefined (0 / 0, NaN) values count as ``zero_division``, or
    are left out when it is None; None if nothing is left."""
    values = np.asarray(values, dtype=np.float64)
    if zero_division is not None:
        values = np.where(np.isnan(values), float(zero_division), values)
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if defined.size else None


def accuracy(predictions: Predictions) -> float:
    """The headline accuracy: argmax for multiclass, exact match at 0.5 on the probability
    scale for multilabel (logit 0), the 0.5 threshold for binary.

    >>> p = Predictions.from_arrays([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> accuracy(p)
    0.75
    """
    return confusion(predictions).accuracy


@dataclass(frozen=True)
class AccuracyVariants:
    """The accuracies quoted for one model output, side by side.

    ``keras_metric`` is what Keras 3's ``metrics=["accuracy"]`` picks from the shapes alone
    (``keras.src.trainers.compile_utils.get_metric``): one output column -> binary accuracy
    (``raw output > 0.5``, on logits too); integer labels -> sparse categorical; otherwise
    categorical accuracy, argmax(output) == argmax(y_true) even for multi-hot labels.
    ``keras_accuracy`` is its value on the raw outputs.

    >>> p = Predictions.from_arrays([0, 0, 1, 1], [0.1, 0.5, 0.35, 0.8])
    >>> v = accuracy_variants(p)
    >>> v.keras_metric, v.keras_accuracy, v.binary_accuracy   # 0.5: > for Keras, >= here
    ('binary_accuracy', 0.75, 0.5)
    >>> list(v.to_dict())[:3]
    ['keras_metric', 'keras_accuracy', 'threshold']
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
    """Keras' ``accuracy``, binary, categorical and subset accuracy of one output.

    >>> import numpy as np
    >>> p = Predictions.from_arrays(np.array([[1, 0], [1, 1], [0, 1]]), np.array(
    ...     [[.9, .2], [.6, .4], [.3, .8]]), class_names=["cat", "dog"])
    >>> v = accuracy_variants(p)
    >>> v.keras_metric, round(v.keras_accuracy, 4), round(v.subset_accuracy, 4)
    ('categorical_accuracy', 1.0, 0.6667)
    >>> round(v.binary_accuracy, 4), round(v.hamming_loss, 4)
    (0.8333, 0.1667)
    """
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
