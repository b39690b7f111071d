"""Compiled loops (Numba) where NumPy would make many passes over a column: one pass over a
class' sorted scores gives its statistics and exact figures; one pass over every cell
sorted gives the micro average. Internal: :func:`evalcore.curves.compute_curves` calls them, and the tests
compare every figure they feed with scikit-learn's.

Compiled on first use and cached on disk (``cache=True``: the package's ``__pycache__``, or
Numba's user cache where that is read-only), so a process pays the compilation once per
machine. ``nogil``: the app's threads may run them side by side.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _add(total, compensation, term):  # pragma: no cover - compiled
    """Neumaier's compensated sum: (total + term, the compensation carried)."""
    result = total + term
    if abs(total) >= abs(term):
        compensation += (total - result) + term
    else:
        compensation += (term - result) + total
    return result, compensation


@njit(cache=True, nogil=True)
def packed_keys(bits, labels, out):  # pragma: no cover - compiled
    """out[i] = (score bits << 32) | label: one integer sort then orders the scores (float32
    bits of non-negative floats order as the floats) with their labels. -0.0 becomes 0.0."""
    for i in range(bits.size):
        b = np.uint64(bits[i])
        if b == 0x80000000:
            b = np.uint64(0)
        out[i] = (b << np.uint64(32)) | np.uint64(labels[i])


@njit(cache=True, nogil=True)
def curve_pass(values, labels, positive, n_pos, out_values, tp, fp, by_label):  # pragma: no cover
    """One pass over a curve's scores ascending (tied scores adjacent, labels in any order).

    Writes each distinct score into ``out_values`` with ``tp`` / ``fp`` (positives /
    negatives scoring it or more); returns (distinct scores, 2 U, AP * n_pos). 2 U counts a
    (positive, negative) pair ranked right 2, tied 1: sum over values of neg_v (2 pos_above +
    pos_v). AP is scikit-learn's sum over values of pos_v * precision_v (Neumaier-compensated).
    ``by_label`` (size > 0: Hand & Till) gains, for every sample, 2 U of the curve's
    positives against it: 2 pos_above + pos_v at its value.
    """
    n = values.size
    d = 0
    i = 0
    pos_below = 0
    u2 = 0
    ap = 0.0
    compensation = 0.0
    pairs = by_label.size > 0
    while i < n:
        v = values[i]
        j = i
        at = 0
        while j < n and values[j] == v:
            if labels[j] == positive:
                at += 1
            j += 1
        tp_v = n_pos - pos_below
        fp_v = (n - i) - tp_v
        out_values[d] = v
        tp[d] = tp_v
        fp[d] = fp_v
        d += 1
        above = tp_v - at
        u2 += (j - i - at) * (2 * above + at)
        if at:
            ap, compensation = _add(ap, compensation, at * (tp_v / (tp_v + fp_v)))
        if pairs:
            weight = 2 * above + at
            for m in range(i, j):
                by_label[labels[m]] += weight
        pos_below += at
        i = j
    return d, u2, ap + compensation


@njit(cache=True, nogil=True)
def cell_keys(bits, y, indicator, out):  # pragma: no cover - compiled
    """out[i * K + j] = (score bits << 1) | (cell (i, j) is positive), for every cell of an
    (N, K) matrix of non-negative scores given as their bit patterns (uint32 of float32,
    uint64 of float64: a finite non-negative float's bits shifted by one still fit). Positive:
    ``y[i] == j`` (multiclass), or ``indicator[i, j]`` when it has rows (multilabel). -0.0
    becomes 0.0."""
    n, k = bits.shape
    sign = out.dtype.type(1) << out.dtype.type(bits.itemsize * 8 - 1)
    multilabel = indicator.shape[0] > 0
    for i in range(n):
        for j in range(k):
            b = out.dtype.type(bits[i, j])
            if b == sign:
                b = out.dtype.type(0)
            positive = indicator[i, j] != 0 if multilabel else y[i] == j
            out[i * k + j] = (b << out.dtype.type(1)) | out.dtype.type(positive)


@njit(cache=True, nogil=True)
def pooled_pass(keys, pos_ranks, neg_ranks, capacity, picks, every):  # pragma: no cover
    """One pass, from the top, over pooled cells sorted ascending as :func:`cell_keys`.
    Returns (2 U, AP * positives, distinct scores, picks written). ``picks`` rows get
    (score bits, TP, FP) of :func:`evalcore.curves._plot_curve`'s points: the first score
    from the top where TP reaches each of ``pos_ranks`` or FP each of ``neg_ranks``, with
    the score above it; ``every`` gets the first ``capacity`` distinct scores from the top
    (all of them, when there are no more)."""
    one = keys.dtype.type(1)
    none = 1 << 62
    tp = fp = u2 = 0
    ap = compensation = 0.0
    g = written = next_pos = next_neg = 0
    prev_v = prev_tp = prev_fp = 0
    at_pos = at_all = 0
    pos_rank = pos_ranks[0] if pos_ranks.size else none
    neg_rank = neg_ranks[0] if neg_ranks.size else none
    for i in range(keys.size - 1, -1, -1):
        at_pos += np.int64(keys[i] & one)
        at_all += 1
        v = np.int64(keys[i] >> one)
        if i > 0 and np.int64(keys[i - 1] >> one) == v:
            continue  # the tie goes on
        at_neg = at_all - at_pos
        u2 += at_neg * (2 * tp + at_pos)
        tp += at_pos
        fp += at_neg
        if at_pos:
            ap, compensation = _add(ap, compensation, at_pos * (tp / (tp + fp)))
        at_pos = at_all = 0
        if tp >= pos_rank or fp >= neg_rank:
            while next_pos < pos_ranks.size and tp >= pos_ranks[next_pos]:
                next_pos += 1
            while next_neg < neg_ranks.size and fp >= neg_ranks[next_neg]:
                next_neg += 1
            pos_rank = pos_ranks[next_pos] if next_pos < pos_ranks.size else none
            neg_rank = neg_ranks[next_neg] if next_neg < neg_ranks.size else none
            picks[written, 0], picks[written, 1], picks[written, 2] = v, tp, fp
            written += 1
            if g > 0:
                picks[written, 0], picks[written, 1], picks[written, 2] = prev_v, prev_tp, prev_fp
                written += 1
        if g < capacity:
            every[g, 0], every[g, 1], every[g, 2] = v, tp, fp
        g += 1
        prev_v, prev_tp, prev_fp = v, tp, fp
    return u2, ap + compensation, g, written


@njit(cache=True, nogil=True)
def score_facts(scores, saturation):  # pragma: no cover - compiled
    """What the score-kind detection needs, in one pass over an (N, K) matrix: (all finite,
    all in [0, 1], the largest |row sum - 1| (rows summed in float64), any above
    ``saturation``)."""
    n, k = scores.shape
    finite = True
    in_unit = True
    saturated = False
    worst = 0.0
    for i in range(n):
        total = 0.0
        for j in range(k):
            x = scores[i, j]
            finite &= np.isfinite(x)
            in_unit &= (x >= 0) & (x <= 1)
            saturated |= x > saturation
            total += x
        worst = max(worst, abs(total - 1.0))
    return finite, in_unit, worst, saturated
