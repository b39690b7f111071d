"""Session-state keys (namespaced by page), persistent widget values, and the URL of a view.

Widgets are removed from session state when their page is not shown, so a value that must
survive a page switch lives under a plain key and its widget under ``widget_key(key)``: the
widget starts from the stored value and writes back through :func:`save`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

# data source (sidebar)
SOURCE_KIND = "source.kind"
DEMO = "source.demo"
UPLOAD = "source.upload"
MODEL_FILE = "source.model_file"
MODEL_DATA = "source.model_data"
MODEL_LABEL = "source.model_label"
MODEL_LAYER = "source.model_layer"
ACTIVE = "source.active"  # the Source in use (plain key: survives failed uploads)
FAILED = "source.failed"  # (request key, message) of the last refused source
HASHES = "source.hashes"  # upload file_id -> content hash
REQUEST_FILES = "source.request_files"  # file ids of the upload being read
UPLOAD_ROUND = "source.upload_round"  # how many uploads were kept: the uploader's key
MAPPING = "source.mapping"  # overrides of the detection
NOTICE = "source.notice"  # a refusal to show in the main panel too
LAST_DATASET = "source.last_dataset"  # the dataset shown last, kept when a selection fails
SERVER_PATH = "source.server_path"  # the path or glob under the server's data directory
SERVER_PICK = "source.server_pick"  # the list of datasets found there (writes SERVER_PATH)
SPLIT = "data.split"
MODEL = "data.model"

# the decision (shared by every page)
DECISION = "thr.decision"  # the Decision: the one value every page counts
BY_RULE = "thr.by_rule"  # {rule: Decision}: each rule's last parameters, to switch back
TUNED = "thr.tuned"  # what the optimiser chose the decision on, until it is edited
PENDING = "thr.pending"  # a decision to set before the controls are drawn next
RULE = "thr.rule"  # the rule radio
GLOBAL = "thr.global"  # the "all classes" slider
PER_CLASS = "thr.per_class"  # prefix of the class sliders' keys
WEIGHT = "thr.weight"  # prefix of the class weight inputs' keys
CLASS = "thr.class"  # the class being tuned
OBJECTIVE_MESSAGE = "thr.objective_message"  # what the last objective set, or why not
SUGGESTION = "thr.suggestion"  # a decision that would meet the objective under another rule
OPTIMISE_MESSAGE = "thr.optimise_message"  # what the optimiser did
SPEC_MESSAGE = "thr.spec_message"  # why a loaded thresholds file was refused
SPEC_UPLOAD = "thr.spec_upload"  # the thresholds file being loaded (its uploader)
COSTS = "thr.costs"  # the cost matrix editor's table
FIGURES = "thr.figures"  # this session's figures of the tuned class
NORMALIZE = "thr.normalize"
DATASET = "thr.dataset"  # the dataset the decision belongs to
EXACT = "thr.exact_result"  # (dataset key, ExactCount): the last decision counted over every row

# curves page
SHOWN = "curves.shown"
OVERLAY = "curves.overlay"

# overview page
BOOTSTRAP = "overview.bootstrap"  # data.Bootstrapped of the dataset it was computed on
REPORT = "overview.report_html"  # (dataset key, the HTML report)

URL_VIEW = "url.view"  # the link the session was opened with, until its view is applied
MISSING = "url.missing"  # (key, file name) of a link's data no longer on this server
SERVER_MISSING = "url.server_missing"  # why a link's server dataset cannot be opened here

#: query parameters of a shareable view
Q_DEMO, Q_SPLIT, Q_RULE, Q_THRESHOLD, Q_CLASS_THRESHOLD, Q_CLASS, Q_SHOWN = (
    "demo", "split", "rule", "t", "ct", "class", "show",
)
Q_CLASS_WEIGHT, Q_COST = "cw", "cost"
Q_SERVER = "server"  # a server dataset: its path relative to the data directory

# widget keys: each widget's value lives in the session under its key
CAL_BINS = "cal.bins"
CAL_CLASSES = "cal.classes"
CAL_RELIABILITY = "cal.reliability"
CAL_STRATEGY = "cal.strategy"
CMP_APPLY = "cmp.apply"
CMP_BOOT = "cmp.boot"
CMP_FIT = "cmp.fit"
CMP_MODEL_A = "cmp.model_a"
CMP_MODEL_B = "cmp.model_b"
CMP_OBJECTIVE = "cmp.objective"
CMP_ROC = "cmp.roc"
CMP_SPLIT_ROC = "cmp.split_roc"
CMP_UPLOAD = "cmp.upload"
CURVES_DIST = "curves.dist"
CURVES_DIST_CLASS = "curves.dist_class"
CURVES_MACRO = "curves.macro"
CURVES_MICRO = "curves.micro"
OVERVIEW_BOOTSTRAP_BUTTON = "overview.bootstrap_button"
OVERVIEW_CSV = "overview.csv"
OVERVIEW_REPORT_BUILD = "overview.report_build"
OVERVIEW_REPORT_DOWNLOAD = "overview.report_download"
THR_COST_ABSTAIN = "thr.cost_abstain"
THR_COST_CLASS = "thr.cost_class"
THR_COST_FN = "thr.cost_fn"
THR_COST_FP = "thr.cost_fp"
THR_COST_MISSED = "thr.cost_missed"
THR_COST_X = "thr.cost_x"
THR_COST_ZERO_ONE = "thr.cost_zero_one"
THR_COUNTS_CSV = "thr.counts_csv"
THR_DOWNLOAD = "thr.download"
THR_HEATMAP = "thr.heatmap"
THR_HEATMAP_ON = "thr.heatmap_on"
THR_MATRIX_CSV = "thr.matrix_csv"
THR_METRICS = "thr.metrics"
THR_OBJECTIVE = "thr.objective"
THR_OBJECTIVE_APPLY = "thr.objective_apply"
THR_OPT_COST_ABSTAIN = "thr.opt.cost_abstain"
THR_OPT_COST_CLASS = "thr.opt.cost_class"
THR_OPT_COST_X = "thr.opt.cost_x"
THR_OPT_COVERAGE = "thr.opt.coverage"
THR_OPT_OBJECTIVE = "thr.opt.objective"
THR_OPT_RUN = "thr.opt.run"
THR_OPT_SPLIT = "thr.opt.split"
THR_ROWS_CSV = "thr.rows_csv"
THR_USE_SUGGESTION = "thr.use_suggestion"


def widget_key(key: str) -> str:
    """The key of the widget that edits the plain value ``key``."""
    return f"_w.{key}"


def persistent(key: str, default: Any) -> str:
    """Make sure ``key`` holds a value and its widget starts from it; return the widget key."""
    if key not in st.session_state:
        st.session_state[key] = default
    widget = widget_key(key)
    if widget not in st.session_state:
        st.session_state[widget] = st.session_state[key]
    return widget


def save(key: str) -> None:
    """on_change callback: copy a widget's value to its plain key."""
    st.session_state[key] = st.session_state[widget_key(key)]


def set_value(key: str, value: Any) -> None:
    """Set a plain value and its widget (call from a callback, before widgets are drawn)."""
    st.session_state[key] = value
    st.session_state[widget_key(key)] = value


def get(key: str, default: Any = None) -> Any:
    return st.session_state.get(key, default)
