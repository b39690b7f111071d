"""Curves page: ROC and PR charts of the chosen classes, averages, split overlays."""

from __future__ import annotations

import json

from dashboard import state
from tests.app.conftest import assert_clean, open_app


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_roc_pr_and_distribution_charts_render_for_the_demo():
    at = open_app("curves")
    specs = charts(at)
    assert len(specs) == 3  # ROC, PR, score distribution
    roc_names = [t.get("name", "") for t in specs[0]["data"]]
    assert any(n.startswith("test: zero") for n in roc_names)  # the split on every trace
    assert any("micro" in n for n in roc_names) and any("macro" in n for n in roc_names)


def test_toggling_classes_and_overlaying_splits():
    at = open_app("curves")
    at.multiselect(key=state.widget_key(state.SHOWN)).set_value(["three", "eight"]).run()
    assert_clean(at)
    names = [t.get("name", "") for t in charts(at)[0]["data"]]
    assert any(n.startswith("test: three") for n in names)
    assert not any(n.startswith("test: zero") for n in names)
    at.checkbox(key=state.OVERLAY).check().run()
    assert_clean(at)
    names = [t.get("name", "") for t in charts(at)[0]["data"]]
    assert any("train" in n for n in names) and any("validation" in n for n in names)


def test_every_demo_has_curves():
    at = open_app("curves")
    for demo in ("multilabel", "binary"):
        at.sidebar.selectbox(key=state.DEMO).set_value(demo).run()
        assert_clean(at)
        assert len(charts(at)) == 3
