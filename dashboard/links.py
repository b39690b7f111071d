"""A view is an address: the URL holds the data (a demo's name, or the content hash of an
upload kept in the store), the split, the column mapping, the decision, the tuned class and
the classes shown; the path is the page. Opened on the same server (a refresh, a colleague's
browser), it restores the exact view. When the data is no longer in the store, the page says
what it was made on and keeps the link; uploading the same file applies the view. A dataset
on the server is named by its path under the data directory (``server``); a server without
that directory or file says so in one line.

Query parameters: ``demo`` | ``data`` (+ ``file``, the name shown) | ``server``, ``split``,
``model``,
``map`` (the overrides, JSON), ``rule``, ``t`` (the slider), ``ct=name:t`` (classes whose
threshold differs from ``t``; the priority order for priority), ``cw=name:w``,
``cost=row;row``, ``class``, ``show``.
"""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from dashboard import server_data, state
from dashboard.data import Dataset, Source, stored_source
from evalcore.decisions import RULES_BY_TASK, Decision
from evalcore.errors import InputError
from evalcore.io import Mapping

Q_DATA, Q_FILE, Q_MODEL, Q_MAP = "data", "file", "model", "map"


def capture() -> None:
    """On a session's first run: keep the URL it was opened with (every later run rewrites the
    URL), and select the data it names before the sidebar is drawn."""
    ss = st.session_state
    if state.URL_VIEW in ss:
        return
    params = st.query_params
    view = {key: params.get_all(key) for key in params}
    ss[state.URL_VIEW] = view
    from evalcore import demos

    demo = _one(view, state.Q_DEMO)
    key = _one(view, Q_DATA)
    path = _one(view, state.Q_SERVER)
    if path:
        _open_server_link(path)
    elif demo in demos.NAMES:
        ss[state.SOURCE_KIND] = "demo"
        ss[state.DEMO] = demo
    elif key:
        source = stored_source(key)
        if source is not None:
            ss[state.ACTIVE] = (source, _mapping(view))
            ss[state.SOURCE_KIND] = source.kind
        else:
            ss[state.MISSING] = (key, _one(view, Q_FILE) or "an uploaded file")
    _select_rows(view)


def _open_server_link(path: str) -> None:
    """Select the server dataset a link names, when this server has it (else say why)."""
    from evalcore.errors import InputError

    ss = st.session_state
    if server_data.data_dir() is None:
        ss[state.SERVER_MISSING] = (f"This view was made on the server dataset **{path}**, "
                                    "but this server has no data directory "
                                    f"({server_data.DATA_DIR_ENV}): the pages show the demo.")
        return
    try:
        server_data.resolve(path)
    except InputError as error:
        ss[state.SERVER_MISSING] = (f"This view was made on the server dataset **{path}**, "
                                    f"which this server cannot open ({error}): the pages show "
                                    "the demo.")
        return
    ss[state.SOURCE_KIND] = "server"
    ss[state.SERVER_PATH] = path


def _select_rows(view: dict) -> None:
    for key, param in ((state.SPLIT, state.Q_SPLIT), (state.MODEL, Q_MODEL)):
        value = _one(view, param)
        if value:
            st.session_state[key] = value


def pending(source: Source) -> None:
    """A source just loaded: when it is the data a link was waiting for, its split and model
    are selected (before the sidebar draws them) and the view will apply."""
    ss = st.session_state
    view = ss.get(state.URL_VIEW)
    if view and _link_key(view, source) == source.key:
        ss.pop(state.MISSING, None)
        _select_rows(view)


def mapping_for(source: Source) -> Mapping | None:
    """The column mapping a waiting link gives to ``source`` (None: not that link's data)."""
    view = st.session_state.get(state.URL_VIEW)
    if view and _link_key(view, source) == source.key:
        return _mapping(view)
    return None


def _link_key(view: dict, source: Source) -> str | None:
    """The key a link gives to data of ``source``'s kind (an upload's hash, a server path)."""
    return _one(view, state.Q_SERVER if source.kind == "server" else Q_DATA)


def missing_notice() -> None:
    """In the main panel: the data a link was made on, when it is no longer on this server."""
    server = st.session_state.get(state.SERVER_MISSING)
    if server:
        st.warning(server, icon=":material/link_off:")
    missing = st.session_state.get(state.MISSING)
    if missing:
        key, name = missing
        st.warning(f"This view was made on **{name}** (sha256 {key[:12]}…), which is no longer "
                   "on this server: upload the same file to restore the view. Until then the "
                   "pages show the demo.", icon=":material/link_off:")


def view_for(data: Dataset) -> tuple[Decision, float] | None:
    """The decision and slider value of the link the session was opened with, once, when
    ``data`` is its data (None otherwise)."""
    ss = st.session_state
    view = ss.get(state.URL_VIEW)
    if not view or not _matches(view, data):
        return None
    ss[state.URL_VIEW] = {}  # applied: later datasets start from the defaults
    chosen = _one(view, state.Q_CLASS)
    if chosen in data.curves.names:
        state.set_value(state.CLASS, chosen)
    shown = [c for c in view.get(state.Q_SHOWN, []) if c in data.curves.names]
    if shown:
        ss[state.SHOWN] = shown
    return _decision(view, data)


