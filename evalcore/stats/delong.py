"""ROC AUC: DeLong's variance (DeLong, DeLong & Clarke-Pearson 1988) by the fast midrank
algorithm (Sun & Xu 2014), on the sorted scores the engine already holds. For a class with m
positives X (sorted) and n negatives Y (sorted), psi(x, y) = 1 if x > y, 1/2 if x == y, else 0:

    V10_i = (1/n) sum_j psi(X_i, Y_j)   structural component of positive i
    V01_j = (1/m) sum_i psi(X_i, Y_j)   structural component of negative j
    AUC   = mean(V10) = mean(V01)
    Var   = S10 / m + S01 / n,  S10, S01 the sample variances (denominators m - 1, n - 1)
"""

from __future__ import annotations

import math

import numpy as np

from evalcore.curves import CurveSet
from evalcore.scorestats import CurveStats
from evalcore.errors import InputError
from evalcore.predictions import Predictions, class_index
from evalcore.stats.results import AucComparison, DeLong, DEFAULT_LEVEL, Interval, _z

def delong(curves: CurveSet, c: int | str) -> DeLong:
    """DeLong's variance of the ROC AUC of curve ``c`` (an index or a class name), from the
    curve set's statistics: O(distinct scores), no sort.

    >>> from evalcore import compute_curves
    >>> curves = compute_curves([0, 1, 0, 1, 1, 0, 1, 0], [.1, .8, .4, .35, .9, .2, .7, .3])
    >>> d = delong(curves, "1")
    >>> round(d.auc, 4), round(d.standard_error, 4), d.n_positives, d.n_negatives
    (0.9375, 0.0884, 4, 4)
    """
    c = class_index(curves.names, c)
    summary = curves.classes[c]
    return delong_from_stats(summary.name, curves.stats[c], summary.reason)


def auc_intervals(curves: CurveSet, *, level: float = DEFAULT_LEVEL) -> list[Interval]:
    """DeLong's interval of every class' ROC AUC (method ``"delong"``).

    >>> import numpy as np
    >>> from evalcore import Predictions, compute_curves
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> p = Predictions.from_arrays(y, np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1))
    >>> iv = auc_intervals(compute_curves(p))[0]
    >>> round(iv.estimate, 4), [round(b, 4) for b in iv.bounds]
    (0.7572, [0.6891, 0.8253])
    """
    _z(level)
    return [delong(curves, c).interval(level) for c in range(len(curves.names))]


def compare_auc(
    pred_a: Predictions, pred_b: Predictions, c: int | str, *, level: float = DEFAULT_LEVEL
) -> AucComparison:
    """Paired DeLong test: is model A's ROC AUC of class ``c`` different from model B's on the
    same samples?

    The difference's variance is (var(V10_a - V10_b) / m + var(V01_a - V01_b) / n), with the
    structural components paired by sample: that is why this takes Predictions (a CurveSet's
    sorted arrays no longer say which score was which sample). Cost per model: one argsort of
    the class' positives and one of its negatives (O(N log N) together), then O(N).

    >>> from evalcore import Predictions
    >>> y = [0, 1, 0, 1, 1, 0, 1, 0]
    >>> a = Predictions.from_arrays(y, [.1, .8, .4, .35, .9, .2, .7, .3])
    >>> b = Predictions.from_arrays(y, [.5, .6, .4, .3, .7, .2, .4, .6])
    >>> cmp = compare_auc(a, b, "1")
    >>> round(cmp.auc_a, 4), round(cmp.auc_b, 4), round(cmp.difference, 4), round(cmp.p_value, 4)
    (0.9375, 0.625, 0.3125, 0.1375)
    """
    z_level = _z(level)
    _same_samples(pred_a, pred_b)
    c = class_index(pred_a.curve_names, c)
    name = pred_a.curve_names[c]
    mask = np.asarray(pred_a.positives(c), dtype=bool)
    m = int(np.count_nonzero(mask))
    n = mask.size - m
    empty = dict(auc_a=None, auc_b=None, difference=None, standard_error=None, z=None,
                 p_value=None, low=None, high=None, level=level, n_positives=m, n_negatives=n)
    if not m or not n:
        return AucComparison(name, **empty, reason=_undefined_reason(name, m, n))
    u2a, a10, a01 = _components_by_sample(pred_a.scores[:, c], mask)
    u2b, b10, b01 = _components_by_sample(pred_b.scores[:, c], mask)
    pairs = 2 * m * n
    auc_a, auc_b = u2a / pairs, u2b / pairs
    difference = (u2a - u2b) / pairs  # exact integers, then one rounding
    out = dict(empty, auc_a=auc_a, auc_b=auc_b, difference=difference)
    if m < 2 or n < 2:
        return AucComparison(name, **out, reason=_variance_reason(name, m, n))
    variance = float(np.var(a10 - b10, ddof=1) / m + np.var(a01 - b01, ddof=1) / n)
    if variance == 0.0:
        if difference == 0.0:
            return AucComparison(
                name, **dict(out, standard_error=0.0, z=0.0, p_value=1.0, low=0.0, high=0.0),
                reason="both models give every sample the same structural components: "
                "the AUCs are equal and the difference has no variance",
            )
        return AucComparison(
            name, **dict(out, standard_error=0.0),
            reason="the difference has zero estimated variance: DeLong's test is undefined",
        )
    se = math.sqrt(variance)
    z = difference / se
    return AucComparison(
        name, **dict(out, standard_error=se, z=z, p_value=math.erfc(abs(z) / math.sqrt(2)),
                     low=max(-1.0, difference - z_level * se),
                     high=min(1.0, difference + z_level * se)),
    )


