"""Overview page: the per-class table and its averages equal the engine's (and scikit-learn's)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, precision_recall_fscore_support, roc_auc_score

from dashboard import state
from evalcore import demos
from evalcore.decisions import confusion
from tests.app.conftest import open_app

DIGITS = demos.load_demo("digits").select()


def table(at):
    return at.dataframe[0].value.set_index("class")


def averages(at):
    return at.dataframe[1].value.set_index("average")


def test_per_class_table_matches_scikit_learn_under_argmax():
    at = open_app()
    frame = table(at)
    y, s = DIGITS.y_true, DIGITS.scores
    for c, name in enumerate(DIGITS.class_names):
        assert frame.loc[name, "ROC AUC"] == pytest.approx(roc_auc_score(y == c, s[:, c]), abs=1e-12)
        assert frame.loc[name, "AP"] == pytest.approx(average_precision_score(y == c, s[:, c]), abs=1e-12)
    precision, recall, f1, support = precision_recall_fscore_support(y, s.argmax(axis=1))
    assert np.allclose(frame["precision"].iloc[:10], precision, atol=1e-12)
    assert np.allclose(frame["recall"].iloc[:10], recall, atol=1e-12)
    assert np.allclose(frame["F1"].iloc[:10], f1, atol=1e-12)
    assert frame["support"].iloc[:10].tolist() == support.tolist()
    assert "threshold" not in frame.columns  # argmax has none
    means = averages(at)
    for avg in ("micro", "macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(y, s.argmax(axis=1), average=avg)
        assert means.loc[avg, ["precision", "recall", "F1"]].tolist() == pytest.approx([p, r, f], abs=1e-12)
    assert means.loc["macro", "ROC AUC"] == pytest.approx(
        roc_auc_score(y, s, multi_class="ovr", average="macro"), abs=1e-12)


def test_accuracy_follows_the_rule_chosen_on_the_thresholds_page():
    at = open_app("thresholds")
    at.radio(key=state.widget_key(state.RULE)).set_value("abstain").run()
    at.slider(key=state.widget_key(state.GLOBAL)).set_value(0.7).run()
    at.switch_page("views/overview.py").run()
    expected = confusion(DIGITS, "abstain", 0.7)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy (abstain)"] == f"{expected.accuracy:.4f}"
    assert metrics["Coverage"] == f"{expected.coverage:.2%}"
    recall = table(at)["recall"].iloc[:10].to_numpy()
    assert np.allclose(recall, expected.counts.recall, atol=1e-12)


def test_delong_intervals_bootstrap_button_and_report_download():
    from evalcore import compute_curves
    from evalcore.stats import auc_intervals

    at = open_app()
    expected = auc_intervals(compute_curves(DIGITS))
    shown = table(at)["AUC 95% CI"].iloc[:10].tolist()
    assert shown == [f"[{i.low:.4f}, {i.high:.4f}]" for i in expected]
    at.button(key="overview.bootstrap_button").click().run()
    assert "AP 95% CI" in table(at).columns
    from evalcore.stats import rate_intervals

    rates = rate_intervals(DIGITS, "argmax", np.full(10, 0.5))
    low, high = rates.bounds("eight", "recall")
    assert table(at).loc["eight", "recall 95% CI"] == f"[{low:.4f}, {high:.4f}]"
    at.button(key="overview.report_build").click().run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download the report (HTML)" in labels and "Per-class metrics (CSV)" in labels