def _matches(view: dict, data: Dataset) -> bool:
    key, demo = _one(view, Q_DATA), _one(view, state.Q_DEMO)
    path = _one(view, state.Q_SERVER)
    if path:
        return data.source.kind == "server" and data.source.key == path
    if key:
        return data.source.key == key
    if demo:
        return data.source.kind == "demo" and data.source.key == demo
    return True


def sync(data: Dataset) -> None:
    """Write the view into the URL, ready to share (not while a link waits for its data: the
    address bar keeps the link)."""
    if st.session_state.get(state.MISSING) or st.session_state.get(state.SERVER_MISSING):
        return
    from dashboard import thresholds

    d = thresholds.decision()
    g = float(st.session_state[state.GLOBAL])
    params: dict[str, object] = {}
    if data.source.kind == "demo":
        params[state.Q_DEMO] = data.source.key
    else:
        if data.source.kind == "server":
            params[state.Q_SERVER] = data.source.key
        else:
            params[Q_DATA] = data.source.key
            params[Q_FILE] = data.source.label
        fields = {k: v for k, v in data.mapping.__dict__.items() if v is not None}
        if fields:
            params[Q_MAP] = json.dumps(fields, separators=(",", ":"))
    if data.split:
        params[state.Q_SPLIT] = data.split
    if data.model:
        params[Q_MODEL] = data.model
    params[state.Q_RULE] = d.rule
    params[state.Q_THRESHOLD] = _text(g)
    if d.rule == "priority":
        params[state.Q_CLASS_THRESHOLD] = [f"{d.classes[c]}:{_text(d.thresholds[c])}"
                                           for c in d.order]
    elif d.rule in ("per-class", "multilabel"):
        params[state.Q_CLASS_THRESHOLD] = [f"{n}:{_text(t)}" for n, t in zip(d.scored, d.thresholds)
                                           if t != g]
    elif d.rule in ("abstain", "binary"):
        params[state.Q_THRESHOLD] = _text(d.thresholds[0])
    elif d.rule == "weighted":
        params[state.Q_CLASS_WEIGHT] = [f"{n}:{_text(w)}" for n, w in zip(d.classes, d.weights)
                                        if w != 1.0]
    elif d.rule == "cost":
        params[state.Q_COST] = ";".join(",".join(_text(v) for v in row) for row in d.costs)
    params = {k: v for k, v in params.items() if v not in ([], "")}
    if st.session_state.get(state.CLASS):
        params[state.Q_CLASS] = st.session_state[state.CLASS]
    shown = st.session_state.get(state.SHOWN)
    if shown and len(shown) < len(data.curves.names):
        params[state.Q_SHOWN] = list(shown)
    st.query_params.from_dict(params)


def _text(value: float) -> str:
    """The shortest text that reads back as the same float (0.8, not 0.80000000000000004)."""
    return repr(float(value))


def _one(view: dict, key: str) -> str | None:
    values = view.get(key) or []
    return values[-1] if values else None


def _mapping(view: dict) -> Mapping:
    """The overrides of a link (anything malformed: none)."""
    text = _one(view, Q_MAP)
    if not text:
        return Mapping()
    try:
        fields = json.loads(text)
        known = {f: v for f, v in fields.items() if f in Mapping.__dataclass_fields__}
        for f in ("score_columns", "class_names", "ignore_columns"):
            if known.get(f) is not None:
                known[f] = tuple(str(v) for v in known[f])
        return Mapping(**known)
    except (ValueError, TypeError, AttributeError):
        return Mapping()


def _decision(view: dict, data: Dataset) -> tuple[Decision, float]:
    """The decision a link describes (anything malformed falls back to the default)."""
    names = data.predictions.class_names
    default = Decision.of(data.predictions)
    rule = _one(view, state.Q_RULE) or default.rule
    global_t = _number(_one(view, state.Q_THRESHOLD), 0.5)
    pairs = _pairs(view.get(state.Q_CLASS_THRESHOLD, []))
    if rule not in RULES_BY_TASK[data.predictions.task]:
        return default, global_t
    try:
        if rule == "priority":
            return Decision.priority(names, [(n, t) for n, t in pairs if n in names]), global_t
        if rule == "weighted":
            weights = {n: w for n, w in _pairs(view.get(state.Q_CLASS_WEIGHT, [])) if n in names}
            return Decision.weighted(names, weights), global_t
        if rule == "cost":
            text = _one(view, state.Q_COST)
            rows = ([[float(v) for v in row.split(",")] for row in text.split(";")] if text
                    else 1 - np.eye(len(names)))  # no matrix given: 0-1 loss
            return Decision.cost(names, rows), global_t
        if rule in ("per-class", "multilabel"):
            values = dict.fromkeys(data.curves.names, global_t)
            values.update({n: t for n, t in pairs if n in values})
            return Decision.of(data.predictions, rule, list(values.values())), global_t
        return Decision.of(data.predictions, rule, global_t), global_t
    except (InputError, ValueError):
        return default, global_t


def _pairs(items) -> list[tuple[str, float]]:
    out = []
    for item in items:
        name, _, value = str(item).rpartition(":")
        v = _number(value, None)
        if name and v is not None:
            out.append((name, v))
    return out


def _number(text, default):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return default
    return value if np.isfinite(value) else default
