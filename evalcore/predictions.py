"""Predictions: validated labels and scores, with what was detected about them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal, Sequence

import numpy as np

from evalcore.errors import InputError

Task = Literal["binary", "multiclass", "multilabel"]
ScoreKind = Literal["probability", "logit"]
TASKS: tuple[str, ...] = ("binary", "multiclass", "multilabel")
SCORE_KINDS: tuple[str, ...] = ("probability", "logit")

#: rows of softmax probabilities sum to 1 within this tolerance
ROW_SUM_TOLERANCE = 1e-3
#: above this logit, float64 sigmoid rounds to exactly 1.0 and ranks among such scores are lost
SIGMOID_SATURATION = 36.7


@dataclass(frozen=True, eq=False)
class Predictions:
    """Labels and scores of one evaluation, validated once.

    ``y_true`` holds class indices, shape (N,), for binary and multiclass tasks, and a bool
    indicator matrix (N, K) for multilabel. ``scores`` is (N, C) on the probability scale, one
    column per one-vs-rest curve: C = K for multiclass and multilabel, C = 1 (the positive
    class, ``class_names[1]``) for binary. Logits were converted (see ``conversion``).

    >>> import numpy as np
    >>> p = Predictions.from_arrays([0, 1, 2, 1], np.array(
    ...     [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.5, .4, .1]]), class_names=["cat", "dog", "eel"])
    >>> p.task, p.score_kind, p.n_samples, p.class_names
    ('multiclass', 'probability', 4, ('cat', 'dog', 'eel'))
    >>> Predictions.from_arrays([0, 1], [-2.0, 3.0]).conversion   # logits: detected, converted
    'sigmoid'
    """

    y_true: np.ndarray
    scores: np.ndarray
    class_names: tuple[str, ...]
    task: Task
    score_kind: ScoreKind
    conversion: Literal["softmax", "sigmoid"] | None = None
    notes: tuple[str, ...] = field(default=())
    split: np.ndarray | None = None
    model: np.ndarray | None = None
    ids: np.ndarray | None = None  # the file's id column, carried to per-row outputs

    @property
    def n_samples(self) -> int:
        return int(self.scores.shape[0])

    @property
    def curve_names(self) -> tuple[str, ...]:
        """Names of the one-vs-rest curves: every class, or the positive class for binary."""
        return self.class_names[1:] if self.task == "binary" else self.class_names

    @cached_property
    def top_class(self) -> np.ndarray:
        """Index of the top-scoring column per row (ties: lowest index), computed once."""
        return self.scores.argmax(axis=1)

    @cached_property
    def top_score(self) -> np.ndarray:
        """The top score per row, computed once."""
        return self.scores.max(axis=1)

    @cached_property
    def _ranking(self) -> tuple[np.ndarray | None, dict]:
        """Every row's classes best first, computed once. Float32 scores (non-negative) of at
        most 256 classes: one integer sort of a packed key per cell, (score bits << 8) |
        (255 - class), each rank unpacked the first time a rule asks for it (most rows are
        decided at rank 0 or 1). Other scores: an argsort, every rank at once."""
        k = self.scores.shape[1]
        if self.scores.dtype == np.float32 and k <= 256 and not np.signbit(self.scores).any():
            key = np.left_shift(self.scores.view(np.uint32), np.uint64(8), dtype=np.uint64)
            key |= np.uint64(255) - np.arange(k, dtype=np.uint64)
            key.sort(axis=1)
            return key, {}
        order = np.argsort(-self.scores, axis=1, kind="stable")
        scores = np.take_along_axis(self.scores, order, axis=1)
        small = np.uint8 if k <= 256 else np.int32
        return None, {r: (np.ascontiguousarray(order[:, r].astype(small)),
                          np.ascontiguousarray(scores[:, r])) for r in range(k)}

    def at_rank(self, r: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(classes, scores) of the r-th best class (r = 0: the top; ties: lowest class index
        first) of the samples ``rows``, so that a decision rule visits the ranks of only the
        rows it has not decided yet. The ranking is computed once.

        >>> p = Predictions.from_arrays([0, 1], np.array([[0.5, 0.2, 0.3], [0.4, 0.4, 0.2]],
        ...                                               dtype=np.float32))
        >>> classes, scores = p.at_rank(1, np.array([0, 1]))
        >>> classes.tolist(), scores.tolist()
        ([2, 1], [0.30000001192092896, 0.4000000059604645])
        """
        key, ranks = self._ranking
        if r not in ranks:  # unpack rank r once (concurrent callers compute the same arrays)
            column = key[:, key.shape[1] - 1 - r]
            classes = np.empty(column.size, dtype=np.uint8)
            np.subtract(255, column & np.uint64(255), out=classes, casting="unsafe")
            scores = np.empty(column.size, dtype=np.uint32)
            np.right_shift(column, np.uint64(8), out=scores, casting="unsafe")
            ranks[r] = classes, scores.view(np.float32)
        classes, scores = ranks[r]
        return classes[rows], scores[rows]

    @property
    def splits(self) -> tuple[str, ...]:
        """Distinct values of the ``split`` column, in order of appearance (empty if none)."""
        return _distinct(self.split)

    @property
    def models(self) -> tuple[str, ...]:
        """Distinct values of the ``model`` column, in order of appearance (empty if none)."""
        return _distinct(self.model)

    def select(self, *, split: str | None = None, model: str | None = None) -> Predictions:
        """The rows of one split and/or one model (None: all), with the same classes and
        detection as the whole file."""
        keep = np.ones(self.n_samples, dtype=bool)
        for column, value, values in (("split", split, self.splits), ("model", model, self.models)):
            if value is None:
                continue
            if value not in values:
                have = f"one of {list(values)}" if values else f"no {column} column"
                raise InputError(f"no {column} {value!r}: the data has {have}")
            keep &= getattr(self, column) == value
        if keep.all():
            return self
        if not keep.any():
            chosen = " and ".join(f"{c} {v!r}" for c, v in (("split", split), ("model", model))
                                  if v is not None)
            raise InputError(f"no rows for {chosen}: that combination is not in the data")
        return replace(
            self,
            y_true=self.y_true[keep],
            scores=np.ascontiguousarray(self.scores[keep]),
            split=None if self.split is None else self.split[keep],
            model=None if self.model is None else self.model[keep],
            ids=None if self.ids is None else self.ids[keep],
        )

    def positives(self, curve: int) -> np.ndarray:
        """Bool mask of the samples that are positive for one-vs-rest curve ``curve``."""
        if self.task == "multilabel":
            return self.y_true[:, curve]
        return self.y_true == (1 if self.task == "binary" else curve)

    def to_dict(self) -> dict:
        return {
            "task": self.task,
            "score_kind": self.score_kind,
            "conversion": self.conversion,
            "n_samples": self.n_samples,
            "classes": list(self.class_names),
            "notes": list(self.notes),
        }

    @classmethod
    def from_arrays(
        cls,
        y_true: Sequence | np.ndarray,
        y_score: Sequence | np.ndarray,
        *,
        class_names: Sequence[str] | None = None,
        task: Task | None = None,
        score_kind: ScoreKind | None = None,
    ) -> Predictions:
        """Validate labels and scores, detect the task and the score kind, convert logits.

        ``y_true``: class indices, class-name strings, one-hot rows, or a multilabel 0/1
        matrix. ``y_score``: (N, K) scores, or (N,) / (N, 1) for binary (positive class).
        Raises :class:`InputError` naming the problem.
        """
        if task is not None and task not in TASKS:
            raise InputError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
        if score_kind is not None and score_kind not in SCORE_KINDS:
            raise InputError(
                f"score_kind must be one of {', '.join(SCORE_KINDS)}, got {score_kind!r}"
            )
        scores = _as_score_matrix(y_score)
        n, k = scores.shape
        labels = _as_array(y_true, "y_true")
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.ndim not in (1, 2):
            raise InputError(f"y_true must be 1-D or 2-D, got shape {labels.shape}")
        if labels.shape[0] != n:
            raise InputError(
                f"y_true has {labels.shape[0]} rows but y_score has {n}: they must match"
            )
        if n == 0:
            raise InputError("no samples: y_true and y_score are empty")
        if class_names is not None and (
            isinstance(class_names, (str, bytes)) or not hasattr(class_names, "__iter__")
        ):
            raise InputError(f"class_names must be a list of names, got {class_names!r}")
        names = None if class_names is None else tuple(str(c) for c in class_names)
        if names is not None and len(set(names)) != len(names):
            raise InputError(f"class_names has duplicates: {list(names)}")

        if labels.ndim == 2:
            indicator = _as_indicator(labels, k)
            one_hot = bool((indicator.sum(axis=1) == 1).all())
            detected: Task = "multiclass" if one_hot else "multilabel"
            task = task or detected
            if task == "binary":
                raise InputError("task='binary' needs 1-D y_true, got a 2-D indicator matrix")
            if task == "multiclass" and not one_hot:
                row = int(np.flatnonzero(indicator.sum(axis=1) != 1)[0])
                raise InputError(
                    f"task='multiclass' needs exactly one 1 per row of y_true, row {row} has "
                    f"{int(indicator[row].sum())}"
                )
            names = _check_names(names, k, "columns of y_score")
            y = indicator if task == "multilabel" else indicator.argmax(axis=1).astype(np.int64)
        else:
            if task == "multilabel":
                raise InputError("task='multilabel' needs a 2-D 0/1 y_true of shape (N, K)")
            if task is None:
                task = "binary" if k == 1 else "multiclass"
            n_classes = 2 if task == "binary" else k
            y, names = _encode_labels(labels, names, n_classes, task)
            if task == "binary" and k > 2:
                raise InputError(
                    f"task='binary' needs y_score of shape (N,), (N, 1) or (N, 2), got (N, {k})"
                )
        if len(names) < 2:
            raise InputError(f"need at least 2 classes, got {len(names)}: {list(names)}")

        kind, conversion, notes = _detect_score_kind(scores, task, score_kind)
        if conversion == "softmax":
            scores = _softmax(scores)
        elif conversion == "sigmoid":
            scores = _sigmoid(scores)
        if task == "binary" and scores.shape[1] == 2:
            if kind == "logit":
                # two-column logits of one binary model: softmax, then the positive column
                scores = _softmax(_as_score_matrix(y_score))
                conversion = "softmax"
            scores = np.ascontiguousarray(scores[:, 1:])
            notes += (f"binary: column 2 of y_score is the positive class {names[1]!r}",)
        return cls(
            y_true=y,
            scores=scores,
            class_names=names,
            task=task,
            score_kind=kind,
            conversion=conversion,
            notes=notes,
        )


