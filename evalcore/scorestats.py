"""Mergeable statistics of one one-vs-rest curve: the distinct scores ascending, with how many
positives and negatives hold each. Every ranking figure follows from them (AUC, AP, counts at a
threshold, the exact curve, plot curves, DeLong's components), whoever counted them: NumPy from
rows in memory, DuckDB or Spark from files or tables of any size. Two partial statistics of the
same curve (chunks, files, partitions) merge by adding counts.

When a curve has more distinct scores than a budget, neighbouring scores are pooled into bins
of one shared grid (:func:`bin_edges`): the statistics say ``exact=False`` and carry bounds.
Pairs tied inside a bin count one half, so

    |AUC - AUC_binned| <= 1/2 * sum_b pos_b * neg_b / (P * N)

and AP lies between its values with each bin's positives ranked first and ranked last. The
thresholds of binned statistics are bin edges.

>>> import numpy as np
>>> a = CurveStats.from_scores(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
>>> a.values.tolist(), a.pos.tolist(), a.neg.tolist(), a.auc()
([0.1, 0.35, 0.4, 0.8], [0, 1, 0, 1], [1, 0, 1, 0], 0.75)
>>> a.counts_at(0.35)   # TP, FP of score >= 0.35
(2, 1)
>>> b = CurveStats.from_scores(np.array([0.4, 0.9]), np.array([1, 0]))
>>> m = a.merge(b)
>>> m.values.tolist(), m.pos.tolist(), m.neg.tolist()
([0.1, 0.35, 0.4, 0.8, 0.9], [0, 1, 1, 1, 0], [1, 0, 1, 0, 1])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evalcore.predictions import threshold_in_dtype

#: distinct scores a curve keeps exactly; above this the engines bin (a setting)
DEFAULT_BUDGET = 1 << 20


@dataclass(frozen=True, eq=False)
class CurveStats:
    """Counts of one curve by distinct score. ``values`` ascending; ``tp[i]`` and ``fp[i]`` are
    the positives and negatives scoring ``values[i]`` or more (so the counts at a threshold
    are one binary search away). ``exact`` False: scores were pooled into bins (``values`` are
    the bins' lower edges) and :meth:`auc_bound` / :meth:`ap_bounds` say how far the figures
    can be from the exact ones.

    >>> st = CurveStats.from_counts([0.8, 0.1, 0.35, 0.4], [1, 0, 1, 0], [0, 1, 0, 1])
    >>> st.values.tolist(), st.tp.tolist(), st.fp.tolist(), st.auc(), st.exact
    ([0.1, 0.35, 0.4, 0.8], [2, 2, 1, 1], [2, 1, 1, 0], 0.75, True)
    >>> b = st.binned(bin_edges(0.0, 1.0, 2))   # two bins: the figures carry a bound
    >>> b.exact, b.values.tolist(), b.auc(), b.auc_bound()
    (False, [0.0, 0.5], 0.75, 0.25)
    """

    values: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    exact: bool = True
    n_distinct: int | None = None  # distinct scores counted before binning, where known

    def __post_init__(self) -> None:
        for array in (self.values, self.tp, self.fp):
            array.flags.writeable = False

    # ------------------------------------------------------------------ building

    @classmethod
    def from_scores(cls, scores: np.ndarray, positive: np.ndarray) -> CurveStats:
        """From one column of scores and its 0/1 (or bool) positives, any order."""
        order = np.argsort(scores, kind="stable")
        return cls.from_sorted(np.asarray(scores)[order], np.asarray(positive, bool)[order])

    @classmethod
    def from_sorted(cls, values: np.ndarray, is_positive: np.ndarray) -> CurveStats:
        """From scores sorted ascending and their positives (tied scores in any order)."""
        n = values.size
        dtype = _count_dtype(n)
        new = np.empty(n, dtype=bool)
        new[:1] = True
        np.not_equal(values[1:], values[:-1], out=new[1:])
        first = np.flatnonzero(new)
        del new
        cumulative = np.cumsum(is_positive, dtype=dtype)  # positives up to each row
        n_pos = int(cumulative[-1]) if n else 0
        tp = np.zeros(first.size, dtype=dtype)
        np.take(cumulative, first[1:] - 1, out=tp[1:])  # positives below each value
        del cumulative
        np.subtract(dtype(n_pos), tp, out=tp)
        fp = np.subtract(dtype(n), first, dtype=dtype, casting="unsafe")  # samples at or above
        fp -= tp
        return cls(values[first], tp, fp)

    @classmethod
    def _from_below(cls, values, pos_below, all_below, n_pos: int, n: int,
                    exact: bool = True, n_distinct: int | None = None) -> CurveStats:
        """From the positives and all samples strictly below each value."""
        tp = n_pos - pos_below
        fp = (n - all_below) - tp
        dtype = _count_dtype(n)
        return cls(values, tp.astype(dtype), fp.astype(dtype), exact, n_distinct)

    @classmethod
    def from_sides(cls, positives: np.ndarray, negatives: np.ndarray) -> CurveStats:
        """From the scores of the positives and of the negatives, each sorted ascending: the
        smaller side is placed into the larger by binary search (ties: positives first)."""
        values = np.concatenate([positives, negatives])
        values.sort()
        if positives.size <= negatives.size:
            is_positive = np.zeros(values.size, dtype=bool)
            at = np.searchsorted(negatives, positives, side="left")
            at += np.arange(positives.size)
            is_positive[at] = True
        else:
            is_positive = np.ones(values.size, dtype=bool)
            at = np.searchsorted(positives, negatives, side="right")
            at += np.arange(negatives.size)
            is_positive[at] = False
        del at
        return cls.from_sorted(values, is_positive)

    @classmethod
    def from_counts(cls, values, pos, neg, *, exact: bool = True,
                    n_distinct: int | None = None) -> CurveStats:
        """From (score, positives, negatives) rows in any order, duplicates of a score added
        (what a GROUP BY returns, or the union of partial results)."""
        values = np.asarray(values)
        pos = np.asarray(pos, dtype=np.int64)
        neg = np.asarray(neg, dtype=np.int64)
        if values.size and np.any(values[1:] <= values[:-1]):
            if np.any(values[1:] < values[:-1]):
                order = np.argsort(values, kind="stable")
                values, pos, neg = values[order], pos[order], neg[order]
            new = np.empty(values.size, dtype=bool)
            new[0] = True
            np.not_equal(values[1:], values[:-1], out=new[1:])
            first = np.flatnonzero(new)
            values = values[first]
            pos, neg = np.add.reduceat(pos, first), np.add.reduceat(neg, first)
        keep = (pos + neg) > 0
        if not keep.all():
            values, pos, neg = values[keep], pos[keep], neg[keep]
        pos_below = np.cumsum(pos) - pos
        all_below = np.cumsum(pos + neg) - (pos + neg)
        return cls._from_below(values, pos_below, all_below, int(pos.sum()),
                               int(pos.sum() + neg.sum()), exact, n_distinct)

    def merge(self, other: CurveStats) -> CurveStats:
        """The statistics of both parts together (the counts of equal scores added)."""
        return CurveStats.from_counts(
            np.concatenate([self.values, other.values]),
            np.concatenate([self.pos, other.pos]), np.concatenate([self.neg, other.neg]),
            exact=self.exact and other.exact)

    def binned(self, edges: np.ndarray) -> CurveStats:
        """Pooled into the bins [edges[i], edges[i + 1]) (the last one closed); ``values``
        become the lower edges."""
        index = np.clip(np.searchsorted(edges, self.values, side="right") - 1, 0, edges.size - 2)
        pos = np.bincount(index, weights=self.pos, minlength=edges.size - 1).astype(np.int64)
        neg = np.bincount(index, weights=self.neg, minlength=edges.size - 1).astype(np.int64)
        return CurveStats.from_counts(edges[:-1], pos, neg, exact=False,
                                      n_distinct=self.n_distinct or self.values.size)

    # ------------------------------------------------------------------ totals

    @property
    def n_pos(self) -> int:
        return int(self.tp[0]) if self.tp.size else 0

    @property
    def n_neg(self) -> int:
        return int(self.fp[0]) if self.fp.size else 0

    @property
    def pos(self) -> np.ndarray:
        """Positives scoring each value."""
        return _at_each(self.tp)

    @property
    def neg(self) -> np.ndarray:
        """Negatives scoring each value."""
        return _at_each(self.fp)

    # ------------------------------------------------------------------ ranking metrics

    def u2(self) -> int:
        """2 U: (positive, negative) pairs ranked right count 2, tied ones 1 (exact):
        sum_v neg_v * (pos above v + pos at or above v). In float64 while 2 P N < 2^53 (every
        product and partial sum is then an integer float64 holds exactly)."""
        exact_in_float = 2 * self.n_pos * self.n_neg < 2**53
        tp = self.tp.astype(np.float64 if exact_in_float else np.int64)
        fp = self.fp.astype(tp.dtype)
        if not tp.size:
            return 0
        total = np.dot(fp[:-1] - fp[1:], tp[:-1] + tp[1:]) + fp[-1] * tp[-1]
        return int(total)

    def auc(self) -> float | None:
        p, n = self.n_pos, self.n_neg
        return self.u2() / (2 * p * n) if p and n else None

    def auc_bound(self) -> float:
        """How far the AUC can be from the exact one: pairs tied inside bins (0 when exact)."""
        if self.exact:
            return 0.0
        p, n = self.n_pos, self.n_neg
        return float(np.dot(self.pos, self.neg) / (2 * p * n)) if p and n else 0.0

    def ap(self) -> float | None:
        """Average precision: the sum over values of (R_v - R_v+1) P_v (scikit-learn's)."""
        p = self.n_pos
        if not p:
            return None
        tp = self.tp.astype(np.float64)
        precision = tp / (tp + self.fp)
        return float(np.dot(_at_each(tp), precision)) / p

    def ap_bounds(self) -> tuple[float, float] | None:
        """(lowest, highest) AP the binned scores allow: each bin's positives ranked after, or
        before, its negatives (both equal :meth:`ap` when exact)."""
        p = self.n_pos
        if not p:
            return None
        if self.exact:
            value = self.ap()
            return value, value
        pos, neg = self.pos, self.neg
        has = np.flatnonzero(pos)
        k = pos[has]
        t = self.tp[has].astype(np.int64) - k  # positives above the bin
        a = t + self.fp[has].astype(np.int64) - neg[has]  # samples above the bin
        # the i-th positive of a bin, i = 1..k: precision (t + i) / (a + i) ranked first, and
        # (t + i) / (a + neg_b + i) ranked last; sum_i (t + i) / (c + i) = k - (c - t) S(c, k)
        high = np.sum(k - (a - t) * _harmonic(a, k)) / p
        c = a + neg[has]
        low = np.sum(k - (c - t) * _harmonic(c, k)) / p
        return float(low), float(high)

    # ------------------------------------------------------------------ counts and curves

    def counts_at(self, threshold: float) -> tuple[int, int]:
        """(TP, FP) of ``score >= threshold`` (binned: at bin edges only)."""
        key = threshold_in_dtype(threshold, self.values.dtype)
        i = int(np.searchsorted(self.values, key, side="left"))
        return (int(self.tp[i]), int(self.fp[i])) if i < self.values.size else (0, 0)

    def distinct_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(thresholds descending, TP, FP) at every value: the exact curve, as scikit-learn's
        ``confusion_matrix_at_thresholds``."""
        return (self.values[::-1].astype(np.float64), self.tp[::-1].astype(np.int64),
                self.fp[::-1].astype(np.int64))

    def components(self) -> tuple[np.ndarray, np.ndarray]:
        """DeLong's structural components per value: V10 of a positive there (the share of
        negatives it outranks, ties one half) and V01 of a negative there (the share of
        positives above it, ties one half)."""
        p, n = self.n_pos, self.n_neg
        neg, pos = self.neg, self.pos
        neg_below = n - self.fp.astype(np.int64)
        pos_above = self.tp.astype(np.int64) - pos
        v10 = (neg_below + neg / 2) / n if n else np.full(self.values.size, np.nan)
        v01 = (pos_above + pos / 2) / p if p else np.full(self.values.size, np.nan)
        return v10, v01


def _at_each(cumulative: np.ndarray) -> np.ndarray:
    """Per-value counts from counts at or above each value (int64, or float64 kept)."""
    c = cumulative if cumulative.dtype == np.float64 else cumulative.astype(np.int64)
    out = np.empty_like(c)
    np.subtract(c[:-1], c[1:], out=out[:-1])
    out[-1:] = c[-1:]
    return out


def _count_dtype(n: int):
    """The smallest unsigned integer type holding counts up to ``n``."""
    return np.uint32 if n < 2**32 else np.int64


SHORT_SUM = 64  # terms summed one by one; longer sums from the digamma function


def _harmonic(c: np.ndarray, k: np.ndarray) -> np.ndarray:
    """sum_{i=1..k} 1 / (c + i), elementwise: exactly for short sums, else from the
    asymptotic expansion of the digamma function (error far below 1e-12)."""
    c = np.asarray(c, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    out = np.zeros_like(c)
    short = k <= SHORT_SUM
    cs, ks = c[short], k[short]
    total = np.zeros_like(cs)
    for i in range(1, int(ks.max(initial=0)) + 1):  # term by term, every short sum at once
        total += np.where(i <= ks, 1.0 / (cs + i), 0.0)
    out[short] = total
    long_ = ~short
    out[long_] = _digamma(c[long_] + k[long_] + 1) - _digamma(c[long_] + 1)
    return out


def _digamma(x: np.ndarray) -> np.ndarray:
    """psi(x) for x >= 1: shifted up by 6, then the asymptotic series."""
    x = np.asarray(x, dtype=np.float64).copy()
    shift = np.zeros_like(x)
    for _ in range(6):
        small = x < 7
        shift[small] -= 1.0 / x[small]
        x[small] += 1
    inv = 1.0 / x
    inv2 = inv * inv
    series = (np.log(x) - 0.5 * inv
              - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132)))))
    return series + shift


def bin_edges(low: float, high: float, bins: int = DEFAULT_BUDGET) -> np.ndarray:
    """``bins`` equal-width bins over [low, high], shared by every curve (so that binned
    statistics of different curves and parts merge): ``bins + 1`` edges.

    >>> bin_edges(0.0, 1.0, 4).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> bin_edges(0.5, 0.5, 2).tolist()   # all scores equal: the range widens to 1
    [0.5, 1.0, 1.5]
    """
    if not math.isfinite(low) or not math.isfinite(high):
        raise ValueError("scores must be finite")
    if high <= low:
        high = low + 1.0
    return np.linspace(low, high, bins + 1)


@dataclass(frozen=True)
class StreamResult:
    """What :class:`SortedStream` gathered: the curve's statistics (exact, or binned when it had
    more distinct scores than the budget) and its exact figures whatever the number of rows.

    >>> import numpy as np
    >>> s = SortedStream(n_pos=2, n=4)
    >>> s.add(np.array([0.1, 0.35, 0.4, 0.8]), np.array([False, True, False, True]))
    >>> r = s.result()
    >>> r.u2, round(r.ap, 4), r.stats.exact, r.stats.auc()
    (6, 0.8333, True, 0.75)
    """

    stats: CurveStats
    u2: int  # 2 U: exact
    ap: float | None  # exact (the same sum as CurveStats.ap)
    u2_by_label: np.ndarray | None  # Hand & Till's pairs: 2 U against each label's samples


class SortedStream:
    """One curve's statistics from its rows streamed in ascending score order, batch by batch
    (an engine sorts, this counts): exact 2U, AP and Hand & Till pair counts over any number
    of rows in memory of one batch, and the CurveStats kept exactly up to ``budget`` distinct
    scores, else pooled into the bins of ``edges``. Tied scores may span batches.

    >>> s = SortedStream(n_pos=2, n=4, budget=8, edges=bin_edges(0.0, 1.0, 4))
    >>> s.add(np.array([0.1, 0.35]), np.array([False, True]))
    >>> s.add(np.array([0.4, 0.8]), np.array([False, True]))
    >>> r = s.result()
    >>> r.u2 / (2 * 2 * 2), r.stats.exact, r.stats.values.tolist()
    (0.75, True, [0.1, 0.35, 0.4, 0.8])
    """

    def __init__(self, n_pos: int, n: int, *, budget: int = DEFAULT_BUDGET,
                 edges: np.ndarray | None = None, n_labels: int | None = None):
        self.n_pos, self.n = int(n_pos), int(n)
        self.budget, self.edges, self.n_labels = budget, edges, n_labels
        self.pos_below = 0  # positives and samples of the values already counted
        self.all_below = 0
        self.u2 = 0
        self.ap = 0.0
        self.u2_by_label = np.zeros(n_labels) if n_labels else None
        self.exact: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = []
        self.n_distinct = 0
        self.bins = None if edges is None else np.zeros((2, edges.size - 1))
        self.held: tuple[np.ndarray, ...] | None = None  # the last value's rows, until it ends
        self.last = None

    def add(self, values: np.ndarray, is_positive: np.ndarray,
            labels: np.ndarray | None = None) -> None:
        """The next rows (ascending, each score >= the previous batch's)."""
        if not values.size:
            return
        if self.last is not None and values[0] < self.last:
            raise ValueError("SortedStream: rows must come in ascending score order")
        parts = (values, np.asarray(is_positive, bool)) + (() if labels is None else (labels,))
        if self.held is not None:
            parts = tuple(np.concatenate([h, p]) for h, p in zip(self.held, parts))
        values = parts[0]
        end = int(np.searchsorted(values, values[-1], side="left"))  # the last value's rows wait
        self.held = tuple(p[end:] for p in parts)
        self._count(*(p[:end] for p in parts))
        self.last = values[-1]

    def _count(self, values, is_positive, labels=None) -> None:
        if not values.size:
            return
        new = np.empty(values.size, dtype=bool)
        new[0] = True
        np.not_equal(values[1:], values[:-1], out=new[1:])
        first = np.flatnonzero(new)
        pos = np.add.reduceat(is_positive.astype(np.int64), first)
        size = np.diff(first, append=values.size)
        neg = size - pos
        pos_below = self.pos_below + np.cumsum(pos) - pos
        all_below = self.all_below + first
        tp = self.n_pos - pos_below  # positives at or above each value
        fp = (self.n - all_below) - tp
        weight = 2 * tp - pos  # a sample here: 2 (positives above) + (positives tied)
        exact_in_float = 2 * self.n_pos * self.n < 2**53
        self.u2 += int(np.dot(neg.astype(np.float64), weight) if exact_in_float
                       else np.dot(neg, weight))
        self.ap += float(np.dot(pos, tp / (tp + fp)))
        if self.u2_by_label is not None:
            self.u2_by_label += np.bincount(labels, weights=np.repeat(weight, size),
                                            minlength=self.n_labels)
        distinct = values[first]
        self.n_distinct += distinct.size
        if self.exact is not None:
            self.exact.append((distinct, pos, neg))
            if self.n_distinct > self.budget and self.bins is not None:
                for d, p, n in self.exact:
                    self._bin(d, p, n)
                self.exact = None
        else:
            self._bin(distinct, pos, neg)
        self.pos_below += int(pos.sum())
        self.all_below += int(values.size)

    def _bin(self, values, pos, neg) -> None:
        index = np.clip(np.searchsorted(self.edges, values, side="right") - 1, 0,
                        self.edges.size - 2)
        self.bins[0] += np.bincount(index, weights=pos, minlength=self.edges.size - 1)
        self.bins[1] += np.bincount(index, weights=neg, minlength=self.edges.size - 1)

    def result(self) -> StreamResult:
        if self.held is not None:
            self._count(*self.held)
            self.held = None
        if (self.pos_below, self.all_below) != (self.n_pos, self.n):
            raise ValueError(f"SortedStream: counted {self.pos_below} positives of "
                             f"{self.all_below} rows, expected {self.n_pos} of {self.n}")
        if self.exact is not None:
            parts = [np.concatenate(a) for a in zip(*self.exact)] if self.exact else [
                np.array([]), np.zeros(0, np.int64), np.zeros(0, np.int64)]
            stats = CurveStats.from_counts(*parts, n_distinct=self.n_distinct)
        else:
            stats = CurveStats.from_counts(self.edges[:-1], self.bins[0].astype(np.int64),
                                           self.bins[1].astype(np.int64), exact=False,
                                           n_distinct=self.n_distinct)
        return StreamResult(stats, self.u2, self.ap / self.n_pos if self.n_pos else None,
                            self.u2_by_label)
