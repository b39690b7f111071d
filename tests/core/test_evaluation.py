"""The front door, ``evalcore.evaluate``: arrays, a DataFrame in the file layout and a path give
the figures scikit-learn gives; classes by name or index with one clear error; plots, the
report and the notebook view are real."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    average_precision_score, f1_score, precision_score, recall_score, roc_auc_score,
)

import evalcore
from evalcore import InputError, evaluate
from evalcore.calibration import calibration


def _multiclass(n=400, seed=0):
    rng = np.random.default_rng(seed)
    scores = rng.dirichlet(np.ones(3), n)
    y = (rng.random(n)[:, None] > np.cumsum(scores, axis=1)).sum(axis=1).clip(0, 2)
    return y, scores


def test_arrays_give_scikit_learns_figures_by_name_or_index():
    y, s = _multiclass()
    names = ["cat", "dog", "eel"]
    ev = evaluate(np.array(names)[y], s, class_names=names)
    assert ev.roc_auc.macro == pytest.approx(roc_auc_score(y, s, multi_class="ovr"), abs=1e-12)
    assert ev.roc_auc.ovo_macro == pytest.approx(roc_auc_score(y, s, multi_class="ovo"),
                                                 abs=1e-12)
    assert ev.curve("dog").roc_auc == ev.curve(1).roc_auc == pytest.approx(
        roc_auc_score(y == 1, s[:, 1]), abs=1e-12)
    assert ev.average_precision.macro == pytest.approx(
        np.mean([average_precision_score(y == j, s[:, j]) for j in range(3)]), abs=1e-12)
    table = ev.summary()
    assert list(table.index) == names + ["micro", "macro", "weighted"]
    predicted = s.argmax(axis=1)
    for avg in ("micro", "macro", "weighted"):
        assert table.loc[avg, "precision"] == pytest.approx(
            precision_score(y, predicted, average=avg), abs=1e-12)
        assert table.loc[avg, "recall"] == pytest.approx(
            recall_score(y, predicted, average=avg), abs=1e-12)
        assert table.loc[avg, "f1"] == pytest.approx(
            f1_score(y, predicted, average=avg), abs=1e-12)
    assert table.loc["eel", "support"] == int((y == 2).sum())
    with pytest.raises(InputError) as error:
        ev.curve("dgo")
    assert str(error.value) == "expected a class name or index of (cat, dog, eel), got 'dgo'"
    with pytest.raises(InputError, match="got 3"):
        ev.operating_point(3, "recall>=0.9")


def test_binary_multilabel_and_logits():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    logits = rng.normal(size=300) + y
    ev = evaluate(y, logits, score_kind="logit")
    assert ev.task == "binary" and ev.predictions.score_kind == "logit"
    assert ev.roc_auc.macro == pytest.approx(roc_auc_score(y, logits), abs=1e-12)
    assert list(ev.summary().index) == ["1"]
    point = ev.operating_point(0, "recall>=0.9")
    assert point.counts.recall[0] >= 0.9
    labels = rng.integers(0, 2, (300, 4))
    scores = rng.random((300, 4))
    ml = evaluate(labels, scores, task="multilabel")
    assert ml.roc_auc.micro == pytest.approx(roc_auc_score(labels, scores, average="micro"),
                                             abs=1e-12)
    assert ml.confusion().multilabel is not None


def test_a_dataframe_and_a_path_are_read_as_files_are(tmp_path):
    y, s = _multiclass(seed=2)
    frame = pd.DataFrame({"label": np.array(["a", "b", "c"])[y], "prob_a": s[:, 0],
                          "prob_b": s[:, 1], "prob_c": s[:, 2],
                          "split": np.where(np.arange(y.size) % 4 == 0, "test", "train")})
    test = frame.split == "test"
    ev = evaluate(frame)  # the test split by default, as the CLI
    assert ev.predictions.n_samples == int(test.sum())
    assert ev.roc_auc.macro == pytest.approx(
        roc_auc_score(y[test], s[test], multi_class="ovr"), abs=1e-12)
    assert evaluate(frame, split="train").predictions.n_samples == int((~test).sum())
    frame.to_csv(tmp_path / "preds.csv", index=False)
    assert evaluate(tmp_path / "preds.csv").roc_auc.macro == ev.roc_auc.macro
    assert evaluate(str(tmp_path / "preds.csv")).roc_auc.macro == ev.roc_auc.macro
    with pytest.raises(InputError, match="not of arrays"):
        evaluate(y, s, split="test")
    with pytest.raises(InputError, match="give the scores"):
        evaluate(y)
    with pytest.raises(InputError, match="no split 'dev'"):
        evaluate(frame, split="dev")


def test_plots_report_intervals_and_the_notebook_view(tmp_path):
    y, s = _multiclass(seed=3)
    ev = evaluate(y, s, class_names=["cat", "dog", "eel"])
    roc, pr = ev.plot_roc(), ev.plot_pr()
    assert {"cat", "dog", "eel"} <= {t.name.split(" ")[0] for t in roc.data if t.name}
    assert len(pr.data) >= 3
    heat = ev.plot_confusion("argmax")
    assert np.array_equal(np.asarray(heat.data[0].z, dtype=float),
                          ev.confusion("argmax").matrix.astype(float))
    size = ev.report(tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    assert size == len(text.encode()) and "cat" in text and "<html" in text.lower()
    ci = ev.intervals(n_resamples=50)
    low, high = ci.of("dog")[0].bounds
    assert ci.to_dict()["per_class"]["dog"]["roc_auc_ci"] == [low, high]
    assert low < ev.curve("dog").roc_auc < high
    assert ev.calibration(bins=5).to_dict() == calibration(ev.predictions, bins=5).to_dict()
    html = ev._repr_html_()
    assert "<table" in html and "macro" in html and "multiclass" in html
    assert repr(ev).startswith("Evaluation(multiclass, 3 classes, 400 samples")


def test_the_package_exports_what_it_lists():
    for name in evalcore.__all__:
        assert hasattr(evalcore, name), name
    assert {"evaluate", "Evaluation"} <= set(evalcore.__all__)


def test_compute_curves_takes_labels_and_scores_too():
    from evalcore import Predictions, compute_curves

    y, s = _multiclass(seed=4)
    direct = compute_curves(y, s)
    assert direct.to_dict() == compute_curves(Predictions.from_arrays(y, s)).to_dict()
    with pytest.raises(InputError, match="compute_curves"):
        compute_curves(y)
    with pytest.raises(InputError, match="the scores are in the Predictions"):
        compute_curves(Predictions.from_arrays(y, s), s)


def test_every_public_function_and_class_has_a_runnable_example():
    """Every module-level public name of evalcore (the CLI's entry point apart: its help is
    --help) carries a doctest, which make test runs."""
    import importlib
    import inspect
    import pkgutil

    missing = []
    for info in pkgutil.walk_packages(evalcore.__path__, "evalcore."):
        if info.name == "evalcore.cli":
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if obj.__module__ == module.__name__ and ">>>" not in (obj.__doc__ or ""):
                missing.append(f"{info.name}.{name}")
    assert not missing, missing
    for name in evalcore.__all__:
        obj = getattr(evalcore, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert ">>>" in (obj.__doc__ or ""), f"evalcore.{name} has no example"


def test_the_decisions_averages_are_in_its_json_and_the_cli(tmp_path):
    import json
    import subprocess
    import sys

    y, s = _multiclass(seed=6)
    predicted = s.argmax(axis=1)
    out = evaluate(y, s).confusion("argmax").to_dict()["averages"]
    for avg in ("micro", "macro", "weighted"):
        assert out[avg]["f1"] == pytest.approx(f1_score(y, predicted, average=avg), abs=1e-12)
    frame = pd.DataFrame({"label": y, **{f"prob_{j}": s[:, j] for j in range(3)}})
    frame.to_csv(tmp_path / "p.csv", index=False)
    run = subprocess.run([sys.executable, "-m", "evalcore.cli", "confusion", str(tmp_path / "p.csv"),
                          "--json"], capture_output=True, text=True, timeout=120)
    assert json.loads(run.stdout)["averages"] == out
    text = subprocess.run([sys.executable, "-m", "evalcore.cli", "confusion",
                           str(tmp_path / "p.csv")], capture_output=True, text=True,
                          timeout=120).stdout
    macro = next(line for line in text.splitlines() if line.startswith("macro"))
    assert f"{out['macro']['recall']:.4f}" in macro


def test_figures_take_classes_by_name_or_index():
    y, s = _multiclass(seed=7)
    ev = evaluate(y, s, class_names=["cat", "dog", "eel"])
    by_name = {t.name for t in ev.plot_roc(classes=["dog"], show_micro=False,
                                           show_macro=False).data if t.name}
    by_index = {t.name for t in ev.plot_roc(classes=[1], show_micro=False,
                                            show_macro=False).data if t.name}
    assert by_name == by_index and any(n.startswith("dog") for n in by_name)
    assert not any(n.startswith("cat") for n in by_name)
    with pytest.raises(InputError, match="got 'dgo'"):
        ev.plot_pr(classes=["dgo"])
