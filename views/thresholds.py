"""Thresholds: the decision rule, global and per-class thresholds, live confusion matrices."""

import numpy as np
import streamlit as st

from dashboard import state, thresholds, widgets
from dashboard.data import Dataset
from evalcore import figures

data = widgets.current()
st.title("Thresholds")

ARGMAX_NOTE = """
**Thresholds and the argmax.** A softmax model deployed with `model.predict(x).argmax(1)`
predicts the top class whatever its score: **a per-class threshold changes nothing** under
`argmax`. The one-vs-rest ROC and PR curves answer another question for each class: "is this
sample of class c?", asked at threshold t. Their thresholds act only under a rule that uses
them: **abstain** (refuse to predict when the top score is below t: fewer, surer predictions)
or **per-class** (a class may only be predicted when its score clears its own threshold; among
those the highest wins; if none clears, abstain). What a threshold cannot do is make a
lower-scoring class win over the top class.
"""


def _live_figure(kind: str, data: Dataset, c: int, build, move):
    """The figure of class ``c`` built once per dataset and class, then moved in place."""
    key = (kind, data.key, c)
    store = st.session_state.setdefault(state.FIGURES, {})
    if key not in store:
        for old in [k for k in store if k[0] == kind]:  # one figure of each kind
            del store[old]
        store[key] = build()
    else:
        move(store[key])
    return store[key]


def _pick_from_chart(chart_key: str, fig) -> None:
    """on_select of a curve: set that class' threshold to the clicked point's."""
    event = st.session_state.get(chart_key) or {}
    points = event.get("selection", {}).get("points", [])
    for c, t in figures.selected_thresholds(fig, points):
        if np.isfinite(t):
            thresholds.set_class_threshold(data, c, t)
            return


def _clickable(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, on_select=lambda: _pick_from_chart(key, fig),
                    selection_mode="points")


@st.fragment
def live(data: Dataset) -> None:
    p = data.predictions
    rule = widgets.rule_selector(data)
    names = data.curves.names
    c = names.index(st.session_state[state.CLASS]) if st.session_state.get(state.CLASS) in names else 0
    if rule == "argmax":
        st.info("argmax uses no threshold: the matrix below is what the deployed model does. "
                "Choose abstain or per-class to act on thresholds.", icon=":material/info:")
    else:
        cols = st.columns(2)
        with cols[0]:
            widgets.global_slider(data, "Threshold" if rule in ("abstain", "binary")
                                  else "Threshold (all classes)")
        if thresholds.uses_class_thresholds(rule) and p.task != "binary":
            with cols[1]:
                c = widgets.class_selector(data)
                widgets.class_slider(data, c)
                overrides = st.session_state.get(state.PER_CLASS, {})
                if overrides:
                    st.caption("Own thresholds: " + ", ".join(
                        f"{n} {thresholds.describe(data, t)}" for n, t in overrides.items()))
                    st.button("Reset every class to the global threshold",
                              on_click=widgets.reset_class_thresholds, key="thr.reset")
        if thresholds.uses_class_thresholds(rule):
            with st.expander("Set a threshold from an objective", expanded=False):
                widgets.objective_controls(data, c)

    decision = thresholds.decision(data)
    thresholds.sync_url(data)
    t = thresholds.thresholds(data)
    counts = data.curves.counts_at(t)

    m = st.columns(4)
    m[0].metric("Accuracy", f"{decision.accuracy:.4f}",
                help="Abstained samples count as wrong.")
    m[1].metric("Coverage", f"{decision.coverage:.2%}")
    m[2].metric("Accuracy on covered", "n/a" if decision.covered_accuracy is None
                else f"{decision.covered_accuracy:.4f}")
    if decision.multilabel is not None:
        m[3].metric("Subset accuracy", f"{decision.multilabel.subset_accuracy:.4f}")

    if decision.matrix is not None:
        st.subheader("Confusion matrix")
        widget = state.persistent(state.NORMALIZE, "counts")
        norm = st.radio("Show", ["counts", "rows (recall)", "columns (precision)"], key=widget,
                        on_change=state.save, args=(state.NORMALIZE,), horizontal=True)
        normalize = {"counts": None, "rows (recall)": "true", "columns (precision)": "pred"}[norm]
        with st.container(key="confusion-matrix"):
            table = widgets.confusion_table(decision, normalize)
            st.table(table if normalize is None else table.style.format("{:.1%}", na_rep=""))
        if st.toggle("Heatmap", key="thr.heatmap_on"):
            st.plotly_chart(figures.confusion_figure(
                decision.matrix, decision.labels, decision.predicted_labels, normalize=normalize),
                key="thr.heatmap")

    name = data.curves.names[c]
    st.caption(f"Curves of {name} at its threshold {thresholds.describe(data, float(t[c]))}. "
               "Click a point on a curve to set the threshold to it.")
    left, right = st.columns(2)
    with left:
        _clickable(_live_figure(
            "roc", data, c,
            lambda: figures.roc_figure(data.curves, classes=[c], counts=counts,
                                       show_micro=False, show_macro=False),
            lambda fig: figures.move_operating_points(fig, data.curves, counts)), "thr.roc")
    with right:
        _clickable(_live_figure(
            "pr", data, c,
            lambda: figures.pr_figure(data.curves, classes=[c], counts=counts, show_micro=False),
            lambda fig: figures.move_operating_points(fig, data.curves, counts)), "thr.pr")

    st.subheader("Per class" if p.task != "multilabel" else "Per label")
    names = list(decision.counts.names)
    frame = decision.counts
    with st.container(key="class-metrics"):
        st.table(_metrics_frame(frame))
    if p.task != "binary":
        i = names.index(data.curves.names[c])
        st.caption(f"One-vs-rest counts of {names[i]} under this rule:")
        with st.container(key="class-2x2"):
            st.table(widgets.counts_2x2(frame, i))
    _export_import(data, decision)
    st.subheader(f"Metrics against the threshold: {data.curves.names[c]}")
    st.plotly_chart(_live_figure(
        "metrics", data, c,
        lambda: figures.threshold_metrics_figure(data.curves, c, threshold=float(t[c])),
        lambda fig: figures.move_threshold_line(fig, float(t[c]))), key="thr.metrics")


def _export_import(data: Dataset, decision) -> None:
    """Download the decision as a thresholds file that deploys; load one to restore a view."""
    with st.expander("Export or load thresholds"):
        st.download_button(
            "Download thresholds (JSON)", thresholds.spec(data, decision).to_json(),
            file_name="thresholds.json", mime="application/json", key="thr.download",
            help="Rule, per-class thresholds (with logits where the scores were logits), class "
                 "order and the metrics they gave here. Apply it with "
                 "`evalcore confusion FILE --thresholds thresholds.json` or "
                 "`evalcore.apply_thresholds(scores, spec)`.",
        )

        def restore() -> None:
            upload = st.session_state.get("thr.spec_upload")
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
                               key="thr.matrix_csv")
        st.download_button("Per-class counts (CSV)", _counts_frame(decision.counts).to_csv(),
                           file_name="per_class_counts.csv", mime="text/csv", key="thr.counts_csv")
        st.file_uploader("Load a thresholds file", type=["json"], key="thr.spec_upload",
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
        {k: "{:.4f}" for k in ("precision", "recall", "F1", "specificity")}, na_rep="n/a")


if data.predictions.task == "multiclass":
    st.markdown(ARGMAX_NOTE)
live(data)
