"""The loading layer (``evalcore.io``): every layout and format against oracle values, the
overrides, the split/model selection, every error path, text encodings, the writer, the demos,
and fuzzing of the readers (a correct result or an InputError, never another exception).

The oracle is ``Predictions.from_arrays`` on the arrays a file was written from: loading the
file must give the same labels, exactly the same scores, the same classes, task and score
kind; and the curves of what was loaded must match scikit-learn's ``roc_auc_score``.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from _inputs import sigmoid, softmax
from evalcore.curves import compute_curves
from evalcore.demos import load_demo
from evalcore.errors import InputError
from evalcore.io import (
    LABEL_COLUMNS,
    MAX_BYTES_ENV,
    Loaded,
    Mapping,
    NamedBytes,
    load,
    load_predictions,
    read_table,
    write_predictions,
)
from evalcore.predictions import SCORE_KINDS, TASKS, Predictions

NAMES = ("zebra", "ant", "mole", "cat")  # unsorted on purpose: the columns give the order
BINARY_NAMES = ("benign", "malignant")
N = 240
ATOL = 1e-12


# an exception pyarrow swallows in a callback is printed on stderr ("Exception ignored"):
# pytest reports those as warnings, here failures
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")

# --------------------------------------------------------------------------- oracle data


@dataclass(frozen=True, eq=False)
class Data:
    """The arrays a test file is written from."""

    y: np.ndarray  # (N,) indices, or (N, K) bool for multilabel
    scores: np.ndarray  # probabilities, float64
    logits: np.ndarray
    names: tuple[str, ...]
    split: np.ndarray = field(default=None)
    model: np.ndarray = field(default=None)
    ids: np.ndarray = field(default=None)


def multiclass_data(seed: int = 0) -> Data:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(NAMES), N)
    y[: len(NAMES)] = np.arange(len(NAMES))  # every class occurs
    logits = rng.normal(size=(N, len(NAMES))) + 1.5 * np.eye(len(NAMES))[y]
    return Data(y, softmax(logits), 2.0 * logits, NAMES, *_groups(rng))


def binary_data(seed: int = 1) -> Data:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, N)
    y[:2] = [0, 1]
    logits = (rng.normal(size=N) + 1.2 * y)[:, None]
    return Data(y, sigmoid(logits), logits, BINARY_NAMES, *_groups(rng))


def multilabel_data(seed: int = 2) -> Data:
    rng = np.random.default_rng(seed)
    y = rng.random((N, len(NAMES))) < 0.4
    y[0], y[1], y[2] = True, False, [True, False, True, False]  # all, none, two
    logits = rng.normal(size=(N, len(NAMES))) + 1.5 * y - 0.5
    return Data(y, sigmoid(logits), logits, NAMES, *_groups(rng))


def _groups(rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    split = rng.choice(np.array(["train", "validation", "test"]), N)
    split[:3] = ["train", "validation", "test"]
    model = rng.choice(np.array(["resnet", "vit"]), N)
    model[:2] = ["resnet", "vit"]
    return split, model, np.arange(1000, 1000 + N)


def oracle(y, scores, **kwargs) -> Predictions:
    return Predictions.from_arrays(y, scores, **kwargs)


def assert_same(actual: Predictions, expected: Predictions) -> None:
    assert actual.task == expected.task
    assert actual.score_kind == expected.score_kind
    assert actual.conversion == expected.conversion
    assert actual.class_names == expected.class_names
    assert actual.y_true.shape == expected.y_true.shape
    np.testing.assert_array_equal(actual.y_true, expected.y_true)
    assert actual.scores.shape == expected.scores.shape
    assert actual.scores.dtype == expected.scores.dtype
    assert np.array_equal(actual.scores, expected.scores), "scores differ (must be exact)"


def assert_auc_matches_sklearn(p: Predictions) -> None:
    curves = compute_curves(p)
    assert len(curves.classes) == p.scores.shape[1]
    for c, summary in enumerate(curves.classes):
        positives = p.positives(c)
        if positives.all() or not positives.any():
            assert summary.roc_auc is None
            continue
        expected = roc_auc_score(positives, p.scores[:, c])
        assert summary.roc_auc == pytest.approx(expected, abs=ATOL), summary.name


# --------------------------------------------------------------------------- layouts


@dataclass(frozen=True)
class Layout:
    """A wide-layout table and what loading it must give."""

    frame: pd.DataFrame
    expected: Predictions
    data: Data
    ignored: tuple[str, ...] = ()


def _with_groups(columns: dict, data: Data, numeric_extra: bool) -> tuple[dict, tuple[str, ...]]:
    columns = {"id": data.ids, **columns, "split": data.split, "model": data.model}
    columns["note"] = np.where(np.arange(N) % 2 == 0, "checked", "todo")
    ignored = ("note",)
    if numeric_extra:  # only where the scores are prefixed (the prefix says what they are)
        columns["weight"] = np.linspace(0.5, 2.0, N)
        ignored += ("weight",)
    return columns, ignored


def _score_columns(prefix: str, names, values) -> dict:
    return {f"{prefix}{name}": values[:, j] for j, name in enumerate(names)}


def _multiclass(labels: str, prefix: str, groups: bool) -> Layout:
    d = multiclass_data()
    label_values = np.array(d.names)[d.y] if labels == "names" else d.y
    values = d.logits if prefix == "logit_" else d.scores
    columns = {"label": label_values, **_score_columns(prefix, d.names, values)}
    ignored: tuple[str, ...] = ()
    if groups:  # a numeric extra column beside unprefixed scores is an error (tested apart)
        columns, ignored = _with_groups(columns, d, numeric_extra=prefix != "")
    return Layout(pd.DataFrame(columns), oracle(d.y, values, class_names=d.names), d, ignored)


def _binary(label_column: str, labels: str, groups: bool) -> Layout:
    d = binary_data()
    if labels == "names":
        columns = {label_column: np.array(d.names)[d.y], "p_malignant": d.scores[:, 0]}
        expected = oracle(np.array(d.names)[d.y], d.scores[:, 0], class_names=d.names)
    else:  # 0/1 labels and one score column named "score": no names to find
        columns = {label_column: d.y, "score": d.scores[:, 0]}
        expected = oracle(d.y, d.scores[:, 0])
    ignored: tuple[str, ...] = ()
    if groups:
        columns, ignored = _with_groups(columns, d, numeric_extra=labels == "names")
    return Layout(pd.DataFrame(columns), expected, d, ignored)


def _multilabel(kind: str, groups: bool) -> Layout:
    d = multilabel_data()
    if kind in ("|", ";", ","):
        sets = [kind.join(n for n, on in zip(d.names, row) if on) for row in d.y]
        columns = {"labels": np.array(sets, dtype=object)}
    else:  # true_<class> / y_<class> indicator columns
        columns = {f"{kind}{n}": d.y[:, j].astype(np.int64) for j, n in enumerate(d.names)}
    columns.update(_score_columns("prob_", d.names, d.scores))
    ignored: tuple[str, ...] = ()
    if groups:
        columns, ignored = _with_groups(columns, d, numeric_extra=True)
    expected = oracle(d.y.astype(np.int64), d.scores, class_names=d.names)
    return Layout(pd.DataFrame(columns), expected, d, ignored)


LAYOUTS = {
    "multiclass-names": lambda g: _multiclass("names", "prob_", g),
    "multiclass-indices": lambda g: _multiclass("indices", "prob_", g),
    **{f"prefix-{p}": (lambda p: lambda g: _multiclass("names", p, g))(p)
       for p in ("prob_", "proba_", "p_", "score_", "logit_")},
    "no-prefix": lambda g: _multiclass("names", "", g),
    **{f"binary-{c}": (lambda c: lambda g: _binary(c, "names", g))(c) for c in LABEL_COLUMNS},
    "binary-indices": lambda g: _binary("target", "indices", g),
    **{f"multilabel-sets{d}": (lambda d: lambda g: _multilabel(d, g))(d) for d in "|;,"},
    "multilabel-true_": lambda g: _multilabel("true_", g),
    "multilabel-y_": lambda g: _multilabel("y_", g),
}
TABLE_FORMATS = ("csv", "tsv", "parquet")


def write_table(frame: pd.DataFrame, directory, fmt: str, stem: str = "predictions"):
    path = directory / f"{stem}.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if fmt == "tsv" else ",")
    return path


@pytest.mark.parametrize("groups", [False, True], ids=["plain", "groups"])
@pytest.mark.parametrize("fmt", TABLE_FORMATS)
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_table_round_trip_against_oracle(tmp_path, layout, fmt, groups):
    case = LAYOUTS[layout](groups)
    path = write_table(case.frame, tmp_path, fmt)
    loaded = load(path)
    assert isinstance(loaded, Loaded)
    assert_same(loaded.predictions, case.expected)
    assert_auc_matches_sklearn(loaded.predictions)
    assert loaded.layout.file == str(path)
    assert loaded.layout.format == fmt
    assert loaded.layout.n_rows == N
    assert loaded.layout.ignored_columns == case.ignored
    if groups:
        np.testing.assert_array_equal(loaded.predictions.split, case.data.split)
        np.testing.assert_array_equal(loaded.predictions.model, case.data.model)
        assert loaded.predictions.splits == ("train", "validation", "test")
        assert loaded.predictions.models == ("resnet", "vit")
        assert (loaded.layout.split_column, loaded.layout.model_column) == ("split", "model")
        assert loaded.layout.id_column == "id"
    else:
        assert loaded.predictions.split is None and loaded.predictions.model is None
        assert loaded.layout.split_column is None and loaded.layout.id_column is None
    # what was detected, in one line for the user
    line = loaded.layout.describe(loaded.predictions)
    assert "\n" not in line and str(path) in line and case.expected.task in line


def test_layout_names_what_was_found(tmp_path):
    loaded = load(write_table(LAYOUTS["prefix-logit_"](True).frame, tmp_path, "csv"))
    layout = loaded.layout
    assert layout.label_column == "label"
    assert layout.score_columns == tuple(f"logit_{n}" for n in NAMES)
    assert layout.indicator_columns == ()
    assert "class names" in layout.labels
    assert json.loads(json.dumps(layout.to_dict()))["score_columns"] == list(layout.score_columns)
    line = layout.describe(loaded.predictions)
    assert "logits" in line and "ignored: note, weight" in line

    loaded = load(write_table(LAYOUTS["multilabel-true_"](False).frame, tmp_path, "csv"))
    assert loaded.layout.label_column is None
    assert loaded.layout.indicator_columns == tuple(f"true_{n}" for n in NAMES)
    loaded = load(write_table(LAYOUTS["multilabel-sets;"](False).frame, tmp_path, "csv"))
    assert "';'" in loaded.layout.labels


def test_float32_scores_in_parquet_stay_float32(tmp_path):
    d = multiclass_data()
    scores = d.scores.astype(np.float32)
    frame = pd.DataFrame({"label": np.array(NAMES)[d.y], **_score_columns("prob_", NAMES, scores)})
    loaded = load(write_table(frame, tmp_path, "parquet"))
    assert_same(loaded.predictions, oracle(d.y, scores, class_names=NAMES))
    assert loaded.predictions.scores.dtype == np.float32


def test_csv_crlf_quotes_and_padding():
    text = (
        'label,"prob_a", prob_b \r\n'
        '"a", 0.25 ,0.75\r\n'
        ' b ,"0.5",0.5\r\n'
    )
    p = load(NamedBytes("crlf.csv", text.encode())).predictions
    assert_same(p, oracle(np.array([0, 1]), np.array([[0.25, 0.75], [0.5, 0.5]]),
                          class_names=("a", "b")))


# --------------------------------------------------------------------------- arrays


def _npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npy_bytes(array, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


NPZ_CASES = {
    "multiclass-indices": lambda d: ({"y_true": d.y}, oracle(d.y, d.scores, class_names=NAMES)),
    "multiclass-names": lambda d: (
        {"y_true": np.array(NAMES)[d.y]}, oracle(np.array(NAMES)[d.y], d.scores, class_names=NAMES)
    ),
    "multiclass-logits": lambda d: (
        {"y_true": d.y, "y_score": d.logits}, oracle(d.y, d.logits, class_names=NAMES)
    ),
}


@pytest.mark.parametrize("groups", [False, True], ids=["plain", "groups"])
@pytest.mark.parametrize("case", ["multiclass-indices", "multiclass-names", "multiclass-logits",
                                  "binary", "multilabel"])
def test_npz_round_trip_against_oracle(tmp_path, case, groups):
    if case == "binary":
        d = binary_data()
        arrays = {"y_true": d.y, "y_score": d.scores[:, 0], "class_names": np.array(d.names)}
        expected = oracle(d.y, d.scores[:, 0], class_names=d.names)
    elif case == "multilabel":
        d = multilabel_data()
        arrays = {"y_true": d.y.astype(np.int8), "y_score": d.scores, "class_names": np.array(NAMES)}
        expected = oracle(d.y, d.scores, class_names=NAMES)
    else:
        d = multiclass_data()
        arrays, expected = NPZ_CASES[case](d)
        arrays = {"y_score": d.scores, "class_names": np.array(NAMES), **arrays}
    if groups:
        arrays.update(split=d.split, model=d.model, weights=np.ones(N))
    path = tmp_path / "arrays.npz"
    np.savez(path, **arrays)
    loaded = load(path)
    assert_same(loaded.predictions, expected)
    assert_auc_matches_sklearn(loaded.predictions)
    assert loaded.layout.format == "npz" and loaded.layout.n_rows == N
    if groups:
        np.testing.assert_array_equal(loaded.predictions.split, d.split)
        np.testing.assert_array_equal(loaded.predictions.model, d.model)
        assert loaded.layout.ignored_columns == ("weights",)
    else:
        assert loaded.predictions.split is None and loaded.layout.ignored_columns == ()


@pytest.mark.parametrize("case", ["multiclass", "multiclass-logits", "binary", "multilabel"])
def test_npy_pair_round_trip_against_oracle(tmp_path, case):
    d = {"multiclass": multiclass_data, "multiclass-logits": multiclass_data,
         "binary": binary_data, "multilabel": multilabel_data}[case]()
    scores = d.logits if case.endswith("logits") else d.scores
    y = d.y.astype(np.int8) if case == "multilabel" else d.y
    np.save(tmp_path / "labels.npy", y)
    np.save(tmp_path / "scores.npy", scores)
    loaded = load([tmp_path / "labels.npy", tmp_path / "scores.npy"])
    assert_same(loaded.predictions, oracle(y, scores))  # no class names: 0..K-1
    assert_auc_matches_sklearn(loaded.predictions)
    assert loaded.layout.format == "npy"
    assert "labels.npy" in loaded.layout.file and "scores.npy" in loaded.layout.file
    # the same from uploaded bytes
    uploaded = load([NamedBytes("l.npy", _npy_bytes(y)), NamedBytes("s.npy", _npy_bytes(scores))])
    assert_same(uploaded.predictions, loaded.predictions)


def test_uploaded_bytes_read_as_files_are(tmp_path):
    frame = LAYOUTS["multiclass-names"](True).frame
    for fmt in TABLE_FORMATS:
        path = write_table(frame, tmp_path, fmt)
        from_file = load(path)
        from_bytes = load(NamedBytes(f"upload.{fmt}", path.read_bytes()))
        assert_same(from_bytes.predictions, from_file.predictions)
        assert from_bytes.layout.file == f"upload.{fmt}"


# --------------------------------------------------------------------------- overrides


@pytest.fixture
def multiclass_csv(tmp_path):
    return write_table(LAYOUTS["multiclass-names"](False).frame, tmp_path, "csv", "multiclass")


def test_mapping_label_column(tmp_path):
    d = multiclass_data()
    frame = pd.DataFrame({"gold": np.array(NAMES)[d.y], **_score_columns("prob_", NAMES, d.scores)})
    path = write_table(frame, tmp_path, "csv")
    with pytest.raises(InputError, match=r"candidates: \['gold'\]"):
        load(path)
    loaded = load(path, Mapping(label_column="gold"))
    assert_same(loaded.predictions, oracle(d.y, d.scores, class_names=NAMES))
    assert loaded.layout.label_column == "gold"
    # chosen over a detected one, which is then ignored
    frame.insert(0, "label", "zebra")
    loaded = load(write_table(frame, tmp_path, "csv"), Mapping(label_column="gold"))
    assert_same(loaded.predictions, oracle(d.y, d.scores, class_names=NAMES))
    assert loaded.layout.ignored_columns == ("label",)


def test_mapping_score_columns(tmp_path):
    d = multiclass_data()
    frame = pd.DataFrame({
        "label": np.array(NAMES)[d.y],
        **_score_columns("prob_", NAMES, d.scores),
        **_score_columns("logit_", NAMES, d.logits),
    })
    path = write_table(frame, tmp_path, "csv")
    with pytest.raises(InputError, match="different prefixes.*--score-columns"):
        load(path)
    logit_columns = tuple(f"logit_{n}" for n in NAMES)
    loaded = load(path, Mapping(score_columns=logit_columns))
    assert_same(loaded.predictions, oracle(d.y, d.logits, class_names=NAMES))
    assert loaded.predictions.score_kind == "logit"
    assert loaded.layout.score_columns == logit_columns
    assert loaded.layout.ignored_columns == tuple(f"prob_{n}" for n in NAMES)
    # columns in another order: that is the class order
    order = (2, 0, 3, 1)
    columns = tuple(f"prob_{NAMES[j]}" for j in order)
    loaded = load(path, Mapping(score_columns=columns))
    names = tuple(NAMES[j] for j in order)
    assert_same(loaded.predictions,
                oracle(np.array(NAMES)[d.y], d.scores[:, order], class_names=names))
    # unprefixed columns named anything: class names from --classes
    frame = pd.DataFrame({"label": d.y, **{f"out{j}": d.scores[:, j] for j in range(4)}})
    loaded = load(write_table(frame, tmp_path, "csv"),
                  Mapping(score_columns=("out0", "out1", "out2", "out3"), class_names=NAMES))
    assert_same(loaded.predictions, oracle(d.y, d.scores, class_names=NAMES))


def test_mapping_class_names_reorder_and_rename(tmp_path, multiclass_csv):
    d = multiclass_data()
    reordered = tuple(reversed(NAMES))
    loaded = load(multiclass_csv, Mapping(class_names=reordered))
    assert_same(loaded.predictions,
                oracle(np.array(NAMES)[d.y], d.scores[:, ::-1], class_names=reordered))
    assert loaded.layout.score_columns == tuple(f"prob_{n}" for n in reordered)
    # labels are indices: new names rename the columns in their order
    indices = write_table(LAYOUTS["multiclass-indices"](False).frame, tmp_path, "csv", "indices")
    renamed = ("w", "x", "y", "z")
    loaded = load(indices, Mapping(class_names=renamed))
    assert_same(loaded.predictions, oracle(d.y, d.scores, class_names=renamed))
    # labels are names: a rename leaves them unknown
    with pytest.raises(InputError, match=r"multiclass\.csv: label column 'label', row 1 \(line 2\)"):
        load(multiclass_csv, Mapping(class_names=renamed))
    with pytest.raises(InputError, match=r"multiclass\.csv: 3 class names given for 4 score columns"):
        load(multiclass_csv, Mapping(class_names=NAMES[:3]))


def test_mapping_task(tmp_path, multiclass_csv):
    d = multiclass_data()
    loaded = load(multiclass_csv, Mapping(task="multilabel"))  # one label per row
    expected = oracle(np.eye(4, dtype=np.int64)[d.y], d.scores, class_names=NAMES, task="multilabel")
    assert_same(loaded.predictions, expected)
    # two score columns, task binary: the second is the positive class
    b = binary_data()
    two = np.column_stack([1 - b.scores[:, 0], b.scores[:, 0]])
    frame = pd.DataFrame({"label": np.array(BINARY_NAMES)[b.y],
                          **_score_columns("prob_", BINARY_NAMES, two)})
    path = write_table(frame, tmp_path, "csv")
    assert load(path).predictions.task == "multiclass"
    loaded = load(path, Mapping(task="binary"))
    assert_same(loaded.predictions, oracle(b.y, two, class_names=BINARY_NAMES, task="binary"))
    with pytest.raises(InputError, match="task must be one of"):
        load(path, Mapping(task="regression"))


def test_mapping_score_kind(tmp_path, multiclass_csv):
    d = multiclass_data()
    loaded = load(multiclass_csv, Mapping(score_kind="logit"))
    assert_same(loaded.predictions, oracle(d.y, d.scores, class_names=NAMES, score_kind="logit"))
    assert loaded.predictions.conversion == "softmax"
    # logit_ columns holding probabilities, said so
    frame = pd.DataFrame({"label": np.array(NAMES)[d.y], **_score_columns("logit_", NAMES, d.scores)})
    path = write_table(frame, tmp_path, "csv")
    assert load(path).predictions.score_kind == "logit"
    loaded = load(path, Mapping(score_kind="probability"))
    assert_same(loaded.predictions, oracle(d.y, d.scores, class_names=NAMES))
    # real logits cannot be probabilities
    logits = write_table(LAYOUTS["prefix-logit_"](False).frame, tmp_path, "csv", "logits")
    with pytest.raises(InputError, match=r"logits\.csv: score_kind='probability'.*outside \[0, 1\]"):
        load(logits, Mapping(score_kind="probability"))


def test_mapping_applies_to_arrays(tmp_path):
    d = multiclass_data()
    np.savez(tmp_path / "a.npz", y_true=d.y, y_score=d.scores)
    loaded = load(tmp_path / "a.npz", Mapping(class_names=NAMES, score_kind="logit"))
    assert_same(loaded.predictions, oracle(d.y, d.scores, class_names=NAMES, score_kind="logit"))
    np.save(tmp_path / "y.npy", d.y)
    np.save(tmp_path / "s.npy", d.scores)
    loaded = load([tmp_path / "y.npy", tmp_path / "s.npy"], Mapping(class_names=NAMES))
    assert loaded.predictions.class_names == NAMES


def test_mapping_unknown_columns_are_named(multiclass_csv):
    with pytest.raises(InputError, match=r"multiclass\.csv: no label column 'gold'; columns are"):
        load(multiclass_csv, Mapping(label_column="gold"))
    with pytest.raises(InputError, match=r"multiclass\.csv: no score column 'prob_owl'"):
        load(multiclass_csv, Mapping(score_columns=("prob_zebra", "prob_owl")))


# --------------------------------------------------------------------------- select


@pytest.fixture
def grouped(tmp_path):
    case = LAYOUTS["multiclass-names"](True)
    return load(write_table(case.frame, tmp_path, "parquet")), case


def _rows(case, mask) -> Predictions:
    d = case.data
    return oracle(d.y[mask], d.scores[mask], class_names=NAMES)


def test_select_defaults_to_test_split_and_first_model(grouped):
    loaded, case = grouped
    p = loaded.select()
    mask = (case.data.split == "test") & (case.data.model == "resnet")
    assert p.n_samples == mask.sum() > 0
    np.testing.assert_array_equal(p.y_true, case.data.y[mask])
    assert np.array_equal(p.scores, case.data.scores[mask])
    assert p.splits == ("test",) and p.models == ("resnet",)
    assert p.class_names == NAMES  # every class of the file, even if absent in the rows


@pytest.mark.parametrize("split, model", [("train", "vit"), ("validation", None), (None, "vit")])
def test_select_explicit_split_and_model(grouped, split, model):
    loaded, case = grouped
    p = loaded.select(split, model)
    d = case.data
    mask = np.ones(N, dtype=bool)
    if split is not None:
        mask &= d.split == split
    else:
        mask &= d.split == "test"  # the default
    mask &= d.model == (model or "resnet")
    np.testing.assert_array_equal(p.y_true, d.y[mask])
    assert np.array_equal(p.scores, d.scores[mask])
    same = load_predictions(
        NamedBytes("g.parquet", _parquet_bytes(case.frame)), split=split, model=model
    )
    np.testing.assert_array_equal(same.y_true, p.y_true)


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def test_select_without_a_test_split_takes_every_split(tmp_path):
    case = LAYOUTS["multiclass-names"](True)
    frame = case.frame.assign(split=np.where(case.data.split == "test", "holdout", case.data.split))
    loaded = load(write_table(frame, tmp_path, "csv"))
    p = loaded.select()
    assert p.n_samples == int((case.data.model == "resnet").sum())
    assert set(p.splits) == {"train", "validation", "holdout"}


def test_select_without_groups_is_everything(multiclass_csv):
    loaded = load(multiclass_csv)
    assert loaded.select() is loaded.predictions
    with pytest.raises(InputError, match="no split 'test': the data has no split column"):
        loaded.select("test")
    with pytest.raises(InputError, match="no model 'vit': the data has no model column"):
        loaded.select(model="vit")


def test_select_unknown_split_or_model(grouped):
    loaded, _ = grouped
    with pytest.raises(InputError, match=r"no split 'holdout': the data has one of \['train', 'validation', 'test'\]"):
        loaded.select("holdout")
    with pytest.raises(InputError, match=r"no model 'bert': the data has one of \['resnet', 'vit'\]"):
        loaded.select(model="bert")


# --------------------------------------------------------------------------- errors


class Unpickled:
    """Unpickling this object would create ``marker``: proof that nothing was unpickled."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def error_of(source, mapping: Mapping = Mapping(), **kwargs) -> str:
    with pytest.raises(InputError) as info:
        load(source, mapping, **kwargs)
    message = str(info.value)
    assert "\n" not in message, message
    return message


