"""Exact one-vs-rest ROC and precision-recall curves, computed once and then only queried.

The statistics of curve c are its distinct scores ascending with the positives and negatives
at or above each (:class:`~evalcore.scorestats.CurveStats`): mergeable, and the same whoever
counted them (NumPy here, DuckDB or Spark for data larger than memory). Everything follows from
them by binary search, never by a rescan of the data:

- counts at a threshold t: TP and FP at the first value >= t                  O(log D)
- ROC AUC (trapezoidal, ties count one half) = Mann-Whitney U / (P Nn),
  exact in integers                                                            O(D)
- average precision (the step-wise sum of scikit-learn)                        O(D)
- the full curve at every distinct threshold                                   O(D)
- a plot curve of at most M points on real thresholds                          O(M log D)

Statistics that were binned (more distinct scores than a budget) make every figure carry
``exact: false`` and its bound.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Sequence
from functools import cached_property, partial

import numpy as np

from evalcore.counts import Counts, ratio
from evalcore.errors import InputError
from evalcore.predictions import Predictions, class_index
from evalcore import kernels
from evalcore.scorestats import CurveStats, StreamResult, _count_dtype

#: threads that count curves side by side (at most the cores this process may use)
WORKERS = max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                    else os.cpu_count() or 1))

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
#: what a CurveSet with binned statistics says of itself
BINNED = ("more distinct scores than the budget: thresholds, plots and the interpolated macro "
          "curve come from scores pooled into bins (thresholds are bin edges, the counts at "
          "them exact)")
DEFAULT_PLOT_POINTS = 2000
MIN_PLOT_POINTS = 64
MACRO_GRID_POINTS = 1001


@dataclass(frozen=True)
class ClassSummary:
    """Ranking metrics of one one-vs-rest curve; None with a reason where undefined.

    >>> s = compute_curves([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).classes[0]
    >>> s.name, s.support, s.n_negatives, s.roc_auc, round(s.average_precision, 4)
    ('1', 2, 2, 0.75, 0.8333)
    >>> sorted(s.to_dict())
    ['average_precision', 'prevalence', 'reason', 'roc_auc', 'support']
    """

    name: str
    support: int
    n_negatives: int
    prevalence: float
    roc_auc: float | None
    average_precision: float | None
    reason: str | None = None
    exact: bool = True
    roc_auc_bound: float = 0.0  # binned: |AUC - exact AUC| <= this
    average_precision_bounds: tuple[float, float] | None = None  # binned: where AP lies

    def to_dict(self) -> dict:
        out = {
            "roc_auc": self.roc_auc,
            "average_precision": self.average_precision,
            "prevalence": self.prevalence,
            "support": self.support,
            "reason": self.reason,
        }
        if not self.exact:
            out["exact"] = False
            out["error_bound"] = {"roc_auc": self.roc_auc_bound,
                                  "average_precision": self.average_precision_bounds}
        return out


@dataclass(frozen=True)
class Averages:
    """Averages of a metric over classes (None where no class defines it).

    >>> import numpy as np
    >>> cs = compute_curves(Predictions.from_arrays([0, 1, 2, 1, 0], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1], [.3, .4, .3]])))
    >>> {k: round(v, 4) for k, v in cs.roc_auc.to_dict(ovo=True).items()}
    {'micro': 0.89, 'macro': 0.9167, 'weighted': 0.9, 'ovo_macro': 0.9375}
    """

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
    """A curve at selected real thresholds (descending), with exact counts at each.

    >>> pc = compute_curves([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).plot[0]
    >>> pc.thresholds.tolist(), pc.tpr.tolist(), pc.fpr.tolist()
    ([inf, 0.8, 0.4, 0.35, 0.1], [0.0, 0.5, 0.5, 1.0, 1.0], [0.0, 0.0, 0.5, 0.5, 1.0])
    """

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
    """An averaged ROC curve (FPR grid, mean TPR) and the area under it.

    >>> import numpy as np
    >>> cs = compute_curves(Predictions.from_arrays([0, 1, 2, 1, 0], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1], [.3, .4, .3]])))
    >>> m = cs.macro_roc_interpolated
    >>> m.fpr.round(3).tolist(), m.tpr.round(3).tolist(), round(m.area, 4)
    ([0.0, 0.333, 1.0], [0.667, 1.0, 1.0], 0.9444)
    """

    fpr: np.ndarray
    tpr: np.ndarray
    area: float


@dataclass(frozen=True, eq=False)
class CurveSet:
    """Per-class curves of one Predictions; build it with :func:`compute_curves`. A class is
    named by name or index.

    >>> import numpy as np
    >>> cs = compute_curves(Predictions.from_arrays([0, 1, 2, 1], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1]]), class_names=["cat", "dog", "eel"]))
    >>> fpr, tpr, thresholds = cs.roc_curve("dog")   # as roc_curve(drop_intermediate=False)
    >>> tpr.tolist(), thresholds.tolist()
    ([0.0, 0.5, 1.0, 1.0, 1.0], [inf, 0.5, 0.4, 0.3, 0.2])
    >>> cs.counts_at([0.5, 0.5, 0.5]).tp.tolist()   # one-vs-rest, two binary searches a class
    [1, 1, 1]
    """

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
    stats: tuple[CurveStats, ...] = field(repr=False)

    @property
    def exact(self) -> bool:
        """False when any curve's statistics were binned (its figures carry bounds)."""
        return all(s.exact for s in self.stats)

    def index(self, name: str | int) -> int:
        """Position of the curve of a class given by name or index; InputError listing the
        names otherwise."""
        return class_index(self.names, name)

    def confusion_at_thresholds(self, c: int | str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact (thresholds descending, TP, FP) at every distinct score of curve ``c``,
        as scikit-learn's ``confusion_matrix_at_thresholds``; ``c`` a class name or index."""
        return self.stats[self.index(c)].distinct_counts()

    def roc_curve(self, c: int | str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fpr, tpr, thresholds) as ``roc_curve(drop_intermediate=False)``."""
        thresholds, tp, fp = self.confusion_at_thresholds(c)
        summary = self.classes[self.index(c)]
        tp = np.r_[0, tp]
        fp = np.r_[0, fp]
        fpr = fp / summary.n_negatives if summary.n_negatives else np.full(fp.shape, np.nan)
        tpr = tp / summary.support if summary.support else np.full(tp.shape, np.nan)
        return fpr, tpr, np.r_[np.inf, thresholds]

    def roc_corners(self, c: int | str) -> tuple[np.ndarray, np.ndarray]:
        """(fpr, tpr) at the corners of the exact curve: ``roc_curve``'s default
        ``drop_intermediate=True`` points (collinear points dropped)."""
        _, tp, fp = self.confusion_at_thresholds(c)
        if tp.size > 2:
            keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fp, 2), np.diff(tp, 2)), True])
            tp, fp = tp[keep], fp[keep]
        summary = self.classes[self.index(c)]
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

    def precision_recall_curve(self, c: int | str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(precision, recall, thresholds ascending) as ``precision_recall_curve``."""
        thresholds, tp, fp = self.confusion_at_thresholds(c)
        support = self.classes[self.index(c)].support
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
        for c, stats in enumerate(self.stats):
            tp[c], fp[c] = stats.counts_at(t[c] if t[c] == t[c] else np.inf)
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
        if not self.exact:
            out["exact"] = False
            out["binned"] = BINNED
            if not all(s.exact for s in self.classes):
                out["binned"] += "; the figures marked exact: false lie within their error_bound"
        return out


def compute_curves(
    predictions: Predictions, y_score=None, *, plot_points: int = DEFAULT_PLOT_POINTS
) -> CurveSet:
    """Sort each class' scores once (with their labels) and count its statistics and exact
    figures in one compiled pass; derive every ranking metric from them. ``predictions``: a
    :class:`Predictions`, or the labels with ``y_score`` (as ``Predictions.from_arrays`` takes
    them).

    >>> compute_curves([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).roc_auc.macro
    0.75
    """
    if plot_points < MIN_PLOT_POINTS:
        raise InputError(
            f"expected plot_points to be at least {MIN_PLOT_POINTS}, got {plot_points}"
        )
    if not isinstance(predictions, Predictions):  # compute_curves(y_true, y_score)
        if y_score is None:
            raise InputError("compute_curves(predictions) or compute_curves(y_true, y_score)")
        predictions = Predictions.from_arrays(predictions, y_score)
    elif y_score is not None:
        raise InputError("compute_curves(predictions): the scores are in the Predictions")
    p = predictions
    scores = _narrowed(p.scores)
    _warm(p, scores, plot_points)
    if p.task == "multiclass":
        sizes = np.bincount(p.y_true, minlength=scores.shape[1])
        curves = [(p.y_true, c, int(sizes[c])) for c in range(scores.shape[1])]
    elif p.task == "binary":
        sizes, n_pos = None, int(np.count_nonzero(p.y_true))
        curves = [(p.y_true, 1, n_pos)]
    else:
        sizes = None
        positives = p.y_true.view(np.uint8)
        curves = [(positives[:, c], 1, int(n)) for c, n in enumerate(p.y_true.sum(axis=0))]
    tasks = [partial(_curve_result, scores, c, *curve, pairs=sizes is not None)
             for c, curve in enumerate(curves)]
    if len(curves) > 1:  # the longest task first: the micro average sorts N K cells
        tasks.insert(0, partial(_micro, scores, p, plot_points))
    done = _threaded(lambda task: task(), tasks)
    results = done[-len(curves):]
    stats, summaries, plots, ovo = _per_curve(p.curve_names, results, plot_points, sizes)
    micro, micro_plot = done[0] if len(curves) > 1 else (summaries[0], plots[0])
    return _curve_set(p.class_names, p.task, p.score_kind, p.n_samples, stats, summaries,
                      plots, micro, micro_plot, ovo)


def from_stats(
    stats: Sequence[CurveStats | StreamResult], *, class_names: tuple[str, ...], task: str,
    score_kind: str, n_samples: int, ovo_macro: float | None = None,
    micro: CurveStats | StreamResult | None = None, plot_points: int = DEFAULT_PLOT_POINTS,
    label_sizes: np.ndarray | None = None,
) -> CurveSet:
    """A CurveSet from the statistics of its curves, counted by any engine. An item may be a
    :class:`~evalcore.scorestats.StreamResult`, whose AUC and AP are exact even where its
    statistics were binned; with ``label_sizes`` (multiclass: the samples of each class) its
    Hand & Till pairs give ``ovo_macro``. ``micro``: the pooled statistics of every curve,
    when counted apart (else merged here).

    >>> st = CurveStats.from_counts([0.1, 0.35, 0.4, 0.8], [0, 1, 0, 1], [1, 0, 1, 0])  # a GROUP BY
    >>> cs = from_stats([st], class_names=("neg", "pos"), task="binary",
    ...                 score_kind="probability", n_samples=4)
    >>> cs.roc_auc.macro, cs.classes[0].name, round(cs.classes[0].average_precision, 4)
    (0.75, 'pos', 0.8333)
    """
    names = class_names[1:] if task == "binary" else class_names
    stats, summaries, plots, ovo = _per_curve(names, stats, plot_points, label_sizes)
    if len(stats) == 1:
        micro_summary, micro_plot = summaries[0], plots[0]
    else:
        micro = micro if micro is not None else _merge_all(stats)
        micro_summary = _summary("micro", micro)
        micro_stats = micro.stats if isinstance(micro, StreamResult) else micro
        micro_plot = _plot_curve(micro_stats, plot_points) if micro_stats.n_pos else None
    return _curve_set(class_names, task, score_kind, n_samples, stats, summaries, plots,
                      micro_summary, micro_plot, ovo if ovo is not None else ovo_macro)


def _per_curve(names, results, plot_points, label_sizes):
    """(statistics, summaries, plot curves, Hand & Till's macro AUC or None) of the curves."""
    summaries = tuple(_summary(name, r) for name, r in zip(names, results))
    ovo = None
    if label_sizes is not None and all(isinstance(r, StreamResult) and r.u2_by_label is not None
                                       for r in results):
        ovo = _ovo_macro(np.array([r.u2_by_label for r in results]), label_sizes)
    stats = tuple(r.stats if isinstance(r, StreamResult) else r for r in results)
    plots = tuple(_threaded(lambda st: _plot_curve(st, plot_points), list(stats)))
    return stats, summaries, plots, ovo


def _curve_set(class_names, task, score_kind, n_samples, stats, summaries, plots, micro,
               micro_plot, ovo_macro) -> CurveSet:
    return CurveSet(
        names=class_names[1:] if task == "binary" else class_names,
        class_names=class_names,
        task=task,
        score_kind=score_kind,
        n_samples=n_samples,
        classes=summaries,
        roc_auc=_averages(summaries, "roc_auc", micro.roc_auc, ovo_macro),
        average_precision=_averages(summaries, "average_precision", micro.average_precision),
        plot=plots,
        micro_plot=micro_plot,
        macro_roc=_macro_roc(summaries, plots),
        stats=stats,
    )


def _merge_all(stats: tuple[CurveStats, ...]) -> CurveStats:
    """The statistics of every curve pooled (the micro average)."""
    return CurveStats.from_counts(
        np.concatenate([st.values for st in stats]), np.concatenate([st.pos for st in stats]),
        np.concatenate([st.neg for st in stats]), exact=all(st.exact for st in stats))


def _narrowed(scores: np.ndarray) -> np.ndarray:
    """The scores in float32 when it holds every one exactly (one integer sort per curve then
    orders them), else as they are."""
    if scores.dtype == np.float64:
        narrow = scores.astype(np.float32)
        if np.array_equal(narrow, scores):
            return narrow
    return scores


def _curve_result(scores: np.ndarray, c: int, labels: np.ndarray, positive: int, n_pos: int,
                  *, pairs: bool) -> StreamResult:
    """Curve ``c``'s statistics and exact 2 U, AP (and Hand & Till's pairs with ``pairs``):
    the column sorted with its labels, then one pass (:func:`kernels.curve_pass`).

    Float32 scores sort as one packed uint64 key (score bits high, label low). Float64 scores
    sort by the key of their float32 roundings when the rounding keeps every distinct score
    apart (checked against the column sorted on its own: rounding is monotone, so the order
    and the ties are then the same), the statistics taking the float64 values; else by
    argsort."""
    if sys.byteorder == "little" and scores.dtype in (np.float32, np.float64):
        column = scores[:, c]
        rounded = column.astype(np.float32) if column.dtype == np.float64 else column
        result = _packed_pass(rounded, labels, positive, n_pos, pairs, scores.shape[1])
        if column.dtype == np.float32:
            return result
        exact = np.sort(column + 0.0)  # -0.0 becomes 0.0: one value for equal scores
        distinct = exact[np.r_[True, exact[1:] != exact[:-1]]]
        if distinct.size == result.stats.values.size:  # no two scores rounded together
            st = result.stats
            return replace(result, stats=CurveStats(distinct, st.tp, st.fp))
    column = scores[:, c] + 0.0
    order = np.argsort(column)
    return _pass(column[order], labels[order], positive, n_pos, pairs, scores.shape[1])


def _packed_pass(column: np.ndarray, labels: np.ndarray, positive: int, n_pos: int,
                 pairs: bool, k: int) -> StreamResult:
    """:func:`_pass` over a float32 column sorted with its labels as one uint64 key each."""
    key = _block(column.size * 8).view(np.uint64)
    kernels.packed_keys(column.view(np.uint32), labels, key)
    key.sort()
    halves = key.view(np.uint32)  # little-endian: (label, score bits) per key
    return _pass(halves[1::2].view(np.float32), halves[0::2], positive, n_pos, pairs, k)


def _pass(values: np.ndarray, labels: np.ndarray, positive: int, n_pos: int, pairs: bool,
          k: int) -> StreamResult:
    """The statistics and exact figures of scores sorted ascending with their labels."""
    n = values.size
    out, tp, fp = _arrays(n, (values.dtype, _count_dtype(n), _count_dtype(n)))
    by_label = np.zeros(k if pairs else 0, dtype=np.int64)
    d, u2, ap = kernels.curve_pass(values, labels, positive, n_pos, out, tp, fp, by_label)
    if d < 0.9 * n:  # many ties: keep only the distinct scores' memory
        out, tp, fp = out[:d].copy(), tp[:d].copy(), fp[:d].copy()
    else:
        out, tp, fp = out[:d], tp[:d], fp[:d]
    return StreamResult(CurveStats(out, tp, fp), int(u2), ap / n_pos if n_pos else None,
                        by_label if pairs else None)


def _arrays(n: int, dtypes: Sequence) -> list[np.ndarray]:
    """Arrays of ``n`` items of each dtype, carved from one allocation (:func:`_block`).

    >>> values, counts = _arrays(3, (np.float32, np.int32))
    >>> values.dtype, counts.dtype, values.size, counts.size
    (dtype('float32'), dtype('int32'), 3, 3)
    """
    sizes = [np.dtype(d).itemsize * n for d in dtypes]
    block = _block(sum(sizes))
    offsets = np.cumsum([0, *sizes])
    return [block[a:b].view(d) for a, b, d in zip(offsets[:-1], offsets[1:], dtypes)]


def _block(nbytes: int) -> np.ndarray:
    """Uninitialised bytes in small pages. NumPy asks Linux for huge pages on arrays of 4 MiB
    or more; where memory is fragmented, their first touch waits for the kernel to compact
    it (0.1-0.7 s of system time per compute_curves at 1e6 x 10 on this project's machine,
    against ~0.08 s for small pages), so the large arrays the curves write once are
    advised back."""
    block = np.empty(nbytes, dtype=np.uint8)
    if _MADVISE is not None and nbytes >= 1 << 22:
        page = 4096
        start = -(-block.ctypes.data // page) * page
        end = (block.ctypes.data + nbytes) // page * page
        if end > start:
            _MADVISE(start, end - start, 15)  # MADV_NOHUGEPAGE; advice only: errors ignored
    return block


def _libc_madvise():
    """libc's madvise on Linux (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return madvise


_MADVISE = _libc_madvise()

#: kinds of input (score dtype, task) whose kernels this process has compiled or loaded
_COMPILED: set[tuple[str, str]] = set()
_FIRST_CALLS = threading.Lock()
_WARMING = threading.local()


def _warm(p: Predictions, scores: np.ndarray, plot_points: int) -> None:
    """The first call of a kind of input compiles (or loads from the cache) its kernels:
    done once per process, on one thread, on the input's first rows, so that no two threads
    ever compile at once."""
    kind = (scores.dtype.str, p.task)
    if kind in _COMPILED or getattr(_WARMING, "active", False):
        return
    with _FIRST_CALLS:
        if kind in _COMPILED:
            return
        _WARMING.active = True
        try:
            compute_curves(replace(p, y_true=p.y_true[:16], scores=scores[:16]),
                           plot_points=plot_points)
        except Exception:  # noqa: BLE001 - the call itself says what is wrong with the input
            return
        finally:
            _WARMING.active = False
        _COMPILED.add(kind)


def _micro(scores: np.ndarray, p: Predictions, points: int) -> tuple[ClassSummary, PlotCurve | None]:
    """The micro average (every cell pooled): every cell as one integer key, (score bits << 1)
    | positive, sorted once and counted from the top in one pass (:func:`kernels.pooled_pass`):
    exact 2 U and AP, and the plot by :func:`_plot_curve`'s rule, without keeping statistics
    of N K scores."""
    bits = np.uint32 if scores.dtype == np.float32 else np.uint64
    keys = _block(scores.size * np.dtype(bits).itemsize).view(bits)
    multilabel = p.task == "multilabel"
    kernels.cell_keys(scores.view(bits), p.y_true if not multilabel else np.zeros(0, np.int64),
                      p.y_true.view(np.uint8) if multilabel else np.zeros((0, 0), np.uint8),
                      keys)
    keys.sort()
    n_pos = p.n_samples if p.task == "multiclass" else int(np.count_nonzero(p.y_true))
    n_neg = keys.size - n_pos
    per_side = (points - 1) // 4
    ranks = [np.ceil(np.linspace(1, side, min(per_side, side))).astype(np.int64)
             for side in (n_pos, n_neg)]
    picks = np.zeros((2 * (ranks[0].size + ranks[1].size), 3), dtype=np.int64)
    every = np.zeros((points - 1, 3), dtype=np.int64)
    u2, ap, distinct, written = kernels.pooled_pass(keys, *ranks, points - 1, picks, every)
    del keys
    summary = _summary_of("micro", n_pos, n_neg, int(u2), ap / n_pos if n_pos else None)
    if not n_pos:
        return summary, None
    chosen = every[:distinct] if distinct <= points - 1 else picks[:written]
    chosen = chosen[np.unique(chosen[:, 0], return_index=True)[1][::-1]]  # descending
    thresholds = chosen[:, 0].astype(bits).view(scores.dtype).astype(np.float64)
    return summary, PlotCurve(np.r_[np.inf, thresholds], np.r_[0, chosen[:, 1]],
                              np.r_[0, chosen[:, 2]], n_pos, n_neg)


def _threaded(run, items: list) -> list:
    """``[run(item) for item in items]`` on up to WORKERS threads (the compiled kernels and
    NumPy's sort release the GIL)."""
    if WORKERS == 1 or len(items) == 1 or getattr(_WARMING, "active", False):
        return [run(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(items))) as pool:
        return list(pool.map(run, items))


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


def _summary(name: str, st: CurveStats | StreamResult) -> ClassSummary:
    if isinstance(st, StreamResult):  # exact figures, whatever the statistics
        return _summary_of(name, st.stats.n_pos, st.stats.n_neg, st.u2, st.ap)
    bounds = {} if st.exact else {"exact": False, "roc_auc_bound": st.auc_bound(),
                                  "average_precision_bounds": st.ap_bounds()}
    return _summary_of(name, st.n_pos, st.n_neg, st.u2(), st.ap(), **bounds)


def _summary_of(name: str, n_pos: int, n_neg: int, u2: int, ap: float | None,
                **bounds) -> ClassSummary:
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
        **bounds,
    )


def _plot_curve(st: CurveStats, points: int) -> PlotCurve:
    """At most ``points`` real thresholds: every distinct value when there are few, else
    q = (points - 1) // 4 quantiles of the positives and of the negatives, each with the next
    larger distinct value, so that tie blocks stay exact diagonals. Between consecutive points
    TPR and FPR move by at most 1 / (q - 1), so the polyline's area is within 1 / (2 (q - 1))
    of the exact AUC (1.0e-3 at 2000 points in the worst case; far less on real data)."""
    chosen = slice(None)
    if st.values.size > points - 1:
        per_side = (points - 1) // 4
        picks = []
        for counts, total in ((st.tp[::-1], st.n_pos), (st.fp[::-1], st.n_neg)):
            if total:  # the first threshold (descending) where the count reaches each quantile
                targets = np.linspace(1, total, min(per_side, total))
                picks.append(np.searchsorted(counts, targets, side="left"))
        chosen = np.unique(np.concatenate(picks))
        chosen = np.unique(np.r_[chosen, np.maximum(chosen - 1, 0)])  # and the next larger
    descending = slice(None, None, -1)
    thresholds = st.values[descending][chosen].astype(np.float64)
    tp = st.tp[descending][chosen].astype(np.int64)
    fp = st.fp[descending][chosen].astype(np.int64)
    return PlotCurve(
        thresholds=np.r_[np.inf, thresholds],
        tp=np.r_[0, tp],
        fp=np.r_[0, fp],
        n_pos=st.n_pos,
        n_neg=st.n_neg,
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



