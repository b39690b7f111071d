"""Two models on the same samples (paired DeLong, paired bootstrap), and the intervals of a
decision's per-class rates.
"""

from __future__ import annotations


import numpy as np

from evalcore.decisions import Decision
from evalcore.predictions import Predictions
from evalcore.stats.bootstrap import (
    Bootstrap, ClassRates, Combined, PerClassAveragePrecision, bootstrap_distribution,
    bootstrap_interval,
)
from evalcore.stats.delong import _same_samples, compare_auc
from evalcore.stats.results import (
    DEFAULT_LEVEL, DEFAULT_RESAMPLES, Interval, ModelComparison, Progress, RateIntervals,
)

def compare_average_precision(
    pred_a: Predictions, pred_b: Predictions, *, n_resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL, random_state: int | None = 0,
    progress: Progress | None = None,
) -> list[Interval]:
    """Paired bootstrap interval of AP(A) - AP(B) for every class: both models are evaluated
    on the same resamples (drawn from the shared labels with the same seed).

    >>> from evalcore import Predictions
    >>> y = [0, 1, 0, 1, 1, 0, 1, 0]
    >>> a = Predictions.from_arrays(y, [.1, .8, .4, .35, .9, .2, .7, .3])
    >>> b = Predictions.from_arrays(y, [.5, .6, .4, .3, .7, .2, .4, .6])
    >>> iv = compare_average_precision(a, b, n_resamples=200)[0]
    >>> iv.metric, round(iv.estimate, 4), [round(v, 4) for v in iv.bounds]
    ('average_precision_difference', 0.2655, [0.0, 0.4896])
    """
    _same_samples(pred_a, pred_b)
    seed = 0 if random_state is None else random_state
    half = None if progress is None else (lambda done, total: progress(done, 2 * total))
    rest = None if progress is None else (lambda done, total: progress(total + done, 2 * total))
    boot_a = bootstrap_distribution(pred_a, PerClassAveragePrecision(), n_resamples=n_resamples,
                                    random_state=seed, progress=half)
    boot_b = bootstrap_distribution(pred_b, PerClassAveragePrecision(), n_resamples=n_resamples,
                                    random_state=seed, progress=rest)
    difference = Bootstrap(
        ("average_precision_difference",) * len(boot_a.names), boot_a.names,
        boot_a.estimate - boot_b.estimate, boot_a.samples - boot_b.samples,
        tuple(a or b for a, b in zip(boot_a.reasons, boot_b.reasons)),
    )
    return difference.intervals(level)


def compare_models(
    pred_a: Predictions, pred_b: Predictions, *, level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_RESAMPLES, random_state: int | None = 0,
    progress: Progress | None = None,
) -> ModelComparison:
    """Two models on the same samples, per class: paired DeLong test of the ROC AUCs and the
    paired bootstrap interval of the AP difference (:class:`ModelComparison`).

    >>> import numpy as np
    >>> from evalcore import Predictions, compute_curves
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> p = Predictions.from_arrays(y, np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1))
    >>> noisier = Predictions.from_arrays(y, np.clip(p.scores[:, 0] + rng.normal(0, 0.2, 200), 0, 1))
    >>> auc = compare_models(p, noisier, n_resamples=200).roc_auc[0]
    >>> round(auc.difference, 4), round(auc.p_value, 4)
    (0.0668, 0.0158)
    """
    auc = [compare_auc(pred_a, pred_b, c, level=level) for c in range(len(pred_a.curve_names))]
    ap = compare_average_precision(pred_a, pred_b, n_resamples=n_resamples, level=level,
                                   random_state=random_state, progress=progress)
    return ModelComparison(level, pred_a.n_samples, n_resamples, tuple(auc), tuple(ap))


def rate_intervals(
    predictions: Predictions, rule: str | Decision | None = None, thresholds=0.5, *,
    level: float = DEFAULT_LEVEL, n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int | np.random.Generator | None = 0, progress: Progress | None = None,
) -> RateIntervals:
    """Bootstrap intervals of every scored class' precision, recall and F1 under a decision
    (the operating point), on one set of resamples (:class:`RateIntervals`).

    >>> import numpy as np
    >>> from evalcore import Predictions, compute_curves
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> p = Predictions.from_arrays(y, np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1))
    >>> [round(b, 4) for b in rate_intervals(p, "binary", 0.5, n_resamples=200).bounds("1", "recall")]
    [0.5854, 0.7568]
    """
    p = predictions
    first = 1 if p.task == "binary" else 0  # binary: the positive class only
    statistic = Combined(*(ClassRates(c, thresholds, rule) for c in range(first, len(p.class_names))))
    return RateIntervals(tuple(bootstrap_interval(
        p, statistic, n_resamples=n_resamples, level=level, random_state=random_state,
        progress=progress)))
