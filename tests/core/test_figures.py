"""evalcore.figures: figures draw the engine's precomputed curves and counts exactly, map
selections back to (class, threshold), and serialise to strict, small JSON."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from evalcore import figures as F
from evalcore.curves import DEFAULT_PLOT_POINTS, CurveSet, compute_curves
from evalcore.decisions import confusion
from evalcore.demos import load_demo
from evalcore.errors import InputError
from evalcore.predictions import Predictions

DEMOS = ("digits", "multilabel", "binary")


@functools.lru_cache(maxsize=None)
def _demo(name: str) -> tuple[Predictions, CurveSet]:
    p = load_demo(name).select()
    return p, compute_curves(p)


@functools.lru_cache(maxsize=None)
def _demo_split(name: str, split: str) -> CurveSet:
    return compute_curves(load_demo(name).predictions.select(split=split))


def _softmax_case(n: int, k: int, seed: int = 0, dtype=np.float64) -> Predictions:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k))
    z[np.arange(n), y] += 1.5
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return Predictions.from_arrays(y, (e / e.sum(axis=1, keepdims=True)).astype(dtype))


@functools.lru_cache(maxsize=None)
def _large() -> tuple[Predictions, CurveSet]:
    p = _softmax_case(200_000, 5, seed=1)
    return p, compute_curves(p)


def _strict_json(fig) -> str:
    """fig.to_json(), checked to be strict JSON (no NaN / Infinity tokens)."""
    text = fig.to_json()

    def refuse(token):
        raise ValueError(f"non-strict JSON token {token}")

    json.loads(text, parse_constant=refuse)
    return text


def _class_traces(fig) -> list:
    return [t for t in fig.data if isinstance(t.meta, int)]


def _thresholds(curves: CurveSet) -> np.ndarray:
    """Per-class thresholds that fall inside each class' scores (non-trivial counts)."""
    return np.array([np.median(pc.thresholds[1:]) for pc in curves.plot])


# ---------------------------------------------------------------------------------------------
# every figure, every task


@pytest.mark.parametrize("name", DEMOS)
def test_every_figure_builds_and_serialises(name):
    p, curves = _demo(name)
    counts = curves.counts_at(_thresholds(curves))
    extra = [("train", _demo_split(name, "train")), ("validation", _demo_split(name, "validation"))]
    figures = [
        F.roc_figure(curves, counts=counts, extra=extra),
        F.pr_figure(curves, counts=counts, extra=extra),
        F.threshold_metrics_figure(curves, 0, threshold=0.5),
        F.score_distribution_figure(p, 0, threshold=0.5),
    ]
    if p.task != "multilabel":
        decision = confusion(p)
        figures += [F.confusion_figure(decision.matrix, decision.labels,
                                       decision.predicted_labels, normalize=norm)
                    for norm in (None, "true", "pred")]
    for fig in figures:
        text = _strict_json(fig)
        layout = json.loads(text)["layout"]
        assert layout["uirevision"] == F.UIREVISION
        assert fig.layout.template.layout.plot_bgcolor == "white"  # plotly_white


@pytest.mark.parametrize("name", DEMOS)
def test_roc_traces(name):
    _, curves = _demo(name)
    fig = F.roc_figure(curves)
    k = len(curves.names)
    traces = _class_traces(fig)
    assert [t.meta for t in traces] == list(range(k))
    for c, t in enumerate(traces):
        assert t.name.startswith(curves.names[c]) and "(AUC " in t.name
        assert f"{curves.classes[c].roc_auc:.3f}" in t.name
        assert t.line.color == F.class_color(c)
        assert "markers" in t.mode  # plotly.js selects nothing on a lines-only trace
        # hover and select reach every point, yet no SVG marker is drawn per point
        assert t.marker.opacity == 0 and t.marker.maxdisplayed == F.CURVE_MARKERS_DRAWN == 1
        np.testing.assert_allclose(t.x, curves.plot[c].fpr, rtol=1e-6)
        np.testing.assert_allclose(t.y, curves.plot[c].tpr, rtol=1e-6)
    names = [t.name for t in fig.data]
    assert any(n.startswith("chance") for n in names)
    chance = next(t for t in fig.data if t.name.startswith("chance"))
    assert chance.line.dash == "dash"
    has_averages = k > 1
    assert any(n.startswith("micro-average (AUC") for n in names) == has_averages
    assert any(n.startswith("macro-average (mean AUC") for n in names) == has_averages
    assert fig.layout.xaxis.title.text == "False positive rate"
    assert fig.layout.yaxis.title.text == "True positive rate"
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        lo, hi = axis.range
        assert -0.05 < lo <= 0 and 1 <= hi < 1.05


