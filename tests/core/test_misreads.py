"""Files that were once evaluated as something other than what they hold: each reproducer is
now read as what it says, or refused in one line naming the column, row or cell."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import roc_auc_score

from evalcore import compute_curves
from evalcore.errors import InputError
from evalcore.io import Mapping, NamedBytes, load
from tests.core._cli import run


def refused(data: bytes | str, name: str = "f.csv", **kw) -> str:
    if isinstance(data, str):
        data = data.encode()
    with pytest.raises(InputError) as info:
        load(NamedBytes(name, data), **kw)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{name}: "), message
    return message


def loaded(data: bytes | str, name: str = "f.csv", mapping: Mapping = Mapping()):
    return load(NamedBytes(name, data.encode() if isinstance(data, str) else data), mapping)


# --------------------------------------------------------------------------- columns and labels


def test_a_label_without_a_score_column_is_refused():
    # once: a binary problem on column a, b dropped, label q unexplained
    message = refused("label,a,b\na,0.2,0.8\nq,0.4,0.6\n")
    assert "'q' is not among the classes ['a', 'b']" in message and "row 2" in message


def test_a_numeric_column_no_label_names_is_refused_unless_it_completes_a_softmax():
    message = refused("label,a,b,c\na,0.2,0.7,0.6\nb,0.4,0.5,0.3\n")
    assert "numeric column 'c' is not named by any label (a, b)" in message
    assert "--ignore-columns c" in message and "--classes" in message
    # rows summing to 1 over a, b, c: c is a class without samples in this file
    p = loaded("label,a,b,c\na,0.2,0.7,0.1\nb,0.4,0.5,0.1\n").predictions
    assert p.class_names == ("a", "b", "c") and p.task == "multiclass"
    # only one class occurs: the other column is still its class, not dropped
    p = loaded("label,a,b\na,0.9,0.1\na,0.6,0.4\n").predictions
    assert p.class_names == ("a", "b")
    # the user says which columns to leave out
    p = loaded("label,a,b,weight\na,0.2,0.8,3\nb,0.6,0.4,1\n",
               mapping=Mapping(ignore_columns=("weight",))).predictions
    assert p.class_names == ("a", "b")


@pytest.mark.parametrize("cell, hint", [
    ("high", ""), ("x", ""), ("0x10", ""), ("\u0663", ""), ("1e", ""),
])
def test_a_text_cell_in_a_class_named_column_is_refused(cell, hint):
    message = refused(f"label,a,b\na,0.2,{cell}\nb,0.4,0.6\n")
    assert f"score column 'b', row 1 (line 2): {cell!r} is not a number" in message


def test_a_decimal_comma_gets_a_hint():
    message = refused("label;a;b\na;0,2;0,8\nb;0,4;0,6\n")
    assert "'0,2' is not a number (a decimal comma? write 0.5, not 0,5)" in message


def test_the_index_column_that_to_csv_writes_is_refused_with_a_hint():
    frame = pd.DataFrame({"label": [0, 1, 2, 1], "0": [.7, .1, .1, .2], "1": [.2, .8, .1, .5],
                          "2": [.1, .1, .8, .3]})
    message = refused(frame.to_csv())  # index=True: a first column with no name
    assert "looks like the row index that pandas' to_csv() writes" in message
    assert "index=False" in message
    p = loaded(frame.to_csv(index=False)).predictions
    assert p.class_names == ("0", "1", "2")


def test_integer_labels_do_not_make_every_numeric_column_a_class():
    text = "label,cat,dog,eel,confidence\n0,0.2,0.3,0.5,0.5\n1,0.1,0.8,0.1,0.8\n2,0.3,0.3,0.4,0.4\n"
    message = refused(text)
    assert "4 numeric columns (cat, dog, eel, confidence) for labels 0..2" in message
    # columns named by the label values: another numeric column is named in the error
    message = refused("label,0,1,confidence\n0,0.6,0.4,0.6\n1,0.3,0.7,0.7\n")
    assert "numeric column 'confidence'" in message
    # integer labels indexing class-named columns, in column order: as before
    p = loaded("label,cat,dog,eel\n0,0.2,0.3,0.5\n1,0.1,0.8,0.1\n2,0.3,0.3,0.4\n").predictions
    assert p.class_names == ("cat", "dog", "eel") and p.y_true.tolist() == [0, 1, 2]


def test_one_score_column_must_name_the_positive_class():
    message = refused("label,prob_cat\ndog,0.2\neel,0.8\n")
    assert "'prob_cat' names no class among the labels (dog, eel)" in message
    assert "--classes NEGATIVE,POSITIVE" in message
    # the user says which: NEGATIVE,POSITIVE
    p = loaded("label,score\ndog,0.2\neel,0.8\ndog,0.4\n",
               mapping=Mapping(class_names=("dog", "eel"))).predictions
    assert p.class_names == ("dog", "eel") and p.y_true.tolist() == [0, 1, 0]
    assert "generic" not in loaded("y_true,y_score\n0,0.2\n1,0.9\n").layout.labels


def test_a_column_named_0_scores_class_0_and_the_auc_is_not_inverted():
    y = np.array([0, 1, 0, 1, 0, 1, 1, 0])
    p0 = np.array([0.9, 0.2, 0.7, 0.1, 0.6, 0.3, 0.45, 0.8])  # the score of class 0
    frame = pd.DataFrame({"label": y, "0": p0})
    p = loaded(frame.to_csv(index=False)).predictions
    assert p.task == "binary" and p.class_names == ("1", "0")  # positive: class 0
    auc = compute_curves(p).classes[0].roc_auc
    assert auc == pytest.approx(roc_auc_score(y == 0, p0)) and auc > 0.5


# --------------------------------------------------------------------------- score kinds


def test_one_probability_outside_zero_one_is_an_error_not_a_switch_to_logits():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), 10_000)
    frame = pd.DataFrame({"label": rng.integers(0, 3, 10_000)})
    for j in range(3):
        frame[f"prob_{j}"] = p[:, j]
    frame.loc[4321, "prob_1"] = 1.000001
    message = refused(frame.to_csv(index=False))
    assert "score column 'prob_1', row 4322 (line 4323): 1.000001 is outside [0, 1]" in message
    assert "logit_" in message
    # percentages: a hint
    assert "percentages? divide by 100" in refused("label,prob_a,prob_b\na,20,80\nb,40,60\n")
    # the user may say they are logits
    p = loaded(frame.to_csv(index=False), mapping=Mapping(score_kind="logit")).predictions
    assert p.score_kind == "logit"


def test_the_detected_score_kind_is_said_with_its_reason():
    line = loaded("label,a,b\na,0.2,0.8\nb,0.6,0.4\n").layout.describe(
        loaded("label,a,b\na,0.2,0.8\nb,0.6,0.4\n").predictions)
    assert "scores: softmax probabilities: rows sum to 1" in line
    out = loaded("label,a,b\na,-2,3\nb,1,0.4\n")
    assert "logits (values outside [0, 1]), converted with softmax" in out.layout.describe(
        out.predictions)


# --------------------------------------------------------------------------- groups and labels


def test_split_values_are_stripped():
    p = loaded("label,prob_a,prob_b,split\na,0.2,0.8, test\nb,0.4,0.6,test \n"
               "a,0.9,0.1,train\n").select()
    assert p.n_samples == 2 and p.splits == ("test",)


def test_npz_class_names_saved_as_bytes_are_text(tmp_path):
    buffer = io.BytesIO()
    np.savez(buffer, y_true=np.array([0, 1, 1]), y_score=np.array([[.8, .2], [.3, .7], [.4, .6]]),
             class_names=np.array([b"cat", b"dog"]), split=np.array([b"test", b"test", b"train"]))
    p = loaded(buffer.getvalue(), "a.npz").predictions
    assert p.class_names == ("cat", "dog") and p.splits == ("train", "test")


def test_true_in_a_zero_one_label_column_is_not_read_as_one():
    message = refused("label,prob_0,prob_1\n0,0.8,0.2\n1,0.4,0.6\nTRUE,0.1,0.9\n")
    assert "'TRUE' is not among the classes ['0', '1']" in message


# --------------------------------------------------------------------------- crashes


def test_an_empty_split_and_model_selection_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "g.csv"
    path.write_text("label,a,b,split,model\na,0.7,0.3,train,m1\nb,0.2,0.8,test,m2\n")
    code, out, err = run(capsys, "summary", path, "--model", "m1", "--split", "test")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "no rows for split 'test' and model 'm1'" in err
    # the default selection picks a model that has test rows
    assert load(path).select().models == ("m2",)


@pytest.mark.parametrize("values, what", [
    (pa.array([b"\x00\xff", b"\x01"], pa.binary()), "bytes"),
    (pa.array([True, False]), "true/false"),
    (pa.array([1, 2], pa.timestamp("s")), "timestamps"),
    (pa.array([Decimal("0.25"), Decimal("0.75")], pa.decimal128(5, 2)), "decimals"),
])
def test_score_columns_of_other_types_are_refused_by_name(values, what):
    table = pa.table({"label": ["a", "b"], "prob_a": values,
                      "prob_b": pa.array([0.5, 0.5])})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    message = refused(buffer.getvalue(), "t.parquet")
    assert f"score column 'prob_a' holds {what}" in message


# --------------------------------------------------------------------------- resources


def _npy_header(shape, dtype="<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def test_an_npz_that_declares_gigabytes_is_refused_before_allocating():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("y_true.npy", _npy_header((437_500_000,)))  # 3.5 GB of float64
        z.writestr("y_score.npy", _npy_header((437_500_000,)))
    tracemalloc.start()
    try:
        message = refused(archive.getvalue(), "bomb.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "declares arrays too large for memory" in message and "the limit is 1.0 GiB" in message
    assert peak < 50 * 2**20


def test_an_npy_that_declares_gigabytes_is_refused():
    from evalcore.io import read_npy

    data = _npy_header((10**9, 10)) + b"\x00" * 64
    with pytest.raises(InputError, match="s.npy: declares an array too large for memory"):
        read_npy(NamedBytes("s.npy", data))


def test_a_small_parquet_file_that_expands_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.parquet"
    rows = 10_000_000  # 160 MB once read
    with pq.ParquetWriter(path, pa.schema([("label", pa.int64()), ("score", pa.float64())])) as w:
        for _ in range(rows // 1_000_000):
            w.write_table(pa.table({"label": np.zeros(1_000_000, np.int64),
                                    "score": np.zeros(1_000_000)}))
    assert path.stat().st_size < 1 << 20  # compresses to almost nothing
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="too large for memory once read") as info:
            load(path, max_bytes=32 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "about 152.6 MiB" in str(info.value)
    assert peak < 16 << 20


def test_a_csv_is_bounded_before_parsing():
    data = b"label,a\n" + b"0,1\n" * 9_000_000  # 36 MB of text, 18e6 cells
    message = refused(data, "many.csv", max_bytes=100 << 20)
    assert "too large for memory once read" in message


# --------------------------------------------------------------------------- the CLI's stderr


def test_tensorflow_start_up_lines_do_not_reach_the_cli(tmp_path):
    demos = Path(__file__).resolve().parents[2] / "evalcore" / "demos"
    bad = tmp_path / "data.txt"
    bad.write_text("not data")
    done = subprocess.run(
        [sys.executable, "-m", "evalcore.cli", "predict", str(demos / "digits_model.keras"),
         str(bad), "-o", str(tmp_path / "out.csv")],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("evalcore: error: "), done.stderr
    json.dumps(done.stderr)
