"""Exact one-vs-rest ROC and precision-recall curves, computed once and then only queried.

The sufficient statistics of class c are its positives' and negatives' scores, each sorted
ascending. Everything follows from them by binary search, never by a rescan of the data:

- counts at a threshold t: TP = P - #(pos < t), FP = Nn - #(neg < t)          O(log N)
- ROC AUC (trapezoidal, ties count one half) = Mann-Whitney U / (P Nn),
  exact in integers                                                            O(P log N)
- average precision (the step-wise sum of scikit-learn) over the distinct
  positive scores                                                              O(P log N)
- the full curve at every distinct threshold, on demand (a two-run merge)      O(N)
- a plot curve of at most M points on real thresholds                          O(M log N)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evalcore.counts import Counts, ratio
from evalcore.errors import InputError
from evalcore.predictions import Predictions, threshold_in_dtype

DEFAULT_PLOT_POINTS = 2000
MACRO_GRID_POINTS = 1001


@dataclass(frozen=True)
class ClassSummary:
    """Ranking metrics of one one-vs-rest curve; None with a reason where undefined."""

    name: str
    support: int
    n_negatives: int
    prevalence: float
    roc_auc: float | None
    average_precision: float | None
    reason: str | None = None

    def to_dict(self) -> dict:
        return {
            "roc_auc": self.roc_auc,
            "average_precision": self.average_precision,
            "prevalence": self.prevalence,
            "support": self.support,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Averages:
    """Averages of a metric over classes (None where no class defines it)."""

    micro: float | None
    macro: float | None
    weighted: float | None
    ovo_macro: float | None = None

    def to_dict(self, ovo: bool = False) -> dict:
        out = {"micro": self.micro, "macro": self.macro, "weighted": self.weighted}
        if ovo:
            out["ovo_macro"] = self.ovo_macro
        return out


@dataclass(frozen=True, eq=False)
class PlotCurve:
    """A curve at selected real thresholds (descending), with exact counts at each."""

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    n_pos: int
    n_neg: int

    @property
    def fpr(self) -> np.ndarray:
        return ratio(self.fp, self.n_neg)

    @property
    def tpr(self) -> np.ndarray:
        return ratio(self.tp, self.n_pos)

    @property
    def precision(self) -> np.ndarray:
        return ratio(self.tp, self.tp + self.fp)


@dataclass(frozen=True, eq=False)
class CurveSet:
    """Per-class curves of one Predictions; build it with :func:`compute_curves`."""

    names: tuple[str, ...]
    class_names: tuple[str, ...]
    task: str
    score_kind: str
    n_samples: int
    classes: tuple[ClassSummary, ...]
    roc_auc: Averages
    average_precision: Averages
    plot: tuple[PlotCurve, ...]
    micro_plot: PlotCurve | None
    macro_roc: tuple[np.ndarray, np.ndarray] | None
    _positives: tuple[np.ndarray, ...] = field(repr=False)
    _negatives: tuple[np.ndarray, ...] = field(repr=False)

    def index(self, name: str) -> int:
        """Position of the curve named ``name``; InputError listing the names otherwise."""
        try:
            return self.names.index(str(name))
        except ValueError:
            raise InputError(f"no class {name!r}; classes are {list(self.names)}") from None

    def confusion_at_thresholds(self, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact (thresholds descending, TP, FP) at every distinct score of curve ``c``,
        as scikit-learn's ``confusion_matrix_at_thresholds``."""
        return _distinct_counts(self._positives[c], self._negatives[c])

    def roc_curve(self, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fpr, tpr, thresholds) as ``roc_curve(drop_intermediate=False)``."""
        thresholds, tp, fp = self.confusion_at_thresholds(c)
        summary = self.classes[c]
        tp = np.r_[0, tp]
        fp = np.r_[0, fp]
        fpr = fp / summary.n_negatives if summary.n_negatives else np.full(fp.shape, np.nan)
        tpr = tp / summary.support if summary.support else np.full(tp.shape, np.nan)
        return fpr, tpr, np.r_[np.inf, thresholds]

    def precision_recall_curve(self, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(precision, recall, thresholds ascending) as ``precision_recall_curve``."""
        thresholds, tp, fp = self.confusion_at_thresholds(c)
        support = self.classes[c].support
        precision = tp / (tp + fp)
        recall = tp / support if support else np.ones(tp.shape)
        return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]

    def counts_at(self, thresholds) -> Counts:
        """TP, FP, FN, TN of every class at per-class thresholds (a scalar applies to all):
        two binary searches per class, whatever the number of samples."""
        t = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (len(self.names),))
        tp = np.empty(len(self.names), dtype=np.int64)
        fp = np.empty_like(tp)
        for c, (pos, neg) in enumerate(zip(self._positives, self._negatives)):
            key = threshold_in_dtype(t[c], pos.dtype)
            tp[c] = pos.size - np.searchsorted(pos, key, side="left")
            fp[c] = neg.size - np.searchsorted(neg, key, side="left")
        support = np.array([s.support for s in self.classes], dtype=np.int64)
        negatives = np.array([s.n_negatives for s in self.classes], dtype=np.int64)
        return Counts(self.names, tp, fp, support - tp, negatives - fp, thresholds=t.copy())

    def to_dict(self) -> dict:
        multiclass = self.task == "multiclass"
        return {
            "task": self.task,
            "score_kind": self.score_kind,
            "n_samples": self.n_samples,
            "classes": list(self.class_names),
            "per_class": {s.name: s.to_dict() for s in self.classes},
            "roc_auc": self.roc_auc.to_dict(ovo=multiclass),
            "average_precision": self.average_precision.to_dict(),
        }