def text(name: str, content: str | bytes) -> NamedBytes:
    return NamedBytes(name, content.encode() if isinstance(content, str) else content)


GOOD = "label,prob_a,prob_b\na,0.2,0.8\nb,0.6,0.4\na,0.7,0.3\n"

TEXT_ERRORS = {
    # name: (file content, fragments the message must hold)
    "empty": ("", ["empty file"]),
    "header only": ("label,prob_a,prob_b\n", ["header but no data rows"]),
    "header only, no newline": ("label,prob_a,prob_b", ["header but no data rows"]),
    "non-numeric score": (GOOD + "b,0.1,high\n", ["score column 'prob_b'", "row 4 (line 5)", "'high'", "not a number"]),
    "empty score": (GOOD.replace("0.6,", ","), ["score column 'prob_a'", "row 2 (line 3)", "is empty"]),
    "nan score": (GOOD.replace("0.6", "nan"), ["score column 'prob_a'", "row 2 (line 3)", "finite"]),
    "inf score": (GOOD.replace("0.3", "inf"), ["score column 'prob_b'", "row 3 (line 4)", "is inf"]),
    "-inf score": (GOOD.replace("0.3", "-inf"), ["score column 'prob_b'", "row 3 (line 4)", "is -inf"]),
    "too many fields": (GOOD.replace("b,0.6,0.4", "b,0.6,0.4,0.1"), ["line 3 has 4 fields, expected 3"]),
    "too few fields": (GOOD + "b,0.6\n", ["line 5 has 2 fields, expected 3"]),
    "too few fields, latin-1": (GOOD.encode() + "caf\xe9,0.6\n".encode("latin-1"), ["line 5 has 2 fields, expected 3"]),
    "duplicate columns": ("label,prob_a,prob_a\na,0.2,0.8\nb,0.6,0.4\n", ["duplicate column name 'prob_a'"]),
    "duplicate after strip": ("label,prob_a, prob_a\na,0.2,0.8\nb,0.6,0.4\n", ["duplicate column name 'prob_a'"]),
    "unknown label": (GOOD + "c,0.5,0.5\n", ["label column 'label'", "row 4 (line 5)", "'c' is not among the classes ['a', 'b']"]),
    "label index out of range": ("label,prob_a,prob_b\n0,0.2,0.8\n2,0.6,0.4\n", ["label column 'label'", "row 2 (line 3)", "2 is not a class index 0..1"]),
    "fractional label": ("label,prob_a,prob_b\n0,0.2,0.8\n1.5,0.6,0.4\n", ["row 2 (line 3)", "1.5 is not a class index"]),
    "infinite label": ("label,prob_a,prob_b\n0,0.2,0.8\ninf,0.6,0.4\n", ["row 2 (line 3)", "inf is not a class index"]),
    "huge label": ("label,prob_a,prob_b\n0,0.2,0.8\n1e300,0.6,0.4\n", ["row 2 (line 3)", "1e+300 is not a class index"]),
    "empty label": (GOOD + ",0.5,0.5\n", ["label column 'label'", "row 4 (line 5)", "is empty"]),
    "one class": ("label,score\na,0.2\na,0.6\n", ["names no class among the labels (a)",
                                                  "--classes NEGATIVE,POSITIVE"]),
    "no label column": ("truth_value,prob_a,prob_b\na,0.2,0.8\n", ["no label column found", "candidates: ['truth_value']", "--label-column"]),
    "no score columns": ("label,note\na,x\nb,y\n", ["no score columns found", "prob_"]),
    "mixed prefixes": ("label,prob_a,p_b\na,0.2,0.8\nb,0.6,0.4\n", ["different prefixes (p_, prob_)"]),
    "indicator not 0/1": ("true_a,true_b,prob_a,prob_b\n1,0,0.2,0.8\n0,2,0.6,0.4\n", ["indicator column 'true_b'", "row 2 (line 3)", "not 0 or 1"]),
    "indicator missing": ("true_a,true_c,prob_a,prob_b\n1,0,0.2,0.8\n0,1,0.6,0.4\n", ["no indicator column for class 'b'"]),
    "unknown label in a set": ("labels,prob_a,prob_b\na|b,0.2,0.8\nb|c,0.6,0.4\n", ["label column 'labels'", "row 2 (line 3)", "'c' is not among"]),
    "empty split": ("label,prob_a,prob_b,split\na,0.2,0.8,test\nb,0.6,0.4,\n", ["column 'split'", "row 2 (line 3)", "is empty"]),
    "binary data": (b"\x00\x01\x02label,prob_a\x00", ["a binary file, not CSV text"]),
}