def test_roc_options_and_classes():
    _, curves = _demo("digits")
    fig = F.roc_figure(curves, classes=[2, 7], show_micro=False, show_macro=False)
    assert [t.meta for t in _class_traces(fig)] == [2, 7]
    assert not any("average" in t.name for t in fig.data)
    assert [t.line.color for t in _class_traces(fig)] == [F.class_color(2), F.class_color(7)]
    for bad in ([10], [-1], ["cow"]):
        with pytest.raises(InputError, match="expected a class name or index of"):
            F.roc_figure(curves, classes=bad)
    named = F.roc_figure(curves, classes=["two", "seven"], show_micro=False, show_macro=False)
    assert [t.meta for t in _class_traces(named)] == [2, 7]  # a class by name, as by index
    empty = F.roc_figure(curves, classes=[], counts=curves.counts_at(0.5))
    _strict_json(empty)


@pytest.mark.parametrize("name", DEMOS)
def test_customdata_holds_thresholds_and_counts(name):
    _, curves = _demo(name)
    for fig, first in ((F.roc_figure(curves), 0), (F.pr_figure(curves), 1)):
        for t in _class_traces(fig):
            pc = curves.plot[t.meta]
            cd = np.asarray(t.customdata, dtype=np.float64)
            np.testing.assert_array_equal(cd[:, 0], pc.thresholds[first:])
            np.testing.assert_array_equal(cd[:, 1], pc.tp[first:])
            np.testing.assert_array_equal(cd[:, 2], pc.fp[first:])
            np.testing.assert_array_equal(cd[:, 3], pc.n_pos - pc.tp[first:])
            np.testing.assert_array_equal(cd[:, 4], pc.n_neg - pc.fp[first:])
            for word in ("threshold", "TP", "FP", "FN", "TN"):
                assert word in t.hovertemplate
            assert "customdata[0]" in t.hovertemplate and "customdata[4]" in t.hovertemplate


def test_pr_traces():
    _, curves = _demo("digits")
    fig = F.pr_figure(curves)
    traces = _class_traces(fig)
    assert [t.meta for t in traces] == list(range(len(curves.names)))
    for c, t in enumerate(traces):
        pc = curves.plot[c]
        assert np.isnan(pc.precision[0])  # the +inf point, dropped
        assert len(t.x) == len(pc.thresholds) - 1
        np.testing.assert_allclose(t.x, pc.tpr[1:], rtol=1e-6)
        np.testing.assert_allclose(t.y, pc.precision[1:], rtol=1e-6)
        assert not np.isnan(np.asarray(t.y, dtype=float)).any()
        assert f"(AP {curves.classes[c].average_precision:.3f})" in t.name
    baselines = [t for t in fig.data if t.name.endswith(" baseline")]
    assert len(baselines) == len(curves.names)
    for c, b in enumerate(baselines):
        assert list(b.y) == [curves.classes[c].prevalence] * 2
        assert b.line.dash == "dot" and b.line.color == F.class_color(c)
    iso = next(t for t in fig.data if t.name == "iso-F1")
    x, y = np.asarray(iso.x, dtype=float), np.asarray(iso.y, dtype=float)
    ok = ~np.isnan(x)
    f1 = 2 * x[ok] * y[ok] / (x[ok] + y[ok])
    assert set(np.round(f1, 3)) <= {0.2, 0.4, 0.6, 0.8}
    assert {a.text for a in fig.layout.annotations} == {f"F1 = {f}" for f in F.ISO_F1}
    assert any(t.name.startswith("micro-average (AP") for t in fig.data)
    assert fig.layout.xaxis.title.text.startswith("Recall")
    assert fig.layout.yaxis.title.text == "Precision"


# ---------------------------------------------------------------------------------------------
# operating points


