"""Curves: per-class ROC and precision-recall curves, averages, baselines and score
distributions, with the current operating points."""

import streamlit as st

from dashboard import state, thresholds
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
show_micro = options[0].checkbox("Micro average", value=len(names) > 1, key="curves.micro",
                                 disabled=len(names) == 1)
show_macro = options[1].checkbox("Macro average", value=len(names) > 1, key="curves.macro",
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

left, right = st.columns(2)
with left:
    st.plotly_chart(
        figures.roc_figure(data.curves, classes=classes, counts=counts, decision=decision.counts,
                           decision_name=rule, show_micro=show_micro, show_macro=show_macro,
                           extra=extra),
        key="curves.roc",
    )
with right:
    st.plotly_chart(
        figures.pr_figure(data.curves, classes=classes, counts=counts, decision=decision.counts,
                          decision_name=rule, show_micro=show_micro, extra=extra),
        key="curves.pr",
    )
st.caption(
    f"Markers: rings are each class' one-vs-rest point at its threshold; diamonds are what the "
    f"decision ({decision.decision.describe()}) does for the class, the confusion matrix's own "
    "recall, FPR and precision (set on the Thresholds page). Dotted lines "
    "on the PR plot: each class' prevalence, the precision of a random ranking. Grey curves: "
    "iso-F1. Hover a curve for its threshold and TP/FP/FN/TN."
)

st.subheader("Score distributions")
c = names.index(st.selectbox("Class", names, key="curves.dist_class"))
st.plotly_chart(
    figures.score_distribution_figure(data.predictions, c,
                                      threshold=float(t[c]) if t[c] == t[c] else None),
    key="curves.dist",
)
