"""The "optimise every class" panel: objective, constraints, the split to tune on, a progress
bar; the result becomes the decision, and the page says which split it was chosen on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import state, thresholds
from dashboard.data import Dataset
from evalcore.counts import fmt
from evalcore.errors import InputError
from evalcore.optimise import optimise, score

OBJECTIVES = {"macro-f1": "maximise macro-F1", "accuracy": "maximise accuracy",
              "cost": "minimise the cost (a missed class costs more)"}
METRICS = ("recall", "precision", "fpr")
CONSTRAINTS = "thr.opt.constraints"
TUNE_SPLITS = ("validation", "val", "valid", "dev")


def panel(data: Dataset) -> None:
    p = data.predictions
    names = list(data.curves.names)
    d = thresholds.decision()
    cols = st.columns([2, 2, 2])
    objective = cols[0].selectbox("Optimise for", list(OBJECTIVES), format_func=OBJECTIVES.get,
                                  key=state.THR_OPT_OBJECTIVE)
    costs = None
    if objective == "cost":
        missed = cols[1].selectbox("A missed", p.class_names, key=state.THR_OPT_COST_CLASS)
        price = cols[2].number_input("costs", 0.0, value=5.0, key=state.THR_OPT_COST_X)
        k = len(p.class_names)
        costs = 1 - np.eye(k)
        costs[p.class_names.index(missed), :] = price
        costs[p.class_names.index(missed), p.class_names.index(missed)] = 0.0
        if d.abstains:
            abstain = st.number_input("Abstaining costs", 0.0, value=0.5, key=state.THR_OPT_COST_ABSTAIN)
            costs = np.column_stack([costs, np.full(k, abstain)])
    splits = data.loaded.predictions.splits
    default = next((s for s in TUNE_SPLITS if s in splits), data.split)
    tune_split = data.split
    if len(splits) > 1:
        tune_split = cols[-1 if objective != "cost" else 0].selectbox(
            "Tune on split", splits, index=splits.index(default) if default in splits else 0,
            key=state.THR_OPT_SPLIT,
            help="Choose the thresholds on one split and read them on another (the one shown).")
    st.caption("Constraints (optional): a class' recall or precision at least, or FPR at most.")
    blank = pd.DataFrame({"metric": pd.Series([], dtype=str), "class": pd.Series([], dtype=str),
                          "bound": pd.Series([], dtype=float)})
    table = st.data_editor(
        blank, num_rows="dynamic",
        key=CONSTRAINTS, width="stretch",
        column_config={
            "metric": st.column_config.SelectboxColumn("metric", options=list(METRICS)),
            "class": st.column_config.SelectboxColumn("class", options=names),
            "bound": st.column_config.NumberColumn("bound", min_value=0.0, max_value=1.0,
                                                   step=0.01, format="%.3f"),
        })
    coverage = 0.0
    if d.abstains:
        coverage = st.number_input("Coverage at least (0: no constraint)", 0.0, 1.0, value=0.0,
                                   step=0.01, key=state.THR_OPT_COVERAGE)
    constraints = [
        f"{row.metric}({row['class']}){'<=' if row.metric == 'fpr' else '>='}{row.bound}"
        for _, row in table.dropna().iterrows()
    ] + ([f"coverage>={coverage}"] if coverage > 0 else [])
    if st.button("Optimise every class", key=state.THR_OPT_RUN, type="primary"):
        _run(data, objective, costs, constraints, tune_split)
        st.rerun()
    message = st.session_state.get(state.OPTIMISE_MESSAGE)
    if message:
        (st.success if message[0] else st.warning)(message[1])


def _run(data: Dataset, objective: str, costs, constraints: list[str],
         tune_split: str | None) -> None:
    """Run the optimiser with a progress bar; the result becomes the decision."""
    p = data.predictions
    tune = p if tune_split == data.split else data.loaded.predictions.select(
        split=tune_split, model=data.model)
    start = thresholds.decision()
    bar = st.progress(0.0, text="Optimising ...")

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / total, 1.0), text=f"Optimising: step {done} of at most {total}")

    try:
        result = optimise(tune, start, objective, costs=costs, constraints=tuple(constraints),
                          progress=progress)
        shown_before = score(p, start, objective, costs=costs, constraints=result.constraints)
        shown_after = score(p, result.decision, objective, costs=costs,
                            constraints=result.constraints)
    except InputError as error:
        bar.empty()
        st.session_state[state.OPTIMISE_MESSAGE] = (False, str(error))
        return
    bar.empty()
    tuned = {"split": tune_split, "objective": objective, "constraints": constraints,
             "before": result.before.objective, "after": result.after.objective,
             "shown_before": shown_before.objective, "shown_after": shown_after.objective}
    thresholds.set_decision_later(result.decision, tuned)
    lines = [f"{objective} on {_rows(tune_split, tune)}: {result.before.objective:.4f} -> "
             f"{result.after.objective:.4f}"]
    for c, before, after in zip(result.constraints, result.before.constraints,
                                result.after.constraints):
        lines.append(f"{c.text}: {fmt(before)} -> {fmt(after)}")
    if not result.feasible:
        lines.append("No decision of this rule meets every constraint; the closest is set.")
    st.session_state[state.OPTIMISE_MESSAGE] = (result.feasible, "  \n".join(lines))


def provenance(data: Dataset, tuned: dict) -> str:
    """Which split the current decision was chosen on, and how it reads on the split shown."""
    text = (f"Chosen by the optimiser ({tuned['objective']}) on "
            f"{'split ' + repr(tuned['split']) if tuned['split'] else 'these rows'}: "
            f"{tuned['before']:.4f} -> {tuned['after']:.4f} there.")
    if tuned["split"] != data.split:
        text += (f" On the split shown ({data.split!r}): {tuned['shown_before']:.4f} -> "
                 f"{tuned['shown_after']:.4f}.")
    else:
        text += " Read on the rows it was tuned on: expect these numbers to be optimistic."
    return text


def _rows(split: str | None, p) -> str:
    return f"{p.n_samples:,} rows" + (f" of split {split!r}" if split else "")