@pytest.mark.parametrize("name", DEMOS)
def test_operating_points_equal_counts_at(name):
    _, curves = _demo(name)
    t = _thresholds(curves)
    counts = curves.counts_at(t)
    roc = F.roc_figure(curves, counts=counts)
    pr = F.pr_figure(curves, counts=counts)
    for fig, xs, ys in ((roc, counts.fpr, counts.recall), (pr, counts.recall, counts.precision)):
        markers = [tr for tr in fig.data if tr.meta == F.ONE_VS_REST_MARKERS]
        assert len(markers) == 1
        m = markers[0]
        assert m.mode == "markers" and m.unselected.marker.opacity == 1
        np.testing.assert_array_equal(np.asarray(m.x), xs)
        np.testing.assert_array_equal(np.asarray(m.y), ys)
        cd = np.asarray(m.customdata)
        np.testing.assert_array_equal(cd[:, 0], t)
        np.testing.assert_array_equal(cd[:, 1:5].T, [counts.tp, counts.fp, counts.fn, counts.tn])
        assert list(m.marker.color) == F.class_colors(len(curves.names))
        assert all("TP" in h and "FN" in h and "TN" in h for h in m.hovertext)


def test_operating_points_of_a_subset_and_of_a_binary_decision():
    _, curves = _demo("digits")
    counts = curves.counts_at(0.3)
    m = F.roc_figure(curves, classes=[1, 4], counts=counts).data[-1]
    np.testing.assert_array_equal(np.asarray(m.x), counts.fpr[[1, 4]])
    np.testing.assert_array_equal(np.asarray(m.y), counts.recall[[1, 4]])
    # a binary decision counts its one curve, the positive class, as counts_at does
    p, curves = _demo("binary")
    decision = confusion(p, thresholds=0.4)
    assert decision.counts.names == curves.names
    m = F.roc_figure(curves, decision=decision.counts, decision_name="binary").data[-1]
    assert m.meta == F.DECISION_MARKERS and "binary" in m.name
    np.testing.assert_array_equal(np.asarray(m.x), decision.counts.fpr)
    np.testing.assert_array_equal(np.asarray(m.y), decision.counts.recall)
    np.testing.assert_array_equal(np.asarray(m.x), curves.counts_at(0.4).fpr)
    # counts of other classes are refused
    _, digits = _demo("digits")
    with pytest.raises(InputError, match="counts have no class"):
        F.roc_figure(curves, counts=digits.counts_at(0.5))


# ---------------------------------------------------------------------------------------------
# selections


def test_selected_thresholds_map_points_to_class_and_threshold():
    _, curves = _demo("digits")
    train = _demo_split("digits", "train")
    fig = F.roc_figure(curves, counts=curves.counts_at(0.5), extra=[("train", train)])
    points, expected = [], []
    for number, trace in enumerate(fig.data):
        if not isinstance(trace.meta, int):
            points.append({"curve_number": number, "point_index": 0})  # skipped
            continue
        source = train if trace.name.startswith("train: ") else curves
        i = len(trace.x) // 3
        points.append({"curve_number": number, "point_index": i, "customdata": None})
        expected.append((trace.meta, float(source.plot[trace.meta].thresholds[i])))
    assert F.selected_thresholds(fig, points) == expected
    # plotly.js's own event keys; the +inf point of a ROC curve; junk
    c3 = next(n for n, t in enumerate(fig.data) if t.meta == 3 and "train" not in t.name)
    got = F.selected_thresholds(fig, [{"curveNumber": c3, "pointIndex": 0},
                                      {"curve_number": 999, "point_index": 0},
                                      {"curve_number": c3, "point_index": 10**6}, {}])
    assert got == [(3, np.inf)]
    pr = F.pr_figure(curves)
    n = next(n for n, t in enumerate(pr.data) if t.meta == 5)
    assert F.selected_thresholds(pr, [{"curve_number": n, "point_index": 0}]) == [
        (5, float(curves.plot[5].thresholds[1]))
    ]
    th = F.threshold_metrics_figure(curves, 6, threshold=0.5)
    for n, trace in enumerate(th.data):
        assert trace.meta == 6
        assert F.selected_thresholds(th, [{"curve_number": n, "point_index": 4}]) == [
            (6, float(curves.plot[6].thresholds[5]))
        ]


def test_micro_average_carries_thresholds_but_is_not_a_class():
    _, curves = _demo("multilabel")
    fig = F.roc_figure(curves)
    n, micro = next((n, t) for n, t in enumerate(fig.data) if t.meta == "micro")
    np.testing.assert_array_equal(np.asarray(micro.customdata, dtype=float)[:, 0],
                                  curves.micro_plot.thresholds)
    assert F.selected_thresholds(fig, [{"curve_number": n, "point_index": 3}]) == []


# ---------------------------------------------------------------------------------------------
# extra CurveSets