@pytest.mark.parametrize("case", sorted(TEXT_ERRORS))
def test_text_errors_name_the_file_and_the_place(case, capsys):
    content, fragments = TEXT_ERRORS[case]
    message = error_of(text("upload.csv", content))
    assert message.startswith("upload.csv: "), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""  # nothing else is printed (pyarrow hooks)


@pytest.mark.parametrize("case", ["empty", "non-numeric score", "too many fields", "unknown label"])
def test_tsv_and_files_on_disk_too(tmp_path, case):
    content, fragments = TEXT_ERRORS[case]
    path = tmp_path / "bad.tsv"
    path.write_text(content.replace(",", "\t"))
    message = error_of(path)
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_one_class_in_arrays_or_mapping():
    message = error_of(text("one.npz", _npz_bytes(
        y_true=np.zeros(3, dtype=int), y_score=np.array([0.1, 0.2, 0.3]), class_names=np.array(["only"]),
    )))
    assert message.startswith("one.npz: ") and "class_names has 1 names but there are 2 classes" in message
    message = error_of(text("one.csv", "label,prob_a\na,0.2\na,0.6\n"), Mapping(task="multiclass"))
    assert message.startswith("one.csv: ")


PARQUET_FRAME = pd.DataFrame({"label": ["a", "b", "a"], "prob_a": [0.2, 0.6, 0.7],
                              "prob_b": [0.8, 0.4, 0.3]})


