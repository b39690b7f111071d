"""Accuracy explained: which accuracy is which, where the threshold of a logit model is, and why
a ROC AUC near 1 can sit beside a precision of 0.9."""

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import thresholds
from dashboard import widgets
from dashboard.widgets import current, global_slider
from evalcore.decisions import accuracy_variants
from evalcore.predictions import logit

data = current()
p = data.predictions
st.title("Accuracy explained")

st.subheader("Which accuracy is this?")
if p.task != "multiclass":
    global_slider(data, "Threshold (probability scale)")
t = thresholds.global_threshold()
acc = accuracy_variants(p, t)
logits = p.conversion == "sigmoid"

rows = [("Keras `metrics=['accuracy']`", acc.keras_accuracy,
         f"Keras 3 picks `{acc.keras_metric}` for this output shape")]
if acc.binary_accuracy is not None:
    rows.append((f"Binary accuracy at {thresholds.describe(data, t)}", acc.binary_accuracy,
                 "every (sample, label) cell right: score >= threshold"))
    rows.append(("`keras.metrics.BinaryAccuracy()` (threshold 0.5 on the raw output)",
                 acc.keras_binary_accuracy,
                 "on logits this is a probability threshold of 0.6225, not 0.5" if logits
                 else "the same as above at 0.5 (Keras counts score > 0.5, not >=)"))
if p.task != "binary":
    rows.append(("Categorical (argmax) accuracy", acc.categorical_accuracy,
                 "argmax(scores) == argmax(y_true)" + (
                     ": for multi-hot labels, is the top label the *first* true label?"
                     if p.task == "multilabel" else "")))
if acc.subset_accuracy is not None:
    rows.append(("Subset accuracy (exact match)", acc.subset_accuracy,
                 "every label of a sample right at once"))
    rows.append(("Hamming loss", acc.hamming_loss, "share of wrong cells = 1 - binary accuracy"))
widgets.show_table(pd.DataFrame(rows, columns=["metric", "value", "what it counts"]),
                   "accuracy.table")
widgets.sample_caption(data)

if p.task == "multilabel":
    st.markdown(
        f"""
**Multi-label outputs.** With a multi-hot `y_true` of shape (N, {len(p.class_names)}), Keras 3
resolves `metrics=['accuracy']` by shapes alone to **categorical accuracy**: it compares the
argmax of the outputs with the argmax of the labels, which for several true labels is the
first one. That is rarely what a multi-label model should be judged by. Ask for
`keras.metrics.BinaryAccuracy(threshold=...)` to score every label, and look at subset
accuracy, Hamming loss and the per-label precision and recall on the Thresholds page.
"""
    )
if logits:
    st.markdown(
        f"""
**Logit outputs.** This model outputs logits (a linear last layer; the scores were converted
with a sigmoid here). A logit of 0 is a probability of 0.5, so the threshold that matches
"probability >= 0.5" is **0 on the logits**. `BinaryAccuracy()` keeps its default threshold 0.5
on whatever it is given, which on logits means probability > 0.6225: here that gives
{acc.keras_binary_accuracy:.4f} instead of {accuracy_variants(p, 0.5).binary_accuracy:.4f}.
Use `BinaryAccuracy(threshold=0.0)` for logits. The threshold you chose, {t:.4f}, is logit
{logit(t):+.4f}.
"""
    )
elif p.task == "multiclass":
    st.markdown(
        """
**Softmax outputs.** Keras reports (sparse) categorical accuracy: the argmax of the scores,
with no threshold. A per-class threshold does not change it; see the Thresholds page for
rules that do (abstain, per-class, priority, weighted, cost).
"""
    )

st.subheader("Why is ROC AUC near 1 while precision is only ~0.9?")
decision = thresholds.confusion(data)
own = decision.counts
one = thresholds.one_vs_rest(data)
curves = data.curves
unit = "label" if p.task == "multilabel" else "class"
ratios = np.array([s.n_negatives / s.support if s.support else np.nan for s in curves.classes])
if p.task == "multilabel":
    st.markdown(
        f"""
Each label's ROC curve sets the samples that have the label against those that do not. The
ROC curve divides false positives by the number of negatives and precision = TP / (TP + FP)
does not, so the more negatives a label has, the more a small false-positive *rate* costs in
precision. Here the labels have between {np.nanmin(ratios):.2f} and {np.nanmax(ratios):.2f}
negatives per positive. The table counts each label under the current thresholds.
"""
    )
else:
    st.markdown(
        f"""
Each one-vs-rest curve sets one class against all the others, so **negatives outnumber
positives**: here {np.nanmin(ratios):.1f} to {np.nanmax(ratios):.1f} negatives per positive
(about K - 1 = {len(p.class_names) - 1} for balanced classes). The ROC curve divides false
positives by the number of negatives, so a small false-positive *rate* can still be many false
positives, and precision = TP / (TP + FP) feels every one of them. The table counts it for the
decision you deploy ({decision.decision.describe()}): its recall and precision are those of the
confusion matrix, and its (FPR, recall) is a point near the top-left corner of the class' ROC
curve, where an AUC near 1 lives.
"""
    )
table = {
    unit: curves.names,
    "positives": [s.support for s in curves.classes],
    "negatives": [s.n_negatives for s in curves.classes],
    "negatives per positive": ratios,
    "ROC AUC": [s.roc_auc for s in curves.classes],
    f"FPR ({decision.rule})": own.fpr,
    f"false positives ({decision.rule})": own.fp,
    f"precision ({decision.rule})": own.precision,
    f"recall ({decision.rule})": own.recall,
}
has_thresholds = np.isfinite(one.thresholds).any()
if has_thresholds and p.task == "multiclass":
    table.update({
        "threshold": one.thresholds,
        "one-vs-rest FPR": np.where(np.isfinite(one.thresholds), one.fpr, np.nan),
        "one-vs-rest precision": np.where(np.isfinite(one.thresholds), one.precision, np.nan),
        "one-vs-rest recall": np.where(np.isfinite(one.thresholds), one.recall, np.nan),
    })
elif has_thresholds:
    table["threshold"] = one.thresholds
frame = pd.DataFrame(table)
widgets.show_table(frame, "accuracy.balance")
if has_thresholds:
    widgets.binned_note(data)
fp = np.where(np.isfinite(own.fpr), own.fp, -1)
worst = int(np.argmax(fp))
s = curves.classes[worst]
st.caption(
    f"For example {s.name!r} under {decision.rule}: an FPR of {widgets.fmt(own.fpr[worst], 4)} is "
    f"{int(own.fp[worst])} false positives among {s.n_negatives} negatives, against "
    f"{int(own.tp[worst])} true positives of {s.support}: precision "
    f"{widgets.fmt(own.precision[worst])}, recall {widgets.fmt(own.recall[worst])}."
    + (" The one-vs-rest columns count the curve alone at each class' threshold, before the "
       "rule weighs the other classes." if has_thresholds and p.task == "multiclass" else "")
)
