"""Sun & Xu write V10_i = (midrank of X_i among all - midrank of X_i among the positives) / n.
On sorted arrays that difference is (#Y < X_i + #Y <= X_i) / 2: two binary searches per
positive (the second only for scores tied with a negative). The negatives' components follow
from the same searches by a counting pass (#X <= Y_j is the number of positives with
#Y < X_i <= j), so DeLong costs O(m log n + n) per class and never sorts again.

Everything else: a stratified percentile bootstrap (multiclass and binary: samples are drawn
within each true class, so every resample keeps the class sizes; multilabel: rows are drawn
from all rows). A resample is a vector of multiplicities (how often each sample was drawn);
the ready statistics evaluate a whole chunk of such vectors at once without re-sorting
anything: with every negative's place among the sorted positives found once (a binary
search into the engine's sorted arrays), the resampled Mann-Whitney U is
W+ W- - sum_j w_j (C(#pos < y_j) + C(#pos <= y_j)) / 2, C the cumulative weight of the sorted
positives: one cumulative sum over the positives and one gather per sample, O(N) per resample
and class, exact in integers. Average precision takes, per resample, the weight of the
negatives between consecutive positive scores (a weighted bincount), also O(N). A curve set
passed as ``curves`` is reused (each sample is placed in its sorted arrays by binary search);
without one, each class' scores are argsorted once.

Randomness only through ``random_state`` (an int seed, a ``numpy.random.Generator`` or None).
Undefined figures are None with a reason, never NaN in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from evalcore.counts import ratio
from evalcore.curves import CurveSet
from evalcore.decisions import Decision, confusion, predict
from evalcore.errors import InputError
from evalcore.predictions import Predictions, class_index
from evalcore.stats.delong import _below, _undefined_reason, auc_intervals
from evalcore.stats.results import SummaryIntervals, DEFAULT_LEVEL, DEFAULT_RESAMPLES, Interval, Progress, _checked_level

#: resamples x samples per chunk of bootstrap weights (int32): bounds a chunk's memory (~8 MB)
CHUNK_CELLS = 1 << 21

class _Frame:
    """The strata of one bootstrap and the layout of its weights.

    Weights are laid out stratum by stratum (``order[k]`` is the sample at position k), so
    that drawing a resample fills one contiguous block per stratum.
    """

    def __init__(self, p: Predictions):
        n = p.n_samples
        if p.task == "multilabel":
            self.order = np.arange(n)
            sizes = np.array([n])
        else:
            self.order = np.argsort(p.y_true, kind="stable")
            sizes = np.bincount(p.y_true)
        self.sizes = [int(s) for s in sizes if s]
        self.starts = np.r_[0, np.cumsum(self.sizes)[:-1]].astype(np.int64).tolist()
        self.position = np.empty(n, dtype=np.intp)
        self.position[self.order] = np.arange(n)
        self.n = n

    def weights(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """``count`` resamples as multiplicities, shape (count, N), int32, in layout order."""
        w = np.empty((count, self.n), dtype=np.int32)
        for b in range(count):
            for start, size in zip(self.starts, self.sizes):
                w[b, start : start + size] = np.bincount(rng.integers(0, size, size),
                                                         minlength=size)
        return w

    def indices(self, rng: np.random.Generator) -> np.ndarray:
        """One resample as sample indices (the same draws as :meth:`weights`)."""
        return np.concatenate([
            self.order[start + rng.integers(0, size, size)]
            for start, size in zip(self.starts, self.sizes)
        ])


class _Prepared:
    """A statistic bound to one data set: ``evaluate(weights (B, N)) -> (B, D)``."""

    metrics: tuple[str, ...]
    names: tuple[str, ...]
    reasons: tuple[str | None, ...]
    scalar: bool = False

    def evaluate(self, weights: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


class Statistic:
    """A figure that :func:`bootstrap_interval` evaluates on many resamples at once (the fast
    path); any plain callable ``f(Predictions) -> float | array`` works too (the slow one).

    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 1, 0, 1, 1, 0], [.1, .8, .4, .35, .9, .2])
    >>> isinstance(Accuracy(), Statistic), isinstance(PerClassRocAuc(), Statistic)
    (True, True)
    >>> boot = bootstrap_distribution(p, Accuracy(), n_resamples=50, random_state=0)
    >>> boot.metrics, boot.samples.shape
    (('accuracy',), (50, 1))
    """

    def prepare(self, predictions: Predictions, frame: _Frame,
                curves: CurveSet | None = None) -> _Prepared:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class _Ranking(Statistic):
    """Per-class ROC AUC and/or AP, micro and/or macro ROC AUC, on weights."""

    roc_auc: bool = False
    average_precision: bool = False
    micro: bool = False
    macro: bool = False

    def prepare(self, predictions, frame, curves=None):
        return _RankingPrepared(self, predictions, frame, _checked_curves(predictions, curves))


class PerClassRocAuc(_Ranking):
    """ROC AUC of every one-vs-rest curve (one figure per class).

    >>> import numpy as np
    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 1, 2, 1, 0, 2], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1], [.4, .4, .2], [.3, .3, .4]]))
    >>> boot = bootstrap_distribution(p, PerClassRocAuc(), n_resamples=100, random_state=0)
    >>> boot.names, boot.estimate.round(4).tolist()
    (('0', '1', '2'), [0.875, 0.9375, 1.0])
    """

    def __init__(self):
        super().__init__(roc_auc=True)


class PerClassAveragePrecision(_Ranking):
    """Average precision of every one-vs-rest curve (one figure per class).

    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 1, 0, 1, 1, 0], [.1, .8, .4, .35, .9, .2])
    >>> iv = bootstrap_interval(p, PerClassAveragePrecision(), n_resamples=200, random_state=0)[0]
    >>> iv.metric, iv.name, round(iv.estimate, 4), [round(b, 4) for b in iv.bounds]
    ('average_precision', '1', 0.9167, [0.7333, 1.0])
    """

    def __init__(self):
        super().__init__(average_precision=True)


class AveragedRocAuc(_Ranking):
    """Micro and macro ROC AUC (two figures), as :class:`CurveSet` defines them.

    >>> import numpy as np
    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 1, 2, 1, 0, 2], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1], [.4, .4, .2], [.3, .3, .4]]))
    >>> micro, macro = bootstrap_interval(p, AveragedRocAuc(), n_resamples=200, random_state=0)
    >>> micro.name, round(micro.estimate, 4), macro.name, round(macro.estimate, 4)
    ('micro', 0.9306, 'macro', 0.9375)
    """

    def __init__(self):
        super().__init__(micro=True, macro=True)


@dataclass(frozen=True)
class Accuracy(Statistic):
    """Accuracy of a decision (a :class:`~evalcore.decisions.Decision`, or a rule name with
    ``thresholds``; default: the task's headline rule at 0.5), as
    :func:`evalcore.decisions.confusion` counts it: abstained samples are wrong, multilabel
    rows must match exactly.

    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 1, 0, 1, 1, 0], [.1, .8, .4, .35, .9, .2])
    >>> iv = bootstrap_interval(p, Accuracy(), n_resamples=200, random_state=0)
    >>> round(iv.estimate, 4), [round(b, 4) for b in iv.bounds]
    (0.8333, [0.5, 1.0])
    >>> round(bootstrap_interval(p, Accuracy("binary", 0.38), n_resamples=200).estimate, 4)
    0.6667
    """

    rule: str | Decision | None = None
    thresholds: float | Sequence[float] = 0.5

    def prepare(self, predictions, frame, curves=None):
        p = predictions
        decided = confusion(p, self.rule, self.thresholds)
        predicted = predict(p, self.rule, self.thresholds)
        correct = predicted == p.y_true
        if correct.ndim == 2:
            correct = correct.all(axis=1)
        return _Linear(("accuracy",), ("accuracy",), (None,), correct[frame.order][:, None],
                       lambda sums: sums / frame.n, np.array([decided.accuracy]), scalar=True)


@dataclass(frozen=True)
class ClassRates(Statistic):
    """Precision, recall and F1 of one class (an index into ``class_names`` or a name) under
    a decision rule at given thresholds, as :func:`evalcore.decisions.confusion` counts them.

    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 1, 0, 1, 1, 0], [.1, .8, .4, .35, .9, .2])
    >>> ivs = bootstrap_interval(p, ClassRates("1", 0.3), n_resamples=200, random_state=0)
    >>> [(iv.metric, round(iv.estimate, 4)) for iv in ivs]
    [('precision', 0.75), ('recall', 1.0), ('f1', 0.8571)]
    """

    cls: int | str
    thresholds: float | Sequence[float] = 0.5
    rule: str | Decision | None = None

    def prepare(self, predictions, frame, curves=None):
        p = predictions
        k = class_index(p.class_names, self.cls)
        name = p.class_names[k]
        counts = confusion(p, self.rule, self.thresholds).counts
        row = counts.row(counts.names.index(name))
        predicted = predict(p, self.rule, self.thresholds)
        if p.task == "multilabel":
            said, truth = predicted[:, k], p.y_true[:, k]
        else:
            said, truth = predicted == k, p.y_true == k
        indicators = np.stack([said & truth, said & ~truth, ~said & truth], axis=1)
        estimate = np.array([np.nan if row[key] is None else row[key]
                             for key in ("precision", "recall", "f1")])
        reasons = tuple(
            None if row[key] is not None else f"{key} of {name!r} is undefined (0 / 0)"
            for key in ("precision", "recall", "f1")
        )
        return _Linear(("precision", "recall", "f1"), (name,) * 3, reasons,
                       indicators[frame.order], _rates, estimate)


def _rates(sums: np.ndarray) -> np.ndarray:
    tp, fp, fn = sums.T.astype(np.float64)
    return np.stack([ratio(tp, tp + fp), ratio(tp, tp + fn), ratio(2 * tp, 2 * tp + fp + fn)], axis=1)


class Combined(Statistic):
    """Several statistics on the same resamples: their figures side by side.

    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 1, 0, 1, 1, 0], [.1, .8, .4, .35, .9, .2])
    >>> both = Combined(PerClassRocAuc(), Accuracy())
    >>> [(iv.metric, round(iv.estimate, 4))
    ...  for iv in bootstrap_interval(p, both, n_resamples=200, random_state=0)]
    [('roc_auc', 0.8889), ('accuracy', 0.8333)]
    """

    def __init__(self, *statistics: Statistic):
        if not statistics:
            raise InputError("Combined needs at least one statistic")
        for s in statistics:
            if not isinstance(s, Statistic):
                raise InputError(f"Combined takes Statistic objects (the ready ones), got {s!r}")
        self.statistics = statistics

    def prepare(self, predictions, frame, curves=None):
        return _CombinedPrepared([s.prepare(predictions, frame, curves) for s in self.statistics])


@dataclass(frozen=True, eq=False)
class Bootstrap:
    """The bootstrap distribution of a statistic: ``samples[r, d]`` is figure d on resample
    r (NaN where undefined), ``estimate[d]`` its value on the data.

    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 1, 0, 1, 1, 0], [.1, .8, .4, .35, .9, .2])
    >>> boot = bootstrap_distribution(p, PerClassRocAuc(), n_resamples=200, random_state=0)
    >>> boot.samples.shape, boot.names, round(float(boot.estimate[0]), 4)
    ((200, 1), ('1',), 0.8889)
    >>> iv = boot.intervals(0.9)[0]
    >>> iv.level, [round(b, 4) for b in iv.bounds]
    (0.9, [0.5556, 1.0])
    """

    metrics: tuple[str, ...]
    names: tuple[str, ...]
    estimate: np.ndarray
    samples: np.ndarray
    reasons: tuple[str | None, ...]
    scalar: bool = False

    def intervals(self, level: float = DEFAULT_LEVEL) -> Interval | list[Interval]:
        """Percentile intervals: one Interval for a scalar statistic, else one per figure."""
        alpha = (1.0 - _checked_level(level)) / 2
        out = []
        total = self.samples.shape[0]
        for d, (metric, name) in enumerate(zip(self.metrics, self.names)):
            estimate = float(self.estimate[d])
            values = self.samples[:, d]
            values = values[~np.isnan(values)]
            if np.isnan(estimate):
                reason = self.reasons[d] or f"{metric} of {name!r} is undefined on the data"
                out.append(Interval(metric, name, None, None, None, level, "bootstrap",
                                    int(values.size), reason))
                continue
            if not values.size:
                out.append(Interval(metric, name, estimate, None, None, level, "bootstrap", 0,
                                    f"{metric} of {name!r} is undefined in every resample"))
                continue
            low, high = np.quantile(values, [alpha, 1.0 - alpha])
            reason = None
            if values.size < total:
                reason = (f"undefined in {total - values.size} of {total} resamples; the "
                          f"interval is over the other {values.size}")
            out.append(Interval(metric, name, estimate, float(low), float(high), level,
                                "bootstrap", int(values.size), reason))
        return out[0] if self.scalar else out


def bootstrap_distribution(
    predictions: Predictions,
    statistic: Statistic | Callable[[Predictions], object],
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int | np.random.Generator | None = None,
    progress: Progress | None = None,
    curves: CurveSet | None = None,
    names: Sequence[str] | None = None,
) -> Bootstrap:
    """Draw ``n_resamples`` stratified resamples and evaluate ``statistic`` on each.

    A :class:`Statistic` (the ready ones: :class:`PerClassRocAuc`,
    :class:`PerClassAveragePrecision`, :class:`AveragedRocAuc`, :class:`Accuracy`,
    :class:`ClassRates`, :class:`Combined`) is evaluated on chunks of multiplicity vectors,
    vectorised; ``curves`` (the CurveSet of ``predictions``) lets the ranking statistics reuse
    its sorted scores. Any other callable is called with each resample as a Predictions (rows
    drawn with replacement): general, and as slow as the callable. Both draw the same
    resamples from the same seed. ``progress(done, total)`` is called after every chunk.

    >>> import numpy as np
    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 1, 0, 1, 1, 0], [.1, .8, .4, .35, .9, .2])
    >>> fast = bootstrap_distribution(p, Accuracy(), n_resamples=100, random_state=0)
    >>> by_hand = lambda q: float(np.mean((q.scores[:, 0] >= 0.5) == q.y_true))
    >>> slow = bootstrap_distribution(p, by_hand, n_resamples=100, random_state=0)
    >>> np.array_equal(fast.samples, slow.samples), round(float(fast.samples.mean()), 4)
    (True, 0.8533)
    """
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) \
            or n_resamples < 1:
        raise InputError(f"expected n_resamples to be a positive integer, got {n_resamples!r}")
    n_resamples = int(n_resamples)
    try:
        rng = np.random.default_rng(random_state)
    except (TypeError, ValueError):
        raise InputError(
            f"random_state must be an int seed, a numpy Generator or None, got {random_state!r}"
        ) from None
    frame = _Frame(predictions)
    chunk = max(1, min(n_resamples, CHUNK_CELLS // max(frame.n, 1)))
    if isinstance(statistic, Statistic):
        prepared = statistic.prepare(predictions, frame, curves)
        estimate = np.asarray(prepared.estimate, dtype=np.float64)
        samples = np.empty((n_resamples, estimate.size))
        for start in range(0, n_resamples, chunk):
            count = min(chunk, n_resamples - start)
            samples[start : start + count] = prepared.evaluate(frame.weights(rng, count))
            if progress is not None:
                progress(start + count, n_resamples)
        metrics, labels, reasons, scalar = (prepared.metrics, prepared.names, prepared.reasons,
                                            prepared.scalar)
    elif callable(statistic):
        estimate, scalar = _as_figures(statistic(predictions))
        samples = np.empty((n_resamples, estimate.size))
        for r in range(n_resamples):
            rows = frame.indices(rng)
            resample = replace(predictions, y_true=predictions.y_true[rows],
                               scores=predictions.scores[rows], split=None, model=None)
            value, _ = _as_figures(statistic(resample))
            if value.size != estimate.size:
                raise InputError(f"the statistic gave {estimate.size} figure(s) on the data "
                                 f"but {value.size} on resample {r}")
            samples[r] = value
            if progress is not None and ((r + 1) % chunk == 0 or r + 1 == n_resamples):
                progress(r + 1, n_resamples)
        metrics = ("statistic",) * estimate.size
        labels = tuple(str(i) for i in range(estimate.size)) if not scalar else ("statistic",)
        reasons = (None,) * estimate.size
    else:
        raise InputError(f"statistic must be a Statistic or a callable, got {statistic!r}")
    if names is not None:
        labels = tuple(str(n) for n in names)
        if len(labels) != estimate.size:
            raise InputError(f"got {len(labels)} names for {estimate.size} figures")
    return Bootstrap(tuple(metrics), tuple(labels), estimate, samples, tuple(reasons), scalar)


def bootstrap_interval(
    predictions: Predictions,
    statistic: Statistic | Callable[[Predictions], object],
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    random_state: int | np.random.Generator | None = None,
    progress: Progress | None = None,
    curves: CurveSet | None = None,
    names: Sequence[str] | None = None,
) -> Interval | list[Interval]:
    """Stratified percentile bootstrap interval(s) of ``statistic`` (see
    :func:`bootstrap_distribution`): one Interval when the statistic gives one number, else a
    list, one per figure.

    >>> import numpy as np
    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 1, 0, 1, 1, 0], [.1, .8, .4, .35, .9, .2])
    >>> bootstrap_interval(p, PerClassRocAuc(), n_resamples=200, random_state=0)[0].estimate
    0.8888888888888888
    """
    _checked_level(level)
    return bootstrap_distribution(
        predictions, statistic, n_resamples=n_resamples, random_state=random_state,
        progress=progress, curves=curves, names=names,
    ).intervals(level)


def summary_intervals(
    predictions: Predictions,
    curves: CurveSet,
    *,
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int | np.random.Generator | None = 0,
    progress: Progress | None = None,
) -> SummaryIntervals:
    """The intervals of ``evalcore summary --ci`` (:class:`SummaryIntervals`): per class
    DeLong's ROC AUC and the bootstrap's AP; micro and macro ROC AUC and the headline
    accuracy. One bootstrap run serves them all.

    >>> import numpy as np
    >>> from evalcore import Predictions, compute_curves
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> p = Predictions.from_arrays(y, np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1))
    >>> si = summary_intervals(p, compute_curves(p), n_resamples=200)
    >>> [round(b, 4) for b in si.accuracy.bounds], si.to_dict()["n_resamples"]
    ([0.615, 0.7451], 200)
    """
    _checked_level(level)
    _checked_curves(predictions, curves)
    delongs = auc_intervals(curves, level=level)
    boot = bootstrap_distribution(
        predictions, Combined(_Ranking(average_precision=True, micro=True, macro=True),
                              Accuracy()),
        n_resamples=n_resamples, random_state=random_state, progress=progress, curves=curves,
    )
    intervals = boot.intervals(level)
    k = len(curves.names)
    micro, macro, accuracy = intervals[k:]
    return SummaryIntervals(
        level=level, n_resamples=boot.samples.shape[0],
        random_state=random_state if isinstance(random_state, int) else None,
        methods={"roc_auc": "DeLong (Sun & Xu midranks), normal approximation",
                 "other": "stratified percentile bootstrap" if predictions.task != "multilabel"
                 else "percentile bootstrap of rows"},
        roc_auc=tuple(delongs), average_precision=tuple(intervals[:k]), micro=micro,
        macro=macro, accuracy=accuracy)


# --------------------------------------------------------------------------- fast statistics


class _Ranked:
    """One ranking (a class' curve, or the micro average) prepared for weighted resamples.

    ``pos``: the positives' scores ascending, ``pos_at``: their weight-layout positions (the
    micro average repeats positions: a sample is in it once per class). ``columns``: one or
    more sets of negatives (a class has one; the micro average one per class), each as
    (scores ascending, their layout positions, the layout positions of that set's
    positives). Every negative y is placed once among the sorted positives (#pos < y), so a
    resample needs no pass in score order:

    - ROC AUC alone (``histogram=False``): 2U = 2 W+ W- - sum over negatives of
      w (C[#pos < y] + C[#pos <= y]), C the cumulative weight of the sorted positives: one
      gather from C per layout position;
    - with AP (``histogram=True``): the weight of the negatives between consecutive positive
      scores (a weighted bincount per resample) gives, for each positive, the weight of the
      negatives scoring at least as high (AP) and lower (AUC).
    """

    def __init__(self, pos: np.ndarray, pos_at: np.ndarray, columns, n_layout: int, *,
                 histogram: bool):
        m = self.m = int(pos.size)
        self.pos_at = pos_at
        self.histogram = histogram
        new = np.empty(m, dtype=bool)
        new[:1] = True
        np.not_equal(pos[1:], pos[:-1], out=new[1:])
        # per positive: the index of the first positive with the same score
        self.group = np.maximum.accumulate(np.where(new, np.arange(m), 0))
        self.distinct = bool(new.all())
        self.columns = []
        for neg, neg_at, column_pos_at in columns:
            low, high = _below(pos, neg)  # per negative: #pos < y, #pos <= y
            tied = np.flatnonzero(low != high)
            # layout positions that are not negatives of this column point at a zero bin
            place = np.full(n_layout, m + 1, dtype=np.intp)
            place[neg_at] = low
            if histogram:  # negatives tied with a positive go to a second set of bins
                place[neg_at[tied]] += m + 2
                self.columns.append((place, column_pos_at, None))
            else:
                self.columns.append((place, column_pos_at, (neg_at[tied], low[tied], high[tied])))

    def evaluate(self, w: np.ndarray, w_float: np.ndarray, auc: bool, ap: bool):
        """(AUC, AP) of each weight row (NaN where undefined): O(N) per row, no sort."""
        if not self.histogram:
            return self._auc_by_gaps(w), None
        b, m = w.shape[0], self.m
        wp = np.take(w_float, self.pos_at, axis=1)  # positives' weights, ascending scores
        w_pos = wp.sum(axis=1)
        hist = np.empty((b, 2 * m + 4))
        for row in range(b):
            for i, (place, _, _) in enumerate(self.columns):
                counted = np.bincount(place, weights=w_float[row], minlength=2 * m + 4)
                if i:
                    hist[row] += counted
                else:
                    hist[row] = counted
        tied = hist[:, m + 2 : 2 * m + 3]  # negatives equal to the positives of bin s
        between = hist[:, : m + 1] + tied  # negatives y with #pos < y == s
        above = np.zeros((b, m + 2))  # above[:, s]: weight of negatives with #pos < y >= s
        above[:, : m + 1] = np.cumsum(between[:, ::-1], axis=1)[:, ::-1]
        w_neg = above[:, 0]
        higher = np.take(above, self.group + 1, axis=1)  # negatives above each positive
        ties = np.take(tied, self.group, axis=1)  # negatives tied with it
        out_auc = out_ap = None
        if auc:  # sum of w_i (#neg < x_i + #neg <= x_i)
            u2 = np.einsum("ij,ij->i", wp, 2 * (w_neg[:, None] - higher) - ties)
            out_auc = ratio(u2, 2 * w_pos * w_neg)
        if ap:
            pos_before = np.cumsum(wp, axis=1)
            pos_before -= wp
            if not self.distinct:
                pos_before = np.take(pos_before, self.group, axis=1)
            tp = w_pos[:, None] - pos_before  # positives scoring at least x_i
            fp = higher + ties  # negatives scoring at least x_i
            fp += tp
            precision = np.divide(tp, fp, out=np.zeros_like(tp), where=fp > 0)
            out_ap = ratio(np.einsum("ij,ij->i", wp, precision), w_pos)
        return out_auc, out_ap

    def _auc_by_gaps(self, w: np.ndarray) -> np.ndarray:
        b, m = w.shape[0], self.m
        table = np.zeros((b, m + 2), dtype=_count_dtype(w))  # table[:, j]: first j positives
        np.cumsum(np.take(w, self.pos_at, axis=1), axis=1, dtype=table.dtype,
                  out=table[:, 1 : m + 1])
        w_pos = table[:, m].astype(np.float64)
        w_neg = np.zeros(b)
        lower = np.zeros(b, dtype=np.int64)  # sum over negatives of w (C[#pos<y] + C[#pos<=y])
        for place, column_pos_at, (tied_at, tied_low, tied_high) in self.columns:
            lower += 2 * np.einsum("ij,ij->i", w, np.take(table, place, axis=1), dtype=np.int64)
            if tied_at.size:  # C[#pos <= y] - C[#pos < y] for negatives tied with positives
                step = np.take(table, tied_high, axis=1) - np.take(table, tied_low, axis=1)
                lower += np.einsum("ij,ij->i", np.take(w, tied_at, axis=1), step,
                                   dtype=np.int64)
            # every resample draws N samples: a column's negatives weigh N - its positives
            w_neg += w.shape[1] - np.take(w, column_pos_at, axis=1).sum(axis=1, dtype=np.int64)
        pairs = 2 * w_pos * w_neg
        return ratio(pairs - lower, pairs)


def _count_dtype(w: np.ndarray) -> type:
    """int32 for cumulative weights and sums of two of them (at most 2 N) while they surely
    fit, else int64."""
    return np.int32 if w.shape[1] < 1 << 29 else np.int64


class _RankingPrepared(_Prepared):
    def __init__(self, spec: _Ranking, p: Predictions, frame: _Frame, curves: CurveSet | None):
        self.spec = spec
        names = p.curve_names
        self.k = len(names)
        histogram = spec.average_precision
        sides = []
        for c in range(self.k):
            pos, neg, pos_ids, neg_ids = _sorted_sides(p, c, curves)
            sides.append((pos, neg, frame.position[pos_ids], frame.position[neg_ids]))
        # a class with positives has an AP; its AUC also needs negatives (NaN otherwise)
        self.rankings = [
            _Ranked(pos, pos_at, [(neg, neg_at, pos_at)], frame.n, histogram=histogram)
            if pos.size else None
            for pos, neg, pos_at, neg_at in sides
        ]
        auc_reasons = [
            None if pos.size and neg.size else _undefined_reason(names[c], pos.size, neg.size)
            for c, (pos, neg, _, _) in enumerate(sides)
        ]
        ap_reasons = [
            None if pos.size else f"no positive samples of {names[c]!r}: AP is undefined"
            for c, (pos, _, _, _) in enumerate(sides)
        ]
        self.micro = None
        if spec.micro:
            if self.k == 1:
                self.micro = self.rankings[0] if auc_reasons[0] is None else None
            else:
                pos, pos_at = _merge([(s[0], s[2]) for s in sides])
                if pos.size and sum(s[1].size for s in sides):
                    self.micro = _Ranked(pos, pos_at, [(s[1], s[3], s[2]) for s in sides],
                                         frame.n, histogram=False)
        del sides
        metrics, labels, why = [], [], []
        for flag, metric, reasons in ((spec.roc_auc, "roc_auc", auc_reasons),
                                      (spec.average_precision, "average_precision", ap_reasons)):
            if flag:
                metrics += [metric] * self.k
                labels += list(names)
                why += reasons
        if spec.micro:
            metrics.append("roc_auc")
            labels.append("micro")
            why.append(None if self.micro is not None else "micro ROC AUC is undefined: "
                       "no positive or no negative one-vs-rest pair")
        if spec.macro:
            metrics.append("roc_auc")
            labels.append("macro")
            why.append(None if any(r is None for r in auc_reasons)
                       else "macro ROC AUC is undefined: no class has a defined ROC AUC")
        self.metrics, self.names, self.reasons = tuple(metrics), tuple(labels), tuple(why)
        self.estimate = self.evaluate(np.ones((1, frame.n), dtype=np.int32))[0]

    def evaluate(self, w: np.ndarray) -> np.ndarray:
        spec = self.spec
        b = w.shape[0]
        want_auc = spec.roc_auc or spec.macro
        w_float = w.astype(np.float64) if spec.average_precision else None
        aucs = np.full((b, self.k), np.nan)
        aps = np.full((b, self.k), np.nan)
        for c, ranking in enumerate(self.rankings):
            if ranking is not None and (want_auc or spec.average_precision):
                auc, ap = ranking.evaluate(w, w_float, want_auc, spec.average_precision)
                if auc is not None:
                    aucs[:, c] = auc
                if ap is not None:
                    aps[:, c] = ap
        columns = []
        if spec.roc_auc:
            columns.append(aucs)
        if spec.average_precision:
            columns.append(aps)
        if spec.micro:
            if self.micro is None:
                columns.append(np.full((b, 1), np.nan))
            elif self.micro is self.rankings[0] and want_auc:
                columns.append(aucs[:, :1])
            else:
                columns.append(self.micro.evaluate(w, w_float, True, False)[0][:, None])
        if spec.macro:
            defined = ~np.isnan(aucs)
            total = np.where(defined, aucs, 0.0).sum(axis=1)
            columns.append(ratio(total, defined.sum(axis=1))[:, None])
        return np.concatenate(columns, axis=1)


class _Linear(_Prepared):
    """Figures that are functions of weighted sums of per-sample indicators."""

    def __init__(self, metrics, names, reasons, indicators, finish, estimate, scalar=False):
        self.metrics, self.names, self.reasons = metrics, names, reasons
        self.indicators = np.ascontiguousarray(indicators, dtype=np.int64)
        self.finish = finish
        self.estimate = np.asarray(estimate, dtype=np.float64)
        self.scalar = scalar

    def evaluate(self, w: np.ndarray) -> np.ndarray:
        return self.finish(w @ self.indicators)


class _CombinedPrepared(_Prepared):
    def __init__(self, parts: list[_Prepared]):
        self.parts = parts
        self.metrics = sum((p.metrics for p in parts), ())
        self.names = sum((p.names for p in parts), ())
        self.reasons = sum((p.reasons for p in parts), ())
        self.estimate = np.concatenate([np.atleast_1d(p.estimate) for p in parts])

    def evaluate(self, w: np.ndarray) -> np.ndarray:
        return np.concatenate([p.evaluate(w).reshape(w.shape[0], -1) for p in self.parts],
                              axis=1)


def _sorted_sides(p: Predictions, c: int, curves: CurveSet | None):
    """(positives' scores ascending, negatives' scores ascending, the samples in those orders).

    With ``curves``, its sorted arrays are reused and each sample is placed by binary search
    (no sort); otherwise one argsort per side."""
    column = p.scores[:, c]
    mask = np.asarray(p.positives(c), dtype=bool)
    out = []
    st = None if curves is None else curves.stats[c]
    for samples, sorted_values in (
        (np.flatnonzero(mask), None if st is None else np.repeat(st.values, st.pos)),
        (np.flatnonzero(~mask), None if st is None else np.repeat(st.values, st.neg)),
    ):
        values = column[samples]
        if sorted_values is None:
            order = np.argsort(values, kind="stable")
            out.append((values[order], samples[order]))
        else:
            out.append((sorted_values, samples[_order_of(sorted_values, values)]))
    (pos, pos_ids), (neg, neg_ids) = out
    return pos, neg, pos_ids, neg_ids


def _order_of(sorted_values: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The permutation ``perm`` with ``values[perm] == sorted_values``, by binary search (O(n
    log n), no sort; tied values are placed in order of appearance). InputError when
    ``sorted_values`` does not hold exactly ``values`` (curves of other predictions)."""
    mismatch = InputError("the CurveSet was not computed from these predictions")
    if sorted_values.size != values.size:
        raise mismatch
    if not values.size:
        return np.empty(0, dtype=np.intp)
    keys = values
    if values.dtype != sorted_values.dtype:
        keys = values.astype(sorted_values.dtype)
        if not np.array_equal(keys, values):
            raise mismatch
    first = np.searchsorted(sorted_values, keys, side="left")
    if first.max() >= sorted_values.size or not np.array_equal(sorted_values[first], keys):
        raise mismatch
    nxt = np.minimum(first + 1, sorted_values.size - 1)
    tied = (first + 1 < sorted_values.size) & (sorted_values[nxt] == keys)
    perm = np.empty(values.size, dtype=np.intp)
    alone = np.flatnonzero(~tied)
    perm[first[alone]] = alone
    tied = np.flatnonzero(tied)
    if tied.size:  # a block of equal values: places first, first + 1, ... in appearance order
        tied = tied[np.argsort(first[tied], kind="stable")]
        starts = first[tied]
        perm[starts + np.arange(tied.size) - np.searchsorted(starts, starts, side="left")] = tied
    return perm


def _merge(runs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Merge sorted runs (values, positions): a stable sort of sorted runs is a K-way merge."""
    values = np.concatenate([v for v, _ in runs])
    at = np.concatenate([a for _, a in runs])
    order = np.argsort(values, kind="stable")
    return values[order], at[order]


def _checked_curves(p: Predictions, curves: CurveSet | None) -> CurveSet | None:
    if curves is None:
        return None
    if not isinstance(curves, CurveSet):
        raise InputError(f"curves must be a CurveSet, got {type(curves).__name__}")
    if curves.n_samples != p.n_samples or curves.names != p.curve_names:
        raise InputError(
            f"the CurveSet ({curves.n_samples} samples, classes {list(curves.names)}) was not "
            f"computed from these predictions ({p.n_samples} samples, classes "
            f"{list(p.curve_names)})"
        )
    return curves


def _as_figures(value) -> tuple[np.ndarray, bool]:
    """A statistic's value as a float vector (None -> NaN) and whether it was a scalar."""
    try:
        array = np.asarray(value if value is not None else np.nan, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"the statistic must return a number or an array of numbers, "
                         f"got {value!r}") from None
    if array.ndim > 1:
        raise InputError(f"the statistic must return a number or a 1-D array, got shape "
                         f"{array.shape}")
    return array.reshape(-1), array.ndim == 0
