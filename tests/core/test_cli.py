"""The ``evalcore`` command, run in-process (``evalcore.cli.main``) and once as the installed
console script. JSON output is checked against its contract and against scikit-learn; bad
input must exit 2 with one ``evalcore: error:`` line on stderr and nothing on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    hamming_loss,
    roc_auc_score,
)

from evalcore.cli import main
from _cli import run, run_json, strict_loads
from evalcore.curves import compute_curves
from evalcore.decisions import confusion
from evalcore.io import load_predictions
from evalcore.operating import operating_point

NAMES = ["cat", "dog", "eel"]
SUMMARY_KEYS = {
    "task", "score_kind", "n_samples", "classes", "per_class", "roc_auc",
    "average_precision", "accuracy", "conventions", "engine",
}
PER_CLASS_SUMMARY_KEYS = {"roc_auc", "average_precision", "prevalence", "support"}
CONFUSION_KEYS = {
    "rule", "labels", "predicted_labels", "matrix", "per_class", "coverage", "accuracy",
}
PER_CLASS_CONFUSION_KEYS = {"tp", "fp", "fn", "precision", "recall", "f1"}
THRESHOLD_KEYS = {
    "class", "objective", "threshold", "precision", "recall", "f1", "fpr", "tp", "fp", "fn", "tn",
}




# --------------------------------------------------------------------------- files


def softmax_rows(rng, y, k, separation=1.2):
    logits = rng.normal(size=(len(y), k)) + separation * np.eye(k)[y]
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    out = {}

    y = rng.integers(0, 3, 200)
    s = softmax_rows(rng, y, 3).round(2)  # ties
    s[:, 2] = 1.0 - s[:, 0] - s[:, 1]  # rows sum to 1 (scikit-learn's OvO/OvR check)
    assert (s >= 0).all()
    out["multiclass"] = root / "multiclass.npz"
    np.savez(out["multiclass"], y_true=y, y_score=s, class_names=np.array(NAMES))

    y = rng.integers(0, 2, 150)
    y[:2] = [0, 1]
    s = softmax_rows(rng, y, 3)  # 'eel' (class 2) never occurs
    out["no_eel"] = root / "no_eel.npz"
    np.savez(out["no_eel"], y_true=y, y_score=s, class_names=np.array(NAMES))

    y = (rng.random((120, 3)) < 0.4).astype(np.int8)
    s = np.clip(rng.normal(0.3 + 0.35 * y, 0.2), 0, 1)
    out["multilabel"] = root / "multilabel.npz"
    np.savez(out["multilabel"], y_true=y, y_score=s, class_names=np.array(["red", "green", "blue"]))

    y = rng.integers(0, 2, 100)
    s = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    out["binary"] = root / "binary.npz"
    np.savez(out["binary"], y_true=y, y_score=s, class_names=np.array(["ham", "spam"]))
    return out


def arrays(path: Path):
    with np.load(path, allow_pickle=False) as archive:
        return archive["y_true"], archive["y_score"]


# --------------------------------------------------------------------------- summary


def test_summary_json_contract_and_sklearn_values(capsys, files):
    y, s = arrays(files["multiclass"])
    out = run_json(capsys, "summary", files["multiclass"])
    assert set(out) == SUMMARY_KEYS
    assert out["task"] == "multiclass"
    assert out["score_kind"] == "probability"
    assert out["n_samples"] == len(y)
    assert out["classes"] == NAMES
    assert set(out["per_class"]) == set(NAMES)
    onehot = np.eye(3, dtype=int)[y]
    for c, name in enumerate(NAMES):
        row = out["per_class"][name]
        assert set(row) >= PER_CLASS_SUMMARY_KEYS
        assert row["roc_auc"] == pytest.approx(roc_auc_score(y == c, s[:, c]), abs=1e-12)
        assert row["average_precision"] == pytest.approx(
            average_precision_score(y == c, s[:, c]), abs=1e-12
        )
        assert row["support"] == int(np.sum(y == c))
        assert row["prevalence"] == pytest.approx(np.mean(y == c), abs=1e-12)
    assert set(out["roc_auc"]) == {"micro", "macro", "weighted", "ovo_macro", "macro_interpolated"}
    assert set(out["average_precision"]) == {"micro", "macro", "weighted"}
    expected_roc = {
        "micro": roc_auc_score(onehot, s, average="micro"),
        "macro": roc_auc_score(y, s, multi_class="ovr", average="macro"),
        "weighted": roc_auc_score(y, s, multi_class="ovr", average="weighted"),
        "ovo_macro": roc_auc_score(y, s, multi_class="ovo", average="macro"),
    }
    for key, value in expected_roc.items():
        assert out["roc_auc"][key] == pytest.approx(value, abs=1e-12), key
    for key in ("micro", "macro", "weighted"):
        expected = average_precision_score(onehot, s, average=key)
        assert out["average_precision"][key] == pytest.approx(expected, abs=1e-12), key
    assert out["accuracy"] == pytest.approx(accuracy_score(y, s.argmax(1)), abs=1e-12)


def test_summary_class_without_positives_is_null(capsys, files):
    y, s = arrays(files["no_eel"])
    out = run_json(capsys, "summary", files["no_eel"])
    eel = out["per_class"]["eel"]
    assert eel["roc_auc"] is None
    assert eel["average_precision"] is None
    assert eel["support"] == 0 and eel["prevalence"] == 0.0
    defined_roc = [roc_auc_score(y == c, s[:, c]) for c in (0, 1)]
    defined_ap = [average_precision_score(y == c, s[:, c]) for c in (0, 1)]
    assert out["roc_auc"]["macro"] == pytest.approx(np.mean(defined_roc), abs=1e-12)
    assert out["average_precision"]["macro"] == pytest.approx(np.mean(defined_ap), abs=1e-12)
    onehot = np.eye(3, dtype=int)[y]
    assert out["roc_auc"]["micro"] == pytest.approx(
        roc_auc_score(onehot, s, average="micro"), abs=1e-12
    )
    # Hand & Till over the pairs of classes present: only (cat, dog)
    both = y < 2
    pair = (
        roc_auc_score(y[both] == 0, s[both, 0]) + roc_auc_score(y[both] == 1, s[both, 1])
    ) / 2
    assert out["roc_auc"]["ovo_macro"] == pytest.approx(pair, abs=1e-12)


def test_summary_multilabel_accuracy_is_subset_accuracy(capsys, files):
    y, s = arrays(files["multilabel"])
    out = run_json(capsys, "summary", files["multilabel"])
    assert out["task"] == "multilabel"
    assert out["accuracy"] == pytest.approx(accuracy_score(y, (s >= 0.5).astype(int)), abs=1e-12)
    for key in ("micro", "macro", "weighted"):
        assert out["roc_auc"][key] == pytest.approx(roc_auc_score(y, s, average=key), abs=1e-12)
        assert out["average_precision"][key] == pytest.approx(
            average_precision_score(y, s, average=key), abs=1e-12
        )


def test_summary_binary(capsys, files):
    y, s = arrays(files["binary"])
    out = run_json(capsys, "summary", files["binary"])
    assert out["task"] == "binary"
    assert out["classes"] == ["ham", "spam"]
    assert out["per_class"]["spam"]["roc_auc"] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert out["accuracy"] == pytest.approx(accuracy_score(y, s >= 0.5), abs=1e-12)


# --------------------------------------------------------------------------- confusion


def test_confusion_abstain_json_contract(capsys, files):
    y, s = arrays(files["multiclass"])
    out = run_json(capsys, "confusion", files["multiclass"], "--rule", "abstain", "--threshold", "0.6")
    assert set(out) >= CONFUSION_KEYS
    assert out["rule"] == "abstain"
    assert out["labels"] == NAMES
    assert out["predicted_labels"] == NAMES + ["abstained"]
    predicted = np.where(s.max(1) >= 0.6, s.argmax(1), 3)
    expected = np.zeros((3, 4), dtype=int)
    np.add.at(expected, (y, predicted), 1)
    assert out["matrix"] == expected.tolist()
    assert set(out["per_class"]) == set(NAMES)
    for c, name in enumerate(NAMES):
        row = out["per_class"][name]
        assert set(row) >= PER_CLASS_CONFUSION_KEYS
        tp = int(np.sum((predicted == c) & (y == c)))
        fp = int(np.sum((predicted == c) & (y != c)))
        fn = int(np.sum((predicted != c) & (y == c)))
        assert (row["tp"], row["fp"], row["fn"]) == (tp, fp, fn)
        assert row["recall"] == pytest.approx(tp / (tp + fn), abs=1e-12)
    assert out["coverage"] == pytest.approx(np.mean(predicted != 3), abs=1e-12)
    assert out["accuracy"] == pytest.approx(np.mean(predicted == y), abs=1e-12)


def test_confusion_class_threshold_overrides_one_class(capsys, files):
    p = load_predictions(files["multiclass"])
    base = run_json(capsys, "confusion", files["multiclass"], "--rule", "per-class", "--threshold", "0.5")
    out = run_json(
        capsys, "confusion", files["multiclass"], "--rule", "per-class", "--threshold", "0.5",
        "--class-threshold", "dog=0.9",
    )
    expected = confusion(p, "per-class", [0.5, 0.9, 0.5]).to_dict()
    assert out["matrix"] == expected["matrix"]
    assert out["thresholds"] == {"cat": 0.5, "dog": 0.9, "eel": 0.5}
    assert out["matrix"] != base["matrix"]  # the override changed something
    assert base["matrix"] == confusion(p, "per-class", 0.5).to_dict()["matrix"]


def test_confusion_multilabel_json(capsys, files):
    y, s = arrays(files["multilabel"])
    out = run_json(capsys, "confusion", files["multilabel"], "--threshold", "0.5")
    predicted = (s >= 0.5).astype(int)
    assert "matrix" not in out
    assert out["rule"] == "multilabel"
    assert out["subset_accuracy"] == pytest.approx(accuracy_score(y, predicted), abs=1e-12)
    assert out["hamming_loss"] == pytest.approx(hamming_loss(y, predicted), abs=1e-12)
    assert out["binary_accuracy"] == pytest.approx(1 - hamming_loss(y, predicted), abs=1e-12)
    for c, name in enumerate(["red", "green", "blue"]):
        assert out["per_class"][name]["tp"] == int(np.sum((predicted[:, c] == 1) & (y[:, c] == 1)))


def test_confusion_binary_json(capsys, files):
    y, s = arrays(files["binary"])
    out = run_json(capsys, "confusion", files["binary"], "--threshold", "0.4")
    assert out["rule"] == "binary"
    predicted = (s >= 0.4).astype(int)
    expected = np.zeros((2, 2), dtype=int)
    np.add.at(expected, (y, predicted), 1)
    assert out["matrix"] == expected.tolist()
    assert out["thresholds"].get("spam") == 0.4, out["thresholds"]  # the positive class'


# --------------------------------------------------------------------------- threshold


@pytest.mark.parametrize("objective", ["recall>=0.9", "f1", "cost:1,5"])
def test_threshold_json_contract(capsys, files, objective):
    out = run_json(
        capsys, "threshold", files["multiclass"], "--class", "dog", "--objective", objective
    )
    assert set(out) >= THRESHOLD_KEYS
    assert out["class"] == "dog"
    assert out["objective"] == objective
    expected = operating_point(compute_curves(load_predictions(files["multiclass"])), "dog", objective)
    assert out == strict_loads(json.dumps(expected.to_dict()))
    y, s = arrays(files["multiclass"])
    called = s[:, 1] >= out["threshold"]
    assert out["tp"] == int(np.sum(called & (y == 1)))
    assert out["fp"] == int(np.sum(called & (y != 1)))
    if objective.startswith("recall"):
        assert out["recall"] >= 0.9


def test_threshold_unattainable_is_null(capsys, files):
    out = run_json(capsys, "threshold", files["no_eel"], "--class", "eel", "--objective", "f1")
    assert out["threshold"] is None and out["tp"] is None
    assert "no positive samples" in out["reason"]


# --------------------------------------------------------------------------- text output


@pytest.mark.parametrize(
    "argv, names",
    [
        (["summary"], NAMES),
        (["confusion"], NAMES),
        (["confusion", "--rule", "abstain", "--threshold", "0.7"], NAMES + ["abstained"]),
        (["confusion", "--rule", "per-class", "--class-threshold", "eel=0.2"], NAMES),
        (["threshold", "--class", "eel", "--objective", "youden"], ["eel"]),
    ],
)
def test_text_output_names_the_classes(capsys, files, argv, names):
    code, out, err = run(capsys, argv[0], files["multiclass"], *argv[1:])
    assert code == 0 and err == ""
    for name in names:
        assert name in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


@pytest.mark.parametrize("command", ["summary", "confusion"])
def test_text_output_multilabel_and_binary(capsys, files, command):
    code, out, _ = run(capsys, command, files["multilabel"])
    assert code == 0 and all(n in out for n in ["red", "green", "blue"])
    code, out, _ = run(capsys, command, files["binary"])
    assert code == 0 and "spam" in out


# --------------------------------------------------------------------------- bad input


class Unpickled:
    """Unpickling this object would create ``marker``: proof that nothing was unpickled."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, files):
    root = tmp_path_factory.mktemp("bad")
    out = {"missing": root / "does_not_exist.npz"}
    out["text"] = root / "text.npz"
    out["text"].write_text("y_true,y_score\n0,0.5\n")
    out["npy"] = root / "array.npz"  # a .npy file under an .npz name
    with open(out["npy"], "wb") as f:
        np.save(f, np.zeros((4, 3)))
    out["empty"] = root / "empty.npz"
    out["empty"].write_bytes(b"")
    data = files["multiclass"].read_bytes()
    out["truncated"] = root / "truncated.npz"
    out["truncated"].write_bytes(data[: len(data) // 2])
    out["truncated_tail"] = root / "truncated_tail.npz"
    out["truncated_tail"].write_bytes(data[:-10])
    marker = root / "UNPICKLED"
    out["marker"] = marker
    out["object"] = root / "object.npz"
    scores = np.empty((2, 2), dtype=object)
    scores[:] = [[Unpickled(str(marker)), 0.5], [0.5, 0.5]]
    np.savez(out["object"], y_true=np.array([0, 1]), y_score=scores)
    out["object_names"] = root / "object_names.npz"
    names = np.array([Unpickled(str(marker)), "b"], dtype=object)
    np.savez(out["object_names"], y_true=np.array([0, 1]), y_score=np.eye(2), class_names=names)
    out["no_score"] = root / "no_score.npz"
    np.savez(out["no_score"], y_true=np.array([0, 1]), scores=np.eye(2))
    out["csv"] = root / "data.csv"
    out["csv"].write_text("a,b\n1,2\n")
    out["bad_labels"] = root / "bad_labels.npz"
    np.savez(out["bad_labels"], y_true=np.array([0, 1, 7]), y_score=np.eye(3))
    return out


BAD_CASES = {
    "missing file": ["summary", "{missing}"],
    "not a zip (text)": ["summary", "{text}"],
    "not a zip (.npy)": ["summary", "{npy}"],
    "empty file": ["summary", "{empty}"],
    "truncated npz": ["summary", "{truncated}"],
    "truncated npz tail": ["summary", "{truncated_tail}"],
    "object array": ["summary", "{object}"],
    "object class names": ["confusion", "{object_names}"],
    "missing y_score": ["summary", "{no_score}"],
    "unsupported suffix": ["summary", "{csv}"],
    "label out of range": ["summary", "{bad_labels}"],
    "unknown class": ["threshold", "{multiclass}", "--class", "nope", "--objective", "f1"],
    "bad objective": ["threshold", "{multiclass}", "--class", "dog", "--objective", "bogus"],
    "objective out of range": ["threshold", "{multiclass}", "--class", "dog", "--objective", "recall>=1.5"],
    "missing objective": ["threshold", "{multiclass}", "--class", "dog"],
    "rule binary on multiclass": ["confusion", "{multiclass}", "--rule", "binary"],
    "rule argmax on multilabel": ["confusion", "{multilabel}", "--rule", "argmax"],
    "unknown rule": ["confusion", "{multiclass}", "--rule", "bogus"],
    "class threshold without =": ["confusion", "{multiclass}", "--rule", "per-class", "--class-threshold", "dog"],
    "class threshold not a number": ["confusion", "{multiclass}", "--rule", "per-class", "--class-threshold", "dog=high"],
    "class threshold unknown class": ["confusion", "{multiclass}", "--rule", "per-class", "--class-threshold", "nope=0.5"],
    "class threshold with abstain": ["confusion", "{multiclass}", "--rule", "abstain", "--class-threshold", "dog=0.5"],
    "threshold not a number": ["confusion", "{multiclass}", "--threshold", "high"],
    "nan threshold": ["confusion", "{multiclass}", "--rule", "per-class", "--threshold", "nan"],
    "unknown subcommand": ["frobnicate", "{multiclass}"],
    "no subcommand": [],
    "bad task override": ["summary", "{multiclass}", "--task", "regression"],
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
@pytest.mark.parametrize("as_json", [False, True])
def test_bad_input_exits_2_with_one_line(capsys, files, bad_files, case, as_json):
    paths = {**{k: str(v) for k, v in files.items()}, **{k: str(v) for k, v in bad_files.items()}}
    argv = [a.format(**paths) for a in BAD_CASES[case]]
    if as_json and argv:
        argv.append("--json")
    code = main(argv)  # must not raise: no traceback
    captured = capsys.readouterr()
    assert code == 2, (case, code, captured.err)
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("evalcore: error:"), lines[0]
    assert "Traceback" not in captured.err
    assert not bad_files["marker"].exists(), "an object array was unpickled"


def test_bad_input_message_names_the_problem(capsys, files, bad_files):
    _, _, err = run(capsys, "summary", bad_files["missing"])
    assert "does_not_exist.npz" in err
    _, _, err = run(capsys, "summary", bad_files["no_score"])
    assert "'y_score'" in err
    _, _, err = run(capsys, "threshold", files["multiclass"], "--class", "nope", "--objective", "f1")
    assert "nope" in err and "cat" in err


# --------------------------------------------------------------------------- console script


def test_installed_console_script(files, tmp_path):
    script = Path(sys.executable).parent / ("evalcore.exe" if os.name == "nt" else "evalcore")
    assert script.is_file(), f"console script not installed at {script}"
    ok = subprocess.run(
        [str(script), "summary", str(files["multiclass"]), "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    out = strict_loads(ok.stdout)
    assert set(out) == SUMMARY_KEYS and out["classes"] == NAMES
    bad = subprocess.run(
        [str(script), "summary", str(tmp_path / "missing.npz")],
        capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.startswith("evalcore: error:") and len(bad.stderr.splitlines()) == 1
    assert "Traceback" not in bad.stderr

