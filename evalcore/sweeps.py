"""How a decision's outcomes move as one of its parameters moves: exact, from one sort.

Hold every parameter of a :class:`~evalcore.decisions.Decision` but one (class c's threshold
or weight; for ``abstain``, its one threshold). Each row of the data then either keeps its
outcome whatever that parameter is, or has a *key*: once the parameter passes it (a
threshold at or below the key; a weight at or above it), the row's outcome switches from
``base`` to ``target``, and never back. So every count of the decision (its K x K matrix,
every class' TP/FP/FN/TN, accuracy, cost) is a cumulative sum over the rows sorted by key,
and the parameter values where the decision can change are exactly the distinct keys.

Row states by rule, for the parameter of class c (scores ``p``, thresholds ``t``):

- ``per-class``: a row switches to c at key p_c when c beats the best other class that
  clears its own threshold (else abstain); it never does where that class scores higher.
- ``priority``: rows where a class ahead of c in the order clears are fixed; the rest switch
  to c at key p_c from their fallback (the first later class that clears, else the argmax);
  rows whose fallback is c already are c whatever t_c is. A class missing from the order is
  put first.
- ``weighted``: a row switches to c at the smallest weight w with w p_c beating the best
  other weighted score (computed in float64 exactly as the rule compares them).
- ``abstain``: every row switches from abstained to its top class at key = its top score.
- ``binary`` / ``multilabel``: the one-vs-rest curve of the column: each row switches from
  "not predicted" to "predicted" at key = its score.

>>> import numpy as np
>>> from evalcore.predictions import Predictions
>>> p = Predictions.from_arrays([0, 1, 1], np.array([[0.7, 0.3], [0.6, 0.4], [0.2, 0.8]]))
>>> from evalcore.decisions import Decision
>>> s = sweep(p, Decision.priority(p.class_names, {"1": 0.5}), 1)
>>> s.values.tolist(), s.class_counts(1)[0].tolist()
([0.8000000000000002, 0.4, 0.3], [1, 2, 2])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalcore.decisions import Decision, as_decision
from evalcore.errors import InputError
from evalcore.predictions import Predictions, threshold_in_dtype

#: rules with a parameter per class to sweep (abstain: one for all)
SWEPT_RULES = ("abstain", "per-class", "priority", "weighted", "multilabel", "binary")


@dataclass(frozen=True, eq=False)
class Sweep:
    """The outcomes of ``decision`` at every value of one parameter (of scored column
    ``curve``). Step j applies ``values[j]``; it has switched the first ``ends[j]`` of the
    switching rows (``rows``, in order of their keys). Step 0 switches none. Outcomes are
    class indices, K = abstained; for multilabel, label ``curve`` as 0 (no) / 1 (yes).

    >>> import numpy as np
    >>> p = Predictions.from_arrays([0, 1, 2, 1], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1]]))
    >>> s = sweep(p, Decision.priority(p.class_names, {"1": 0.5}), 1)
    >>> s.parameter, s.values[1:].tolist(), s.ends.tolist()  # step 0: above every score
    ('threshold', [0.4, 0.3, 0.2], [0, 1, 2, 3])
    >>> s.correct().tolist(), s.class_counts(1)[0].tolist()  # right rows, TP of class 1
    ([3, 4, 3, 2], [1, 2, 2, 2])
    >>> s.decision_at(int(s.correct().argmax())).describe()
    'priority (1 >= 0.4), else argmax'
    """

    decision: Decision
    curve: int
    parameter: str  # "threshold" or "weight"
    values: np.ndarray  # (M + 1,) the parameter at each step (thresholds descending, weights ascending)
    ends: np.ndarray  # (M + 1,) rows switched at each step
    rows: np.ndarray  # indices of the switching rows, in switching order
    y: np.ndarray  # their true outcome (class index; multilabel: 0 / 1)
    base: np.ndarray  # their outcome before the switch
    target: np.ndarray  # their outcome after it
    matrix: np.ndarray  # true x outcome counts at step 0 (every row)

    @property
    def n_samples(self) -> int:
        return int(self.matrix.sum())

    def decision_at(self, j: int) -> Decision:
        """The decision with the parameter at step ``j``."""
        value = float(self.values[j])
        if self.parameter == "weight":
            return self.decision.with_weight(self.curve, value)
        return self.decision.with_threshold(self.curve, value)

    def cumulative(self, per_row: np.ndarray) -> np.ndarray:
        """(M + 1,) the sum of ``per_row`` (one value per switching row) over the rows
        switched at each step."""
        total = np.concatenate([[0], np.cumsum(per_row, dtype=np.float64 if np.asarray(
            per_row).dtype.kind == "f" else np.int64)])
        return total[self.ends]

    def class_counts(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(TP, FP, FN, TN) of outcome ``k`` at every step (multilabel: k = 1, the label)."""
        m = self.matrix
        is_k = self.y == k
        tp = m[k, k] + self.cumulative((self.target == k) & is_k) - self.cumulative(
            (self.base == k) & is_k)
        predicted = m[:, k].sum() + self.cumulative(self.target == k) - self.cumulative(
            self.base == k)
        support = m[k].sum()
        fp = predicted - tp
        return tp, fp, support - tp, self.n_samples - support - fp

    def correct(self) -> np.ndarray:
        """Rows whose outcome is their true one, at every step."""
        start = int(np.trace(self.matrix[:, : self.matrix.shape[0]]))
        return start + self.cumulative(self.target == self.y) - self.cumulative(self.base == self.y)


