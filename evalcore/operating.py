"""Operating points: the threshold of one class that meets an objective, on the exact curve.

Objectives (text form, as the CLI and app take them):

- ``f1``, ``f0.5``, ``f2``, ``f<beta>``  maximise F-beta
- ``youden``                            maximise TPR - FPR
- ``recall>=R``                         the highest threshold with recall >= R (bounds type II)
- ``precision>=P``                      the lowest threshold with precision >= P
- ``fpr<=F``                            the lowest threshold with FPR <= F (bounds type I)
- ``cost:C_FP,C_FN``                    minimise C_FP * FP + C_FN * FN

Candidates are every distinct score (the threshold is always a real score, so the counts
reproduce with ``CurveSet.counts_at``) plus "predict none" (+inf). Ties between candidates go
to the highest threshold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from evalcore.counts import Counts, f_beta, fmt, ratio
from evalcore.curves import CurveSet
from evalcore.decisions import Decision
from evalcore.predictions import class_index
from evalcore.errors import InputError
from evalcore.predictions import Predictions

#: what a threshold found on binned statistics is
BINNED_NOTE = ("the candidates were bin edges (more distinct scores than the budget): the "
               "counts at the chosen edge are exact; a threshold between edges may do better")
OBJECTIVE_HELP = "f1, f0.5, f2, youden, recall>=R, precision>=P, fpr<=F or cost:C_FP,C_FN"
_PATTERNS = {
    "fbeta": re.compile(r"f(?P<a>[0-9.]+)"),
    "youden": re.compile(r"youden"),
    "recall": re.compile(r"recall>=(?P<a>[0-9.]+)"),
    "precision": re.compile(r"precision>=(?P<a>[0-9.]+)"),
    "fpr": re.compile(r"fpr<=(?P<a>[0-9.]+)"),
    "cost": re.compile(r"cost:(?P<a>[0-9.]+),(?P<b>[0-9.]+)"),
}


@dataclass(frozen=True)
class Objective:
    """A parsed objective; ``value`` is beta, R, P or F; costs are for ``cost``.

    >>> Objective.parse("recall>=0.9")
    Objective(kind='recall', value=0.9, cost_fn=1.0, text='recall>=0.9')
    >>> Objective.parse("cost:1,5").value, Objective.parse("cost:1,5").cost_fn
    (1.0, 5.0)
    """

    kind: str
    value: float = 1.0
    cost_fn: float = 1.0
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> Objective:
        spec = text.strip().lower().replace(" ", "")
        for kind, pattern in _PATTERNS.items():
            match = pattern.fullmatch(spec)
            if match:
                try:
                    values = [float(v) for v in match.groupdict().values()]
                except ValueError:
                    break
                objective = cls(kind, *values, text=spec)
                objective._validate()
                return objective
        raise InputError(f"objective must be one of {OBJECTIVE_HELP}; got {text!r}")

    def _validate(self) -> None:
        if self.kind == "fbeta" and not self.value > 0:
            raise InputError(f"expected beta > 0 in {self.text!r}")
        if self.kind in ("recall", "precision", "fpr") and not 0 <= self.value <= 1:
            raise InputError(f"expected a rate between 0 and 1 in {self.text!r}")


@dataclass(frozen=True)
class OperatingPoint:
    """The chosen threshold (or weight) of one class and its counts.

    ``rule`` None: counted on the one-vs-rest curve of the class; else the counts are the
    decision's own (its K x K matrix) with ``decision`` the decision at the chosen value.
    ``threshold`` is +inf for "predict none" on a curve; None when no value meets the
    objective: ``feasible`` is False and ``reason`` says why (and which rule would).

    >>> from evalcore import compute_curves
    >>> curves = compute_curves([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> point = operating_point(curves, "1", "recall>=1")
    >>> point.threshold, point.feasible, point.counts.row(0)["precision"]
    (0.35, True, 0.75)
    >>> {k: point.to_dict()[k] for k in ("class", "counted", "tp", "fp")}
    {'class': '1', 'counted': 'one-vs-rest curve', 'tp': 3, 'fp': 1}
    >>> operating_point(curves, "1", "fpr<=0").threshold
    0.8
    """

    class_name: str
    objective: str
    threshold: float | None
    counts: Counts | None
    reason: str | None = None
    rule: str | None = None
    parameter: str = "threshold"
    decision: Decision | None = None
    binned: bool = False  # candidates were bin edges (the curve's statistics were binned)

    @property
    def feasible(self) -> bool:
        return self.counts is not None

    def to_dict(self) -> dict:
        out = {"class": self.class_name, "objective": self.objective, "rule": self.rule,
               "counted": "one-vs-rest curve" if self.rule is None else f"decision ({self.rule})"}
        finite = self.threshold is not None and np.isfinite(self.threshold)
        value = self.threshold if finite else None
        out["threshold"] = value if self.parameter == "threshold" else None
        if self.parameter == "weight":
            out["weight"] = value
        keys = ("precision", "recall", "f1", "fpr", "tp", "fp", "fn", "tn")
        row = self.counts.row(0) if self.counts is not None else {}
        out.update({key: row.get(key) for key in keys})
        out["feasible"] = self.feasible
        out["reason"] = self.reason
        if self.binned:
            out["binned"] = BINNED_NOTE
        if self.decision is not None:
            out["decision"] = self.decision.to_dict()
        return out


def operating_point(
    source: CurveSet | Predictions, class_name: str | int, objective: str | Objective, *,
    decision: Decision | None = None,
) -> OperatingPoint:
    """The threshold of one class meeting ``objective``.

    Without ``decision``: searched on the exact one-vs-rest curve of ``source`` (a CurveSet).
    With one: the class' threshold (or weight) under that decision, the other classes held
    as they are, meeting the objective for the decision's own counts of the class; exact,
    searched over every value where the decision can change (:func:`evalcore.sweeps.sweep`);
    ``source`` must then be the Predictions.

    >>> import numpy as np
    >>> from evalcore.predictions import Predictions
    >>> from evalcore.decisions import Decision, confusion
    >>> p = Predictions.from_arrays([0, 1, 1, 2], np.array(
    ...     [[0.5, 0.4, 0.1], [0.3, 0.3, 0.4], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7]]))
    >>> point = operating_point(p, "1", "recall>=1", decision=Decision.priority(p.class_names, {}))
    >>> point.threshold, point.counts.recall.tolist()
    (0.3, [1.0])
    >>> confusion(p, point.decision).counts.recall[1]
    np.float64(1.0)
    """
    goal = objective if isinstance(objective, Objective) else Objective.parse(objective)
    if decision is not None:
        if not isinstance(source, Predictions):
            raise InputError("an operating point under a decision needs the Predictions "
                             "(rows), not a CurveSet")
        return _decision_point(source, class_name, goal, decision)
    if isinstance(source, Predictions):
        from evalcore.curves import compute_curves

        source = compute_curves(source)
    curves = source
    c = curves.index(class_name)
    name = curves.names[c]
    summary = curves.classes[c]
    thresholds, tp, fp = curves.confusion_at_thresholds(c)
    thresholds = np.r_[np.inf, thresholds]
    tp, fp = np.r_[0, tp], np.r_[0, fp]
    binned = not curves.stats[c].exact
    i, reason = choose(goal, name, tp, fp, summary.support, summary.n_negatives)
    if i is None:
        return OperatingPoint(name, goal.text, None, None, reason, binned=binned)
    fn, tn = summary.support - tp, summary.n_negatives - fp
    counts = Counts((name,), tp[i : i + 1], fp[i : i + 1], fn[i : i + 1], tn[i : i + 1])
    reason = "predict none: no sample may be called positive" if i == 0 else None
    return OperatingPoint(name, goal.text, float(thresholds[i]), counts, reason, binned=binned)


def choose(goal: Objective, name: str, tp: np.ndarray, fp: np.ndarray, support: int,
           negatives: int) -> tuple[int | None, str | None]:
    """The step (index into ``tp``/``fp``, step 0 = nothing called ``name``) meeting
    ``goal``, or None with the reason. Ties go to the first step (the highest threshold).

    >>> import numpy as np
    >>> tp, fp = np.array([0, 1, 2, 2, 3]), np.array([0, 0, 0, 1, 1])  # step 0: predict none
    >>> choose(Objective.parse("f1"), "1", tp, fp, support=3, negatives=2)
    (4, None)
    >>> choose(Objective.parse("precision>=1"), "1", tp, fp, support=3, negatives=2)
    (2, None)
    >>> choose(Objective.parse("recall>=1"), "1", np.array([0, 0]), np.array([0, 2]), 0, 2)
    (None, "'1' has no positive samples")
    """
    fn = support - tp
    if support == 0 and goal.kind != "cost":
        return None, f"{name!r} has no positive samples"
    if goal.kind in ("youden", "fpr") and negatives == 0:
        return None, f"{name!r} has no negative samples"
    if goal.kind == "fbeta":
        return _first_best(f_beta(tp, fp, fn, goal.value)), None
    if goal.kind == "youden":
        # TPR - FPR scaled by P * Nn: integers, so equal values tie exactly
        return _first_best(tp * negatives - fp * support), None
    if goal.kind == "cost":
        return _first_best(-(goal.value * fp + goal.cost_fn * fn)), None
    if goal.kind == "recall":
        ok, pick_lowest = ratio(tp, support) >= goal.value, False
    elif goal.kind == "precision":
        ok, pick_lowest = ratio(tp, tp + fp) >= goal.value, True
    else:
        ok, pick_lowest = ratio(fp, negatives) <= goal.value, True
    hits = np.flatnonzero(ok)
    if hits.size == 0:
        return None, f"no threshold of {name!r} reaches {goal.text}"
    return int(hits[-1] if pick_lowest else hits[0]), None


def _decision_point(p: Predictions, class_name, goal: Objective, decision: Decision,
                    suggest: bool = True) -> OperatingPoint:
    from evalcore.sweeps import sweep

    d = decision.check(p)
    c = class_index(d.scored, class_name)
    name = d.scored[c]
    k = c + 1 if p.task == "binary" else c  # the class' row in the matrix
    if d.rule in ("argmax", "cost"):
        why = (f"the {d.rule} rule has no threshold of {name!r} to set"
               + (_suggestion(p, d, c, goal) if suggest else ""))
        return OperatingPoint(name, goal.text, None, None, why, d.rule)
    s = sweep(p, d, c)
    tp, fp, fn, tn = s.class_counts(1 if p.task == "multilabel" else k)
    support = int(tp[0] + fn[0])
    i, reason = choose(goal, name, tp, fp, support, s.n_samples - support)
    if i is None:
        if support:
            reason = _unreachable(goal, name, d, tp, fp, support, s.parameter)
            reason += _suggestion(p, d, c, goal) if suggest else ""
        return OperatingPoint(name, goal.text, None, None, reason, d.rule, s.parameter)
    counts = Counts((name,), tp[i : i + 1], fp[i : i + 1], fn[i : i + 1], tn[i : i + 1])
    note = None
    if i == 0:
        note = (f"{name!r} is predicted only where the other classes' parameters put it"
                if s.parameter == "weight" else
                f"no sample clears the threshold of {name!r}")
    return OperatingPoint(name, goal.text, float(s.values[i]), counts, note, d.rule,
                          s.parameter, s.decision_at(i))


def _unreachable(goal: Objective, name: str, d: Decision, tp, fp, support: int,
                 parameter: str) -> str:
    """Why no value of the parameter meets the goal under this rule, with the best reached."""
    what = f"no {parameter} of {name!r} under the {d.rule} rule reaches {goal.text}"
    if goal.kind == "recall":
        most = int(tp.max())
        return (f"{what}: at most recall {most / support:.4f} ({support - most} of its {support} "
                "samples go to another class or are abstained whatever its "
                f"{parameter})")
    if goal.kind == "precision":
        best = np.nanmax(ratio(tp, tp + fp)) if (tp + fp).any() else float("nan")
        return f"{what}: at most precision {best:.4f}"
    return what


def _suggestion(p: Predictions, d: Decision, c: int, goal: Objective) -> str:
    """"; the priority rule reaches it ..." when putting the class first would, else ""."""
    if p.task != "multiclass" or (d.rule == "priority" and d.order[:1] == (c,)):
        return ""
    try:
        alternative = _decision_point(p, c, goal, Decision.priority(p.class_names, {}), False)
    except InputError:
        return ""
    if not alternative.feasible:
        return ""
    row = alternative.counts.row(0)
    return (f"; the priority rule ({p.class_names[c]!r} first, else argmax) reaches it at "
            f"threshold {alternative.threshold:.6g} (recall {row['recall']:.4f}, precision "
            f"{fmt(row['precision'])})")


def _first_best(values: np.ndarray) -> int:
    """Index of the maximum, undefined (NaN) values never chosen; first = highest threshold."""
    if values.dtype.kind == "f":
        values = np.where(np.isnan(values), -np.inf, values)
    return int(np.argmax(values))


@dataclass(frozen=True)
class Transfer:
    """Thresholds chosen on one split (``fit``) and applied to another (``apply``): the same
    threshold's counts on both, to show thresholds that over-fit.

    >>> from evalcore import compute_curves
    >>> fit = compute_curves([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> test = compute_curves([0, 1, 1, 0, 1, 0], [0.3, 0.6, 0.3, 0.5, 0.9, 0.1])
    >>> t = transfer_thresholds(fit, test, "f1")
    >>> row = t.to_dict()["per_class"]["1"]
    >>> row["threshold"], round(row["fit"]["f1"], 4), round(row["apply"]["f1"], 4)
    (0.35, 0.8571, 0.6667)
    """

    objective: str
    points: tuple[OperatingPoint, ...]  # per class, on the fit split
    fit: Counts  # the chosen thresholds on the fit split
    apply: Counts  # the same thresholds on the other split

    def to_dict(self) -> dict:
        out = {}
        for i, point in enumerate(self.points):
            out[point.class_name] = {
                "threshold": point.to_dict()["threshold"],
                "fit": self.fit.row(i),
                "apply": self.apply.row(i),
                "reason": point.reason,
            }
        return {"objective": self.objective, "per_class": out}


def transfer_thresholds(fit: CurveSet, apply: CurveSet, objective: str | Objective) -> Transfer:
    """Choose every class' threshold on ``fit`` by ``objective``; count it on both splits.
    A class without a threshold on ``fit`` keeps +inf (predicts none).

    >>> from evalcore import compute_curves
    >>> fit = compute_curves([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> test = compute_curves([0, 1, 1, 0, 1, 0], [0.3, 0.6, 0.3, 0.5, 0.9, 0.1])
    >>> t = transfer_thresholds(fit, test, "recall>=1")
    >>> t.points[0].threshold, t.fit.recall.tolist(), t.apply.recall.round(4).tolist()
    (0.35, [1.0], [0.6667])
    """
    if fit.names != apply.names:
        raise InputError(f"the two splits have different classes: {list(fit.names)} and "
                         f"{list(apply.names)}")
    goal = objective if isinstance(objective, Objective) else Objective.parse(objective)
    points = tuple(operating_point(fit, c, goal) for c in range(len(fit.names)))
    t = np.array([np.inf if p.threshold is None else p.threshold for p in points])
    return Transfer(goal.text, points, fit.counts_at(t), apply.counts_at(t))
