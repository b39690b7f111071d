"""Widgets and tables shared by the pages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import state, thresholds
from dashboard.data import Dataset
from evalcore.counts import Counts, f_beta
from evalcore.decisions import RULES_BY_TASK, Confusion
from evalcore.errors import InputError
from evalcore.operating import operating_point

DATASET_KEY = "view.dataset"
OBJECTIVES = {
    "f1": "max F1",
    "f0.5": "max F0.5 (precision first)",
    "f2": "max F2 (recall first)",
    "youden": "max Youden's J (TPR - FPR)",
    "recall": "recall >= r (bound the type II error)",
    "precision": "precision >= p",
    "fpr": "FPR <= f (bound the type I error)",
    "cost": "min cost: C_FP x FP + C_FN x FN",
}


def current() -> Dataset:
    """The dataset chosen in the sidebar (set by app.py before the page runs)."""
    return st.session_state[DATASET_KEY]


def rule_selector(data: Dataset) -> str:
    rules = RULES_BY_TASK[data.predictions.task]
    widget = state.persistent(state.RULE, rules[0])
    st.radio(
        "Decision rule", rules, key=widget, on_change=state.save, args=(state.RULE,),
        horizontal=True, captions=[thresholds.RULE_HELP[r] for r in rules],
    )
    return thresholds.rule()


def global_slider(data: Dataset, label: str = "Threshold (all classes)") -> None:
    widget = state.persistent(state.GLOBAL, 0.5)
    st.slider(
        label, 0.0, 1.0, step=0.001, format="%.3f", key=widget,
        on_change=state.save, args=(state.GLOBAL,),
        help="A score clears a threshold when score >= threshold (probability scale).",
    )


def class_selector(data: Dataset) -> int:
    widget = state.persistent(state.CLASS, data.curves.names[0])
    st.selectbox("Class", data.curves.names, key=widget, on_change=state.save, args=(state.CLASS,))
    return data.curves.names.index(st.session_state[state.CLASS])


def class_slider(data: Dataset, c: int) -> None:
    """The selected class' own threshold (falls back to the global one until moved)."""
    name = data.curves.names[c]
    key = f"{state.PER_CLASS}.{name}"
    t = float(thresholds.thresholds(data)[c])
    if st.session_state.get(key) != t:
        st.session_state[key] = t

    def moved() -> None:
        thresholds.set_class_threshold(data, c, st.session_state[key])

    st.slider(f"Threshold of {name}", 0.0, 1.0, step=0.001, format="%.3f", key=key, on_change=moved)


def reset_class_thresholds() -> None:
    st.session_state[state.PER_CLASS] = {}


def objective_controls(data: Dataset, c: int) -> None:
    """Set class c's threshold from an operating-point objective on its exact curve."""
    name = data.curves.names[c]
    cols = st.columns([3, 2, 2])
    kind = cols[0].selectbox("Objective", list(OBJECTIVES), format_func=OBJECTIVES.get,
                             key="thr.objective")
    text = kind
    if kind in ("recall", "precision", "fpr"):
        target = cols[1].number_input(
            {"recall": "r", "precision": "p", "fpr": "f"}[kind], 0.0, 1.0,
            value=0.95 if kind != "fpr" else 0.05, step=0.01, key=f"thr.objective.{kind}",
        )
        text = f"{kind}{'<=' if kind == 'fpr' else '>='}{target}"
    elif kind == "cost":
        c_fp = cols[1].number_input("C_FP", 0.0, value=1.0, key="thr.cost_fp")
        c_fn = cols[2].number_input("C_FN", 0.0, value=5.0, key="thr.cost_fn")
        text = f"cost:{c_fp},{c_fn}"

    def apply() -> None:
        try:
            point = operating_point(data.curves, c, text)
        except InputError as error:
            st.session_state[state.OBJECTIVE_MESSAGE] = str(error)
            return
        if point.threshold is None or not np.isfinite(point.threshold):
            st.session_state[state.OBJECTIVE_MESSAGE] = point.reason or "no threshold"
            return
        thresholds.set_class_threshold(data, c, point.threshold)
        row = point.counts.row(0)
        st.session_state[state.OBJECTIVE_MESSAGE] = (
            f"{name}: threshold {thresholds.describe(data, point.threshold)} for {text}: "
            f"precision {_fmt(row['precision'])}, recall {_fmt(row['recall'])}, "
            f"FPR {_fmt(row['fpr'])} (TP {row['tp']}, FP {row['fp']}, FN {row['fn']})"
        )

    st.button(f"Set the threshold of {name}", on_click=apply, key="thr.objective_apply")
    message = st.session_state.get(state.OBJECTIVE_MESSAGE)
    if message:
        st.caption(message)