def _bad_parquet(kind: str) -> bytes:
    if kind == "non-numeric score":
        return _parquet_bytes(PARQUET_FRAME.assign(prob_b=["0.8", "0.4", "high"]))
    if kind == "nan score":
        return _parquet_bytes(PARQUET_FRAME.assign(prob_a=[0.2, np.nan, 0.7]))
    if kind == "inf score":
        return _parquet_bytes(PARQUET_FRAME.assign(prob_a=[0.2, 0.6, np.inf]))
    if kind == "missing label":
        return _parquet_bytes(PARQUET_FRAME.assign(label=["a", None, "b"]))
    if kind == "header only":
        return _parquet_bytes(PARQUET_FRAME.iloc[:0])
    if kind == "duplicate columns":
        table = pa.table([pa.array(["a", "b"]), pa.array([0.2, 0.6]), pa.array([0.8, 0.4])],
                         names=["label", "prob_a", "prob_a"])
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return buffer.getvalue()
    if kind == "truncated":
        data = _parquet_bytes(PARQUET_FRAME)
        return data[: len(data) // 2]
    if kind == "truncated footer":
        return _parquet_bytes(PARQUET_FRAME)[:-5]
    if kind == "text":
        return GOOD.encode()
    if kind == "invalid utf-8 string":
        table = pa.table({"label": ["zebra", "ant"], "prob_zebra": [0.2, 0.6], "prob_ant": [0.8, 0.4]})
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="none", use_dictionary=False)
        data = buffer.getvalue()
        assert data.count(b"\x05\x00\x00\x00zebra") == 1
        return data.replace(b"\x05\x00\x00\x00zebra", b"\x05\x00\x00\x00z\xffbra")
    raise AssertionError(kind)


