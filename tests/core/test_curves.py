"""compute_curves against scikit-learn as the oracle, on every shared case.

The reference inputs are the engine's own converted probabilities ``p.scores[:, c]`` and its
one-vs-rest indicator ``p.positives(c)``: conversion is tested in test_predictions.py.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix_at_thresholds,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

from _inputs import BY_NAME, CASES, Case
from evalcore.counts import Counts
from evalcore.curves import DEFAULT_PLOT_POINTS, CurveSet, compute_curves
from evalcore.errors import InputError
from evalcore.predictions import Predictions

ATOL = 1e-12


@functools.lru_cache(maxsize=None)
def _computed(name: str) -> tuple[Predictions, CurveSet]:
    y_true, y_score, kwargs = BY_NAME[name].inputs()
    p = Predictions.from_arrays(y_true, y_score, **kwargs)
    return p, compute_curves(p)


def _ref(p: Predictions, c: int) -> tuple[np.ndarray, np.ndarray]:
    """(0/1 labels, scores) of one-vs-rest curve c, as scikit-learn's inputs."""
    return p.positives(c).astype(np.int8), p.scores[:, c]


# scikit-learn warns about undefined curves (no positives / no negatives); RuntimeWarnings
# from evalcore stay errors, as configured in pyproject.toml.
pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning"),
    pytest.mark.filterwarnings("ignore:No positive class found in y_true"),
]


def _brute_counts(p: Predictions, c: int, t: float) -> tuple[int, int, int, int]:
    """TP, FP, FN, TN by the exact real-number rule score >= t (float64 holds every
    float32 exactly, so the comparison is exact)."""
    predicted = p.scores[:, c].astype(np.float64) >= t
    positive = p.positives(c)
    return (
        int(np.sum(predicted & positive)),
        int(np.sum(predicted & ~positive)),
        int(np.sum(~predicted & positive)),
        int(np.sum(~predicted & ~positive)),
    )


def _assert_counts(p: Predictions, counts: Counts, thresholds) -> None:
    t = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (p.scores.shape[1],))
    for c in range(p.scores.shape[1]):
        got = (int(counts.tp[c]), int(counts.fp[c]), int(counts.fn[c]), int(counts.tn[c]))
        assert got == _brute_counts(p, c, t[c]), (c, t[c])


def _indicator(p: Predictions) -> np.ndarray:
    """Label-binarized y, one column per curve (np.eye: label_binarize gives one column
    for two classes)."""
    if p.task == "multilabel":
        return p.y_true.astype(np.int8)
    if p.task == "binary":
        return (p.y_true == 1).astype(np.int8)[:, None]
    return np.eye(p.scores.shape[1], dtype=np.int8)[p.y_true]