def test_extra_curvesets_overlay_in_class_colours():
    _, curves = _demo("digits")
    train, validation = _demo_split("digits", "train"), _demo_split("digits", "validation")
    fig = F.roc_figure(curves, classes=[0, 1], extra=[("train", train),
                                                      ("validation", validation)])
    by_name = {t.name: t for t in _class_traces(fig)}
    assert len(by_name) == 6
    for c in (0, 1):
        t = by_name[f"train: {curves.names[c]} (AUC {train.classes[c].roc_auc:.3f})"]
        v = by_name[f"validation: {curves.names[c]} (AUC {validation.classes[c].roc_auc:.3f})"]
        main = by_name[f"{curves.names[c]} (AUC {curves.classes[c].roc_auc:.3f})"]
        assert t.line.color == v.line.color == main.line.color == F.class_color(c)
        assert (main.line.dash, t.line.dash, v.line.dash) == ("solid", "dash", "dot")
        assert t.legendgroup == main.legendgroup
        np.testing.assert_array_equal(np.asarray(t.customdata, dtype=float)[:, 0],
                                      train.plot[c].thresholds)
    pr = F.pr_figure(curves, extra=[("train", train)])
    assert sum(t.name.startswith("train: ") for t in pr.data) == len(curves.names)
    _, other = _demo("multilabel")
    with pytest.raises(InputError, match="'test' curves have classes"):
        F.roc_figure(curves, extra=[("test", other)])


# ---------------------------------------------------------------------------------------------
# threshold metrics


