"""evalcore.stats: DeLong against the textbook O(m n) definition and the published worked
example, the paired test against an independent paired computation, the fast bootstrap
against scikit-learn / the engine on the very same explicit resamples, seeded
reproducibility, coverage on data with a known population AUC, and degenerate classes.

Runtime: the coverage tests use 300 resamples per data set (not the default 1000) over 200
data sets; the whole file runs in a few seconds.
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from sklearn.metrics import average_precision_score, roc_auc_score

from _inputs import BY_NAME, CASES, Case
from evalcore.curves import CurveSet, compute_curves
from evalcore.decisions import confusion
from evalcore.errors import InputError
from evalcore.predictions import Predictions
from evalcore.stats import (
    Accuracy,
    AveragedRocAuc,
    ClassRates,
    Combined,
    Interval,
    PerClassAveragePrecision,
    PerClassRocAuc,
    auc_intervals,
    bootstrap_distribution,
    bootstrap_interval,
    compare_auc,
    delong,
    summary_intervals,
)

ATOL = 1e-12

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning"),
    pytest.mark.filterwarnings("ignore:No positive class found in y_true"),
]


@functools.lru_cache(maxsize=None)
def _computed(name: str) -> tuple[Predictions, CurveSet]:
    y_true, y_score, kwargs = BY_NAME[name].inputs()
    p = Predictions.from_arrays(y_true, y_score, **kwargs)
    return p, compute_curves(p)


def _psi(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """The textbook kernel: 1 if the positive scores higher, 1/2 on a tie, else 0 (m x n)."""
    pos = np.asarray(pos, dtype=np.float64)[:, None]
    neg = np.asarray(neg, dtype=np.float64)[None, :]
    return (pos > neg) + 0.5 * (pos == neg)


def _brute_delong(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """AUC, variance, V10, V01 straight from the definition, O(m n)."""
    psi = _psi(pos, neg)
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    m, n = psi.shape
    return psi.mean(), v10.var(ddof=1) / m + v01.var(ddof=1) / n, v10, v01


# --------------------------------------------------------------------------- DeLong

WORKED_SCORES = [0.21, 0.32, 0.63, 0.35, 0.92, 0.79, 0.82, 0.99, 0.04]
WORKED_LABELS = [0, 1, 0, 0, 1, 1, 0, 1, 0]


def test_worked_example():
    """The published example (Sun & Xu's fast DeLong): AUC 0.8, variance 0.02875. By hand:
    V10 = [.4, .8, 1, 1] (positives .32 .79 .92 .99), V01 = [1, 1, .75, .75, .5] (negatives
    .04 .21 .35 .63 .82); S10 = .24 / 3 = .08, S01 = .175 / 4 = .04375 (unbiased, m - 1 and
    n - 1 denominators); Var = .08 / 4 + .04375 / 5 = .02 + .00875 = .02875."""
    p = Predictions.from_arrays(WORKED_LABELS, WORKED_SCORES)
    d = delong(compute_curves(p), 0)
    assert abs(d.auc - 0.8) <= ATOL
    assert abs(d.variance - 0.02875) <= ATOL
    np.testing.assert_allclose(d.v10, [0.4, 0.8, 1.0, 1.0], atol=ATOL)
    np.testing.assert_allclose(d.v01, [1.0, 1.0, 0.75, 0.75, 0.5], atol=ATOL)
    iv = d.interval()
    half = 1.959963984540054 * math.sqrt(0.02875)
    assert iv.method == "delong" and iv.level == 0.95
    assert abs(iv.low - (0.8 - half)) <= ATOL and iv.high == 1.0  # clipped
    assert d.to_dict()["standard_error"] == pytest.approx(math.sqrt(0.02875), abs=ATOL)


@pytest.mark.parametrize("case", [c for c in CASES], ids=str)
def test_delong_matches_the_definition(case: Case):
    p, curves = _computed(case.name)
    for c in range(len(curves.names)):
        d = delong(curves, c)
        mask = p.positives(c)
        pos, neg = np.sort(p.scores[mask, c]), np.sort(p.scores[~mask, c])
        if not pos.size or not neg.size:
            assert d.auc is None and d.variance is None and d.reason
            assert d.interval().bounds is None and d.interval().reason == d.reason
            continue
        auc, var, v10, v01 = _brute_delong(pos, neg)
        assert d.auc == curves.classes[c].roc_auc  # the engine's exact figure
        assert abs(d.auc - auc) <= ATOL
        assert abs(d.variance - var) <= ATOL
        np.testing.assert_allclose(d.v10, v10, atol=ATOL)
        np.testing.assert_allclose(d.v01, v01, atol=ATOL)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    labels=st.lists(st.booleans(), min_size=4, max_size=60),
    data=st.data(),
)
def test_delong_property_with_heavy_ties(labels, data):
    y = np.array(labels)
    if y.sum() < 2 or (~y).sum() < 2:
        y[:2], y[2:4] = True, False
    scores = np.array(data.draw(st.lists(st.integers(0, 5), min_size=y.size, max_size=y.size)))
    p = Predictions.from_arrays(y.astype(int), scores / 5.0)
    d = delong(compute_curves(p), 0)
    auc, var, _, _ = _brute_delong(p.scores[y, 0], p.scores[~y, 0])
    assert abs(d.auc - auc) <= ATOL and abs(d.variance - var) <= ATOL


def test_delong_undefined_and_small_classes():
    _, curves = _computed("multiclass_absent_class")
    d = delong(curves, "mu")
    assert d.auc is None and d.variance is None and "no positive samples" in d.reason
    iv = auc_intervals(curves)[2]
    assert iv.bounds is None and iv.low is None and "no positive" in iv.reason
    assert json.dumps(iv.to_dict(), allow_nan=False)
    one = Predictions.from_arrays([0, 0, 1, 0], [0.1, 0.4, 0.9, 0.3])
    d = delong(compute_curves(one), 0)
    assert d.auc == 1.0 and d.variance is None and "at least 2 positives" in d.reason
    assert d.interval().bounds is None


def test_auc_intervals_level_and_names():
    _, curves = _computed("multiclass_strings")
    narrow = auc_intervals(curves, level=0.5)
    wide = auc_intervals(curves, level=0.99)
    for a, b, s in zip(narrow, wide, curves.classes):
        assert a.name == s.name and a.estimate == s.roc_auc
        assert b.low < a.low < a.estimate < a.high < b.high
    assert delong(curves, "cat").auc == delong(curves, 1).auc
    with pytest.raises(InputError, match="level"):
        auc_intervals(curves, level=95)
    with pytest.raises(InputError, match="expected a class name or index of .*, got 'cow'"):
        delong(curves, "cow")


# --------------------------------------------------------------------------- paired DeLong


def _brute_paired(sa: np.ndarray, sb: np.ndarray, positive: np.ndarray):
    """Difference, z and two-sided p of the paired DeLong test from the O(m n) kernels."""
    pa, pb = _psi(sa[positive], sa[~positive]), _psi(sb[positive], sb[~positive])
    m, n = pa.shape
    s10 = np.cov(np.vstack([pa.mean(axis=1), pb.mean(axis=1)]))
    s01 = np.cov(np.vstack([pa.mean(axis=0), pb.mean(axis=0)]))
    s = s10 / m + s01 / n
    diff = pa.mean() - pb.mean()
    z = diff / math.sqrt(s[0, 0] + s[1, 1] - 2 * s[0, 1])
    return diff, z, 2 * norm.sf(abs(z))


@pytest.mark.parametrize("name", ["binary_1d", "multiclass_ties_f64", "multilabel_probs"])
def test_paired_delong_matches_the_definition(name):
    p, _ = _computed(name)
    rng = np.random.default_rng(5)
    # a second model: the same scores, noised and coarsened (ties), on the same samples
    other = np.round(np.clip(p.scores + rng.normal(0, 0.15, p.scores.shape), 0, 1), 2)
    q = Predictions.from_arrays(p.y_true, other, class_names=p.class_names, task=p.task,
                                score_kind="probability")
    for c in range(len(p.curve_names)):
        r = compare_auc(p, q, c)
        diff, z, pv = _brute_paired(p.scores[:, c], q.scores[:, c], p.positives(c))
        assert abs(r.difference - diff) <= ATOL
        assert r.z == pytest.approx(z, rel=1e-9)
        assert r.p_value == pytest.approx(pv, rel=1e-9, abs=1e-15)
        assert r.auc_a == compute_curves(p).classes[c].roc_auc
        assert r.low < r.difference < r.high
        back = compare_auc(q, p, c)
        assert back.z == pytest.approx(-r.z, rel=1e-12) and back.p_value == pytest.approx(r.p_value)


def test_paired_delong_identical_models():
    p, _ = _computed("multiclass_logits")
    r = compare_auc(p, p, 0)
    assert r.difference == 0.0 and r.p_value == 1.0 and r.z == 0.0 and r.reason
    # a strictly increasing transform ranks every pair alike: also no difference at all
    q = Predictions.from_arrays(p.y_true, p.scores ** 3, task="multiclass",
                                score_kind="probability")
    r = compare_auc(p, q, 2)
    assert r.difference == 0.0 and r.p_value == 1.0
    assert json.dumps(r.to_dict(), allow_nan=False)


def test_paired_delong_needs_the_same_samples():
    p, _ = _computed("binary_1d")
    shuffled = Predictions.from_arrays(p.y_true[::-1], p.scores[::-1, 0])
    with pytest.raises(InputError, match="not evaluated on the same samples: y_true differs"):
        compare_auc(p, shuffled, 0)
    fewer = Predictions.from_arrays(p.y_true[:-1], p.scores[:-1, 0])
    with pytest.raises(InputError, match="not evaluated on the same samples: model A has 1000"):
        compare_auc(p, fewer, 0)
    with pytest.raises(InputError, match="not evaluated on the same samples"):
        compare_auc(p, _computed("binary_logits_1d")[0], 0)


def test_paired_delong_degenerate():
    p, _ = _computed("multilabel_degenerate")
    r = compare_auc(p, p, 1)
    assert r.p_value is None and r.difference is None and "no positive samples" in r.reason
    r = compare_auc(p, p, 2)
    assert r.p_value is None and "every sample" in r.reason


# --------------------------------------------------------------------------- bootstrap


def _ref_auc(r: Predictions) -> list[float]:
    out = []
    for c in range(len(r.curve_names)):
        y = r.positives(c)
        out.append(roc_auc_score(y, r.scores[:, c]) if 0 < y.sum() < y.size else np.nan)
    return out


def _ref_ap(r: Predictions) -> list[float]:
    out = []
    for c in range(len(r.curve_names)):
        y = r.positives(c)
        out.append(average_precision_score(y, r.scores[:, c]) if y.any() else np.nan)
    return out


def _ref_averages(r: Predictions) -> list[float]:
    per_class = np.array(_ref_auc(r))
    macro = np.nanmean(per_class) if (~np.isnan(per_class)).any() else np.nan
    if len(r.curve_names) == 1:
        return [per_class[0], macro]
    indicator = np.stack([r.positives(c) for c in range(len(r.curve_names))], axis=1)
    return [roc_auc_score(indicator.ravel(), r.scores.ravel()), macro]


EXACT_CASES = ["multiclass_ties_f64", "multiclass_softmax_f32", "multilabel_probs",
               "multilabel_degenerate", "binary_n1_f32", "binary_sub_float32",
               "multiclass_absent_class"]


@pytest.mark.parametrize("name", EXACT_CASES)
@pytest.mark.parametrize("reuse_curves", [True, False], ids=["curves", "no-curves"])
def test_fast_bootstrap_is_exact(name, reuse_curves):
    """The vectorised statistics on multiplicities equal scikit-learn on the very same
    resamples drawn explicitly (the callable path draws them from the same seed)."""
    p, curves = _computed(name)
    kw = dict(n_resamples=6, random_state=11, curves=curves if reuse_curves else None)
    for fast, ref in ((PerClassRocAuc(), _ref_auc), (PerClassAveragePrecision(), _ref_ap),
                      (AveragedRocAuc(), _ref_averages)):
        a = bootstrap_distribution(p, fast, **kw)
        b = bootstrap_distribution(p, ref, n_resamples=6, random_state=11)
        np.testing.assert_allclose(a.samples, b.samples, atol=ATOL, rtol=0)
        np.testing.assert_allclose(a.estimate, b.estimate, atol=ATOL, rtol=0)
    # the estimates are the engine's figures
    est = bootstrap_distribution(p, Combined(PerClassRocAuc(), PerClassAveragePrecision(),
                                             AveragedRocAuc()), **kw).estimate
    k = len(curves.names)
    engine = np.array(
        [np.nan if s.roc_auc is None else s.roc_auc for s in curves.classes]
        + [np.nan if s.average_precision is None else s.average_precision
           for s in curves.classes]
        + [curves.roc_auc.micro, curves.roc_auc.macro], dtype=np.float64)
    np.testing.assert_allclose(est, engine, atol=ATOL, rtol=0)
    assert est.size == 2 * k + 2


@pytest.mark.parametrize(
    "name, rule, thresholds",
    [("multiclass_ties_f64", None, 0.5), ("multiclass_logits", "abstain", 0.6),
     ("multiclass_strings", "per-class", [0.5, 0.3, 0.7]), ("multilabel_probs", None, 0.4),
     ("binary_strings", None, 0.55)],
)
def test_decision_statistics_are_exact(name, rule, thresholds):
    p, _ = _computed(name)

    def ref(r):
        decided = confusion(r, rule, thresholds)
        row = decided.counts.row(decided.counts.names.index(r.class_names[1]))
        return [decided.accuracy, row["precision"], row["recall"], row["f1"]]

    stat = Combined(Accuracy(rule, thresholds), ClassRates(1, thresholds, rule))
    a = bootstrap_distribution(p, stat, n_resamples=8, random_state=2)
    b = bootstrap_distribution(p, ref, n_resamples=8, random_state=2)
    np.testing.assert_allclose(a.samples, b.samples, atol=ATOL, rtol=0)
    np.testing.assert_allclose(a.estimate, b.estimate, atol=ATOL, rtol=0)
    assert a.names[1:] == (p.class_names[1],) * 3


def test_stratified_resamples_keep_class_sizes():
    p, _ = _computed("multiclass_strings")
    sizes = np.bincount(p.y_true)
    seen = []
    bootstrap_distribution(p, lambda r: seen.append(np.bincount(r.y_true)) or 0.0,
                           n_resamples=5, random_state=0)
    assert len(seen) == 6 and all(np.array_equal(s, sizes) for s in seen)  # data + 5


def test_seeded_reproducibility_and_chunking():
    p, curves = _computed("multiclass_ties_f64")
    a = bootstrap_distribution(p, PerClassRocAuc(), n_resamples=50, random_state=7)
    b = bootstrap_distribution(p, PerClassRocAuc(), n_resamples=50, random_state=7,
                               curves=curves)
    c = bootstrap_distribution(p, PerClassRocAuc(), n_resamples=50,
                               random_state=np.random.default_rng(7))
    d = bootstrap_distribution(p, PerClassRocAuc(), n_resamples=20, random_state=7)
    e = bootstrap_distribution(p, PerClassRocAuc(), n_resamples=50, random_state=8)
    assert np.array_equal(a.samples, b.samples) and np.array_equal(a.samples, c.samples)
    assert np.array_equal(a.samples[:20], d.samples)  # resample r does not depend on the count
    assert not np.array_equal(a.samples, e.samples)
    assert bootstrap_interval(p, PerClassRocAuc(), n_resamples=50, random_state=7) == \
        a.intervals()


def test_progress_and_chunks(monkeypatch):
    import evalcore.stats as stats

    monkeypatch.setattr(stats.bootstrap, "CHUNK_CELLS", 1000)  # 500 samples -> 2 resamples per chunk
    p, _ = _computed("multilabel_probs")
    calls = []
    bootstrap_interval(p, PerClassRocAuc(), n_resamples=7, random_state=0,
                       progress=lambda done, total: calls.append((done, total)))
    assert calls == [(2, 7), (4, 7), (6, 7), (7, 7)]
    calls.clear()
    bootstrap_interval(p, lambda r: 1.0, n_resamples=5, random_state=0,
                       progress=lambda done, total: calls.append((done, total)))
    assert calls == [(2, 5), (4, 5), (5, 5)]


def test_generic_statistics_scalar_and_vector():
    p, _ = _computed("binary_1d")
    one = bootstrap_interval(p, lambda r: float(np.mean(r.scores[:, 0])), n_resamples=100,
                             random_state=0)
    assert isinstance(one, Interval) and one.low < one.estimate < one.high
    assert one.n_resamples == 100 and one.method == "bootstrap" and one.reason is None
    many = bootstrap_interval(p, lambda r: r.scores.mean(axis=0).tolist() + [None],
                              n_resamples=20, random_state=0, names=["mean", "nothing"])
    assert [iv.name for iv in many] == ["mean", "nothing"]
    assert many[1].bounds is None and many[1].reason
    acc = bootstrap_interval(p, Accuracy(), n_resamples=100, random_state=0)
    assert isinstance(acc, Interval) and acc.metric == "accuracy"
    with pytest.raises(InputError, match="1-D"):
        bootstrap_interval(p, lambda r: np.ones((2, 2)), n_resamples=2)
    with pytest.raises(InputError, match="n_resamples"):
        bootstrap_interval(p, Accuracy(), n_resamples=0)
    with pytest.raises(InputError, match="random_state"):
        bootstrap_interval(p, Accuracy(), n_resamples=2, random_state="seed")
    with pytest.raises(InputError, match="level"):
        bootstrap_interval(p, Accuracy(), n_resamples=2, level=1.0)
    with pytest.raises(InputError, match="rule"):
        bootstrap_interval(p, Accuracy(rule="argmax"), n_resamples=2)


def test_undefined_figures_in_bootstrap():
    p, curves = _computed("multilabel_degenerate")
    ivs = bootstrap_interval(p, PerClassAveragePrecision(), n_resamples=30, random_state=0,
                             curves=curves)
    assert ivs[1].bounds is None and "no positive samples" in ivs[1].reason
    assert ivs[2].bounds is not None  # AP is defined when every sample is positive
    aucs = bootstrap_interval(p, PerClassRocAuc(), n_resamples=30, random_state=0)
    assert aucs[1].bounds is None and aucs[2].bounds is None and "every sample" in aucs[2].reason
    assert all(json.dumps(iv.to_dict(), allow_nan=False) for iv in aucs)
    # a rare label without positives in some plain (multilabel) resamples
    y = np.zeros((40, 2), dtype=int)
    y[0, 0], y[:20, 1] = 1, 1
    rare = Predictions.from_arrays(y, np.random.default_rng(0).random((40, 2)))
    iv = bootstrap_interval(rare, PerClassRocAuc(), n_resamples=200, random_state=0)[0]
    assert 0 < iv.n_resamples < 200 and "undefined in" in iv.reason


def test_reuses_curves_narrowed_to_float32():
    """float64 scores that float32 holds exactly are sorted as float32 by compute_curves;
    placing the float64 samples in them must still find every one (with heavy ties)."""
    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 400)
    scores = rng.integers(0, 9, (400, 3)) / 8.0
    p = Predictions.from_arrays(y, scores, task="multiclass", score_kind="probability")
    curves = compute_curves(p)
    assert curves.stats[0].values.dtype == np.float32
    stat = Combined(PerClassRocAuc(), PerClassAveragePrecision(), AveragedRocAuc())
    a = bootstrap_distribution(p, stat, n_resamples=10, random_state=1, curves=curves)
    b = bootstrap_distribution(p, stat, n_resamples=10, random_state=1)
    assert np.array_equal(a.samples, b.samples)
    ref = bootstrap_distribution(p, lambda r: _ref_auc(r) + _ref_ap(r) + _ref_averages(r),
                                 n_resamples=10, random_state=1)
    np.testing.assert_allclose(a.samples, ref.samples, atol=ATOL, rtol=0)
    with pytest.raises(InputError, match="Statistic objects"):
        Combined(PerClassRocAuc(), _ref_auc)


def test_curves_of_other_predictions_are_refused():
    p, _ = _computed("binary_1d")
    _, other = _computed("binary_logits_1d")
    with pytest.raises(InputError, match="not computed from these predictions"):
        bootstrap_interval(p, PerClassRocAuc(), n_resamples=2, curves=other)
    same_size = Predictions.from_arrays(p.y_true, p.scores[:, 0][::-1])
    with pytest.raises(InputError, match="not computed from these predictions"):
        bootstrap_interval(p, PerClassRocAuc(), n_resamples=2, curves=compute_curves(same_size))


# --------------------------------------------------------------------------- coverage

TRUE_AUC = 0.75
SHIFT = math.sqrt(2) * norm.ppf(TRUE_AUC)  # AUC of N(SHIFT, 1) vs N(0, 1) = Phi(SHIFT / sqrt 2)


@functools.lru_cache(maxsize=None)
def _coverage_runs() -> tuple[float, float]:
    """200 seeded data sets of 150 negatives ~ N(0, 1) and 150 positives ~ N(SHIFT, 1):
    how often the 95% DeLong and bootstrap (300 resamples each) intervals hold 0.75."""
    delong_hits = boot_hits = 0
    runs = 200
    for seed in range(runs):
        rng = np.random.default_rng(1000 + seed)
        y = np.repeat([0, 1], 150)
        scores = 1.0 / (1.0 + np.exp(-(rng.normal(size=300) + SHIFT * y)))
        p = Predictions.from_arrays(y, scores)
        curves = compute_curves(p)
        iv = delong(curves, 0).interval()
        delong_hits += iv.low <= TRUE_AUC <= iv.high
        bv = bootstrap_interval(p, PerClassRocAuc(), n_resamples=300, random_state=seed,
                                curves=curves)[0]
        boot_hits += bv.low <= TRUE_AUC <= bv.high
    return delong_hits / runs, boot_hits / runs


def test_bootstrap_coverage():
    _, boot = _coverage_runs()
    assert 0.90 <= boot <= 0.99, boot


def test_delong_coverage():
    d, _ = _coverage_runs()
    assert 0.90 <= d <= 0.99, d


# --------------------------------------------------------------------------- summary


@pytest.mark.parametrize("name", ["multiclass_absent_class", "multilabel_degenerate",
                                  "binary_strings"])
def test_summary_intervals(name):
    p, curves = _computed(name)
    out = summary_intervals(p, curves, n_resamples=60).to_dict()
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out
    assert list(out["per_class"]) == list(curves.names)
    delongs = auc_intervals(curves)
    for (cname, row), d, s in zip(out["per_class"].items(), delongs, curves.classes):
        assert row["roc_auc_ci"] == d.bounds
        if s.average_precision is None:
            assert row["average_precision_ci"] is None and row["reason"]
        else:
            lo, hi = row["average_precision_ci"]
            assert 0 <= lo <= hi <= 1
        if s.roc_auc is None:
            assert row["roc_auc_ci"] is None and row["reason"]
    for key in ("micro", "macro"):
        lo, hi = out["roc_auc_ci"][key]
        assert 0 <= lo <= hi <= 1
    lo, hi = out["accuracy_ci"]
    assert lo <= confusion(p).accuracy <= hi
    assert out["level"] == 0.95 and out["n_resamples"] == 60 and out["random_state"] == 0
    assert summary_intervals(p, curves, n_resamples=60).to_dict() == out  # seeded by default


def test_summary_intervals_refuses_other_curves():
    p, _ = _computed("multiclass_strings")
    _, curves = _computed("multiclass_logits")
    with pytest.raises(InputError, match="not computed from these predictions"):
        summary_intervals(p, curves, n_resamples=2)


# --------------------------------------------------------------------------- comparing models


def _two_models(seed: int = 3, n: int = 400, k: int = 3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    za = rng.normal(size=(n, k))
    za[np.arange(n), y] += 1.5
    zb = za + rng.normal(scale=1.0, size=(n, k))  # a noisier model on the same samples
    return Predictions.from_arrays(y, za), Predictions.from_arrays(y, zb)


def test_paired_ap_bootstrap_uses_the_same_resamples_for_both_models():
    from evalcore.stats import compare_average_precision

    a, _ = _two_models()
    same = compare_average_precision(a, a, n_resamples=200, random_state=5)
    assert all(i.estimate == 0 and i.low == 0 and i.high == 0 for i in same)


def test_paired_ap_bootstrap_matches_an_explicit_paired_loop():
    from sklearn.metrics import average_precision_score

    from evalcore.stats import bootstrap_distribution, compare_average_precision

    a, b = _two_models()
    got = compare_average_precision(a, b, n_resamples=100, random_state=11)

    def ap(p):
        return np.array([average_precision_score(p.y_true == c, p.scores[:, c]) for c in range(3)])

    # the slow path draws the same resamples from the same seed (see the exactness tests)
    da = bootstrap_distribution(a, ap, n_resamples=100, random_state=11).samples
    db = bootstrap_distribution(b, ap, n_resamples=100, random_state=11).samples
    for c, interval in enumerate(got):
        low, high = np.quantile(da[:, c] - db[:, c], [0.025, 0.975])
        assert interval.low == pytest.approx(low, abs=1e-12)
        assert interval.high == pytest.approx(high, abs=1e-12)


def test_compare_models_is_strict_json_and_refuses_other_samples():
    import json

    from evalcore.stats import compare_models

    a, b = _two_models()
    out = compare_models(a, b, n_resamples=50).to_dict()
    json.dumps(out, allow_nan=False)
    row = out["per_class"]["0"]
    assert row["difference"] == pytest.approx(row["roc_auc_a"] - row["roc_auc_b"])
    assert 0 <= row["p_value"] <= 1
    other, _ = _two_models(seed=4)
    with pytest.raises(InputError, match="same samples"):
        compare_models(a, other, n_resamples=10)


def test_rate_intervals_equal_the_slow_path_with_scikit_learn():
    from sklearn.metrics import precision_recall_fscore_support

    from evalcore.decisions import predict
    from evalcore.stats import bootstrap_distribution, rate_intervals

    a, _ = _two_models()
    t = [0.3, 0.5, 0.4]
    got = rate_intervals(a, "per-class", t, n_resamples=100, random_state=9).to_dict()

    def rates(p):
        said = predict(p, "per-class", t)
        pr, rc, f1, _ = precision_recall_fscore_support(p.y_true, said, labels=[0, 1, 2],
                                                        zero_division=np.nan)
        return np.column_stack([pr, rc, f1]).ravel()

    samples = bootstrap_distribution(a, rates, n_resamples=100, random_state=9).samples
    for c, name in enumerate(a.class_names):
        for m, metric in enumerate(("precision", "recall", "f1")):
            values = samples[:, 3 * c + m]
            low, high = np.quantile(values[~np.isnan(values)], [0.025, 0.975])
            assert got[name][f"{metric}_ci"] == pytest.approx([low, high], abs=1e-12)
