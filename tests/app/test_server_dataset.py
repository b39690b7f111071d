"""The sidebar's "Dataset on this server": hidden without EVALCORE_DATA_DIR, nothing outside
the data directory read, exact curves over every row (as the in-memory path), the sample the
sliders count on said and counted, "Count exactly" over every row, one computation shared by
every session, links."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import state
from dashboard.data import shared
from dashboard.widgets import DATASET_KEY
from evalcore import compute_curves
from evalcore.decisions import Decision, confusion
from evalcore.engines.duck import DuckDataset
from evalcore.io import load
from tests.app.conftest import assert_clean, open_app

NAMES = ["ant", "bee", "cow"]
N_ROWS, SAMPLE = 20_000, 3_000


def write_dataset(path: Path, n: int = N_ROWS, seed: int = 1, names=NAMES) -> None:
    """A wide Parquet table: label (class names) and prob_<class> softmax columns."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(names), n)
    z = rng.normal(size=(n, len(names)))
    z[np.arange(n), y] += 1.0
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    frame = pd.DataFrame({"label": np.asarray(names)[y],
                          **{f"prob_{c}": p[:, i] for i, c in enumerate(names)}})
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> dict[str, Path]:
    """data/ (the data directory) and outside/ beside it, with symlinks from one to the other."""
    base = tmp_path_factory.mktemp("server")
    data, outside = base / "data", base / "outside"
    write_dataset(data / "scores.parquet")
    write_dataset(data / "parts" / "a.parquet", n=500, seed=2)
    write_dataset(data / "parts" / "b.parquet", n=700, seed=3)
    write_dataset(outside / "secret.parquet", n=50, seed=4, names=["SECRETA", "SECRETB"])
    os.symlink(outside / "secret.parquet", data / "link.parquet")
    os.symlink(outside, data / "linkdir")
    return {"base": base, "data": data, "outside": outside}


@pytest.fixture
def server(tree, monkeypatch) -> Path:
    monkeypatch.setenv("EVALCORE_DATA_DIR", str(tree["data"]))
    monkeypatch.setenv("EVALCORE_SAMPLE_ROWS", str(SAMPLE))
    return tree["data"]


def open_server(at, path: str):
    at.sidebar.radio(key=state.SOURCE_KIND).set_value("server").run()
    at.sidebar.text_input(key=state.SERVER_PATH).set_value(path).run()
    assert_clean(at)
    return at


def everything(at) -> str:
    """Every text the app shows (main panel and sidebar)."""
    parts = [e.value for kind in ("markdown", "caption", "info", "error", "warning", "success",
                                  "title", "subheader") for e in getattr(at, kind)]
    parts += [str(t.value) for t in at.table] + [str(d.value) for d in at.dataframe]
    parts += [str(s.options) for s in at.selectbox]
    return "\n".join(map(str, parts))


def test_the_option_is_hidden_without_a_data_dir(monkeypatch):
    monkeypatch.delenv("EVALCORE_DATA_DIR", raising=False)
    at = open_app()
    assert "server" not in at.sidebar.radio(key=state.SOURCE_KIND).options
    assert "Dataset on this server" not in str(at.sidebar.radio(key=state.SOURCE_KIND).proto)


def test_the_option_lists_what_the_data_dir_holds(server):
    at = open_app()
    at.sidebar.radio(key=state.SOURCE_KIND).set_value("server").run()
    found = at.sidebar.selectbox(key=state.SERVER_PICK).options
    assert found == ["parts/", "parts/a.parquet", "parts/b.parquet", "scores.parquet"]
    at.sidebar.selectbox(key=state.SERVER_PICK).set_value("parts/").run()
    assert_clean(at)
    assert at.session_state[DATASET_KEY].full.n_rows == 1200  # both parts


@pytest.mark.parametrize("path, refused", [
    ("../outside/secret.parquet", "'..'"),
    ("{outside}/secret.parquet", "absolute"),
    ("{data}/scores.parquet", "absolute"),
    ("link.parquet", "outside the data directory"),
    ("linkdir", "outside the data directory"),
    ("linkdir/secret.parquet", "outside the data directory"),
    ("linkdir/*.parquet", "outside the data directory"),
    ("*.parquet", "outside the data directory"),  # matches link.parquet too
    ("../*.parquet", "'..'"),
    ("**/../../x", "'..'"),
])
def test_nothing_outside_the_data_dir_is_read(server, tree, path, refused):
    path = path.format(outside=tree["outside"], data=tree["data"])
    at = open_server(open_app(), path)
    errors = [e.value for e in at.sidebar.error]
    assert len(errors) == 1 and "\n" not in errors[0], errors
    assert refused in errors[0] and "refused" in errors[0], errors[0]
    shown = path if refused != "outside the data directory" or "*" not in path else None
    assert shown is None or repr(path.strip()) in errors[0]
    assert "SECRET" not in everything(at)  # no class of the outside file reached the page
    assert at.session_state[DATASET_KEY].source.kind == "demo"  # the demo stays in use


