"""What the statistics return: intervals, DeLong's figures, comparisons (values with
``to_dict``), and the checks of a confidence level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Callable

import numpy as np

from evalcore.scorestats import CurveStats
from evalcore.errors import InputError

DEFAULT_LEVEL = 0.95
DEFAULT_RESAMPLES = 1000

Progress = Callable[[int, int], None]




@dataclass(frozen=True)
class Interval:
    """A confidence interval of one figure; ``low`` and ``high`` are None where undefined
    (``reason`` says why). ``n_resamples`` (bootstrap) counts the resamples where the figure
    was defined.

    >>> from evalcore import Predictions
    >>> from evalcore.stats import bootstrap_interval
    >>> from evalcore.stats.bootstrap import Accuracy
    >>> p = Predictions.from_arrays([0, 1, 0, 1, 1, 0], [.1, .8, .4, .35, .9, .2])
    >>> iv = bootstrap_interval(p, Accuracy(), n_resamples=200, random_state=0)
    >>> iv.metric, iv.method, iv.level, [round(b, 4) for b in iv.bounds]
    ('accuracy', 'bootstrap', 0.95, [0.5, 1.0])
    >>> sorted(iv.to_dict())
    ['estimate', 'high', 'level', 'low', 'method', 'metric', 'n_resamples', 'name', 'reason']
    """

    metric: str
    name: str
    estimate: float | None
    low: float | None
    high: float | None
    level: float
    method: str
    n_resamples: int | None = None
    reason: str | None = None

    @property
    def bounds(self) -> list[float] | None:
        """[low, high], or None where undefined (the JSON form)."""
        return None if self.low is None or self.high is None else [self.low, self.high]

    def to_dict(self) -> dict:
        return {
            "metric": self.metric,
            "name": self.name,
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "level": self.level,
            "method": self.method,
            "n_resamples": self.n_resamples,
            "reason": self.reason,
        }


@dataclass(frozen=True, eq=False)
class DeLong:
    """DeLong's estimate of one class' ROC AUC and its variance, from the curve's statistics.

    ``v10`` holds the structural component of each positive, ``v01`` of each negative, both in
    ascending score order (expanded from one component per distinct score on first use).
    ``variance`` is None when a class has fewer than two positives or negatives; ``auc`` is
    None when it has none.

    >>> from evalcore import compute_curves
    >>> from evalcore.stats import delong
    >>> curves = compute_curves([0, 1, 0, 1, 1, 0, 1, 0], [.1, .8, .4, .35, .9, .2, .7, .3])
    >>> d = delong(curves, 0)
    >>> round(d.auc, 4), d.v10.size, d.v01.size
    (0.9375, 4, 4)
    >>> iv = d.interval(0.95)
    >>> iv.method, [round(b, 4) for b in iv.bounds]
    ('delong', [0.7643, 1.0])
    >>> list(d.to_dict())
    ['auc', 'variance', 'standard_error', 'n_positives', 'n_negatives', 'reason']
    """

    name: str
    auc: float | None
    variance: float | None
    n_positives: int
    n_negatives: int
    stats: CurveStats | None = field(default=None, repr=False)
    reason: str | None = None

    @property
    def v10(self) -> np.ndarray:
        if self.stats is None:
            return np.empty(0)
        return np.repeat(self.stats.components()[0], self.stats.pos)

    @property
    def v01(self) -> np.ndarray:
        if self.stats is None:
            return np.empty(0)
        return np.repeat(self.stats.components()[1], self.stats.neg)

    @property
    def standard_error(self) -> float | None:
        return None if self.variance is None else math.sqrt(self.variance)

    def interval(self, level: float = DEFAULT_LEVEL) -> Interval:
        """AUC -/+ z * standard error (normal approximation), clipped to [0, 1]."""
        z = _z(level)
        if self.variance is None:
            return Interval("roc_auc", self.name, self.auc, None, None, level, "delong",
                            reason=self.reason)
        half = z * math.sqrt(self.variance)
        return Interval("roc_auc", self.name, self.auc, max(0.0, self.auc - half),
                        min(1.0, self.auc + half), level, "delong")

    def to_dict(self) -> dict:
        return {
            "auc": self.auc,
            "variance": self.variance,
            "standard_error": self.standard_error,
            "n_positives": self.n_positives,
            "n_negatives": self.n_negatives,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class AucComparison:
    """The paired DeLong test of two models' ROC AUC of one class on the same samples.

    ``difference`` = ``auc_a`` - ``auc_b``; ``p_value`` is two-sided; ``low``/``high`` bound the
    difference at ``level`` (normal approximation, clipped to [-1, 1]).

    >>> from evalcore import Predictions
    >>> from evalcore.stats import compare_auc
    >>> y = [0, 1, 0, 1, 1, 0, 1, 0]
    >>> a = Predictions.from_arrays(y, [.1, .8, .4, .35, .9, .2, .7, .3])
    >>> b = Predictions.from_arrays(y, [.5, .6, .4, .3, .7, .2, .4, .6])
    >>> cmp = compare_auc(a, b, "1")
    >>> cmp.name, round(cmp.difference, 4), [round(v, 4) for v in (cmp.low, cmp.high)]
    ('1', 0.3125, [-0.0999, 0.7249])
    >>> list(cmp.to_dict())[:5]
    ['name', 'auc_a', 'auc_b', 'difference', 'standard_error']
    """

    name: str
    auc_a: float | None
    auc_b: float | None
    difference: float | None
    standard_error: float | None
    z: float | None
    p_value: float | None
    low: float | None
    high: float | None
    level: float
    n_positives: int
    n_negatives: int
    reason: str | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class SummaryIntervals:
    """The intervals of ``evalcore summary --ci``: per class DeLong's ROC AUC interval and the
    bootstrap's AP interval; the micro and macro ROC AUC and the headline accuracy from the
    same bootstrap run. :meth:`to_dict` is the JSON (None where undefined).

    >>> from evalcore import Predictions, compute_curves
    >>> from evalcore.stats import summary_intervals
    >>> p = Predictions.from_arrays([0, 1, 0, 1, 1, 0, 1, 0], [.1, .8, .4, .35, .9, .2, .7, .3])
    >>> si = summary_intervals(p, compute_curves(p), n_resamples=200)
    >>> auc, ap = si.of("1")
    >>> auc.method, ap.method, [round(b, 4) for b in ap.bounds]
    ('delong', 'bootstrap', [0.7857, 1.0])
    >>> si.to_dict()["per_class"]["1"]["roc_auc_ci"] == auc.bounds
    True
    """

    level: float
    n_resamples: int
    random_state: int | None
    methods: dict[str, str]
    roc_auc: tuple[Interval, ...]  # per class, DeLong
    average_precision: tuple[Interval, ...]  # per class, bootstrap
    micro: Interval
    macro: Interval
    accuracy: Interval

    def of(self, name: str) -> tuple[Interval, Interval]:
        """(ROC AUC, AP) intervals of the class ``name``."""
        i = [iv.name for iv in self.roc_auc].index(name)
        return self.roc_auc[i], self.average_precision[i]

    def to_dict(self) -> dict:
        per_class = {}
        for auc, ap in zip(self.roc_auc, self.average_precision):
            reasons = [r for r in (auc.reason, ap.reason) if r]
            per_class[auc.name] = {"roc_auc_ci": auc.bounds, "average_precision_ci": ap.bounds,
                                   "reason": "; ".join(dict.fromkeys(reasons)) or None}
        return {
            "level": self.level,
            "n_resamples": self.n_resamples,
            "random_state": self.random_state,
            "methods": dict(self.methods),
            "per_class": per_class,
            "roc_auc_ci": {"micro": self.micro.bounds, "macro": self.macro.bounds},
            "accuracy_ci": self.accuracy.bounds,
            "reasons": {key: iv.reason for key, iv in (("micro", self.micro),
                                                       ("macro", self.macro),
                                                       ("accuracy", self.accuracy))
                        if iv.reason},
        }


@dataclass(frozen=True, eq=False)
class RateIntervals:
    """Bootstrap intervals of each scored class' precision, recall and F1 under one decision
    (one set of resamples).

    >>> from evalcore import Predictions
    >>> from evalcore.stats import rate_intervals
    >>> p = Predictions.from_arrays([0, 1, 0, 1, 1, 0, 1, 0], [.1, .8, .4, .35, .9, .2, .7, .3])
    >>> ri = rate_intervals(p, "binary", 0.5, n_resamples=200)
    >>> [round(b, 4) for b in ri.bounds("1", "recall")]
    [0.25, 1.0]
    >>> list(ri.to_dict()["1"])
    ['precision_ci', 'recall_ci', 'f1_ci']
    """

    intervals: tuple[Interval, ...]

    def bounds(self, name: str, metric: str) -> list[float] | None:
        """[low, high] of ``metric`` (precision, recall, f1) of class ``name``, or None."""
        for iv in self.intervals:
            if iv.name == name and iv.metric == metric:
                return iv.bounds
        return None

    def to_dict(self) -> dict:
        """{class: {"precision_ci", "recall_ci", "f1_ci"}}, JSON-ready."""
        out: dict = {}
        for iv in self.intervals:
            out.setdefault(iv.name, {})[f"{iv.metric}_ci"] = iv.bounds
        return out


@dataclass(frozen=True, eq=False)
class ModelComparison:
    """Two models on the same samples, per class: the paired DeLong test of the ROC AUCs and
    the paired bootstrap interval of the AP difference.

    >>> from evalcore import Predictions
    >>> from evalcore.stats import compare_models
    >>> y = [0, 1, 0, 1, 1, 0, 1, 0]
    >>> a = Predictions.from_arrays(y, [.1, .8, .4, .35, .9, .2, .7, .3])
    >>> b = Predictions.from_arrays(y, [.5, .6, .4, .3, .7, .2, .4, .6])
    >>> mc = compare_models(a, b, n_resamples=200)
    >>> mc.n_samples, len(mc.roc_auc), round(mc.roc_auc[0].difference, 4)
    (8, 1, 0.3125)
    >>> out = mc.to_dict()["per_class"]["1"]
    >>> round(out["roc_auc_a"], 4), round(out["average_precision_difference"], 4)
    (0.9375, 0.2655)
    """

    level: float
    n_samples: int
    n_resamples: int
    roc_auc: tuple[AucComparison, ...]
    average_precision: tuple[Interval, ...]  # of AP(A) - AP(B)

    def to_dict(self) -> dict:
        per_class = {}
        for comparison, interval in zip(self.roc_auc, self.average_precision):
            per_class[comparison.name] = {
                "roc_auc_a": comparison.auc_a,
                "roc_auc_b": comparison.auc_b,
                "difference": comparison.difference,
                "p_value": comparison.p_value,
                "difference_ci": (None if comparison.low is None
                                  else [comparison.low, comparison.high]),
                "average_precision_difference": interval.estimate,
                "average_precision_difference_ci": interval.bounds,
                "reason": comparison.reason or interval.reason,
            }
        return {
            "level": self.level,
            "n_samples": self.n_samples,
            "n_resamples": self.n_resamples,
            "methods": {"roc_auc": "paired DeLong test (two-sided)",
                        "average_precision": "paired stratified percentile bootstrap"},
            "per_class": per_class,
        }


def _checked_level(level) -> float:
    try:
        ok = 0.0 < float(level) < 1.0
    except (TypeError, ValueError):
        ok = False
    if isinstance(level, bool) or not ok:
        raise InputError(f"expected level to be between 0 and 1 (e.g. 0.95), got {level!r}")
    return float(level)


def _z(level) -> float:
    """The two-sided normal quantile of ``level`` (1.96 for 0.95)."""
    return NormalDist().inv_cdf(0.5 + _checked_level(level) / 2)
