"""Widgets and tables shared by the pages. Controls edit the decision only through
:mod:`dashboard.thresholds`; tables show the decision's own counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import state, thresholds
from dashboard.data import Dataset
from evalcore import figures
from evalcore.counts import Counts
from evalcore.counts import MISSING, fmt as format_value
from evalcore.decisions import RULES_BY_TASK, Confusion, Decision
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

    def changed() -> None:
        thresholds.set_rule(data, st.session_state[widget])

    st.radio(
        "Decision rule", rules, key=widget, on_change=changed, horizontal=True,
        captions=[thresholds.RULE_HELP[r] for r in rules],
    )
    return thresholds.rule()


def global_slider(data: Dataset, label: str = "Threshold (all classes)") -> None:
    widget = state.persistent(state.GLOBAL, 0.5)
    st.slider(
        label, 0.0, 1.0, step=0.001, format="%.3f", key=widget,
        on_change=lambda: thresholds.set_global(st.session_state[widget]),
        help="A score clears a threshold when score >= threshold (probability scale). Moves "
             "every class whose threshold was the slider's value.",
    )


def class_selector(data: Dataset, label: str = "Class") -> int:
    widget = state.persistent(state.CLASS, data.curves.names[0])
    st.selectbox(label, data.curves.names, key=widget, on_change=state.save, args=(state.CLASS,))
    return data.curves.names.index(st.session_state[state.CLASS])


def class_slider(data: Dataset, c: int) -> None:
    """Class c's own threshold, written to the decision when moved."""
    name = data.curves.names[c]
    key = f"{state.PER_CLASS}.{name}"
    t = float(thresholds.thresholds(data)[c])
    value = t if np.isfinite(t) else float(st.session_state[state.GLOBAL])
    if st.session_state.get(key) != value:
        st.session_state[key] = min(max(value, 0.0), 1.0)

    def moved() -> None:
        thresholds.set_class_threshold(data, c, st.session_state[key])

    st.slider(f"Threshold of {name}", 0.0, 1.0, step=0.001, format="%.3f", key=key,
              on_change=moved)


def priority_editor(data: Dataset) -> None:
    """The priority order (a multiselect keeps the order of choice) and each listed class'
    threshold."""
    d = thresholds.decision()
    names = data.curves.names
    key = "thr.priority_order"
    listed = [d.classes[c] for c in d.order]
    if st.session_state.get(key) != listed:
        st.session_state[key] = listed

    def reordered() -> None:
        chosen = st.session_state[key]
        g = float(st.session_state[state.GLOBAL])
        values = {n: (d.thresholds[names.index(n)] if names.index(n) in d.order else g)
                  for n in chosen}
        thresholds.set_decision(Decision.priority(d.classes, values))

    st.multiselect("Checked first to last (else the argmax)", names, key=key,
                   on_change=reordered,
                   help="A sample is predicted as the first class in this list whose score "
                        "clears its threshold; if none does, as its top-scoring class.")


def weight_editor(data: Dataset, c: int) -> None:
    """Class c's weight (its scores count w times)."""
    name = data.curves.names[c]
    key = f"{state.WEIGHT}.{name}"
    w = float(thresholds.decision().weights[c])
    if st.session_state.get(key) != w:
        st.session_state[key] = w
    st.number_input(f"Weight of {name}", min_value=0.0, step=0.1, format="%.4g", key=key,
                    on_change=lambda: thresholds.set_weight(c, st.session_state[key]),
                    help="Predict the argmax of weight x score: a weight of 2 is the same as "
                         "halving the class' threshold T = 1 / weight.")
    weights = thresholds.decision().weights
    st.caption("Weights: " + ", ".join(f"{n} {v:.4g}" for n, v in zip(data.curves.names, weights)))