def _fmt(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.3f}"


def metrics_table(data: Dataset, decision: Confusion) -> pd.DataFrame:
    """Per class: support, prevalence, ROC AUC, AP, and precision/recall/F1 under the current
    decision; then micro, macro and weighted rows."""
    counts = decision.counts
    per_curve = _curve_counts(data, counts)
    rows = []
    for i, s in enumerate(data.curves.classes):
        rows.append({
            "class": s.name, "support": s.support, "prevalence": s.prevalence,
            "ROC AUC": s.roc_auc, "AP": s.average_precision,
            "threshold": decision.thresholds.get(s.name, np.nan),
            "precision": per_curve.precision[i], "recall": per_curve.recall[i],
            "F1": per_curve.f1[i], "TP": int(per_curve.tp[i]), "FP": int(per_curve.fp[i]),
            "FN": int(per_curve.fn[i]), "TN": int(per_curve.tn[i]),
        })
    support = np.array([s.support for s in data.curves.classes], dtype=np.float64)
    tp, fp, fn = (per_curve.tp.sum(), per_curve.fp.sum(), per_curve.fn.sum())
    averages = {
        "micro": (tp / (tp + fp) if tp + fp else np.nan, tp / (tp + fn) if tp + fn else np.nan,
                  float(f_beta(tp, fp, fn))),
        "macro": tuple(np.nanmean(v) if np.isfinite(v).any() else np.nan
                       for v in (per_curve.precision, per_curve.recall, per_curve.f1)),
        "weighted": tuple(_weighted(v, support)
                          for v in (per_curve.precision, per_curve.recall, per_curve.f1)),
    }
    if len(data.curves.names) > 1:
        for avg, (precision, recall, f1) in averages.items():
            rows.append({
                "class": avg, "support": int(support.sum()) if avg != "micro" else None,
                "ROC AUC": getattr(data.curves.roc_auc, avg),
                "AP": getattr(data.curves.average_precision, avg),
                "precision": precision, "recall": recall, "F1": f1,
            })
    frame = pd.DataFrame(rows)
    for column in ("support", "TP", "FP", "FN", "TN"):
        frame[column] = frame[column].astype("Int64")  # averages rows: <NA>, not 35.0
    return frame


def _curve_counts(data: Dataset, counts: Counts) -> Counts:
    """The counts of the scored classes (binary: the positive class' row only)."""
    if data.predictions.task != "binary":
        return counts
    return Counts(counts.names[1:], counts.tp[1:], counts.fp[1:], counts.fn[1:], counts.tn[1:])


def _weighted(values: np.ndarray, weights: np.ndarray) -> float:
    ok = np.isfinite(values) & (weights > 0)
    return float(np.average(values[ok], weights=weights[ok])) if ok.any() else np.nan


def confusion_table(decision: Confusion, normalize: str | None) -> pd.DataFrame:
    """The K x K (+ abstained) matrix as a table, rows true, columns predicted."""
    matrix = decision.matrix if normalize is None else decision.normalized(normalize)
    frame = pd.DataFrame(matrix, index=list(decision.labels), columns=list(decision.predicted_labels))
    frame.index.name = "true \\ predicted"
    return frame


def counts_2x2(counts: Counts, i: int) -> pd.DataFrame:
    """One class' one-vs-rest counts as a 2 x 2 table."""
    return pd.DataFrame(
        [[int(counts.tp[i]), int(counts.fn[i])], [int(counts.fp[i]), int(counts.tn[i])]],
        index=[f"true {counts.names[i]}", "true other"],
        columns=[f"predicted {counts.names[i]}", "predicted other"],
    )