def compute_curves(
    predictions: Predictions, *, plot_points: int = DEFAULT_PLOT_POINTS
) -> CurveSet:
    """Sort each class' positive and negative scores once; derive every ranking metric."""
    if plot_points < 8:
        raise InputError(f"expected plot_points to be at least 8, got {plot_points}")
    positives, negatives, ovo = _split_and_sort(predictions)
    summaries = tuple(
        _summarise(name, pos, neg)
        for name, pos, neg in zip(predictions.curve_names, positives, negatives)
    )
    plots = tuple(_plot_curve(pos, neg, plot_points) for pos, neg in zip(positives, negatives))

    if len(positives) == 1:
        micro_auc, micro_ap, micro_plot = summaries[0].roc_auc, summaries[0].average_precision, plots[0]
    else:
        all_pos = np.sort(np.concatenate(positives))
        all_neg = np.sort(np.concatenate(negatives))
        micro = _summarise("micro", all_pos, all_neg)
        micro_auc, micro_ap = micro.roc_auc, micro.average_precision
        micro_plot = _plot_curve(all_pos, all_neg, plot_points) if all_pos.size else None
        del all_pos, all_neg
    for arr in (*positives, *negatives):
        arr.flags.writeable = False
    return CurveSet(
        names=predictions.curve_names,
        class_names=predictions.class_names,
        task=predictions.task,
        score_kind=predictions.score_kind,
        n_samples=predictions.n_samples,
        classes=summaries,
        roc_auc=_averages(summaries, "roc_auc", micro_auc, ovo),
        average_precision=_averages(summaries, "average_precision", micro_ap),
        plot=plots,
        micro_plot=micro_plot,
        macro_roc=_macro_roc(summaries, plots),
        _positives=tuple(positives),
        _negatives=tuple(negatives),
    )


def _split_and_sort(p: Predictions) -> tuple[list[np.ndarray], list[np.ndarray], float | None]:
    """Sorted positive and negative scores per curve; Hand & Till's OvO AUC for multiclass.

    Multiclass rows are grouped by label once; within column j each label's block is sorted,
    so block j is class j's positives, the other blocks merge into its negatives, and block k
    gives the pairwise AUC(j | k) without another pass.
    """
    scores = p.scores
    if p.task != "multiclass":
        positives, negatives = [], []
        for c in range(scores.shape[1]):
            column = np.ascontiguousarray(scores[:, c])
            mask = p.positives(c)
            positives.append(np.sort(column[mask]))
            negatives.append(np.sort(column[~mask]))
        return positives, negatives, None

    k = scores.shape[1]
    order = np.argsort(p.y_true, kind="stable")
    sizes = np.bincount(p.y_true, minlength=k)
    bounds = np.r_[0, np.cumsum(sizes)]
    pair_u = np.zeros((k, k))  # pair_u[j, l]: U statistic of class j vs l on column j
    positives, negatives = [], []
    for j in range(k):
        grouped = scores[order, j]
        blocks = [np.sort(grouped[bounds[i] : bounds[i + 1]]) for i in range(k)]
        positives.append(blocks[j])
        negatives.append(np.sort(np.concatenate(blocks[:j] + blocks[j + 1 :])))
        for other in range(k):
            if other != j and sizes[j] and sizes[other]:
                pair_u[j, other] = _mann_whitney_u2(blocks[j], blocks[other]) / 2
    present = np.flatnonzero(sizes)
    pairs = [
        (pair_u[a, b] / (sizes[a] * sizes[b]) + pair_u[b, a] / (sizes[a] * sizes[b])) / 2
        for i, a in enumerate(present)
        for b in present[i + 1 :]
    ]
    return positives, negatives, (float(np.mean(pairs)) if pairs else None)


def _mann_whitney_u2(pos: np.ndarray, neg: np.ndarray) -> int:
    """2 U: twice the number of (positive, negative) pairs ranked right, ties counting 1/2."""
    below = np.searchsorted(neg, pos, side="left")
    not_above = np.searchsorted(neg, pos, side="right")
    return int(below.sum()) + int(not_above.sum())


