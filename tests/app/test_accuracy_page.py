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


def test_auc_versus_precision_table_counts_false_positives():
    at = open_app("accuracy")
    frame = at.dataframe[1].value
    curves_p = demos.load_demo("digits").select()
    from evalcore import compute_curves

    counts = compute_curves(curves_p).counts_at(0.5)
    assert frame["false positives"].tolist() == counts.fp.tolist()
    assert frame["negatives"].sum() == 9 * curves_p.n_samples