def cost_editor(data: Dataset) -> None:
    """The cost matrix (rows true, columns predicted, an optional abstained column) in a data
    editor, with presets."""
    d = thresholds.decision()
    names = list(data.predictions.class_names)
    k = len(names)
    cols = st.columns([2, 2, 1, 2])
    target = cols[0].selectbox("A missed class", names, key=state.THR_COST_CLASS)
    price = cols[1].number_input("costs", min_value=0.0, value=5.0, step=1.0, key=state.THR_COST_X)
    abstain = cols[3].number_input("Abstaining costs (0: no abstain column)", min_value=0.0,
                                   value=0.0, step=0.1, key=state.THR_COST_ABSTAIN)

    def preset(kind: str) -> None:
        m = 1 - np.eye(k)
        if kind == "missed":
            m[names.index(target), :] = price
            m[names.index(target), names.index(target)] = 0.0
        if abstain > 0:
            m = np.column_stack([m, np.full(k, abstain)])
        thresholds.set_decision(Decision.cost(names, m))

    cols[2].button("Apply", key=state.THR_COST_MISSED, on_click=preset, args=("missed",))
    st.button("0-1 loss (the argmax)", key=state.THR_COST_ZERO_ONE, on_click=preset, args=("zero-one",))
    columns = names + (["abstained"] if d.abstains else [])
    frame = pd.DataFrame(np.array(d.costs), index=names, columns=columns)
    frame.index.name = "true \\ predicted"

    def edited() -> None:
        change = st.session_state[state.COSTS]
        m = np.array(d.costs, dtype=np.float64)
        for row, values in change.get("edited_rows", {}).items():
            for column, value in values.items():
                if value is not None:
                    m[int(row), columns.index(column)] = float(value)
        thresholds.set_decision(Decision.cost(names, m))

    st.data_editor(frame, key=state.COSTS, on_change=edited, width="stretch",
                   column_config={c: st.column_config.NumberColumn(c, min_value=0.0, format="%.4g")
                                  for c in columns})


def objective_controls(data: Dataset, c: int) -> None:
    """Set class c's threshold (or weight) from an objective, counted under the decision."""
    name = data.curves.names[c]
    cols = st.columns([3, 2, 2])
    kind = cols[0].selectbox("Objective", list(OBJECTIVES), format_func=OBJECTIVES.get,
                             key=state.THR_OBJECTIVE)
    text = kind
    if kind in ("recall", "precision", "fpr"):
        target = cols[1].number_input(
            {"recall": "r", "precision": "p", "fpr": "f"}[kind], 0.0, 1.0,
            value=0.95 if kind != "fpr" else 0.05, step=0.01, key=f"thr.objective.{kind}",
        )
        text = f"{kind}{'<=' if kind == 'fpr' else '>='}{target:g}"
    elif kind == "cost":
        c_fp = cols[1].number_input("C_FP", 0.0, value=1.0, key=state.THR_COST_FP)
        c_fn = cols[2].number_input("C_FN", 0.0, value=5.0, key=state.THR_COST_FN)
        text = f"cost:{c_fp:g},{c_fn:g}"

    def apply() -> None:
        d = thresholds.decision()
        st.session_state[state.SUGGESTION] = None
        try:
            point = operating_point(data.predictions, c, text, decision=d)
        except InputError as error:
            st.session_state[state.OBJECTIVE_MESSAGE] = str(error)
            return
        if not point.feasible:
            st.session_state[state.OBJECTIVE_MESSAGE] = point.reason
            if "priority rule" in (point.reason or ""):
                fix = operating_point(data.predictions, c, text,
                                      decision=Decision.priority(d.classes, {}))
                st.session_state[state.SUGGESTION] = (fix.decision, _answer(data, fix, text))
            return
        thresholds.set_decision(point.decision)
        state.set_value(state.CLASS, name)
        st.session_state[state.OBJECTIVE_MESSAGE] = _answer(data, point, text)

    st.button(f"Set the {'weight' if thresholds.rule() == 'weighted' else 'threshold'} of "
              f"{name}", on_click=apply, key=state.THR_OBJECTIVE_APPLY)
    message = st.session_state.get(state.OBJECTIVE_MESSAGE)
    if message:
        st.caption(message)
    suggestion = st.session_state.get(state.SUGGESTION)
    if suggestion:
        st.button(f"Use the priority rule instead: {suggestion[0].describe()}",
                  key=state.THR_USE_SUGGESTION, on_click=_use_suggestion, args=(suggestion,))


