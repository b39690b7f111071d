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

from evalcore.counts import Counts, f_beta, ratio
from evalcore.curves import CurveSet
from evalcore.errors import InputError

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
    """A parsed objective; ``value`` is beta, R, P or F; costs are for ``cost``."""

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
    """The chosen threshold of one class and its counts; ``threshold`` is +inf for "predict
    none", None when no threshold meets the objective (``reason`` says why)."""

    class_name: str
    objective: str
    threshold: float | None
    counts: Counts | None
    reason: str | None = None

    def to_dict(self) -> dict:
        out = {"class": self.class_name, "objective": self.objective}
        finite = self.threshold is not None and np.isfinite(self.threshold)
        out["threshold"] = self.threshold if finite else None
        keys = ("precision", "recall", "f1", "fpr", "tp", "fp", "fn", "tn")
        row = self.counts.row(0) if self.counts is not None else {}
        out.update({key: row.get(key) for key in keys})
        out["reason"] = self.reason
        return out


def operating_point(
    curves: CurveSet, class_name: str | int, objective: str | Objective
) -> OperatingPoint:
    """Search the exact curve of one class for the threshold meeting ``objective``."""
    goal = objective if isinstance(objective, Objective) else Objective.parse(objective)
    c = class_name if isinstance(class_name, int) else curves.index(class_name)
    name = curves.names[c]
    summary = curves.classes[c]
    thresholds, tp, fp = curves.confusion_at_thresholds(c)
    thresholds = np.r_[np.inf, thresholds]
    tp, fp = np.r_[0, tp], np.r_[0, fp]
    fn, tn = summary.support - tp, summary.n_negatives - fp

    needs_both = goal.kind in ("youden", "fpr")
    if summary.support == 0 and goal.kind != "cost":
        return OperatingPoint(name, goal.text, None, None, f"{name!r} has no positive samples")
    if needs_both and summary.n_negatives == 0:
        return OperatingPoint(name, goal.text, None, None, f"{name!r} has no negative samples")

    if goal.kind == "fbeta":
        i = _first_best(f_beta(tp, fp, fn, goal.value))
    elif goal.kind == "youden":
        # TPR - FPR scaled by P * Nn: integers, so equal values tie exactly
        i = _first_best(tp * summary.n_negatives - fp * summary.support)
    elif goal.kind == "cost":
        i = _first_best(-(goal.value * fp + goal.cost_fn * fn))
    else:
        if goal.kind == "recall":
            ok, pick_lowest = ratio(tp, summary.support) >= goal.value, False
        elif goal.kind == "precision":
            ok, pick_lowest = ratio(tp, tp + fp) >= goal.value, True
        else:
            ok, pick_lowest = ratio(fp, summary.n_negatives) <= goal.value, True
        hits = np.flatnonzero(ok)
        if hits.size == 0:
            return OperatingPoint(
                name, goal.text, None, None, f"no threshold of {name!r} reaches {goal.text}"
            )
        i = int(hits[-1] if pick_lowest else hits[0])
    counts = Counts((name,), tp[i : i + 1], fp[i : i + 1], fn[i : i + 1], tn[i : i + 1])
    reason = "predict none: no sample may be called positive" if i == 0 else None
    return OperatingPoint(name, goal.text, float(thresholds[i]), counts, reason)


def _first_best(values: np.ndarray) -> int:
    """Index of the maximum, undefined (NaN) values never chosen; first = highest threshold."""
    if values.dtype.kind == "f":
        values = np.where(np.isnan(values), -np.inf, values)
    return int(np.argmax(values))



@dataclass(frozen=True)
class Transfer:
    """Thresholds chosen on one split (``fit``) and applied to another (``apply``): the same
    threshold's counts on both, to show thresholds that over-fit."""

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
    A class without a threshold on ``fit`` keeps +inf (predicts none)."""
    if fit.names != apply.names:
        raise InputError(f"the two splits have different classes: {list(fit.names)} and "
                         f"{list(apply.names)}")
    goal = objective if isinstance(objective, Objective) else Objective.parse(objective)
    points = tuple(operating_point(fit, c, goal) for c in range(len(fit.names)))
    t = np.array([np.inf if p.threshold is None else p.threshold for p in points])
    return Transfer(goal.text, points, fit.counts_at(t), apply.counts_at(t))
