"""evalcore.calibration: reliability bins equal scikit-learn's calibration_curve, Brier scores
equal brier_score_loss and the Brier 1950 formula, ECE / MCE equal an explicit loop, the
torchmetrics docstring examples (verified by hand), degenerate classes, strict JSON, the
reliability figure, speed."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score

from _inputs import BY_NAME, CASES, Case, softmax
from evalcore import figures as F
from evalcore.calibration import (
    AUC_NOTE,
    MULTILABEL_TOP_LABEL_REASON,
    calibration,
    reliability,
)
from evalcore.errors import InputError
from evalcore.predictions import Predictions

STRATEGIES = ("uniform", "quantile")
BIN_COUNTS = (1, 5, 10, 13, 100)  # 100 > 64: the binary-search path of the bin lookup


def _predictions(case: Case) -> Predictions:
    y_true, y_score, kwargs = case.inputs()
    return Predictions.from_arrays(y_true, y_score, **kwargs)


def _top_label_oracle(p: Predictions) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, correct) of the top label, computed independently of the engine."""
    if p.task == "binary":
        s = p.scores[:, 0]
        return np.maximum(s, 1 - s), (s >= 0.5) == (p.y_true == 1)
    return p.scores.max(axis=1), p.scores.argmax(axis=1) == p.y_true


def _assert_same_as_sklearn(rel, positive, score, bins, strategy):
    prob_true, prob_pred = calibration_curve(positive, score, n_bins=bins, strategy=strategy,
                                             pos_label=True)
    np.testing.assert_array_equal(rel.fraction_positive, prob_true)
    np.testing.assert_array_equal(rel.mean_predicted, prob_pred)
    # counts and edges: bin i holds the scores in (edges[i], edges[i + 1]] (the first bin
    # also edges[0]), i.e. np.searchsorted(edges[1:-1], score); empty bins are dropped
    if strategy == "uniform":
        edges = np.linspace(0, 1, bins + 1)
    else:
        edges = np.percentile(score, np.linspace(0, 1, bins + 1) * 100)
    full = np.bincount(np.searchsorted(edges[1:-1], score), minlength=bins)
    kept = full > 0
    np.testing.assert_array_equal(rel.count, full[kept])
    np.testing.assert_array_equal(rel.low, np.asarray(edges[:-1], dtype=np.float64)[kept])
    np.testing.assert_array_equal(rel.high, np.asarray(edges[1:], dtype=np.float64)[kept])
    assert rel.count.sum() == np.size(score)
    assert (rel.low <= rel.mean_predicted + 1e-12).all()
    assert (rel.mean_predicted <= rel.high + 1e-12).all()


# ---------------------------------------------------------------------------------------------
# reliability bins: scikit-learn's calibration_curve


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_per_class_bins_equal_sklearn(case, strategy):
    p = _predictions(case)
    for bins in BIN_COUNTS:
        cal = calibration(p, bins=bins, strategy=strategy)
        assert cal.names == p.curve_names
        for c, cc in enumerate(cal.classes):
            _assert_same_as_sklearn(cc.reliability, p.positives(c), p.scores[:, c], bins,
                                    strategy)
            assert cc.n_positive == int(p.positives(c).sum())


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("case", [c for c in CASES if c.task != "multilabel"], ids=str)
def test_top_label_bins_equal_sklearn(case, strategy):
    p = _predictions(case)
    confidence, correct = _top_label_oracle(p)
    for bins in BIN_COUNTS:
        cal = calibration(p, bins=bins, strategy=strategy)
        _assert_same_as_sklearn(cal.top_label, correct, confidence, bins, strategy)


