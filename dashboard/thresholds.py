"""The decision every page shows: rule, global threshold, per-class thresholds; the URL of it.

Thresholds are on the probability scale. Each class uses its own threshold when it has one,
else the global threshold. The state belongs to one dataset (classes and rows): a new dataset
starts from the URL's values (the first time) or from the defaults.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import state
from dashboard.data import Dataset
from evalcore.decisions import DEFAULT_THRESHOLD, RULES_BY_TASK, Confusion, confusion
from evalcore.predictions import logit

RULE_HELP = {
    "argmax": "the top-scoring class (what `model.predict(x).argmax(1)` does): no threshold",
    "abstain": "the top class when its score clears the threshold, else abstain",
    "per-class": "the top class among those clearing their own threshold, else abstain",
    "multilabel": "every label whose score clears its threshold",
    "binary": "the positive class when its score clears the threshold",
}


def init(data: Dataset) -> None:
    """Reset the decision when the dataset changes; restore it from the URL once."""
    ss = st.session_state
    if ss.get(state.DATASET) == data.key:
        return
    rules = RULES_BY_TASK[data.predictions.task]
    rule, global_t, per_class = rules[0], DEFAULT_THRESHOLD, {}
    if not ss.get(state.URL_LOADED):
        ss[state.URL_LOADED] = True
        rule, global_t, per_class = _from_url(data, rule, global_t)
    names = data.curves.names
    state.set_value(state.RULE, rule if rule in rules else rules[0])
    state.set_value(state.GLOBAL, global_t)
    ss[state.PER_CLASS] = {c: t for c, t in per_class.items() if c in names}
    if ss.get(state.CLASS) not in names:
        state.set_value(state.CLASS, names[0])
    ss[state.DATASET] = data.key


def _from_url(data: Dataset, rule: str, global_t: float) -> tuple[str, float, dict]:
    params = st.query_params
    rule = params.get(state.Q_RULE, rule)
    global_t = _number(params.get(state.Q_THRESHOLD), global_t)
    per_class = {}
    for item in params.get_all(state.Q_CLASS_THRESHOLD):
        name, _, value = item.rpartition(":")
        t = _number(value, None)
        if name and t is not None:
            per_class[name] = t
    chosen = params.get(state.Q_CLASS)
    if chosen in data.curves.names:
        state.set_value(state.CLASS, chosen)
    shown = [c for c in params.get_all(state.Q_SHOWN) if c in data.curves.names]
    if shown:
        st.session_state[state.SHOWN] = shown
    return rule, global_t, per_class


def _number(text, default):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return default
    return value if np.isfinite(value) else default


def rule() -> str:
    return st.session_state[state.RULE]


def thresholds(data: Dataset) -> np.ndarray:
    """The threshold of every scored class (its own, else the global one)."""
    per_class = st.session_state.get(state.PER_CLASS, {})
    g = st.session_state[state.GLOBAL]
    return np.array([per_class.get(name, g) for name in data.curves.names], dtype=np.float64)


def decision(data: Dataset) -> Confusion:
    """The confusion of the current rule at the current thresholds."""
    r = rule()
    if r == "abstain":
        return confusion(data.predictions, r, st.session_state[state.GLOBAL])
    return confusion(data.predictions, r, thresholds(data))


def uses_class_thresholds(r: str) -> bool:
    return r in ("per-class", "multilabel", "binary")


def set_class_threshold(data: Dataset, c: int, t: float) -> None:
    """Set class ``c``'s threshold (the global one for single-threshold rules)."""
    name = data.curves.names[c]
    if rule() in ("abstain", "binary"):
        state.set_value(state.GLOBAL, float(t))
    else:
        st.session_state[state.PER_CLASS] = {**st.session_state[state.PER_CLASS], name: float(t)}
    state.set_value(state.CLASS, name)


def describe(data: Dataset, t: float) -> str:
    """A threshold as shown: the probability, and the logit when the input was logits."""
    text = f"{t:.4f}"
    if data.predictions.conversion == "sigmoid":
        text += f" (logit {logit(t):+.3f})"
    return text


def sync_url(data: Dataset) -> None:
    """Write the view into the URL so that it can be shared."""
    params = {state.Q_RULE: rule(), state.Q_THRESHOLD: f"{st.session_state[state.GLOBAL]:.6g}"}
    if data.source.kind == "demo":
        params[state.Q_DEMO] = data.source.key
    if data.split:
        params[state.Q_SPLIT] = data.split
    per_class = st.session_state.get(state.PER_CLASS, {})
    if per_class:
        params[state.Q_CLASS_THRESHOLD] = [f"{c}:{t:.6g}" for c, t in per_class.items()]
    if st.session_state.get(state.CLASS):
        params[state.Q_CLASS] = st.session_state[state.CLASS]
    shown = st.session_state.get(state.SHOWN)
    if shown and len(shown) < len(data.curves.names):
        params[state.Q_SHOWN] = list(shown)
    st.query_params.from_dict(params)


def restore_source_from_url() -> None:
    """Before the sidebar is drawn: a URL naming a demo and a split selects them (once)."""
    ss = st.session_state
    if ss.get(state.URL_SOURCE_LOADED):
        return
    ss[state.URL_SOURCE_LOADED] = True
    demo = st.query_params.get(state.Q_DEMO)
    from evalcore import demos

    if demo in demos.NAMES:
        ss[state.SOURCE_KIND] = "demo"
        ss[state.DEMO] = demo
    split = st.query_params.get(state.Q_SPLIT)
    if split:
        ss[state.SPLIT] = split


def spec(data: Dataset, current: Confusion):
    """The current decision as a deployable thresholds spec."""
    from evalcore.deploy import spec_from_confusion

    provenance = {"source": data.source.label, "content": data.source.key,
                  "split": data.split, "model": data.model, "rows": data.predictions.n_samples}
    return spec_from_confusion(data.predictions, current, provenance)


def restore_spec(data: Dataset, loaded) -> None:
    """Set the rule and thresholds from a spec (call from a callback); InputError when it does
    not fit the data."""
    from evalcore.errors import InputError

    if loaded.classes != data.predictions.class_names:
        raise InputError(f"the thresholds file is for classes {list(loaded.classes)}, the data "
                         f"has {list(data.predictions.class_names)}")
    if loaded.rule not in RULES_BY_TASK[data.predictions.task]:
        raise InputError(f"the thresholds file's rule {loaded.rule!r} does not apply to "
                         f"{data.predictions.task} data")
    state.set_value(state.RULE, loaded.rule)
    values = list(loaded.thresholds.values())
    if loaded.rule in ("abstain", "binary") and values:
        state.set_value(state.GLOBAL, values[0])
        st.session_state[state.PER_CLASS] = {}
    elif values:
        st.session_state[state.PER_CLASS] = dict(loaded.thresholds)
