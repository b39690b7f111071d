"""The CLI's decision contract: priority, weighted and cost rules, threshold under a rule,
optimise, apply, thresholds files of both versions. Expected numbers come from the engine,
itself tested against brute forces and scikit-learn."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from evalcore.decisions import Decision, confusion
from evalcore.deploy import OLD_SCHEMAS, load_spec
from evalcore.io import load_predictions, read_cost_matrix
from evalcore.operating import operating_point
from evalcore.optimise import optimise
from tests.core._cli import run, run_json

CLASSES = ("benign", "cyst", "malignant", "normal")


@pytest.fixture(scope="module")
def holdout(tmp_path_factory):
    """A 4-class softmax holdout with validation and test splits, and an id column."""
    root = tmp_path_factory.mktemp("decisions")
    rng = np.random.default_rng(11)
    n = 800
    y = rng.integers(0, 4, n)
    logits = rng.normal(size=(n, 4)) + 1.3 * np.eye(4)[y]
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "label": np.asarray(CLASSES)[y]})
    for j, name in enumerate(CLASSES):
        frame[f"prob_{name}"] = p[:, j]
    frame["split"] = np.where(np.arange(n) % 2 == 0, "validation", "test")
    path = root / "holdout.csv"
    frame.to_csv(path, index=False)
    return path


def test_priority_flags_in_order_are_the_priority(capsys, holdout):
    out = run_json(capsys, "confusion", holdout, "--rule", "priority",
                   "--class-threshold", "malignant=0.06", "--class-threshold", "cyst=0.5")
    p = load_predictions(holdout)
    d = Decision.priority(CLASSES, {"malignant": 0.06, "cyst": 0.5})
    assert out["matrix"] == confusion(p, d).matrix.tolist()
    assert out["decision"] == {"rule": "priority", "classes": list(CLASSES),
                               "thresholds": {"malignant": 0.06, "cyst": 0.5}}
    assert list(out["decision"]["thresholds"]) == ["malignant", "cyst"]


def test_weighted_rule(capsys, holdout):
    out = run_json(capsys, "confusion", holdout, "--rule", "weighted",
                   "--class-weight", "malignant=3")
    p = load_predictions(holdout)
    d = Decision.weighted(CLASSES, {"malignant": 3.0})
    assert out["matrix"] == confusion(p, d).matrix.tolist()


def test_cost_rule_from_a_csv(tmp_path, capsys, holdout):
    costs = tmp_path / "costs.csv"
    # rows and columns in another order than the data's classes: read by name
    costs.write_text("true,normal,malignant,cyst,benign,abstained\n"
                     "malignant,20,0,20,20,1\nbenign,1,1,1,0,0.3\n"
                     "cyst,1,1,0,1,0.3\nnormal,0,1,1,1,0.3\n")
    matrix = read_cost_matrix(costs, CLASSES)
    assert matrix.shape == (4, 5) and matrix[2, 0] == 20 and matrix[2, 4] == 1
    assert matrix[0, 3] == 1 and matrix[3, 3] == 0  # benign -> normal, normal -> normal
    out = run_json(capsys, "confusion", holdout, "--rule", "cost", "--cost-matrix", costs)
    p = load_predictions(holdout)
    expected = confusion(p, Decision.cost(CLASSES, matrix))
    assert out["matrix"] == expected.matrix.tolist()
    assert out["predicted_labels"][-1] == "abstained"


@pytest.mark.parametrize("text, match", [
    ("true,benign,cyst\nbenign,0,1\ncyst,1,0\n", "no column for class 'malignant'"),
    ("true,benign,cyst,malignant,normal\nbenign,0,1,1,1\n", "no row for class 'cyst'"),
    ("true,benign,cyst,malignant,normal\nbenign,0,1,1,x\ncyst,1,0,1,1\nmalignant,1,1,0,1\n"
     "normal,1,1,1,0\n", "'x' is not a number"),
])
def test_bad_cost_matrices_are_one_line_errors(tmp_path, capsys, holdout, text, match):
    costs = tmp_path / "costs.csv"
    costs.write_text(text)
    code, out, err = run(capsys, "confusion", holdout, "--rule", "cost", "--cost-matrix", costs)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert match in err and "costs.csv" in err


def test_threshold_under_a_rule_reports_the_decisions_own_counts(capsys, holdout):
    out = run_json(capsys, "threshold", holdout, "--class", "malignant",
                   "--objective", "recall>=0.99", "--rule", "priority")
    p = load_predictions(holdout)
    decided = confusion(p, Decision.from_dict(out["decision"])).counts.row(2)
    assert out["feasible"] is True and out["counted"] == "decision (priority)"
    assert (out["tp"], out["fp"], out["fn"], out["tn"]) == (
        decided["tp"], decided["fp"], decided["fn"], decided["tn"])
    assert out["recall"] == decided["recall"] >= 0.99


def test_threshold_unreachable_under_per_class_names_the_rule_that_would(capsys, holdout):
    out = run_json(capsys, "threshold", holdout, "--class", "malignant",
                   "--objective", "recall>=0.999", "--rule", "per-class", "--threshold", "0.5")
    p = load_predictions(holdout)
    expected = operating_point(p, "malignant", "recall>=0.999",
                               decision=Decision.per_class(CLASSES, 0.5))
    assert out["feasible"] is expected.feasible
    if not out["feasible"]:
        assert out["threshold"] is None and "priority rule" in out["reason"]


def test_optimise_tunes_on_validation_and_reports_on_test(tmp_path, capsys, holdout):
    spec = tmp_path / "t.json"
    out = run_json(capsys, "optimise", holdout, "--rule", "priority", "--maximise", "macro-f1",
                   "--subject-to", "recall(malignant)>=0.99", "--save-thresholds", spec)
    loaded = load_predictions(holdout, split="validation")
    expected = optimise(loaded, Decision.priority(CLASSES, {}), "macro-f1",
                        constraints=("recall(malignant)>=0.99",))
    assert out["decision"] == expected.decision.to_dict()
    assert out["tuned_on"] == {"split": "validation", "n_samples": loaded.n_samples}
    assert out["reported_on"]["split"] == "test"
    assert out["constraints"][0]["met"] is True and out["feasible"] is True
    test = load_predictions(holdout)  # the default split: test
    assert out["reported_on"]["after"] == pytest.approx(
        float(np.mean(np.nan_to_num(confusion(test, expected.decision).counts.f1))), abs=1e-12)
    saved = load_spec(spec)
    assert saved.decision == expected.decision and saved.data["tuned_on"] == "validation"
    # the saved file reproduces the decision
    again = run_json(capsys, "confusion", holdout, "--thresholds", spec)
    assert again["matrix"] == confusion(test, expected.decision).matrix.tolist()


def test_optimise_errors(capsys, holdout):
    for argv, match in (
        (["--rule", "argmax", "--maximise", "accuracy"], "nothing to tune"),
        (["--rule", "weighted", "--minimise", "cost"], "needs a cost matrix"),
        (["--rule", "per-class", "--maximise", "accuracy", "--subject-to", "recall(x)>=0.5"],
         "expected a class name or index"),
    ):
        code, out, err = run(capsys, "optimise", holdout, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1 and match in err, err


def test_apply_on_scores_without_labels_carries_the_id(tmp_path, capsys, holdout):
    spec = tmp_path / "t.json"
    run_json(capsys, "confusion", holdout, "--rule", "priority",
             "--class-threshold", "malignant=0.1", "--save-thresholds", spec)
    frame = pd.read_csv(holdout)
    scores = frame.drop(columns=["label", "split"])  # what production logs: no labels
    unlabeled = tmp_path / "scores.parquet"
    scores.to_parquet(unlabeled, index=False)
    for output in (tmp_path / "out.csv", tmp_path / "out.parquet"):
        out = run_json(capsys, "apply", unlabeled, "--thresholds", spec, "-o", output)
        assert out["n_samples"] == len(frame) and out["columns"] == ["id", "predicted", "rule"]
        written = pd.read_csv(output) if output.suffix == ".csv" else pd.read_parquet(output)
        assert written["id"].tolist() == frame["id"].tolist()
        # the same kernel that counted the matrix
        from evalcore.decisions import predict
        from evalcore.io import load

        everything = load(holdout).predictions  # every row, both splits

        expected = np.asarray(CLASSES)[predict(everything, load_spec(spec).decision)]
        assert written["predicted"].tolist() == expected.tolist()
    # a file with labels: the true label is carried too
    out = run_json(capsys, "apply", holdout, "--thresholds", spec, "-o", tmp_path / "b.csv")
    assert out["columns"] == ["id", "true", "predicted", "rule"]


def test_apply_errors_name_the_file(tmp_path, capsys, holdout):
    spec = tmp_path / "t.json"
    run_json(capsys, "confusion", holdout, "--save-thresholds", spec)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,prob_benign,prob_cyst\n1,0.5,0.5\n")
    code, out, err = run(capsys, "apply", bad, "--thresholds", spec, "-o", tmp_path / "o.csv")
    assert code == 2 and "bad.csv" in err and "no score column for class 'malignant'" in err


def test_version_one_thresholds_files_still_load(tmp_path, capsys, holdout):
    v1 = {
        "schema": OLD_SCHEMAS[0], "rule": "per-class", "task": "multiclass",
        "classes": list(CLASSES), "score_kind": "probability", "conversion": None,
        "thresholds": {c: {"probability": t} for c, t in zip(CLASSES, (0.4, 0.5, 0.2, 0.6))},
        "metrics": {}, "data": {},
    }
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(v1))
    out = run_json(capsys, "confusion", holdout, "--thresholds", path)
    p = load_predictions(holdout)
    assert out["matrix"] == confusion(p, "per-class", [0.4, 0.5, 0.2, 0.6]).matrix.tolist()
    abstain = dict(v1, rule="abstain", thresholds={c: {"probability": 0.7} for c in CLASSES})
    path.write_text(json.dumps(abstain))
    out = run_json(capsys, "confusion", holdout, "--thresholds", path)
    assert out["matrix"] == confusion(p, "abstain", 0.7).matrix.tolist()


@pytest.mark.parametrize("argv, match", [
    (["--rule", "abstain", "--class-threshold", "cyst=0.3"], "takes one --threshold"),
    (["--rule", "argmax", "--class-threshold", "cyst=0.3"], "--class-threshold applies to"),
    (["--rule", "per-class", "--class-weight", "cyst=2"], "--class-weight applies to"),
    (["--rule", "cost"], "needs --cost-matrix"),
    (["--rule", "weighted", "--class-weight", "cyst=-1"], "weights must be finite, >= 0"),
    (["--rule", "priority", "--class-threshold", "nope=0.3"], "NAME=VALUE with NAME in"),
])
def test_decision_flag_errors(capsys, holdout, argv, match):
    code, out, err = run(capsys, "confusion", holdout, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and match in err, err