#: splits listed first, in this order; others follow in order of appearance
SPLIT_ORDER = ("train", "training", "val", "valid", "validation", "dev", "test", "holdout")


def _distinct(values: np.ndarray | None) -> tuple[str, ...]:
    """Distinct values: known split names in their natural order, then order of appearance."""
    if values is None:
        return ()
    unique, first = np.unique(values, return_index=True)
    return ordered_groups([str(v) for v in unique[np.argsort(first)]])


def ordered_groups(seen: Sequence[str]) -> tuple[str, ...]:
    """Split or model names (given in order of appearance): known split names first, in
    their natural order.

    >>> ordered_groups(["test", "train", "holdout", "validation"])
    ('train', 'validation', 'test', 'holdout')
    """
    rank = {name: i for i, name in enumerate(SPLIT_ORDER)}
    return tuple(sorted(seen, key=lambda v: rank.get(v.lower(), len(rank))))


def _as_array(values, name: str) -> np.ndarray:
    try:
        return np.asarray(values)
    except ValueError:
        raise InputError(f"{name} rows have different lengths (a ragged array)") from None


def _as_score_matrix(y_score) -> np.ndarray:
    scores = _as_array(y_score, "y_score")
    if scores.dtype.kind == "b" or scores.dtype.kind in "iu":
        scores = scores.astype(np.float64)
    elif scores.dtype.kind != "f":
        raise InputError(f"y_score must be numeric, got values of type {scores.dtype}")
    elif scores.dtype.itemsize < 4:
        scores = scores.astype(np.float32)  # float16: widen once, exactly
    elif scores.dtype.itemsize > 8:
        narrow = scores.astype(np.float64)
        if not np.array_equal(narrow, scores):
            raise InputError(
                f"y_score is {scores.dtype} with values float64 cannot hold exactly; "
                "evalcore computes in float64 and will not round them silently"
            )
        scores = narrow
    if scores.ndim == 1:
        scores = scores[:, None]
    if scores.ndim != 2:
        raise InputError(f"y_score must be 1-D or 2-D, got shape {scores.shape}")
    if scores.shape[1] == 0:
        raise InputError("y_score has no columns")
    # NaN or an infinity makes the min or the max non-finite: two passes, no N x K temporary
    if scores.size and not (np.isfinite(scores.min()) and np.isfinite(scores.max())):
        row, col = (int(i[0]) for i in np.nonzero(~np.isfinite(scores)))
        raise InputError(
            f"y_score has a non-finite value ({scores[row, col]}) at row {row}, column {col}"
        )
    return scores