PARQUET_ERRORS = {
    "non-numeric score": ["score column 'prob_b'", "row 3", "'high' is not a number"],
    "nan score": ["score column 'prob_a'", "row 2", "is empty"],
    "inf score": ["score column 'prob_a'", "row 3", "is inf"],
    "missing label": ["label column 'label'", "row 2", "is empty"],
    "header only": ["header but no data rows"],
    "duplicate columns": ["duplicate column name 'prob_a'"],
    "truncated": ["cannot read as Parquet"],
    "truncated footer": ["cannot read as Parquet"],
    "text": ["not a Parquet file"],
    "invalid utf-8 string": ["cannot read as Parquet", "UTF8"],
}


@pytest.mark.parametrize("case", sorted(PARQUET_ERRORS))
def test_parquet_errors(case):
    message = error_of(NamedBytes("upload.parquet", _bad_parquet(case)))
    assert message.startswith("upload.parquet: "), message
    for fragment in PARQUET_ERRORS[case]:
        assert fragment in message, (fragment, message)
    if case in ("non-numeric score", "nan score", "inf score", "missing label"):
        assert "line" not in message  # no lines in a Parquet file


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "UNPICKLED"
    yield path
    assert not path.exists(), "an object array was unpickled"


def test_npy_of_objects_is_refused_without_unpickling(tmp_path, marker):
    objects = np.empty(2, dtype=object)
    objects[:] = [Unpickled(str(marker)), 1]
    np.save(tmp_path / "labels.npy", objects, allow_pickle=True)
    np.save(tmp_path / "scores.npy", np.array([0.2, 0.7]))
    message = error_of([tmp_path / "labels.npy", tmp_path / "scores.npy"])
    assert message.startswith(f"{tmp_path / 'labels.npy'}: ") and "unpickling" in message
    message = error_of([NamedBytes("s.npy", _npy_bytes(np.array([0, 1]))),
                        NamedBytes("o.npy", (tmp_path / "labels.npy").read_bytes())])
    assert message.startswith("o.npy: ") and "unpickling" in message


def test_npz_of_objects_is_refused_without_unpickling(tmp_path, marker):
    scores = np.empty((2, 2), dtype=object)
    scores[:] = [[Unpickled(str(marker)), 0.5], [0.5, 0.5]]
    np.savez(tmp_path / "objects.npz", y_true=np.array([0, 1]), y_score=scores)
    message = error_of(tmp_path / "objects.npz")
    assert message.startswith(f"{tmp_path / 'objects.npz'}: ") and "unpickling" in message
    names = np.array([Unpickled(str(marker)), "b"], dtype=object)
    np.savez(tmp_path / "names.npz", y_true=np.array([0, 1]), y_score=np.eye(2), class_names=names)
    assert "unpickling" in error_of(tmp_path / "names.npz")


def _good_npz() -> bytes:
    d = multiclass_data()
    return _npz_bytes(y_true=d.y, y_score=d.scores, class_names=np.array(NAMES))


def _huge_npy() -> bytes:
    """A valid .npy header that declares ~745 GiB of float64, followed by 40 bytes."""
    data = _npy_bytes(np.zeros(5))
    end = data.index(b"\n") + 1
    header = data[:end].decode("latin-1")
    huge = header.replace("(5,)", "(99999999999,)").replace(" " * 10 + "\n", "\n")
    assert len(huge) == len(header)
    return huge.encode("latin-1") + data[end:]


def _bad_header_npy() -> bytes:
    """A header numpy's parser fails on with tokenize.TokenError (not a ValueError)."""
    data = _npy_bytes(np.zeros(4))
    return data.replace(b"'shape': (4,), }", b"'shape': (4, }  ")


