"""Thresholds that deploy: a versioned JSON file holding a :class:`~evalcore.decisions.Decision`,
and the functions that apply it to a model's raw outputs or to a file of scores.

A thresholds file records the decision (rule, class order, thresholds, priority order, weights
or cost matrix), the task, the score kind (with each threshold's logit where the scores were
sigmoid logits) and the metrics the decision gave on the data it was chosen on.
:func:`apply_thresholds` turns raw outputs into decisions with the same kernel that counted
the app's confusion matrix, so ``evalcore confusion --thresholds t.json`` reproduces it
exactly. Files of schema ``evalcore.thresholds/1`` (before priority, weighted and cost rules)
still load.

>>> import numpy as np
>>> from evalcore.decisions import Decision
>>> spec = ThresholdSpec(Decision.priority(("cat", "dog"), {"dog": 0.3}), "multiclass",
...                      "probability", None)
>>> parse_spec(spec.to_json().encode()) == spec
True
>>> apply_thresholds(np.array([[0.8, 0.2], [0.6, 0.4]]), spec).tolist()
['cat', 'dog']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evalcore.counts import as_json
from evalcore.decisions import ABSTAINED, Confusion, Decision, confusion, predict
from evalcore.errors import InputError
from evalcore.predictions import Predictions, logit

SCHEMA = "evalcore.thresholds/2"
OLD_SCHEMAS = ("evalcore.thresholds/1",)


@dataclass(frozen=True)
class ThresholdSpec:
    """A decision to deploy, with the scores it expects and what it gave where it was chosen.

    >>> import numpy as np
    >>> from evalcore.predictions import Predictions
    >>> p = Predictions.from_arrays([0, 1, 2], np.array([[.6, .3, .1], [.2, .5, .3], [.1, .2, .7]]),
    ...                             class_names=["cat", "dog", "eel"])
    >>> spec = ThresholdSpec(Decision.priority(p.class_names, {"eel": 0.25}), p.task, p.score_kind,
    ...                      p.conversion)
    >>> apply_thresholds(np.array([[.5, .2, .3], [.1, .8, .1]]), spec).tolist()
    ['eel', 'dog']
    >>> parse_spec(spec.to_json().encode()).decision == spec.decision
    True
    """

    decision: Decision
    task: str
    score_kind: str
    conversion: str | None
    metrics: dict = field(default_factory=dict, compare=False)
    data: dict = field(default_factory=dict, compare=False)

    @property
    def rule(self) -> str:
        return self.decision.rule

    @property
    def classes(self) -> tuple[str, ...]:
        return self.decision.classes

    def to_dict(self) -> dict:
        decision = self.decision.to_dict()
        if "thresholds" in decision:
            sigmoid = self.conversion == "sigmoid"
            decision["thresholds"] = {
                name: {"probability": as_json(t),
                       **({"logit": as_json(logit(t))} if sigmoid else {})}
                for name, t in decision["thresholds"].items()
            }
        return {
            "schema": SCHEMA,
            "task": self.task,
            "score_kind": self.score_kind,
            "conversion": self.conversion,
            "decision": decision,
            "metrics": self.metrics,
            "data": self.data,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    @classmethod
    def from_dict(cls, spec: dict, name: str = "thresholds spec") -> ThresholdSpec:
        schema = spec.get("schema") if isinstance(spec, dict) else type(spec).__name__
        if schema not in (SCHEMA, *OLD_SCHEMAS):
            raise InputError(f"{name}: expected schema {SCHEMA!r}, got {schema!r}")
        try:
            task, kind = str(spec["task"]), str(spec["score_kind"])
            conversion = spec.get("conversion")
            decision = spec["decision"] if schema == SCHEMA else {
                key: spec[key] for key in ("rule", "classes", "thresholds")}
        except (KeyError, TypeError) as error:
            raise InputError(f"{name}: malformed ({type(error).__name__}: {error})") from None
        if not isinstance(decision, dict):
            raise InputError(f"{name}: malformed (the decision must be an object)")
        if decision.get("rule") == "abstain" and isinstance(decision.get("thresholds"), dict):
            values = {str(v.get("probability") if isinstance(v, dict) else v)
                      for v in decision["thresholds"].values()}
            if len(values) > 1:
                raise InputError(f"{name}: the abstain rule takes one threshold, got {len(values)}")
        return cls(Decision.from_dict(decision, name), task, kind, conversion,
                   spec.get("metrics") or {}, spec.get("data") or {})

    def check(self, predictions: Predictions) -> Decision:
        """The decision, after checking that ``predictions`` has its classes and task."""
        p = predictions
        if tuple(p.class_names) != self.classes:
            raise InputError(f"the thresholds spec is for classes {list(self.classes)}, the "
                             f"data has {list(p.class_names)}")
        return self.decision.check(p)


def spec_from_confusion(predictions: Predictions, decision: Confusion, data: dict | None = None,
                        ) -> ThresholdSpec:
    """The spec of a counted decision, with the metrics it gave on ``predictions``.

    >>> p = Predictions.from_arrays([0, 1, 2, 1], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1]]),
    ...     class_names=["cat", "dog", "eel"])
    >>> spec = spec_from_confusion(p, confusion(p, Decision.argmax(p.class_names)),
    ...                            data={"file": "val.csv"})
    >>> spec.rule, spec.metrics["accuracy"], spec.metrics["n_samples"], spec.data
    ('argmax', 0.75, 4, {'file': 'val.csv'})
    """
    p = predictions
    metrics = {
        "n_samples": p.n_samples,
        "accuracy": decision.accuracy,
        "coverage": decision.coverage,
        "per_class": decision.counts.to_dict(),
    }
    return ThresholdSpec(decision.decision, p.task, p.score_kind, p.conversion, metrics,
                         data or {})


def load_spec(path: str | Path) -> ThresholdSpec:
    """A thresholds file (``evalcore threshold --save``, the app's download) as a
    :class:`ThresholdSpec`; InputError in one line for a file that is not one
    (:func:`parse_spec` reads the bytes).

    >>> import tempfile
    >>> spec = ThresholdSpec(Decision.abstain(("cat", "dog"), 0.7), "multiclass",
    ...                      "probability", None)
    >>> path = tempfile.mkdtemp() + "/thresholds.json"
    >>> save_spec(spec, path)
    >>> load_spec(path).decision == spec.decision
    True
    >>> load_spec(tempfile.mkdtemp() + "/none.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    evalcore.errors.InputError: ...: cannot read (No such file or directory)
    """
    path = Path(path)
    try:
        return parse_spec(path.read_bytes(), str(path))
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from None


def parse_spec(data: bytes, name: str = "thresholds spec") -> ThresholdSpec:
    """A thresholds file's bytes as a :class:`ThresholdSpec` (InputError if not one).

    >>> spec = ThresholdSpec(Decision.abstain(("cat", "dog"), 0.7), "multiclass",
    ...                      "probability", None)
    >>> parse_spec(spec.to_json().encode(), "t.json").rule
    'abstain'
    >>> parse_spec(b"{", "t.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    evalcore.errors.InputError: t.json: not JSON (Expecting property name...)
    """
    try:
        return ThresholdSpec.from_dict(json.loads(data), name)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{name}: not JSON ({error})") from None


def save_spec(spec: ThresholdSpec, path: str | Path) -> None:
    """Write ``spec`` to ``path`` as JSON (InputError in one line if it cannot).

    >>> import tempfile
    >>> spec = ThresholdSpec(Decision.abstain(("cat", "dog"), 0.7), "multiclass",
    ...                      "probability", None)
    >>> path = tempfile.mkdtemp() + "/thresholds.json"
    >>> save_spec(spec, path)
    >>> load_spec(path) == spec
    True
    """
    try:
        Path(path).write_text(spec.to_json())
    except OSError as error:
        raise InputError(f"{path}: cannot write ({error.strerror or error})") from None


def spec_confusion(predictions: Predictions, spec: ThresholdSpec) -> Confusion:
    """The confusion matrix the spec's decision gives on ``predictions`` (same class order).

    >>> p = Predictions.from_arrays([0, 1, 2, 1], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1]]),
    ...     class_names=["cat", "dog", "eel"])
    >>> spec = ThresholdSpec(Decision.argmax(p.class_names), p.task, p.score_kind, p.conversion)
    >>> spec_confusion(p, spec).accuracy
    0.75
    """
    return confusion(predictions, spec.check(predictions))


def apply_thresholds(scores, spec: ThresholdSpec, *, score_kind: str | None = None) -> np.ndarray:
    """A model's raw outputs (N, K), in the spec's class order -> decisions: class names
    ("abstained" where the rule abstains), or a bool (N, K) label matrix for multilabel.
    Logits are converted exactly as evalcore converted them when the thresholds were chosen
    (``score_kind`` overrides the spec's, e.g. for columns that say they are probabilities).

    >>> spec = ThresholdSpec(Decision.abstain(("cat", "dog"), 0.7), "multiclass",
    ...                      "probability", None)
    >>> apply_thresholds(np.array([[0.9, 0.1], [0.6, 0.4]]), spec).tolist()
    ['cat', 'abstained']
    """
    scores = np.asarray(scores)
    n = scores.shape[0] if scores.ndim else 0
    k = len(spec.classes)
    y = np.zeros((n, k), dtype=bool) if spec.task == "multilabel" else np.zeros(n, dtype=np.int64)
    p = Predictions.from_arrays(y, scores, class_names=spec.classes, task=spec.task,
                                score_kind=score_kind or spec.score_kind)
    decided = predict(p, spec.decision)
    if spec.rule == "multilabel":
        return decided
    return np.asarray((*spec.classes, ABSTAINED), dtype=object)[decided]


def apply_file(source, spec: ThresholdSpec, output: str | Path | None = None, *,
               max_bytes: int | None = None) -> pd.DataFrame:
    """Apply the spec to a file of scores (labels not needed): one row per sample with its id
    and true label when the file has them, the predicted label and the rule; written to
    ``output`` (.csv or .parquet) when given.

    >>> from evalcore.io import NamedBytes
    >>> spec = ThresholdSpec(Decision.abstain(("cat", "dog"), 0.7), "multiclass",
    ...                      "probability", None)
    >>> new = NamedBytes("new.csv", b"id,prob_cat,prob_dog\\na,0.9,0.1\\nb,0.6,0.4\\n")
    >>> apply_file(new, spec)
      id  predicted     rule
    0  a        cat  abstain
    1  b  abstained  abstain
    """
    from evalcore.io import read_scores, source_name, write_table

    table = read_scores(source, spec.decision.scored, max_bytes=max_bytes)
    try:
        decided = apply_thresholds(table.scores, spec, score_kind=table.score_kind)
    except InputError as error:
        raise InputError(f"{source_name(source)}: {error}") from None
    frame = _decision_table(table.ids, table.labels, _label_text(spec.classes, decided),
                            spec.rule)
    if output is not None:
        write_table(frame, output)
    return frame


def predictions_table(predictions: Predictions, decision: Decision, *,
                      ids: np.ndarray | None = None) -> pd.DataFrame:
    """One row per sample of ``predictions``: id (when known), true and predicted label
    (multilabel: label sets joined with ``|``), and the rule, for a per-row download.

    >>> p = Predictions.from_arrays([0, 1, 1], np.array([[.8, .2], [.6, .4], [.1, .9]]),
    ...                             class_names=["cat", "dog"])
    >>> predictions_table(p, Decision.abstain(p.class_names, 0.7), ids=np.array(["a", "b", "c"]))
      id true  predicted     rule
    0  a  cat        cat  abstain
    1  b  dog  abstained  abstain
    2  c  dog        dog  abstain
    """
    p = predictions
    names = np.asarray((*p.class_names, ABSTAINED), dtype=object)
    truth = p.y_true if p.task == "multilabel" else names[p.y_true]
    return _decision_table(ids, _label_text(p.class_names, truth),
                           _label_text(p.class_names, names[predict(p, decision)]
                                       if p.task != "multilabel" else predict(p, decision)),
                           decision.rule)


def _decision_table(ids, truth, predicted, rule: str) -> pd.DataFrame:
    columns: dict[str, object] = {}
    if ids is not None:
        columns["id"] = ids
    if truth is not None:
        columns["true"] = truth
    columns["predicted"] = predicted
    columns["rule"] = rule
    return pd.DataFrame(columns)


def _label_text(classes: tuple[str, ...], values: np.ndarray | None) -> np.ndarray | None:
    """Labels as text; a multilabel bool matrix as label sets joined with ``|``."""
    if values is None or values.ndim != 2:
        return values
    names = np.asarray(classes, dtype=object)
    return np.array(["|".join(names[row]) for row in values], dtype=object)