def _threshold_candidates(s: np.ndarray, rng: np.random.Generator) -> list[float]:
    """Actual scores, midpoints and neighbours of scores, below the minimum, above the
    maximum, and the infinities."""
    values = np.unique(s.astype(np.float64))
    picked = rng.choice(values, size=min(12, values.size), replace=False)
    lo, hi = float(values[0]), float(values[-1])
    out = [lo, hi, *picked.tolist(), np.inf, -np.inf, lo - 1e-3, -1.0, 0.0, hi + 1e-3, 1.0, 2.0]
    out += [float(np.nextafter(v, np.inf)) for v in picked[:4]]
    out += [float(np.nextafter(v, -np.inf)) for v in picked[:4]]
    if values.size > 1:
        out += ((values[:-1] + values[1:]) / 2)[:: max(1, values.size // 6)].tolist()
    return out


ALL = pytest.mark.parametrize("case", CASES, ids=str)


# --------------------------------------------------------------------------- exact curves


@ALL
def test_roc_curve_matches_sklearn(case: Case):
    p, cs = _computed(case.name)
    assert len(cs.names) == case.n_curves
    for c in range(case.n_curves):
        y, s = _ref(p, c)
        fpr, tpr, thr = cs.roc_curve(c)
        ref_fpr, ref_tpr, ref_thr = roc_curve(y, s, drop_intermediate=False)
        assert np.array_equal(thr, ref_thr), c
        np.testing.assert_allclose(fpr, ref_fpr, rtol=0, atol=ATOL, equal_nan=True)
        np.testing.assert_allclose(tpr, ref_tpr, rtol=0, atol=ATOL, equal_nan=True)


@ALL
def test_precision_recall_curve_matches_sklearn(case: Case):
    p, cs = _computed(case.name)
    for c in range(case.n_curves):
        y, s = _ref(p, c)
        precision, recall, thr = cs.precision_recall_curve(c)
        ref_precision, ref_recall, ref_thr = precision_recall_curve(y, s)
        assert np.array_equal(thr, ref_thr), c
        np.testing.assert_allclose(precision, ref_precision, rtol=0, atol=ATOL)
        np.testing.assert_allclose(recall, ref_recall, rtol=0, atol=ATOL)


@ALL
def test_confusion_at_thresholds_matches_sklearn(case: Case):
    p, cs = _computed(case.name)
    for c in range(case.n_curves):
        y, s = _ref(p, c)
        thr, tp, fp = cs.confusion_at_thresholds(c)
        _, ref_fps, _, ref_tps, ref_thr = confusion_matrix_at_thresholds(y, s)
        assert np.array_equal(thr, ref_thr), c
        assert np.array_equal(tp, ref_tps) and np.array_equal(fp, ref_fps), c


def test_float64_scores_closer_than_float32_resolution_stay_distinct():
    p, cs = _computed("binary_sub_float32")
    s = p.scores[:, 0]
    assert np.unique(s.astype(np.float32)).size < np.unique(s).size == s.size  # the premise
    thr, _, _ = cs.confusion_at_thresholds(0)
    assert thr.size == s.size and np.array_equal(np.sort(thr), np.sort(s))


@pytest.mark.skipif(np.finfo(np.longdouble).nmant <= 52, reason="longdouble is float64 here")
def test_longdouble_scores_finer_than_float64_are_refused_not_rounded():
    """float128 scores float64 cannot hold would merge silently: an InputError says so."""
    s = np.longdouble(0.5) + np.arange(6, dtype=np.longdouble) * np.longdouble(1e-18)
    with pytest.raises(InputError, match=r"float64 cannot hold exactly"):
        Predictions.from_arrays(np.array([0, 1, 0, 1, 0, 1]), s)


def test_longdouble_scores_that_float64_holds_are_narrowed_exactly():
    s = np.array([0.1, 0.4, 0.35, 0.8], dtype=np.longdouble)
    p = Predictions.from_arrays(np.array([0, 0, 1, 1]), s)
    assert p.scores.dtype == np.float64
    assert compute_curves(p).classes[0].roc_auc == 0.75


# --------------------------------------------------------------------------- per-class metrics


@ALL
def test_per_class_auc_and_ap_match_sklearn(case: Case):
    p, cs = _computed(case.name)
    assert len(cs.classes) == case.n_curves
    for c, summary in enumerate(cs.classes):
        y, s = _ref(p, c)
        assert summary.name == cs.names[c]
        assert summary.support == int(y.sum()) and summary.n_negatives == int(y.size - y.sum())
        assert summary.prevalence == pytest.approx(y.mean(), abs=ATOL)
        if c in case.no_positives:
            assert summary.roc_auc is None and summary.average_precision is None
            assert isinstance(summary.reason, str) and summary.reason
        elif c in case.only_positives:
            assert summary.roc_auc is None
            assert summary.average_precision == pytest.approx(1.0, abs=ATOL)
            assert summary.average_precision == pytest.approx(
                average_precision_score(y, s), abs=ATOL
            )
            assert isinstance(summary.reason, str) and summary.reason
        else:
            assert summary.reason is None
            assert summary.roc_auc == pytest.approx(roc_auc_score(y, s), abs=ATOL)
            assert summary.average_precision == pytest.approx(
                average_precision_score(y, s), abs=ATOL
            )


@pytest.mark.parametrize("case", [c for c in CASES if c.all_defined], ids=str)
@pytest.mark.parametrize("average", ["micro", "macro", "weighted"])
def test_averages_match_sklearn(case: Case, average: str):
    p, cs = _computed(case.name)
    y = _indicator(p)
    if p.task == "binary":  # scikit-learn ignores `average` for binary y
        ref_auc = roc_auc_score(y[:, 0], p.scores[:, 0])
        ref_ap = average_precision_score(y[:, 0], p.scores[:, 0])
    else:
        ref_auc = roc_auc_score(y, p.scores, average=average)
        ref_ap = average_precision_score(y, p.scores, average=average)
    assert getattr(cs.roc_auc, average) == pytest.approx(ref_auc, abs=ATOL)
    assert getattr(cs.average_precision, average) == pytest.approx(ref_ap, abs=ATOL)


OVO_CASES = [
    c for c in CASES if c.task == "multiclass" and c.all_defined and len(c.class_names) >= 3
]


@pytest.mark.parametrize("case", OVO_CASES, ids=str)
def test_ovo_macro_matches_sklearn_hand_and_till(case: Case):
    p, cs = _computed(case.name)
    ref = roc_auc_score(p.y_true, p.scores, multi_class="ovo", average="macro")
    assert cs.roc_auc.ovo_macro == pytest.approx(ref, abs=ATOL)


@pytest.mark.parametrize("case", [c for c in CASES if c.task != "multiclass"], ids=str)
def test_ovo_macro_is_none_outside_multiclass(case: Case):
    _, cs = _computed(case.name)
    assert cs.roc_auc.ovo_macro is None
    assert "ovo_macro" not in cs.to_dict()["roc_auc"]


def test_ovo_macro_skips_a_class_without_samples():
    """Hand & Till over the classes present equals scikit-learn on those classes only."""
    p, cs = _computed("multiclass_absent_class")
    present = [0, 1, 3]  # class 2 ('mu') has no samples
    assert not p.positives(2).any()
    pairs = []  # the pairwise definition, with scikit-learn's binary AUC per pair
    for i, a in enumerate(present):
        for b in present[i + 1 :]:
            m = np.isin(p.y_true, [a, b])
            auc_a = roc_auc_score(p.y_true[m] == a, p.scores[m, a])
            auc_b = roc_auc_score(p.y_true[m] == b, p.scores[m, b])
            pairs.append((auc_a + auc_b) / 2)
    assert len(pairs) == 3
    assert cs.roc_auc.ovo_macro == pytest.approx(np.mean(pairs), abs=ATOL)


DEGENERATE = [c for c in CASES if not c.all_defined]


@pytest.mark.parametrize("case", DEGENERATE, ids=str)
def test_macro_average_is_mean_over_defined_classes_only_weighted_by_their_support(case: Case):
    p, cs = _computed(case.name)
    for metric, score_fn in (("roc_auc", roc_auc_score), ("average_precision",
                                                           average_precision_score)):
        values, weights = [], []
        for c, summary in enumerate(cs.classes):
            if getattr(summary, metric) is None:
                continue
            y, s = _ref(p, c)
            values.append(score_fn(y, s))
            weights.append(y.sum())
        skipped = len(cs.classes) - len(values)
        assert skipped >= 1  # the premise: some class is undefined
        averages = getattr(cs, metric)
        assert averages.macro == pytest.approx(np.mean(values), abs=ATOL)
        assert averages.weighted == pytest.approx(np.average(values, weights=weights), abs=ATOL)
    # micro pools every (sample, class) pair, so it stays defined and matches scikit-learn
    y = _indicator(p)
    assert cs.roc_auc.micro == pytest.approx(roc_auc_score(y.ravel(), p.scores.ravel()), abs=ATOL)
    assert cs.average_precision.micro == pytest.approx(
        average_precision_score(y.ravel(), p.scores.ravel()), abs=ATOL
    )


# --------------------------------------------------------------------------- counts_at


@ALL
def test_counts_at_scalar_thresholds_equal_a_brute_force_recount(case: Case):
    p, cs = _computed(case.name)
    rng = np.random.default_rng(case.seed)
    for t in _threshold_candidates(p.scores, rng):
        counts = cs.counts_at(t)
        _assert_counts(p, counts, t)
        assert np.array_equal(counts.thresholds, np.full(case.n_curves, t))


@ALL
def test_counts_at_per_class_thresholds_equal_a_brute_force_recount(case: Case):
    p, cs = _computed(case.name)
    rng = np.random.default_rng(case.seed + 100)
    options = [_threshold_candidates(p.scores[:, c], rng) for c in range(case.n_curves)]
    for _ in range(25):
        t = np.array([rng.choice(o) for o in options])
        _assert_counts(p, cs.counts_at(t), t)
    t = np.array([np.inf, -np.inf] * case.n_curves)[: case.n_curves]
    _assert_counts(p, cs.counts_at(t), t)
    _assert_counts(p, cs.counts_at(list(t)), t)  # any sequence


@ALL
def test_counts_at_extremes(case: Case):
    p, cs = _computed(case.name)
    support = np.array([s.support for s in cs.classes])
    negatives = np.array([s.n_negatives for s in cs.classes])
    everything = cs.counts_at(-np.inf)
    assert np.array_equal(everything.tp, support) and np.array_equal(everything.fp, negatives)
    assert not everything.fn.any() and not everything.tn.any()
    nothing = cs.counts_at(np.inf)
    assert not nothing.tp.any() and not nothing.fp.any()
    assert np.array_equal(nothing.fn, support) and np.array_equal(nothing.tn, negatives)
    assert np.isnan(nothing.precision).all()  # undefined, not 0 and not a crash


@ALL
def test_counts_at_rates_match_sklearn(case: Case):
    p, cs = _computed(case.name)
    rng = np.random.default_rng(case.seed + 200)
    for t in _threshold_candidates(p.scores, rng)[::3]:
        counts = cs.counts_at(t)
        for c in range(case.n_curves):
            y, s = _ref(p, c)
            pred = (s.astype(np.float64) >= t).astype(np.int8)
            ref = {
                "precision": precision_score(y, pred, zero_division=np.nan),
                "recall": recall_score(y, pred, zero_division=np.nan),
                "f1": f1_score(y, pred, zero_division=np.nan),
                "specificity": recall_score(1 - y, 1 - pred, zero_division=np.nan),
            }
            for key, value in ref.items():
                got = getattr(counts, key)[c]
                assert (np.isnan(got) and np.isnan(value)) or got == pytest.approx(
                    value, abs=ATOL
                ), (key, c, t, got, value)


@pytest.mark.parametrize("name", ["binary_n1_f32", "multiclass_softmax_f32"])
def test_float32_scores_with_a_float64_threshold_between_two_float32_values(name):
    p, cs = _computed(name)
    assert p.scores.dtype == np.float32
    discriminating = 0
    for c in range(p.scores.shape[1]):
        values = np.unique(p.scores[:, c])  # float32
        a, b = values[len(values) // 2], values[len(values) // 2 + 1]
        a64, b64 = np.float64(a), np.float64(b)
        for t in (
            np.nextafter(a64, np.inf),  # just above a: a is out
            # midpoint of a and its float32 successor: exact in float64, not a float32
            (a64 + np.float64(np.nextafter(a, np.float32(np.inf)))) / 2,
            np.nextafter(b64, -np.inf),  # just below b: b is in
        ):
            assert a64 < t < b64 and np.float64(np.float32(t)) != t
            _assert_counts(p, cs.counts_at(t), t)
            per_class = np.full(p.scores.shape[1], np.inf)
            per_class[c] = t
            _assert_counts(p, cs.counts_at(per_class), per_class)
            # a naive float32 comparison would differ: the test can tell them apart
            naive = int(np.sum(p.scores[:, c] >= np.float32(t)))
            exact = int(np.sum(p.scores[:, c].astype(np.float64) >= t))
            discriminating += naive != exact
    assert discriminating > 0


def test_counts_to_dict_is_json_ready():
    _, cs = _computed("multilabel_degenerate")
    for t in (0.5, 2.0, -1.0, [0.2, 0.4, 0.6, 0.8]):
        text = json.dumps(cs.counts_at(t).to_dict(), allow_nan=False)
        assert set(json.loads(text)) == set(cs.names)
    row = cs.counts_at(2.0).to_dict()["0"]
    assert row["precision"] is None and row["f1"] == 0.0  # undefined rate -> None, not NaN
    assert cs.counts_at(2.0).to_dict()["1"]["recall"] is None  # no positives at all


@pytest.mark.parametrize("t", [np.inf, -np.inf], ids=["inf", "-inf"])
def test_counts_to_dict_at_infinite_threshold_is_strict_json(t):
    """Counts.row promises a JSON-ready dict; +/-inf thresholds (predict nothing /
    everything, and the first point of every plot curve) must not leak Infinity."""
    _, cs = _computed("multilabel_degenerate")
    counts = cs.counts_at(t)
    json.dumps(counts.to_dict(), allow_nan=False)


# --------------------------------------------------------------------------- plot curves


def _check_plot(p: Predictions, cs: CurveSet, c: int, plot, max_points: int) -> None:
    assert plot.thresholds.size <= max_points
    assert plot.thresholds.size == plot.tp.size == plot.fp.size
    assert plot.thresholds[0] == np.inf and plot.tp[0] == 0 and plot.fp[0] == 0
    assert np.all(np.diff(plot.thresholds) < 0)  # strictly descending
    finite = plot.thresholds[np.isfinite(plot.thresholds)]
    assert np.isin(finite, p.scores[:, c].astype(np.float64)).all()  # real thresholds
    summary = cs.classes[c]
    assert plot.n_pos == summary.support and plot.n_neg == summary.n_negatives
    for i, t in enumerate(plot.thresholds):
        counts = cs.counts_at(t)
        assert (plot.tp[i], plot.fp[i]) == (counts.tp[c], counts.fp[c]), (c, t)
    assert plot.tp[-1] == summary.support and plot.fp[-1] == summary.n_negatives


@ALL
def test_plot_curves_are_real_thresholds_with_exact_counts(case: Case):
    p, cs = _computed(case.name)
    assert len(cs.plot) == case.n_curves
    for c, plot in enumerate(cs.plot):
        _check_plot(p, cs, c, plot, DEFAULT_PLOT_POINTS)
        if cs.classes[c].roc_auc is not None:
            area = np.trapezoid(plot.tpr, plot.fpr)
            assert area == pytest.approx(cs.classes[c].roc_auc, abs=1e-3)


@pytest.mark.parametrize("points", [64, 100, 257])
@pytest.mark.parametrize("name", ["multiclass_ties_f64", "binary_1d", "multilabel_degenerate"])
def test_plot_points_limit_on_shared_cases(name, points):
    p, _ = _computed(name)
    cs = compute_curves(p, plot_points=points)
    for c, plot in enumerate(cs.plot):
        _check_plot(p, cs, c, plot, points)
    if cs.micro_plot is not None:
        assert cs.micro_plot.thresholds.size <= points


def test_plot_points_below_the_minimum_is_an_input_error():
    p, _ = _computed("binary_1d")
    with pytest.raises(InputError, match=r"plot_points to be at least 64, got 63"):
        compute_curves(p, plot_points=63)


@functools.lru_cache(maxsize=None)
def _large(kind: str) -> tuple[Predictions, CurveSet, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2024)
    n = 200_000
    s = rng.random(n)
    if kind == "ties":
        s = np.round(s, 3)  # 1001 distinct values, ~200 samples each
    s = s.astype(np.float32)
    y = (rng.random(n) < s).astype(np.int64)
    p = Predictions.from_arrays(y, s)
    return p, compute_curves(p), y, s


@pytest.mark.parametrize("kind", ["uniform", "ties"])
def test_large_plot_curve_is_downsampled_and_close_to_exact_auc(kind):
    p, cs, y, s = _large(kind)
    assert cs.classes[0].roc_auc == pytest.approx(roc_auc_score(y, s), abs=1e-9)
    assert cs.classes[0].average_precision == pytest.approx(
        average_precision_score(y, s), abs=1e-9
    )
    plot = cs.plot[0]
    assert plot.thresholds.size <= DEFAULT_PLOT_POINTS
    if kind == "uniform":
        assert np.unique(s).size > 10 * DEFAULT_PLOT_POINTS  # really downsampled
    finite = plot.thresholds[1:]
    assert np.isin(finite, s.astype(np.float64)).all()
    # exact counts at every plot threshold: counts_at and a sorted brute force
    pos = np.sort(s[y == 1].astype(np.float64))
    neg = np.sort(s[y == 0].astype(np.float64))
    assert np.array_equal(plot.tp, pos.size - np.searchsorted(pos, plot.thresholds, "left"))
    assert np.array_equal(plot.fp, neg.size - np.searchsorted(neg, plot.thresholds, "left"))
    for i in range(0, plot.thresholds.size, 7):
        counts = cs.counts_at(plot.thresholds[i])
        assert (counts.tp[0], counts.fp[0]) == (plot.tp[i], plot.fp[i])
    area = np.trapezoid(plot.tpr, plot.fpr)
    assert abs(area - cs.classes[0].roc_auc) <= 1e-3


@pytest.mark.parametrize("kind", ["uniform", "ties"])
@pytest.mark.parametrize("points", [64, 65, 100, 200, 2000])
def test_large_plot_area_error_within_documented_bound(points, kind):
    """_plot_curve's docstring: with q = (points - 1) // 4 quantiles per side the polyline's
    area is within 1 / (2 (q - 1)) of the exact AUC. Checked from the minimum budget up."""
    p, cs, _, _ = _large(kind)
    plot = compute_curves(p, plot_points=points).plot[0]
    assert plot.thresholds.size <= points
    area = np.trapezoid(plot.tpr, plot.fpr)
    q = (points - 1) // 4
    assert abs(area - cs.classes[0].roc_auc) <= 1 / (2 * (q - 1))


def test_large_multiclass_micro_plot_is_downsampled():
    rng = np.random.default_rng(7)
    n, k = 60_000, 3
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k))
    z[np.arange(n), y] += 1.0
    s = (np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)).astype(np.float32)
    p = Predictions.from_arrays(y, s)
    cs = compute_curves(p)
    micro = cs.micro_plot
    assert micro.thresholds.size <= DEFAULT_PLOT_POINTS
    assert micro.n_pos == n and micro.n_neg == n * (k - 1)
    assert np.isin(micro.thresholds[1:], s.astype(np.float64)).all()
    ref = roc_auc_score(np.eye(k)[y].ravel(), s.ravel())
    assert cs.roc_auc.micro == pytest.approx(ref, abs=1e-9)
    assert abs(np.trapezoid(micro.tpr, micro.fpr) - ref) <= 1e-3


