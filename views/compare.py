"""Compare: two models on the same samples (paired DeLong, paired bootstrap of AP), and the
thresholds of one split applied to another (do they over-fit?)."""

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import state
from dashboard import data as data_module
from dashboard.widgets import OBJECTIVES, current, show_table
from evalcore import figures, stats
from evalcore.counts import fmt_interval
from evalcore.errors import InputError
from evalcore.io import FORMATS
from evalcore.operating import transfer_thresholds

data = current()
whole = data.loaded.predictions
st.title("Compare")

st.header("Models")
pred_a = pred_b = None
label_a, label_b = "A", "B"
SERVER_NOTE = ("pair every row of both in memory: not offered for a dataset on the server "
               "(use a file that fits in memory)")
if data.full is not None:
    st.caption(f"Comparisons of two models {SERVER_NOTE}.")
elif len(whole.models) >= 2:
    cols = st.columns(2)
    label_a = cols[0].selectbox("Model A", whole.models, index=0, key=state.CMP_MODEL_A)
    label_b = cols[1].selectbox("Model B", whole.models, index=1, key=state.CMP_MODEL_B)
    pred_a = whole.select(split=data.split, model=label_a)
    pred_b = whole.select(split=data.split, model=label_b)
    source_b = data.source
else:
    st.caption("The file has no `model` column with two models: upload the predictions of a "
               "second model on the same samples, in the same order, to compare with this one.")
    upload = st.file_uploader("Second model's predictions", key=state.CMP_UPLOAD,
                              type=[ext.lstrip(".") for ext in FORMATS])
    if upload is not None:
        source = data_module.second_file(upload)
        try:
            other = data_module.load_source(source, data.mapping).predictions
            pred_a, pred_b = data.predictions, other.select(split=data.split)
            label_a, label_b = data.source.label, upload.name
            source_b = source
        except InputError as error:
            st.error(str(error).splitlines()[0])

if pred_a is not None and pred_b is not None:
    try:
        model_a = label_a if len(whole.models) >= 2 else data.model
        model_b = label_b if len(whole.models) >= 2 else None
        curves_a = data_module.curves_for(data.source, data.mapping, data.split, model_a, pred_a)
        curves_b = data_module.curves_for(source_b, data.mapping, data.split, model_b, pred_b)
        auc = [stats.compare_auc(pred_a, pred_b, c) for c in range(len(curves_a.names))]
    except InputError as error:
        st.error(str(error).splitlines()[0])
    else:
        st.plotly_chart(figures.roc_figure(curves_a, counts=None, show_micro=False,
                                           show_macro=False, extra=[(label_b, curves_b)],
                                           split=label_a, legend="right"),
                        key=state.CMP_ROC)
        st.caption(f"Solid: {label_a}; dashed: {label_b}.")
        table = pd.DataFrame({
            "class": curves_a.names,
            f"ROC AUC {label_a}": [r.auc_a for r in auc],
            f"ROC AUC {label_b}": [r.auc_b for r in auc],
            "difference": [r.difference for r in auc],
            "p-value (paired DeLong)": [r.p_value for r in auc],
            f"AP {label_a}": [s.average_precision for s in curves_a.classes],
            f"AP {label_b}": [s.average_precision for s in curves_b.classes],
        })
        if st.button("Bootstrap the AP differences (1000 paired resamples)", key=state.CMP_BOOT):
            bar = st.progress(0.0, text="Resampling ...")
            diff = stats.compare_average_precision(
                pred_a, pred_b, random_state=0,
                progress=lambda done, total: bar.progress(done / total, text=f"{done} / {total}"))
            bar.empty()
            table["AP difference 95% CI"] = [
                fmt_interval((i.low, i.high), signed=True) for i in diff]
        show_table(table, "cmp.table")

st.header("Splits")
splits = whole.splits
if data.full is not None:
    st.caption(f"Comparisons of two splits {SERVER_NOTE}.")
elif len(splits) < 2:
    st.caption("The data has no `split` column with two splits or more.")
else:
    cols = st.columns(3)
    fit = cols[0].selectbox("Choose thresholds on", splits,
                            index=splits.index("validation") if "validation" in splits else 0,
                            key=state.CMP_FIT)
    rest = [s for s in splits if s != fit]
    apply = cols[1].selectbox("Apply them to", rest,
                              index=rest.index("test") if "test" in rest else 0, key=state.CMP_APPLY)
    objective = cols[2].selectbox("Objective", ["f1", "f0.5", "f2", "youden"],
                                  format_func=OBJECTIVES.get, key=state.CMP_OBJECTIVE)
    curves_fit = data_module.split_curves_for(data, fit)
    curves_apply = data_module.split_curves_for(data, apply)
    transfer = transfer_thresholds(curves_fit, curves_apply, objective)
    rows = []
    for i, point in enumerate(transfer.points):
        rows.append({
            "class": point.class_name, "threshold": point.threshold,
            f"precision ({fit})": transfer.fit.precision[i],
            f"precision ({apply})": transfer.apply.precision[i],
            f"recall ({fit})": transfer.fit.recall[i], f"recall ({apply})": transfer.apply.recall[i],
            f"F1 ({fit})": transfer.fit.f1[i], f"F1 ({apply})": transfer.apply.f1[i],
        })
    frame = pd.DataFrame(rows)
    frame["F1 drop"] = frame[f"F1 ({fit})"] - frame[f"F1 ({apply})"]
    show_table(frame, "cmp.splits", signed=("F1 drop",))
    st.caption(
        f"Each class' threshold maximises {objective} on {fit}; the same thresholds on {apply} "
        "show how much of that was fitted to the noise of one split. Mean F1 drop: "
        f"{np.nanmean(frame['F1 drop']):+.4f}."
    )
    st.plotly_chart(figures.roc_figure(curves_apply, counts=transfer.apply, show_micro=False,
                                       show_macro=False, extra=[(fit, curves_fit)], split=apply,
                                       legend="right"),
                    key=state.CMP_SPLIT_ROC)