def _use_suggestion(suggestion) -> None:
    decision, message = suggestion
    thresholds.set_decision(decision)
    st.session_state[state.OBJECTIVE_MESSAGE] = message
    st.session_state[state.SUGGESTION] = None


def _answer(data: Dataset, point, text: str) -> str:
    """What an objective set, in the decision's own counts (those of the matrix below)."""
    row = point.counts.row(0)
    value = (f"weight {point.threshold:.4g}" if point.parameter == "weight"
             else f"threshold {thresholds.describe(data, point.threshold)}")
    return (f"{point.class_name}: {value} for {text} under the {point.rule} rule: precision "
            f"{fmt(row['precision'])}, recall {fmt(row['recall'])}, FPR {fmt(row['fpr'])} "
            f"(TP {row['tp']}, FP {row['fp']}, FN {row['fn']}), counted as the matrix counts.")


def fmt(value, digits: int = 3) -> str:
    """A number for the page (``evalcore.counts.fmt``, 3 decimals by default)."""
    return format_value(value, digits)


def show_table(frame: pd.DataFrame, key: str, *, digits: int = 4, signed: tuple[str, ...] = (),
               height: int | None = None) -> None:
    """An ``st.dataframe`` of ``frame`` as every page shows tables: float columns to ``digits``
    decimals (``signed`` ones with their sign), missing values as "n/a" (not "None")."""
    shown = frame.copy()
    config = {}
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind not in "fiu":
            continue
        number = f"%{'+' if column in signed else ''}.{digits}f" if values.dtype.kind == "f" else "%d"
        if values.isna().any():  # the grid writes "None" for a missing number: text instead
            shown[column] = [format_value(None) if v != v else number % v for v in values]
            config[column] = st.column_config.TextColumn(column, alignment="right")
        else:
            config[column] = st.column_config.NumberColumn(column, format=number)
    st.dataframe(shown, hide_index=True, key=key, column_config=config,
                 height=height or min(36 * (len(frame) + 1) + 3, 900))


def metrics_table(data: Dataset, decision: Confusion) -> pd.DataFrame:
    """Per class: support, prevalence, ROC AUC, AP, the threshold (where the rule has one) and
    precision/recall/F1 and the counts under the current decision (its own)."""
    counts = decision.counts
    t = decision.decision.class_thresholds()
    rows = []
    for i, s in enumerate(data.curves.classes):
        rows.append({
            "class": s.name, "support": s.support, "prevalence": s.prevalence,
            "ROC AUC": s.roc_auc, "AP": s.average_precision, "threshold": t[i],
            "precision": counts.precision[i], "recall": counts.recall[i],
            "F1": counts.f1[i], "TP": int(counts.tp[i]), "FP": int(counts.fp[i]),
            "FN": int(counts.fn[i]), "TN": int(counts.tn[i]),
        })
    frame = pd.DataFrame(rows).astype({"ROC AUC": float, "AP": float})
    if not np.isfinite(t).any():
        frame = frame.drop(columns="threshold")  # argmax, weighted, cost: no threshold
    if data.sampled:  # support, AUC, AP: every row; the decision's counts: the sample
        frame = _sample_columns(frame, ("precision", "recall", "F1", "TP", "FP", "FN", "TN"))
    return frame


