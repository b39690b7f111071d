"""Compare page: two models of a file's model column (paired DeLong, paired bootstrap of AP)
and thresholds of one split applied to another."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalcore import compute_curves, demos
from evalcore.io import NamedBytes, load
from evalcore.operating import transfer_thresholds
from evalcore.stats import compare_auc
from tests.app.conftest import assert_clean, open_app, upload


def two_models_csv() -> bytes:
    frame = pd.read_csv(demos.demo_path("digits"))
    rng = np.random.default_rng(0)
    noisy = frame.copy()
    cols = [c for c in frame if c.startswith("prob_")]
    x = noisy[cols].to_numpy() * np.exp(rng.normal(scale=0.8, size=(len(noisy), len(cols))))
    noisy[cols] = x / x.sum(axis=1, keepdims=True)
    frame["model"], noisy["model"] = "logreg", "noisy"
    return pd.concat([frame, noisy]).to_csv(index=False).encode()


def test_two_models_of_a_file_are_compared_with_paired_delong():
    data = two_models_csv()
    at = upload(open_app(), "two.csv", data)
    at.switch_page("views/compare.py").run()
    assert_clean(at)
    whole = load(NamedBytes("two.csv", data)).predictions
    a, b = (whole.select(split="test", model=m) for m in ("logreg", "noisy"))
    table = at.dataframe[0].value
    expected = [compare_auc(a, b, c).p_value for c in range(10)]
    assert table["p-value (paired DeLong)"].tolist() == pytest.approx(expected, abs=1e-15)
    at.button(key="cmp.boot").click().run()
    assert_clean(at)
    assert at.dataframe[0].value["AP difference 95% CI"].str.startswith("[").all()


def test_thresholds_chosen_on_validation_applied_to_test():
    at = open_app("overview")
    at.switch_page("views/compare.py").run()
    assert_clean(at)
    whole = demos.load_demo("digits").predictions
    fit = compute_curves(whole.select(split="validation"))
    apply = compute_curves(whole.select(split="test"))
    expected = transfer_thresholds(fit, apply, "f1")
    frame = at.dataframe[0].value
    assert frame["F1 (test)"].to_numpy() == pytest.approx(expected.apply.f1)
    assert frame["F1 (validation)"].to_numpy() == pytest.approx(expected.fit.f1)