def _ties_and_gaps(seed: int, dtype) -> Predictions:
    """Scores rounded to 1-2 decimals (ties, many exactly on uniform edges) and squeezed into
    [0, 0.35] for one class (empty uniform bins, duplicate quantile edges)."""
    rng = np.random.default_rng(seed)
    n, k = 700, 4
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k))
    z[np.arange(n), y] += 1.2
    s = softmax(z)
    s[:, 3] *= 0.35
    s[:, 0] = 1 - s[:, 1:].sum(axis=1)
    s = np.round(s, rng.integers(1, 3))
    s[rng.random(n) < 0.2, 2] = 0.3  # a big tie block on an inner edge
    s = np.clip(s, 0, 1).astype(dtype)
    return Predictions.from_arrays(y, s, task="multiclass", score_kind="probability")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_ties_and_empty_bins_equal_sklearn(seed, strategy, dtype):
    p = _ties_and_gaps(seed, dtype)
    for bins in (3, 7, 10, 20, 65):
        cal = calibration(p, bins=bins, strategy=strategy)
        for c, cc in enumerate(cal.classes):
            _assert_same_as_sklearn(cc.reliability, p.positives(c), p.scores[:, c], bins,
                                    strategy)
        confidence, correct = _top_label_oracle(p)
        _assert_same_as_sklearn(cal.top_label, correct, confidence, bins, strategy)
    # class 3 lives in [0, 0.35]: uniform bins above are empty and dropped
    cal = calibration(p, bins=10, strategy="uniform")
    assert cal.classes[3].reliability.high.max() <= 0.4 + 1e-12
    assert cal.classes[3].reliability.count.size < 10


def test_scores_exactly_on_edges():
    """Scores on the edges go to the bin below (bins are (low, high]), 0 to the first bin;
    float32 scores are compared with the float64 edges exactly (float32(0.3) > 0.3)."""
    s = np.array([0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0, 0.30000000000000004])
    y = np.array([0, 1, 0, 1, 0, 1, 1, 1, 0])
    rel = reliability(s, y == 1, bins=10)
    edges = np.linspace(0, 1, 11)  # edges[3] is 0.30000000000000004, edges[7] 0.7000000000000001
    np.testing.assert_array_equal(rel.high, edges[[1, 2, 3, 5, 7, 9, 10]])
    np.testing.assert_array_equal(rel.count, [2, 1, 2, 1, 1, 1, 1])
    for dtype in (np.float32, np.float64):
        for bins in (10, 100):
            sd = s.astype(dtype)
            rel = reliability(sd, y == 1, bins=bins)
            _assert_same_as_sklearn(rel, y == 1, sd, bins, "uniform")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scores=st.lists(st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.3, 0.5, 0.7, 0.99, 1.0])
                    | st.floats(0, 1), min_size=1, max_size=60),
    data=st.data(),
    bins=st.integers(1, 80),
    strategy=st.sampled_from(STRATEGIES),
    float32=st.booleans(),
)
def test_property_bins_equal_sklearn(scores, data, bins, strategy, float32):
    s = np.array(scores, dtype=np.float32 if float32 else np.float64)
    y = np.array(data.draw(st.lists(st.booleans(), min_size=s.size, max_size=s.size)))
    rel = reliability(s, y, bins=bins, strategy=strategy)
    _assert_same_as_sklearn(rel, y, s, bins, strategy)
    assert np.isfinite(rel.ece) and 0 <= rel.ece <= rel.mce * (1 + 1e-12) and rel.mce <= 1


# ---------------------------------------------------------------------------------------------
# Brier score


@pytest.mark.parametrize("case", CASES, ids=str)
def test_brier_per_class_equals_sklearn(case):
    p = _predictions(case)
    cal = calibration(p)
    for c, cc in enumerate(cal.classes):
        expected = brier_score_loss(p.positives(c), p.scores[:, c].astype(np.float64),
                                    pos_label=True)
        assert cc.brier == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one:UserWarning")
@pytest.mark.parametrize("case", CASES, ids=str)
def test_overall_brier(case):
    p = _predictions(case)
    cal = calibration(p)
    scores = p.scores.astype(np.float64)
    if p.task == "multiclass":
        one_hot = np.eye(scores.shape[1])[p.y_true]
        explicit = np.mean(np.sum((scores - one_hot) ** 2, axis=1))  # Brier 1950
        assert cal.brier == pytest.approx(explicit, rel=1e-12)
        # scikit-learn's multiclass Brier (>= 1.6) is the same sum, unhalved for >= 3 classes
        labels = list(range(scores.shape[1]))
        try:
            sk = brier_score_loss(p.y_true, scores, labels=labels, scale_by_half=False)
        except TypeError:  # scikit-learn < 1.6
            pytest.skip("scikit-learn has no multiclass brier_score_loss")
        assert cal.brier == pytest.approx(sk, rel=1e-12)
        if scores.shape[1] >= 3:
            assert cal.brier == pytest.approx(brier_score_loss(p.y_true, scores, labels=labels),
                                              rel=1e-12)
    elif p.task == "binary":
        # the usual binary Brier score = half the two-class Brier 1950 sum
        s = scores[:, 0]
        assert cal.brier == pytest.approx(brier_score_loss(p.y_true, s), rel=1e-12)
        two = np.column_stack([1 - s, s])
        half_sum = 0.5 * np.mean(np.sum((two - np.eye(2)[p.y_true]) ** 2, axis=1))
        assert cal.brier == pytest.approx(half_sum, rel=1e-12)
    else:
        assert cal.brier == pytest.approx(np.mean((scores - p.y_true) ** 2), rel=1e-12)
    assert cal.brier_definition.startswith({"multiclass": "mean over samples of the sum",
                                            "binary": "mean of (p - y)^2",
                                            "multilabel": "mean over labels"}[p.task])


