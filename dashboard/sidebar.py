"""The sidebar on every page: the data source, what was detected, overrides, split and model."""

from __future__ import annotations

import hashlib

import streamlit as st

from dashboard import data as data_module
from dashboard import links, server_data, state
from dashboard.data import (
    Dataset,
    ServerTable,
    Source,
    dataset,
    demo_source,
    digest,
    is_computed,
    keep_in_background,
    load_source,
    server_source,
    upload_source,
)
from evalcore import demos
from evalcore.errors import InputError
from evalcore.io import FORMATS, Mapping, NamedBytes, read_table
from evalcore.models import DATA_SUFFIXES
from evalcore.predictions import SCORE_KINDS, TASKS

KINDS = {"demo": "Built-in demo", "file": "Prediction file", "model": "Keras model + data",
         "server": "Dataset on this server"}
DEFAULT_DEMO = "digits"
ALL = "(all rows)"
DETECTED = "(detected)"


def data_source(status=None) -> Dataset:
    """Draw the data-source controls and return the dataset in use. ``status``: a main-panel
    placeholder that says what is being read (or predicted), with its progress.

    A source that fails to load shows its one-line error; the previous data stays in use.
    """
    with st.sidebar:
        st.header("Data")
        requested = _requested_source()
        if state.ACTIVE not in st.session_state:
            st.session_state[state.ACTIVE] = (demo_source(DEFAULT_DEMO), Mapping())
        # a new source, or new overrides of the one in use (its upload is in the store)
        target = requested if requested is not None else st.session_state[state.ACTIVE][0]
        mapping = _mapping_for(target)
        if requested is not None or mapping != st.session_state[state.ACTIVE][1]:
            _try_to_use(target, mapping, status if status is not None else st.empty())
        source, mapping = st.session_state[state.ACTIVE]
        try:
            loaded = load_source(source, mapping)
        except InputError as error:  # the data in use went from the store: back to the demo
            st.error(for_the_app(str(error)), icon=":material/error:")
            source, mapping = demo_source(DEFAULT_DEMO), Mapping()
            st.session_state[state.ACTIVE] = (source, mapping)
            loaded = load_source(source, mapping)
        split, model = _selectors(loaded)
        try:
            data = _dataset(source, mapping, loaded, split, model, status)
        except InputError as error:  # e.g. a split and model with no rows together
            message = for_the_app(f"{source.label}: {error}".splitlines()[0])
            st.error(message, icon=":material/error:")
            st.session_state[state.NOTICE] = message
            data = st.session_state.get(state.LAST_DATASET)
            if data is None:
                try:
                    data = _dataset(source, mapping, loaded, None, None, status)
                except InputError:  # nothing of this source can be shown: the demo
                    source, mapping = demo_source(DEFAULT_DEMO), Mapping()
                    st.session_state[state.ACTIVE] = (source, mapping)
                    loaded = load_source(source, mapping)
                    data = dataset(source, mapping, loaded, None, None)
        else:
            st.session_state[state.LAST_DATASET] = data
        _detection(data)
    return data


def _dataset(source: Source, mapping: Mapping, loaded, split: str | None, model: str | None,
             status) -> Dataset:
    """:func:`dashboard.data.dataset`; a server dataset's statistics, the first time, with a
    progress bar in the main panel (``status``)."""
    if not isinstance(loaded, ServerTable) or is_computed(loaded, mapping, split, model):
        return dataset(source, mapping, loaded, split, model)
    place = status if status is not None else st.empty()
    head = (f"Evaluating **{source.label}** ({loaded.n_rows:,} rows) with DuckDB, once for "
            "every session")
    bar = place.progress(0.0, text=f"{head} ...")
    try:
        return dataset(source, mapping, loaded, split, model,
                       progress=lambda share, text: bar.progress(share, text=f"{head}: {text}"))
    finally:
        place.empty()


#: what a CLI flag in an error message is called in the app
APP_CONTROLS = {
    "--label-column": "“Label column” in the sidebar's column mapping",
    "--score-columns": "“Score columns” in the sidebar's column mapping",
    "--ignore-columns": "“Ignore columns” in the sidebar's column mapping",
    "--classes": "“Class names” in the sidebar's column mapping",
    "--score-kind logit": "“Score kind: logit” in the sidebar's column mapping",
    "--score-kind": "“Score kind” in the sidebar's column mapping",
    "--task": "“Task” in the sidebar's column mapping",
    "--max-size or EVALCORE_MAX_BYTES": "EVALCORE_MAX_BYTES where the app is served",
}


def for_the_app(message: str) -> str:
    """An error message with its CLI hints named as the app's own controls."""
    for flag in sorted(APP_CONTROLS, key=len, reverse=True):
        message = message.replace(flag, APP_CONTROLS[flag])
    return message


