"""Browser tests: Playwright (sync API) + Debian's chromium against `streamlit run app.py`.

- ``app_url`` (session): starts ``python -m streamlit run app.py`` on a free port of 127.0.0.1,
  polls ``/_stcore/health`` until it answers ``ok`` (60 s at most) and stops the server after
  the session, also when a test or the start-up fails. The server's output goes to
  ``tests/e2e/artifacts/streamlit.log``. Its ``EVALCORE_DATA_DIR`` is ``server_data_dir``
  (session): a directory of this test session, empty until a test writes a dataset there.
- ``browser`` (session): chromium from ``/usr/bin/chromium`` (Playwright cannot download its
  own browsers here), headless, no sandbox (we run as root).
- ``page`` (per test): a fresh browser context, so a fresh Streamlit session; on failure a
  screenshot goes to ``tests/e2e/artifacts/<test>-failure.png``.
- ``app`` (per test): :class:`StreamlitPage`, the page plus helpers that wait for Streamlit to
  finish a run and find widgets by their visible label.

Every test here is marked ``e2e``. Without ``/usr/bin/chromium`` (or the ``playwright``
package) the tests are skipped, unless the environment variable ``CI`` is set: there
``make test`` installs chromium, so a missing browser is a failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import tempfile
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
SERVER_LOG = ARTIFACTS / "streamlit.log"  # the output of the session's server
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
VIEWPORT = {"width": 1600, "height": 1000}
SERVER_START_TIMEOUT = 60.0  # seconds
TIMEOUT_MS = 30_000  # Playwright actions and expectations
IN_CI = bool(os.environ.get("CI"))

try:
    from playwright.sync_api import Locator, Page, expect, sync_playwright
except ImportError:  # reported by pytest_collection_modifyitems
    sync_playwright = None


def _missing() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    if not Path(CHROMIUM).exists():
        return (f"Debian chromium not found at {CHROMIUM}: `apt-get install -y chromium` "
                "(`make test` does it)")
    if sync_playwright is None:
        return ("the playwright Python package is not installed: `pip install playwright` "
                "(the browser is Debian's chromium, no `playwright install` needed)")
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: browser test (Playwright + chromium against `streamlit run app.py`)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing()
    for item in items:
        if HERE not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if reason and not IN_CI:
            item.add_marker(pytest.mark.skip(reason=f"{reason}; with CI set this fails"))


@pytest.fixture(scope="session", autouse=True)
def _e2e_requirements() -> None:
    """In CI (CI set) a missing browser or playwright fails every browser test, with the
    reason (elsewhere those tests were skipped at collection)."""
    reason = _missing()
    if reason:
        pytest.fail(f"CI is set but the browser tests cannot run: {reason}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """Keep each phase's report on the item (``item.rep_setup``, ``item.rep_call``) so that
    the ``page`` fixture knows at teardown whether the test failed; add the end of the
    server's log to a failure's report."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    if report.failed and SERVER_LOG.exists():
        tail = SERVER_LOG.read_text(errors="replace").splitlines()[-60:]
        report.sections.append((f"end of {SERVER_LOG.relative_to(ROOT)}", "\n".join(tail)))
    return report


# ---------------------------------------------------------------------------------------------
# the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def streamlit_server(*extra_args: str, log: Path | None = None, timeout: float = SERVER_START_TIMEOUT,
                     pid: bool = False, env: dict[str, str] | None = None):
    """Run ``streamlit run app.py`` from the repository root on a free port; yield its URL
    (with ``pid``: the URL and the server's process id). ``env``: variables to add to the
    server's environment.

    The process is terminated (then killed) on exit, whatever happened inside the block.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false", *extra_args,
    ]
    log_file = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    env = {**os.environ, **(env or {})}
    # the uploads this server keeps go to a store of its own, not the user's cache
    env.setdefault("EVALCORE_STORE_DIR", tempfile.mkdtemp(prefix="evalcore-e2e-store-"))
    process = subprocess.Popen(command, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                               env=env)
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if process.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with code {process.returncode} before serving"
                    + (f"; its output:\n{log.read_text(errors='replace')[-3000:]}" if log else "")
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer {url}/_stcore/health in {timeout:.0f} s")
            time.sleep(0.25)
        yield (url, process.pid) if pid else url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if log:
            log_file.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def server_data_dir(tmp_path_factory) -> Path:
    """The session server's data directory (EVALCORE_DATA_DIR), empty at the start."""
    return tmp_path_factory.mktemp("evalcore-e2e-data")