def _sample_columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``columns`` named as counted on the sample of a server dataset."""
    return frame.rename(columns={c: f"{c} (sample)" for c in columns})


def averages_table(data: Dataset, decision: Confusion) -> pd.DataFrame:
    """Micro, macro and weighted ROC AUC, AP, and precision/recall/F1 of the decision."""
    support = int(np.sum([s.support for s in data.curves.classes]))
    rows = []
    for avg, (precision, recall, f1) in decision.counts.averages().items():
        rows.append({
            "average": avg, "support": support,
            "ROC AUC": getattr(data.curves.roc_auc, avg),
            "AP": getattr(data.curves.average_precision, avg),
            "precision": precision, "recall": recall, "F1": f1,
        })
    frame = pd.DataFrame(rows).astype({"ROC AUC": float, "AP": float})
    return _sample_columns(frame, ("precision", "recall", "F1")) if data.sampled else frame


def split_table(data: Dataset) -> pd.DataFrame:
    """Per class (and micro/macro): ROC AUC and AP of every split, and each other split's
    difference from the split shown."""
    from dashboard.data import split_curves_for

    splits = data.loaded.predictions.splits
    curves = {s: split_curves_for(data, s) for s in splits}
    names = list(data.curves.names)
    rows = []
    for i, name in enumerate([*names, "micro", "macro"]):
        row: dict[str, object] = {"class": name}
        for metric, label in (("roc_auc", "AUC"), ("average_precision", "AP")):
            shown = _metric(curves[data.split], metric, i, len(names))
            for s in splits:
                row[f"{label} {s}"] = _metric(curves[s], metric, i, len(names))
            for s in splits:
                if s != data.split:
                    value = row[f"{label} {s}"]
                    row[f"{label} {s} − {data.split}"] = (
                        np.nan if value is None or shown is None else value - shown)
        rows.append(row)
    return pd.DataFrame(rows).astype({c: float for c in rows[0] if c != "class"})


def _metric(curves, metric: str, i: int, k: int) -> float | None:
    if i < k:
        return getattr(curves.classes[i], metric)
    return getattr(getattr(curves, metric), "micro" if i == k else "macro")


def confusion_table(decision: Confusion, normalize: str | None) -> pd.DataFrame:
    """The K x K (+ abstained) matrix as a table, rows true, columns predicted."""
    matrix = decision.matrix if normalize is None else decision.normalized(normalize)
    frame = pd.DataFrame(matrix, index=list(decision.labels), columns=list(decision.predicted_labels))
    frame.index.name = "true \\ predicted"
    return frame


def counts_2x2(counts: Counts, i: int) -> pd.DataFrame:
    """One class' counts as a 2 x 2 table."""
    return pd.DataFrame(
        [[int(counts.tp[i]), int(counts.fn[i])], [int(counts.fp[i]), int(counts.tn[i])]],
        index=[f"true {counts.names[i]}", "true other"],
        columns=[f"predicted {counts.names[i]}", "predicted other"],
    )