def main_notice(data: Dataset) -> None:
    """In the main panel: the refused source (or selection), whose numbers are shown, and for
    a server dataset which of them count every row and which a sample."""
    notice = st.session_state.pop(state.NOTICE, None)
    if notice:
        st.error(f"{notice}  \nThe numbers below are still those of **{data.source.label}**"
                 f"{f' (split {data.split})' if data.split else ''}.", icon=":material/error:")
    statement = rows_statement(data)
    if statement:
        st.info(statement, icon=":material/database:")


def rows_statement(data: Dataset) -> str | None:
    """What a server dataset's numbers are counted on (None for data in memory)."""
    if data.full is None:
        return None
    n, m = data.full.n_rows, data.predictions.n_samples
    rows = f"{n:,} rows" + (f" of split {data.split!r}" if data.split else "") + (
        f", model {data.model!r}" if data.model else "")
    if not data.sampled:
        text = (f"**{data.source.label}**, evaluated by DuckDB: curves, AUCs and every count "
                f"are over all {rows} (exact).")
    else:
        text = (f"Curves and AUCs: all {rows} (exact). Confusion matrices while you move "
                f"sliders: a stratified sample of {m:,} rows (seed {data_module.SAMPLE_SEED}), "
                "each true class in its share; so are calibration, bootstrap intervals and the "
                "optimiser. **Count exactly** counts the current decision over every row.")
    if not data.curves.exact:
        text += (" Plotted curves and one-vs-rest counts at a threshold come from scores "
                 "pooled into bins (each page says by how much a count can be off); the AUCs "
                 "and APs are exact.")
    return text


def _requested_source() -> Source | None:
    kinds = [k for k in KINDS if k != "server" or server_data.data_dir() is not None]
    if st.session_state.get(state.SOURCE_KIND) not in (None, *kinds):
        del st.session_state[state.SOURCE_KIND]  # e.g. a link to a server dataset, no data dir
    kind = st.radio(
        "Source", kinds, format_func=KINDS.get, key=state.SOURCE_KIND,
        label_visibility="collapsed",
    )
    if kind == "server":
        return _server_request()
    if kind == "demo":
        st.session_state.setdefault(state.DEMO, DEFAULT_DEMO)
        name = st.selectbox(
            "Demo", demos.NAMES, key=state.DEMO, format_func=lambda n: demos.DESCRIPTIONS[n],
        )
        return demo_source(name)
    if kind == "file":
        uploads = st.file_uploader(
            "Prediction file: CSV, TSV, Parquet, NPZ, or two NPY files (labels, scores)",
            type=[ext.lstrip(".") for ext in FORMATS], accept_multiple_files=True,
            key=uploader_key(),
        )
        if not uploads:
            active = st.session_state.get(state.ACTIVE, (None,))[0]
            if active is not None and active.kind == "file":
                st.caption(f"In use: **{active.label}** (kept on this server; its link brings "
                           "it back). Upload another file to replace it.")
            else:
                st.caption("A table with a label column and one score column per class, e.g. "
                           "`label,prob_cat,prob_dog`.")
            return None
        if len(uploads) > 1 and not all(f.name.lower().endswith(".npy") for f in uploads[-2:]):
            uploads = uploads[-1:]  # the newest file; older ones (e.g. a refused one) stay out
        uploads = uploads[-2:]
        st.session_state[state.REQUEST_FILES] = [f.file_id for f in uploads]
        return upload_source("file", tuple(_named(f) for f in uploads),
                             tuple(digest(f) for f in uploads))
    model = st.file_uploader("Keras model (.keras, .h5)", type=["keras", "h5"], key=state.MODEL_FILE)
    data = st.file_uploader(
        "Data: .npz with x, y (and class_names), or a CSV/Parquet table of features",
        type=[ext.lstrip(".") for ext in DATA_SUFFIXES], key=state.MODEL_DATA,
    )
    label = st.text_input("Label column (tables)", key=state.MODEL_LABEL).strip() or None
    layer = st.text_input("Layer to evaluate (default: the output)", key=state.MODEL_LAYER).strip() or None
    if model is None or data is None:
        st.caption("The model is loaded in safe mode: Lambda layers and custom code are refused.")
        return None
    st.session_state[state.REQUEST_FILES] = [model.file_id, data.file_id]
    return upload_source("model", (_named(model), _named(data)), (digest(model), digest(data)),
                         label, layer)


