"""One-vs-rest confusion counts and the rates derived from them (one definition for all)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den as float64, NaN where den == 0 (an undefined metric, never a crash).

    >>> ratio([1, 2], [2, 0])
    array([0.5, nan])
    """
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def f_beta(tp, fp, fn, beta: float = 1.0) -> np.ndarray:
    """F-beta = (1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP); NaN when TP + FP + FN == 0.

    >>> f_beta([3], [1], [2]).round(4), f_beta([3], [1], [2], beta=2).round(4)
    (array([0.6667]), array([0.625]))
    """
    b2 = beta * beta
    tp = np.asarray(tp, dtype=np.float64)
    return ratio((1 + b2) * tp, (1 + b2) * tp + b2 * np.asarray(fn) + np.asarray(fp))


MISSING = "n/a"


def fmt(value, digits: int = 4) -> str:
    """A number as the CLI, the app and the report show it: ``digits`` decimals, ``n/a``
    where undefined (None, NaN, infinite); text as it is.

    >>> fmt(0.123456), fmt(None), fmt(float("nan")), fmt(3), fmt("abstain")
    ('0.1235', 'n/a', 'n/a', '3.0000', 'abstain')
    """
    if value is None or isinstance(value, str):
        return MISSING if value is None else value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:.{digits}f}" if np.isfinite(number) else MISSING


def fmt_interval(bounds, digits: int = 4, *, signed: bool = False) -> str:
    """An interval ``(low, high)`` as every output shows it; ``n/a`` where undefined.

    >>> fmt_interval((0.81234, 0.9)), fmt_interval(None), fmt_interval((None, None))
    ('[0.8123, 0.9000]', 'n/a', 'n/a')
    >>> fmt_interval((-0.01, 0.02), signed=True)
    '[-0.0100, +0.0200]'
    """
    if bounds is None or any(b is None or not np.isfinite(float(b)) for b in bounds):
        return MISSING
    sign = "+" if signed else ""
    return f"[{float(bounds[0]):{sign}.{digits}f}, {float(bounds[1]):{sign}.{digits}f}]"


def as_json(value):
    """A float, or None where it is undefined (NaN) or infinite: JSON holds neither.

    >>> import numpy as np
    >>> as_json(np.float32(0.5)), as_json(float("nan")), as_json(float("inf"))
    (0.5, None, None)
    """
    value = float(value)
    return value if np.isfinite(value) else None


@dataclass(frozen=True, eq=False)
class Counts:
    """TP, FP, FN, TN per class (arrays of one length), as counted at some decision; the
    rates derived from them are NaN where undefined (0/0).

    >>> import numpy as np
    >>> c = Counts(("a", "b"), np.array([8, 0]), np.array([2, 0]), np.array([0, 1]),
    ...            np.array([0, 9]))
    >>> c.precision.tolist(), c.row(1)["precision"]
    ([0.8, nan], None)
    """

    names: tuple[str, ...]
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray
    thresholds: np.ndarray | None = None

    @property
    def precision(self) -> np.ndarray:
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> np.ndarray:
        return ratio(self.tp, self.tp + self.fn)

    @property
    def specificity(self) -> np.ndarray:
        return ratio(self.tn, self.tn + self.fp)

    @property
    def fpr(self) -> np.ndarray:
        return ratio(self.fp, self.fp + self.tn)

    @property
    def f1(self) -> np.ndarray:
        return f_beta(self.tp, self.fp, self.fn)

    def averages(self) -> dict[str, tuple[float, float, float]]:
        """(precision, recall, F1) averaged over the classes: ``micro`` (from the summed
        counts), ``macro`` (the mean over the classes where each is defined) and ``weighted``
        (by support, TP + FN); NaN where nothing is defined.

        >>> import numpy as np
        >>> c = Counts(("a", "b"), np.array([8, 1]), np.array([2, 0]), np.array([0, 1]),
        ...            np.array([0, 8]))
        >>> [round(v, 4) for v in c.averages()["macro"]]
        [0.9, 0.75, 0.7778]
        """
        tp, fp, fn = (int(np.sum(a)) for a in (self.tp, self.fp, self.fn))
        per_class = (self.precision, self.recall, self.f1)
        support = np.asarray(self.tp + self.fn, dtype=np.float64)

        def mean(values: np.ndarray) -> float:
            return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")

        def weighted(values: np.ndarray) -> float:
            ok = np.isfinite(values) & (support > 0)
            return float(np.average(values[ok], weights=support[ok])) if ok.any() else float("nan")

        return {
            "micro": (float(ratio(tp, tp + fp)), float(ratio(tp, tp + fn)),
                      float(f_beta(tp, fp, fn))),
            "macro": tuple(mean(v) for v in per_class),
            "weighted": tuple(weighted(v) for v in per_class),
        }

    def row(self, i: int) -> dict:
        """Class ``i`` as a JSON-ready dict (undefined rates are None)."""
        out = {key: int(getattr(self, key)[i]) for key in ("tp", "fp", "fn", "tn")}
        for key in ("precision", "recall", "f1", "specificity", "fpr"):
            out[key] = as_json(getattr(self, key)[i])
        if self.thresholds is not None:
            out["threshold"] = as_json(self.thresholds[i])
        return out

    def to_dict(self) -> dict:
        return {name: self.row(i) for i, name in enumerate(self.names)}
