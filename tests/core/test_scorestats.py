"""CurveStats: the mergeable statistics every engine produces, against scikit-learn and against
brute force (ties, float32/float64, degenerate curves, binning bounds, integer overflow)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from evalcore.scorestats import CurveStats, bin_edges


def _data(seed: int, n: int = 500, levels: int | None = None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = rng.random(n) * 0.6 + y * 0.3
    if levels:  # many ties
        s = np.round(s * levels) / levels
    return y, s.astype(dtype)


def _same(a: CurveStats, b: CurveStats) -> None:
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.tp, b.tp)
    np.testing.assert_array_equal(a.fp, b.fp)


@pytest.mark.parametrize("levels", [None, 20, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_auc_and_ap_equal_sklearn(levels, dtype):
    y, s = _data(1, levels=levels, dtype=dtype)
    stats = CurveStats.from_scores(s, y)
    assert stats.auc() == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert stats.ap() == pytest.approx(average_precision_score(y, s), abs=1e-12)
    assert stats.exact and stats.auc_bound() == 0.0
    assert stats.ap_bounds() == (stats.ap(), stats.ap())


def test_counts_at_every_threshold_equal_a_recount():
    y, s = _data(2, levels=15)
    stats = CurveStats.from_scores(s, y)
    for t in [-1.0, 0.0, *np.unique(s), 0.4567, 2.0]:
        called = s >= t
        assert stats.counts_at(t) == (int((called & (y == 1)).sum()), int((called & (y == 0)).sum()))


def test_from_sides_equals_from_scores():
    for levels in (None, 7):
        y, s = _data(3, levels=levels)
        whole = CurveStats.from_scores(s, y)
        _same(CurveStats.from_sides(np.sort(s[y == 1]), np.sort(s[y == 0])), whole)
        y_flipped = 1 - y  # the other side smaller/larger
        _same(CurveStats.from_sides(np.sort(s[y_flipped == 1]), np.sort(s[y_flipped == 0])),
              CurveStats.from_scores(s, y_flipped))


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10**6), parts=st.integers(1, 6), levels=st.sampled_from([None, 4, 30]))
def test_merging_parts_gives_the_whole(seed, parts, levels):
    y, s = _data(seed, n=120, levels=levels)
    cut = np.sort(np.random.default_rng(seed).integers(0, y.size, parts - 1))
    pieces = [CurveStats.from_scores(ss, yy) for ss, yy in zip(np.split(s, cut), np.split(y, cut))
              if ss.size]
    merged = pieces[0]
    for piece in pieces[1:]:
        merged = merged.merge(piece)
    _same(merged, CurveStats.from_scores(s, y))


def test_from_counts_adds_duplicates_in_any_order():
    stats = CurveStats.from_counts([0.5, 0.1, 0.5, 0.9, 0.3], [1, 0, 2, 0, 0], [0, 3, 1, 1, 0])
    assert stats.values.tolist() == [0.1, 0.5, 0.9]  # 0.3 holds no sample
    assert stats.pos.tolist() == [0, 3, 0] and stats.neg.tolist() == [3, 1, 1]
    assert stats.counts_at(0.2) == (3, 2)


def test_degenerate_curves_are_undefined_not_crashes():
    none_positive = CurveStats.from_scores(np.array([0.2, 0.4]), np.array([0, 0]))
    assert none_positive.auc() is None and none_positive.ap() is None
    all_positive = CurveStats.from_scores(np.array([0.2, 0.4]), np.array([1, 1]))
    assert all_positive.auc() is None and all_positive.ap() == 1.0
    empty = CurveStats.from_scores(np.array([]), np.array([], dtype=int))
    assert empty.n_pos == empty.n_neg == 0 and empty.auc() is None


def test_u2_stays_exact_beyond_float64_integers():
    # 2 P N = 2 * 3e9 * 2e9 > 2^53: summed in int64, compared with Python integers
    pos = np.array([10**9, 2 * 10**9, 0], dtype=np.int64)
    neg = np.array([10**9, 5 * 10**8, 5 * 10**8], dtype=np.int64)
    stats = CurveStats.from_counts([0.1, 0.5, 0.9], pos, neg)
    expected = 0
    for i in range(3):  # each negative at value i: positives above count 2, tied 1
        expected += int(neg[i]) * (2 * int(pos[i + 1:].sum()) + int(pos[i]))
    assert stats.u2() == expected
    assert stats.tp.dtype == np.int64  # counts beyond uint32


@pytest.mark.parametrize("seed", range(5))
def test_binned_figures_lie_within_their_bounds(seed):
    y, s = _data(seed, n=3000)
    exact = CurveStats.from_scores(s, y)
    binned = exact.binned(bin_edges(0.0, 1.0, 16))
    assert not binned.exact and binned.n_distinct == exact.values.size
    assert abs(binned.auc() - exact.auc()) <= binned.auc_bound() + 1e-15
    assert binned.auc_bound() > 0
    low, high = binned.ap_bounds()
    assert low - 1e-12 <= exact.ap() <= high + 1e-12
    assert low < high
    # at a bin edge, binned counts are the exact counts
    for edge in bin_edges(0.0, 1.0, 16)[:-1]:
        assert binned.counts_at(edge) == exact.counts_at(edge)


def test_binned_statistics_of_parts_merge_on_the_shared_grid():
    y, s = _data(9, n=2000)
    edges = bin_edges(0.0, 1.0, 64)
    half = y.size // 2
    parts = [CurveStats.from_scores(s[:half], y[:half]).binned(edges),
             CurveStats.from_scores(s[half:], y[half:]).binned(edges)]
    _same(parts[0].merge(parts[1]), CurveStats.from_scores(s, y).binned(edges))


def test_ap_bounds_equal_brute_force_orders():
    # one bin holding 2 positives and 2 negatives after one certain positive: AP ranges over
    # the orders of the tied block
    stats = CurveStats.from_counts([0.0, 1.0], [2, 1], [2, 0], exact=False)
    low, high = stats.ap_bounds()
    best = (1 + 2 / 2 + 3 / 3) / 3       # positives of the bin ranked first
    worst = (1 + 2 / 4 + 3 / 5) / 3      # ranked last
    assert (low, high) == (pytest.approx(worst), pytest.approx(best))


@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
@pytest.mark.parametrize("n", [40, 5000])
@pytest.mark.parametrize("scores_of", ["rounded float64", "float32", "float32 apart"])
def test_micro_average_equals_merged_statistics(task, n, scores_of):
    # compute_curves merges the sorted positive cells with each curve's statistics; from_stats
    # merges the curves' statistics: the same micro figures and the same plot points.
    # "apart": positives scored well above most negatives (negatives far below every positive
    # and above every positive as well)
    from evalcore import Predictions, compute_curves
    from evalcore.curves import from_stats

    rng = np.random.default_rng(n)
    k = 4
    scores = rng.random((n, k))
    if task == "multiclass":
        y = rng.integers(0, k, n)
        cells = np.eye(k, dtype=bool)[y]
    else:
        y = rng.random((n, k)) < 0.4
        cells = y
    if scores_of == "rounded float64":
        scores = np.round(scores, 3)
    if scores_of == "float32 apart":
        scores = np.where(cells, 0.5 + scores / 4, scores ** 4)
        scores[rng.random((n, k)) < 0.01] = 0.999
    if task == "multiclass":
        scores /= scores.sum(axis=1, keepdims=True)
    if scores_of != "rounded float64":
        scores = scores.astype(np.float32)
    p = Predictions.from_arrays(y, scores, task=task)
    curves = compute_curves(p, plot_points=200)
    merged = from_stats(curves.stats, class_names=p.class_names, task=p.task,
                        score_kind=p.score_kind, n_samples=p.n_samples, plot_points=200)
    assert curves.roc_auc.micro == pytest.approx(roc_auc_score(cells.ravel(), scores.ravel()),
                                                 abs=1e-12)
    assert curves.average_precision.micro == pytest.approx(
        average_precision_score(cells.ravel(), scores.ravel()), abs=1e-12)
    assert merged.roc_auc.micro == pytest.approx(curves.roc_auc.micro, abs=1e-12)
    assert merged.average_precision.micro == pytest.approx(curves.average_precision.micro,
                                                           abs=1e-12)
    for a, b in ((curves.micro_plot, merged.micro_plot),):
        np.testing.assert_array_equal(a.thresholds, b.thresholds)
        np.testing.assert_array_equal(a.tp, b.tp)
        np.testing.assert_array_equal(a.fp, b.fp)


def _stream(values, positive, labels=None, *, cuts, budget, edges=None, n_labels=None):
    from evalcore.scorestats import SortedStream

    order = np.argsort(values, kind="stable")
    values, positive = values[order], positive[order]
    labels = None if labels is None else labels[order]
    stream = SortedStream(int(positive.sum()), values.size, budget=budget, edges=edges,
                          n_labels=n_labels)
    for part in np.split(np.arange(values.size), cuts):
        stream.add(values[part], positive[part], None if labels is None else labels[part])
    return stream.result()


@settings(max_examples=120, deadline=None)
@given(seed=st.integers(0, 10**6), levels=st.sampled_from([None, 3, 50]),
       parts=st.integers(1, 8))
def test_stream_in_batches_equals_the_whole(seed, levels, parts):
    # tied scores spanning batch boundaries, batches of one value, empty batches
    y, s = _data(seed, n=200, levels=levels)
    cuts = np.sort(np.random.default_rng(seed).integers(0, s.size + 1, parts - 1))
    r = _stream(s, y == 1, cuts=cuts, budget=10**6)
    whole = CurveStats.from_scores(s, y)
    _same(r.stats, whole)
    assert r.u2 == whole.u2()
    assert r.ap == pytest.approx(average_precision_score(y, s), abs=1e-12)


def test_stream_beyond_the_budget_bins_and_keeps_the_exact_figures():
    y, s = _data(4, n=5000)
    edges = bin_edges(0.0, 1.0, 32)
    r = _stream(s, y == 1, cuts=[1000, 2500], budget=100, edges=edges)
    exact = CurveStats.from_scores(s, y)
    assert not r.stats.exact and r.stats.n_distinct == exact.values.size
    _same(r.stats, exact.binned(edges))
    assert r.u2 / (2 * exact.n_pos * exact.n_neg) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert r.ap == pytest.approx(average_precision_score(y, s), abs=1e-12)


def test_stream_counts_hand_and_till_pairs():
    from evalcore import Predictions, compute_curves

    rng = np.random.default_rng(3)
    n, k = 600, 3
    scores = np.round(rng.dirichlet(np.ones(k), n), 2)
    scores /= scores.sum(axis=1, keepdims=True)
    y = rng.integers(0, k, n)
    pairs = np.zeros((k, k))
    for c in range(k):
        pairs[c] = _stream(scores[:, c], y == c, y, cuts=[100, 350], budget=10**6,
                           n_labels=k).u2_by_label
    sizes = np.bincount(y, minlength=k)
    mean = np.mean([(pairs[a, b] + pairs[b, a]) / (4 * sizes[a] * sizes[b])
                    for a in range(k) for b in range(a + 1, k)])
    assert mean == pytest.approx(roc_auc_score(y, scores, multi_class="ovo"), abs=1e-12)
    p = Predictions.from_arrays(y, scores)
    assert mean == pytest.approx(compute_curves(p).roc_auc.ovo_macro, abs=1e-12)


def test_stream_refuses_rows_out_of_order():
    from evalcore.scorestats import SortedStream

    stream = SortedStream(1, 3)
    stream.add(np.array([0.2, 0.5]), np.array([0, 1]))
    with pytest.raises(ValueError, match="ascending"):
        stream.add(np.array([0.1]), np.array([0]))


@pytest.mark.parametrize("workers", [1, 3])
def test_curves_are_the_same_on_any_number_of_threads(monkeypatch, workers):
    # classes and the micro average's positives are split among threads; ties of positives
    # straddle the cuts (scores rounded to 2 decimals)
    from evalcore import Predictions, compute_curves, curves as curves_module

    rng = np.random.default_rng(3)
    n, k = 3000, 5
    y = rng.integers(0, k, n)
    scores = np.round(rng.dirichlet(np.ones(k), n), 2).astype(np.float32)
    p = Predictions.from_arrays(y, scores, score_kind="probability")
    expected = compute_curves(p, plot_points=64)
    monkeypatch.setattr(curves_module, "WORKERS", workers)
    got = compute_curves(p, plot_points=64)
    assert got.to_dict() == expected.to_dict()
    np.testing.assert_array_equal(got.micro_plot.fp, expected.micro_plot.fp)


def test_the_first_call_of_a_kind_warms_its_kernels_on_one_thread(monkeypatch):
    # the first call of a (score dtype, task) runs the input's first rows alone, on one
    # thread, under a lock; the call itself then runs as any other and gives the same curves
    from evalcore import Predictions, compute_curves, curves as curves_module

    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 500)
    scores = rng.dirichlet(np.ones(3), 500).astype(np.float32)
    p = Predictions.from_arrays(y, scores)
    expected = compute_curves(p).to_dict()
    seen = []
    real = curves_module._threaded
    monkeypatch.setattr(curves_module, "_COMPILED", set())
    monkeypatch.setattr(curves_module, "_threaded", lambda run, items: seen.append(
        (len(items), getattr(curves_module._WARMING, "active", False))) or real(run, items))
    assert compute_curves(p).to_dict() == expected
    assert curves_module._COMPILED == {("<f4", "multiclass")}
    # the warm-up's tasks (on its 16 rows) on one thread, then the call's
    assert [warming for _, warming in seen] == [True, True, False, False]
    assert not curves_module._WARMING.active