def test_two_class_multiclass_brier_is_not_halved():
    """Two softmax columns read as task multiclass: evalcore keeps the Brier 1950 sum,
    scikit-learn's default halves two columns."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    s = softmax(rng.normal(size=(200, 2)) + 1.5 * np.eye(2)[y])
    p = Predictions.from_arrays(y, s, task="multiclass")
    cal = calibration(p)
    assert cal.brier == pytest.approx(2 * brier_score_loss(y, s[:, 1]), rel=1e-12)
    assert cal.brier == pytest.approx(brier_score_loss(y, s, labels=[0, 1], scale_by_half=False),
                                      rel=1e-12)


# ---------------------------------------------------------------------------------------------
# ECE and MCE: an explicit loop


def _ece_mce_loop(confidence, positive, bins, strategy):
    """sum over bins of count/N * |acc - conf| and the max gap, bin by bin in Python."""
    conf = np.asarray(confidence, dtype=np.float64)
    if strategy == "uniform":
        edges = np.linspace(0, 1, bins + 1)
    else:
        edges = np.percentile(confidence, np.linspace(0, 1, bins + 1) * 100).astype(np.float64)
    assigned = np.zeros(conf.size, dtype=bool)
    ece, mce = 0.0, 0.0
    for i in range(bins):
        lo, hi = edges[i], edges[i + 1]
        last = i == bins - 1
        member = ((conf > lo) | (i == 0)) & ((conf <= hi) | last) & ~assigned
        assigned |= member
        n = int(member.sum())
        if n == 0:
            continue
        gap = abs(float(np.mean(positive[member])) - float(np.mean(conf[member])))
        ece += n / conf.size * gap
        mce = max(mce, gap)
    assert assigned.all()
    return ece, mce


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_ece_and_mce_equal_a_loop(case, strategy):
    p = _predictions(case)
    for bins in (1, 4, 10, 15):
        cal = calibration(p, bins=bins, strategy=strategy)
        eces = []
        for c, cc in enumerate(cal.classes):
            ece, mce = _ece_mce_loop(p.scores[:, c], p.positives(c), bins, strategy)
            assert cc.ece == pytest.approx(ece, rel=1e-9, abs=1e-12)
            assert cc.mce == pytest.approx(mce, rel=1e-9, abs=1e-12)
            eces.append(ece)
        assert cal.ece_classwise == pytest.approx(np.mean(eces), rel=1e-9, abs=1e-12)
        if p.task == "multilabel":
            assert cal.ece_top_label is None and cal.mce_top_label is None
            continue
        ece, mce = _ece_mce_loop(*_top_label_oracle(p), bins, strategy)
        assert cal.ece_top_label == pytest.approx(ece, rel=1e-9, abs=1e-12)
        assert cal.mce_top_label == pytest.approx(mce, rel=1e-9, abs=1e-12)


def test_perfectly_calibrated_and_one_bin():
    """Scores that equal the fraction positive in each bin: ECE 0. One bin: ECE is
    |prevalence - mean score|."""
    s = np.repeat([0.05, 0.25, 0.5, 0.75, 0.95], 20)
    y = np.concatenate([np.arange(20) < 20 * v for v in (0.05, 0.25, 0.5, 0.75, 0.95)])
    rel = reliability(s, y, bins=10)
    assert rel.ece == pytest.approx(0, abs=1e-15) and rel.mce == pytest.approx(0, abs=1e-15)
    rel = reliability(s, y, bins=1)
    assert rel.count.tolist() == [100]
    assert rel.ece == pytest.approx(abs(y.mean() - s.mean()), abs=1e-15)


# ---------------------------------------------------------------------------------------------
# torchmetrics' docstring examples, verified by hand
#
# binary_calibration_error(preds=[0.25, 0.25, 0.55, 0.75, 0.75], target=[0, 0, 1, 1, 1],
# n_bins=2): bins [0, 0.5) and [0.5, 1]; the confidence is the positive-class probability.
#   bin 1: 0.25, 0.25, targets 0, 0 -> accuracy 0, confidence 0.25, gap 0.25, weight 2/5
#   bin 2: 0.55, 0.75, 0.75, targets 1, 1, 1 -> accuracy 1, confidence 2.05/3, gap 0.95/3,
#          weight 3/5
#   l1 = 0.4 * 0.25 + 0.6 * 0.95/3 = 0.1 + 0.19 = 0.2900
#   l2 = sqrt(0.4 * 0.25^2 + 0.6 * (0.95/3)^2) = 0.2918
#   max = 0.95/3 = 0.3167 (the docstring's value; not 0.5)
# With evalcore's top label max(p, 1 - p) instead, every prediction is correct (0.25 -> class
# 0, the others -> class 1), all confidences fall in one bin with mean 3.55/5 = 0.71:
# ECE = MCE = 0.29. So torchmetrics' binary convention is evalcore's per-class curve.
#
# multiclass_calibration_error(preds=[[0.25, 0.20, 0.55], [0.55, 0.05, 0.40],
# [0.10, 0.30, 0.60], [0.90, 0.05, 0.05]], target=[0, 1, 2, 0], n_bins=3): top label,
# confidences 0.55, 0.55, 0.60, 0.90, predictions 2, 0, 2, 0 -> correct 0, 0, 1, 1.
#   bin [1/3, 2/3): 0.55, 0.55, 0.60 -> accuracy 1/3, confidence 1.7/3, gap 0.7/3, weight 3/4
#   bin [2/3, 1]:   0.90 -> accuracy 1, gap 0.1, weight 1/4
#   l1 = 0.75 * 0.7/3 + 0.25 * 0.1 = 0.175 + 0.025 = 0.2000
#   l2 = sqrt(0.75 * (0.7/3)^2 + 0.25 * 0.01) = 0.2082
#   max = 0.7/3 = 0.2333 (the docstring's value; not 0.55)
# No score lies on an inner edge, where torchmetrics' [low, high) bins would differ from
# scikit-learn's (low, high].


def _rms(rel) -> float:
    return float(np.sqrt(rel.gap ** 2 @ rel.count / rel.n_samples))


def test_torchmetrics_binary_example():
    p = Predictions.from_arrays([0, 0, 1, 1, 1], [0.25, 0.25, 0.55, 0.75, 0.75])
    cal = calibration(p, bins=2)
    positive_class = cal.classes[0]  # torchmetrics' binary convention
    assert positive_class.name == "1"
    assert round(positive_class.ece, 4) == 0.2900
    assert round(positive_class.mce, 4) == 0.3167
    assert round(_rms(positive_class.reliability), 4) == 0.2918
    assert positive_class.ece == pytest.approx(0.29, abs=1e-12)
    assert positive_class.mce == pytest.approx(0.95 / 3, abs=1e-12)
    assert positive_class.reliability.count.tolist() == [2, 3]
    # evalcore's binary top label: confidence max(p, 1 - p), all correct, one bin
    assert cal.top_label.count.tolist() == [5]
    assert cal.top_label.fraction_positive.tolist() == [1.0]
    assert cal.ece_top_label == pytest.approx(0.29, abs=1e-12)
    assert cal.mce_top_label == pytest.approx(0.29, abs=1e-12)


def test_torchmetrics_multiclass_example():
    preds = [[0.25, 0.20, 0.55], [0.55, 0.05, 0.40], [0.10, 0.30, 0.60], [0.90, 0.05, 0.05]]
    p = Predictions.from_arrays([0, 1, 2, 0], preds)
    cal = calibration(p, bins=3)
    assert round(cal.ece_top_label, 4) == 0.2000
    assert round(cal.mce_top_label, 4) == 0.2333
    assert round(_rms(cal.top_label), 4) == 0.2082
    assert cal.ece_top_label == pytest.approx(0.2, abs=1e-12)
    assert cal.mce_top_label == pytest.approx(0.7 / 3, abs=1e-12)
    assert cal.top_label.count.tolist() == [3, 1]
    assert cal.top_label.fraction_positive.tolist() == pytest.approx([1 / 3, 1.0])


# ---------------------------------------------------------------------------------------------
# degenerate cases, JSON, errors


def test_class_without_positives():
    case = BY_NAME["multiclass_absent_class"]
    p = _predictions(case)
    cal = calibration(p)
    (c,) = case.no_positives
    cc = cal.classes[c]
    assert cc.n_positive == 0
    assert (cc.reliability.fraction_positive == 0).all()
    # ECE of a class that never occurs: the mean of its scores (every gap is the bin's mean)
    assert cc.ece == pytest.approx(p.scores[:, c].mean(), rel=1e-12)
    assert cc.brier == pytest.approx(np.mean(p.scores[:, c] ** 2), rel=1e-12)
    out = cal.to_dict()
    assert out["per_class"][case.class_names[c]]["ece"] == pytest.approx(cc.ece)


def test_multilabel_degenerate_and_top_label_undefined():
    case = BY_NAME["multilabel_degenerate"]
    p = _predictions(case)
    cal = calibration(p, strategy="quantile")
    assert cal.top_label is None
    assert cal.top_label_reason == MULTILABEL_TOP_LABEL_REASON
    assert "multilabel" in cal.top_label_reason
    (none,), (only,) = case.no_positives, case.only_positives
    assert (cal.classes[none].reliability.fraction_positive == 0).all()
    assert (cal.classes[only].reliability.fraction_positive == 1).all()
    out = cal.to_dict()
    assert out["top_label"] is None and out["ece_top_label"] is None
    assert out["mce_top_label"] is None and out["top_label_reason"] == cal.top_label_reason
    assert out["ece_classwise"] is not None


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_to_dict_is_strict_json(case, strategy):
    p = _predictions(case)
    cal = calibration(p, bins=7, strategy=strategy)
    out = cal.to_dict()
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out
    assert {"strategy", "bins", "ece_top_label", "ece_classwise", "mce_top_label", "brier",
            "per_class", "top_label"} <= set(out)
    assert out["strategy"] == strategy and out["bins"] == 7
    assert list(out["per_class"]) == list(p.curve_names)
    bin_keys = {"mean_predicted", "fraction_positive", "count", "low", "high"}
    for name, entry in out["per_class"].items():
        assert {"ece", "mce", "brier", "bins"} <= set(entry)
        assert all(set(b) == bin_keys for b in entry["bins"])
        assert sum(b["count"] for b in entry["bins"]) == p.n_samples
    if p.task == "multilabel":
        assert out["top_label"] is None
    else:
        assert {"ece", "mce", "bins"} <= set(out["top_label"])
        assert all(set(b) == bin_keys for b in out["top_label"]["bins"])
        assert out["top_label_reason"] is None
    assert out["definitions"]["auc"] == AUC_NOTE


@pytest.mark.parametrize("bins", [0, -3, 2.5, True, "10", None])
def test_bad_bins(bins):
    p = _predictions(CASES[0])
    with pytest.raises(InputError, match="bins"):
        calibration(p, bins=bins)


@pytest.mark.parametrize("strategy", ["Uniform", "equal", "", None, 3])
def test_bad_strategy(strategy):
    p = _predictions(CASES[0])
    with pytest.raises(InputError, match="strategy must be one of uniform, quantile"):
        calibration(p, strategy=strategy)


def test_reliability_checks_its_inputs():
    with pytest.raises(InputError, match="same shape"):
        reliability(np.array([0.1, 0.2]), np.array([True]))
    with pytest.raises(InputError, match="non-empty 1-D"):
        reliability(np.array([]), np.array([], dtype=bool))
    with pytest.raises(InputError, match="strategy"):
        reliability(np.array([0.1]), np.array([True]), strategy="kmeans")
    rel = reliability([0, 1, 1], [0, 1, 1], bins=2)  # lists and 0/1 masks are accepted
    assert rel.count.tolist() == [1, 2] and rel.fraction_positive.tolist() == [0.0, 1.0]


def test_auc_note_and_monotone_rescaling():
    """The AUC note's claim: a strictly increasing rescaling keeps ROC AUC, not calibration."""
    assert isinstance(AUC_NOTE, str) and "AUC" in AUC_NOTE and "calibration" in AUC_NOTE
    p = _predictions(BY_NAME["binary_1d"])
    s = p.scores[:, 0]
    q = Predictions.from_arrays(p.y_true, s ** 4)
    assert roc_auc_score(p.y_true, s) == roc_auc_score(q.y_true, q.scores[:, 0])
    assert calibration(q).classes[0].ece > calibration(p).classes[0].ece + 0.05