def delong_from_stats(name: str, st: CurveStats, reason: str | None = None) -> DeLong:
    """DeLong from one curve's statistics (exact or binned): each distinct score's
    structural components, weighted by how many positives and negatives hold it.

    >>> from evalcore import compute_curves
    >>> curves = compute_curves([0, 1, 0, 1, 1, 0, 1, 0], [.1, .8, .4, .35, .9, .2, .7, .3])
    >>> d = delong_from_stats("1", curves.stats[0])
    >>> d.name, round(d.auc, 4), round(d.variance, 5), d.v10.round(3).tolist()
    ('1', 0.9375, 0.00781, [0.75, 1.0, 1.0, 1.0])
    """
    m, n = st.n_pos, st.n_neg
    if not m or not n:
        return DeLong(name, None, None, m, n, None, reason or _undefined_reason(name, m, n))
    auc = st.u2() / (2 * m * n)
    if m < 2 or n < 2:
        return DeLong(name, auc, None, m, n, st, _variance_reason(name, m, n))
    v10, v01 = st.components()
    variance = _weighted_var(v10, st.pos) / m + _weighted_var(v01, st.neg) / n
    return DeLong(name, auc, float(variance), m, n, st, reason)


def _weighted_var(values: np.ndarray, counts: np.ndarray) -> float:
    """The sample variance (ddof 1) of ``values`` each repeated ``counts`` times."""
    total = counts.sum()
    mean = np.dot(values, counts) / total
    return float(np.dot(counts, (values - mean) ** 2) / (total - 1))


def _midrank_components(pos: np.ndarray, neg: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """2 U (exact) and the structural components (V10 per positive, V01 per negative, in the
    arrays' ascending order) of sorted positives and sorted negatives."""
    m, n = pos.size, neg.size
    below, at_or_below = _below(neg, pos)  # #neg < x_i, #neg <= x_i
    twice = below + at_or_below  # 2 * (midrank in all - midrank among positives)
    u2 = int(twice.sum())
    v10 = twice / (2 * n)
    # the j-th negative y_j: #pos <= y_j = #{i: below_i <= j}, #pos < y_j = #{i: at_or_below_i <= j}
    hist = np.bincount(below, minlength=n + 1)[:n]
    hist += np.bincount(at_or_below, minlength=n + 1)[:n]
    not_above = np.cumsum(hist)  # #pos <= y_j + #pos < y_j = 2m - 2m V01_j
    v01 = (2 * m - not_above) / (2 * m)
    return u2, v10, v01


def _below(sorted_values: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each key: #values < key and #values <= key. The second binary search runs only for
    keys that occur among the values (ties)."""
    left = np.searchsorted(sorted_values, keys, side="left")
    right = left.copy()
    inside = np.flatnonzero(left < sorted_values.size)
    tied = inside[sorted_values[left[inside]] == keys[inside]]
    if tied.size:
        right[tied] = np.searchsorted(sorted_values, keys[tied], side="right")
    return left, right


def _components_by_sample(
    column: np.ndarray, mask: np.ndarray
) -> tuple[int, np.ndarray, np.ndarray]:
    """2 U and the structural components of one model, in sample order (positives, then
    negatives, each in the order they appear)."""
    x, y = column[mask], column[~mask]
    ox, oy = np.argsort(x), np.argsort(y)
    u2, v10_sorted, v01_sorted = _midrank_components(x[ox], y[oy])
    v10, v01 = np.empty_like(v10_sorted), np.empty_like(v01_sorted)
    v10[ox] = v10_sorted
    v01[oy] = v01_sorted
    return u2, v10, v01


def _same_samples(a: Predictions, b: Predictions) -> None:
    what = "the two models were not evaluated on the same samples"
    if a.n_samples != b.n_samples:
        raise InputError(f"{what}: model A has {a.n_samples} samples, model B {b.n_samples}")
    if a.task != b.task or a.y_true.shape != b.y_true.shape:
        raise InputError(f"{what}: model A's data is {a.task}, model B's {b.task}")
    if a.curve_names != b.curve_names:
        raise InputError(
            f"{what}: model A's classes are {list(a.curve_names)}, model B's "
            f"{list(b.curve_names)}"
        )
    differs = a.y_true != b.y_true
    if differs.any():
        row = int(np.flatnonzero(differs.reshape(a.n_samples, -1).any(axis=1))[0])
        raise InputError(f"{what}: y_true differs first at row {row}")


def _undefined_reason(name: str, m: int, n: int) -> str:
    if not m:
        return f"no positive samples of {name!r}: ROC AUC is undefined"
    return f"every sample is {name!r}: ROC AUC is undefined"


def _variance_reason(name: str, m: int, n: int) -> str:
    return (f"DeLong's variance needs at least 2 positives and 2 negatives of {name!r}, "
            f"got {m} and {n}")
