"""The fast reading paths of ``evalcore.io`` against the whole-table reading they replace.

- CSV/TSV text read in pieces (``CSV_PIECE_BYTES``, made tiny here so that small files have
  many pieces) against the whole text read by ``_read_text_table`` and converted with
  ``to_pandas()`` (what ``read_table`` did before): the same frame, the same Predictions and
  Layout, or the same error; the pieces must really be used where they can be (a spy on the
  whole-text reader), and the whole text read where they cannot;
- Parquet read a column at a time against ``ParquetFile.read()``;
- the score matrix of float columns (one ``np.empty``, checks by min/max) against the
  per-column path, labels factorized before stripping against stripping every row, and the
  binary labels of every integer type against ``np.unique``.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evalcore import io
from evalcore.errors import InputError
from evalcore.io import Mapping, NamedBytes, load, read_table, table_predictions
from evalcore.predictions import Predictions


def whole_frame(data: bytes, name: str) -> pd.DataFrame:
    """The frame as read_table made it before pieces: the whole text, then to_pandas()."""
    table = io._read_text_table(data, name, io.file_format(name))
    columns = io._column_names(table.column_names, table.num_rows, name)  # duplicates, no rows
    return table.rename_columns(columns).to_pandas()


def outcome(run):
    try:
        return run()
    except InputError as error:
        return f"InputError: {error}"


def assert_same_loaded(actual, expected) -> None:
    if isinstance(expected, str):
        assert actual == expected
        return
    assert not isinstance(actual, str), actual
    a, e = actual.predictions, expected.predictions
    for key in ("class_names", "task", "score_kind", "conversion", "notes"):
        assert getattr(a, key) == getattr(e, key), key
    assert a.scores.dtype == e.scores.dtype and a.scores.flags.c_contiguous
    np.testing.assert_array_equal(a.scores, e.scores)
    np.testing.assert_array_equal(a.y_true, e.y_true)
    assert a.y_true.dtype == e.y_true.dtype
    for key in ("split", "model", "ids"):
        assert (getattr(a, key) is None) == (getattr(e, key) is None), key
        if getattr(e, key) is not None:
            np.testing.assert_array_equal(getattr(a, key), getattr(e, key))
    assert asdict(actual.layout) == asdict(expected.layout)


@pytest.fixture
def pieces(monkeypatch):
    """Pieces of ~64 bytes, and a count of the whole-text readings."""
    monkeypatch.setattr(io, "CSV_PIECE_BYTES", 64)
    calls = []
    whole = io._read_text_table

    def spy(*args):
        calls.append(args[1])
        return whole(*args)

    monkeypatch.setattr(io, "_read_text_table", spy)
    return calls


def rows(n: int, line) -> str:
    return "".join(line(i) for i in range(n))


RNG = np.random.default_rng(7)
P = RNG.random((40, 3))
P = (P / P.sum(axis=1, keepdims=True)).tolist()  # Python floats: repr is the shortest text

# name: (file name, text, mapping, read in pieces?)
CASES = {
    "class names": ("a.csv", "label,prob_cat,prob_dog,prob_eel\n" + rows(
        40, lambda i: f"{('cat', 'dog', 'eel')[i % 3]},{P[i][0]!r},{P[i][1]!r},{P[i][2]!r}\n"),
        Mapping(), True),
    "integer labels, split, id": ("b.csv", "id,label,p_0,p_1,p_2,split\n" + rows(
        40, lambda i: f"r{i},{i % 3},{P[i][0]!r},{P[i][1]!r},{P[i][2]!r},{('train', 'test')[i % 2]}\n"),
        Mapping(), True),
    "padded labels and names": ("c.csv", " label ,prob_cat, prob_dog\n" + rows(
        40, lambda i: f" {('cat', 'dog')[i % 2]} ,{P[i][0]!r},{1 - P[i][0]!r}\n"), Mapping(), True),
    "tsv, crlf": ("d.tsv", "label\tlogit_a\tlogit_b\r\n" + rows(
        40, lambda i: f"{'ab'[i % 2]}\t{i - 20.5}\t{3.25 - i}\r\n"), Mapping(), True),
    "label sets": ("e.csv", "labels,prob_x,prob_y\n" + rows(
        40, lambda i: f"{('x', 'y', 'x|y')[i % 3]},{P[i][0]!r},{P[i][1]!r}\n"), Mapping(), True),
    "indicator columns": ("f.csv", "true_x,true_y,prob_x,prob_y\n" + rows(
        40, lambda i: f"{i % 2},{(i // 2) % 2},{P[i][0]!r},{P[i][1]!r}\n"), Mapping(), True),
    "binary, one column, no trailing newline": ("g.csv", "label,score\n" + rows(
        40, lambda i: f"{i % 2},{P[i][0]!r}\n").rstrip("\n"), Mapping(), True),
    "one float column among others": ("h.csv", "label,prob_a,prob_b,weight\n" + rows(
        40, lambda i: f"{'ab'[i % 2]},{P[i][0]!r},{1 - P[i][0]!r},{i}.5\n"),
        Mapping(ignore_columns=("weight",)), True),
    "mapped columns": ("i.csv", "truth,s_a,s_b\n" + rows(
        40, lambda i: f"{'ab'[i % 2]},{P[i][0]!r},{P[i][1]!r}\n"),
        Mapping(label_column="truth", score_columns=("s_b", "s_a"),
                class_names=("b", "a")), True),
    "blank lines": ("j.csv", "label,prob_a,prob_b\n" + rows(
        40, lambda i: f"{'ab'[i % 2]},{P[i][0]!r},{1 - P[i][0]!r}\n\n\n"), Mapping(), True),
    # later pieces do not convert to what the first inferred, or cannot be cut safely
    "integers first, then floats": ("k.csv", "label,prob_a,prob_b\n" + rows(
        40, lambda i: f"{'ab'[i % 2]},{i % 2 if i < 20 else 0.25},{1 - i % 2 if i < 20 else 0.75}\n"),
        Mapping(), False),
    "empty column first, then numbers": ("l.csv", "label,prob_a,prob_b,note\n" + rows(
        40, lambda i: f"{'ab'[i % 2]},{P[i][0]!r},{1 - P[i][0]!r},{'' if i < 30 else 7}\n"),
        Mapping(), False),
    "quoted labels": ("m.csv", "label,prob_a,prob_b\n" + rows(
        40, lambda i: f"\"{'ab'[i % 2]}\",{P[i][0]!r},{1 - P[i][0]!r}\n"), Mapping(), False),
    "timestamps": ("n.csv", "label,prob_a,prob_b,when\n" + rows(
        40, lambda i: f"{'ab'[i % 2]},{P[i][0]!r},{1 - P[i][0]!r},2024-01-{i % 28 + 1:02d}\n"),
        Mapping(), False),
    "carriage returns only": ("o.csv", "label,prob_a,prob_b\r" + rows(
        40, lambda i: f"{'ab'[i % 2]},{P[i][0]!r},{1 - P[i][0]!r}\r"), Mapping(), False),
    # refused, with the whole reading's message
    "a NaN in a later piece": ("p.csv", "label,prob_a,prob_b\n" + rows(
        40, lambda i: f"{'ab'[i % 2]},{'' if i == 33 else repr(P[i][0])},{1 - P[i][0]!r}\n"),
        Mapping(), True),
    "inf in a later piece": ("q.csv", "label,logit_a,logit_b\n" + rows(
        40, lambda i: f"{'ab'[i % 2]},{'inf' if i == 35 else i},{-i}\n"), Mapping(), False),
    "a short row in a later piece": ("r.csv", "label,prob_a,prob_b\n" + rows(
        40, lambda i: f"{'ab'[i % 2]},{P[i][0]!r}" + ("\n" if i == 31 else f",{1 - P[i][0]!r}\n")),
        Mapping(), False),
    "an unknown label in a later piece": ("s.csv", "label,prob_a,prob_b\n" + rows(
        40, lambda i: f"{'abc'[i % 2] if i != 38 else 'c'},{P[i][0]!r},{1 - P[i][0]!r}\n"),
        Mapping(), True),
    "outside [0, 1] in a later piece": ("t.csv", "label,prob_a,prob_b\n" + rows(
        40, lambda i: f"{'ab'[i % 2]},{1.5 if i == 37 else P[i][0]!r},{1 - P[i][0]!r}\n"),
        Mapping(), True),
    "duplicate names": ("u.csv", "label,prob_a,prob_a\n" + rows(
        40, lambda i: f"{'ab'[i % 2]},{P[i][0]!r},{1 - P[i][0]!r}\n"), Mapping(), False),
    "duplicate names once stripped": ("v.csv", "label,prob_a, prob_a\n" + rows(
        40, lambda i: f"{'ab'[i % 2]},{P[i][0]!r},{1 - P[i][0]!r}\n"), Mapping(), True),
    "latin-1": ("w.csv", "label,prob_café,prob_thé\n" + rows(
        40, lambda i: f"{('café', 'thé')[i % 2]},{P[i][0]!r},{1 - P[i][0]!r}\n"), Mapping(), False),
}
ENCODING = {"latin-1": "latin-1"}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("as_path", [False, True], ids=["upload", "path"])
def test_pieces_read_as_the_whole_text(case, as_path, pieces, tmp_path):
    file, content, mapping, in_pieces = CASES[case]
    data = content.encode(ENCODING.get(case, "utf-8"))
    assert len(data) > 4 * io.CSV_PIECE_BYTES  # several pieces
    source = NamedBytes(file, data)
    if as_path:
        source = tmp_path / file
        source.write_bytes(data)
    name = str(source) if as_path else file
    fmt = io.file_format(file)
    expected_frame = outcome(lambda: whole_frame(data, name))
    expected = outcome(lambda: table_predictions(
        whole_frame(data, name), mapping, name=name, fmt=fmt))
    if isinstance(expected_frame, str) and not isinstance(expected, str):
        expected = expected_frame
    pieces.clear()
    frame = outcome(lambda: read_table(source))
    assert (pieces == []) == in_pieces, pieces
    if isinstance(expected_frame, str) or isinstance(frame, str):
        assert frame == expected_frame
    else:
        pd.testing.assert_frame_equal(frame, expected_frame, check_column_type=True)
    assert_same_loaded(outcome(lambda: load(source, mapping)), expected)


def test_one_piece_is_the_whole_text(monkeypatch, tmp_path):
    """A file within one piece: one pyarrow reading of all of it, as before."""
    content = CASES["class names"][1].encode()
    expected = whole_frame(content, "a.csv")
    calls = []
    monkeypatch.setattr(io, "_read_text_table", lambda *args: calls.append(1))
    pd.testing.assert_frame_equal(read_table(NamedBytes("a.csv", content)), expected,
                                  check_column_type=True)
    assert calls == []


def test_the_score_matrix_is_the_files_float_columns_without_a_copy():
    content = CASES["class names"][1].encode()
    frame, floats = io._read_frame(NamedBytes("a.csv", content), None)
    loaded = load(NamedBytes("a.csv", content))
    assert floats[1] == ("prob_cat", "prob_dog", "prob_eel")
    assert np.shares_memory(frame["prob_dog"].to_numpy(), floats[0])
    np.testing.assert_array_equal(loaded.predictions.scores, floats[0])


def test_a_large_file_is_bounded_by_counting_once_its_size_does_not_bound_it():
    data = b"label,a\n" + b"0,1\n" * 4_500_000  # 18 MB: 8 x its size is over 64 MiB
    with pytest.raises(InputError, match="too large for memory once read") as info:
        load(NamedBytes("many.csv", data), max_bytes=32 << 20)
    assert "about 68.7 MiB" in str(info.value)  # 8 x (4.5e6 commas + 4.5e6 + 1 newlines + 1)


# --------------------------------------------------------------------------- Parquet


def test_parquet_a_column_at_a_time_is_the_whole_read(tmp_path):
    nested = pa.table({"a": pa.array([{"b": 1}, {"b": 2}]), "a.b": [0.5, 0.25],
                       "label": ["x", "y"]})
    plain = pa.table({"label": ["x", "y"], "prob_x": pa.array([0.5, 0.25], pa.float32()),
                      "prob_y": [0.5, 0.75]})
    for i, table in enumerate((nested, plain)):
        path = tmp_path / f"{i}.parquet"
        pq.write_table(table, path)
        with pa.OSFile(str(path)) as file:
            assert io._parquet_columns(pq.ParquetFile(file)).equals(pq.ParquetFile(path).read())


def test_parquet_float32_and_float64_scores(tmp_path):
    frame = pd.DataFrame({"label": ["x", "y", "x"], "prob_x": np.float32([0.5, 0.25, 0.875]),
                          "prob_y": np.float32([0.5, 0.75, 0.125])})
    for dtype in (np.float32, np.float64):
        path = tmp_path / f"{np.dtype(dtype).name}.parquet"
        frame.astype({"prob_x": dtype}).to_parquet(path, index=False)
        p = load(path).predictions
        assert p.scores.dtype == dtype and p.scores.flags.c_contiguous
        np.testing.assert_array_equal(p.scores, frame[["prob_x", "prob_y"]].to_numpy(dtype))


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize("dtypes", [(np.float32, np.float32), (np.float64, np.float64),
                                    (np.float32, np.float64)])
@pytest.mark.parametrize("bad", [None, np.nan, np.inf, -np.inf])
def test_score_matrix_of_float_columns_as_per_column(dtypes, bad):
    values = RNG.random((50, 2))
    if bad is not None:
        values[[7, 30], [1, 0]] = bad  # the first column in order names the error
    frame = pd.DataFrame({"a": values[:, 0].astype(dtypes[0]), "b": values[:, 1].astype(dtypes[1])})
    fast = outcome(lambda: io._score_matrix(frame, ["a", "b"], "f", io._row_namer("csv")))
    if bad is None:
        expected_dtype = np.float32 if dtypes == (np.float32, np.float32) else np.float64
        assert fast.dtype == expected_dtype and fast.flags.c_contiguous
        np.testing.assert_array_equal(fast, frame.to_numpy(expected_dtype))
    else:
        what = "is empty" if np.isnan(bad) else f"is {bad}"
        assert fast == (f"InputError: f: score column 'a', row 31 (line 32): {what}, expected a "
                        "finite number")


def test_probability_check_names_the_first_column_and_row():
    scores = np.array([[0.5, 0.5], [0.2, 1.25], [-0.5, 0.5]])
    with pytest.raises(InputError, match=r"'prob_a', row 3: -0.5 is outside \[0, 1\]"):
        io._check_probability_columns(scores, ["prob_a", "prob_b"], "f", io._row_namer("parquet"))
    io._check_probability_columns(scores, ["logit_a", "logit_b"], "f", io._row_namer("parquet"))


@pytest.mark.parametrize("values", [["cat", " dog", None, "dog ", "", "cat", "  "],
                                    ["b", "a", "a|b", None, " a | b"], ["x"] * 5])
def test_text_codes_of_a_string_column_as_stripping_every_row(values):
    strings = pd.Series(values, dtype="str")
    stripped = strings.astype(str).str.strip().where(strings.notna(), "")
    codes, uniques = pd.factorize(stripped)
    for series in (strings, pd.Series(values, dtype=object)):
        got_codes, got = io._text_codes(series)
        np.testing.assert_array_equal(got_codes, codes)
        assert got == [str(u) for u in uniques]


def test_binary_labels_of_any_integer_type_as_their_distinct_values():
    scores = RNG.random((6, 1))
    for labels in ([2, 5, 5, 2, 2, 5], [0, 1, 1, 0, 1, 0], [-1, 1, 1, -1, 1, 1],
                   [70000, 3, 3, 70000, 3, 3]):
        for dtype in (np.int8, np.uint8, np.int32, np.uint64, np.int64):
            y = np.array(labels)
            if not np.can_cast(np.min_scalar_type(y.min()), dtype) or y.max() > np.iinfo(dtype).max:
                continue
            p = Predictions.from_arrays(y.astype(dtype), scores)
            present = np.unique(y)
            assert p.class_names == tuple(str(v) for v in present)
            np.testing.assert_array_equal(p.y_true, (y == present[1]).astype(np.int64))
    with pytest.raises(InputError, match="y_true label 3 at row 1 is outside the classes 0..1"):
        Predictions.from_arrays(np.array([0, 3], np.uint16), RNG.random((2, 2)))
