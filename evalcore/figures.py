"""Plotly figures from engine results (the only evalcore module that imports plotly).

Plotting never recomputes a curve: the ROC, PR and threshold figures draw the downsampled
``CurveSet.plot`` curves (at most ~2,000 points per class, on real thresholds),
``CurveSet.micro_plot`` and ``CurveSet.macro_roc``; operating points come from a
:class:`~evalcore.counts.Counts` (e.g. ``CurveSet.counts_at(thresholds)``). Every function is
pure and returns a new ``go.Figure``.

Mapping a selection back to a threshold
---------------------------------------
Every trace drawn from one class' curve (ROC, PR, the ``extra`` overlays and the threshold
figure's metric lines) has ``meta`` = the class index (an ``int``) and ``customdata`` whose
first column is the threshold of each point (``inf`` for the "nothing is positive" point of a
ROC curve); the next columns are TP, FP, FN, TN (and the logit of the threshold where the
input was sigmoid logits). The micro-average trace has ``meta="micro"``; other traces have no
``meta``. A Streamlit selection (``st.plotly_chart(fig, on_select="rerun")``) lists points as
dicts with ``curve_number`` and ``point_index``, so a point maps to::

    trace = fig.data[point["curve_number"]]
    class_index, threshold = trace.meta, trace.customdata[point["point_index"]][0]

:func:`selected_thresholds` does exactly this for a list of points. It reads the threshold
from the figure on the server, not from the event's own ``customdata`` copy, which went
through the browser: ``inf`` comes back as ``null``, and a row of a typed (base64) array as an
object, ``{"0": threshold, "1": TP, ...}`` (seen with Streamlit 1.67), not a list.
Curve traces are ``lines+markers`` (plotly.js selects nothing on a lines-only trace) whose
markers are not drawn: ``marker.maxdisplayed = 1`` (one transparent marker per trace). Hover
and click-to-select still reach every point (plotly.js finds them in the trace's data, not in
the drawn markers), and the browser builds no SVG node per point: a chart of ten 2,000-point
curves draws in ~0.1 s instead of ~1 s (``benchmarks/bench_browser.py``).

Traces are ``go.Scatter`` (SVG), not ``go.Scattergl``: lines without drawn markers are cheap in
SVG; WebGL contexts are limited per page (every chart of the dashboard would take one), a
software WebGL (a browser without a GPU) drew the same figures 3-10 times slower than SVG, and
scattergl's selection state has open bugs under ``Plotly.react`` updates.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import qualitative

from evalcore.counts import Counts, f_beta, fmt, ratio
from evalcore.curves import CurveSet, PlotCurve
from evalcore.errors import InputError
from evalcore.predictions import Predictions, class_index

#: qualitative class colours (plotly's default palette), cycled for more than 10 classes
PALETTE: tuple[str, ...] = tuple(qualitative.Plotly)
#: line styles of the ``extra`` overlays (one per overlaid CurveSet, cycled)
EXTRA_DASHES: tuple[str, ...] = ("dash", "dot", "dashdot", "longdash", "longdashdot")
#: ``layout.uirevision`` of every figure: zoom and legend clicks survive redraws
UIREVISION = "evalcore"
#: iso-F1 curves of the PR figure
ISO_F1 = (0.2, 0.4, 0.6, 0.8)
TEMPLATE = "plotly_white"

_GREY = "#9e9e9e"
_LIGHT_GREY = "#d0d0d0"
_AVERAGE = "#222222"
_NEGATIVES = "#8c8c8c"
_METRICS = {  # threshold figure: metric -> (label, colour, shown by default)
    "precision": ("Precision", "#1f77b4", True),
    "recall": ("Recall (TPR)", "#2ca02c", True),
    "f1": ("F1", "#9467bd", True),
    "fpr": ("FPR", "#d62728", True),
    "specificity": ("Specificity (TNR)", "#ff7f0e", False),
}
_UNIT = [-0.02, 1.02]  # [0, 1] with room for lines lying on the edges
#: markers plotly.js draws per curve trace (0 would mean all): one, transparent
CURVE_MARKERS_DRAWN = 1


def class_color(i: int) -> str:
    """The colour of class (curve) ``i``, the same in every figure.

    >>> class_color(0), class_color(1)
    ('#636EFA', '#EF553B')
    >>> class_color(len(PALETTE)) == class_color(0)
    True
    """
    return PALETTE[i % len(PALETTE)]


def class_colors(n: int) -> list[str]:
    """Colours of classes 0..n-1.

    >>> class_colors(3)
    ['#636EFA', '#EF553B', '#00CC96']
    """
    return [class_color(i) for i in range(n)]


# ---------------------------------------------------------------------------------------------
# ROC and precision-recall


def roc_figure(
    curves: CurveSet,
    *,
    classes: Sequence[int | str] | None = None,
    counts: Counts | None = None,
    decision: Counts | None = None,
    decision_name: str = "decision",
    show_micro: bool = True,
    show_macro: bool = True,
    extra: Sequence[tuple[str, CurveSet]] = (),
    split: str | None = None,
    legend: Literal["below", "right"] = "below",
) -> go.Figure:
    """One-vs-rest ROC curves of ``classes`` (default all), the chance diagonal, the micro and
    macro averages, ``extra`` CurveSets (e.g. other splits) dashed in the same colours, and two
    markers per shown class: the one-vs-rest point at its threshold (``counts``, e.g.
    ``CurveSet.counts_at``; classes whose threshold is NaN get none) and the decision's own
    (FPR, TPR) of the class (``decision``: ``Confusion.counts``). ``split`` names the split of
    ``curves`` on its traces (as the ``extra`` ones are named by their labels); ``legend``:
    below the square plot, or to its right (for a figure as wide as a page).

    >>> from evalcore import compute_curves
    >>> curves = compute_curves([0, 1, 2, 1, 0, 2], [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7],
    ...                                              [.5, .4, .1], [.4, .4, .2], [.3, .3, .4]])
    >>> fig = roc_figure(curves, counts=curves.counts_at([0.5, 0.5, 0.5]))
    >>> [t.name for t in fig.data][:3]
    ['chance (AUC 0.5)', '0 (AUC 0.875)', '1 (AUC 0.938)']
    >>> [t.meta for t in fig.data][1:]
    [0, 1, 2, 'micro', None, 'one-vs-rest']
    """
    shown = _shown(curves, classes)
    _check_extra(curves, extra)
    logit = _logit_scale(curves)
    data: list[dict] = [
        _scatter(
            x=[0.0, 1.0], y=[0.0, 1.0], mode="lines", name="chance (AUC 0.5)",
            line=dict(color=_GREY, dash="dash", width=1), hoverinfo="skip",
        )
    ]
    for k, (label, other) in enumerate(extra):
        dash = EXTRA_DASHES[k % len(EXTRA_DASHES)]
        for c in shown:
            name = f"{_esc(label)}: {_auc_name(other, c)}"
            data.append(_roc_trace(other.plot[c], c, name, _esc(f"{label}: {other.names[c]}"),
                                   logit, dash=dash))
    prefix = f"{_esc(split)}: " if split else ""
    for c in shown:
        data.append(_roc_trace(curves.plot[c], c, prefix + _auc_name(curves, c),
                               prefix + _esc(curves.names[c]), logit))
    multi = len(curves.names) > 1
    if show_micro and multi and curves.micro_plot is not None:
        name = f"micro-average (AUC {fmt(curves.roc_auc.micro, 3)})"
        data.append(_roc_trace(curves.micro_plot, "micro", name, "micro-average", logit))
    if show_macro and multi and curves.macro_roc is not None:
        grid, tpr = curves.macro_roc
        data.append(_scatter(
            x=grid.astype(np.float32), y=tpr.astype(np.float32), mode="lines",
            name=f"macro-average (mean AUC {fmt(curves.roc_auc.macro, 3)}, area "
                 f"{fmt(_macro_area(curves), 3)})", legendgroup="macro",
            line=dict(color=_AVERAGE, width=2.5, dash="dash"),
            hovertemplate="<b>macro-average</b><br>FPR %{x:.3f} · mean TPR %{y:.3f}"
                          "<extra></extra>",
        ))
    data += _markers(curves, shown, counts, decision, decision_name, roc=True)
    fig = _figure(data, _layout())
    _unit_square(fig, "False positive rate", "True positive rate", legend)
    return fig


def pr_figure(
    curves: CurveSet,
    *,
    classes: Sequence[int | str] | None = None,
    counts: Counts | None = None,
    decision: Counts | None = None,
    decision_name: str = "decision",
    show_micro: bool = True,
    show_baseline: bool = True,
    show_iso_f1: bool = True,
    extra: Sequence[tuple[str, CurveSet]] = (),
    split: str | None = None,
    legend: Literal["below", "right"] = "below",
) -> go.Figure:
    """Precision-recall curves of ``classes`` (default all) as steps, each class' baseline
    (its prevalence, dotted), iso-F1 curves, the micro average, ``extra`` CurveSets dashed, and
    the two markers of :func:`roc_figure` at (recall, precision). There is no macro PR curve;
    the macro AP is ``curves.average_precision.macro``.

    >>> from evalcore import compute_curves
    >>> curves = compute_curves([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> fig = pr_figure(curves, counts=curves.counts_at([0.5]))
    >>> [t.name for t in fig.data]
    ['iso-F1', '1 baseline', '1 (AP 0.917)', 'one-vs-rest at its threshold']
    >>> fig.layout.xaxis.title.text, fig.layout.yaxis.title.text
    ('Recall (true positive rate)', 'Precision')
    """
    shown = _shown(curves, classes)
    _check_extra(curves, extra)
    logit = _logit_scale(curves)
    data: list[dict] = []
    if show_iso_f1:
        data.append(_iso_f1_trace())
    if show_baseline:
        for c in shown:
            p = curves.classes[c].prevalence
            data.append(_scatter(
                x=[0.0, 1.0], y=[p, p], mode="lines", name=f"{_esc(curves.names[c])} baseline",
                legendgroup=f"class-{c}", showlegend=False,
                line=dict(color=class_color(c), dash="dot", width=1),
                hovertemplate=f"<b>{_esc(curves.names[c])}</b><br>baseline: prevalence "
                              f"{p:.3f}<extra></extra>",
            ))
    for k, (label, other) in enumerate(extra):
        dash = EXTRA_DASHES[k % len(EXTRA_DASHES)]
        for c in shown:
            name = f"{_esc(label)}: {_ap_name(other, c)}"
            data.append(_pr_trace(other.plot[c], c, name, _esc(f"{label}: {other.names[c]}"),
                                  logit, dash=dash))
    prefix = f"{_esc(split)}: " if split else ""
    for c in shown:
        data.append(_pr_trace(curves.plot[c], c, prefix + _ap_name(curves, c),
                              prefix + _esc(curves.names[c]), logit))
    if show_micro and len(curves.names) > 1 and curves.micro_plot is not None:
        name = f"micro-average (AP {fmt(curves.average_precision.micro, 3)})"
        data.append(_pr_trace(curves.micro_plot, "micro", name, "micro-average", logit))
    data += _markers(curves, shown, counts, decision, decision_name, roc=False)
    fig = _figure(data, _layout())
    _unit_square(fig, "Recall (true positive rate)", "Precision", legend)
    if show_iso_f1:
        fig.update_layout(annotations=[
            dict(x=0.9, y=f * 0.9 / (1.8 - f) + 0.02, text=f"F1 = {f:.1f}", showarrow=False,
                 font=dict(size=10, color=_GREY), xanchor="left", yanchor="bottom")
            for f in ISO_F1
        ])
    return fig


def _roc_trace(curve: PlotCurve, meta: int | str, name: str, label: str, logit: bool,
               dash: str = "solid") -> dict:
    return _curve_trace(curve.fpr, curve.tpr, _customdata(curve, logit), meta, name,
                        _hover(label, "FPR", "TPR", logit), dash)


def _pr_trace(curve: PlotCurve, meta: int | str, name: str, label: str, logit: bool,
              dash: str = "solid") -> dict:
    """PR points at every threshold but +inf (where precision is 0/0), in order of
    increasing recall, drawn as steps (precision holds until the next recall level)."""
    trace = _curve_trace(curve.tpr[1:], curve.precision[1:], _customdata(curve, logit)[1:],
                         meta, name, _hover(label, "recall", "precision", logit), dash)
    trace["line"]["shape"] = "vh"
    return trace


def _curve_trace(x: np.ndarray, y: np.ndarray, customdata: np.ndarray, meta: int | str,
                 name: str, hovertemplate: str, dash: str) -> dict:
    """A selectable curve: a line whose points hover and select, without a drawn marker
    per point (``CURVE_MARKERS_DRAWN``, see the module's docstring). x and y go out as float32
    (display only); exact counts are in ``customdata``. A class
    curve (``meta`` an int) takes the class colour, the micro average (``meta="micro"``)
    a thick dark line."""
    is_class = isinstance(meta, (int, np.integer))
    color = class_color(int(meta)) if is_class else _AVERAGE
    width = (2 if dash == "solid" else 1.5) if is_class else 2.5
    return _scatter(
        x=x.astype(np.float32), y=y.astype(np.float32), customdata=customdata,
        mode="lines+markers", name=name, meta=int(meta) if is_class else meta,
        legendgroup=f"class-{int(meta)}" if is_class else str(meta),
        line=dict(color=color, width=width, dash=dash),
        marker=dict(size=7, color=color, opacity=0, maxdisplayed=CURVE_MARKERS_DRAWN),
        hovertemplate=hovertemplate,
    )


def _customdata(curve: PlotCurve, logit: bool) -> np.ndarray:
    """Per point: threshold, TP, FP, FN, TN (and the threshold's logit): float32 when that
    is exact (float32 scores, counts < 2**24), else float64."""
    columns = [curve.thresholds, curve.tp, curve.fp, curve.n_pos - curve.tp,
               curve.n_neg - curve.fp]
    if logit:
        columns.append(_logit(curve.thresholds))
    out = np.column_stack(columns).astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        narrow = out.astype(np.float32)
        exact = np.array_equal(narrow, out, equal_nan=True)
    return narrow if exact else out


def _hover(label: str, x: str, y: str, logit: bool) -> str:
    logit_part = " (logit %{customdata[5]:.4~g})" if logit else ""
    return (
        f"<b>{label}</b><br>threshold %{{customdata[0]:.6~g}}{logit_part}<br>"
        f"{x} %{{x:.3f}} · {y} %{{y:.3f}}<br>"
        "TP %{customdata[1]:,} · FP %{customdata[2]:,}<br>"
        "FN %{customdata[3]:,} · TN %{customdata[4]:,}<extra></extra>"
    )


#: ``meta`` of the two marker traces of a ROC or PR figure
ONE_VS_REST_MARKERS = "one-vs-rest"
DECISION_MARKERS = "decision"
_MARKER_STYLE = {  # meta -> (legend name, symbol, size)
    ONE_VS_REST_MARKERS: ("one-vs-rest at its threshold", "circle-open", 13),
    DECISION_MARKERS: ("the decision's own ({})", "diamond", 12),
}


def _markers(curves: CurveSet, shown: np.ndarray, counts: Counts | None,
             decision: Counts | None, decision_name: str, *, roc: bool) -> list[dict]:
    """The marker traces of a ROC (roc=True) or PR figure: one-vs-rest at each class'
    threshold, and the decision's own point."""
    out = []
    for meta, source in ((ONE_VS_REST_MARKERS, counts), (DECISION_MARKERS, decision)):
        if source is not None:
            out.append(_operating_points(curves, source, shown, roc, meta, decision_name))
    return out


def _operating_points(curves: CurveSet, counts: Counts, shown: np.ndarray, roc: bool,
                      meta: str, decision_name: str) -> dict:
    """One marker per shown class at the counts' (FPR, TPR) or (recall, precision); a class
    without a threshold (NaN) has no one-vs-rest marker. customdata as the curves'
    (threshold NaN where the counts come from a rule without one), class index last."""
    rows = _counts_rows(curves, counts)[shown]
    t = (np.full(rows.size, np.nan) if counts.thresholds is None
         else np.asarray(counts.thresholds, dtype=np.float64)[rows])
    keep = np.ones(rows.size, dtype=bool)
    if meta == ONE_VS_REST_MARKERS and counts.thresholds is not None:
        keep = np.isfinite(t)
    shown, rows, t = shown[keep], rows[keep], t[keep]
    x = (counts.fpr if roc else counts.recall)[rows]
    y = (counts.recall if roc else counts.precision)[rows]
    x_name, y_name = ("FPR", "TPR") if roc else ("recall", "precision")
    tp, fp, fn, tn = (np.asarray(a, dtype=np.float64)[rows]
                      for a in (counts.tp, counts.fp, counts.fn, counts.tn))
    label, symbol, size = _MARKER_STYLE[meta]
    label = label.format(_esc(decision_name))
    where = [f"one-vs-rest at threshold {format(v, '.6g')}" if meta == ONE_VS_REST_MARKERS
             else f"the decision ({_esc(decision_name)})" for v in t]
    text = [
        f"<b>{_esc(curves.names[c])}</b>: {where[i]}<br>"
        f"{x_name} {fmt(x[i], 3)} · {y_name} {fmt(y[i], 3)}<br>"
        f"TP {int(tp[i]):,} · FP {int(fp[i]):,}<br>FN {int(fn[i]):,} · TN {int(tn[i]):,}"
        for i, c in enumerate(shown)
    ]
    colors = [class_color(c) for c in shown]
    return _scatter(
        x=np.asarray(x, dtype=np.float64), y=np.asarray(y, dtype=np.float64),
        customdata=np.column_stack([t, tp, fp, fn, tn, shown.astype(np.float64)]),
        mode="markers", name=label, meta=meta, legendgroup=meta,
        marker=dict(size=size, color=colors, symbol=symbol,
                    line=dict(color=colors if meta == ONE_VS_REST_MARKERS else "white",
                              width=2.5 if meta == ONE_VS_REST_MARKERS else 1.5)),
        unselected=dict(marker=dict(opacity=1)),  # stay visible while a curve point is selected
        hovertext=text, hovertemplate="%{hovertext}<extra></extra>",
    )


def _iso_f1_trace() -> dict:
    """The ISO_F1 curves as one grey trace (NaN between curves): precision = f r / (2 r - f)
    for recall r from f / (2 - f) (precision 1) to 1."""
    xs, ys = [], []
    for f in ISO_F1:
        r = np.linspace(f / (2 - f), 1.0, 60)
        xs += [r, [np.nan]]
        ys += [f * r / (2 * r - f), [np.nan]]
    return _scatter(
        x=np.concatenate(xs).astype(np.float32), y=np.concatenate(ys).astype(np.float32),
        mode="lines", name="iso-F1", line=dict(color=_LIGHT_GREY, width=1), hoverinfo="skip",
    )


# ---------------------------------------------------------------------------------------------
# threshold metrics


def threshold_metrics_figure(curves: CurveSet, c: int, *, threshold: float | None) -> go.Figure:
    """Precision, recall, F1, FPR and specificity (hidden until clicked in the legend) of
    class ``c`` against the threshold, from its plot curve (every point but +inf), with a
    vertical line at ``threshold``.

    >>> from evalcore import compute_curves
    >>> curves = compute_curves([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> fig = threshold_metrics_figure(curves, 0, threshold=0.5)
    >>> [(t.name, t.visible) for t in fig.data][-2:]
    [('FPR', True), ('Specificity (TNR)', 'legendonly')]
    >>> fig.layout.annotations[0].text
    't = 0.5'
    """
    c = _shown(curves, [c])[0]
    curve = curves.plot[c]
    t, tp, fp = curve.thresholds[1:], curve.tp[1:], curve.fp[1:]
    fn, tn = curve.n_pos - tp, curve.n_neg - fp
    values = {
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, curve.n_pos),
        "f1": f_beta(tp, fp, fn),
        "fpr": ratio(fp, curve.n_neg),
        "specificity": ratio(tn, curve.n_neg),
    }
    logit = _logit_scale(curves)
    full = _customdata(curve, logit)[1:]
    x = t.astype(np.float32)
    data = []
    for k, (key, (label, color, visible)) in enumerate(_METRICS.items()):
        first = k == 0  # the first trace carries the counts for the unified hover
        extra = (" · TP %{customdata[1]:,} · FP %{customdata[2]:,} · FN %{customdata[3]:,}"
                 " · TN %{customdata[4]:,}") if first else ""
        if first and logit:
            extra += "<br>logit of threshold %{customdata[5]:.4~g}"
        data.append(_scatter(
            x=x, y=values[key].astype(np.float32), customdata=full if first else full[:, :1],
            mode="lines", name=label, meta=int(c), line=dict(color=color, width=2, shape="hv"),
            visible=True if visible else "legendonly",
            hovertemplate=f"{label} %{{y:.3f}}{extra}<extra></extra>",
        ))
    fig = _figure(data, _layout(hovermode="x unified"))
    fig.update_xaxes(title_text=f"Threshold (score ≥ t predicts {_esc(curves.names[c])})",
                     range=_UNIT, hoverformat=".6~g")
    fig.update_yaxes(title_text="Rate", range=_UNIT)
    _threshold_line(fig, threshold)
    return fig


# ---------------------------------------------------------------------------------------------
# score distribution


@dataclass(frozen=True, eq=False)
class ScoreHistogram:
    """Counts of one class' scores in equal bins of [0, 1], for its positives and negatives
    (small: cache it and redraw the figure for each threshold).

    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> h = score_histogram(p, 0, bins=4)
    >>> h.name, h.edges.tolist()
    ('1', [0.0, 0.25, 0.5, 0.75, 1.0])
    >>> h.positives.tolist(), h.negatives.tolist()
    ([0, 1, 0, 2], [2, 1, 0, 0])
    """

    name: str
    index: int
    edges: np.ndarray
    positives: np.ndarray
    negatives: np.ndarray


def score_histogram(predictions: Predictions, c: int, *, bins: int = 50) -> ScoreHistogram:
    """Histogram of column ``c``'s scores (one pass: one bin lookup, one bincount); bins are
    [e_i, e_i+1) with the last one closed, as ``np.histogram``.

    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 1, 2, 1], [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7],
    ...                                            [.5, .4, .1]], class_names=["cat", "dog", "eel"])
    >>> h = score_histogram(p, 1, bins=2)
    >>> h.name, h.positives.tolist(), h.negatives.tolist()
    ('dog', [1, 1], [2, 0])
    """
    if not 0 <= int(c) < predictions.scores.shape[1]:
        raise InputError(
            f"expected a class index in 0..{predictions.scores.shape[1] - 1}, got {c}"
        )
    if int(bins) < 1:
        raise InputError(f"expected bins to be at least 1, got {bins}")
    c, bins = int(c), int(bins)
    edges = np.linspace(0.0, 1.0, bins + 1)
    scores = predictions.scores[:, c]
    idx = np.searchsorted(edges, scores, side="right") - 1
    np.clip(idx, 0, bins - 1, out=idx)
    idx += bins * predictions.positives(c)
    both = np.bincount(idx, minlength=2 * bins)
    return ScoreHistogram(predictions.curve_names[c], c, edges, both[bins:], both[:bins])


def score_histogram_figure(histogram: ScoreHistogram, *, threshold: float | None,
                           normalize: bool = True) -> go.Figure:
    """Overlaid bars of the positives' and negatives' scores and a line at ``threshold``.
    ``normalize``: each group's bars show its share of the group (so a rare class stays
    visible); else counts. Hover shows both.

    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> fig = score_histogram_figure(score_histogram(p, 0, bins=4), threshold=0.5)
    >>> [t.name for t in fig.data], fig.data[1].y.round(3).tolist()
    (['negatives (not 1)', 'positives (1)'], [0.0, 0.333, 0.0, 0.667])
    >>> score_histogram_figure(score_histogram(p, 0, bins=4), threshold=None,
    ...                        normalize=False).data[1].y.tolist()
    [0, 1, 0, 2]
    """
    h = histogram
    width = np.diff(h.edges)
    centers = h.edges[:-1] + width / 2
    name = _esc(h.name)
    data = []
    for label, values, color in (
        (f"negatives (not {name})", h.negatives, _NEGATIVES),
        (f"positives ({name})", h.positives, class_color(h.index)),
    ):
        total = int(values.sum())
        share = ratio(values, total) if total else np.zeros(values.size)
        data.append(dict(
            type="bar", x=centers, y=share if normalize else values, width=width, name=label,
            marker=dict(color=color, line=dict(width=0)), opacity=0.6,
            customdata=np.column_stack([values, share, h.edges[:-1], h.edges[1:]]),
            hovertemplate=f"<b>{label}</b><br>score in [%{{customdata[2]:.3g}}, "
                          "%{customdata[3]:.3g})<br>%{customdata[0]:,} samples "
                          "(%{customdata[1]:.1%})<extra></extra>",
        ))
    fig = _figure(data, _layout(barmode="overlay", bargap=0,
                                margin=dict(l=60, r=10, t=40, b=50)))
    fig.update_xaxes(title_text=f"Score of {name}", range=[0, 1])
    fig.update_yaxes(title_text="Share of the group" if normalize else "Samples",
                     tickformat=".0%" if normalize else ",")
    fig.update_layout(legend=dict(orientation="h", x=0, y=1.02, xanchor="left",
                                  yanchor="bottom"))
    _threshold_line(fig, threshold)
    return fig


def score_distribution_figure(predictions: Predictions, c: int, *, threshold: float | None,
                              bins: int = 50, normalize: bool = True) -> go.Figure:
    """:func:`score_histogram` then :func:`score_histogram_figure` (on a slider path, cache the
    histogram instead: it does not depend on the threshold).

    >>> from evalcore import Predictions
    >>> p = Predictions.from_arrays([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> fig = score_distribution_figure(p, 0, threshold=0.35, bins=10, normalize=False)
    >>> int(fig.data[0].y.sum()), int(fig.data[1].y.sum()), fig.layout.annotations[0].text
    (3, 3, 't = 0.35')
    """
    return score_histogram_figure(score_histogram(predictions, c, bins=bins),
                                  threshold=threshold, normalize=normalize)


# ---------------------------------------------------------------------------------------------
# confusion matrix


def confusion_figure(
    matrix: np.ndarray,
    true_labels: Sequence[str],
    predicted_labels: Sequence[str],
    *,
    normalize: Literal["true", "pred"] | None = None,
) -> go.Figure:
    """Annotated heatmap, rows = true classes, columns = predicted (an extra "abstained"
    column allowed). ``normalize``: None shows counts; "true" / "pred" divide by row / column
    sums (as ``Confusion.normalized``) and show percentages; 0/0 cells are blank.

    >>> from evalcore import Predictions
    >>> from evalcore.decisions import confusion
    >>> p = Predictions.from_arrays([0, 1, 2, 1], [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7],
    ...                                            [.5, .4, .1]], class_names=["cat", "dog", "eel"])
    >>> c = confusion(p, "abstain", 0.55)
    >>> fig = confusion_figure(c.matrix, c.labels, c.predicted_labels, normalize="true")
    >>> fig.data[0].x, fig.data[0].text.tolist()[1]
    (('cat', 'dog', 'eel', 'abstained'), ['0.0%', '0.0%', '0.0%', '100.0%'])
    """
    if matrix is None:
        raise InputError("no confusion matrix to draw (a multilabel decision has none)")
    if normalize not in (None, "true", "pred"):
        raise InputError(f"normalize must be None, 'true' or 'pred', got {normalize!r}")
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape != (len(true_labels), len(predicted_labels)):
        raise InputError(
            f"expected a matrix of shape ({len(true_labels)}, {len(predicted_labels)}) "
            f"(true x predicted labels), got {m.shape}"
        )
    if m.dtype.kind not in "iub" and not (m.dtype.kind == "f" and np.all(m == np.round(m))):
        raise InputError(f"expected a matrix of counts (whole numbers), got {m.dtype} values")
    counts = m.astype(np.int64)
    if normalize is None:
        z = counts
        text = np.array([[f"{v:,}" for v in row] for row in counts.tolist()], dtype=object)
    else:
        axis = 1 if normalize == "true" else 0
        z = ratio(counts, counts.sum(axis=axis, keepdims=True))
        text = np.array([["" if v != v else f"{100 * v:.1f}%" for v in row]
                         for row in z.tolist()], dtype=object)
    share = "" if normalize is None else (
        "<br>%{z:.1%} of the true class" if normalize == "true"
        else "<br>%{z:.1%} of the predicted class")
    x = [str(v) for v in predicted_labels]
    y = [str(v) for v in true_labels]
    heat = dict(
        type="heatmap", z=z, x=x, y=y, text=text, texttemplate="%{text}", customdata=counts,
        colorscale="Blues", zmin=0, zmax=1 if normalize else None, xgap=1, ygap=1,
        colorbar=dict(thickness=12, tickformat=".0%" if normalize else ","),
        hovertemplate="true %{y}<br>predicted %{x}<br>%{customdata:,} samples"
                      f"{share}<extra></extra>",
    )
    fig = _figure([heat], _layout())
    fig.update_xaxes(title_text="Predicted", type="category", side="bottom", showgrid=False)
    fig.update_yaxes(title_text="True", type="category", autorange="reversed",
                     showgrid=False)
    if len(x) > len(y):  # an abstained column: a line sets it apart
        fig.update_layout(shapes=[dict(type="line", xref="x", yref="paper",
                                       x0=len(y) - 0.5, x1=len(y) - 0.5, y0=0, y1=1,
                                       line=dict(color=_GREY, width=2))])
    return fig


# ---------------------------------------------------------------------------------------------
# selections


def selected_thresholds(figure: go.Figure, points: Iterable[Mapping[str, Any]]
                        ) -> list[tuple[int, float]]:
    """(class index, threshold) of each selected point that lies on a class curve, in order.

    ``points``: Streamlit's ``event.selection.points`` (``curve_number``, ``point_index``) or
    plotly.js event points (``curveNumber``, ``pointIndex``). Points on other traces (the
    micro average, the diagonal, the operating points ...) are skipped. ``figure`` must be
    the figure that was shown (figures are deterministic: rebuilding it with the same
    arguments gives the same traces in the same order).

    >>> from evalcore import compute_curves
    >>> curves = compute_curves([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> fig = roc_figure(curves)
    >>> fig.data[1].meta, fig.data[1].customdata[:3, 0].tolist()
    (0, [inf, 0.9, 0.8])
    >>> selected_thresholds(fig, [{"curve_number": 1, "point_index": 2},
    ...                           {"curve_number": 0, "point_index": 0}])
    [(0, 0.8)]
    """
    out: list[tuple[int, float]] = []
    for point in points:
        curve = point.get("curve_number", point.get("curveNumber"))
        index = point.get("point_index", point.get("pointIndex",
                          point.get("point_number", point.get("pointNumber"))))
        if curve is None or index is None or not 0 <= int(curve) < len(figure.data):
            continue
        trace = figure.data[int(curve)]
        meta = trace.meta
        if (not isinstance(meta, (int, np.integer)) or isinstance(meta, bool)
                or trace.customdata is None or not 0 <= int(index) < len(trace.customdata)):
            continue
        out.append((int(meta), float(np.asarray(trace.customdata[int(index)]).reshape(-1)[0])))
    return out


# ---------------------------------------------------------------------------------------------
# helpers


def _scatter(**props: Any) -> dict:
    """A scatter trace as a dict: go.Figure validates it once, not twice."""
    return dict(type="scatter", **props)


def _figure(data: list[dict], layout: dict) -> go.Figure:
    """The figure, with the TEMPLATE set as plotly sets its default template: without
    re-validating it (a registered template is valid; validating it is ~40% of a build)."""
    fig = go.Figure(data=data, layout=layout)
    template = pio.templates[TEMPLATE]
    layout_obj = getattr(fig, "_layout_obj", None)
    if layout_obj is None or not hasattr(layout_obj, "_validate"):  # another plotly version
        fig.layout.template = template
        return fig
    layout_obj._validate = False
    try:
        fig.layout.template = template
    finally:
        layout_obj._validate = True
    return fig


def _layout(**overrides: Any) -> dict:
    layout = dict(
        margin=dict(l=60, r=10, t=30, b=50),
        legend=dict(x=1.02, y=1, xanchor="left", yanchor="top", tracegroupgap=0,
                    font=dict(size=11)),
        hovermode="closest",
        uirevision=UIREVISION,
    )
    layout.update(overrides)
    return layout


#: the height of the square plot area of a ROC or PR figure, and of one row of its legend
PLOT_HEIGHT = 460
LEGEND_ROW = 21
LEGEND_ENTRY = 170  # pixels of text: two legend columns fit a plot 420 px wide
#: at most this many entries in a curve figure's legend; more classes: hover shows the class
MAX_LEGEND = 24


def _unit_square(fig: go.Figure, x_title: str, y_title: str,
                 legend: Literal["below", "right"] = "below") -> None:
    """Axes [0, 1] x [0, 1] on a square plot area with the legend where it never squeezes the
    plot: below it in two columns (the figure as tall as both), or, for a figure as wide as a
    page, in the space to the right of the square."""
    fig.update_xaxes(title_text=x_title, range=_UNIT, constrain="domain", zeroline=False)
    fig.update_yaxes(title_text=y_title, range=_UNIT, constrain="domain", zeroline=False,
                     scaleanchor="x", scaleratio=1)
    entries = [t for t in fig.data if t.showlegend is not False]
    if len(entries) > MAX_LEGEND:  # many classes: hover-only, said on the plot
        for trace in fig.data:
            if isinstance(trace.meta, (int, np.integer)):
                trace.showlegend = False
        entries = [t for t in fig.data if t.showlegend is not False]
        fig.add_annotation(x=0.5, y=1.0, xref="paper", yref="paper", yanchor="bottom",
                           showarrow=False, font=dict(size=11, color=_GREY),
                           text="many classes: hover a curve for its class")
    if legend == "right":
        fig.update_xaxes(domain=[0.0, 0.58])
        fig.update_layout(
            height=max(PLOT_HEIGHT + 100, 80 + LEGEND_ROW * len(entries)),
            margin=dict(l=60, r=10, t=30, b=50),
            legend=dict(orientation="v", x=0.62, xanchor="left", y=1, yanchor="top",
                        font=dict(size=11), tracegroupgap=0),
        )
        return
    rows = (len(entries) + 1) // 2
    fig.update_layout(
        height=PLOT_HEIGHT + 70 + LEGEND_ROW * rows,
        margin=dict(l=60, r=10, t=30, b=40 + LEGEND_ROW * rows),
        legend=dict(orientation="h", x=0, xanchor="left", y=-0.08, yanchor="top",
                    entrywidth=LEGEND_ENTRY, entrywidthmode="pixels", font=dict(size=11),
                    tracegroupgap=0),
    )


def _threshold_line(fig: go.Figure, threshold: float | None) -> None:
    if threshold is None or not np.isfinite(threshold):
        return
    t = float(threshold)
    fig.update_layout(
        shapes=[*fig.layout.shapes, dict(type="line", xref="x", yref="paper", x0=t, x1=t,
                                         y0=0, y1=1, line=dict(color="black", width=1.5,
                                                               dash="dash"))],
        annotations=[*fig.layout.annotations, dict(x=t, y=1, xref="x", yref="paper",
                                                   text=f"t = {t:.4g}", showarrow=False,
                                                   xanchor="left", yanchor="top", xshift=3,
                                                   bgcolor="rgba(255,255,255,0.8)",
                                                   font=dict(size=11))],
    )


def _shown(curves: CurveSet, classes: Sequence[int | str] | None) -> np.ndarray:
    """The curve indices to draw (all by default), checked."""
    return _checked_indices(curves.names, classes)


def _checked_indices(names: Sequence[str], classes: Sequence[int | str] | None) -> np.ndarray:
    """``classes`` (names or indices) as indices into ``names`` (all by default); InputError
    for one that is neither (:func:`~evalcore.predictions.class_index`)."""
    if classes is None:
        return np.arange(len(names))
    return np.array([class_index(names, c) for c in classes], dtype=np.int64)


def _check_extra(curves: CurveSet, extra: Sequence[tuple[str, CurveSet]]) -> None:
    for label, other in extra:
        if other.names != curves.names:
            raise InputError(
                f"the {label!r} curves have classes {list(other.names)}, expected "
                f"{list(curves.names)}"
            )


def _counts_rows(curves: CurveSet, counts: Counts) -> np.ndarray:
    """The row of ``counts`` of each curve, by name (a binary decision's counts hold both
    classes; its one curve is the positive class)."""
    if tuple(counts.names) == tuple(curves.names):
        return np.arange(len(curves.names))
    where = {name: i for i, name in enumerate(counts.names)}
    missing = [name for name in curves.names if name not in where]
    if missing:
        raise InputError(
            f"counts have no class {missing[0]!r}; they have {list(counts.names)}"
        )
    return np.array([where[name] for name in curves.names], dtype=np.int64)


def _logit_scale(curves: CurveSet) -> bool:
    """Hover shows the logit of thresholds where sigmoid logits were converted."""
    return curves.score_kind == "logit" and curves.task in ("binary", "multilabel")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(p) - np.log1p(-np.minimum(p, 1.0))


def _macro_area(curves: CurveSet) -> float | None:
    curve = curves.macro_roc_interpolated
    return None if curve is None else curve.area


def _auc_name(curves: CurveSet, c: int) -> str:
    return f"{_esc(curves.names[c])} (AUC {fmt(curves.classes[c].roc_auc, 3)})"


def _ap_name(curves: CurveSet, c: int) -> str:
    return f"{_esc(curves.names[c])} (AP {fmt(curves.classes[c].average_precision, 3)})"


def _esc(text: str) -> str:
    return html.escape(str(text), quote=False)


# ---------------------------------------------------------------------------------------------
# live updates: move what a threshold changes, keep the curves


def move_operating_points(fig: go.Figure, curves: CurveSet, counts: Counts | None,
                          decision: Counts | None = None, decision_name: str = "decision",
                          *, classes: Sequence[int | str] | None = None) -> go.Figure:
    """Move the markers of a :func:`roc_figure` or :func:`pr_figure` in place: the one-vs-rest
    ones to ``counts`` and the decision's to ``decision`` (the curves stay: a slider move
    re-validates a few points, not the curves). ``classes``: the classes the figure shows
    (default: those its markers were drawn for). The kind is told by the x axis title.

    >>> from evalcore import compute_curves
    >>> curves = compute_curves([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> fig = roc_figure(curves, counts=curves.counts_at([0.8]))
    >>> markers = fig.data[-1]
    >>> markers.meta, markers.x.round(3).tolist(), markers.y.round(3).tolist()
    ('one-vs-rest', [0.0], [0.667])
    >>> _ = move_operating_points(fig, curves, curves.counts_at([0.35]))
    >>> markers.x.round(3).tolist(), markers.y.round(3).tolist()
    ([0.333], [1.0])
    """
    roc = fig.layout.xaxis.title.text == "False positive rate"
    for meta, source in ((ONE_VS_REST_MARKERS, counts), (DECISION_MARKERS, decision)):
        index = next((i for i, t in enumerate(fig.data) if t.meta == meta), None)
        if index is None or source is None:
            continue
        shown = np.asarray(classes if classes is not None else np.asarray(
            fig.data[index].customdata, dtype=np.float64)[:, -1], dtype=np.int64).reshape(-1)
        new = _operating_points(curves, source, shown, roc, meta, decision_name)
        fig.data[index].update(x=new["x"], y=new["y"], customdata=new["customdata"],
                               hovertext=new["hovertext"], name=new["name"],
                               marker=dict(color=new["marker"]["color"],
                                           line=new["marker"]["line"]))
    return fig


def move_threshold_line(fig: go.Figure, threshold: float | None) -> go.Figure:
    """Move the dashed threshold line of a figure drawn with one, in place.

    >>> from evalcore import compute_curves
    >>> curves = compute_curves([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> fig = threshold_metrics_figure(curves, 0, threshold=0.5)
    >>> _ = move_threshold_line(fig, 0.35)
    >>> [a.text for a in fig.layout.annotations], fig.layout.shapes[0].x0
    (['t = 0.35'], 0.35)
    """
    fig.layout.shapes = [s for s in fig.layout.shapes if s.line.dash != "dash"]
    fig.layout.annotations = [a for a in fig.layout.annotations
                              if not str(a.text).startswith("t = ")]
    _threshold_line(fig, threshold)
    return fig


# ---------------------------------------------------------------------------------------------
# calibration

from evalcore.calibration import Calibration, Reliability  # noqa: E402  (block kept together)

_RELIABILITY_MARKER = (4.0, 14.0)  # marker size range: sqrt-scaled by the bin's sample count


def reliability_figure(cal: Calibration, *, classes: Sequence[int | str] | None = None,
                       top_label: bool = True) -> go.Figure:
    """Reliability diagram of a :class:`~evalcore.calibration.Calibration`: the "perfectly
    calibrated" diagonal, one line per shown one-vs-rest class (``classes``, default all; class
    colours; legend with each class' ECE) and the top-label curve (thick, dark; legend with
    the top-label ECE and MCE; skipped with a note where it is undefined, i.e. multilabel).
    Points sit at (mean predicted, fraction positive) of the non-empty bins; marker area grows
    with the bin's sample count, and hover shows the bin, both values and the count. Below, a
    bar chart of the samples per bin: of the top-label curve when drawn, else of the shown
    classes. Traces carry no ``meta`` (nothing here maps back to a threshold); class traces
    have ``legendgroup`` ``"class-<i>"``, the top label ``"top-label"``.

    >>> from evalcore import Predictions
    >>> from evalcore.calibration import calibration
    >>> p = Predictions.from_arrays([0, 0, 1, 1, 1], [0.25, 0.25, 0.55, 0.75, 0.75])
    >>> fig = reliability_figure(calibration(p, bins=2))
    >>> [t.name for t in fig.data][1:3]
    ['1 (ECE 0.290)', 'top label (ECE 0.290 · MCE 0.290)']
    >>> [t.type for t in fig.data]
    ['scatter', 'scatter', 'scatter', 'bar']
    """
    shown = _reliability_classes(cal, classes)
    curves: list[tuple[Reliability, str, str, str, int, float]] = []
    for c in shown:
        cc = cal.classes[c]
        curves.append((cc.reliability, f"{_esc(cc.name)} (ECE {fmt(cc.ece, 3)})", _esc(cc.name),
                       class_color(c), c, 2.0))
    draw_top = top_label and cal.top_label is not None
    if draw_top:
        curves.append((cal.top_label, f"top label (ECE {fmt(cal.ece_top_label, 3)} · MCE "
                                      f"{fmt(cal.mce_top_label, 3)})", "top label", _AVERAGE,
                       -1, 3.0))
    largest = max((int(r.count.max()) for r, *_ in curves), default=1)
    data: list[dict] = [_scatter(
        x=[0.0, 1.0], y=[0.0, 1.0], mode="lines", name="perfectly calibrated",
        line=dict(color=_GREY, dash="dash", width=1), hoverinfo="skip",
    )]
    for r, name, label, color, c, width in curves:
        group = "top-label" if c < 0 else f"class-{c}"
        low, high = _RELIABILITY_MARKER
        size = low + (high - low) * np.sqrt(r.count / largest)
        observed = "accuracy" if c < 0 else "fraction positive"
        data.append(_scatter(
            x=r.mean_predicted, y=r.fraction_positive, mode="lines+markers", name=name,
            legendgroup=group, line=dict(color=color, width=width),
            marker=dict(size=np.round(size, 1), color=color, line=dict(color="white", width=1)),
            customdata=np.column_stack([r.count, r.low, r.high]),
            hovertemplate=f"<b>{label}</b><br>scores in (%{{customdata[1]:.3g}}, "
                          "%{customdata[2]:.3g}]<br>mean predicted %{x:.3f} · "
                          f"{observed} %{{y:.3f}}<br>%{{customdata[0]:,}} samples"
                          "<extra></extra>",
        ))
    bars = [curve for curve in curves if curve[4] < 0] or curves
    for r, _, label, color, c, _ in bars:
        data.append(dict(
            type="bar", x=(r.low + r.high) / 2, y=r.count,
            width=np.maximum(r.high - r.low, 0.004) * 0.95, yaxis="y2",
            name=f"{label}: samples", legendgroup="top-label" if c < 0 else f"class-{c}",
            showlegend=False, marker=dict(color=color, line=dict(width=0)),
            opacity=0.7 if len(bars) == 1 else 0.35,
            customdata=np.column_stack([r.low, r.high]),
            hovertemplate=f"<b>{label}</b><br>scores in (%{{customdata[0]:.3g}}, "
                          "%{customdata[1]:.3g}]<br>%{y:,} samples<extra></extra>",
        ))
    layout = _layout(
        barmode="overlay", bargap=0, margin=dict(l=60, r=10, t=30, b=50),
        xaxis=dict(title_text="Mean predicted probability (per bin)", range=_UNIT,
                   zeroline=False, anchor="y2"),
        yaxis=dict(title_text="Fraction positive" + (" (top label: accuracy)" if draw_top
                                                       else ""), range=_UNIT,
                   zeroline=False, domain=[0.3, 1.0], anchor="x"),
        yaxis2=dict(title_text="Samples", domain=[0.0, 0.2], anchor="x", rangemode="tozero",
                    tickformat="~s"),
    )
    layout["legend"]["title"] = dict(text=f"{cal.strategy} bins ({cal.bins})")
    if top_label and cal.top_label is None:
        layout["annotations"] = [dict(
            x=0.01, y=0.99, xref="x", yref="y", xanchor="left", yanchor="top",
            showarrow=False, font=dict(size=11, color=_GREY),
            text=f"no top-label curve: not defined for {_esc(cal.task)} data",
        )]
    return _figure(data, layout)


def _reliability_classes(cal: Calibration, classes: Sequence[int] | None) -> np.ndarray:
    """The curve indices of ``cal`` to draw (all by default), checked."""
    return _checked_indices(cal.names, classes)
