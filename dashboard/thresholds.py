"""The decision every page shows, kept as one :class:`~evalcore.decisions.Decision`.

``state.DECISION`` holds the Decision; every page counts it through :func:`confusion` and
every figure, table, download and the URL read it. The controls only edit it:

- the rule radio switches rules (each rule's last parameters are remembered);
- the "all classes" slider (``state.GLOBAL``) moves every class whose threshold equals the
  slider's previous value (the classes not set on their own) and is the one threshold of
  abstain and binary;
- a class slider, an objective or the optimiser sets one class' threshold (or weight).

Thresholds are on the probability scale. The decision belongs to one dataset (its classes and
rows): a new dataset starts from the URL's values (the first time) or from the defaults.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import state
from dashboard.data import Dataset
from evalcore.counts import Counts
from evalcore.decisions import DEFAULT_THRESHOLD, THRESHOLD_RULES, Confusion, Decision
from evalcore.decisions import confusion as count
from evalcore.errors import InputError
from evalcore.predictions import logit, threshold_in_dtype

RULE_HELP = {
    "argmax": "the top-scoring class (what `model.predict(x).argmax(1)` does): no threshold",
    "abstain": "the top class when its score clears the threshold, else abstain",
    "per-class": "the top class among those clearing their own threshold, else abstain",
    "priority": "the first listed class whose score clears its threshold, else the argmax",
    "weighted": "the argmax of weight x score (weight 2 = the class' scores count double)",
    "cost": "the class of least expected cost under a cost matrix",
    "multilabel": "every label whose score clears its threshold",
    "binary": "the positive class when its score clears the threshold",
}


def init(data: Dataset) -> None:
    """Reset the decision when the dataset changes; the view of a link once its data is in."""
    from dashboard import links

    ss = st.session_state
    if ss.get(state.DATASET) == data.key and isinstance(ss.get(state.DECISION), Decision):
        return
    global_t = DEFAULT_THRESHOLD
    decision = Decision.of(data.predictions)
    ss[state.BY_RULE] = {}
    restored = links.view_for(data)
    if restored is not None:
        decision, global_t = restored
    state.set_value(state.GLOBAL, global_t)
    state.set_value(state.RULE, decision.rule)
    ss[state.DECISION] = decision
    ss[state.TUNED] = None
    if ss.get(state.CLASS) not in data.curves.names:
        state.set_value(state.CLASS, data.curves.names[0])
    ss[state.DATASET] = data.key


def decision() -> Decision:
    return st.session_state[state.DECISION]


def global_threshold() -> float:
    """The "all classes" slider's threshold."""
    return float(st.session_state[state.GLOBAL])


def rule() -> str:
    return decision().rule


def confusion(data: Dataset) -> Confusion:
    """The current decision counted on the dataset's rows."""
    return count(data.predictions, decision())


def thresholds(data: Dataset) -> np.ndarray:
    """The threshold acting on each scored class (NaN where the rule uses none)."""
    return decision().class_thresholds()


def one_vs_rest(data: Dataset) -> Counts:
    """Each class' one-vs-rest counts at its threshold, O(K log N) (NaN where the rule uses
    none: figures draw no one-vs-rest marker for it)."""
    return data.curves.counts_at(thresholds(data))


def set_decision(d: Decision, tuned: dict | None = None) -> None:
    """Make ``d`` the decision (call from a callback, before widgets are drawn)."""
    st.session_state[state.DECISION] = d
    st.session_state[state.TUNED] = tuned
    state.set_value(state.RULE, d.rule)
    if d.rule in ("abstain", "binary"):
        state.set_value(state.GLOBAL, d.thresholds[0])


def set_decision_later(d: Decision, tuned: dict | None = None) -> None:
    """Make ``d`` the decision at the next run (from a script body, where the controls are
    drawn already); :func:`apply_pending` sets it before they are drawn again."""
    st.session_state[state.PENDING] = (d, tuned)


def apply_pending() -> None:
    pending = st.session_state.pop(state.PENDING, None)
    if pending is not None:
        set_decision(*pending)


