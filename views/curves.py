"""Curves: per-class ROC and precision-recall curves, averages, baselines and score
distributions, with the current operating points."""

import streamlit as st

from dashboard import state, thresholds, timing, widgets
from dashboard.data import split_curves
from dashboard.widgets import current
from evalcore import figures

data = current()
names = list(data.curves.names)
st.title("Curves")

default = st.session_state.get(state.SHOWN) or names[:10]
widget = state.persistent(state.SHOWN, [c for c in default if c in names] or names[:10])
if any(c not in names for c in st.session_state[widget]):
    state.set_value(state.SHOWN, names[:10])
shown = st.multiselect("Classes", names, key=widget, on_change=state.save, args=(state.SHOWN,))
options = st.columns(3)
show_micro = options[0].checkbox("Micro average", value=len(names) > 1, key=state.CURVES_MICRO,
                                 disabled=len(names) == 1)
show_macro = options[1].checkbox("Macro average", value=len(names) > 1, key=state.CURVES_MACRO,
                                 disabled=len(names) == 1)
splits = data.loaded.predictions.splits
overlay = options[2].checkbox(
    "Overlay the other splits", key=state.OVERLAY, disabled=len(splits) < 2 or data.split is None,
    help="Train / validation / test curves of the same classes, dashed and dotted.",
)
extra = split_curves(data) if overlay and data.split is not None else []
classes = [names.index(c) for c in shown]
t = thresholds.thresholds(data)
counts = thresholds.one_vs_rest(data)
decision = thresholds.confusion(data)
rule = decision.rule

split = data.split if splits else None
for kind, build, extra_args in (
    ("roc", figures.roc_figure, dict(show_macro=show_macro)),
    ("pr", figures.pr_figure, {}),
):
    with timing.phase(f"curves page: {kind} figure built"):
        fig = build(data.curves, classes=classes, counts=counts, decision=decision.counts,
                    decision_name=rule, show_micro=show_micro, extra=extra, split=split,
                    legend="right", **extra_args)
    with timing.phase(f"curves page: {kind} figure sent (to JSON, queued)"):
        st.plotly_chart(fig, key=f"curves.{kind}")
st.caption(
    f"Markers: rings are each class' one-vs-rest point at its threshold; diamonds are what the "
    f"decision ({decision.decision.describe()}) does for the class, the confusion matrix's own "
    "recall, FPR and precision (set on the Thresholds page). Dotted lines "
    "on the PR plot: each class' prevalence, the precision of a random ranking. Grey curves: "
    "iso-F1. Hover a curve for its threshold and TP/FP/FN/TN."
)
widgets.binned_note(data)

if len(splits) > 1 and data.split is not None:
    st.subheader("Per split")
    st.caption(f"ROC AUC and AP of each split, and each split's difference from the one shown "
               f"({data.split}): a large gap from train to test is over-fitting.")
    table = widgets.split_table(data)
    widgets.show_table(table, "curves.splits", signed=tuple(c for c in table if "−" in c))

st.subheader("Score distributions")
c = names.index(st.selectbox("Class", names, key=state.CURVES_DIST_CLASS))
st.plotly_chart(
    figures.score_distribution_figure(data.predictions, c,
                                      threshold=float(t[c]) if t[c] == t[c] else None),
    key=state.CURVES_DIST,
)
widgets.sample_caption(data)
