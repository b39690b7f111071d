"""The sidebar data source: demos, uploads (used at once), bad uploads (error, app alive),
overrides of the detection, and a Keras model run through real TensorFlow."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from dashboard import state
from evalcore.decisions import confusion
from evalcore.io import NamedBytes, load
from tests.app.conftest import assert_clean, open_app, upload

NAMES = ["ant", "bee", "cow"]


def csv_bytes(n: int = 300, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    z = rng.normal(size=(n, 3))
    z[np.arange(n), y] += 1.5
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    frame = pd.DataFrame({"label": np.array(NAMES)[y], **{f"prob_{c}": p[:, i] for i, c in enumerate(NAMES)}})
    return frame.to_csv(index=False).encode()


def widget(widgets, role: str, field: str):
    """An overrides-form widget (keys: map.<role>.<source and mapping tag>.<field>)."""
    (found,) = [w for w in widgets if w.key.startswith(f"map.{role}.") and w.key.endswith(field)]
    return found


def submit(at, role: str) -> None:
    """Press Apply in the overrides form of the failed or the active source."""
    (button,) = [b for b in at.sidebar.button if f"overrides-{role}" in str(b.id)]
    button.click().run()


def shown_classes(at) -> list[str]:
    table = at.dataframe[0].value
    return table["class"].tolist()


def test_app_opens_on_the_digits_demo():
    at = open_app()
    assert shown_classes(at)[:3] == ["zero", "one", "two"]
    assert "Digits" in at.sidebar.caption[-1].value or any("Digits" in c.value for c in at.sidebar.caption)


def test_every_demo_renders_every_page():
    at = open_app()
    for demo in ("digits", "multilabel", "binary"):
        at.sidebar.selectbox(key=state.DEMO).set_value(demo).run()
        for page in ("views/overview.py", "views/curves.py", "views/thresholds.py", "views/accuracy.py"):
            at.switch_page(page).run()
            assert_clean(at)
            assert not at.error, (demo, page, [e.value for e in at.error])


def test_an_uploaded_csv_replaces_the_demo():
    data = csv_bytes()
    at = upload(open_app(), "mine.csv", data)
    assert_clean(at)
    assert not at.error
    assert shown_classes(at)[:3] == NAMES
    p = load(NamedBytes("mine.csv", data)).select()
    at.switch_page("views/thresholds.py").run()
    table = next(t for t in at.table if "cow" in t.value.columns)
    assert np.array_equal(table.value.to_numpy(dtype=np.int64), confusion(p, "argmax").matrix)


def test_a_bad_upload_shows_one_line_and_keeps_the_previous_data():
    at = upload(open_app(), "bad.csv", b"label,prob_a,prob_b\na,0.1,0.9\nb,oops,0.2\n")
    assert_clean(at)
    errors = [e.value for e in at.sidebar.error]
    assert len(errors) == 1
    assert errors[0] == "bad.csv: score column 'prob_a', row 2 (line 3): 'oops' is not a number"
    assert "\n" not in errors[0] and "Traceback" not in errors[0]
    # the previous data (the demo) is still in use, and every page still works
    assert shown_classes(at)[:2] == ["zero", "one"]
    for page in ("views/curves.py", "views/thresholds.py"):
        at.switch_page(page).run()
        assert_clean(at)
    # a good file afterwards is used
    at.switch_page("views/overview.py").run()
    at.sidebar.file_uploader(key="source.upload").set_value(("good.csv", csv_bytes(), "text/csv")).run()
    assert not at.sidebar.error
    assert shown_classes(at)[:3] == NAMES


def test_binary_garbage_and_empty_files_are_refused_with_one_line():
    for name, data in (("x.parquet", b"not parquet at all"), ("y.npz", b"PK\x03\x04truncated"),
                       ("z.csv", b"\x89PNG\r\n\x1a\n\x00\x00")):
        at = upload(open_app(), name, data)
        assert_clean(at)
        (message,) = [e.value for e in at.sidebar.error]
        assert message.startswith(f"{name}: ") and "\n" not in message


def test_overrides_change_the_detection():
    frame = pd.read_csv(io.BytesIO(csv_bytes()))
    frame = frame.rename(columns={"label": "answer"})
    data = frame.to_csv(index=False).encode()
    at = upload(open_app(), "renamed.csv", data)
    (message,) = [e.value for e in at.sidebar.error]
    assert "no label column found" in message and "answer" in message
    assert shown_classes(at)[:2] == ["zero", "one"]  # the demo stays in use
    # the failed file's columns can be mapped right there
    widget(at.sidebar.selectbox, "failed", "label").set_value("answer")
    submit(at, "failed")
    assert_clean(at)
    assert not at.sidebar.error
    assert shown_classes(at)[:3] == NAMES
    # and the class order of the file in use can be changed
    widget(at.sidebar.text_input, "active", "classes").set_value("cow,bee,ant")
    submit(at, "active")
    assert_clean(at)
    assert shown_classes(at)[:3] == ["cow", "bee", "ant"]


def test_split_selector_defaults_to_test_and_switches():
    at = open_app()
    split = at.sidebar.selectbox(key=state.SPLIT)
    assert split.value == "test"
    support = at.dataframe[0].value["support"].iloc[0]
    split.set_value("train").run()
    assert at.dataframe[0].value["support"].iloc[0] > support


def test_a_refused_upload_is_said_in_the_main_panel_with_the_apps_own_controls():
    at = upload(open_app(), "one.csv", b"label,score\na,0.2\nb,0.7\na,0.4\n")
    assert_clean(at)
    (sidebar,) = [e.value for e in at.sidebar.error]
    assert "names no class among the labels (a, b)" in sidebar
    assert "“Class names” in the sidebar's column mapping" in sidebar and "--classes" not in sidebar
    main = [e.value for e in at.main.error]
    assert any(sidebar in m and "still those of **Digits" in m for m in main), main
    assert shown_classes(at)[:2] == ["zero", "one"]  # the demo's numbers, and it says so


def test_an_empty_split_and_model_choice_keeps_the_data_shown():
    rows = ["label,prob_a,prob_b,split,model",
            "a,0.8,0.2,train,m1", "b,0.3,0.7,train,m1",
            "a,0.6,0.4,test,m2", "b,0.1,0.9,test,m2", "a,0.7,0.3,train,m2"]
    at = upload(open_app(), "g.csv", ("\n".join(rows) + "\n").encode())
    assert_clean(at)
    assert not at.sidebar.error
    # by default a model with test rows
    assert at.sidebar.selectbox(key=state.MODEL).value == "m2"
    before = shown_classes(at)
    support = at.dataframe[0].value["support"].tolist()
    # m1 has no test rows: the choice is refused in one line, the last good view stays
    at.sidebar.selectbox(key=state.MODEL).set_value("m1").run()
    assert_clean(at)
    (message,) = [e.value for e in at.sidebar.error]
    assert "no rows for split 'test' and model 'm1'" in message and "\n" not in message
    assert any("still those of" in e.value for e in at.main.error)
    assert shown_classes(at) == before and at.dataframe[0].value["support"].tolist() == support
    for page in ("views/curves.py", "views/thresholds.py", "views/overview.py"):
        at.switch_page(page).run()
        assert_clean(at)


def test_an_upload_is_written_to_the_store_while_it_is_read(tmp_path, monkeypatch):
    """keep_in_background: the upload lands under its source key (hashed once: the store is
    given the key and never hashes the bytes again); a second keep finds it at once."""
    from dashboard import data, store as store_module

    store = store_module.UploadStore(tmp_path)
    monkeypatch.setattr(data, "store", lambda: store)
    files = (NamedBytes("scores.csv", csv_bytes(50)),)
    source = data.upload_source("file", files, tuple(store_module.file_digest(f) for f in files))

    def no_second_hash(_file):
        raise AssertionError("the store hashed the upload again")

    monkeypatch.setattr(store_module, "file_digest", no_second_hash)
    stored, known = data.keep_in_background(source).result(timeout=30)
    assert not known and stored.files == () and stored.key == source.key
    assert store.get(source.key).files == files
    again = data.keep_in_background(source)
    assert again.done() and again.result() == (source.without_bytes(), True)
