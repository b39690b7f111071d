"""CLI: summary --ci, compare, calibration and report, against the engine's functions."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from evalcore import compute_curves, demos
from evalcore.calibration import calibration
from evalcore.cli import main
from evalcore.io import load
from evalcore.stats import auc_intervals, compare_auc
from _cli import run_json


def test_summary_ci_has_delong_and_bootstrap_intervals(capsys):
    out = run_json(capsys, "summary", "--demo", "digits", "--ci", "--resamples", "200")
    curves = compute_curves(demos.load_demo("digits").select())
    for interval, name in zip(auc_intervals(curves), curves.names):
        assert out["per_class"][name]["roc_auc_ci"] == [interval.low, interval.high]
        low, high = out["per_class"][name]["average_precision_ci"]
        assert low <= curves.classes[curves.index(name)].average_precision <= high
    assert out["accuracy_ci"][0] <= out["accuracy"] <= out["accuracy_ci"][1]
    assert set(out["roc_auc_ci"]) == {"micro", "macro"}
    again = run_json(capsys, "summary", "--demo", "digits", "--ci", "--resamples", "200")
    assert again == out  # seeded


def test_calibration_json_contract(capsys):
    out = run_json(capsys, "calibration", "--demo", "digits", "--bins", "8", "--strategy", "quantile")
    expected = calibration(demos.load_demo("digits").select(), bins=8, strategy="quantile")
    assert {"ece_top_label", "ece_classwise", "mce_top_label", "brier", "per_class"} <= set(out)
    assert out["ece_top_label"] == pytest.approx(expected.ece_top_label)
    assert out["brier"] == pytest.approx(expected.brier)


@pytest.fixture
def two_files(tmp_path):
    frame = pd.read_csv(demos.demo_path("binary"))
    rng = np.random.default_rng(2)
    other = frame.copy()
    other["p_malignant"] = np.clip(other["p_malignant"] + rng.normal(scale=0.2, size=len(other)), 0, 1)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    frame.to_csv(a, index=False)
    other.to_csv(b, index=False)
    return a, b


def test_compare_two_files(capsys, two_files):
    a, b = two_files
    out = run_json(capsys, "compare", a, b, "--resamples", "100")
    row = out["per_class"]["malignant"]
    assert {"roc_auc_a", "roc_auc_b", "difference", "p_value"} <= set(row)
    expected = compare_auc(load(a).select(), load(b).select(), 0)
    assert row["p_value"] == pytest.approx(expected.p_value)
    assert out["models"] == [str(a), str(b)]


def test_compare_needs_two_models(capsys, two_files):
    code = main(["compare", str(two_files[0])])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("evalcore: error: ") and err.count("\n") == 1


def test_report_writes_a_self_contained_html_and_json(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "--demo", "digits", "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}")
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and "Plotly" in text
    assert "src=\"http" not in text and "<script src=" not in text  # nothing fetched
    numbers = run_json(capsys, "report", "--demo", "digits")
    assert numbers["decision"]["rule"] == "argmax" and "calibration" in numbers


def test_report_of_a_million_rows_by_ten_classes_stays_under_10_mb(tmp_path):
    from evalcore import Predictions
    from evalcore.decisions import confusion
    from evalcore.report import render_report

    rng = np.random.default_rng(0)
    n, k = 1_000_000, 10
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k)).astype(np.float32)
    z[np.arange(n), y] += 2
    e = np.exp(z)
    p = Predictions.from_arrays(y, e / e.sum(axis=1, keepdims=True))
    html = render_report(p, compute_curves(p), confusion(p), provenance={"file": "big"},
                         calibration=calibration(p))
    assert len(html.encode()) < 10 * 2**20