def _server_request() -> Source | None:
    """A path or glob under the data directory: typed, or picked from what is there."""
    found = server_data.listing()
    if found:
        def picked() -> None:
            st.session_state[state.SERVER_PATH] = st.session_state[state.SERVER_PICK]

        st.selectbox("Datasets found", found, index=None, key=state.SERVER_PICK,
                     placeholder="Choose a dataset", on_change=picked)
    text = st.text_input(
        "Path or glob under the data directory", key=state.SERVER_PATH,
        placeholder="runs/*.parquet",
        help="A Parquet file, a directory of Parquet files, a glob such as runs/*.parquet, or "
             "one CSV; relative to the directory the server was given (EVALCORE_DATA_DIR). "
             "Evaluated out of core by DuckDB.").strip()
    if not text:
        active = st.session_state.get(state.ACTIVE, (None,))[0]
        if active is not None and active.kind == "server":
            st.caption(f"In use: **{active.label}**.")
        elif not found:
            st.caption("No Parquet or CSV file in the data directory yet.")
        return None
    return server_source(text)


def _named(upload) -> NamedBytes:
    return NamedBytes(upload.name, upload.getvalue())


def _mapping_for(target: Source) -> Mapping:
    """The overrides chosen for this source (a link's, for the data it waits for; those in
    use for the source in use; none for a new source)."""
    key, mapping = st.session_state.get(state.MAPPING, (None, None))
    if key == target.key:
        return mapping
    active, active_mapping = st.session_state[state.ACTIVE]
    if active == target:
        return active_mapping
    return links.mapping_for(target) or Mapping()


def _try_to_use(source: Source, mapping: Mapping, status) -> None:
    if st.session_state.get(state.ACTIVE) == (source, mapping):
        return
    request = (source.key, repr(mapping))
    failed = st.session_state.get(state.FAILED)
    if failed and failed[0] == request:
        _show_failure(source, failed[1])
        return
    # into the upload store while the file is read; a session whose file is there already
    # drops its copy of the bytes before it waits for the one session that reads them
    kept = keep_in_background(source)
    if kept.done():
        stored, known = kept.result()
        if known and not stored.files:  # read before by some session: drop this copy now
            _release_uploads()
    # said in the main panel, where the previous data's pages would otherwise sit unexplained
    if source.kind == "model":
        bar = status.progress(0.0, text=f"Running {source.label} ...")
    else:
        bar = None
        status.info(f"Reading {source.label} ...", icon=":material/hourglass_top:")

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(done / max(total, 1),
                         text=f"Running {source.label}: {done:,} / {total:,} samples")

    try:
        load_source(source, mapping, progress)  # its bytes are here: no read from the store
    except InputError as error:
        message = str(error)
    except Exception as error:  # never a traceback in the app: one line, and keep going
        message = f"{source.label}: could not be read ({type(error).__name__}: {error})"
    else:
        stored, known = kept.result()  # the write done
        st.session_state[state.ACTIVE] = (stored, mapping)
        st.session_state.pop(state.FAILED, None)
        links.pending(source)
        if not stored.files:
            _release_uploads()
            # run again with a new uploader: the old one's state (its UploadedFile objects,
            # which hold the bytes) is dropped with it
            if source.kind == "file":
                st.session_state[state.UPLOAD_ROUND] = st.session_state.get(state.UPLOAD_ROUND, 0) + 1
            st.rerun()
        return
    finally:
        status.empty()
    stored, known = kept.result()
    if not known:  # not a file that loads: not kept either
        data_module.store().discard(source.key)
    message = for_the_app(message.splitlines()[0])
    st.session_state[state.FAILED] = (request, message)
    _show_failure(source, message)


def uploader_key() -> str:
    """The prediction-file uploader's key: a new one after each upload that was kept, so that
    the old widget, and the UploadedFile objects its state holds, are dropped."""
    round_ = st.session_state.get(state.UPLOAD_ROUND, 0)
    return state.UPLOAD if not round_ else f"{state.UPLOAD}.{round_}"


def _release_uploads() -> None:
    """Drop the uploaded bytes Streamlit holds for this session (once they are in the upload
    store): ten sessions uploading 100 MB would otherwise hold ten copies until they close.
    The uploader then shows no file; the sidebar says which is in use."""
    try:
        from streamlit.runtime import Runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        manager = Runtime.instance().uploaded_file_mgr
        for file_id in st.session_state.get(state.REQUEST_FILES, []):
            manager.remove_file(ctx.session_id, file_id)
    except Exception:  # another Streamlit, or no runtime (AppTest): the bytes stay, that is all
        pass


def _show_failure(source: Source, message: str) -> None:
    st.error(message, icon=":material/error:")
    st.session_state[state.NOTICE] = message
    if source.kind == "file":
        with st.expander("Map the columns of this file"):
            _override_form("failed", source.key, _columns_of(source))