@pytest.mark.parametrize("name", DEMOS)
def test_threshold_metrics(name):
    _, curves = _demo(name)
    c = len(curves.names) - 1
    fig = F.threshold_metrics_figure(curves, c, threshold=0.4)
    pc = curves.plot[c]
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"Precision", "Recall (TPR)", "F1", "FPR", "Specificity (TNR)"}
    tp, fp = pc.tp[1:], pc.fp[1:]
    expect = {
        "Precision": tp / (tp + fp),
        "Recall (TPR)": tp / pc.n_pos,
        "F1": 2 * tp / (2 * tp + fp + (pc.n_pos - tp)),
        "FPR": fp / pc.n_neg,
        "Specificity (TNR)": 1 - fp / pc.n_neg,
    }
    for key, values in expect.items():
        t = by_name[key]
        assert np.isfinite(np.asarray(t.x)).all()  # +inf excluded
        np.testing.assert_allclose(t.x, pc.thresholds[1:], rtol=1e-6)
        np.testing.assert_allclose(t.y, values, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(np.asarray(t.customdata, dtype=float)[:, 0],
                                      pc.thresholds[1:])
    assert by_name["Specificity (TNR)"].visible == "legendonly"
    assert all(w in by_name["Precision"].hovertemplate for w in ("TP", "FP", "FN", "TN"))
    (line,) = fig.layout.shapes
    assert line.x0 == line.x1 == 0.4
    assert F.threshold_metrics_figure(curves, c, threshold=None).layout.shapes == ()
    with pytest.raises(InputError):
        F.threshold_metrics_figure(curves, len(curves.names), threshold=0.5)


# ---------------------------------------------------------------------------------------------
# score distribution


@pytest.mark.parametrize("name", DEMOS)
def test_score_histogram_totals(name):
    p, _ = _demo(name)
    for c in range(p.scores.shape[1]):
        h = F.score_histogram(p, c, bins=20)
        pos = p.positives(c)
        assert h.positives.sum() == pos.sum() and h.negatives.sum() == (~pos).sum()
        edges = np.linspace(0, 1, 21)
        np.testing.assert_array_equal(h.positives, np.histogram(p.scores[pos, c], edges)[0])
        np.testing.assert_array_equal(h.negatives, np.histogram(p.scores[~pos, c], edges)[0])


def test_score_distribution_figure():
    p, _ = _demo("digits")
    fig = F.score_distribution_figure(p, 3, threshold=0.25, bins=40)
    neg, pos = fig.data
    assert pos.type == neg.type == "bar" and len(pos.x) == 40
    assert pos.name == f"positives ({p.class_names[3]})"
    assert pos.marker.color == F.class_color(3)
    counts = np.asarray(pos.customdata)[:, 0], np.asarray(neg.customdata)[:, 0]
    assert counts[0].sum() == p.positives(3).sum() and counts[1].sum() == (~p.positives(3)).sum()
    np.testing.assert_allclose(np.sum(pos.y), 1.0)  # share of the group
    assert fig.layout.barmode == "overlay" and fig.layout.shapes[0].x0 == 0.25
    assert fig.layout.yaxis.title.text == "Share of the group"
    raw = F.score_distribution_figure(p, 3, threshold=None, normalize=False)
    assert np.sum(raw.data[1].y) == p.positives(3).sum() and raw.layout.shapes == ()
    assert raw.layout.yaxis.title.text == "Samples"
    with pytest.raises(InputError, match="class index"):
        F.score_histogram(p, 10)


def test_score_histogram_of_a_million_rows_stays_small():
    rng = np.random.default_rng(3)
    n = 1_000_000
    y = rng.integers(0, 2, n)
    p = Predictions.from_arrays(y, np.clip(rng.normal(0.35 + 0.3 * y, 0.15), 0, 1))
    fig = F.score_distribution_figure(p, 0, threshold=0.5, bins=50)
    assert sum(len(t.x) for t in fig.data) == 100
    assert len(_strict_json(fig)) < 30_000
    assert np.asarray(fig.data[1].customdata)[:, 0].sum() == y.sum()


# ---------------------------------------------------------------------------------------------
# confusion matrix


def test_confusion_heatmap():
    p, _ = _demo("digits")
    decision = confusion(p, "per-class", np.linspace(0.2, 0.3, 10))
    assert decision.predicted_labels[-1] == "abstained"
    args = decision.matrix, decision.labels, decision.predicted_labels
    fig = F.confusion_figure(*args)
    (heat,) = fig.data
    np.testing.assert_array_equal(np.asarray(heat.z), decision.matrix)
    assert list(heat.x) == list(decision.predicted_labels) and list(heat.y) == list(decision.labels)
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.xaxis.type == fig.layout.yaxis.type == "category"
    assert np.asarray(heat.text)[0, 0] == f"{decision.matrix[0, 0]:,}"
    assert len(fig.layout.shapes) == 1  # sets the abstained column apart
    for norm in ("true", "pred"):
        heat = F.confusion_figure(*args, normalize=norm).data[0]
        np.testing.assert_array_equal(np.asarray(heat.z), decision.normalized(norm))
        np.testing.assert_array_equal(np.asarray(heat.customdata), decision.matrix)


def test_confusion_blank_cells_and_errors():
    m = np.array([[3, 1, 0], [0, 0, 0]])
    fig = F.confusion_figure(m, ["a", "b"], ["a", "b", "abstained"], normalize="true")
    text = np.asarray(fig.data[0].text)
    assert list(text[0]) == ["75.0%", "25.0%", "0.0%"] and list(text[1]) == ["", "", ""]
    assert np.isnan(np.asarray(fig.data[0].z)[1]).all()
    _strict_json(fig)
    pred = F.confusion_figure(m, ["a", "b"], ["a", "b", "abstained"], normalize="pred")
    assert list(np.asarray(pred.data[0].text)[:, 2]) == ["", ""]
    # numeric class names stay categories
    numeric = F.confusion_figure(np.eye(3, dtype=int), ["0", "1", "2"], ["0", "1", "2"])
    assert numeric.layout.xaxis.type == "category"
    with pytest.raises(InputError, match="shape"):
        F.confusion_figure(m, ["a", "b"], ["a", "b"])
    with pytest.raises(InputError, match="normalize"):
        F.confusion_figure(m, ["a", "b"], ["a", "b", "x"], normalize="all")
    with pytest.raises(InputError, match="counts"):
        F.confusion_figure(m / 2, ["a", "b"], ["a", "b", "x"])
    with pytest.raises(InputError, match="multilabel"):
        F.confusion_figure(None, ["a"], ["a"])


# ---------------------------------------------------------------------------------------------
# degenerate data, logits, palette


def test_a_class_without_positives_still_draws():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 300)  # class 2 never occurs
    scores = rng.dirichlet(np.ones(3), 300)
    p = Predictions.from_arrays(y, scores)
    curves = compute_curves(p)
    counts = curves.counts_at(0.5)
    for fig in (F.roc_figure(curves, counts=counts), F.pr_figure(curves, counts=counts),
                F.threshold_metrics_figure(curves, 2, threshold=0.5),
                F.score_distribution_figure(p, 2, threshold=0.5)):
        _strict_json(fig)
    names = [t.name for t in _class_traces(F.roc_figure(curves))]
    assert names[2] == f"{curves.names[2]} (AUC n/a)"