def set_rule(data: Dataset, new: str) -> None:
    """Switch to rule ``new``, restoring its last parameters (or its defaults)."""
    ss = st.session_state
    current = decision()
    remembered = ss.setdefault(state.BY_RULE, {})
    remembered[current.rule] = current
    names = data.predictions.class_names
    g = float(ss[state.GLOBAL])
    if new in remembered:
        d = remembered[new]
        if new == "abstain":
            d = Decision.abstain(names, g)
    elif new == "abstain":
        d = Decision.abstain(names, g)
    elif new in ("per-class", "multilabel", "binary"):
        d = Decision.of(data.predictions, new, g)
    elif new == "priority":
        d = Decision.priority(names, {data.curves.names[_tuned_class(data)]: g})
    elif new == "weighted":
        d = Decision.weighted(names, 1.0)
    elif new == "cost":
        d = Decision.cost(names, 1 - np.eye(len(names)))
    else:
        d = Decision.argmax(names)
    set_decision(d)


def _tuned_class(data: Dataset) -> int:
    names = data.curves.names
    chosen = st.session_state.get(state.CLASS)
    return names.index(chosen) if chosen in names else 0


def set_global(t: float) -> None:
    """The "all classes" slider moved from its previous value to ``t``."""
    ss = st.session_state
    previous = float(ss[state.GLOBAL])
    ss[state.GLOBAL] = float(t)
    d = decision()
    if d.rule in ("abstain", "binary"):
        d = d.with_threshold(0, t)
    elif d.rule in ("per-class", "multilabel"):
        values = [float(t) if v == previous else v for v in d.thresholds]
        d = Decision(d.rule, d.classes, tuple(values))
    else:
        return
    ss[state.DECISION] = d
    ss[state.TUNED] = None


def set_class_threshold(data: Dataset, c: int, t: float) -> None:
    """Set class ``c``'s threshold (abstain, binary: the one threshold; priority: a class not
    listed yet goes first)."""
    d = decision()
    if d.rule not in THRESHOLD_RULES:
        raise InputError(f"the {d.rule} rule has no thresholds")
    set_decision(d.with_threshold(c, float(t)))
    state.set_value(state.CLASS, data.curves.names[c])


def set_weight(c: int, w: float) -> None:
    set_decision(decision().with_weight(c, float(w)))


def describe(data: Dataset, t: float) -> str:
    """A threshold as shown: the probability, and the logit when the input was logits."""
    if not np.isfinite(t):
        return "none"
    text = f"{t:.4f}"
    if data.predictions.conversion == "sigmoid":
        text += f" (logit {logit(t):+.3f})"
    return text


# --------------------------------------------------------------------------- thresholds files


def spec(data: Dataset, current: Confusion):
    """The current decision as a deployable thresholds spec."""
    from evalcore.deploy import spec_from_confusion

    provenance = {"source": data.source.label, "content": data.source.key,
                  "split": data.split, "model": data.model, "rows": data.predictions.n_samples}
    tuned = st.session_state.get(state.TUNED)
    if tuned:
        provenance["tuned_on"] = tuned
    return spec_from_confusion(data.predictions, current, provenance)


def restore_spec(data: Dataset, loaded) -> None:
    """Set the decision from a spec (call from a callback); InputError when it does not fit
    the data."""
    d = loaded.check(data.predictions)
    set_decision(d)


def one_vs_rest_slack(data: Dataset) -> tuple[np.ndarray, np.ndarray] | None:
    """Binned statistics count at bin edges: how many positives and negatives each class'
    one-vs-rest count at its threshold may miss (those of the bin the threshold falls in, at
    or above it: the exact TP is in [TP, TP + slack]); None when every curve is exact."""
    if data.curves.exact:
        return None
    t = thresholds(data)
    pos, neg = np.zeros(len(t), dtype=np.int64), np.zeros(len(t), dtype=np.int64)
    for c, stats in enumerate(data.curves.stats):
        if stats.exact or not np.isfinite(t[c]):
            continue
        key = threshold_in_dtype(float(t[c]), stats.values.dtype)
        i = int(np.searchsorted(stats.values, key, side="left"))
        if i > 0 and (i == stats.values.size or stats.values[i] != key):
            pos[c], neg[c] = int(stats.pos[i - 1]), int(stats.neg[i - 1])
    return pos, neg