def _selectors(loaded) -> tuple[str | None, str | None]:
    """The model and split chosen (defaults: the test split, and a model with rows in it)."""
    if isinstance(loaded, ServerTable):
        splits, models = loaded.splits, loaded.models
    else:
        splits, models = loaded.predictions.splits, loaded.predictions.models
    split = model = None
    for key, values in ((state.MODEL, models), (state.SPLIT, (*splits, ALL))):
        if key in st.session_state and st.session_state[key] not in values:
            del st.session_state[key]  # a value of another file
    if splits:
        options = [*splits, ALL]
        default = options.index("test") if "test" in options else 0
        chosen = st.session_state.get(state.SPLIT, options[default])
        split = None if chosen == ALL else chosen
    # defaults go into the session state, not into the widgets: a widget given a default and
    # a session-state value (restored from a URL) makes Streamlit warn on every run
    if models:
        st.session_state.setdefault(state.MODEL, loaded.default_model(split))
        model = st.selectbox("Model", models, key=state.MODEL)
    if splits:
        st.session_state.setdefault(state.SPLIT, options[default])
        chosen = st.selectbox("Split", options, key=state.SPLIT)
        split = None if chosen == ALL else chosen
    return split, model


def _detection(data: Dataset) -> None:
    p, layout = data.loaded.predictions, data.loaded.layout
    rows = f"{data.predictions.n_samples:,} rows shown"
    if data.full is not None:
        rows = f"{data.full.n_rows:,} rows" + (
            f" ({data.predictions.n_samples:,} sampled)" if data.sampled else "")
    st.caption(
        f"**{data.source.label}** · {p.task} · {len(p.class_names)} classes · "
        f"{p.score_kind} scores · {rows}"
    )
    with st.expander("Detected layout and overrides"):
        st.write(data.full.table.description if data.full is not None else layout.describe(p))
        if data.full is not None:
            files = data.full.table.resolved
            st.caption(f"{files.total_bytes / 1e6:,.1f} MB in {len(files.files)} file(s): "
                       f"opened and every row checked in {data.full.table.seconds:.1f} s; "
                       f"curves and sample in {data.full.seconds:.1f} s (once, for every "
                       "session).")
        for note in p.notes:
            st.caption(note)
        _override_form("active", data.source.key, layout.columns, layout.score_columns,
                       data.mapping)


def _override_form(
    role: str, source_key: str, columns: tuple[str, ...], detected: tuple[str, ...] = (),
    current: Mapping = Mapping(),
) -> None:
    """Overrides of the detection for one source (``role``: "active" or "failed"); applied
    together on submit. Widgets are keyed by the source and its mapping, so that they start
    from the mapping in use."""
    prefix = f"map.{role}.{hashlib.sha256((source_key + repr(current)).encode()).hexdigest()[:8]}"
    with st.form(f"overrides-{role}", border=False):
        label = score_columns = ignore = None
        if columns:
            labels = [DETECTED, *columns]
            label = st.selectbox("Label column", labels, key=f"{prefix}.label",
                                 index=_index(labels, current.label_column))
            score_columns = st.multiselect("Score columns", columns, default=list(detected),
                                           key=f"{prefix}.scores")
            ignore = st.multiselect("Ignore columns", columns,
                                    default=list(current.ignore_columns or ()),
                                    key=f"{prefix}.ignore",
                                    help="Columns that are neither labels nor scores (an index, "
                                         "a confidence, a sample weight ...).")
        classes = st.text_input("Class names, comma-separated, in score-column order",
                                key=f"{prefix}.classes", value=",".join(current.class_names or ()))
        tasks, kinds = [DETECTED, *TASKS], [DETECTED, *SCORE_KINDS]
        task = st.selectbox("Task", tasks, key=f"{prefix}.task", index=_index(tasks, current.task))
        kind = st.selectbox("Score kind", kinds, key=f"{prefix}.kind",
                            index=_index(kinds, current.score_kind))
        if st.form_submit_button("Apply"):
            mapping = Mapping(
                label_column=None if label in (None, DETECTED) else label,
                score_columns=tuple(score_columns)
                if score_columns and tuple(score_columns) != tuple(detected) else None,
                class_names=tuple(c.strip() for c in classes.split(",")) if classes.strip() else None,
                task=None if task == DETECTED else task,
                score_kind=None if kind == DETECTED else kind,
                ignore_columns=tuple(ignore) if ignore else None,
            )
            st.session_state[state.MAPPING] = (source_key, mapping)
            st.rerun()


def _index(options: list, value) -> int:
    return options.index(value) if value in options else 0


def _columns_of(source: Source) -> tuple[str, ...]:
    """The columns of a table that failed to load, so that the user can map them."""
    if source.kind != "file" or len(source.files) != 1:
        return ()
    try:
        return tuple(read_table(source.files[0]).columns)
    except InputError:
        return ()