# --------------------------------------------------------------------------- micro / macro plots


@pytest.mark.parametrize("case", [c for c in CASES if c.task != "binary"], ids=str)
def test_micro_plot_and_macro_roc(case: Case):
    p, cs = _computed(case.name)
    micro = cs.micro_plot
    assert micro is not None
    y = _indicator(p)
    assert micro.n_pos == int(y.sum()) and micro.n_neg == int(y.size - y.sum())
    assert micro.thresholds.size <= DEFAULT_PLOT_POINTS
    assert np.all(np.diff(micro.fpr) >= 0) and np.all(np.diff(micro.tpr) >= 0)
    assert micro.fpr[-1] == 1.0 and micro.tpr[-1] == 1.0
    assert abs(np.trapezoid(micro.tpr, micro.fpr) - cs.roc_auc.micro) <= 1e-3
    assert cs.macro_roc is not None
    grid, mean_tpr = cs.macro_roc
    assert grid.shape == mean_tpr.shape and grid[0] == 0.0 and grid[-1] == 1.0
    assert np.all(np.diff(grid) > 0)
    assert np.all(np.diff(mean_tpr) >= 0)  # non-decreasing
    assert mean_tpr[-1] == pytest.approx(1.0, abs=ATOL)
    assert ((mean_tpr >= 0) & (mean_tpr <= 1)).all()


