"""The DuckDB engine against the in-memory (numpy) path and scikit-learn: every shared input
case written as Parquet and CSV gives the same curves, matrices and calibration to 1e-12;
beyond the budget the statistics are binned and say so while AUC and AP stay exact; bad rows
beyond the probe get the in-memory reader's one-line errors; Parquet globs and directories."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

import evalcore.engines.sql as sql
from evalcore import io
from evalcore.calibration import calibration
from evalcore.curves import compute_curves
from evalcore.decisions import Decision, confusion
from evalcore.engines import choose_engine
from evalcore.engines.duck import DuckDataset
from evalcore.errors import InputError
from evalcore.scorestats import bin_edges

from _engines import assert_equals_numpy, close, write_case
from _inputs import BY_NAME, CASES


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_case_equals_the_numpy_path(tmp_path, case, suffix):
    path = tmp_path / f"case{suffix}"
    p = write_case(case, path)
    with DuckDataset([path]) as data:
        assert_equals_numpy(data, p)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("levels", [None, 10])
def test_figures_equal_scikit_learn(tmp_path, dtype, levels):
    rng = np.random.default_rng(7)
    n, names = 3000, ["cat", "dog", "eel"]
    scores = rng.dirichlet(np.ones(3), n)
    if levels:  # ties
        scores = np.round(scores * levels) / levels
    y = np.array([rng.choice(3, p=row / row.sum()) if row.sum() else 0 for row in scores + 1e-9])
    frame = pd.DataFrame({"label": np.array(names)[y]})
    for j, name in enumerate(names):
        frame[f"prob_{name}"] = scores[:, j].astype(dtype)
    frame.to_parquet(tmp_path / "p.parquet")
    with DuckDataset([tmp_path / "p.parquet"]) as data:
        curves = data.curves()
    for j, summary in enumerate(curves.classes):
        truth = y == j
        assert summary.roc_auc == pytest.approx(roc_auc_score(truth, scores[:, j].astype(dtype)),
                                                abs=1e-12)
        assert summary.average_precision == pytest.approx(
            average_precision_score(truth, scores[:, j].astype(dtype)), abs=1e-12)
    reference = compute_curves(io.load(tmp_path / "p.parquet").select())
    assert curves.roc_auc.ovo_macro == pytest.approx(reference.roc_auc.ovo_macro, abs=1e-12)
    if not levels:  # rows sum to 1: scikit-learn's Hand & Till takes them
        assert curves.roc_auc.ovo_macro == pytest.approx(
            roc_auc_score(y, scores.astype(dtype), multi_class="ovo"), abs=1e-9)
    assert curves.exact


def test_beyond_the_budget_statistics_are_binned_and_auc_ap_stay_exact(tmp_path):
    rng = np.random.default_rng(3)
    n, k = 20_000, 3
    scores = rng.dirichlet(np.ones(k), n)
    y = (rng.random(n)[:, None] > np.cumsum(scores, axis=1)).sum(axis=1).clip(0, k - 1)
    frame = pd.DataFrame({"label": y, **{f"prob_{j}": scores[:, j] for j in range(k)}})
    frame.to_parquet(tmp_path / "p.parquet")
    budget = 64
    with DuckDataset([tmp_path / "p.parquet"], budget=budget) as data:
        curves = data.curves()
    exact = compute_curves(io.load(tmp_path / "p.parquet").select())
    assert not curves.exact and exact.exact
    for j in range(k):
        assert curves.classes[j].roc_auc == pytest.approx(roc_auc_score(y == j, scores[:, j]),
                                                          abs=1e-12)
        assert curves.classes[j].average_precision == pytest.approx(
            average_precision_score(y == j, scores[:, j]), abs=1e-12)
        assert set(curves.stats[j].values.tolist()) <= set(bin_edges(0, 1, budget).tolist())
        # counts at a bin edge are exact
        edge = bin_edges(0, 1, budget)[20]
        assert curves.stats[j].counts_at(edge) == exact.stats[j].counts_at(edge)
    cells = np.eye(k, dtype=bool)[y]
    assert curves.roc_auc.micro == pytest.approx(roc_auc_score(cells.ravel(), scores.ravel()),
                                                 abs=1e-12)
    assert curves.roc_auc.ovo_macro == pytest.approx(exact.roc_auc.ovo_macro, abs=1e-12)
    out = curves.to_dict()
    assert out["exact"] is False and "bin edges" in out["binned"]


@pytest.fixture
def small_probe(monkeypatch):
    monkeypatch.setattr(sql, "PROBE_ROWS", 10)


def _frame(n=60, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    scores = rng.dirichlet(np.ones(3), n)
    return pd.DataFrame({"label": rng.choice(["a", "b"], n), "prob_a": scores[:, 0],
                         "prob_b": scores[:, 1], "prob_c": scores[:, 2],
                         "split": np.where(np.arange(n) % 2, "test", "train")})


def test_a_class_seen_only_beyond_the_probe_is_found(tmp_path, small_probe):
    frame = _frame()
    frame.loc[51, "label"] = "c"  # a test row
    frame.to_parquet(tmp_path / "p.parquet")
    with DuckDataset([tmp_path / "p.parquet"]) as data:
        assert data.class_names == ("a", "b", "c")
        assert data.select().curves().classes[2].support == 1


@pytest.mark.parametrize("row, column, value, fmt, message", [
    (40, "prob_b", "0x10", ".csv", "score column 'prob_b', row 41 (line 42): '0x10' is not a number"),
    (45, "prob_c", np.nan, ".parquet", "score column 'prob_c', row 46: is empty, expected a "
                                       "finite number"),
    (45, "prob_c", np.inf, ".parquet", "score column 'prob_c', row 46: is inf, expected a "
                                       "finite number"),
    (30, "prob_a", 50.0, ".parquet", "score column 'prob_a', row 31: 50.0 is outside [0, 1], "
                                     "expected a probability (percentages? divide by 100); for "
                                     "logits name the columns logit_<class> or say "
                                     "--score-kind logit"),
    (33, "label", "zebra", ".parquet", "label column 'label', row 34: 'zebra' is not among the "
                                       "classes ['a', 'b', 'c']"),
    (34, "label", None, ".parquet", "label column 'label', row 35: is empty"),
    (36, "split", " ", ".csv", "column 'split', row 37 (line 38): is empty"),
], ids=["text", "nan", "inf", "percent", "unknown label", "no label", "empty split"])
def test_bad_rows_beyond_the_probe_get_the_readers_one_line_error(tmp_path, small_probe, row,
                                                                   column, value, fmt, message):
    frame = _frame().astype({column: object})
    frame.loc[row, column] = value
    if column.startswith("prob_") and not isinstance(value, str):
        frame[column] = frame[column].astype(np.float64)
    path = tmp_path / f"bad{fmt}"
    frame.to_csv(path, index=False) if fmt == ".csv" else frame.to_parquet(path, index=False)
    with pytest.raises(InputError) as error:
        DuckDataset([path])
    assert str(error.value) == f"{path}: {message}"
    # the in-memory reader says the same
    with pytest.raises(InputError) as same:
        io.load(path)
    assert str(same.value) == str(error.value)


def test_globs_directories_and_lists_of_parquet_files(tmp_path):
    frame = _frame(n=300)
    whole = tmp_path / "whole.parquet"
    frame.to_parquet(whole, index=False)
    parts = tmp_path / "parts"
    (parts / "day=2").mkdir(parents=True)
    for i, piece in enumerate(np.array_split(np.arange(300), 3)):
        target = parts / ("day=2" if i == 2 else "") / f"part{i}.parquet"
        frame.iloc[piece].to_parquet(target, index=False)
    expected = DuckDataset([whole])
    reference = expected.select(split="test").curves().to_dict()
    expected.close()
    for paths in ([parts], [str(parts / "**" / "*.parquet")],
                  sorted(str(p) for p in parts.rglob("*.parquet"))):
        with DuckDataset(paths) as data:
            assert data.info.n_samples == 300
            assert not close(data.select(split="test").curves().to_dict(), reference)


def test_an_error_in_one_of_many_files_names_that_file(tmp_path, small_probe):
    for i in range(3):
        frame = _frame(seed=i)
        if i == 2:
            frame.loc[20, "prob_b"] = np.nan
        frame.to_parquet(tmp_path / f"part{i}.parquet", index=False)
    with pytest.raises(InputError, match=r"score column 'prob_b', file 'part2.parquet', row 21: "
                                         "is empty"):
        DuckDataset([tmp_path])
    (tmp_path / "part1.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="part1.parquet"):
        DuckDataset([tmp_path])


def test_missing_and_unsupported_paths_are_one_line_errors(tmp_path):
    for paths, message in (([tmp_path / "nope.parquet"], "no such file"),
                           ([str(tmp_path / "*.parquet")], "no file matches"),
                           ([tmp_path], "a directory without .parquet files")):
        with pytest.raises(InputError, match=message):
            DuckDataset(paths)
    np.savez(tmp_path / "a.npz", y_true=[0, 1], y_score=[0.2, 0.7])
    with pytest.raises(InputError, match="reads Parquet files or one CSV"):
        DuckDataset([tmp_path / "a.npz"])
    _frame().to_parquet(tmp_path / "p.parquet")
    with pytest.raises(InputError, match="no label column 'truth'"):
        DuckDataset([tmp_path / "p.parquet"], io.Mapping(label_column="truth"))


def test_selection_follows_the_in_memory_defaults(tmp_path):
    frame = pd.concat([_frame().assign(model="b"), _frame(seed=1).assign(model="a")])
    frame.to_parquet(tmp_path / "p.parquet", index=False)
    loaded = io.load(tmp_path / "p.parquet")
    with DuckDataset([tmp_path / "p.parquet"]) as data:
        assert data.splits == loaded.predictions.splits
        assert data.models == loaded.predictions.models == ("b", "a")
        data.select()
        p = loaded.select()
        assert data.info.n_samples == p.n_samples
        assert not close(data.curves().to_dict(), compute_curves(p).to_dict())
        with pytest.raises(InputError, match="no split 'holdout'"):
            data.select(split="holdout")


def test_memory_limit_and_spill_directory(tmp_path):
    rng = np.random.default_rng(0)
    n = 300_000
    scores = rng.random((n, 2)).astype(np.float32)
    frame = pd.DataFrame({"label": rng.integers(0, 2, n), "prob_0": scores[:, 0],
                          "prob_1": scores[:, 1]})
    frame.to_parquet(tmp_path / "p.parquet")
    data = DuckDataset([tmp_path / "p.parquet"], memory_limit=64 << 20)
    spill = data._spill
    assert data._rows("SELECT current_setting('memory_limit')")[0][0] in (
        "64.0 MiB", "67.1 MB", "64.0MiB")
    p = io.load(tmp_path / "p.parquet").select()
    assert not close(data.curves().to_dict(), compute_curves(p).to_dict())
    data.close()
    assert not os.path.exists(spill)


def test_auto_engine_choice(tmp_path):
    small = tmp_path / "small.parquet"
    _frame().to_parquet(small)
    assert choose_engine("auto", [str(small)]) == "numpy"
    assert choose_engine("auto", [str(small)], max_bytes=100) == "duckdb"
    assert choose_engine("auto", [str(tmp_path)]) == "duckdb"
    assert choose_engine("auto", [str(tmp_path / "*.parquet")]) == "duckdb"
    assert choose_engine("duckdb", [str(small)]) == "duckdb"
    with pytest.raises(InputError, match="engine must be one of"):
        choose_engine("spark?", [str(small)])


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalcore.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_cli_says_what_needs_rows_in_memory(tmp_path):
    _frame().to_parquet(tmp_path / "p.parquet")
    path = tmp_path / "p.parquet"
    done = _cli("threshold", path, "--class", "a", "--objective", "recall>=0.9", "--rule",
                "argmax", "--engine", "duckdb")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == ("evalcore: error: a threshold under --rule (a sweep of the "
                                   "decision's own counts) needs every row in memory: use "
                                   "--engine numpy (within --max-size)")
    done = _cli("summary", path, "--ci", "--engine", "duckdb")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    done = _cli("summary", path, "--engine", "duckdb", "--json", "-v")
    assert done.returncode == 0 and '"engine": "duckdb"' in done.stdout
    assert "engine: duckdb" in done.stderr


def test_calibration_with_quantile_bins_equals_numpy(tmp_path):
    p = write_case(BY_NAME["multiclass_ties_f64"],
                   tmp_path / "p.parquet")
    with DuckDataset([tmp_path / "p.parquet"]) as data:
        ours = data.select().calibration(bins=5, strategy="quantile").to_dict()
    assert not close(ours, calibration(p, bins=5, strategy="quantile").to_dict())


def test_any_rule_counts_like_the_kernel(tmp_path):
    p = write_case(BY_NAME["multiclass_softmax_f32"],
                   tmp_path / "p.parquet")
    k = len(p.class_names)
    decisions = [Decision.of(p, "abstain", 0.6),
                 Decision.of(p, "per-class", [0.3] * k),
                 Decision.of(p, "priority", {p.class_names[1]: 0.2}),
                 Decision.of(p, "weighted", weights={p.class_names[0]: 2.0}),
                 Decision.of(p, "cost", costs=np.ones((k, k)) - np.eye(k))]
    with DuckDataset([tmp_path / "p.parquet"]) as data:
        for decision in decisions:
            assert not close(data.confusion(decision).to_dict(),
                             confusion(p, decision).to_dict()), decision.rule


def test_stratified_sample_keeps_each_labels_share_and_is_seeded(tmp_path):
    rng = np.random.default_rng(3)
    y = rng.choice(3, size=20_000, p=[0.7, 0.25, 0.05])
    s = rng.dirichlet([1, 1, 1], size=y.size)
    frame = pd.DataFrame({"label": y, "prob_a": s[:, 0], "prob_b": s[:, 1], "prob_c": s[:, 2]})
    frame.to_parquet(tmp_path / "p.parquet")
    with DuckDataset([tmp_path / "p.parquet"]) as data:
        sample = data.stratified_sample(1000, seed=1)
        assert sample.class_names == ("a", "b", "c") and sample.n_samples == 1000
        assert np.bincount(sample.y_true).tolist() == [
            round(1000 * share) for share in np.bincount(y) / y.size]
        # every sampled row is a row of the data, with its own label
        rows = {tuple(r) for r in np.column_stack([y, s]).round(12)}
        drawn = np.column_stack([sample.y_true, sample.scores]).round(12)
        assert all(tuple(r) in rows for r in drawn)
        again = data.stratified_sample(1000, seed=1)
        assert np.array_equal(again.scores, sample.scores)
        assert not np.array_equal(data.stratified_sample(1000, seed=2).scores, sample.scores)
        everything = data.stratified_sample(10**6)
        assert everything.n_samples == y.size
        assert np.array_equal(np.sort(everything.scores[:, 0]), np.sort(s[:, 0]))


def test_quotas_share_rows_by_largest_remainder():
    assert sql._quotas({0: 5, 1: 5, 2: 5}, 10) == {0: (4, 5), 1: (3, 5), 2: (3, 5)}
    assert sql._quotas({0: 3, 1: 1}, 10) == {0: (3, 3), 1: (1, 1)}
    assert sql._quotas({0: 999, 1: 1}, 10) == {0: (10, 999), 1: (0, 1)}