def sweep(predictions: Predictions, decision: Decision | str, curve: int | str) -> Sweep:
    """The exact :class:`Sweep` of one class' parameter of ``decision`` on ``predictions``.

    ``curve``: the scored column (a class name or index; ignored but checked for abstain).
    InputError for rules without such a parameter (argmax, cost).

    >>> import numpy as np
    >>> p = Predictions.from_arrays([0, 1, 2, 1], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1]]))
    >>> s = sweep(p, Decision.weighted(p.class_names, 1.0), "1")
    >>> s.parameter, s.values.round(3).tolist(), s.correct().tolist()
    ('weight', [0.3, 0.6, 1.25, 2.0, 3.5], [2, 3, 4, 3, 2])
    >>> sweep(p, "abstain", 0).values[1:].tolist()
    [0.7, 0.6, 0.5]
    """
    p = predictions
    d = as_decision(p, decision)
    if d.rule not in SWEPT_RULES:
        raise InputError(
            f"the {d.rule} rule has no per-class threshold or weight to move; use "
            "per-class, priority or weighted"
        )
    from evalcore.predictions import class_index

    c = class_index(d.scored, curve)
    if d.rule == "multilabel":
        return _multilabel(p, d, c)
    if d.rule == "weighted":
        return _weighted(p, d, c)
    k = len(p.class_names)
    key = threshold_in_dtype(np.array(d.thresholds, dtype=np.float64), p.scores.dtype)
    scores = p.scores
    if d.rule == "binary":
        column = scores[:, 0]
        outcome = np.zeros(p.n_samples, dtype=np.int64)
        switch = np.ones(p.n_samples, dtype=bool)
        return _threshold_sweep(p, d, c, column, outcome, switch, 1, column, k)
    if d.rule == "abstain":
        outcome = np.full(p.n_samples, k, dtype=np.int64)
        switch = np.ones(p.n_samples, dtype=bool)
        return _threshold_sweep(p, d, c, p.top_score, outcome, switch, p.top_class, p.top_score,
                                k + 1)
    column = scores[:, c]
    if d.rule == "per-class":
        cleared = scores >= key
        cleared[:, c] = False
        masked = np.where(cleared, scores, -np.inf)
        winner = masked.argmax(axis=1)
        best = np.take_along_axis(masked, winner[:, None], axis=1)[:, 0]
        none = ~cleared.any(axis=1)
        del cleared, masked
        outcome = np.where(none, k, winner)
        switch = none | (column > best) | ((column == best) & (c < winner))
        return _threshold_sweep(p, d, c, column, outcome, switch, c, column, k + 1)
    # priority
    if c not in d.order:  # listed first, at a threshold no score clears: nothing changes yet
        d = d.with_threshold(c, float(np.nextafter(float(column.max()), np.inf)))
    order = d.order
    at = order.index(c)
    ahead = np.full(p.n_samples, -1, dtype=np.int64)
    for e in reversed(order[:at]):
        ahead[scores[:, e] >= key[e]] = e
    fallback = p.top_class.copy()
    for e in reversed(order[at + 1 :]):
        fallback[scores[:, e] >= key[e]] = e
    free = ahead < 0
    outcome = np.where(free, fallback, ahead)
    switch = free & (fallback != c)
    return _threshold_sweep(p, d, c, column, outcome, switch, c, column, k)


