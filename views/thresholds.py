"""Thresholds: the decision rule and its parameters, live confusion matrices, objectives and
the optimiser; every number beside the decision is the decision's own."""

import streamlit as st

from dashboard import links, optimise_panel, state, thresholds, timing, widgets
from dashboard.data import Dataset
from evalcore import figures
from evalcore.counts import MISSING
from evalcore.decisions import Confusion
from evalcore.deploy import predictions_table

data = widgets.current()
st.title("Thresholds")

ARGMAX_NOTE = """
**Thresholds and the argmax.** A softmax model deployed with `model.predict(x).argmax(1)`
predicts the top class whatever its score: **a threshold changes nothing** under `argmax`.
The one-vs-rest ROC and PR curves answer another question for each class ("is this sample
of class c?", asked at threshold t); their thresholds act only under a rule that uses them:
**abstain** (refuse when the top score is below t), **per-class** (a class may be predicted
only when its score clears its own threshold; among those the highest wins, else abstain),
**priority** (predict the first listed class whose score clears its threshold, else the
argmax: the rule that cuts one class' false negatives), **weighted** (the argmax of w x
score) or **cost** (the least expected cost). Every count on this page, and each curve's
diamond marker, is what the chosen rule does; the ring marker is the one-vs-rest point of
the curve at the class' threshold.
"""


def _tools(data: Dataset, rule: str) -> None:
    """What does not move with a threshold: the class being tuned (rules with one threshold or
    weight per class), the cost matrix, the objective and the optimiser."""
    if rule in ("per-class", "multilabel", "weighted"):
        widgets.class_selector(data)
    elif rule == "priority":
        widgets.class_selector(data, "Class (moving its slider lists it first)")
    elif rule == "argmax":
        st.info("argmax uses no threshold: the matrix below is what the deployed model does. "
                "Choose abstain, per-class, priority, weighted or cost to act on the scores.",
                icon=":material/info:")
    elif rule == "cost":
        with st.expander("Cost matrix (rows: true class, columns: predicted)", expanded=True):
            widgets.cost_editor(data)
    if rule not in ("argmax", "cost"):
        c = widgets.tuned_class(data)
        with st.expander("Set a threshold from an objective", expanded=False):
            widgets.objective_controls(data, c)
        with st.expander("Optimise every class", expanded=False):
            optimise_panel.panel(data)


def _sliders(data: Dataset, rule: str, c: int) -> None:
    """The thresholds (or weights) of the rule, and what they are."""
    names = data.curves.names
    if rule in ("abstain", "binary"):
        widgets.global_slider(data, "Threshold")
    elif rule in ("per-class", "multilabel"):
        cols = st.columns(2)
        with cols[0]:
            widgets.global_slider(data)
        with cols[1]:
            widgets.class_slider(data, c)
        t = thresholds.thresholds(data)
        own = [(n, v) for n, v in zip(names, t) if v != thresholds.global_threshold()]
        if own:
            st.caption("Own thresholds: " + ", ".join(
                f"{n} {thresholds.describe(data, v)}" for n, v in own))
    elif rule == "priority":
        cols = st.columns(2)
        with cols[0]:
            widgets.priority_editor(data)
        with cols[1]:
            widgets.class_slider(data, c)
        st.caption(f"Decision: {thresholds.decision().describe()}")
    elif rule == "weighted":
        widgets.weight_editor(data, c)
    tuned = st.session_state.get(state.TUNED)
    if tuned:
        st.info(optimise_panel.provenance(data, tuned), icon=":material/science:")


@st.fragment
def live(data: Dataset) -> None:
    """The rule and the tools that set its parameters; a change reruns this and ``numbers``."""
    thresholds.apply_pending()
    rule = widgets.rule_selector(data)
    _tools(data, rule)
    numbers(data)