def test_a_symlink_that_stays_inside_is_read(server, tree):
    os.symlink(tree["data"] / "scores.parquet", tree["data"] / "parts" / "alias.parquet")
    try:
        at = open_server(open_app(), "parts/alias.parquet")
        assert not at.error
        assert at.session_state[DATASET_KEY].full.n_rows == N_ROWS
    finally:
        os.unlink(tree["data"] / "parts" / "alias.parquet")


def test_exact_curves_over_every_row_equal_the_in_memory_path(server):
    at = open_server(open_app(), "scores.parquet")
    assert not at.error, [e.value for e in at.error]
    expected = compute_curves(load(server / "scores.parquet").select())
    table = at.dataframe[0].value
    assert table["class"].tolist() == NAMES
    np.testing.assert_allclose(table["ROC AUC"], [s.roc_auc for s in expected.classes],
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(table["AP"], [s.average_precision for s in expected.classes],
                               rtol=0, atol=1e-12)
    assert table["support"].tolist() == [s.support for s in expected.classes]
    data = at.session_state[DATASET_KEY]
    assert data.curves.n_samples == N_ROWS and data.curves.exact


def test_the_page_says_what_is_sampled_and_counts_the_sample(server):
    at = open_server(open_app(), "scores.parquet")
    (statement,) = [i.value for i in at.info if "stratified sample" in i.value]
    assert f"Curves and AUCs: all {N_ROWS:,} rows (exact)" in statement
    assert f"a stratified sample of {SAMPLE:,} rows (seed 0)" in statement
    with DuckDataset([server / "scores.parquet"]) as engine:
        sample = engine.select().stratified_sample(SAMPLE, seed=0)
    assert abs(sample.n_samples - SAMPLE) <= 3
    at.switch_page("views/thresholds.py").run()
    assert_clean(at)
    matrix = next(t for t in at.table if "cow" in t.value.columns).value
    assert np.array_equal(matrix.to_numpy(dtype=np.int64), confusion(sample, "argmax").matrix)
    assert any(f"sample of {sample.n_samples:,} of {N_ROWS:,} rows" in c.value
               for c in at.caption)


def test_count_exactly_counts_every_row_for_the_decision_shown(server):
    at = open_server(open_app(), "scores.parquet")
    at.switch_page("views/thresholds.py").run()
    at.radio(key=state.widget_key(state.RULE)).set_value("abstain").run()
    at.slider(key=state.widget_key(state.GLOBAL)).set_value(0.62).run()
    assert not at.success  # nothing counted before the click
    at.button(key="thr.exact").click().run()
    assert_clean(at)
    (done,) = [s.value for s in at.success]
    assert f"counted over all {N_ROWS:,} rows in" in done and done.endswith(" s.")
    every_row = confusion(load(server / "scores.parquet").select(),
                          Decision.abstain(NAMES, 0.62))
    exact = [t.value for t in at.table if "abstained" in t.value.columns]
    assert len(exact) == 2  # the sample's matrix and the exact one
    assert np.array_equal(exact[1].to_numpy(dtype=np.int64), every_row.matrix)
    assert exact[1].to_numpy().sum() == N_ROWS
    # the decision moves: the exact matrix of 0.62 is no longer shown beside it
    at.slider(key=state.widget_key(state.GLOBAL)).set_value(0.7).run()
    assert not at.success
    assert len([t for t in at.table if "abstained" in t.value.columns]) == 1
    assert any("exact count was of another decision" in c.value for c in at.caption)


def test_two_sessions_share_one_computation(server, tree):
    write_dataset(tree["data"] / "shared.parquet", seed=9)  # statistics no test computed yet
    try:
        first = open_server(open_app(), "shared.parquet")
        a = first.session_state[DATASET_KEY]
        assert shared().has(a.full.key)
        second = open_server(open_app(), "shared.parquet")
        b = second.session_state[DATASET_KEY]
        # the second session got the first one's objects: computed once, held once
        assert a.full.key == b.full.key
        assert a.curves is b.curves and a.predictions is b.predictions
    finally:
        os.unlink(tree["data"] / "shared.parquet")


def test_every_page_renders_a_server_dataset(server):
    at = open_server(open_app(), "scores.parquet")
    for page in ("views/overview.py", "views/curves.py", "views/thresholds.py",
                 "views/accuracy.py", "views/calibration.py", "views/compare.py"):
        at.switch_page(page).run()
        assert_clean(at)
        assert not at.error, (page, [e.value for e in at.error])
    # what pairs rows with curves counts the sample's: the bootstrap, the report
    at.switch_page("views/overview.py").run()
    at.button(key="overview.bootstrap_button").click().run()
    at.button(key="overview.report_build").click().run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    columns = at.dataframe[0].value.columns  # intervals of the sample, said so
    assert {"AUC 95% CI (sample)", "AP 95% CI (sample)", "recall (sample)",
            "recall 95% CI (sample)"} <= set(columns)
    html = at.session_state[state.REPORT][1]
    assert "a stratified sample of" in html and f"all {N_ROWS:,} rows" in html


def test_a_link_reopens_the_server_view(server):
    at = open_server(open_app(), "scores.parquet")
    at.switch_page("views/thresholds.py").run()
    at.radio(key=state.widget_key(state.RULE)).set_value("abstain").run()
    at.slider(key=state.widget_key(state.GLOBAL)).set_value(0.66).run()
    query = {k: at.query_params[k] for k in at.query_params}
    assert query[state.Q_SERVER] == ["scores.parquet"] or query[state.Q_SERVER] == "scores.parquet"
    again = open_app(query={k: v[-1] if isinstance(v, list) else v for k, v in query.items()})
    data = again.session_state[DATASET_KEY]
    assert data.source.kind == "server" and data.source.key == "scores.parquet"
    assert again.session_state[state.DECISION] == Decision.abstain(NAMES, 0.66)


@pytest.mark.parametrize("configured", [True, False])
def test_a_link_to_a_dataset_this_server_lacks_says_so(tree, monkeypatch, configured):
    if configured:
        monkeypatch.setenv("EVALCORE_DATA_DIR", str(tree["data"]))
    else:
        monkeypatch.delenv("EVALCORE_DATA_DIR", raising=False)
    at = open_app(query={state.Q_SERVER: "gone.parquet", "rule": "abstain", "t": "0.7"})
    (warning,) = [w.value for w in at.warning]
    assert "gone.parquet" in warning and "\n" not in warning
    assert ("no such file" in warning) if configured else ("no data directory" in warning)
    assert at.session_state[DATASET_KEY].source.kind == "demo"


def test_a_bad_row_in_a_server_dataset_is_one_line(server, tree):
    bad = tree["data"] / "bad.csv"
    bad.write_text("label,prob_a,prob_b\na,0.2,0.8\nb,0.7,oops\n")
    try:
        at = open_server(open_app(), "bad.csv")
        errors = [e.value for e in at.sidebar.error]
        assert len(errors) == 1 and "\n" not in errors[0], errors
        assert "'prob_b'" in errors[0] and "row 2" in errors[0] and "oops" in errors[0]
        assert at.session_state[DATASET_KEY].source.kind == "demo"
    finally:
        bad.unlink()


def test_binned_counts_say_how_far_they_may_be_off(server, tree):
    """More distinct scores than the budget (2^20): the curves are binned, the page says so,
    and the count the ring shows is within the slack it states of NumPy's exact count."""
    rng = np.random.default_rng(5)
    n = 1_200_000
    y = rng.integers(0, 2, n)
    score = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0.0, 1.0)
    pd.DataFrame({"label": y, "score": score}).to_parquet(tree["data"] / "binned.parquet")
    try:
        at = open_server(open_app(), "binned.parquet")
        assert any("pooled into bins" in i.value for i in at.info)
        at.switch_page("views/thresholds.py").run()
        at.slider(key=state.widget_key(state.GLOBAL)).set_value(0.123).run()
        assert_clean(at)
        (note,) = [c.value for c in at.caption if c.value.startswith("Binned statistics")]
        tp_slack = int(note.split("exact TP within +")[1].split(",")[0].replace(" ", ""))
        fp_slack = int(note.split("FP within +")[1].rstrip(").").replace(",", ""))
        data = at.session_state[DATASET_KEY]
        assert not data.curves.exact
        shown = data.curves.counts_at(0.123)
        exact_tp = int(np.sum((score >= 0.123) & (y == 1)))
        exact_fp = int(np.sum((score >= 0.123) & (y == 0)))
        assert 0 <= exact_tp - int(shown.tp[0]) <= tp_slack
        assert 0 <= exact_fp - int(shown.fp[0]) <= fp_slack
        assert tp_slack + fp_slack > 0  # 0.123 is not a bin edge: some rows share its bin
    finally:
        os.unlink(tree["data"] / "binned.parquet")