@pytest.mark.parametrize("case", [c for c in CASES if c.task == "binary"], ids=str)
def test_binary_micro_plot_is_the_curve_and_no_macro_roc(case: Case):
    _, cs = _computed(case.name)
    assert cs.micro_plot is cs.plot[0]
    assert cs.macro_roc is None
    assert cs.roc_auc.micro == cs.roc_auc.macro == cs.classes[0].roc_auc


# --------------------------------------------------------------------------- to_dict


@ALL
def test_to_dict_is_strict_json(case: Case):
    p, cs = _computed(case.name)
    out = json.loads(json.dumps(cs.to_dict(), allow_nan=False))
    assert out["task"] == case.task and out["classes"] == list(case.class_names)
    assert list(out["per_class"]) == list(cs.names)
    for c, name in enumerate(cs.names):
        row = out["per_class"][name]
        assert row["support"] == cs.classes[c].support
        if c in case.no_positives:
            assert row["roc_auc"] is None and row["average_precision"] is None and row["reason"]
        elif c in case.only_positives:
            assert row["roc_auc"] is None and row["average_precision"] == pytest.approx(1.0)
        else:
            assert row["reason"] is None
            assert row["roc_auc"] == pytest.approx(cs.classes[c].roc_auc, abs=0)


def test_index_of_unknown_class_is_an_input_error():
    _, cs = _computed("multiclass_strings")
    assert cs.index("cat") == 1
    assert cs.index(2) == 2 and cs.roc_curve("cat")[1].tolist() == cs.roc_curve(1)[1].tolist()
    with pytest.raises(InputError) as error:
        cs.index("cow")
    assert str(error.value) == "expected a class name or index of (bird, cat, dog), got 'cow'"
    with pytest.raises(InputError, match="got 3"):
        cs.precision_recall_curve(3)


