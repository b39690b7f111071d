"""The Spark engine in a real local Spark session (``local[2]``, one per test session) against
the in-memory (numpy) path and scikit-learn: every shared input case as Parquet and CSV gives
the same curves, matrices and calibration to 1e-12; a DataFrame of the user's session is
evaluated in one call; beyond the budget the statistics are binned with bounds that hold; bad
input (a corrupt file, a missing column, no Java) is one line.

Without Java or pyspark these tests are skipped, except under CI (``make test`` installs
both), where a missing one is a failure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from evalcore import io
from evalcore.curves import compute_curves
from evalcore.decisions import Decision, confusion
from evalcore.engines import InMemory
from evalcore.errors import InputError

from _engines import assert_equals_numpy, close, write_case
from _inputs import CASES

HAVE = shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))
try:
    import pyspark  # noqa: F401
except ImportError:
    HAVE = False
if not HAVE and os.environ.get("CI"):
    raise RuntimeError("CI: the Spark tests need Java and pyspark (make test installs them)")
pytestmark = pytest.mark.skipif(not HAVE, reason="no Java or pyspark")


@pytest.fixture(scope="session")
def spark():
    from evalcore.engines.spark import session

    spark = session("local[2]")
    yield spark
    spark.stop()


@pytest.fixture
def dataset(spark):
    from evalcore.engines.spark import SparkDataset

    def open_(paths, **options):
        return SparkDataset([str(p) for p in paths], master=None, **options)

    return open_


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_case_equals_the_numpy_path(tmp_path, dataset, case, suffix):
    path = tmp_path / f"case{suffix}"
    p = write_case(case, path)
    with dataset([path]) as data:
        assert_equals_numpy(data, p)


def _multiclass(n=3000, seed=7, levels=None):
    rng = np.random.default_rng(seed)
    scores = rng.dirichlet(np.ones(3), n)
    if levels:
        scores = np.round(scores * levels) / levels
    y = (rng.random(n)[:, None] > np.cumsum(scores, axis=1)).sum(axis=1).clip(0, 2)
    return y, scores


@pytest.mark.parametrize("levels", [None, 10])
def test_a_dataframe_of_the_session_in_one_call_equals_scikit_learn(spark, levels):
    from evalcore.engines.spark import SparkDataset

    y, scores = _multiclass(levels=levels)
    names = np.array(["cat", "dog", "eel"])
    frame = pd.DataFrame({"label": names[y], **{f"prob_{c}": scores[:, j]
                                                for j, c in enumerate(names)}})
    with SparkDataset(frame=spark.createDataFrame(frame)) as data:
        curves = data.curves()
        assert data.describe().endswith("engine: spark")
    for j, summary in enumerate(curves.classes):
        assert summary.roc_auc == pytest.approx(roc_auc_score(y == j, scores[:, j]), abs=1e-12)
        assert summary.average_precision == pytest.approx(
            average_precision_score(y == j, scores[:, j]), abs=1e-12)
    p = io.table_predictions(frame, io.Mapping(), name="frame", fmt="parquet").predictions
    assert not close(curves.to_dict(), compute_curves(p).to_dict())
    assert curves.exact


def test_beyond_the_budget_statistics_are_binned_with_bounds_that_hold(tmp_path, dataset):
    y, scores = _multiclass(n=20_000, seed=3)
    frame = pd.DataFrame({"label": y, **{f"prob_{j}": scores[:, j] for j in range(3)}})
    frame.to_parquet(tmp_path / "p.parquet")
    budget = 64
    with dataset([tmp_path / "p.parquet"], budget=budget) as data:
        curves = data.curves()
    exact = compute_curves(io.load(tmp_path / "p.parquet").select())
    assert not curves.exact and exact.exact
    out = curves.to_dict()
    assert out["exact"] is False and "binned" in out
    for j in range(3):
        st = curves.stats[j]
        assert not st.exact and st.values.size <= budget
        # how many there were: HyperLogLog's estimate (1% relative error)
        assert st.n_distinct == pytest.approx(np.unique(scores[:, j]).size, rel=0.04)
        auc = roc_auc_score(y == j, scores[:, j])
        assert abs(curves.classes[j].roc_auc - auc) <= st.auc_bound() + 1e-12
        low, high = st.ap_bounds()
        assert low - 1e-12 <= average_precision_score(y == j, scores[:, j]) <= high + 1e-12
        # thresholds are the lowest score of a bin: the counts there are exact
        for value in st.values[::7]:
            assert st.counts_at(value) == exact.stats[j].counts_at(value)


def test_any_rule_counts_like_the_kernel_on_the_executors(tmp_path, dataset):
    y, scores = _multiclass(n=5000, seed=5)
    frame = pd.DataFrame({"label": y, **{f"prob_{j}": scores[:, j] for j in range(3)}})
    frame.to_parquet(tmp_path / "p.parquet")
    p = io.load(tmp_path / "p.parquet").select()
    with dataset([tmp_path / "p.parquet"]) as data:
        names = p.class_names
        for decision in (Decision.of(p), Decision.of(p, "abstain", 0.6),
                         Decision.of(p, "per-class", [0.2, 0.5, 0.3]),
                         Decision.of(p, "priority", {names[2]: 0.3, names[0]: 0.2})):
            assert not close(data.confusion(decision).to_dict(),
                             confusion(p, decision).to_dict())
        assert not close(data.calibration(bins=5, strategy="quantile").to_dict(),
                         InMemory(p).calibration(bins=5, strategy="quantile").to_dict())
        sample = data.stratified_sample(500, seed=1)
        assert np.bincount(sample.y_true).tolist() == [
            round(500 * share) for share in np.bincount(y) / y.size]


def test_bad_input_is_one_line(tmp_path, dataset):
    frame = pd.DataFrame({"label": [0, 1, 1, 0] * 10, "score": np.linspace(0, 1, 40)})
    frame.loc[25, "score"] = np.nan
    frame.to_parquet(tmp_path / "nan.parquet")
    with pytest.raises(InputError) as error:
        dataset([tmp_path / "nan.parquet"])
    with pytest.raises(InputError) as same:
        io.load(tmp_path / "nan.parquet")
    assert str(error.value) == str(same.value)
    frame.loc[25, "score"] = 0.5
    text = pd.DataFrame({"label": frame.label, "prob_0": 1 - frame.score,
                         "prob_1": frame.score.astype(object)})
    text.loc[31, "prob_1"] = "abc"
    text.to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(InputError) as error:
        dataset([tmp_path / "text.csv"])
    assert str(error.value) == (f"{tmp_path / 'text.csv'}: score column 'prob_1', row 32 "
                                "(line 33): 'abc' is not a number")
    with pytest.raises(InputError) as same:
        io.load(tmp_path / "text.csv")
    assert str(error.value) == str(same.value)
    frame.to_parquet(tmp_path / "p.parquet")
    with pytest.raises(InputError, match="no label column 'truth'"):
        dataset([tmp_path / "p.parquet"], mapping=io.Mapping(label_column="truth"))
    (tmp_path / "corrupt.parquet").write_bytes(b"PAR1 not really a parquet file")
    with pytest.raises(InputError) as error:
        dataset([tmp_path / "corrupt.parquet"])
    assert "corrupt.parquet" in str(error.value) and "\n" not in str(error.value)


def _cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalcore.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env)


def test_cli_summary_with_the_spark_engine(tmp_path, spark):
    y, scores = _multiclass(n=2000, seed=11)
    frame = pd.DataFrame({"label": y, **{f"prob_{j}": scores[:, j] for j in range(3)}})
    frame.to_parquet(tmp_path / "p.parquet")
    run = _cli("summary", tmp_path / "p.parquet", "--engine", "spark", "--spark-master",
               "local[1]", "--json")
    assert run.returncode == 0, run.stderr
    import json

    out = json.loads(run.stdout)
    assert out["engine"] == "spark"
    reference = compute_curves(io.load(tmp_path / "p.parquet").select())
    assert out["roc_auc"]["macro"] == pytest.approx(reference.roc_auc.macro, abs=1e-12)
    assert run.stderr == ""  # the JVM's console is not the user's


def test_no_java_is_one_line(tmp_path):
    frame = pd.DataFrame({"label": [0, 1], "score": [0.2, 0.7]})
    frame.to_parquet(tmp_path / "p.parquet")
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "SPARK_REMOTE")}
    env["PATH"] = os.path.dirname(sys.executable)  # python, but no java
    run = _cli("summary", tmp_path / "p.parquet", "--engine", "spark", env=env)
    assert run.returncode != 0
    assert run.stderr.strip().splitlines() == [
        "evalcore: error: the spark engine needs Java 17 or newer (Debian: apt-get install "
        "openjdk-17-jre-headless), or SPARK_REMOTE for Spark Connect"]
