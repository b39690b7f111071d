"""calibration() at 1e6 x 10 against scikit-learn's calibration_curve over the same classes,
in the same run (scikit-learn computes less: no top label, no Brier). Medians of 3."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.calibration import calibration_curve

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fmt_seconds, median_seconds  # noqa: E402

from evalcore import Predictions  # noqa: E402
from evalcore.calibration import calibration  # noqa: E402


def main(n: int = 1_000_000, k: int = 10) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k))
    z[np.arange(n), y] += 1.5
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = Predictions.from_arrays(y, e / e.sum(axis=1, keepdims=True))
    calibration(p)  # caches top_class / top_score, as the app's data does

    def reference():
        for c in range(k):
            calibration_curve(y == c, p.scores[:, c], n_bins=10, strategy="uniform")

    ref = median_seconds(reference, 3)
    for strategy in ("uniform", "quantile"):
        t = median_seconds(lambda: calibration(p, strategy=strategy), 3)
        print(f"calibration() {n:.0e} x {k}, {strategy:<8}: {fmt_seconds(t)}; scikit-learn "
              f"calibration_curve x {k} (uniform): {fmt_seconds(ref)}; ratio {ref / t:.1f}x")


if __name__ == "__main__":
    main()
