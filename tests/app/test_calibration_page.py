"""Calibration page: the metrics shown equal evalcore.calibration (itself tested against
scikit-learn); bins and strategy controls change them."""

from __future__ import annotations

from evalcore import demos
from evalcore.calibration import calibration
from tests.app.conftest import assert_clean, open_app


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_metrics_follow_bins_and_strategy():
    at = open_app("overview")
    at.switch_page("views/calibration.py").run()
    assert_clean(at)
    p = demos.load_demo("digits").select()
    expected = calibration(p)
    assert metrics(at)["ECE (top label)"] == f"{expected.ece_top_label:.4f}"
    assert metrics(at)["Brier score"] == f"{expected.brier:.4f}"
    at.slider(key="cal.bins").set_value(5).run()
    at.radio(key="cal.strategy").set_value("quantile").run()
    expected = calibration(p, bins=5, strategy="quantile")
    assert metrics(at)["ECE (class-wise)"] == f"{expected.ece_classwise:.4f}"
    assert at.dataframe[0].value["ECE"].tolist() == [c.ece for c in expected.classes]


def test_multilabel_says_why_there_is_no_top_label():
    at = open_app("overview")
    at.sidebar.selectbox(key="source.demo").set_value("multilabel").run()
    at.switch_page("views/calibration.py").run()
    assert_clean(at)
    assert metrics(at)["ECE (top label)"] == "n/a"
    assert any("top label" in c.value for c in at.caption)
