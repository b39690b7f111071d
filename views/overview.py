"""Overview: per-class ranking metrics and the current decision's precision/recall/F1."""

import pandas as pd
import streamlit as st

from dashboard import data as data_module
from dashboard import state, thresholds
from dashboard import widgets
from dashboard.widgets import averages_table, current, metrics_table, show_table
from evalcore.counts import fmt, fmt_interval


data = current()
p = data.predictions
decision = thresholds.confusion(data)

st.title("Overview")
rows = f"{p.n_samples:,} samples" if not data.sampled else (
    f"{data.full.n_rows:,} samples ({p.n_samples:,} in the sample)")
sample = " (sample)" if data.sampled else ""
st.caption(
    f"{p.task}, {len(p.class_names)} classes, {rows}; "
    + ("logit scores" if p.score_kind == "logit" else "probability scores")
    + (f" (converted with {p.conversion})" if p.conversion else "")
)
cols = st.columns(4)
_area = data.curves.macro_roc_interpolated
cols[0].metric(
    "ROC AUC (macro)", _v if (_v := data.curves.roc_auc.macro) is None else f"{_v:.4f}",
    help="The mean of the per-class ROC AUCs, as scikit-learn's roc_auc_score(average="
         "'macro'). The area under the macro-average curve (each class' TPR interpolated on the "
         "union of all FPRs, as scikit-learn's ROC example computes it) is "
         + fmt(None if _area is None else _area.area) + ".")
if _area is not None:
    st.caption(f"Macro ROC AUC {data.curves.roc_auc.macro:.4f} is the mean of the per-class "
               f"AUCs; the area under the averaged ROC curve (TPR interpolated on the union of "
               f"all FPRs) is {_area.area:.4f}"
               + ("." if data.curves.exact else " (from the binned curves: approximate)."))
cols[1].metric("AP (macro)", _v if (_v := data.curves.average_precision.macro) is None else f"{_v:.4f}")
cols[2].metric(f"Accuracy ({decision.rule}){sample}", f"{decision.accuracy:.4f}")
cols[3].metric(f"Coverage{sample}", f"{decision.coverage:.2%}",
               help="The share of samples not abstained under the current rule.")

st.subheader("Per class")
st.caption(
    "ROC AUC and AP rank the scores and need no threshold; precision, recall and F1 are those "
    f"of the current decision: **{decision.decision.describe()}** "
    f"({thresholds.RULE_HELP[decision.rule]})."
    " Change it on the Thresholds page."
)
table = metrics_table(data, decision)
delong = data_module.auc_intervals(data)
table.insert(4, f"AUC 95% CI{sample}", [fmt_interval((i.low, i.high)) for i in delong])
boot = st.session_state.get(state.BOOTSTRAP)
boot = boot if boot is not None and boot.key == data.key else None
if boot is not None:
    ap_ci = [boot.summary.of(n)[1].bounds for n in data.curves.names]
    table.insert(6, f"AP 95% CI{sample}", [fmt_interval(c) for c in ap_ci])
    rates = boot.rates_of(decision.decision)  # None: computed for another decision
    for metric, column in (("precision", "precision"), ("recall", "recall"), ("f1", "F1")):
        cis = [fmt_interval(None if rates is None else rates.bounds(n, metric))
               for n in data.curves.names]
        table.insert(table.columns.get_loc(column + sample) + 1, f"{column} 95% CI{sample}", cis)
show_table(table, "overview.table")
widgets.sample_caption(data)
widgets.exact_count(data, decision, "overview.exact")
averages = averages_table(data, decision) if len(data.curves.names) > 1 else None
if averages is not None:
    st.caption("Averages over the classes: micro pools every (sample, class) cell; macro is the "
               "mean of the per-class values; weighted weighs them by support.")
    show_table(averages, "overview.averages")
undefined = [s for s in data.curves.classes if s.reason]
for s in undefined:
    st.info(s.reason)
if decision.multilabel is not None:
    m = decision.multilabel
    st.caption(
        f"Multi-label: subset accuracy {m.subset_accuracy:.4f}, Hamming loss {m.hamming_loss:.4f}, "
        f"binary accuracy (Keras-style, every cell) {m.binary_accuracy:.4f}."
    )

st.subheader("How sure are we?")
st.caption("ROC AUC intervals: DeLong's variance (fast midranks), normal approximation. AP, "
           "micro/macro AUC, accuracy and precision/recall/F1 at the current decision: a "
           "stratified bootstrap of 1000 resamples, seeded.")
if st.button("Bootstrap the other intervals", key=state.OVERVIEW_BOOTSTRAP_BUTTON):
    bar = st.progress(0.0, text="Resampling ...")
    st.session_state[state.BOOTSTRAP] = data_module.bootstrap(
        data, thresholds.decision(), lambda done, text: bar.progress(done, text=text))
    bar.empty()
    st.rerun()
if boot is not None:
    cols = st.columns(3)
    cols[0].metric(f"Accuracy 95% CI (headline rule){sample}", fmt_interval(boot.summary.accuracy.bounds))
    cols[1].metric(f"Micro ROC AUC 95% CI{sample}", fmt_interval(boot.summary.micro.bounds))
    cols[2].metric(f"Macro ROC AUC 95% CI{sample}", fmt_interval(boot.summary.macro.bounds))

st.subheader("Take it away")
cols = st.columns(2)
export = table if averages is None else pd.concat(
    [table, averages.rename(columns={"average": "class"})], ignore_index=True)
cols[0].download_button("Per-class metrics (CSV)", export.to_csv(index=False),
                        file_name="per_class_metrics.csv", mime="text/csv", key=state.OVERVIEW_CSV)
if cols[1].button("Build the HTML report", key=state.OVERVIEW_REPORT_BUILD,
                  help="One self-contained file (plotly inline, works offline) with this view."):
    with st.spinner("Building the report ..."):
        intervals = None if boot is None else boot.summary
        st.session_state[state.REPORT] = (data.key, data_module.report_html(data, decision, intervals))
report = st.session_state.get(state.REPORT)
if report is not None and report[0] == data.key:
    cols[1].download_button("Download the report (HTML)", report[1], file_name="evalcore-report.html",
                            mime="text/html", key=state.OVERVIEW_REPORT_DOWNLOAD)