def _summarise(name: str, pos: np.ndarray, neg: np.ndarray) -> ClassSummary:
    n_pos, n_neg = int(pos.size), int(neg.size)
    total = n_pos + n_neg
    reason = None
    if n_pos == 0:
        reason = f"no positive samples of {name!r}: ROC AUC and AP are undefined"
    elif n_neg == 0:
        reason = f"every sample is {name!r}: ROC AUC is undefined"
    auc = _mann_whitney_u2(pos, neg) / (2 * n_pos * n_neg) if n_pos and n_neg else None
    ap = _average_precision(pos, neg) if n_pos else None
    return ClassSummary(
        name=name,
        support=n_pos,
        n_negatives=n_neg,
        prevalence=n_pos / total if total else 0.0,
        roc_auc=auc,
        average_precision=ap,
        reason=reason,
    )


def _average_precision(pos: np.ndarray, neg: np.ndarray) -> float:
    """sum over thresholds of (R_i - R_{i-1}) P_i; only thresholds at positive scores add."""
    first = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])
    values = pos[first]
    tp_new = np.diff(np.r_[first, pos.size])
    tp = pos.size - first  # positives >= each distinct positive score
    fp = neg.size - np.searchsorted(neg, values, side="left")
    return float(np.sum(tp_new / pos.size * (tp / (tp + fp))))


def _distinct_counts(pos: np.ndarray, neg: np.ndarray):
    """(thresholds descending, TP, FP) at every distinct score: the exact curve."""
    merged = np.concatenate([pos, neg])
    merged.sort(kind="stable")  # two sorted runs: one linear merge
    first = np.flatnonzero(np.r_[True, merged[1:] != merged[:-1]])
    thresholds = merged[first]
    at_or_above = merged.size - first
    # positives per distinct value, then TP = positives at or above each value
    pos_per_value = np.bincount(np.searchsorted(thresholds, pos), minlength=first.size)
    tp = np.cumsum(pos_per_value[::-1])
    fp = at_or_above[::-1] - tp
    return thresholds[::-1].astype(np.float64), tp, fp


def _plot_curve(pos: np.ndarray, neg: np.ndarray, points: int) -> PlotCurve:
    """At most ``points`` real thresholds: quantiles of positives and of negatives, each with
    the next larger distinct score, so tie blocks stay exact diagonals. The polyline's area
    differs from the exact AUC by at most about 2 / points."""
    if pos.size + neg.size <= points - 1:
        thresholds, tp, fp = _distinct_counts(pos, neg)
    else:
        per_side = (points - 1) // 4
        picks = [
            side[np.linspace(0, side.size - 1, min(per_side, side.size)).astype(np.int64)]
            for side in (pos, neg)
            if side.size
        ]
        chosen = np.unique(np.concatenate(picks))
        above = [side[np.minimum(np.searchsorted(side, chosen, "right"), side.size - 1)]
                 for side in (pos, neg) if side.size]
        nxt = np.min(np.where(np.stack(above) > chosen, np.stack(above), np.inf), axis=0)
        chosen = np.unique(np.r_[chosen.astype(np.float64), nxt[np.isfinite(nxt)]])
        thresholds = chosen[::-1]
        key = threshold_in_dtype(thresholds, pos.dtype if pos.size else neg.dtype)
        tp = pos.size - np.searchsorted(pos, key, side="left")
        fp = neg.size - np.searchsorted(neg, key, side="left")
    return PlotCurve(
        thresholds=np.r_[np.inf, thresholds],
        tp=np.r_[0, tp],
        fp=np.r_[0, fp],
        n_pos=int(pos.size),
        n_neg=int(neg.size),
    )


def _averages(
    summaries: tuple[ClassSummary, ...], metric: str, micro: float | None, ovo: float | None = None
) -> Averages:
    defined = [(getattr(s, metric), s.support) for s in summaries if getattr(s, metric) is not None]
    if not defined:
        return Averages(micro, None, None, ovo)
    values, weights = np.array(defined, dtype=np.float64).T
    weighted = float(np.average(values, weights=weights)) if weights.sum() else None
    return Averages(micro, float(values.mean()), weighted, ovo)


def _macro_roc(
    summaries: tuple[ClassSummary, ...], plots: tuple[PlotCurve, ...]
) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean TPR of the defined classes on a common FPR grid (the scikit-learn example's
    macro curve); the macro AUC reported is the mean of the exact per-class AUCs."""
    curves = [p for s, p in zip(summaries, plots) if s.roc_auc is not None]
    if len(summaries) < 2 or not curves:
        return None
    grid = np.linspace(0.0, 1.0, MACRO_GRID_POINTS)
    tpr = np.mean([np.interp(grid, p.fpr, p.tpr) for p in curves], axis=0)
    return grid, tpr



