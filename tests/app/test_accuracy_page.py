"""Accuracy explained: the figures shown equal accuracy_variants (checked against Keras in
tests/core/test_accuracy_variants.py); the logit explanation appears for logit outputs."""

from __future__ import annotations

import pytest

from dashboard import state
from evalcore import demos
from evalcore.decisions import accuracy_variants
from tests.app.conftest import assert_clean, open_app


def values(at) -> dict[str, float]:
    frame = at.dataframe[0].value
    return dict(zip(frame["metric"], frame["value"]))


def test_multilabel_logits_demo_explains_the_threshold_at_zero():
    at = open_app("accuracy")
    at.sidebar.selectbox(key=state.DEMO).set_value("multilabel").run()
    assert_clean(at)
    expected = accuracy_variants(demos.load_demo("multilabel").select(), 0.5)
    shown = values(at)
    assert shown["Keras `metrics=['accuracy']`"] == pytest.approx(expected.keras_accuracy)
    assert shown["Subset accuracy (exact match)"] == pytest.approx(expected.subset_accuracy)
    assert shown["Hamming loss"] == pytest.approx(expected.hamming_loss)
    text = " ".join(m.value for m in at.markdown)
    assert "0 on the logits" in text and "categorical accuracy" in text


def test_the_slider_moves_the_binary_accuracy():
    at = open_app("accuracy")
    at.sidebar.selectbox(key=state.DEMO).set_value("multilabel").run()
    at.slider(key=state.widget_key(state.GLOBAL)).set_value(0.8).run()
    expected = accuracy_variants(demos.load_demo("multilabel").select(), 0.8)
    key = next(k for k in values(at) if k.startswith("Binary accuracy at"))
    assert values(at)[key] == pytest.approx(expected.binary_accuracy)


def test_auc_versus_precision_table_counts_the_deployed_decision():
    # the seed's question: a classification report of the argmax next to per-class AUCs
    import numpy as np
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    at = open_app("accuracy")
    frame = at.dataframe[1].value
    p = demos.load_demo("digits").select()
    predicted = p.scores.argmax(axis=1)
    precision, recall, _, _ = precision_recall_fscore_support(p.y_true, predicted,
                                                              labels=range(10))
    np.testing.assert_allclose(frame["precision (argmax)"], precision, rtol=1e-12)
    np.testing.assert_allclose(frame["recall (argmax)"], recall, rtol=1e-12)
    m = confusion_matrix(p.y_true, predicted)
    assert frame["false positives (argmax)"].tolist() == (m.sum(axis=0) - np.diag(m)).tolist()
    assert frame["negatives"].sum() == 9 * p.n_samples
    assert "threshold" not in frame.columns  # argmax has none: no one-vs-rest column at 0.5


def test_under_a_threshold_rule_the_one_vs_rest_columns_sit_beside_the_rules():
    import numpy as np

    from evalcore import compute_curves
    from evalcore.decisions import confusion

    at = open_app("accuracy", {"demo": "digits", "rule": "per-class", "t": "0.3"})
    frame = at.dataframe[1].value
    p = demos.load_demo("digits").select()
    one = compute_curves(p).counts_at(0.3)
    own = confusion(p, "per-class", 0.3).counts
    np.testing.assert_allclose(frame["one-vs-rest recall"], one.recall, rtol=1e-12)
    np.testing.assert_allclose(frame["recall (per-class)"], own.recall, rtol=1e-12)