# --------------------------------------------------------------------------- worked example


def test_scikit_learn_documentation_example():
    p = Predictions.from_arrays([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    cs = compute_curves(p)
    assert cs.classes[0].roc_auc == pytest.approx(0.75, abs=ATOL)
    assert cs.classes[0].average_precision == pytest.approx(0.8333333333333333, abs=ATOL)
    fpr, tpr, thr = cs.roc_curve(0)
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1], rtol=0, atol=ATOL)
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1], rtol=0, atol=ATOL)
    assert np.array_equal(thr, [np.inf, 0.8, 0.4, 0.35, 0.1])
    precision, recall, thr = cs.precision_recall_curve(0)
    np.testing.assert_allclose(precision, [0.5, 0.66666667, 0.5, 1, 1], rtol=0, atol=1e-8)
    np.testing.assert_allclose(recall, [1, 1, 0.5, 0.5, 0], rtol=0, atol=ATOL)
    assert np.array_equal(thr, [0.1, 0.35, 0.4, 0.8])
    thr, tp, fp = cs.confusion_at_thresholds(0)
    assert np.array_equal(thr, [0.8, 0.4, 0.35, 0.1])
    assert np.array_equal(tp, [1, 1, 2, 2]) and np.array_equal(fp, [0, 1, 1, 2])