def _corrupt_deflate_npz() -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, y_true=np.arange(200) % 3, y_score=np.full((200, 3), 1 / 3))
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("y_true.npy")
    assert info.compress_type == zipfile.ZIP_DEFLATED
    local = info.header_offset  # the local header's own name and extra lengths
    name_length = int.from_bytes(data[local + 26:local + 28], "little")
    extra_length = int.from_bytes(data[local + 28:local + 30], "little")
    start = local + 30 + name_length + extra_length
    for i in range(start, start + 16):  # the deflate stream's first bytes
        data[i] ^= 0xFF
    return bytes(data)


ARRAY_ERRORS = {
    # name: (sources, fragments)
    "empty npz": (lambda: NamedBytes("e.npz", b""), ["e.npz: empty file"]),
    "empty npy": (lambda: [NamedBytes("e.npy", b""), NamedBytes("s.npy", _npy_bytes(np.eye(2)))],
                  ["e.npy: empty file"]),
    "truncated npz": (lambda: NamedBytes("t.npz", _good_npz()[:-100]), ["t.npz: not a readable .npz file"]),
    "half an npz": (lambda: NamedBytes("t.npz", _good_npz()[:900]), ["t.npz: "]),
    "corrupt deflate npz": (lambda: NamedBytes("z.npz", _corrupt_deflate_npz()), ["z.npz: not a readable .npz file"]),
    "truncated npy": (lambda: [NamedBytes("y.npy", _npy_bytes(np.array([0, 1]))),
                               NamedBytes("t.npy", _npy_bytes(np.eye(2))[:-5])], ["t.npy: "]),
    "npy header declares a huge array": (
        lambda: [NamedBytes("y.npy", _npy_bytes(np.array([0, 1]))), NamedBytes("h.npy", _huge_npy())],
        ["h.npy: declares an array too large for memory"]),
    "npy header unparsable": (
        lambda: [NamedBytes("y.npy", _npy_bytes(np.array([0, 1]))), NamedBytes("b.npy", _bad_header_npy())],
        ["b.npy: cannot read as a NumPy array"]),
    "npz that is text": (lambda: NamedBytes("t.npz", GOOD.encode()), ["t.npz: not an .npz archive"]),
    "npz that is an npy": (lambda: NamedBytes("a.npz", _npy_bytes(np.eye(2))), ["a.npz: holds a single array (.npy)"]),
    "npy that is text": (lambda: [NamedBytes("y.npy", GOOD.encode()), NamedBytes("s.npy", _npy_bytes(np.eye(2)))],
                         ["y.npy: not an .npy file"]),
    "npz without y_score": (lambda: NamedBytes("m.npz", _npz_bytes(y_true=np.array([0, 1]), scores=np.eye(2))),
                            ["m.npz: missing array 'y_score'", "found ['scores', 'y_true']"]),
    "npz split of another length": (
        lambda: NamedBytes("s.npz", _npz_bytes(y_true=np.array([0, 1]), y_score=np.eye(2), split=np.array(["test"]))),
        ["s.npz: 'split' has 1 values but there are 2 rows"]),
    "npz nan score": (lambda: NamedBytes("n.npz", _npz_bytes(y_true=np.array([0, 1]), y_score=np.array([[0.5, np.nan], [0.5, 0.5]]))),
                      ["n.npz: ", "non-finite value (nan) at row 0, column 1"]),
    "npy pair in the wrong order": (
        lambda: [NamedBytes("s.npy", _npy_bytes(np.eye(3))), NamedBytes("y.npy", _npy_bytes(np.array([0, 1, 2])))],
        ["s.npy + y.npy: y_true has 3 columns but y_score has 1"]),
    "npy pair of different lengths": (
        lambda: [NamedBytes("y.npy", _npy_bytes(np.array([0, 1]))), NamedBytes("s.npy", _npy_bytes(np.eye(3)))],
        ["y.npy + s.npy: y_true has 2 rows but y_score has 3"]),
    "one npy": (lambda: NamedBytes("y.npy", _npy_bytes(np.array([0, 1]))), ["y.npy: two files must be an NPY pair"]),
    "npy with a csv": (lambda: [NamedBytes("y.npy", b"x"), NamedBytes("s.csv", b"x")],
                       ["y.npy and s.csv: two files must be an NPY pair"]),
    "three files": (lambda: [NamedBytes(f"{i}.npy", b"x") for i in range(3)],
                    ["expected one prediction file or two .npy files, got 3"]),
    "no files": (lambda: [], ["expected one prediction file or two .npy files, got 0"]),
}


@pytest.mark.parametrize("case", sorted(ARRAY_ERRORS))
def test_array_errors(case, capsys):
    sources, fragments = ARRAY_ERRORS[case]
    message = error_of(sources())
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert capsys.readouterr().err == ""


def test_size_limit(tmp_path, monkeypatch):
    path = write_table(PARQUET_FRAME, tmp_path, "csv")
    size = path.stat().st_size
    assert load(path, max_bytes=size).predictions.n_samples == 3  # the limit is inclusive
    message = error_of(path, max_bytes=size - 1)
    assert message.startswith(f"{path}: ") and "over the size limit" in message
    assert MAX_BYTES_ENV in message and "--max-size" in message
    # uploaded bytes, NPZ and NPY pairs: the same limit
    assert "over the size limit" in error_of(NamedBytes("u.csv", path.read_bytes()), max_bytes=10)
    np.savez(tmp_path / "a.npz", y_true=np.arange(100) % 2, y_score=np.linspace(0, 1, 100))
    assert "a.npz" in error_of(tmp_path / "a.npz", max_bytes=100)
    np.save(tmp_path / "y.npy", np.arange(100) % 2)
    np.save(tmp_path / "s.npy", np.linspace(0, 1, 100))
    message = error_of([tmp_path / "y.npy", tmp_path / "s.npy"], max_bytes=200)
    assert message.startswith(f"{tmp_path / 'y.npy'}: ") and "over the size limit" in message
    # the environment variable, when no max_bytes is given
    monkeypatch.setenv(MAX_BYTES_ENV, str(size - 1))
    assert "over the size limit" in error_of(path)
    assert load(path, max_bytes=size).predictions.n_samples == 3  # an explicit limit wins
    monkeypatch.setenv(MAX_BYTES_ENV, "1k")
    assert load(path).predictions.n_samples == 3
    monkeypatch.setenv(MAX_BYTES_ENV, "10")
    assert "size limit of 10 bytes" in error_of(path)
    monkeypatch.setenv(MAX_BYTES_ENV, "lots")
    message = error_of(path)
    assert message.startswith(f"{MAX_BYTES_ENV}: ") and "'lots'" in message


@pytest.mark.parametrize("name", ["predictions.txt", "predictions.xlsx", "predictions", "data.json"])
def test_unsupported_extension(tmp_path, name):
    path = tmp_path / name
    path.write_text(GOOD)
    message = error_of(path)
    assert message.startswith(f"{path}: unsupported file type")
    assert ".csv" in message and ".parquet" in message and ".npz" in message


@pytest.mark.parametrize("name", ["missing.csv", "missing.parquet", "missing.npz"])
def test_missing_file(tmp_path, name):
    assert error_of(tmp_path / name) == f"{tmp_path / name}: no such file"


def test_read_table_refuses_arrays(tmp_path):
    with pytest.raises(InputError, match=r"a\.npz: expected a table"):
        read_table(NamedBytes("a.npz", _good_npz()))


# --------------------------------------------------------------------------- encodings


