"""evalcore: exact, fast evaluation of classifiers' scores and thresholds."""

from evalcore.counts import Counts
from evalcore.curves import CurveSet, compute_curves
from evalcore.errors import InputError
from evalcore.predictions import Predictions

__all__ = ["Counts", "CurveSet", "InputError", "Predictions", "compute_curves"]
__version__ = "0.1.0"