def _as_indicator(labels: np.ndarray, k: int) -> np.ndarray:
    if labels.shape[1] != k:
        raise InputError(
            f"y_true has {labels.shape[1]} columns but y_score has {k}: they must match"
        )
    if labels.dtype.kind == "b":
        return labels
    if labels.dtype.kind not in "iuf":
        raise InputError(f"a 2-D y_true must hold 0/1 values, got type {labels.dtype}")
    bad = (labels != 0) & (labels != 1)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        raise InputError(
            f"a 2-D y_true must hold 0/1 values, row {row} column {col} is {labels[row, col]}"
        )
    return labels.astype(bool)


def _check_names(names: tuple[str, ...] | None, n: int, what: str) -> tuple[str, ...]:
    if names is None:
        return tuple(str(i) for i in range(n))
    if len(names) != n:
        raise InputError(f"class_names has {len(names)} names but there are {n} {what}")
    return names


def _encode_labels(
    labels: np.ndarray, names: tuple[str, ...] | None, n_classes: int, task: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    """1-D labels (indices or names) -> int64 class indices and the class names."""
    kind = labels.dtype.kind
    if kind == "f":
        if not np.isfinite(labels).all():
            row = int(np.flatnonzero(~np.isfinite(labels))[0])
            raise InputError(f"y_true has a non-finite label at row {row}")
        if (labels != np.round(labels)).any():
            row = int(np.flatnonzero(labels != np.round(labels))[0])
            raise InputError(f"y_true must hold class indices or names, row {row} is {labels[row]}")
        if (np.abs(labels) >= 2**62).any():
            row = int(np.flatnonzero(np.abs(labels) >= 2**62)[0])
            raise InputError(
                f"y_true label {labels[row]} at row {row} is outside the classes 0..{n_classes - 1}"
            )
        labels = labels.astype(np.int64)
        kind = "i"
    if kind == "b":
        labels = labels.astype(np.int64)
        kind = "i"
    if kind in "iu":
        if (labels.size and (kind == "i" or labels.dtype.itemsize < 8)  # bincount takes intp
                and 0 <= labels.min() and labels.max() < max(labels.size, 1 << 16)):
            present = np.flatnonzero(np.bincount(labels)).astype(labels.dtype)  # np.unique's
        else:
            present = np.unique(labels)
        if task == "binary" and names is None and not np.isin(present, (0, 1)).all():
            if len(present) > 2:
                raise InputError(
                    f"binary y_true holds {len(present)} distinct labels, expected 2: "
                    f"{present[:5].tolist()}"
                )
            if len(present) == 1:
                raise InputError(
                    f"binary y_true only holds the label {present[0]}; pass class_names to "
                    "say which class it is"
                )
            # two labels other than 0/1 (e.g. -1/1): the larger is positive, as scikit-learn
            return (labels == present[1]).astype(np.int64), tuple(str(v) for v in present)
        names = _check_names(names, n_classes, "classes")
        bad = (labels < 0) | (labels >= n_classes)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"y_true label {labels[row]} at row {row} is outside the classes "
                f"0..{n_classes - 1}"
            )
        return labels.astype(np.int64, copy=False), names
    if kind in "UOS":
        text = labels.astype(str)
        present, inverse = np.unique(text, return_inverse=True)
        if names is None:
            if len(present) < 2:
                raise InputError(
                    f"y_true only holds {present.tolist()}; pass class_names to name the classes"
                )
            names = tuple(present.tolist())
            if len(names) != n_classes:
                raise InputError(
                    f"y_true has {len(names)} distinct labels but y_score has "
                    f"{n_classes if task != 'binary' else 1} column(s); pass class_names "
                    "to name every class in column order"
                )
        names = _check_names(names, n_classes, "classes")
        index = {name: i for i, name in enumerate(names)}
        known = np.array([label in index for label in present.tolist()])
        if not known.all():
            row = int(np.flatnonzero(~known[inverse.ravel()])[0])
            raise InputError(
                f"y_true label {str(text[row])!r} at row {row} is not among the classes {list(names)}"
            )
        lookup = np.array([index[label] for label in present.tolist()], dtype=np.int64)
        return lookup[inverse.ravel()], names
    raise InputError(f"y_true must hold class indices or names, got type {labels.dtype}")