@pytest.fixture(scope="session")
def app_url(artifacts: Path, server_data_dir: Path):
    with streamlit_server(log=SERVER_LOG, env={"EVALCORE_DATA_DIR": str(server_data_dir)}) as url:
        yield url


# ---------------------------------------------------------------------------------------------
# the browser


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


def _safe_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::")[-1]).strip("_")


@pytest.fixture
def page(browser, app_url: str, artifacts: Path, request: pytest.FixtureRequest):
    context = browser.new_context(viewport=VIEWPORT, base_url=app_url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        report = getattr(request.node, "rep_call", None) or getattr(request.node, "rep_setup", None)
        if report is not None and report.failed:
            with contextlib.suppress(Exception):
                StreamlitPage(page, app_url).screenshot(
                    artifacts / f"{_safe_name(request.node.nodeid)}-failure.png"
                )
        context.close()


@pytest.fixture
def app(page, app_url: str) -> StreamlitPage:
    return StreamlitPage(page, app_url)


if sync_playwright is not None:
    expect.set_options(timeout=TIMEOUT_MS)


class StreamlitPage:
    """A Streamlit page in the browser: waiting for runs, widgets by their visible label."""

    def __init__(self, page: Page, base_url: str):
        self.page = page
        self.base_url = base_url

    # -- runs ------------------------------------------------------------------------------

    def open(self, path: str = "/", heading: str | None = None) -> None:
        """Go to ``path`` (may carry a query string) and wait for the first run to finish."""
        self.page.goto(self.base_url + path)
        if heading:
            expect(self.page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        self.wait_for_app()

    def wait_for_app(self, timeout: float = TIMEOUT_MS, settle_ms: int = 100) -> None:
        """Wait until the app is connected and no script run is under way (the ``stApp``
        element's ``data-test-script-state`` and the status widget's "Running" indicator).

        ``settle_ms`` first gives an action the time to reach the server; for a result that
        can be named, wait for it instead (``expect(...)``): it does not race with the run.
        """
        if settle_ms:
            self.page.wait_for_timeout(settle_ms)
        self.page.wait_for_function(
            """() => {
                const app = document.querySelector('[data-testid="stApp"]');
                if (!app || app.dataset.testConnectionState !== 'CONNECTED') return false;
                if (app.dataset.testScriptState !== 'notRunning') return false;
                const status = document.querySelector('[data-testid="stStatusWidget"]');
                return !status || !/Running/i.test(status.textContent || '');
            }""",
            timeout=timeout,
        )

    # -- finding things --------------------------------------------------------------------

    def widget(self, label: str, testid: str | None = None, *, exact: bool = True) -> Locator:
        """The element container of the widget whose visible label is ``label`` (``testid``:
        e.g. ``stSlider``, ``stRadio``, ``stSelectbox``, ``stFileUploader``)."""
        candidates = self.page.get_by_test_id(testid) if testid else self.page.locator(
            '[data-testid="stElementContainer"]')
        return candidates.filter(
            has=self.page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=exact)
        )

    def slider(self, label: str) -> Locator:
        """The thumb (the element with the slider role) of the slider labelled ``label``."""
        return self.widget(label, "stSlider").get_by_role("slider")

    def slider_value(self, label: str) -> float:
        """The slider's value as the browser holds it (what it sends to the app):
        ``aria-valuenow`` where set, else the range input's value."""
        return float(self.slider(label).evaluate(
            "e => e.getAttribute('aria-valuenow') ?? e.value"))

    def radio_option(self, group: str, option: str) -> Locator:
        """The option ``option`` of the radio group labelled ``group`` (also a collapsed
        label: it stays the group's aria-label)."""
        return self.page.get_by_role("radiogroup", name=group, exact=True).get_by_text(
            option, exact=True)

    def choose(self, group: str, option: str) -> None:
        self.radio_option(group, option).click()
        expect(self.page.get_by_role("radiogroup", name=group, exact=True).locator(
            '[data-testid="stRadioOption"][data-selected="true"]')).to_have_text(
            re.compile(rf"^{re.escape(option)}"))
        self.wait_for_app()

    def chosen(self, group: str) -> str:
        """The text of the selected option of a radio group (its caption excluded)."""
        return self.page.get_by_role("radiogroup", name=group, exact=True).locator(
            '[data-testid="stRadioOption"][data-selected="true"] [data-testid="stMarkdownContainer"]'
        ).first.inner_text().strip()

    def navigate(self, title: str) -> None:
        """Click a page's link in the sidebar navigation and wait for its title."""
        self.page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
        expect(self.page.get_by_role("heading", name=title, exact=True)).to_be_visible()
        self.wait_for_app()

    def keyed(self, key: str) -> Locator:
        """The element created with ``key=key`` (Streamlit's ``st-key-<key>`` class; characters
        other than letters, digits, - and _ become -)."""
        return self.page.locator(f".st-key-{re.sub(r'[^A-Za-z0-9_-]', '-', key)}")

    def sidebar_caption(self) -> Locator:
        """The captions of the sidebar: ``.first`` is the line that describes the data in use
        (source, task, classes, rows); an "In use" note of a kept upload is not one of them."""
        return self.page.get_by_test_id("stSidebar").get_by_test_id(
            "stCaptionContainer").filter(has_not_text="In use:")

    def table(self, locator: Locator) -> dict:
        """An ``st.table``: {"columns": header texts, "index": row headers, "cells": rows of
        cell texts}."""
        return locator.locator("table").first.evaluate(
            """t => ({
                columns: [...t.querySelectorAll('thead th')].map(c => c.innerText.trim()),
                index: [...t.querySelectorAll('tbody tr')].map(
                    r => (r.querySelector('th') || {innerText: ''}).innerText.trim()),
                cells: [...t.querySelectorAll('tbody tr')].map(
                    r => [...r.querySelectorAll('td')].map(c => c.innerText.trim())),
            })"""
        )

    def dataframe_column(self, locator: Locator, column: int = 0) -> list[str]:
        """One column of an ``st.dataframe`` (a canvas grid): read from the grid's hidden
        accessibility table, which holds the rendered rows."""
        return locator.locator("table").first.evaluate(
            """(t, column) => [...t.querySelectorAll('tbody tr')].map(
                r => (r.querySelectorAll('td')[column] || {textContent: ''}).textContent.trim())""",
            column,
        )

    def assert_no_exception(self) -> None:
        """No Streamlit exception box and no traceback text on the page."""
        expect(self.page.get_by_test_id("stException")).to_have_count(0)
        assert "Traceback" not in self.text(), "a traceback reached the page"

    def text(self) -> str:
        """Every text of the document, hidden parts included."""
        return self.page.evaluate("() => document.body.textContent || ''")

    # -- pictures --------------------------------------------------------------------------

    def screenshot(self, path: Path) -> Path:
        """The whole page: Streamlit scrolls inside its main area, not the document, so the
        viewport is made as tall as the content for the picture, then put back."""
        path.parent.mkdir(parents=True, exist_ok=True)
        size = self.page.viewport_size or VIEWPORT
        height = self.page.evaluate(
            """() => Math.max(...['[data-testid="stMain"]', '[data-testid="stMainBlockContainer"]',
                                  '[data-testid="stSidebarContent"]']
                .map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight),
                window.innerHeight)"""
        )
        tall = min(int(height) + 50, 12_000)
        if tall > size["height"]:
            self.page.set_viewport_size({"width": size["width"], "height": tall})
            self.page.wait_for_timeout(500)  # plotly redraws on resize
        try:
            self.page.screenshot(path=str(path))
        finally:
            if tall > size["height"]:
                self.page.set_viewport_size(size)
        return path