# --------------------------------------------------------------------------- properties

FEW_VALUES = np.array([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])


@st.composite
def engine_inputs(draw):
    n = draw(st.integers(2, 200))
    k = draw(st.integers(2, 6))
    task = draw(st.sampled_from(["binary", "multiclass", "multilabel"]))
    columns = 1 if task == "binary" else k
    mode = draw(st.sampled_from(["few", "float64", "float32", "logit"]))
    shape = (n, columns)
    if mode == "few":
        values = FEW_VALUES[: draw(st.integers(1, FEW_VALUES.size))]
        scores = values[draw(arrays(np.int64, shape, elements=st.integers(0, values.size - 1)))]
    elif mode == "float64":
        scores = draw(arrays(np.float64, shape, elements=st.floats(0, 1)))
    elif mode == "float32":
        scores = draw(arrays(np.float32, shape, elements=st.floats(0, 1, width=32)))
    else:
        scores = draw(arrays(np.float64, shape, elements=st.floats(-50, 50)))
    kwargs: dict = {}
    if task == "multilabel":
        y = draw(arrays(np.int8, shape, elements=st.integers(0, 1)))
        kwargs["task"] = "multilabel"
    else:
        n_labels = 2 if task == "binary" else k
        y = draw(arrays(np.int64, n, elements=st.integers(0, n_labels - 1)))
        if task == "binary":
            if draw(st.booleans()):
                scores = scores[:, 0]  # 1-D
        elif draw(st.booleans()):  # named classes; some may have no samples
            names = [f"c{i}" for i in range(k)]
            kwargs["class_names"] = names
            y = np.array(names)[y]
    if draw(st.booleans()) and mode != "logit":
        kwargs["score_kind"] = "probability"
    thresholds = draw(st.lists(st.floats(-0.5, 1.5) | st.sampled_from([np.inf, -np.inf]),
                               min_size=1, max_size=4))
    return y, scores, kwargs, thresholds


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(engine_inputs())
def test_property_engine_matches_sklearn_and_brute_force(data):
    y_true, y_score, kwargs, thresholds = data
    try:
        p = Predictions.from_arrays(y_true, y_score, **kwargs)
        cs = compute_curves(p, plot_points=64)
    except InputError:  # the only error the engine may raise; none expected here
        raise AssertionError("valid input rejected") from None
    for c, summary in enumerate(cs.classes):
        y, s = _ref(p, c)
        if summary.roc_auc is not None:
            assert summary.roc_auc == pytest.approx(roc_auc_score(y, s), abs=ATOL)
        else:
            assert y.all() or not y.any()
        if summary.average_precision is not None:
            assert summary.average_precision == pytest.approx(
                average_precision_score(y, s), abs=ATOL
            )
        else:
            assert not y.any()
        thr, tp, fp = cs.confusion_at_thresholds(c)
        _, ref_fps, _, ref_tps, ref_thr = confusion_matrix_at_thresholds(y, s)
        assert np.array_equal(thr, ref_thr)
        assert np.array_equal(tp, ref_tps) and np.array_equal(fp, ref_fps)
        plot = cs.plot[c]
        assert plot.thresholds.size <= 64  # plot_points: inf and at most 63 real thresholds
        assert np.isin(plot.thresholds[1:], s.astype(np.float64)).all()
    scores64 = np.unique(p.scores.astype(np.float64))
    for t in [*thresholds, float(scores64[len(scores64) // 2])]:
        _assert_counts(p, cs.counts_at(t), t)
    per_class = np.resize(np.array([*thresholds, *scores64[:3]], dtype=np.float64),
                          p.scores.shape[1])
    _assert_counts(p, cs.counts_at(per_class), per_class)
    json.dumps(cs.to_dict(), allow_nan=False)


@st.composite
def rough_inputs(draw):
    """Possibly invalid input: odd shapes, non-finite values, out-of-range labels, options."""
    n = draw(st.integers(0, 12))
    k = draw(st.integers(1, 4))
    score_shape = draw(st.sampled_from([(n,), (n, k), (n, 1), (max(n - 1, 0), k)]))
    scores = draw(arrays(np.float64, score_shape,
                         elements=st.floats(-1e6, 1e6) | st.sampled_from([np.nan, np.inf, -np.inf])))
    y_kind = draw(st.sampled_from(["int", "str", "indicator", "float"]))
    if y_kind == "int":
        y = draw(arrays(np.int64, n, elements=st.integers(-2, k + 1)))
    elif y_kind == "str":
        y = np.array(draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=n,
                                   max_size=n)), dtype=object if n == 0 else None)
    elif y_kind == "indicator":
        y = draw(arrays(np.int64, (n, k), elements=st.integers(-1, 2)))
    else:
        y = draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 1.0, 2.0, 0.5, np.nan])))
    kwargs = {}
    if draw(st.booleans()):
        kwargs["task"] = draw(st.sampled_from(["binary", "multiclass", "multilabel", "other"]))
    if draw(st.booleans()):
        kwargs["score_kind"] = draw(st.sampled_from(["probability", "logit", "odds"]))
    if draw(st.booleans()):
        kwargs["class_names"] = draw(st.lists(st.sampled_from(["a", "b", "c", "d"]),
                                              min_size=1, max_size=5))
    return y, scores, kwargs