def test_logit_thresholds_in_hover():
    _, curves = _demo("multilabel")
    assert curves.score_kind == "logit"
    fig = F.roc_figure(curves)
    for t in _class_traces(fig):
        cd = np.asarray(t.customdata, dtype=np.float64)
        assert cd.shape[1] == 6 and "logit" in t.hovertemplate
        finite = np.isfinite(cd[:, 0]) & (cd[:, 0] > 0) & (cd[:, 0] < 1)
        np.testing.assert_allclose(1 / (1 + np.exp(-cd[finite, 5])), cd[finite, 0], rtol=1e-9)
    _, digits = _demo("digits")
    assert all("logit" not in t.hovertemplate for t in _class_traces(F.roc_figure(digits)))


def test_palette_is_shared_and_cycles():
    n = len(F.PALETTE)
    assert n == 10 and len(set(F.PALETTE)) == n
    assert F.class_colors(n + 3)[n:] == list(F.PALETTE[:3])
    assert F.class_color(n) == F.class_color(0)


def test_html_in_class_names_is_escaped():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 100)
    p = Predictions.from_arrays(np.eye(2, dtype=int)[y], rng.random((100, 2)),
                                class_names=["<b>a", "b&c"], task="multilabel")
    fig = F.roc_figure(compute_curves(p))
    names = [t.name for t in _class_traces(fig)]
    assert names[0].startswith("&lt;b&gt;a (AUC") and names[1].startswith("b&amp;c (AUC")


# ---------------------------------------------------------------------------------------------
# size and speed


def test_plot_traces_stay_within_the_point_budget():
    _, curves = _large()
    for fig in (F.roc_figure(curves), F.pr_figure(curves),
                F.threshold_metrics_figure(curves, 0, threshold=0.5)):
        for t in fig.data:
            if t.meta is not None:
                assert len(t.x) <= DEFAULT_PLOT_POINTS
                assert len(t.customdata) == len(t.x)


def test_roc_figure_of_a_million_rows_by_ten_classes_is_small():
    p = _softmax_case(1_000_000, 10, seed=7, dtype=np.float32)
    curves = compute_curves(p)
    fig = F.roc_figure(curves, counts=curves.counts_at(np.full(10, 0.3)))
    size = len(_strict_json(fig).encode())
    assert sum(len(t.x) for t in fig.data) < 12 * DEFAULT_PLOT_POINTS
    assert size < 2_000_000


def test_two_markers_one_vs_rest_at_the_threshold_and_the_decisions_own():
    p, curves = _demo("digits")
    argmax = confusion(p, "argmax")
    fig = F.roc_figure(curves, counts=curves.counts_at(argmax.decision.class_thresholds()),
                       decision=argmax.counts, decision_name="argmax")
    ring = [t for t in fig.data if t.meta == F.ONE_VS_REST_MARKERS]
    diamond = [t for t in fig.data if t.meta == F.DECISION_MARKERS]
    # argmax has no threshold: no one-vs-rest marker; the decision's marker is the argmax
    # point (the matrix's own FPR and recall), not the curve at t = 0.5
    assert len(ring[0].x) == 0
    np.testing.assert_array_equal(np.asarray(diamond[0].x), argmax.counts.fpr)
    np.testing.assert_array_equal(np.asarray(diamond[0].y), argmax.counts.recall)
    assert "argmax" in diamond[0].name and "one-vs-rest" in ring[0].name
    at_half = curves.counts_at(0.5)
    assert not np.array_equal(np.asarray(diamond[0].y), at_half.recall)
    # per-class: both, and moving them in place keeps the curves
    per = confusion(p, "per-class", 0.3)
    one = curves.counts_at(per.decision.class_thresholds())
    fig = F.pr_figure(curves, counts=one, decision=per.counts, decision_name="per-class")
    ring = next(t for t in fig.data if t.meta == F.ONE_VS_REST_MARKERS)
    np.testing.assert_array_equal(np.asarray(ring.x), one.recall)
    moved = confusion(p, "per-class", 0.6)
    F.move_operating_points(fig, curves, curves.counts_at(0.6), moved.counts, "per-class")
    diamond = next(t for t in fig.data if t.meta == F.DECISION_MARKERS)
    np.testing.assert_array_equal(np.asarray(diamond.x), moved.counts.recall)
    np.testing.assert_array_equal(np.asarray(diamond.y), moved.counts.precision, strict=False)
