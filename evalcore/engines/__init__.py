"""Where the statistics are counted: ``numpy`` (in memory, the default for data that fits),
``duckdb`` (out of core on one machine: Parquet files or a CSV, a memory limit, spilling),
``spark`` (where the data lives: files or a DataFrame, on a cluster or ``local[*]``).

All give the same :class:`~evalcore.curves.CurveSet` (curves from
:class:`~evalcore.scorestats.CurveStats`), :class:`~evalcore.decisions.Confusion` and
:class:`~evalcore.calibration.Calibration`; every figure downstream reads those, so it is
the same whichever engine counted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from evalcore.errors import InputError

ENGINES = ("auto", "numpy", "duckdb", "spark")


def choose_engine(engine: str, paths: Sequence[str], max_bytes: int | None = None) -> str:
    """The engine ``engine`` names on ``paths`` (``auto``: numpy for one file that
    the in-memory reader takes (within its size limit), duckdb for Parquet globs,
    directories, several Parquet files, and Parquet or CSV files over the limit).

    >>> choose_engine("auto", ["data/*.parquet"]), choose_engine("auto", ["a.npy", "b.npy"])
    ('duckdb', 'numpy')
    >>> choose_engine("spark", ["data/*.parquet"])
    'spark'
    """
    from evalcore.io import TABLE_FORMATS, max_bytes_default

    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine != "auto":
        return engine
    if len(paths) != 1:
        is_npy = all(str(p).lower().endswith(".npy") for p in paths)
        return "numpy" if is_npy else "duckdb"
    path = Path(paths[0])
    if not path.is_file():
        return "duckdb" if path.is_dir() or any(ch in str(path) for ch in "*?[") else "numpy"
    limit = max_bytes or max_bytes_default()
    big = os.path.getsize(path) > limit
    table = path.suffix.lower() in TABLE_FORMATS
    return "duckdb" if big and table else "numpy"


class InMemory:
    """The numpy engine: the rows in memory, as :class:`~evalcore.predictions.Predictions`.
    The same methods as :class:`~evalcore.engines.duck.DuckDataset`.

    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 1, 1, 0], [0.2, 0.9, 0.6, 0.7])
    >>> with InMemory(p) as data:
    ...     data.engine, data.curves().roc_auc.macro
    ('numpy', 0.75)
    """

    engine = "numpy"

    def __init__(self, predictions):
        self.predictions = predictions

    def __enter__(self) -> InMemory:
        return self

    def __exit__(self, *exc) -> None:
        pass

    @property
    def info(self):
        return self.predictions

    def sample(self):
        """Rows with the data's classes and task (to build a Decision on)."""
        return self.predictions

    def curves(self, **options):
        from evalcore.curves import compute_curves

        return compute_curves(self.predictions, **options)

    def confusion(self, decision, *, zero_division: float | None = 0.0):
        from evalcore.decisions import confusion

        return confusion(self.predictions, decision, zero_division=zero_division)

    def calibration(self, *, bins: int = 10, strategy: str = "uniform"):
        from evalcore.calibration import calibration

        return calibration(self.predictions, bins=bins, strategy=strategy)