@st.fragment
def numbers(data: Dataset) -> None:
    """The sliders and every number of the decision: a slider move reruns only this (the rule
    radio, the objective and the optimiser above are not sent or drawn again)."""
    rule = thresholds.rule()
    c = widgets.tuned_class(data)
    with timing.phase("thresholds: a move, to the matrix"):
        _sliders(data, rule, c)
        decision = _matrix(data)
    with timing.phase("thresholds: a move, after the matrix"):
        _after_matrix(data, rule, c, decision)


def _matrix(data: Dataset) -> Confusion:
    """The decision's metrics and its confusion matrix; the decision counted."""
    decision = thresholds.confusion(data)

    m = st.columns(4)
    m[0].metric("Accuracy", f"{decision.accuracy:.4f}",
                help="Abstained samples count as wrong.")
    m[1].metric("Coverage", f"{decision.coverage:.2%}")
    m[2].metric("Accuracy on covered", widgets.fmt(decision.covered_accuracy, 4))
    if decision.multilabel is not None:
        m[2].metric("Subset accuracy", f"{decision.multilabel.subset_accuracy:.4f}")
        m[3].metric("Hamming loss", f"{decision.multilabel.hamming_loss:.4f}",
                    help="The share of (sample, label) cells that are wrong.")

    if decision.matrix is not None:
        st.subheader("Confusion matrix")
        widget = state.persistent(state.NORMALIZE, "counts")
        norm = st.radio("Show", ["counts", "rows (recall)", "columns (precision)"], key=widget,
                        on_change=state.save, args=(state.NORMALIZE,), horizontal=True)
        normalize = {"counts": None, "rows (recall)": "true", "columns (precision)": "pred"}[norm]
        with st.container(key="confusion-matrix"):
            table = widgets.confusion_table(decision, normalize)
            st.table(table if normalize is None else table.style.format("{:.1%}", na_rep=""))
        if st.toggle("Heatmap", key=state.THR_HEATMAP_ON):
            st.plotly_chart(figures.confusion_figure(
                decision.matrix, decision.labels, decision.predicted_labels, normalize=normalize),
                key=state.THR_HEATMAP)
    return decision


def _after_matrix(data: Dataset, rule: str, c: int, decision: Confusion) -> None:
    """Counts beside the matrix, the tuned class' curves with their markers, the per-class
    tables, the exports and the metrics against the threshold."""
    p = data.predictions
    links.sync(data)  # the URL after the matrix: its message would come before it otherwise
    one_vs_rest = thresholds.one_vs_rest(data)
    widgets.sample_caption(data)
    widgets.exact_count(data, decision, "thr.exact")

    name = data.curves.names[c]
    t = thresholds.thresholds(data)
    where = ("no threshold under this rule" if t[c] != t[c]
             else f"threshold {thresholds.describe(data, float(t[c]))}")
    st.caption(f"Curves of {name} ({where}). Ring: the one-vs-rest point at the threshold; "
               f"diamond: what the {rule} rule does for {name} (the matrix's own recall and "
               "precision). Click a point on a curve to set the threshold to it.")
    slack = thresholds.one_vs_rest_slack(data)
    if slack is not None:
        st.caption(f"Binned statistics: the curves are drawn from scores pooled into bins, and "
                   f"{name}'s one-vs-rest counts at this threshold (the ring, the metrics "
                   f"figure below) may miss up to {slack[0][c]:,} positives and {slack[1][c]:,} "
                   "negatives scoring just above it (exact TP within +"
                   f"{slack[0][c]:,}, FP within +{slack[1][c]:,}).")
    for kind, build in (("roc", figures.roc_figure), ("pr", figures.pr_figure)):
        def make(build=build):
            extra = dict(show_micro=False)
            if build is figures.roc_figure:
                extra["show_macro"] = False
            return build(data.curves, classes=[c], counts=one_vs_rest, decision=decision.counts,
                         decision_name=rule, legend="right", **extra)

        def move(fig):
            figures.move_operating_points(fig, data.curves, one_vs_rest, decision.counts, rule,
                                          classes=[c])

        widgets.clickable_chart(data, widgets.live_figure(kind, data, c, make, move), f"thr.{kind}")

    st.subheader("Per class" if p.task != "multilabel" else "Per label")
    st.caption(f"Counts of the {rule} rule (the matrix above), not of the one-vs-rest curves.")
    with st.container(key="class-metrics"):
        st.table(_metrics_frame(decision.counts))
    if p.task != "binary":
        i = decision.counts.names.index(data.curves.names[c])
        st.caption(f"Counts of {decision.counts.names[i]} under this rule:")
        with st.container(key="class-2x2"):
            st.table(widgets.counts_2x2(decision.counts, i))
    _export_import(data, decision)
    st.subheader(f"One-vs-rest metrics against the threshold: {data.curves.names[c]}")
    st.caption("From the class' one-vs-rest curve: what the threshold does to \"is it "
               f"{data.curves.names[c]}?\" alone, before the rule weighs the other classes.")
    st.plotly_chart(widgets.live_figure(
        "metrics", data, c,
        lambda: figures.threshold_metrics_figure(data.curves, c, threshold=_finite(t[c])),
        lambda fig: figures.move_threshold_line(fig, _finite(t[c]))), key=state.THR_METRICS)