def _detect_score_kind(
    scores: np.ndarray, task: str, claimed: str | None
) -> tuple[ScoreKind, Literal["softmax", "sigmoid"] | None, tuple[str, ...]]:
    low, high = scores.min(), scores.max()  # finite (checked): no N x K temporaries
    in_unit = bool(low >= 0 and high <= 1)
    if claimed == "probability" and not in_unit:
        row, col = (int(i[0]) for i in np.nonzero((scores < 0) | (scores > 1)))
        raise InputError(
            f"score_kind='probability' but y_score row {row} column {col} is "
            f"{scores[row, col]}, outside [0, 1]"
        )
    softmax_task = task == "multiclass" or (task == "binary" and scores.shape[1] == 2)
    sums_to_one = False
    if in_unit and softmax_task:
        error = scores.sum(axis=1, dtype=np.float64)
        error -= 1  # in place: one N-vector, not three
        sums_to_one = bool(np.abs(error, out=error).max() <= ROW_SUM_TOLERANCE)
    return score_kind_of(in_unit=in_unit, sums_to_one=sums_to_one,
                         saturated=bool(high > SIGMOID_SATURATION), task=task,
                         n_columns=scores.shape[1], claimed=claimed)


def score_kind_of(
    *, in_unit: bool, sums_to_one: bool, saturated: bool, task: str, n_columns: int,
    claimed: str | None,
) -> tuple[ScoreKind, Literal["softmax", "sigmoid"] | None, tuple[str, ...]]:
    """(score kind, conversion, notes) from what is true of all the scores: all in [0, 1],
    every row sums to 1 (within ROW_SUM_TOLERANCE), some above SIGMOID_SATURATION (as an
    engine aggregates them over data it does not hold), or as ``claimed``.

    >>> score_kind_of(in_unit=True, sums_to_one=True, saturated=False, task="multiclass",
    ...               n_columns=3, claimed=None)
    ('probability', None, ('softmax probabilities: rows sum to 1',))
    >>> score_kind_of(in_unit=False, sums_to_one=False, saturated=False, task="multilabel",
    ...               n_columns=3, claimed=None)[:2]
    ('logit', 'sigmoid')
    """
    softmax_task = task == "multiclass" or (task == "binary" and n_columns == 2)
    if claimed == "probability":
        return "probability", None, ("probabilities (as given)",)
    if claimed is None and in_unit:
        if softmax_task:
            if sums_to_one:
                return "probability", None, ("softmax probabilities: rows sum to 1",)
            return "probability", None, (
                "independent probabilities: all in [0, 1], rows do not sum to 1",
            )
        return "probability", None, ("independent probabilities: all in [0, 1]",)
    how = "as given" if claimed else "values outside [0, 1]"
    if softmax_task:
        return "logit", "softmax", (f"logits ({how}), converted with softmax",)
    notes: tuple[str, ...] = (f"logits ({how}), converted with sigmoid",)
    if saturated:
        notes += (
            f"logits above {SIGMOID_SATURATION} all become probability 1.0 in float64; "
            "their order among themselves is lost",
        )
    return "logit", "sigmoid", notes


