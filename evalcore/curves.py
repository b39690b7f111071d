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

import sys
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from evalcore.counts import Counts, ratio
from evalcore.errors import InputError
from evalcore.predictions import Predictions, threshold_in_dtype

#: how the averages of ``CurveSet.to_dict`` are defined (stated in the JSON)
AVERAGE_CONVENTIONS = {
    "roc_auc.macro": "the mean of the per-class ROC AUCs, over the classes where it is "
                     "defined (scikit-learn's roc_auc_score(average='macro'))",
    "roc_auc.macro_interpolated": "the area under the macro-average ROC curve: each class' "
                                  "TPR interpolated on the union of all classes' FPRs, "
                                  "averaged (scikit-learn's multiclass ROC example)",
    "roc_auc.micro": "the ROC AUC of every (sample, class) cell pooled",
    "roc_auc.weighted": "the per-class ROC AUCs averaged with weights = support",
}
DEFAULT_PLOT_POINTS = 2000
MIN_PLOT_POINTS = 64
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
class MacroCurve:
    """An averaged ROC curve (FPR grid, mean TPR) and the area under it."""

    fpr: np.ndarray
    tpr: np.ndarray
    area: float


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

    def roc_corners(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        """(fpr, tpr) at the corners of the exact curve: ``roc_curve``'s default
        ``drop_intermediate=True`` points (collinear points dropped)."""
        _, tp, fp = self.confusion_at_thresholds(c)
        if tp.size > 2:
            keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fp, 2), np.diff(tp, 2)), True])
            tp, fp = tp[keep], fp[keep]
        summary = self.classes[c]
        return np.r_[0, fp] / summary.n_negatives, np.r_[0, tp] / summary.support

    @cached_property
    def macro_roc_interpolated(self) -> MacroCurve | None:
        """The macro-average ROC curve as users compute it (scikit-learn's example): each
        defined class' TPR interpolated on the union of every class' FPRs, averaged, and the
        trapezoidal area under it. It differs a little from ``roc_auc.macro``, the mean of
        the per-class AUCs (scikit-learn's ``roc_auc_score(average="macro")``)."""
        defined = [c for c, s in enumerate(self.classes) if s.roc_auc is not None]
        if len(self.names) < 2 or not defined:
            return None
        corners = [self.roc_corners(c) for c in defined]
        grid = np.unique(np.concatenate([fpr for fpr, _ in corners]))
        tpr = np.zeros_like(grid)
        for fpr, t in corners:
            tpr += np.interp(grid, fpr, t)
        tpr /= len(corners)
        return MacroCurve(grid, tpr, float(np.trapezoid(tpr, grid)))

    def precision_recall_curve(self, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(precision, recall, thresholds ascending) as ``precision_recall_curve``."""
        thresholds, tp, fp = self.confusion_at_thresholds(c)
        support = self.classes[c].support
        precision = tp / (tp + fp)
        recall = tp / support if support else np.ones(tp.shape)
        return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]

    def counts_at(self, thresholds) -> Counts:
        """TP, FP, FN, TN of every class at per-class thresholds (a scalar applies to all):
        two binary searches per class, whatever the number of samples. A NaN threshold (a
        decision rule with none for that class, ``Decision.class_thresholds()``) counts no
        sample as positive and stays NaN in the result."""
        t = np.asarray(thresholds, dtype=np.float64)
        if t.size not in (1, len(self.names)) or t.ndim > 1:
            raise InputError(
                f"expected one threshold or {len(self.names)} (one per class), got {t.size}"
            )
        t = np.broadcast_to(t.reshape(-1), (len(self.names),))
        tp = np.empty(len(self.names), dtype=np.int64)
        fp = np.empty_like(tp)
        for c, (pos, neg) in enumerate(zip(self._positives, self._negatives)):
            key = threshold_in_dtype(t[c] if t[c] == t[c] else np.inf, pos.dtype)
            tp[c] = pos.size - np.searchsorted(pos, key, side="left")
            fp[c] = neg.size - np.searchsorted(neg, key, side="left")
        support = np.array([s.support for s in self.classes], dtype=np.int64)
        negatives = np.array([s.n_negatives for s in self.classes], dtype=np.int64)
        return Counts(self.names, tp, fp, support - tp, negatives - fp, thresholds=t.copy())

    def to_dict(self) -> dict:
        multiclass = self.task == "multiclass"
        roc_auc = self.roc_auc.to_dict(ovo=multiclass)
        out = {
            "task": self.task,
            "score_kind": self.score_kind,
            "n_samples": self.n_samples,
            "classes": list(self.class_names),
            "per_class": {s.name: s.to_dict() for s in self.classes},
            "roc_auc": roc_auc,
            "average_precision": self.average_precision.to_dict(),
        }
        if len(self.names) > 1:
            curve = self.macro_roc_interpolated
            roc_auc["macro_interpolated"] = None if curve is None else curve.area
            out["conventions"] = AVERAGE_CONVENTIONS
        return out


def compute_curves(
    predictions: Predictions, *, plot_points: int = DEFAULT_PLOT_POINTS
) -> CurveSet:
    """Sort each class' scores once (with their labels); derive every ranking metric."""
    if plot_points < MIN_PLOT_POINTS:
        raise InputError(
            f"expected plot_points to be at least {MIN_PLOT_POINTS}, got {plot_points}"
        )
    p = predictions
    multiclass = p.task == "multiclass"
    k = p.scores.shape[1]
    pair_u2 = np.zeros((k, k)) if multiclass else None  # [j, l]: 2 U of class j vs l, column j
    positives, negatives, summaries = [], [], []
    for c, name in enumerate(p.curve_names):
        codes = p.y_true if multiclass else p.positives(c).view(np.uint8)
        values, labels = _sort_with_labels(np.ascontiguousarray(p.scores[:, c]), codes)
        is_positive = labels == (c if multiclass else 1)
        groups = _TieGroups(values, is_positive)
        positives.append(values[is_positive])
        negatives.append(values[~is_positive])
        summaries.append(_summary(name, groups.n_pos, groups.n_neg, groups.u2(), groups.ap()))
        if pair_u2 is not None:
            pair_u2[c] = groups.u2_by_label(labels, k)
        del values, labels, is_positive, groups
    summaries = tuple(summaries)
    plots = tuple(_plot_curve(pos, neg, plot_points) for pos, neg in zip(positives, negatives))

    if len(positives) == 1:
        micro, micro_plot = summaries[0], plots[0]
    else:
        all_pos, all_neg = np.concatenate(positives), np.concatenate(negatives)
        all_pos.sort()
        all_neg.sort()
        micro = _summary("micro", all_pos.size, all_neg.size, *_u2_and_ap(all_pos, all_neg))
        micro_plot = _plot_curve(all_pos, all_neg, plot_points) if all_pos.size else None
        del all_pos, all_neg
    for arr in (*positives, *negatives):
        arr.flags.writeable = False
    sizes = np.bincount(p.y_true, minlength=k) if multiclass else None
    return CurveSet(
        names=p.curve_names,
        class_names=p.class_names,
        task=p.task,
        score_kind=p.score_kind,
        n_samples=p.n_samples,
        classes=summaries,
        roc_auc=_averages(summaries, "roc_auc", micro.roc_auc, _ovo_macro(pair_u2, sizes)),
        average_precision=_averages(summaries, "average_precision", micro.average_precision),
        plot=plots,
        micro_plot=micro_plot,
        macro_roc=_macro_roc(summaries, plots),
        _positives=tuple(positives),
        _negatives=tuple(negatives),
    )


def _sort_with_labels(column: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores ascending with their labels. Scores exactly representable in float32 take one
    sort of a packed uint64 key (score bits high, label low: non-negative floats order as
    their bit patterns); others an argsort. Tied scores may come in any label order: every
    statistic works on tie groups."""
    if column.dtype == np.float64:
        narrow = column.astype(np.float32)
        if np.array_equal(narrow, column):
            column = narrow
    if column.dtype != np.float32 or sys.byteorder != "little":
        order = np.argsort(column)
        return column[order], labels[order]
    column = column + np.float32(0)  # -0.0 becomes 0.0: one key for equal scores
    key = column.view(np.uint32).astype(np.uint64) << np.uint64(32)
    key |= labels.astype(np.uint64)
    key.sort()
    halves = key.view(np.uint32)  # little-endian: (label, score bits) per key
    return halves[1::2].view(np.float32), halves[0::2]


class _TieGroups:
    """Scores sorted ascending, grouped by distinct value: positives and negatives per group."""

    def __init__(self, values: np.ndarray, is_positive: np.ndarray):
        self.new = np.empty(values.size, dtype=bool)
        self.new[:1] = True
        np.not_equal(values[1:], values[:-1], out=self.new[1:])
        self.first = np.flatnonzero(self.new)
        last = np.r_[self.first[1:] - 1, values.size - 1]
        at_or_below = np.cumsum(is_positive, dtype=np.int64)[last]  # positives <= each group
        self.n_pos = int(at_or_below[-1])
        self.n_neg = int(values.size - self.n_pos)
        self.pos = np.diff(at_or_below, prepend=0)
        self.pos_above = np.subtract(self.n_pos, at_or_below, out=at_or_below)

    @property
    def neg(self) -> np.ndarray:
        return np.diff(self.first, append=self.n_pos + self.n_neg) - self.pos

    def u2(self) -> int:
        """2 U: (positive, negative) pairs ranked right count 2, tied pairs 1 (exact)."""
        return int(np.dot(self.neg, 2 * self.pos_above + self.pos))

    def ap(self) -> float | None:
        """Average precision: the sum over groups with positives of (R_i - R_i-1) P_i."""
        if not self.n_pos:
            return None
        has = np.flatnonzero(self.pos)
        tp = self.pos_above[has] + self.pos[has]
        at_or_above = self.n_pos + self.n_neg - self.first[has]
        return float(np.sum(self.pos[has] / self.n_pos * (tp / at_or_above)))

    def u2_by_label(self, labels: np.ndarray, k: int) -> np.ndarray:
        """2 U of the positives against the samples of each label (Hand & Till pairs)."""
        weight = (2 * self.pos_above + self.pos).astype(np.float64)
        sizes = np.diff(self.first, append=self.n_pos + self.n_neg)
        return np.bincount(labels, weights=np.repeat(weight, sizes), minlength=k)


def _ovo_macro(pair_u2: np.ndarray | None, sizes: np.ndarray | None) -> float | None:
    """Hand & Till: the mean over class pairs of (AUC(a | b) + AUC(b | a)) / 2."""
    if pair_u2 is None:
        return None
    present = np.flatnonzero(sizes)
    pairs = [
        (pair_u2[a, b] + pair_u2[b, a]) / (4 * sizes[a] * sizes[b])
        for i, a in enumerate(present)
        for b in present[i + 1 :]
    ]
    return float(np.mean(pairs)) if pairs else None


def _u2_and_ap(pos: np.ndarray, neg: np.ndarray) -> tuple[int, float | None]:
    """2 U and AP from two sorted arrays (micro averages): one binary search per positive,
    a second only for positives whose score also occurs among the negatives (ties)."""
    if not pos.size:
        return 0, None
    below = np.searchsorted(neg, pos, side="left")
    tied = np.flatnonzero(below < neg.size)
    tied = tied[neg[below[tied]] == pos[tied]]
    extra = np.searchsorted(neg, pos[tied], side="right") - below[tied]
    u2 = 2 * int(below.sum()) + int(extra.sum())
    new = np.empty(pos.size, dtype=bool)
    new[:1] = True
    np.not_equal(pos[1:], pos[:-1], out=new[1:])
    first = np.flatnonzero(new)  # distinct positive scores
    del new
    at_or_above = np.subtract(neg.size, below[first])  # negatives >= each distinct score
    del below
    tp_new = np.diff(first, append=pos.size)
    tp = np.subtract(pos.size, first, out=first)
    at_or_above += tp
    precision = np.divide(tp, at_or_above)
    del at_or_above, tp
    return u2, float(np.dot(tp_new, precision) / pos.size)


def _summary(name: str, n_pos: int, n_neg: int, u2: int, ap: float | None) -> ClassSummary:
    reason = None
    if n_pos == 0:
        reason = f"no positive samples of {name!r}: ROC AUC and AP are undefined"
    elif n_neg == 0:
        reason = f"every sample is {name!r}: ROC AUC is undefined"
    total = n_pos + n_neg
    return ClassSummary(
        name=name,
        support=n_pos,
        n_negatives=n_neg,
        prevalence=n_pos / total if total else 0.0,
        roc_auc=u2 / (2 * n_pos * n_neg) if n_pos and n_neg else None,
        average_precision=ap,
        reason=reason,
    )


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
    """At most ``points`` real thresholds: q = (points - 1) // 4 quantiles of the positives
    and of the negatives, each with the next larger distinct score, so that tie blocks stay
    exact diagonals. Between consecutive points TPR and FPR move by at most 1 / (q - 1), so
    the polyline's area is within 1 / (2 (q - 1)) of the exact AUC (1.0e-3 at 2000 points in
    the worst case; far less on real data)."""
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