@settings(max_examples=60, deadline=None)
@given(rough_inputs())
def test_property_engine_raises_only_input_error(data):
    y_true, y_score, kwargs = data
    try:
        p = Predictions.from_arrays(y_true, y_score, **kwargs)
    except InputError as error:
        assert str(error)  # a message, in one line
        assert "\n" not in str(error)
        return
    cs = compute_curves(p, plot_points=64)
    _assert_counts(p, cs.counts_at(0.5), 0.5)
    json.dumps(cs.to_dict(), allow_nan=False)


def test_counts_at_with_the_wrong_number_of_thresholds_is_an_input_error():
    p, _ = _computed("multiclass_ties_f64")
    cs = compute_curves(p)
    with pytest.raises(InputError, match=rf"one threshold or {len(cs.names)} \(one per class\), got 2"):
        cs.counts_at([0.1, 0.2])


# --------------------------------------------------------------------------- macro conventions


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_macro_interpolated_area_is_the_users_recipe(seed):
    """The seed's recipe: roc_curve per class, union of all FPRs, np.interp, mean, auc."""
    from sklearn.metrics import auc, roc_auc_score, roc_curve

    rng = np.random.default_rng(seed)
    n, k = 400, 4
    y = rng.integers(0, k, n)
    s = np.clip(rng.normal(0.3, 0.2, (n, k)) + 0.3 * np.eye(k)[y], 0, 1).round(2)  # ties
    cs = compute_curves(Predictions.from_arrays(y, s, score_kind="probability"))
    curves = [roc_curve(y == c, s[:, c]) for c in range(k)]
    all_fpr = np.unique(np.concatenate([fpr for fpr, _, _ in curves]))
    mean_tpr = np.mean([np.interp(all_fpr, fpr, tpr) for fpr, tpr, _ in curves], axis=0)
    got = cs.macro_roc_interpolated
    np.testing.assert_array_equal(got.fpr, all_fpr)
    np.testing.assert_allclose(got.tpr, mean_tpr, rtol=0, atol=1e-15)
    assert got.area == pytest.approx(auc(all_fpr, mean_tpr), abs=1e-15)
    out = cs.to_dict()
    assert out["roc_auc"]["macro_interpolated"] == got.area
    assert out["roc_auc"]["macro"] == pytest.approx(
        roc_auc_score(np.eye(k)[y], s, average="macro"), abs=1e-12)
    assert "union of all classes' FPRs" in out["conventions"]["roc_auc.macro_interpolated"]