def test_float32_scores_stay_float32_edges_exact():
    p = _predictions(BY_NAME["multiclass_softmax_f32"])
    assert p.scores.dtype == np.float32
    cal = calibration(p, strategy="quantile")
    for cc in cal.classes:
        assert cc.reliability.low.dtype == np.float64
        assert cc.reliability.mean_predicted.dtype == np.float64


# ---------------------------------------------------------------------------------------------
# the reliability figure


def _strict_json(fig) -> str:
    text = fig.to_json()

    def refuse(token):
        raise ValueError(f"non-strict JSON token {token}")

    json.loads(text, parse_constant=refuse)
    return text


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_reliability_figure_builds_and_serialises(case, strategy):
    p = _predictions(case)
    cal = calibration(p, strategy=strategy)
    fig = F.reliability_figure(cal)
    _strict_json(fig)
    names = [t.name for t in fig.data]
    assert names[0] == "perfectly calibrated"
    assert list(fig.data[0].x) == [0.0, 1.0] and list(fig.data[0].y) == [0.0, 1.0]
    lines = [t for t in fig.data if t.type == "scatter"][1:]
    n_top = 0 if cal.top_label is None else 1
    assert len(lines) == len(cal.classes) + n_top
    for c, (trace, cc) in enumerate(zip(lines, cal.classes)):
        assert trace.line.color == F.class_color(c)
        assert trace.legendgroup == f"class-{c}"
        assert f"ECE {cc.ece:.3f}" in trace.name
        np.testing.assert_array_equal(trace.x, cc.reliability.mean_predicted)
        np.testing.assert_array_equal(trace.y, cc.reliability.fraction_positive)
        np.testing.assert_array_equal(np.asarray(trace.customdata)[:, 0], cc.reliability.count)
        assert "samples" in trace.hovertemplate and "customdata[0]" in trace.hovertemplate
    bars = [t for t in fig.data if t.type == "bar"]
    if cal.top_label is None:
        assert "not defined" in fig.layout.annotations[0].text
        assert len(bars) == len(cal.classes)
    else:
        top = lines[-1]
        assert top.legendgroup == "top-label" and "MCE" in top.name
        np.testing.assert_array_equal(top.x, cal.top_label.mean_predicted)
        assert len(bars) == 1
        np.testing.assert_array_equal(bars[0].y, cal.top_label.count)
    assert strategy in fig.layout.legend.title.text


def test_reliability_figure_options():
    p = _predictions(BY_NAME["multiclass_logits"])
    cal = calibration(p)
    fig = F.reliability_figure(cal, classes=[1, 3], top_label=False)
    lines = [t for t in fig.data if t.type == "scatter"][1:]
    assert [t.legendgroup for t in lines] == ["class-1", "class-3"]
    assert [t.line.color for t in lines] == [F.class_color(1), F.class_color(3)]
    bars = [t for t in fig.data if t.type == "bar"]
    assert [t.legendgroup for t in bars] == ["class-1", "class-3"]  # counts of shown classes
    only_top = F.reliability_figure(cal, classes=[])
    assert [t.legendgroup for t in only_top.data if t.type == "scatter"][1:] == ["top-label"]
    # marker area grows with the bin's count
    size = np.asarray(lines[0].marker.size)
    count = np.asarray(lines[0].customdata)[:, 0]
    assert (np.diff(size[np.argsort(count)]) >= 0).all()
    for bad in ([5], [-1], [0.5]):
        with pytest.raises(InputError, match="expected a class name or index of"):
            F.reliability_figure(cal, classes=bad)
