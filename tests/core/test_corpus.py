"""A seeded corpus of a few thousand prediction files, valid and malformed, in the families that
were once misread. For each file the generator knows what the file says: loading it must give
exactly that (labels, scores, classes, task, score kind), or refuse it with one InputError line
that names the place; never another exception, never something else."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evalcore.errors import InputError
from evalcore.io import NamedBytes, load

SEED = 20261201
PER_FAMILY = 120  # files per family and format: about 3,000 in all


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    # what the file says: expected class names, y_true, scores (probability scale), task, kind
    classes: tuple[str, ...] | None = None
    y: np.ndarray | None = None
    scores: np.ndarray | None = None
    task: str | None = None
    kind: str | None = None
    refused: str | None = None  # a fragment of the one-line refusal


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _encode(frame: pd.DataFrame, fmt: str) -> bytes:
    if fmt == "parquet":
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
        return buffer.getvalue()
    return frame.to_csv(index=False, sep="\t" if fmt == "tsv" else ",",
                        float_format="%.17g").encode()


def _classes(rng, k: int) -> tuple[str, ...]:
    pool = ["cat", "dog", "eel", "fox", "gnu", "hen", "owl", "yak"]
    return tuple(rng.choice(pool, k, replace=False).tolist())


def _multiclass(rng, n: int, k: int, *, all_present: bool = True):
    y = rng.integers(0, k, n)
    if all_present:
        y[:k] = np.arange(k)
    p = _softmax(rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y])
    return y, p


# --------------------------------------------------------------------------- families


def prefixed(rng, fmt):
    k = int(rng.integers(2, 6))
    n = int(rng.integers(k + 1, 40))
    names = _classes(rng, k)
    y, p = _multiclass(rng, n, k)
    prefix = str(rng.choice(["prob_", "proba_", "p_", "score_"]))
    frame = pd.DataFrame({"label": np.asarray(names)[y]})
    for j, c in enumerate(names):
        frame[f"{prefix}{c}"] = p[:, j]
    if rng.random() < 0.5:  # an extra text and numeric column beside prefixed scores: ignored
        frame["note"] = "x"
        frame["weight"] = rng.random(n)
    return Case(f"prefixed.{fmt}", _encode(frame, fmt), names, y, p, "multiclass", "probability")


def logits(rng, fmt):
    k = int(rng.integers(2, 5))
    n = int(rng.integers(k + 1, 40))
    names = _classes(rng, k)
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)
    z = rng.normal(size=(n, k)) * 3
    frame = pd.DataFrame({"label": np.asarray(names)[y]})
    for j, c in enumerate(names):
        frame[f"logit_{c}"] = z[:, j]
    return Case(f"logits.{fmt}", _encode(frame, fmt), names, y, _softmax(z), "multiclass", "logit")


def class_named(rng, fmt):
    k = int(rng.integers(2, 6))
    n = int(rng.integers(k + 1, 40))
    names = _classes(rng, k)
    absent = rng.random() < 0.3  # the last class has no rows: still a class (rows sum to 1)
    y, p = _multiclass(rng, n, k, all_present=False)
    if absent:
        y = rng.integers(0, k - 1, n)
        y[: k - 1] = np.arange(k - 1)
    else:
        y[:k] = np.arange(k)
    frame = pd.DataFrame({"label": np.asarray(names)[y]})
    for j, c in enumerate(names):
        frame[c] = p[:, j]
    return Case(f"named.{fmt}", _encode(frame, fmt), names, y, p, "multiclass", "probability")


def extra_numeric(rng, fmt):
    k = int(rng.integers(2, 5))
    n = int(rng.integers(k + 1, 40))
    names = _classes(rng, k)
    y, p = _multiclass(rng, n, k)
    frame = pd.DataFrame({"label": np.asarray(names)[y]})
    for j, c in enumerate(names):
        frame[c] = p[:, j]
    extra = str(rng.choice(["confidence", "weight", "age"]))
    frame[extra] = rng.random(n) + 0.5
    return Case(f"extra.{fmt}", _encode(frame, fmt), refused=f"numeric column {extra!r}")


def integer_indexed(rng, fmt):
    k = int(rng.integers(2, 6))
    n = int(rng.integers(k + 1, 40))
    y, p = _multiclass(rng, n, k)
    frame = pd.DataFrame({"label": y})
    for j in rng.permutation(k):  # columns named by the indices, in any order
        frame[str(j)] = p[:, j]
    names = tuple(str(j) for j in range(k))
    return Case(f"indexed.{fmt}", _encode(frame, fmt), names, y, p, "multiclass", "probability")


def index_column(rng, fmt):
    k = int(rng.integers(2, 5))
    n = int(rng.integers(k + 1, 40))
    y, p = _multiclass(rng, n, k)
    frame = pd.DataFrame({"label": y, **{str(j): p[:, j] for j in range(k)}})
    name = "Unnamed: 0" if fmt == "parquet" else ""
    frame.insert(0, name, np.arange(n))
    return Case(f"index.{fmt}", _encode(frame, fmt), refused="looks like the row index")


def missing_column(rng, fmt):
    k = int(rng.integers(3, 6))
    n = int(rng.integers(k + 1, 40))
    names = _classes(rng, k)
    y, p = _multiclass(rng, n, k)
    prefix = str(rng.choice(["prob_", ""]))
    frame = pd.DataFrame({"label": np.asarray(names)[y]})
    for j, c in enumerate(names[:-1]):  # the last class' column is missing
        frame[f"{prefix}{c}"] = p[:, j] + p[:, -1] / (k - 1)
    return Case(f"missing.{fmt}", _encode(frame, fmt), refused=f"{names[-1]!r} is not among")


def text_cell(rng, fmt):
    k = int(rng.integers(2, 5))
    n = int(rng.integers(k + 1, 40))
    names = _classes(rng, k)
    y, p = _multiclass(rng, n, k)
    prefix = str(rng.choice(["prob_", ""]))
    frame = pd.DataFrame({"label": np.asarray(names)[y]})
    for j, c in enumerate(names):
        frame[f"{prefix}{c}"] = [f"{v:.6f}" for v in p[:, j]]
    cell = str(rng.choice(["high", "x", "0x10", "\u0663", "n/a?", "1.2.3"]))
    row = int(rng.integers(0, n))
    column = f"{prefix}{names[1]}"
    frame.loc[row, column] = cell
    if fmt == "parquet":
        frame[column] = frame[column].astype(str)
    return Case(f"text.{fmt}", _encode(frame, fmt),
                refused=f"score column {column!r}, row {row + 1}")


def out_of_range(rng, fmt):
    k = int(rng.integers(2, 5))
    n = int(rng.integers(k + 1, 40))
    names = _classes(rng, k)
    y, p = _multiclass(rng, n, k)
    frame = pd.DataFrame({"label": np.asarray(names)[y]})
    for j, c in enumerate(names):
        frame[f"prob_{c}"] = p[:, j]
    row = int(rng.integers(0, n))
    frame.loc[row, f"prob_{names[0]}"] = float(rng.choice([1.000001, -0.01, 42.0, 1.7e9]))
    return Case(f"range.{fmt}", _encode(frame, fmt),
                refused=f"score column 'prob_{names[0]}', row {row + 1}")


def binary(rng, fmt):
    n = int(rng.integers(4, 40))
    names = _classes(rng, 2)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    s = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    kind = rng.integers(0, 4)
    if kind == 0:  # prob_<positive>
        frame = pd.DataFrame({"label": np.asarray(names)[y], f"prob_{names[1]}": s})
        return Case(f"binary.{fmt}", _encode(frame, fmt), names, y, s[:, None], "binary",
                    "probability")
    if kind == 1:  # a generic name with 0/1 labels: the score of class 1
        frame = pd.DataFrame({"y_true": y, "y_score": s})
        return Case(f"binary.{fmt}", _encode(frame, fmt), ("0", "1"), y, s[:, None], "binary",
                    "probability")
    if kind == 2:  # names a class that is not a label
        frame = pd.DataFrame({"label": np.asarray(names)[y], "prob_zzz": s})
        return Case(f"binary.{fmt}", _encode(frame, fmt), refused="'prob_zzz' names no class")
    # a column named by the negative label 0: it scores class 0, which becomes the positive
    frame = pd.DataFrame({"label": y, "0": s})
    return Case(f"binary.{fmt}", _encode(frame, fmt), ("1", "0"), 1 - y, s[:, None], "binary",
                "probability")


def groups(rng, fmt):
    k = int(rng.integers(2, 4))
    n = int(rng.integers(2 * k + 2, 40))
    names = _classes(rng, k)
    y, p = _multiclass(rng, n, k)
    frame = pd.DataFrame({"label": np.asarray(names)[y]})
    for j, c in enumerate(names):
        frame[f"prob_{c}"] = p[:, j]
    split = np.where(np.arange(n) % 2 == 0, "test", "train")
    frame["split"] = [s if rng.random() < 0.5 else f" {s} " for s in split]  # padded values
    keep = split == "test"
    return Case(f"groups.{fmt}", _encode(frame, fmt), names, y[keep], p[keep], "multiclass",
                "probability")


def label_sets(rng, fmt):
    k = int(rng.integers(2, 5))
    n = int(rng.integers(3, 40))
    names = _classes(rng, k)
    y = rng.random((n, k)) < 0.4
    s = np.clip(rng.normal(0.3 + 0.4 * y, 0.2), 0, 1)
    frame = pd.DataFrame({"labels": ["|".join(np.asarray(names)[row]) for row in y]})
    for j, c in enumerate(names):
        frame[f"prob_{c}"] = s[:, j]
    data = _encode(frame, fmt)
    if (y.sum(axis=1) > 1).any():  # a delimiter says these are label sets
        return Case(f"sets.{fmt}", data, names, y, s, "multilabel", "probability")
    if not y.any(axis=1).all():  # one label or none per row, no delimiter: a missing label
        return Case(f"sets.{fmt}", data, refused="is empty (a sample without a label")
    # exactly one label per row and no delimiter: the file says multiclass
    return Case(f"sets.{fmt}", data, names, y.argmax(axis=1), s, "multiclass", "probability")


def true_in_labels(rng, fmt):
    n = int(rng.integers(4, 30))
    y = rng.integers(0, 2, n).astype(object)
    y[int(rng.integers(0, n))] = "TRUE"
    frame = pd.DataFrame({"label": y.astype(str), "prob_0": rng.random(n)})
    frame["prob_1"] = 1 - frame["prob_0"]
    return Case(f"true.{fmt}", _encode(frame, "csv"), refused="'TRUE' is not among")


FAMILIES = (prefixed, logits, class_named, extra_numeric, integer_indexed, index_column,
            missing_column, text_cell, out_of_range, binary, groups, label_sets)


def corpus():
    rng = np.random.default_rng(SEED)
    for family in FAMILIES:
        for fmt in ("csv", "tsv", "parquet"):
            for _ in range(PER_FAMILY // 3 if fmt != "csv" else PER_FAMILY):
                yield family(rng, fmt)
    for _ in range(PER_FAMILY):
        yield true_in_labels(rng, "csv")


def check(case: Case) -> None:
    try:
        loaded = load(NamedBytes(case.name, case.data))
        p = loaded.select()
    except InputError as error:
        message = str(error)
        assert "\n" not in message and message.startswith(f"{case.name}: "), message
        assert case.refused is not None, f"{case.name} refused: {message}"
        assert case.refused in message, (case.refused, message)
        return
    assert case.refused is None, f"{case.name} loaded; expected a refusal naming {case.refused!r}"
    assert p.class_names == case.classes and p.task == case.task and p.score_kind == case.kind
    np.testing.assert_array_equal(p.y_true, case.y.astype(p.y_true.dtype))
    np.testing.assert_allclose(p.scores, case.scores.reshape(p.scores.shape), rtol=1e-12,
                               atol=1e-15)


def test_the_corpus_is_read_as_it_says_or_refused_in_one_line():
    cases = list(corpus())
    assert len(cases) >= 2500
    outcomes = {"loaded": 0, "refused": 0}
    failures = []
    for case in cases:
        try:
            check(case)
        except AssertionError as error:
            failures.append(f"{case.name}: {error}")
        except Exception as error:  # never another exception
            failures.append(f"{case.name}: {type(error).__name__}: {error}")
        outcomes["refused" if case.refused else "loaded"] += 1
    assert not failures, f"{len(failures)} of {len(cases)}:\n" + "\n".join(failures[:10])
    assert outcomes["loaded"] > 1000 and outcomes["refused"] > 1000
