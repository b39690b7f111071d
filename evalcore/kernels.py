"""Compiled loops (Numba) where NumPy would make many passes over a column: one pass over a
class' sorted scores gives its statistics and exact figures; one merge per class gives the
micro average. Internal: :func:`evalcore.curves.compute_curves` calls them, and the tests
compare every figure they feed with scikit-learn's.

Compiled on first use and cached on disk (``cache=True``: the package's ``__pycache__``, or
Numba's user cache where that is read-only), so a process pays the compilation once per
machine. ``nogil``: the app's threads may run them side by side.
"""

from __future__ import annotations

import numpy as np
from numba import njit


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
            term = at * (tp_v / (tp_v + fp_v))
            total = ap + term
            if abs(ap) >= abs(term):
                compensation += (ap - total) + term
            else:
                compensation += (term - total) + ap
            ap = total
        if pairs:
            weight = 2 * above + at
            for m in range(i, j):
                by_label[labels[m]] += weight
        pos_below += at
        i = j
    return d, u2, ap + compensation


@njit(cache=True, nogil=True)
def add_negatives(pos, values, fp, start, at_or_above):  # pragma: no cover - compiled
    """For the scores ``pos`` (ascending), add one curve's negatives scoring each or more
    (``values`` ascending, ``fp`` its negatives at or above each; ``start``: the first index
    of ``values`` not below ``pos[0]``) to ``at_or_above``; return the sum over ``pos`` of the
    negatives scoring above each (for 2 U)."""
    j = start
    m = values.size
    above_total = 0
    for i in range(pos.size):
        s = pos[i]
        while j < m and values[j] < s:
            j += 1
        if j == m:
            break
        at_or_above[i] += fp[j]
        if values[j] == s:
            above_total += fp[j + 1] if j + 1 < m else 0
        else:
            above_total += fp[j]
    return above_total


@njit(cache=True, nogil=True)
def add_at_or_above(values, fp, needles, low, high, total):  # pragma: no cover - compiled
    """total[t] += one curve's negatives scoring needles[t] or more, searching only
    values[low[t]:high[t] + 1] (the caller knows the first value >= needles[t] lies there)."""
    for t in range(needles.size):
        lo = low[t]
        hi = high[t]
        x = needles[t]
        while lo < hi:
            mid = (lo + hi) // 2
            if values[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        if lo < values.size:
            total[t] += fp[lo]


@njit(cache=True, nogil=True)
def pooled_ap(pos, at_or_above):  # pragma: no cover - compiled
    """AP * len(pos) of the pooled curve: ``pos`` the positives' scores ascending,
    ``at_or_above`` the negatives scoring each or more."""
    n_pos = pos.size
    ap = 0.0
    compensation = 0.0
    i = 0
    while i < n_pos:
        s = pos[i]
        j = i
        while j < n_pos and pos[j] == s:
            j += 1
        tp = n_pos - i
        term = (j - i) * (tp / (tp + at_or_above[i]))
        total = ap + term
        if abs(ap) >= abs(term):
            compensation += (ap - total) + term
        else:
            compensation += (term - total) + ap
        ap = total
        i = j
    return ap + compensation


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