def test_latin1_class_names():
    content = "label,prob_café,prob_thé\ncafé,0.2,0.8\nthé,0.6,0.4\ncafé,0.7,0.3\n"
    p = load(NamedBytes("latin.csv", content.encode("latin-1"))).predictions
    assert_same(p, oracle(np.array([0, 1, 0]), np.array([[0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]),
                          class_names=("café", "thé")))
    # the same in UTF-8
    p = load(NamedBytes("utf8.csv", content.encode("utf-8"))).predictions
    assert p.class_names == ("café", "thé")


def test_latin1_error_names_the_class():
    content = "label,prob_café,prob_thé\ncafé,0.2,0.8\nthè,0.6,0.4\n"
    message = error_of(NamedBytes("latin.csv", content.encode("latin-1")))
    assert "'thè' is not among the classes ['café', 'thé']" in message


def test_utf8_bom_header(tmp_path):
    d = multiclass_data()
    frame = LAYOUTS["multiclass-names"](False).frame
    path = tmp_path / "bom.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbflabel,")
    loaded = load(path)
    assert loaded.layout.label_column == "label"
    assert_same(loaded.predictions, oracle(d.y, d.scores, class_names=NAMES))


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_other_delimiters_in_a_csv(tmp_path, delimiter):
    d = multiclass_data()
    path = tmp_path / "european.csv"
    LAYOUTS["multiclass-names"](True).frame.to_csv(path, index=False, sep=delimiter)
    loaded = load(path)
    assert_same(loaded.predictions, oracle(d.y, d.scores, class_names=NAMES))
    assert loaded.layout.ignored_columns == ("note", "weight")


def test_semicolon_csv_with_comma_label_sets(tmp_path):
    d = multilabel_data()
    sets = [",".join(n for n, on in zip(NAMES, row) if on) for row in d.y]
    frame = pd.DataFrame({"labels": sets, **_score_columns("prob_", NAMES, d.scores)})
    path = tmp_path / "sets.csv"
    frame.to_csv(path, index=False, sep=";")
    assert_same(load(path).predictions, oracle(d.y, d.scores, class_names=NAMES))


# --------------------------------------------------------------------------- writing


def _written(tmp_path, p: Predictions, fmt: str, **kwargs) -> Loaded:
    path = tmp_path / f"written.{fmt}"
    write_predictions(p, path, **kwargs)
    return load(path)


def _source(kind: str, logits: bool = False):
    """(y, y_score, kwargs) for Predictions.from_arrays."""
    if kind == "multiclass":
        d = multiclass_data()
        return d.y, (d.logits if logits else d.scores.astype(np.float32)), {"class_names": NAMES}
    if kind == "binary":
        d = binary_data()
        return d.y, (d.logits[:, 0] if logits else d.scores[:, 0]), {"class_names": BINARY_NAMES}
    d = multilabel_data()
    return d.y.astype(np.int64), (d.logits if logits else d.scores), {"class_names": NAMES}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel"])
def test_write_predictions_round_trip(tmp_path, kind, fmt):
    y, scores, kwargs = _source(kind)
    p = Predictions.from_arrays(y, scores, **kwargs)
    d = multiclass_data()
    p = replace(p, split=d.split, model=d.model)
    back = _written(tmp_path, p, fmt)
    q = back.predictions
    assert (q.task, q.class_names, q.score_kind) == (p.task, p.class_names, p.score_kind)
    np.testing.assert_array_equal(q.y_true, p.y_true)
    assert np.array_equal(q.scores, p.scores)  # float32 written as float64: the same values
    np.testing.assert_array_equal(q.split, p.split)
    np.testing.assert_array_equal(q.model, p.model)
    assert back.layout.ignored_columns == ()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel"])
def test_write_predictions_logits_round_trip(tmp_path, kind, fmt):
    y, raw, kwargs = _source(kind, logits=True)
    raw = raw.astype(np.float32)  # as a Keras model returns them
    p = Predictions.from_arrays(y, raw, **kwargs)
    assert p.score_kind == "logit"
    back = _written(tmp_path, p, fmt, raw_scores=raw)
    q = back.predictions
    assert back.layout.score_columns == tuple(f"logit_{n}" for n in p.curve_names)
    assert (q.task, q.class_names, q.score_kind, q.conversion) == (
        p.task, p.class_names, "logit", p.conversion)
    np.testing.assert_array_equal(q.y_true, p.y_true)
    assert np.array_equal(q.scores, p.scores), "converted probabilities must be identical"
    # without the raw scores: probabilities, the same values
    q = _written(tmp_path, p, fmt).predictions
    assert np.array_equal(q.scores, p.scores)


def test_write_predictions_two_column_binary_logits(tmp_path):
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 300)
    raw = (rng.normal(size=(300, 2)) * 4).astype(np.float32)
    raw[:3] = [[1, 1], [-30, 30], [30, -30]]  # a tie, and both saturated tails
    p = Predictions.from_arrays(y, raw, class_names=BINARY_NAMES, task="binary")
    assert p.score_kind == "logit" and p.scores.shape == (300, 1)
    q = _written(tmp_path, p, "csv", raw_scores=raw).predictions
    assert q.score_kind == "logit" and q.task == "binary"
    assert np.array_equal(q.scores, p.scores)


def test_write_predictions_raw_scores_only_for_logits(tmp_path):
    y, scores, kwargs = _source("multiclass")
    p = Predictions.from_arrays(y, scores, **kwargs)
    back = _written(tmp_path, p, "csv", raw_scores=np.zeros_like(scores))
    assert back.layout.score_columns == tuple(f"prob_{n}" for n in NAMES)
    assert np.array_equal(back.predictions.scores, p.scores)


def test_write_predictions_errors(tmp_path):
    y, raw, kwargs = _source("multiclass", logits=True)
    p = Predictions.from_arrays(y, raw, **kwargs)
    with pytest.raises(InputError, match=r"raw_scores has shape \(240, 3\), expected \(240, 4\)"):
        write_predictions(p, tmp_path / "out.csv", raw_scores=raw[:, :3])
    with pytest.raises(InputError, match=r"out\.txt: expected an output file ending in \.csv or \.parquet"):
        write_predictions(p, tmp_path / "out.txt")
    with pytest.raises(InputError, match="cannot write"):
        write_predictions(p, tmp_path / "no_such_dir" / "out.csv")


# --------------------------------------------------------------------------- demos


