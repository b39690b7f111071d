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
    was defined."""

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
