"""Thresholds files: round trip, apply_thresholds equals the counted decision, CLI reproduction."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evalcore import InputError, Predictions, apply_thresholds, demos, load_spec
from evalcore.cli import main
from evalcore.decisions import ABSTAINED, Decision, confusion
from evalcore.deploy import SCHEMA, ThresholdSpec, parse_spec, spec_confusion, spec_from_confusion
from evalcore.predictions import logit


def digits():
    return demos.load_demo("digits").select()


@pytest.mark.parametrize("rule, t", [("argmax", 0.5), ("abstain", 0.7),
                                     ("per-class", np.linspace(0.2, 0.8, 10))])
def test_round_trip_reproduces_the_matrix(rule, t):
    p = digits()
    decision = confusion(p, rule, t)
    spec = parse_spec(spec_from_confusion(p, decision).to_json().encode())
    assert spec.rule == rule and spec.classes == p.class_names
    again = spec_confusion(p, spec)
    assert np.array_equal(again.matrix, decision.matrix)


def test_apply_thresholds_gives_the_counted_predictions():
    p = digits()
    t = np.linspace(0.3, 0.7, 10)
    decision = confusion(p, "per-class", t)
    spec = spec_from_confusion(p, decision)
    predicted = apply_thresholds(p.scores, spec)
    labels = (*p.class_names, ABSTAINED)
    counted = np.zeros_like(decision.matrix)
    for truth, guess in zip(p.y_true, predicted):
        counted[truth, labels.index(guess)] += 1
    assert np.array_equal(counted, decision.matrix)


def test_logit_multilabel_spec_holds_logits_and_applies_to_raw_outputs():
    rng = np.random.default_rng(1)
    y = rng.random((200, 3)) < 0.4
    raw = rng.normal(size=(200, 3)) + 2 * (y - 0.5)
    p = Predictions.from_arrays(y.astype(int), raw, class_names=["a", "b", "c"])
    decision = confusion(p, "multilabel", [0.3, 0.5, 0.9])
    spec = spec_from_confusion(p, decision)
    stored = spec.to_dict()["decision"]["thresholds"]
    assert stored["c"]["logit"] == pytest.approx(logit(0.9))
    decided = apply_thresholds(raw, parse_spec(spec.to_json().encode()))
    assert np.array_equal(decided.sum(axis=0), decision.counts.tp + decision.counts.fp)


def test_bad_specs_are_input_errors(tmp_path):
    for text in (b"not json", b"{}", json.dumps({"schema": SCHEMA, "rule": "nope"}).encode()):
        with pytest.raises(InputError):
            parse_spec(text)
    spec = spec_from_confusion(digits(), confusion(digits(), "abstain", 0.5))
    other = demos.load_demo("binary").select()
    with pytest.raises(InputError, match="for classes"):
        spec_confusion(other, spec)
    with pytest.raises(InputError, match="cannot read"):
        load_spec(tmp_path / "missing.json")


def test_cli_saves_and_reproduces(tmp_path, capsys):
    path = tmp_path / "spec.json"
    assert main(["confusion", "--demo", "digits", "--rule", "per-class", "--threshold", "0.4",
                 "--class-threshold", "three=0.8", "--save-thresholds", str(path), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert isinstance(ThresholdSpec.from_dict(json.loads(path.read_text())), ThresholdSpec)
    assert main(["confusion", "--demo", "digits", "--thresholds", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["matrix"] == first["matrix"]
    assert main(["confusion", "--demo", "binary", "--thresholds", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evalcore: error: ") and err.count("\n") == 1


@pytest.mark.parametrize("decision", [
    lambda names: Decision.priority(names, {"eight": 0.1, "three": 0.3}),
    lambda names: Decision.weighted(names, {"one": 2.5}),
    lambda names: Decision.cost(names, np.column_stack([1 - np.eye(10), np.full(10, 0.3)])),
    lambda names: Decision.abstain(names, 0.7),
])
def test_every_rule_round_trips_through_the_file_and_applies_as_counted(decision):
    p = digits()
    d = decision(p.class_names)
    counted = confusion(p, d)
    spec = parse_spec(spec_from_confusion(p, counted).to_json().encode())
    assert spec.decision == d and spec.to_dict()["schema"] == SCHEMA
    predicted = apply_thresholds(p.scores, spec)
    labels = (*p.class_names, ABSTAINED)
    again = np.zeros((10, len(counted.predicted_labels)), dtype=np.int64)
    for truth, guess in zip(p.y_true, predicted):
        again[truth, labels.index(guess)] += 1
    assert np.array_equal(again, counted.matrix)


def test_per_row_predictions_table():
    from evalcore.deploy import predictions_table

    p = digits()
    d = Decision.priority(p.class_names, {"eight": 0.1})
    ids = np.array([f"s{i}" for i in range(p.n_samples)], dtype=object)
    table = predictions_table(p, d, ids=ids)
    assert list(table.columns) == ["id", "true", "predicted", "rule"]
    assert table["id"].tolist() == ids.tolist()
    assert table["true"].tolist() == np.asarray(p.class_names)[p.y_true].tolist()
    from evalcore.decisions import predict

    assert table["predicted"].tolist() == np.asarray(p.class_names)[predict(p, d)].tolist()
    assert set(table["rule"]) == {"priority"}
    y = np.array([[1, 0], [1, 1], [0, 0]])
    m = Predictions.from_arrays(y, np.array([[0.9, 0.2], [0.6, 0.7], [0.1, 0.1]]),
                                class_names=["a", "b"])
    labels = predictions_table(m, Decision.multilabel(m.class_names, 0.5))
    assert labels["true"].tolist() == ["a", "a|b", ""]
    assert labels["predicted"].tolist() == ["a", "a|b", ""]