@pytest.mark.parametrize(
    "name, task, kind, classes",
    [
        ("digits", "multiclass", "probability",
         ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")),
        ("multilabel", "multilabel", "logit", ("even", "prime", "large", "loop")),
        ("binary", "binary", "probability", ("benign", "malignant")),
    ],
)
def test_demos(name, task, kind, classes):
    loaded = load_demo(name)
    p = loaded.predictions
    assert (p.task, p.score_kind, p.class_names) == (task, kind, classes)
    assert p.splits == ("train", "validation", "test")
    assert loaded.layout.file.startswith(f"demo {name} (")
    assert loaded.layout.ignored_columns == () and loaded.layout.id_column == "id"
    test = loaded.select()
    assert test.splits == ("test",) and 0 < test.n_samples < p.n_samples
    assert_auc_matches_sklearn(test)
    # a demo honours overrides as a file does
    if task != "binary":
        reordered = tuple(reversed(classes))
        assert load_demo(name, Mapping(class_names=reordered)).predictions.class_names == reordered


def test_indicator_columns_follow_renamed_classes():
    renamed = ("EVEN", "PRIME", "LARGE", "LOOP")
    original = load_demo("multilabel").predictions
    p = load_demo("multilabel", Mapping(class_names=renamed)).predictions
    assert p.class_names == renamed
    np.testing.assert_array_equal(p.y_true, original.y_true)
    assert np.array_equal(p.scores, original.scores)


def test_unknown_demo():
    with pytest.raises(InputError, match="no demo 'nope'; demos are digits, multilabel, binary, keras"):
        load_demo("nope")


# --------------------------------------------------------------------------- fuzzing


def check_outcome(load_it) -> None:
    """A correct result (Predictions that validate) or an InputError; nothing else."""
    try:
        loaded = load_it()
    except InputError as error:
        message = str(error)
        assert message and "\n" not in message
        return
    p = loaded.predictions
    assert p.task in TASKS and p.score_kind in SCORE_KINDS
    assert p.scores.ndim == 2 and p.scores.dtype.kind == "f" and np.isfinite(p.scores).all()
    assert ((p.scores >= 0) & (p.scores <= 1)).all()
    assert len(p.class_names) >= 2 and len(set(p.class_names)) == len(p.class_names)
    assert p.y_true.shape[0] == p.n_samples == loaded.layout.n_rows > 0
    if p.task == "multilabel":
        assert p.y_true.dtype == bool and p.y_true.shape[1] == len(p.class_names)
    else:
        assert p.y_true.ndim == 1 and ((p.y_true >= 0) & (p.y_true < len(p.class_names))).all()
    again = Predictions.from_arrays(p.y_true, p.scores, class_names=p.class_names, task=p.task,
                                    score_kind="probability")
    assert np.array_equal(again.scores, p.scores)
    try:
        loaded.select()
    except InputError:
        raise AssertionError("the default selection of a loaded file failed") from None
    compute_curves(p)


def _valid_files() -> dict[str, bytes]:
    d = multiclass_data()
    rows = slice(0, 30)
    frame = LAYOUTS["multiclass-names"](True).frame.iloc[rows]
    csv = frame.to_csv(index=False).encode()
    return {
        "f.csv": csv,
        "f.parquet": _parquet_bytes(frame),
        "f.npz": _npz_bytes(y_true=d.y[rows], y_score=d.scores[rows], class_names=np.array(NAMES),
                            split=d.split[rows]),
    }


VALID = _valid_files()


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(VALID)))
    data = bytearray(VALID[name])
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "truncate", "delete", "insert"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[at:]
        elif op == "delete":
            del data[at: at + draw(st.integers(1, 16))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return name, bytes(data)


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(mutated())
def test_fuzz_mutated_files(case):
    name, data = case
    check_outcome(lambda: load(NamedBytes(name, data)))


@FUZZ
@given(st.binary(max_size=64), st.sampled_from(sorted(VALID)))
def test_fuzz_truncations_of_valid_files(suffix, name):
    data = VALID[name]
    for cut in sorted({len(data) // 2, len(data) - 1, len(data) - len(suffix) - 1}):
        check_outcome(lambda: load(NamedBytes(name, data[:max(cut, 0)] + suffix)))


HEADER_WORDS = ["label", "labels", "target", "y_true", "class", "prob_a", "prob_b", "prob_c",
                "logit_a", "logit_b", "p_a", "score_b", "a", "b", "c", "true_a", "true_b", "y_a",
                "split", "model", "id", "extra", "score", "", " label "]
CELLS = ["a", "b", "c", "0", "1", "2", "0.5", "0.25", "1e-3", "-3", "7.5", "nan", "inf", "-inf",
         "", " ", "x", "a|b", "a;b", '"a,b"', '""', "test", "train", " 0.1 ", "1,5", "TRUE",
         "1e400", '"0.3"', "é", '"two\nlines"', '"unclosed', "\x00"]


@st.composite
def text_tables(draw):
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    header = draw(st.lists(st.sampled_from(HEADER_WORDS), min_size=1, max_size=6))
    lines = [delimiter.join(header)]
    for _ in range(draw(st.integers(0, 8))):
        width = len(header) if draw(st.booleans()) else draw(st.integers(0, len(header) + 2))
        lines.append(delimiter.join(draw(st.lists(st.sampled_from(CELLS), min_size=width,
                                                  max_size=width))))
    newline = draw(st.sampled_from(["\n", "\r\n", "\n\n"]))
    content = newline.join(lines) + draw(st.sampled_from(["", "\n"]))
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-8-sig"]))
    name = draw(st.sampled_from(["t.csv", "t.tsv"]))
    words = [w for w in header if w.strip()]
    label_column = draw(st.one_of(st.none(), st.sampled_from(words))) if words else None
    scores = draw(st.one_of(st.none(), st.lists(st.sampled_from(words), min_size=1, max_size=3,
                                                unique=True))) if words else None
    mapping = Mapping(
        label_column=label_column,
        score_columns=None if scores is None else tuple(scores),
        task=draw(st.one_of(st.none(), st.sampled_from(TASKS))),
        score_kind=draw(st.one_of(st.none(), st.sampled_from(SCORE_KINDS))),
    )
    return NamedBytes(name, content.encode(encoding, errors="replace")), mapping


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_tables())
def test_fuzz_random_text_tables(case):
    source, mapping = case
    check_outcome(lambda: load(source, mapping))


@st.composite
def near_valid_tables(draw):
    """Mostly well-formed wide tables, a few cells or options wrong: exercises both outcomes."""
    classes = draw(st.lists(st.sampled_from(["a", "b", "c", "é", "0", "1"]), min_size=1,
                            max_size=3, unique=True))
    label = draw(st.sampled_from(["label", "target", "labels", "y_true", "gold"]))
    prefix = draw(st.sampled_from(["prob_", "logit_", "p_", ""]))
    extras = draw(st.lists(st.sampled_from(["split", "model", "id", "note"]), max_size=2,
                           unique=True))
    header = draw(st.permutations([label, *(prefix + c for c in classes), *extras]))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))

    def cell(column: str) -> str:
        if draw(st.integers(0, 19)) == 0:  # now and then, anything
            return draw(st.sampled_from(CELLS)).replace(delimiter, " ")
        if column == label:
            if draw(st.integers(0, 4)) == 0:
                return draw(st.sampled_from(classes)) + "|" + draw(st.sampled_from(classes))
            return draw(st.sampled_from(classes))
        if column in ("split", "model", "note"):
            return draw(st.sampled_from(["test", "train", "m1"]))
        if column == "id":
            return str(draw(st.integers(0, 99)))
        value = draw(st.floats(-5, 5) if prefix == "logit_" else st.floats(0, 1))
        return repr(value)

    lines = [delimiter.join(header)]
    for _ in range(draw(st.integers(1, 12))):
        lines.append(delimiter.join(cell(c) for c in header))
    content = "\n".join(lines) + "\n"
    name = "t.tsv" if delimiter == "\t" and draw(st.booleans()) else "t.csv"
    encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
    mapping = Mapping()
    if draw(st.integers(0, 3)) == 0:
        mapping = Mapping(
            label_column=draw(st.one_of(st.none(), st.sampled_from(header))),
            class_names=draw(st.one_of(st.none(), st.permutations(classes).map(tuple))),
            task=draw(st.one_of(st.none(), st.sampled_from(TASKS))),
            score_kind=draw(st.one_of(st.none(), st.sampled_from(SCORE_KINDS))),
        )
    return NamedBytes(name, content.encode(encoding)), mapping


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid_tables())
def test_fuzz_near_valid_text_tables(case):
    source, mapping = case
    check_outcome(lambda: load(source, mapping))
