"""Prediction files -> Predictions. Nothing is ever unpickled."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from evalcore.errors import InputError
from evalcore.predictions import Predictions, ScoreKind, Task

NPZ_KEYS = ("y_true", "y_score")


def load_predictions(
    path: str | Path, *, task: Task | None = None, score_kind: ScoreKind | None = None
) -> Predictions:
    """Read a prediction file (``.npz`` with ``y_true``, ``y_score``, optional
    ``class_names``) and validate it; InputError naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() != ".npz":
        raise InputError(f"{path}: unsupported file type {path.suffix!r}; expected .npz")
    with path.open("rb") as head:
        magic = head.read(6)
    if magic.startswith(b"\x93NUMPY"):
        raise InputError(f"{path}: holds a single array (.npy), expected an .npz archive")
    if not magic.startswith(b"PK"):
        raise InputError(f"{path}: not an .npz archive (a zip of .npy arrays)")
    try:
        archive = np.load(path, allow_pickle=False)
        with archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise InputError(
                    f"{path}: missing array {missing[0]!r}; found {sorted(archive.files)}, "
                    f"expected {list(NPZ_KEYS)} and optionally 'class_names'"
                )
            arrays = {key: archive[key] for key in (*NPZ_KEYS, "class_names") if key in archive}
    except InputError:
        raise
    except ValueError as error:  # object arrays refused by allow_pickle=False, bad headers
        raise InputError(f"{path}: cannot read as NumPy arrays without unpickling ({error})")
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise InputError(f"{path}: not a readable .npz file ({error})")
    names = arrays.get("class_names")
    try:
        return Predictions.from_arrays(
            arrays["y_true"],
            arrays["y_score"],
            class_names=None if names is None else names.tolist(),
            task=task,
            score_kind=score_kind,
        )
    except InputError as error:
        raise InputError(f"{path}: {error}") from None
