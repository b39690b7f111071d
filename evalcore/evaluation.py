"""The front door for Python users: :func:`evaluate` takes what a notebook holds (labels and
scores, a DataFrame in the file layout, or a path) and returns an :class:`Evaluation`, whose
methods give every figure of the CLI and the app, each computed once.

>>> import numpy as np
>>> y = [0, 1, 2, 1, 0]
>>> s = np.array([[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1], [.3, .4, .3]])
>>> ev = evaluate(y, s, class_names=["cat", "dog", "eel"])
>>> ev.roc_auc.macro, ev.curve("dog").roc_auc    # roc_auc_score(y, s, multi_class="ovr")
(0.9166666666666666, 0.9166666666666666)
>>> ev.confusion("argmax").accuracy
0.6
>>> ev.summary().loc["macro", ["roc_auc", "recall"]].round(4).tolist()
[0.9167, 0.6667]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from evalcore import io
from evalcore.calibration import Calibration, calibration
from evalcore.counts import MISSING, fmt
from evalcore.curves import Averages, ClassSummary, CurveSet, compute_curves
from evalcore.decisions import Confusion, Decision, as_decision, confusion
from evalcore.errors import InputError
from evalcore.operating import OperatingPoint, operating_point
from evalcore.predictions import Predictions

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from evalcore.stats import SummaryIntervals

def evaluate(
    y_true, y_score=None, *, class_names: Sequence[str] | None = None, task: str | None = None,
    score_kind: str | None = None, split: str | None = None, model: str | None = None,
) -> Evaluation:
    """Evaluate a classifier's scores: one call, then every figure.

    Parameters
    ----------
    y_true : array-like, pandas.DataFrame or path
        The true labels (class indices, names, 0/1, or an (N, K) 0/1 matrix for multilabel),
        with ``y_score``. Without ``y_score``: a DataFrame in the file layout (a label column
        and ``prob_<class>`` / ``logit_<class>`` score columns, optional ``split`` and
        ``model``) or the path of a prediction file (CSV, Parquet, NPZ, ...), detected as the
        CLI detects it.
    y_score : array-like, optional
        (N,) or (N, K) scores: probabilities or logits (detected, or say ``score_kind``).
    class_names, task, score_kind
        Override what is detected (as ``--classes``, ``--task``, ``--score-kind``).
    split, model
        For a DataFrame or a file: which rows (default: the ``test`` split when there is one,
        and the first model).

    Returns
    -------
    Evaluation

    Examples
    --------
    >>> ev = evaluate([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> ev.roc_auc.macro, ev.task
    (0.75, 'binary')
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"label": ["a", "b", "b"], "prob_a": [.9, .2, .4], "prob_b": [.1, .8, .6]})
    >>> evaluate(frame).summary().loc["b", "roc_auc"]
    np.float64(1.0)
    """
    mapping = io.Mapping(class_names=tuple(map(str, class_names)) if class_names is not None
                         else None, task=task, score_kind=score_kind)
    if y_score is None:
        if isinstance(y_true, pd.DataFrame):
            loaded = io.table_predictions(y_true, mapping, name="DataFrame", fmt="parquet")
        elif isinstance(y_true, (str, os.PathLike)):
            loaded = io.load(y_true, mapping)
        else:
            raise InputError("evaluate(y_true, y_score): give the scores, or a DataFrame in "
                             "the file layout, or a path, as the first argument")
        return Evaluation(loaded.select(split=split, model=model))
    if split is not None or model is not None:
        raise InputError("split and model choose rows of a DataFrame or a file, not of arrays")
    return Evaluation(Predictions.from_arrays(y_true, y_score, class_names=class_names,
                                              task=task, score_kind=score_kind))


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Every figure of one set of predictions. Curves are computed once, on first use; a
    class is named by name or index everywhere.

    >>> ev = evaluate([0, 1, 1, 0], [0.2, 0.9, 0.6, 0.7])
    >>> ev.operating_point(0, "recall>=1").threshold
    0.6
    """

    predictions: Predictions

    @property
    def task(self) -> str:
        return self.predictions.task

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.predictions.class_names

    @cached_property
    def curves(self) -> CurveSet:
        """The exact per-class curves (:func:`evalcore.curves.compute_curves`)."""
        return compute_curves(self.predictions)

    @property
    def roc_auc(self) -> Averages:
        """ROC AUC averages: ``.micro``, ``.macro``, ``.weighted`` (and Hand & Till's
        ``.ovo_macro`` for multiclass)."""
        return self.curves.roc_auc

    @property
    def average_precision(self) -> Averages:
        return self.curves.average_precision

    def curve(self, name: str | int) -> ClassSummary:
        """One class' summary (ROC AUC, AP, support, prevalence), by name or index; its exact
        curves: ``ev.curves.roc_curve(name)``, ``ev.curves.precision_recall_curve(name)``."""
        return self.curves.classes[self.curves.index(name)]

    def decision(self, rule: str | Decision | None = None, thresholds=0.5) -> Decision:
        """The decision ``rule`` (default: argmax for multiclass, 0.5 otherwise)."""
        return as_decision(self.predictions, rule, thresholds)

    def confusion(self, rule: str | Decision | None = None, thresholds=0.5) -> Confusion:
        """The confusion matrix, accuracy and per-class counts of a decision rule
        (``"argmax"``, ``"abstain"``, ``"per-class"``, ... or a :class:`Decision`)."""
        return confusion(self.predictions, self.decision(rule, thresholds))

    def operating_point(self, name: str | int, objective: str,
                        decision: Decision | None = None) -> OperatingPoint:
        """The threshold of one class meeting ``objective`` (``"recall>=0.95"``,
        ``"f1"``, ``"fpr<=0.01"``, ...): on its one-vs-rest curve, or under ``decision``
        with the other classes held."""
        if decision is None:
            return operating_point(self.curves, name, objective)
        return operating_point(self.predictions, name, objective, decision=decision)

    def summary(self) -> pd.DataFrame:
        """One row per class (binary: the positive class) and, with several, the micro, macro
        and weighted averages: support, ROC AUC, AP, and precision, recall, F1 of the default
        decision (argmax for multiclass, 0.5 otherwise)."""
        counts = self.confusion().counts
        rows = {}
        for s in self.curves.classes:
            row = counts.row(counts.names.index(s.name))
            rows[s.name] = {"support": s.support, "prevalence": s.prevalence,
                            "roc_auc": s.roc_auc, "average_precision": s.average_precision,
                            "precision": row["precision"], "recall": row["recall"],
                            "f1": row["f1"]}
        support = sum(s.support for s in self.curves.classes)
        averages = counts.averages().items() if len(self.curves.names) > 1 else ()
        for avg, (precision, recall, f1) in averages:
            rows[avg] = {"support": support, "prevalence": np.nan,
                         "roc_auc": getattr(self.roc_auc, avg),
                         "average_precision": getattr(self.average_precision, avg),
                         "precision": precision, "recall": recall, "f1": f1}
        frame = pd.DataFrame.from_dict(rows, orient="index").astype(
            {c: float for c in ("prevalence", "roc_auc", "average_precision", "precision",
                                "recall", "f1")})
        frame.index.name = "class"
        return frame

    def intervals(self, *, level: float = 0.95, n_resamples: int = 1000,
                  random_state: int | None = 0) -> SummaryIntervals:
        """Confidence intervals: DeLong for each ROC AUC, a stratified bootstrap for AP, the
        averages and accuracy (as ``evalcore summary --ci``; ``.to_dict()`` its JSON)."""
        from evalcore.stats import summary_intervals

        return summary_intervals(self.predictions, self.curves, level=level,
                                 n_resamples=n_resamples, random_state=random_state)

    def calibration(self, *, bins: int = 10, strategy: str = "uniform") -> Calibration:
        """Reliability bins per class and of the top label, ECE, MCE and Brier score."""
        return calibration(self.predictions, bins=bins, strategy=strategy)

    def plot_roc(self, **options) -> go.Figure:
        """The per-class ROC curves with the micro and macro averages (a plotly figure;
        options of :func:`evalcore.figures.roc_figure`)."""
        from evalcore import figures

        return figures.roc_figure(self.curves, **options)

    def plot_pr(self, **options) -> go.Figure:
        """The per-class precision-recall curves (:func:`evalcore.figures.pr_figure`)."""
        from evalcore import figures

        return figures.pr_figure(self.curves, **options)

    def plot_confusion(self, rule: str | Decision | None = None, thresholds=0.5, *,
                       normalize: str | None = None) -> go.Figure:
        """The confusion matrix of a decision as an annotated heatmap."""
        from evalcore import figures

        c = self.confusion(rule, thresholds)
        return figures.confusion_figure(c.matrix, c.labels, c.predicted_labels,
                                        normalize=normalize)

    def report(self, path: str | os.PathLike, rule: str | Decision | None = None,
               thresholds=0.5, *, intervals: bool = False) -> int:
        """Write the self-contained HTML report of a decision; returns its size in bytes."""
        from evalcore import report

        provenance = {"file": "evalcore.evaluate", "sha256": None, "split": None,
                      "model": None, "engine": "numpy"}
        return report.write_report(
            path, self.predictions, self.curves, self.confusion(rule, thresholds),
            provenance=provenance, intervals=self.intervals() if intervals else None,
            calibration=self.calibration())

    def to_dict(self) -> dict:
        return self.curves.to_dict()

    def _repr_html_(self) -> str:
        p = self.predictions
        head = (f"<p><b>evalcore</b>: {p.task}, {len(p.class_names)} classes, "
                f"{p.n_samples:,} samples, {p.score_kind} scores</p>")
        return head + self.summary().to_html(float_format=lambda v: f"{v:.4f}", na_rep=MISSING)

    def __repr__(self) -> str:
        p = self.predictions
        return (f"Evaluation({p.task}, {len(p.class_names)} classes, {p.n_samples} samples, "
                f"macro ROC AUC {fmt(self.roc_auc.macro)})")
