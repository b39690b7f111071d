"""evalcore: exact, fast evaluation of classifiers' scores and thresholds."""

from evalcore import demos, io
from evalcore.counts import Counts
from evalcore.curves import CurveSet, compute_curves
from evalcore.decisions import Confusion, Decision, confusion, predict
from evalcore.deploy import ThresholdSpec, apply_thresholds, load_spec
from evalcore.errors import InputError
from evalcore.evaluation import Evaluation, evaluate
from evalcore.operating import operating_point
from evalcore.optimise import optimise
from evalcore.predictions import Predictions

__all__ = [
    "Confusion", "Counts", "CurveSet", "Decision", "Evaluation", "InputError", "Predictions",
    "ThresholdSpec", "apply_thresholds", "compute_curves", "confusion", "demos", "evaluate", "io",
    "load_spec", "operating_point", "optimise", "predict",
]
__version__ = "0.1.0"