def _softmax(logits: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # a huge gap overflows to -inf, whose exp is exactly 0
        z = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    """Logistic function, accurate in both tails (no 1 + tanh cancellation)."""
    x = logits.astype(np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def threshold_in_dtype(thresholds: np.ndarray | float, dtype: np.dtype) -> np.ndarray:
    """The smallest value of ``dtype`` >= each threshold, so that comparing scores of that
    dtype with it keeps the exact rule ``score >= threshold`` (no upcast of the scores).

    >>> import numpy as np
    >>> t = threshold_in_dtype(0.7, np.float32)   # float32(0.7) is just below 0.7
    >>> t.dtype, bool(t >= 0.7), bool(np.float32(0.7) >= t)
    (dtype('float32'), True, False)
    """
    t = np.asarray(thresholds, dtype=np.float64)
    cast = t.astype(dtype)
    below = cast.astype(np.float64) < t
    if below.any():
        cast = np.where(below, np.nextafter(cast, np.array(np.inf, dtype=dtype)), cast)
    return cast


def logit(p: float) -> float:
    """The logit whose sigmoid is ``p`` (to show logit thresholds beside probabilities).

    >>> logit(0.5), round(logit(0.9), 4), logit(1.0)
    (0.0, 2.1972, inf)
    """
    if p <= 0:
        return float("-inf")
    if p >= 1:
        return float("inf")
    return float(np.log(p) - np.log1p(-p))


def class_index(classes: Sequence[str], name: str | int) -> int:
    """The index of a class given by name or by index (the one place classes are resolved);
    InputError listing the classes.

    >>> class_index(("cat", "dog", "eel"), "dog"), class_index(("cat", "dog", "eel"), 2)
    (1, 2)
    >>> class_index(("cat", "dog", "eel"), "dgo")
    Traceback (most recent call last):
    evalcore.errors.InputError: expected a class name or index of (cat, dog, eel), got 'dgo'
    """
    classes = tuple(classes)
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        if 0 <= int(name) < len(classes):
            return int(name)
    elif str(name) in classes:
        return classes.index(str(name))
    raise InputError(f"expected a class name or index of ({', '.join(classes)}), got {name!r}")
