"""AppTest helpers: the real app.py, run in-process by streamlit.testing."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
# uploads kept by the app go to a store of this test session, not the user's cache
os.environ.setdefault("EVALCORE_STORE_DIR", tempfile.mkdtemp(prefix="evalcore-store-"))
PAGES = {
    "overview": "views/overview.py",
    "curves": "views/curves.py",
    "thresholds": "views/thresholds.py",
    "accuracy": "views/accuracy.py",
}


def open_app(page: str = "overview", query: dict | None = None) -> AppTest:
    """The app after its first run on ``page`` (optionally with URL query parameters)."""
    at = AppTest.from_file(APP, default_timeout=120)
    if query:
        for key, value in query.items():
            at.query_params[key] = value
    at.run()
    if page != "overview":
        at.switch_page(PAGES[page]).run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    """No exception element, no traceback: what a user must never see."""
    assert not at.exception, [e.value for e in at.exception]


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    """Choose "Prediction file" in the sidebar and upload one file."""
    at.sidebar.radio(key="source.kind").set_value("file").run()
    at.sidebar.file_uploader(key="source.upload").set_value((name, data, "text/csv")).run()
    return at


@pytest.fixture
def app():
    return open_app