@pytest.mark.parametrize("distinct", [50, 63, 64, 500])
def test_plot_curves_keep_at_most_plot_points_thresholds(distinct):
    """Every distinct score while they are fewer than plot_points, else quantiles of each
    side: never more than plot_points thresholds (inf included)."""
    rng = np.random.default_rng(distinct)
    scores = np.repeat(np.linspace(0.01, 0.99, distinct), 3)
    y = rng.integers(0, 2, scores.size)
    plot = compute_curves(Predictions.from_arrays(y, scores), plot_points=64).plot[0]
    assert plot.thresholds.size <= 64
    if distinct <= 63:
        assert plot.thresholds.size == distinct + 1


def test_float64_scores_sorted_by_their_float32_roundings_stay_exact():
    # float64 decimals as a CSV gives them (float32 scores printed, read back in float64):
    # sorted by the keys of their float32 roundings, the statistics keep the float64 values.
    # Column 2 also holds two scores 1e-12 apart that float32 merges: that column alone is
    # sorted by argsort; every figure still equals scikit-learn's.
    rng = np.random.default_rng(11)
    n, k = 4000, 3
    y = rng.integers(0, k, n)
    printed = np.round(rng.dirichlet(np.ones(k), n).astype(np.float32), 4)
    s = np.array([[float(repr(v)) for v in row] for row in printed.tolist()])
    s[:2, 2] = [0.25, 0.25 + 1e-12]
    s[:2, :2] = (1 - s[:2, 2:]) / 2
    assert not np.array_equal(s.astype(np.float32), s)  # the premise: float64 scores
    cs = compute_curves(Predictions.from_arrays(y, s, score_kind="probability"))
    for c in range(k):
        positive = y == c
        thr, tp, fp = cs.confusion_at_thresholds(c)
        _, ref_fps, _, ref_tps, ref_thr = confusion_matrix_at_thresholds(positive, s[:, c])
        assert np.array_equal(thr, ref_thr) and thr.dtype == np.float64, c
        assert np.array_equal(tp, ref_tps) and np.array_equal(fp, ref_fps), c
        assert cs.classes[c].roc_auc == pytest.approx(roc_auc_score(positive, s[:, c]), abs=1e-12)
        assert cs.classes[c].average_precision == pytest.approx(
            average_precision_score(positive, s[:, c]), abs=1e-12)
    assert cs.roc_auc.micro == pytest.approx(
        roc_auc_score(np.eye(k)[y].ravel(), s.ravel()), abs=1e-12)
    pairs = []  # Hand & Till, pair by pair with scikit-learn (rows need not sum to 1 here)
    for a in range(k):
        for b in range(a + 1, k):
            rows = (y == a) | (y == b)
            pairs.append((roc_auc_score(y[rows] == a, s[rows, a])
                          + roc_auc_score(y[rows] == b, s[rows, b])) / 2)
    assert cs.roc_auc.ovo_macro == pytest.approx(np.mean(pairs), abs=1e-12)