def exact_count(data: Dataset, shown: Confusion, key: str) -> None:
    """A server dataset whose pages count a sample: "Count exactly" counts the current
    decision over every row, on the click only. Its result is shown only while the decision
    is the one it was counted for (a number beside a decision is that decision's own)."""
    if not data.sampled:
        return
    from dashboard.data import count_exactly

    d, n = shown.decision, data.full.n_rows
    clicked = st.button("Count exactly", key=key, icon=":material/functions:",
                        help=f"Count this decision over all {n:,} rows (one DuckDB scan).")
    if clicked:
        with st.spinner(f"Counting {d.describe()} over all {n:,} rows ..."):
            try:
                result = count_exactly(data, d)
            except InputError as error:
                st.error(str(error).splitlines()[0], icon=":material/error:")
                return
        st.session_state[state.EXACT] = (data.key, result)
    stored = st.session_state.get(state.EXACT)
    if stored is None or stored[0] != data.key:
        return
    result = stored[1]
    if result.decision != d:
        st.caption(f"The exact count was of another decision ({result.decision.describe()}) "
                   "and is hidden: **Count exactly** again for this one.")
        return
    exact = result.confusion
    with st.container(key=f"{key}-result"):
        st.success(f"Exact: {d.describe()} counted over all {result.n_rows:,} rows in "
                   f"{result.seconds:.1f} s.", icon=":material/check_circle:")
        m = st.columns(3)
        m[0].metric("Accuracy (every row)", f"{exact.accuracy:.4f}")
        m[1].metric("Coverage (every row)", f"{exact.coverage:.2%}")
        m[2].metric("Accuracy on covered (every row)", fmt(exact.covered_accuracy, 4))
        if exact.matrix is not None:
            st.table(confusion_table(exact, None))
        counts = exact.counts
        st.table(pd.DataFrame({
            "TP": counts.tp, "FP": counts.fp, "FN": counts.fn, "TN": counts.tn,
            "precision": counts.precision, "recall": counts.recall, "F1": counts.f1,
        }, index=list(counts.names)).style.format(
            {k: "{:.4f}" for k in ("precision", "recall", "F1")}, na_rep=MISSING))


def sample_caption(data: Dataset) -> None:
    """Under a count of the rows: which rows (a server dataset's sample, when it is one)."""
    if data.sampled:
        from dashboard.data import SAMPLE_SEED

        st.caption(f"Counted on the stratified sample of {data.predictions.n_samples:,} of "
                   f"{data.full.n_rows:,} rows (seed {SAMPLE_SEED}).")


def binned_note(data: Dataset) -> None:
    """Binned statistics: how far each class' one-vs-rest counts at its threshold may be off
    (nothing when the curves are exact)."""
    slack = thresholds.one_vs_rest_slack(data)
    if slack is None or not np.isfinite(thresholds.thresholds(data)).any():
        return  # exact, or a rule without thresholds: no one-vs-rest count at one
    parts = [f"{n} TP +{p:,}, FP +{q:,}" for n, p, q in zip(data.curves.names, *slack)
             if p or q]
    st.caption("Binned statistics: the curves are drawn from scores pooled into bins; the "
               "one-vs-rest counts at the thresholds may miss rows scoring just above them"
               + (f" (at most: {'; '.join(parts)})." if parts else " (none at these thresholds)."))


# --------------------------------------------------------------------------- live charts


def live_figure(kind: str, data: Dataset, c: int, build, move):
    """The figure of class ``c`` built once per dataset and class, then moved in place
    (``move(fig)``: the markers and lines of the current decision), so that a slider move
    redraws no curve."""
    key = (kind, data.key, c)
    store = st.session_state.setdefault(state.FIGURES, {})
    if key not in store:
        for old in [k for k in store if k[0] == kind]:  # one figure of each kind
            del store[old]
        store[key] = build()
    else:
        move(store[key])
    return store[key]


def _pick_from_chart(data: Dataset, chart_key: str, fig) -> None:
    """on_select of a curve: set that class' threshold to the clicked point's."""
    event = st.session_state.get(chart_key) or {}
    points = event.get("selection", {}).get("points", [])
    if thresholds.rule() not in ("abstain", "per-class", "priority", "multilabel", "binary"):
        return
    for c, t in figures.selected_thresholds(fig, points):
        if t == t and t != float("inf"):
            thresholds.set_class_threshold(data, c, t)
            return


def clickable_chart(data: Dataset, fig, key: str) -> None:
    """A curve chart whose clicked point sets that class' threshold."""
    st.plotly_chart(fig, key=key, on_select=lambda: _pick_from_chart(data, key, fig),
                    selection_mode="points")


def tuned_class(data: Dataset) -> int:
    """The class the Thresholds page tunes (the first until one is chosen)."""
    names = data.curves.names
    chosen = st.session_state.get(state.CLASS)
    return names.index(chosen) if chosen in names else 0