def _finite(value: float) -> float | None:
    return float(value) if value == value else None


def _export_import(data: Dataset, decision) -> None:
    """Download the decision as a thresholds file that deploys and the per-row predictions;
    load a thresholds file to restore a view."""
    with st.expander("Export or load thresholds"):
        st.download_button(
            "Download thresholds (JSON)", thresholds.spec(data, decision).to_json(),
            file_name="thresholds.json", mime="application/json", key=state.THR_DOWNLOAD,
            help="Rule, thresholds (with logits where the scores were logits), priority order, "
                 "weights or costs, class order and the metrics they gave here. Apply it with "
                 "`evalcore apply scores.csv --thresholds thresholds.json -o predictions.csv`.",
        )
        p, d = data.predictions, decision.decision
        st.download_button(
            "Per-row predictions (CSV)",
            lambda: predictions_table(p, d, ids=p.ids).to_csv(index=False),
            file_name="predictions.csv", mime="text/csv", key=state.THR_ROWS_CSV,
            help="One row per sample: id (when the file has one), true and predicted label, rule.",
        )

        def restore() -> None:
            upload = st.session_state.get(state.SPEC_UPLOAD)
            if upload is None:
                return
            from evalcore.deploy import parse_spec
            from evalcore.errors import InputError

            try:
                thresholds.restore_spec(data, parse_spec(upload.getvalue(), upload.name))
                st.session_state[state.SPEC_MESSAGE] = None
            except InputError as error:
                st.session_state[state.SPEC_MESSAGE] = str(error)

        if decision.matrix is not None:
            st.download_button("Confusion matrix (CSV)",
                               widgets.confusion_table(decision, None).to_csv(),
                               file_name="confusion_matrix.csv", mime="text/csv",
                               key=state.THR_MATRIX_CSV)
        st.download_button("Per-class counts (CSV)", _counts_frame(decision.counts).to_csv(),
                           file_name="per_class_counts.csv", mime="text/csv", key=state.THR_COUNTS_CSV)
        st.file_uploader("Load a thresholds file", type=["json"], key=state.SPEC_UPLOAD,
                         on_change=restore)
        if st.session_state.get(state.SPEC_MESSAGE):
            st.error(st.session_state[state.SPEC_MESSAGE])


def _counts_frame(counts):
    import pandas as pd

    return pd.DataFrame({
        "TP": counts.tp, "FP": counts.fp, "FN": counts.fn, "TN": counts.tn,
        "precision": counts.precision, "recall": counts.recall, "F1": counts.f1,
        "specificity": counts.specificity,
    }, index=list(counts.names))


def _metrics_frame(counts):
    return _counts_frame(counts).style.format(
        {k: "{:.4f}" for k in ("precision", "recall", "F1", "specificity")}, na_rep=MISSING)


if data.predictions.task == "multiclass":
    st.markdown(ARGMAX_NOTE)
live(data)