def _threshold_sweep(p: Predictions, d: Decision, c: int, keys: np.ndarray, outcome: np.ndarray,
                     switch: np.ndarray, target, column: np.ndarray, columns: int) -> Sweep:
    """Rows ``switch`` go from ``outcome`` to ``target`` once the threshold is <= their key;
    step 0 is a threshold just above the largest score of ``column`` (no row clears)."""
    rows = np.flatnonzero(switch)
    row_keys = keys[rows]
    order = np.argsort(-row_keys.astype(np.float64), kind="stable")
    rows = rows[order]
    sorted_keys = row_keys[order]
    values, ends = _steps(sorted_keys)
    top = float(column.max()) if column.size else 1.0
    values = np.r_[np.nextafter(top, np.inf), values]
    ends = np.r_[0, ends]
    y = p.y_true if p.task != "multilabel" else None
    target = np.broadcast_to(np.asarray(target), (p.n_samples,))[rows]
    matrix = _matrix(y, outcome, len(p.class_names), columns)
    return Sweep(d, c, "threshold", values, ends, rows, y[rows], outcome[rows],
                 target.astype(np.int64), matrix)


def _steps(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys (in sorted order) and how many rows are switched through each."""
    if not sorted_keys.size:
        return np.empty(0), np.empty(0, dtype=np.int64)
    new = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    first = np.flatnonzero(new)
    ends = np.r_[first[1:], sorted_keys.size]
    return sorted_keys[first].astype(np.float64), ends.astype(np.int64)


def _matrix(y: np.ndarray, outcome: np.ndarray, k: int, columns: int) -> np.ndarray:
    return np.bincount(y * columns + outcome, minlength=k * columns).reshape(k, columns)


def _multilabel(p: Predictions, d: Decision, c: int) -> Sweep:
    column = p.scores[:, c]
    truth = p.y_true[:, c].astype(np.int64)
    order = np.argsort(-column.astype(np.float64), kind="stable")
    values, ends = _steps(column[order])
    top = float(column.max())
    n_pos = int(truth.sum())
    matrix = np.array([[p.n_samples - n_pos, 0], [n_pos, 0]], dtype=np.int64)
    return Sweep(d, c, "threshold", np.r_[np.nextafter(top, np.inf), values], np.r_[0, ends],
                 order, truth[order], np.zeros(order.size, dtype=np.int64),
                 np.ones(order.size, dtype=np.int64), matrix)


def _weighted(p: Predictions, d: Decision, c: int) -> Sweep:
    """Weight sweep of class c: the smallest weight at which each row goes to c, found in
    float64 with the rule's own comparison (w p_c against the best other w_j p_j, ties to
    the lower index), then made exact by stepping to the neighbouring floats."""
    k = len(p.class_names)
    w = np.array(d.weights, dtype=np.float64)
    weighted = p.scores * w
    weighted[:, c] = -np.inf
    other = weighted.argmax(axis=1)
    best = np.take_along_axis(weighted, other[:, None], axis=1)[:, 0]
    del weighted
    pc = p.scores[:, c].astype(np.float64)
    lower_index = c < other

    def wins(weight: np.ndarray, rows: np.ndarray) -> np.ndarray:
        v = weight * pc[rows]
        return (v > best[rows]) | ((v == best[rows]) & lower_index[rows])

    everyone = np.arange(p.n_samples)
    always = wins(np.zeros(p.n_samples), everyone)  # c whatever its weight
    candidate = np.flatnonzero(~always & (pc > 0))
    with np.errstate(over="ignore", divide="ignore"):
        start = np.where(best[candidate] > 0, best[candidate], 5e-324) / pc[candidate]
    key = _smallest_winning(start, candidate, wins)
    finite = np.isfinite(key)
    candidate, key = candidate[finite], key[finite]
    order = np.argsort(key, kind="stable")
    rows, sorted_keys = candidate[order], key[order]
    values, ends = _steps(sorted_keys)
    first = float(values[0]) / 2 if values.size and values[0] / 2 > 0 else 0.0
    values = np.r_[first if values.size else float(w[c]), values]
    outcome = np.where(always, c, other)
    matrix = _matrix(p.y_true, outcome, k, k)
    return Sweep(d, c, "weight", values, np.r_[0, ends], rows, p.y_true[rows], outcome[rows],
                 np.full(rows.size, c, dtype=np.int64), matrix)


def _smallest_winning(start: np.ndarray, rows: np.ndarray, wins) -> np.ndarray:
    """Per row, the smallest float64 weight that wins, from a start within a few ulps of it."""
    key = start.copy()
    for _ in range(64):
        losing = np.flatnonzero(~wins(key, rows) & np.isfinite(key))
        if not losing.size:
            break
        key[losing] = np.nextafter(key[losing], np.inf)
    for _ in range(64):
        below = np.nextafter(key, 0.0)
        ok = np.flatnonzero(np.isfinite(key) & (key > 0))
        ok = ok[wins(below[ok], rows[ok])]
        if not ok.size:
            break
        key[ok] = below[ok]
    return key
