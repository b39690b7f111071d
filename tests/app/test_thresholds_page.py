"""Thresholds page: sliders, rules and the URL change the matrix to exactly the engine's."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard import state
from evalcore import demos
from evalcore.decisions import confusion
from tests.app.conftest import assert_clean, open_app

DIGITS = demos.load_demo("digits").select()  # the app's default: the test split


def matrix_on_page(at) -> np.ndarray:
    """The confusion-matrix table (counts) shown on the page."""
    table = next(t for t in at.table if "abstained" in t.value.columns or "zero" in t.value.columns)
    return table.value.to_numpy(dtype=np.int64)


def test_demo_renders_with_the_argmax_matrix():
    at = open_app("thresholds")
    assert at.title[0].value == "Thresholds"
    expected = confusion(DIGITS, "argmax").matrix
    assert np.array_equal(matrix_on_page(at), expected)


@pytest.mark.parametrize("t", [0.35, 0.6, 0.9])
def test_moving_the_abstain_slider_gives_the_engines_matrix(t):
    at = open_app("thresholds")
    at.radio(key=state.widget_key(state.RULE)).set_value("abstain").run()
    before = matrix_on_page(at)
    at.slider(key=state.widget_key(state.GLOBAL)).set_value(t).run()
    assert_clean(at)
    expected = confusion(DIGITS, "abstain", t)
    shown = matrix_on_page(at)
    assert shown.shape == (10, 11)  # K x (K + abstained)
    assert np.array_equal(shown, expected.matrix)
    assert not np.array_equal(shown, before) or t == 0.5


def test_rule_selector_changes_the_matrix_shape():
    at = open_app("thresholds")
    assert matrix_on_page(at).shape == (10, 10)
    at.radio(key=state.widget_key(state.RULE)).set_value("per-class").run()
    assert matrix_on_page(at).shape == (10, 11)
    at.radio(key=state.widget_key(state.RULE)).set_value("argmax").run()
    assert matrix_on_page(at).shape == (10, 10)


def test_per_class_slider_sets_one_class_threshold():
    at = open_app("thresholds")
    at.radio(key=state.widget_key(state.RULE)).set_value("per-class").run()
    at.selectbox(key=state.widget_key(state.CLASS)).set_value("three").run()
    at.slider(key=f"{state.PER_CLASS}.three").set_value(0.85).run()
    assert_clean(at)
    t = np.full(10, 0.5)
    t[3] = 0.85
    assert np.array_equal(matrix_on_page(at), confusion(DIGITS, "per-class", t).matrix)
    assert at.session_state[state.DECISION].thresholds == tuple(t)


def test_query_parameters_restore_rule_and_thresholds():
    at = open_app("thresholds", {"demo": "digits", "rule": "per-class", "t": "0.3", "ct": "three:0.8"})
    assert at.radio(key=state.widget_key(state.RULE)).value == "per-class"
    assert at.slider(key=state.widget_key(state.GLOBAL)).value == pytest.approx(0.3)
    t = np.full(10, 0.3)
    t[3] = 0.8
    assert np.array_equal(matrix_on_page(at), confusion(DIGITS, "per-class", t).matrix)
    # the whole view is written back to the URL, ready to share
    params = dict(at.query_params)
    assert params["rule"] == "per-class" and params["ct"] == "three:0.8"
    assert params["demo"] == "digits" and params["split"] == "test" and params["class"] == "zero"


def test_moving_a_slider_writes_the_url():
    at = open_app("thresholds")
    at.radio(key=state.widget_key(state.RULE)).set_value("abstain").run()
    at.slider(key=state.widget_key(state.GLOBAL)).set_value(0.72).run()
    assert dict(at.query_params)["t"] == "0.72"
    assert dict(at.query_params)["rule"] == "abstain"


def test_objective_button_sets_the_threshold_from_the_engine():
    from evalcore.decisions import Decision
    from evalcore.operating import operating_point

    at = open_app("thresholds")
    at.radio(key=state.widget_key(state.RULE)).set_value("per-class").run()
    at.selectbox(key=state.widget_key(state.CLASS)).set_value("eight").run()
    at.selectbox(key="thr.objective").set_value("f1").run()
    at.button(key="thr.objective_apply").click().run()
    assert_clean(at)
    expected = operating_point(DIGITS, "eight", "f1",
                               decision=Decision.per_class(DIGITS.class_names, 0.5))
    assert at.session_state[state.DECISION] == expected.decision
    assert at.session_state[state.DECISION].thresholds[8] == expected.threshold


def test_recall_objective_is_the_matrix_recall_under_priority():
    at = open_app("thresholds")
    at.radio(key=state.widget_key(state.RULE)).set_value("priority").run()
    at.selectbox(key=state.widget_key(state.CLASS)).set_value("nine").run()
    at.selectbox(key="thr.objective").set_value("recall").run()
    at.number_input(key="thr.objective.recall").set_value(0.99).run()
    at.button(key="thr.objective_apply").click().run()
    assert_clean(at)
    d = at.session_state[state.DECISION]
    assert d.rule == "priority" and d.order[0] == 9
    result = confusion(DIGITS, d)
    assert np.array_equal(matrix_on_page(at), result.matrix)
    recall = result.counts.row(9)["recall"]
    assert recall >= 0.99
    message = at.session_state[state.OBJECTIVE_MESSAGE]
    assert f"recall {recall:.3f}" in message and "priority" in message


def test_an_unreachable_goal_says_so_and_offers_the_priority_rule():
    at = open_app("thresholds")
    at.radio(key=state.widget_key(state.RULE)).set_value("abstain").run()
    at.selectbox(key="thr.objective").set_value("recall").run()
    at.number_input(key="thr.objective.recall").set_value(1.0).run()
    at.button(key="thr.objective_apply").click().run()
    assert_clean(at)
    assert "priority rule" in at.session_state[state.OBJECTIVE_MESSAGE]
    at.button(key="thr.use_suggestion").click().run()
    assert_clean(at)
    d = at.session_state[state.DECISION]
    assert d.rule == "priority"
    assert confusion(DIGITS, d).counts.row(0)["recall"] == 1.0


def test_the_optimiser_sets_every_class_and_says_where_it_was_tuned():
    at = open_app("thresholds")
    at.radio(key=state.widget_key(state.RULE)).set_value("per-class").run()
    at.button(key="thr.opt.run").click().run()
    assert_clean(at)
    d = at.session_state[state.DECISION]
    from evalcore.optimise import optimise

    tune = demos.load_demo("digits").select(split="validation")
    expected = optimise(tune, confusion(DIGITS, "per-class", 0.5).decision, "macro-f1")
    assert d == expected.decision
    assert np.array_equal(matrix_on_page(at), confusion(DIGITS, d).matrix)
    text = " ".join(i.value for i in at.info)
    assert "split 'validation'" in text and "On the split shown ('test')" in text


def test_weighted_and_cost_rules_count_like_the_engine():
    from evalcore.decisions import Decision

    at = open_app("thresholds")
    at.radio(key=state.widget_key(state.RULE)).set_value("weighted").run()
    at.selectbox(key=state.widget_key(state.CLASS)).set_value("one").run()
    at.number_input(key=f"{state.WEIGHT}.one").set_value(3.0).run()
    assert_clean(at)
    w = np.ones(10)
    w[1] = 3.0
    assert np.array_equal(matrix_on_page(at),
                          confusion(DIGITS, Decision.weighted(DIGITS.class_names, w)).matrix)
    at.radio(key=state.widget_key(state.RULE)).set_value("cost").run()
    at.selectbox(key="thr.cost_class").set_value("eight").run()
    at.number_input(key="thr.cost_x").set_value(4.0).run()
    at.button(key="thr.cost_missed").click().run()
    assert_clean(at)
    costs = 1 - np.eye(10)
    costs[8, :] = 4.0
    costs[8, 8] = 0.0
    expected = confusion(DIGITS, Decision.cost(DIGITS.class_names, costs))
    assert np.array_equal(matrix_on_page(at), expected.matrix)
    assert dict(at.query_params)["rule"] == "cost"


def test_a_priority_url_restores_the_decision():
    at = open_app("thresholds", {"demo": "digits", "rule": "priority",
                                 "ct": ["nine:0.05", "three:0.2"]})
    d = at.session_state[state.DECISION]
    assert d.rule == "priority" and d.order == (9, 3)
    assert np.array_equal(matrix_on_page(at), confusion(DIGITS, d).matrix)
    assert at.query_params.get_all("ct") == ["nine:0.05", "three:0.2"] if hasattr(
        at.query_params, "get_all") else True


def test_multilabel_shows_per_label_counts_and_no_matrix():
    at = open_app("thresholds")
    at.sidebar.selectbox(key=state.DEMO).set_value("multilabel").run()
    assert_clean(at)
    p = demos.load_demo("multilabel").select()
    expected = confusion(p, "multilabel", 0.5).counts
    table = next(t for t in at.table if "TP" in t.value.columns)
    assert table.value["TP"].tolist() == expected.tp.tolist()
    assert table.value["FP"].tolist() == expected.fp.tolist()
    assert not any("abstained" in t.value.columns for t in at.table)


def test_loading_a_thresholds_file_restores_the_view():
    from evalcore.deploy import spec_from_confusion

    t = np.linspace(0.25, 0.75, 10)
    spec = spec_from_confusion(DIGITS, confusion(DIGITS, "per-class", t))
    at = open_app("thresholds")
    at.file_uploader(key="thr.spec_upload").set_value(
        ("thresholds.json", spec.to_json().encode(), "application/json")).run()
    assert_clean(at)
    assert at.radio(key=state.widget_key(state.RULE)).value == "per-class"
    assert np.array_equal(matrix_on_page(at), confusion(DIGITS, "per-class", t).matrix)
    assert [b for b in at.get("download_button") if b.proto.label.startswith("Download thresholds")]


def test_a_thresholds_file_for_other_classes_is_refused():
    from evalcore.deploy import spec_from_confusion

    other = demos.load_demo("binary").select()
    spec = spec_from_confusion(other, confusion(other, "binary", 0.3))
    at = open_app("thresholds")
    at.file_uploader(key="thr.spec_upload").set_value(
        ("t.json", spec.to_json().encode(), "application/json")).run()
    assert_clean(at)
    assert any("is for classes" in e.value for e in at.error)
    assert np.array_equal(matrix_on_page(at), confusion(DIGITS, "argmax").matrix)
