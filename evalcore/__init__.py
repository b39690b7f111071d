"""evalcore: exact, fast evaluation of classifiers' scores and thresholds."""

from evalcore.counts import Counts
from evalcore.curves import CurveSet, compute_curves
from evalcore.deploy import ThresholdSpec, apply_thresholds, load_spec
from evalcore.errors import InputError
from evalcore.predictions import Predictions

__all__ = [
    "Counts", "CurveSet", "InputError", "Predictions", "ThresholdSpec", "apply_thresholds",
    "compute_curves", "load_spec",
]
__version__ = "0.1.0"
