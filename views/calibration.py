"""Calibration: reliability diagrams, ECE, MCE and Brier score."""

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import state, widgets
from dashboard.widgets import current, show_table
from evalcore import figures
from evalcore.calibration import AUC_NOTE, STRATEGIES, calibration
from evalcore.counts import fmt

data = current()
st.title("Calibration")
st.caption(AUC_NOTE)

cols = st.columns([2, 2, 3])
bins = cols[0].slider("Bins", 2, 50, 10, key=state.CAL_BINS)
strategy = cols[1].radio("Bins of", STRATEGIES, key=state.CAL_STRATEGY, horizontal=True,
                         format_func={"uniform": "equal width", "quantile": "equal mass"}.get)
cal = calibration(data.predictions, bins=bins, strategy=strategy)

m = st.columns(4)
m[0].metric("ECE (top label)", fmt(cal.ece_top_label),
            help="Expected calibration error of the top class' score: the count-weighted mean "
                 "|accuracy - confidence| over the bins.")
m[1].metric("ECE (class-wise)", f"{cal.ece_classwise:.4f}",
            help="The mean over classes of each one-vs-rest ECE.")
m[2].metric("MCE (top label)", fmt(cal.mce_top_label),
            help="The largest |accuracy - confidence| of a bin.")
m[3].metric("Brier score", f"{cal.brier:.4f}", help=cal.brier_definition)
if cal.top_label_reason:
    st.caption(cal.top_label_reason)
widgets.sample_caption(data)

names = list(cal.names)
shown_names = st.multiselect("Classes", names, default=st.session_state.get(state.SHOWN) or names[:10],
                             key=state.CAL_CLASSES)
shown = [names.index(n) for n in shown_names if n in names]
st.plotly_chart(figures.reliability_figure(cal, classes=shown), key=state.CAL_RELIABILITY)

st.subheader("Per class")
show_table(pd.DataFrame({
    "class": names,
    "positives": [c.n_positive for c in cal.classes],
    "ECE": np.array([c.ece for c in cal.classes], dtype=float),
    "MCE": np.array([c.mce for c in cal.classes], dtype=float),
    "Brier": np.array([c.brier for c in cal.classes], dtype=float),
}), "cal.table")
