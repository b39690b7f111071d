"""Overview: per-class ranking metrics and the current decision's precision/recall/F1."""

import streamlit as st

from dashboard import thresholds
from dashboard.widgets import current, metrics_table

data = current()
p = data.predictions
decision = thresholds.decision(data)

st.title("Overview")
st.caption(
    f"{p.task}, {len(p.class_names)} classes, {p.n_samples:,} samples; scores are "
    f"{p.score_kind}s" + (f" (converted with {p.conversion})" if p.conversion else "")
)
cols = st.columns(4)
cols[0].metric("ROC AUC (macro)", _v if (_v := data.curves.roc_auc.macro) is None else f"{_v:.4f}")
cols[1].metric("AP (macro)", _v if (_v := data.curves.average_precision.macro) is None else f"{_v:.4f}")
cols[2].metric(f"Accuracy ({decision.rule})", f"{decision.accuracy:.4f}")
cols[3].metric("Coverage", f"{decision.coverage:.2%}",
               help="The share of samples not abstained under the current rule.")

st.subheader("Per class")
st.caption(
    "ROC AUC and AP rank the scores and need no threshold; precision, recall and F1 are those "
    f"of the current decision: rule **{decision.rule}** ({thresholds.RULE_HELP[decision.rule]})."
    " Change it on the Thresholds page."
)
table = metrics_table(data, decision)
st.dataframe(
    table, hide_index=True, key="overview.table",
    column_config={c: st.column_config.NumberColumn(format="%.4f")
                   for c in ("prevalence", "ROC AUC", "AP", "threshold", "precision", "recall", "F1")},
)
undefined = [s for s in data.curves.classes if s.reason]
for s in undefined:
    st.info(s.reason)
if decision.multilabel is not None:
    m = decision.multilabel
    st.caption(
        f"Multi-label: subset accuracy {m.subset_accuracy:.4f}, Hamming loss {m.hamming_loss:.4f}, "
        f"binary accuracy (Keras-style, every cell) {m.binary_accuracy:.4f}."
    )
