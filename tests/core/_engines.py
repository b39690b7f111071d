"""What the engine tests share: a JSON-like comparison to 1e-12, a shared input case written
as a file, and every figure the CLI prints of a dataset from any engine."""

from __future__ import annotations

import math

import numpy as np

from evalcore import Predictions, io
from evalcore.decisions import Decision


def close(a, b, path="") -> list[str]:
    """Where two JSON-like values differ (floats to 1e-12)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a for d in close(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in close(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        same = (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-12
        return [] if same else [f"{path}: {a!r} vs {b!r}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def write_case(case, path) -> Predictions:
    y, s, kwargs = case.inputs()
    p = Predictions.from_arrays(y, s, **kwargs)
    raw = np.asarray(s, dtype=np.float64) if p.score_kind == "logit" else None
    io.write_predictions(p, path, raw_scores=raw)
    return io.load(path).select()


def assert_equals_numpy(data, p: Predictions) -> None:
    """An engine's dataset of the rows ``p`` holds: the same detection and every figure to
    1e-12."""
    from evalcore.engines import InMemory

    data.select()
    assert data.info.n_samples == p.n_samples
    assert (data.task, data.score_kind, data.class_names) == (p.task, p.score_kind,
                                                              p.class_names)
    differences = close(figures(data), figures(InMemory(p)))
    assert not differences, differences[:10]


def figures(data) -> dict:
    """Everything the CLI prints of one dataset, from either engine."""
    decision = Decision.of(data.sample())
    return {"curves": data.curves().to_dict(), "confusion": data.confusion(decision).to_dict(),
            "calibration": data.calibration(bins=7).to_dict()}
