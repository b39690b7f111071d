"""A view is an address: an uploaded file's view, opened again from its URL in a new session,
brings back the data (from the upload store) and the decision; a link whose data is gone says
what it was made on, keeps the link, and applies once the same file is uploaded."""

from __future__ import annotations

import numpy as np

from dashboard import state
from evalcore.decisions import confusion
from evalcore.io import NamedBytes, load
from tests.app.conftest import assert_clean, open_app, upload
from tests.app.test_data_source import csv_bytes, shown_classes
from tests.app.test_thresholds_page import matrix_on_page


def _url(at) -> dict:
    return {k: at.query_params.get_all(k) if hasattr(at.query_params, "get_all")
            else at.query_params[k] for k in at.query_params}


def _set_per_class(at) -> None:
    at.switch_page("views/thresholds.py").run()
    at.radio(key=state.widget_key(state.RULE)).set_value("per-class").run()
    at.selectbox(key=state.widget_key(state.CLASS)).set_value("bee").run()
    at.slider(key=f"{state.PER_CLASS}.bee").set_value(0.8).run()
    assert_clean(at)


def test_an_uploaded_files_view_comes_back_from_its_url():
    data = csv_bytes(seed=3)
    at = upload(open_app(), "holdout.csv", data)
    _set_per_class(at)
    params = dict(at.query_params)
    assert params["file"] == "holdout.csv" and len(params["data"]) == 64
    assert "demo" not in params and params["rule"] == "per-class"
    shown = matrix_on_page(at)
    # a new session (a refresh, a colleague on the same server) with that URL
    again = open_app("thresholds", params)
    assert_clean(again)
    assert again.session_state[state.DECISION].rule == "per-class"
    assert again.session_state[state.DECISION].thresholds[1] == 0.8
    np.testing.assert_array_equal(matrix_on_page(again), shown)
    p = load(NamedBytes("holdout.csv", data)).select()
    np.testing.assert_array_equal(shown, confusion(p, again.session_state[state.DECISION]).matrix)


def test_a_link_whose_data_is_gone_says_so_and_applies_on_upload():
    import os
    import shutil
    from pathlib import Path

    data = csv_bytes(seed=4)
    at = upload(open_app(), "gone.csv", data)
    _set_per_class(at)
    params = dict(at.query_params)
    expected = matrix_on_page(at)
    # the store evicted it (too old, or the space went to newer uploads)
    shutil.rmtree(Path(os.environ["EVALCORE_STORE_DIR"]) / params["data"])
    again = open_app("thresholds", params)
    assert_clean(again)
    (warning,) = [w.value for w in again.warning]
    assert "made on **gone.csv**" in warning and "upload the same file" in warning
    assert again.session_state[state.DECISION].rule == "argmax"  # the demo, meanwhile
    assert dict(again.query_params)["data"] == params["data"]  # the link stays
    # the same file, uploaded again: its view is applied
    upload(again, "gone.csv", data)
    assert_clean(again)
    assert not again.warning
    again.switch_page("views/thresholds.py").run()
    assert again.session_state[state.DECISION].rule == "per-class"
    np.testing.assert_array_equal(matrix_on_page(again), expected)


def test_nothing_guessable_an_address_is_a_sha256():
    at = open_app("overview", {"data": "../../etc/passwd", "file": "x"})
    assert_clean(at)
    assert [w.value for w in at.warning]  # not found: the demo, and the notice
    assert shown_classes(at)[:2] == ["zero", "one"]
