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
    """Counts of one curve by distinct score (ascending). ``exact`` False: scores were pooled
    into bins (``values`` are the bins' lower edges) and ``auc_bound`` / :meth:`ap_bounds` say
    how far the figures can be from the exact ones."""

    values: np.ndarray
    pos: np.ndarray
    neg: np.ndarray
    exact: bool = True
    n_distinct: int | None = None  # distinct scores counted before binning, where known

    def __post_init__(self) -> None:
        for array in (self.values, self.pos, self.neg):
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
        new = np.empty(n, dtype=bool)
        new[:1] = True
        np.not_equal(values[1:], values[:-1], out=new[1:])
        first = np.flatnonzero(new)
        sizes = np.diff(first, append=n)
        pos = np.add.reduceat(is_positive.astype(np.int64), first) if n else np.zeros(0, np.int64)
        return cls(values[first], pos, sizes - pos)

    @classmethod
    def from_counts(cls, values, pos, neg, *, exact: bool = True,
                    n_distinct: int | None = None) -> CurveStats:
        """From (score, positives, negatives) rows in any order, duplicates of a score added
        (what a GROUP BY returns, or the union of partial results)."""
        values = np.asarray(values)
        pos = np.asarray(pos, dtype=np.int64)
        neg = np.asarray(neg, dtype=np.int64)
        if values.size and np.any(values[1:] <= values[:-1]):
            unique, inverse = np.unique(values, return_inverse=True)
            pos = np.bincount(inverse, weights=pos, minlength=unique.size).astype(np.int64)
            neg = np.bincount(inverse, weights=neg, minlength=unique.size).astype(np.int64)
            values = unique
        keep = (pos + neg) > 0
        if not keep.all():
            values, pos, neg = values[keep], pos[keep], neg[keep]
        return cls(values, pos, neg, exact, n_distinct)

    def merge(self, other: CurveStats) -> CurveStats:
        """The statistics of both parts together (the counts of equal scores added)."""
        values = np.concatenate([self.values, other.values])
        pos = np.concatenate([self.pos, other.pos])
        neg = np.concatenate([self.neg, other.neg])
        return CurveStats.from_counts(values, pos, neg, exact=self.exact and other.exact)

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
        return int(self.pos.sum())

    @property
    def n_neg(self) -> int:
        return int(self.neg.sum())

    def _above(self) -> tuple[np.ndarray, np.ndarray]:
        """Positives and negatives strictly above each value."""
        pos_above = np.cumsum(self.pos[::-1])[::-1] - self.pos
        neg_above = np.cumsum(self.neg[::-1])[::-1] - self.neg
        return pos_above, neg_above

    # ------------------------------------------------------------------ ranking metrics

    def u2(self) -> int:
        """2 U: (positive, negative) pairs ranked right count 2, tied ones 1 (exact)."""
        pos_above, _ = self._above()
        return int(np.dot(self.neg, 2 * pos_above + self.pos))

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
        """Average precision: the sum over values with positives of (R_i - R_i-1) P_i."""
        p = self.n_pos
        if not p:
            return None
        pos_above, neg_above = self._above()
        has = np.flatnonzero(self.pos)
        tp = pos_above[has] + self.pos[has]
        called = tp + neg_above[has] + self.neg[has]
        return float(np.sum(self.pos[has] / p * (tp / called)))

    def ap_bounds(self) -> tuple[float, float] | None:
        """(lowest, highest) AP the binned scores allow: each bin's positives ranked after, or
        before, its negatives (both equal :meth:`ap` when exact)."""
        p = self.n_pos
        if not p:
            return None
        if self.exact:
            value = self.ap()
            return value, value
        pos_above, neg_above = self._above()
        has = np.flatnonzero(self.pos)
        k, t = self.pos[has], pos_above[has]
        a = pos_above[has] + neg_above[has]
        # the i-th positive of a bin, i = 1..k: precision (t + i) / (a + i) ranked first, and
        # (t + i) / (a + neg_b + i) ranked last; sum_i (t + i) / (c + i) = k - (c - t) S(c, k)
        high = np.sum(k - (a - t) * _harmonic(a, k)) / p
        c = a + self.neg[has]
        low = np.sum(k - (c - t) * _harmonic(c, k)) / p
        return float(low), float(high)

    # ------------------------------------------------------------------ counts and curves

    def counts_at(self, threshold: float) -> tuple[int, int]:
        """(TP, FP) of ``score >= threshold`` (binned: at bin edges only)."""
        key = threshold_in_dtype(threshold, self.values.dtype)
        i = int(np.searchsorted(self.values, key, side="left"))
        return int(self.pos[i:].sum()), int(self.neg[i:].sum())

    def cumulative(self) -> tuple[np.ndarray, np.ndarray]:
        """(TP, FP) at each value, thresholds descending: as ``distinct_counts``."""
        return np.cumsum(self.pos[::-1]), np.cumsum(self.neg[::-1])

    def distinct_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(thresholds descending, TP, FP) at every value: the exact curve, as scikit-learn's
        ``confusion_matrix_at_thresholds``."""
        tp, fp = self.cumulative()
        return self.values[::-1].astype(np.float64), tp, fp

    def components(self) -> tuple[np.ndarray, np.ndarray]:
        """DeLong's structural components per value: V10 of a positive there (the share of
        negatives it outranks, ties one half) and V01 of a negative there (the share of
        positives above it, ties one half)."""
        p, n = self.n_pos, self.n_neg
        neg_below = np.cumsum(self.neg) - self.neg
        pos_above, _ = self._above()
        v10 = (neg_below + self.neg / 2) / n if n else np.full(self.values.size, np.nan)
        v01 = (pos_above + self.pos / 2) / p if p else np.full(self.values.size, np.nan)
        return v10, v01


def _harmonic(c: np.ndarray, k: np.ndarray) -> np.ndarray:
    """sum_{i=1..k} 1 / (c + i), elementwise: exactly for short sums, else from the
    asymptotic expansion of the digamma function (error far below 1e-12)."""
    c = np.asarray(c, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    out = np.empty_like(c)
    short = k <= 64
    for j in np.flatnonzero(short):
        out[j] = float(np.sum(1.0 / (c[j] + np.arange(1, k[j] + 1))))
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
    statistics of different curves and parts merge): ``bins + 1`` edges."""
    if not math.isfinite(low) or not math.isfinite(high):
        raise ValueError("scores must be finite")
    if high <= low:
        high = low + 1.0
    return np.linspace(low, high, bins + 1)
