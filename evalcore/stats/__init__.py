"""How sure are we: confidence intervals of the headline figures and paired comparisons, laid
out as rliable lays out its library:

- :mod:`evalcore.stats.delong`: ROC AUC intervals and the paired test by DeLong's variance
  (the fast midrank algorithm, on the sorted scores the engine holds);
- :mod:`evalcore.stats.bootstrap`: the stratified percentile bootstrap of any statistic, with
  ready statistics that evaluate whole chunks of resamples without sorting again;
- :mod:`evalcore.stats.comparisons`: two models on the same samples, and the intervals of a
  decision's per-class rates;
- :mod:`evalcore.stats.results`: what they return.

Randomness only through ``random_state`` (an int seed, a ``numpy.random.Generator`` or None).
Undefined figures are None with a reason, never NaN in JSON.

>>> import numpy as np
>>> from evalcore import compute_curves
>>> curves = compute_curves([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
>>> [round(v, 4) for v in auc_intervals(curves)[0].bounds]
[0.5809, 1.0]
"""

from evalcore.stats.bootstrap import (
    CHUNK_CELLS, Accuracy, AveragedRocAuc, Bootstrap, ClassRates, Combined, PerClassAveragePrecision,
    PerClassRocAuc, Statistic, bootstrap_distribution, bootstrap_interval, summary_intervals,
)
from evalcore.stats.comparisons import compare_average_precision, compare_models, rate_intervals
from evalcore.stats.delong import auc_intervals, compare_auc, delong, delong_from_stats
from evalcore.stats.results import (
    DEFAULT_LEVEL, DEFAULT_RESAMPLES, AucComparison, DeLong, Interval, ModelComparison, Progress,
    RateIntervals, SummaryIntervals,
)

__all__ = [
    "Accuracy", "AucComparison", "AveragedRocAuc", "Bootstrap", "CHUNK_CELLS", "ClassRates",
    "Combined", "DEFAULT_LEVEL", "DEFAULT_RESAMPLES", "DeLong", "Interval", "ModelComparison", "PerClassAveragePrecision",
    "PerClassRocAuc", "Progress", "RateIntervals", "Statistic", "SummaryIntervals", "auc_intervals", "bootstrap_distribution",
    "bootstrap_interval", "compare_auc", "compare_average_precision", "compare_models", "delong",
    "delong_from_stats", "rate_intervals", "summary_intervals",
]
