"""Thresholds that deploy: a versioned JSON spec of a decision, and the function that applies it.

A spec records the decision rule, the class order, the score kind (with each threshold's logit
where the scores were logits) and the metrics the thresholds gave on the data they were chosen
on. :func:`apply_thresholds` turns a model's raw outputs into decisions with the same kernel
that counted the app's confusion matrix, so ``evalcore confusion --thresholds spec.json``
reproduces it exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evalcore.counts import as_json
from evalcore.decisions import ABSTAINED, RULES, Confusion, confusion, predict
from evalcore.errors import InputError
from evalcore.predictions import Predictions, logit

SCHEMA = "evalcore.thresholds/1"


@dataclass(frozen=True)
class ThresholdSpec:
    """A decision to deploy: ``thresholds`` maps each scored class to its probability-scale
    threshold (binary: the positive class; abstain: every class holds the one threshold)."""

    rule: str
    task: str
    classes: tuple[str, ...]
    score_kind: str
    conversion: str | None
    thresholds: dict[str, float]
    metrics: dict = field(default_factory=dict, compare=False)
    data: dict = field(default_factory=dict, compare=False)

    def threshold_array(self, scored: tuple[str, ...]) -> np.ndarray | float:
        """The thresholds in the order of ``scored`` columns (one value for abstain)."""
        missing = [c for c in scored if c not in self.thresholds]
        if missing:
            raise InputError(f"thresholds spec has no threshold for class {missing[0]!r}")
        values = np.array([self.thresholds[c] for c in scored], dtype=np.float64)
        return float(values[0]) if self.rule == "abstain" else values

    def to_dict(self) -> dict:
        sigmoid = self.conversion == "sigmoid"
        return {
            "schema": SCHEMA,
            "rule": self.rule,
            "task": self.task,
            "classes": list(self.classes),
            "score_kind": self.score_kind,
            "conversion": self.conversion,
            "thresholds": {
                name: {"probability": as_json(t), **({"logit": as_json(logit(t))} if sigmoid else {})}
                for name, t in self.thresholds.items()
            },
            "metrics": self.metrics,
            "data": self.data,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    @classmethod
    def from_dict(cls, spec: dict, name: str = "thresholds spec") -> ThresholdSpec:
        if not isinstance(spec, dict) or spec.get("schema") != SCHEMA:
            found = spec.get("schema") if isinstance(spec, dict) else type(spec).__name__
            raise InputError(f"{name}: expected schema {SCHEMA!r}, got {found!r}")
        try:
            rule, task = str(spec["rule"]), str(spec["task"])
            classes = tuple(str(c) for c in spec["classes"])
            thresholds = {str(k): float(v["probability"]) for k, v in spec["thresholds"].items()}
            kind, conversion = str(spec["score_kind"]), spec.get("conversion")
        except (KeyError, TypeError, ValueError) as error:
            raise InputError(f"{name}: malformed ({type(error).__name__}: {error})") from None
        if rule not in RULES:
            raise InputError(f"{name}: rule must be one of {', '.join(RULES)}, got {rule!r}")
        if not all(np.isfinite(t) for t in thresholds.values()):
            raise InputError(f"{name}: every threshold must be a finite number")
        return cls(rule, task, classes, kind, conversion, thresholds,
                   spec.get("metrics") or {}, spec.get("data") or {})


def spec_from_confusion(predictions: Predictions, decision: Confusion, data: dict | None = None,
                        ) -> ThresholdSpec:
    """The spec of a decision, with the metrics it gave on ``predictions``."""
    p = predictions
    thresholds = {name: float(t) for name, t in decision.thresholds.items()}
    if decision.rule == "argmax":
        thresholds = {}
    metrics = {
        "n_samples": p.n_samples,
        "accuracy": decision.accuracy,
        "coverage": decision.coverage,
        "per_class": decision.counts.to_dict(),
    }
    return ThresholdSpec(decision.rule, p.task, p.class_names, p.score_kind, p.conversion,
                         thresholds, metrics, data or {})


def load_spec(path: str | Path) -> ThresholdSpec:
    path = Path(path)
    try:
        return parse_spec(path.read_bytes(), str(path))
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from None


def parse_spec(data: bytes, name: str = "thresholds spec") -> ThresholdSpec:
    try:
        return ThresholdSpec.from_dict(json.loads(data), name)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{name}: not JSON ({error})") from None


def spec_confusion(predictions: Predictions, spec: ThresholdSpec) -> Confusion:
    """The confusion matrix the spec's decision gives on ``predictions`` (same class order)."""
    _check_classes(predictions.class_names, spec)
    if spec.rule == "argmax":
        return confusion(predictions, "argmax")
    return confusion(predictions, spec.rule, spec.threshold_array(predictions.curve_names))


def apply_thresholds(scores, spec: ThresholdSpec) -> np.ndarray:
    """A model's raw outputs (N, K), in the spec's class order and score kind -> decisions:
    class names ("abstained" where the rule abstains), or a bool (N, K) label matrix for
    multilabel. Logits are converted exactly as evalcore converted them when the thresholds
    were chosen."""
    scores = np.asarray(scores)
    n = scores.shape[0] if scores.ndim else 0
    k = len(spec.classes)
    if spec.task == "multilabel":
        y = np.zeros((n, k), dtype=bool)
    else:
        y = np.zeros(n, dtype=np.int64)
    p = Predictions.from_arrays(y, scores, class_names=spec.classes, task=spec.task,
                                score_kind=spec.score_kind)
    if spec.rule == "argmax":
        return np.asarray(spec.classes, dtype=object)[predict(p, "argmax")]
    decided = predict(p, spec.rule, spec.threshold_array(p.curve_names))
    if spec.rule == "multilabel":
        return decided
    labels = np.asarray((*spec.classes, ABSTAINED), dtype=object)
    return labels[decided]


def _check_classes(classes: tuple[str, ...], spec: ThresholdSpec) -> None:
    if tuple(classes) != spec.classes:
        raise InputError(
            f"the thresholds spec is for classes {list(spec.classes)}, the data has "
            f"{list(classes)}"
        )
