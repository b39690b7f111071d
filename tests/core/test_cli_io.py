"""The ``evalcore`` command on every input format (CSV, Parquet, an NPY pair, ``--demo``) and
with the loading options (``--label-column``, ``--score-columns``, ``--classes``, ``--split``,
``--model``, ``--verbose``), run in-process. JSON output must equal the engine's on the same
input; bad input must exit 2 with one ``evalcore: error:`` line on stderr and nothing on
stdout."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalcore.cli import main
from _cli import run, run_json, strict_loads
from evalcore.curves import compute_curves
from evalcore.decisions import accuracy, confusion
from evalcore.demos import load_demo
from evalcore.io import MAX_BYTES_ENV, Mapping, load
from evalcore.operating import operating_point
from evalcore.predictions import Predictions

NAMES = ("owl", "cat", "dog", "eel")
N = 300




def as_json(value) -> object:
    return strict_loads(json.dumps(value, allow_nan=False))


# an exception pyarrow swallows in a callback is printed on stderr ("Exception ignored"):
# pytest reports those as warnings, here failures
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")

# --------------------------------------------------------------------------- expected values


def expected_summary(p: Predictions) -> dict:
    result = compute_curves(p).to_dict()
    result["accuracy"] = accuracy(p)
    result["engine"] = "numpy"
    return as_json(result)


def expected_confusion(p: Predictions, threshold: float = 0.5) -> dict:
    thresholds = threshold if p.task == "binary" else [threshold] * len(p.curve_names)
    return as_json({**confusion(p, None, thresholds).to_dict(), "engine": "numpy"})


def expected_threshold(p: Predictions, name: str, objective: str) -> dict:
    return as_json(operating_point(compute_curves(p), name, objective).to_dict())


# --------------------------------------------------------------------------- files


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    y = rng.integers(0, len(NAMES), N)
    y[: len(NAMES)] = np.arange(len(NAMES))
    logits = rng.normal(size=(N, len(NAMES))) + 1.4 * np.eye(len(NAMES))[y]
    scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    split = np.where(np.arange(N) % 3 == 0, "test", "train")
    model = np.where(np.arange(N) % 2 == 0, "small", "large")
    return {"y": y, "scores": scores, "split": split, "model": model}


@pytest.fixture(scope="module")
def files(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("cli_io")
    y, scores = data["y"], data["scores"]
    plain = pd.DataFrame({"label": np.array(NAMES)[y],
                          **{f"prob_{n}": scores[:, j] for j, n in enumerate(NAMES)}})
    out = {"csv": root / "plain.csv", "parquet": root / "plain.parquet"}
    plain.to_csv(out["csv"], index=False)
    plain.to_parquet(out["parquet"], index=False)
    out["labels.npy"], out["scores.npy"] = root / "labels.npy", root / "scores.npy"
    np.save(out["labels.npy"], y)
    np.save(out["scores.npy"], scores)
    grouped = plain.assign(split=data["split"], model=data["model"])
    out["grouped"] = root / "grouped.csv"
    grouped.to_csv(out["grouped"], index=False)
    # a label column nobody would guess, and two sets of scores
    custom = pd.DataFrame({
        "gold": np.array(NAMES)[y],
        **{f"prob_{n}": scores[:, j] for j, n in enumerate(NAMES)},
        **{f"cal_{j}": scores[:, j] ** 2 for j in range(len(NAMES))},
    })
    out["custom"] = root / "custom.csv"
    custom.to_csv(out["custom"], index=False)
    return out


SOURCES = {
    "csv": lambda f: [f["csv"]],
    "parquet": lambda f: [f["parquet"]],
    "npy pair": lambda f: [f["labels.npy"], f["scores.npy"]],
    "demo digits": lambda f: ["--demo", "digits"],
}


def predictions_of(source: str, files) -> Predictions:
    if source == "demo digits":
        return load_demo("digits").select()
    paths = SOURCES[source](files)
    return load(paths if len(paths) > 1 else paths[0]).select()


# --------------------------------------------------------------------------- every format


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_summary_on_every_format(capsys, files, source):
    p = predictions_of(source, files)
    out = run_json(capsys, "summary", *SOURCES[source](files))
    assert out == expected_summary(p)
    assert out["n_samples"] == p.n_samples and out["classes"] == list(p.class_names)


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_confusion_on_every_format(capsys, files, source):
    p = predictions_of(source, files)
    out = run_json(capsys, "confusion", *SOURCES[source](files), "--threshold", "0.3")
    assert out == expected_confusion(p, 0.3)
    assert np.sum(out["matrix"]) == p.n_samples


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_threshold_on_every_format(capsys, files, source):
    p = predictions_of(source, files)
    name = p.class_names[1]
    out = run_json(capsys, "threshold", *SOURCES[source](files), "--class", name,
                   "--objective", "recall>=0.8")
    assert out == expected_threshold(p, name, "recall>=0.8")
    assert out["recall"] >= 0.8


def test_formats_agree(capsys, files):
    csv = run_json(capsys, "summary", files["csv"])
    assert run_json(capsys, "summary", files["parquet"]) == csv
    pair = run_json(capsys, "summary", files["labels.npy"], files["scores.npy"])
    assert pair["classes"] == ["0", "1", "2", "3"]  # an NPY pair has no class names
    assert [c["roc_auc"] for c in pair["per_class"].values()] == [
        csv["per_class"][n]["roc_auc"] for n in NAMES
    ]


# --------------------------------------------------------------------------- options


def test_label_column(capsys, files):
    code, out, err = run(capsys, "summary", files["custom"], "--score-columns",
                         ",".join(f"prob_{n}" for n in NAMES))
    assert code == 2 and "candidates: ['gold'" in err
    mapping = Mapping(label_column="gold", score_columns=tuple(f"prob_{n}" for n in NAMES))
    expected = expected_summary(load(files["custom"], mapping).select())
    out = run_json(capsys, "summary", files["custom"], "--label-column", "gold",
                   "--score-columns", ",".join(f"prob_{n}" for n in NAMES))
    assert out == expected and out["classes"] == list(NAMES)


def test_score_columns_and_classes(capsys, files, data):
    columns = ",".join(f"cal_{j}" for j in range(len(NAMES)))
    out = run_json(capsys, "summary", files["custom"], "--label-column", "gold",
                   "--score-columns", columns, "--classes", ",".join(NAMES))
    calibrated = Predictions.from_arrays(data["y"], data["scores"] ** 2, class_names=NAMES)
    assert out == expected_summary(calibrated)
    assert out["classes"] == list(NAMES)


def test_classes_reorder(capsys, files, data):
    order = ("eel", "dog", "cat", "owl")
    out = run_json(capsys, "summary", files["csv"], "--classes", " eel, dog ,cat,owl")
    p = Predictions.from_arrays(np.array(NAMES)[data["y"]], data["scores"][:, ::-1],
                                class_names=order)
    assert out == expected_summary(p)
    assert out["classes"] == list(order)


@pytest.mark.parametrize(
    "options, split, model",
    [
        ([], "test", "small"),  # the defaults: the test split, the first model
        (["--split", "train"], "train", "small"),
        (["--model", "large"], "test", "large"),
        (["--split", "train", "--model", "large"], "train", "large"),
    ],
)
def test_split_and_model(capsys, files, data, options, split, model):
    out = run_json(capsys, "summary", files["grouped"], *options)
    mask = (data["split"] == split) & (data["model"] == model)
    p = Predictions.from_arrays(data["y"][mask], data["scores"][mask], class_names=NAMES)
    assert out == expected_summary(p)
    assert out["n_samples"] == mask.sum()
    confusion_out = run_json(capsys, "confusion", files["grouped"], *options)
    assert np.sum(confusion_out["matrix"]) == mask.sum()


def test_split_on_a_demo(capsys):
    out = run_json(capsys, "summary", "--demo", "digits", "--split", "train")
    assert out == expected_summary(load_demo("digits").select("train"))


def test_verbose_prints_one_detection_line(capsys, files):
    code, out, err = run(capsys, "summary", files["csv"], "--json", "--verbose")
    assert code == 0 and strict_loads(out)["classes"] == list(NAMES)
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("evalcore: ") and not line.startswith("evalcore: error")
    for part in (str(files["csv"]), "CSV", f"{N} rows", "label", "multiclass", "4 classes",
                 "probabilities"):
        assert part in line, (part, line)
    # a selection is said on a second line
    code, _, err = run(capsys, "summary", files["grouped"], "-v", "--split", "train")
    lines = err.splitlines()
    assert code == 0 and len(lines) == 2, err
    assert "splits: train, test" in lines[0] and "models: small, large" in lines[0]
    assert lines[1].startswith("evalcore: evaluating ") and "'train'" in lines[1]
    # and text output is unchanged by it
    code, out, err = run(capsys, "confusion", files["parquet"], "--verbose")
    assert code == 0 and "PARQUET" in err and "rule:" in out


def test_max_size_accepts_a_large_enough_limit(capsys, files):
    size = files["csv"].stat().st_size
    assert run_json(capsys, "summary", files["csv"], "--max-size", str(size))["n_samples"] == N


# --------------------------------------------------------------------------- bad input


class Unpickled:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


GOOD = "label,prob_a,prob_b\na,0.2,0.8\nb,0.6,0.4\n"


@pytest.fixture(scope="module")
def bad(tmp_path_factory, files):
    root = tmp_path_factory.mktemp("cli_io_bad")
    out: dict[str, Path] = {}

    def write(name: str, content: str | bytes) -> None:
        out[name] = root / name
        if isinstance(content, str):
            content = content.encode()
        out[name].write_bytes(content)

    write("empty.csv", "")
    write("header.csv", "label,prob_a,prob_b\n")
    write("word.csv", GOOD + "a,0.5,half\n")
    write("nan.csv", GOOD + "a,nan,0.5\n")
    write("inf.csv", GOOD + "a,inf,0.5\n")
    write("long.csv", GOOD + "a,0.5,0.5,0.5\n")
    write("short.csv", GOOD + "a,0.5\n")
    write("short_latin1.csv", GOOD.encode() + "caf\xe9,0.5\n".encode("latin-1"))
    write("dup.csv", "label,prob_a,prob_a\na,0.2,0.8\nb,0.6,0.4\n")
    write("unknown.csv", GOOD + "c,0.5,0.5\n")
    write("one_class.csv", "label,score\na,0.2\na,0.6\n")
    write("nolabel.csv", "truth_value,prob_a,prob_b\na,0.2,0.8\n")
    write("binary.csv", b"\x00\x01\x02\x03PK\x05\x06")
    parquet = files["parquet"].read_bytes()
    write("truncated.parquet", parquet[: len(parquet) // 2])
    write("text.parquet", GOOD)
    out["marker"] = root / "UNPICKLED"
    objects = np.empty(2, dtype=object)
    objects[:] = [Unpickled(str(out["marker"])), 1]
    out["objects.npy"] = root / "objects.npy"
    np.save(out["objects.npy"], objects, allow_pickle=True)
    out["objects.npz"] = root / "objects.npz"
    np.savez(out["objects.npz"], y_true=objects, y_score=np.array([0.2, 0.7]))
    out["ok.npz"] = root / "ok.npz"
    np.savez(out["ok.npz"], y_true=np.arange(50) % 2, y_score=np.linspace(0, 1, 50))
    write("truncated.npz", out["ok.npz"].read_bytes()[:-40])
    write("data.txt", GOOD)
    out["missing"] = root / "missing.csv"
    return out


BAD_CASES = {
    "empty file": ["summary", "{empty.csv}"],
    "header only": ["summary", "{header.csv}"],
    "non-numeric score": ["summary", "{word.csv}"],
    "nan score": ["confusion", "{nan.csv}"],
    "inf score": ["summary", "{inf.csv}"],
    "too many fields": ["summary", "{long.csv}"],
    "too few fields": ["summary", "{short.csv}"],
    "too few fields, latin-1": ["summary", "{short_latin1.csv}"],
    "duplicate columns": ["summary", "{dup.csv}"],
    "unknown label": ["summary", "{unknown.csv}"],
    "one class": ["summary", "{one_class.csv}"],
    "no label column": ["summary", "{nolabel.csv}"],
    "binary file named .csv": ["summary", "{binary.csv}"],
    "truncated parquet": ["summary", "{truncated.parquet}"],
    "text named .parquet": ["summary", "{text.parquet}"],
    "npy of objects": ["summary", "{objects.npy}", "{objects.npy}"],
    "npz of objects": ["summary", "{objects.npz}"],
    "truncated npz": ["summary", "{truncated.npz}"],
    "over --max-size": ["summary", "{csv}", "--max-size", "100", "--engine", "numpy"],
    "bad --max-size": ["summary", "{csv}", "--max-size", "lots"],
    "unsupported extension": ["summary", "{data.txt}"],
    "missing file": ["summary", "{missing}"],
    "one npy": ["summary", "{labels.npy}"],
    "npy with a csv": ["summary", "{labels.npy}", "{csv}"],
    "three files": ["summary", "{labels.npy}", "{scores.npy}", "{scores.npy}"],
    "no file": ["summary"],
    "file and demo": ["summary", "{csv}", "--demo", "digits"],
    "unknown demo": ["summary", "--demo", "nope"],
    "unknown split": ["summary", "{grouped}", "--split", "holdout"],
    "unknown model": ["confusion", "{grouped}", "--model", "huge"],
    "split without a split column": ["summary", "{csv}", "--split", "test"],
    "unknown label column": ["summary", "{csv}", "--label-column", "gold"],
    "unknown score column": ["summary", "{csv}", "--score-columns", "prob_owl,prob_bat"],
    "too few --classes": ["summary", "{csv}", "--classes", "a,b"],
    "renamed --classes for named labels": ["summary", "{csv}", "--classes", "a,b,c,d"],
    "bad --task": ["summary", "{csv}", "--task", "ranking"],
    "bad --score-kind": ["summary", "{csv}", "--score-kind", "odds"],
    "probabilities that are not": ["summary", "{csv}", "--score-kind", "probability",
                                   "--score-columns", "cal_0,cal_1"],
    "class not in a demo": ["threshold", "--demo", "digits", "--class", "ten", "--objective", "f1"],
}


def expand(argv: list[str], files, bad) -> list[str]:
    """``{name}`` -> the path of that file."""
    paths = {**files, **bad}
    return [re.sub(r"\{([^}]+)\}", lambda m: str(paths[m.group(1)]), a) for a in argv]


@pytest.mark.parametrize("case", sorted(BAD_CASES))
@pytest.mark.parametrize("flags", [[], ["--json"], ["--json", "--verbose"]], ids=["text", "json", "verbose"])
def test_bad_input_exits_2_with_one_line(capsys, files, bad, case, flags):
    code = main(expand(BAD_CASES[case], files, bad) + flags)  # must not raise: no traceback
    captured = capsys.readouterr()
    assert code == 2, (case, code, captured.err)
    assert captured.out == ""
    lines = captured.err.splitlines()
    if "--verbose" in flags:  # what was detected comes first when the file itself was good
        assert len(lines) <= 3, captured.err
        assert all(line.startswith("evalcore: ") for line in lines[:-1]), captured.err
        assert not any(line.startswith("evalcore: error") for line in lines[:-1]), captured.err
        lines = lines[-1:]
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("evalcore: error:"), lines[0]
    assert "Traceback" not in captured.err and "Exception ignored" not in captured.err
    assert not bad["marker"].exists(), "an object array was unpickled"


@pytest.mark.parametrize(
    "case, fragments",
    [
        ("non-numeric score", ["word.csv", "score column 'prob_b'", "row 3 (line 4)", "'half'"]),
        ("too many fields", ["long.csv", "line 4 has 4 fields, expected 3"]),
        ("too few fields, latin-1", ["short_latin1.csv", "line 4 has 2 fields, expected 3"]),
        ("no label column", ["nolabel.csv", "candidates: ['truth_value']", "--label-column"]),
        ("over --max-size", ["plain.csv", "over the size limit of 100 bytes"]),
        ("unknown split", ["no split 'holdout'", "['train', 'test']"]),
        ("unknown label column", ["plain.csv", "no label column 'gold'"]),
        ("npy of objects", ["objects.npy", "unpickling"]),
    ],
)
def test_bad_input_message_names_the_place(capsys, files, bad, case, fragments):
    code, out, err = run(capsys, *expand(BAD_CASES[case], files, bad))
    assert code == 2 and out == ""
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_size_limit_from_the_environment(capsys, files, monkeypatch):
    monkeypatch.setenv(MAX_BYTES_ENV, "1k")
    code, out, err = run(capsys, "summary", files["csv"], "--engine", "numpy")
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith("evalcore: error: ") and "over the size limit of 1.0 KiB" in err
    size = files["csv"].stat().st_size
    assert run_json(capsys, "summary", files["csv"], "--max-size", str(size))["n_samples"] == N
    monkeypatch.setenv(MAX_BYTES_ENV, "nonsense")
    code, out, err = run(capsys, "summary", files["csv"], "--engine", "numpy")
    assert code == 2 and out == "" and err.startswith(f"evalcore: error: {MAX_BYTES_ENV}: ")


def test_a_file_over_the_size_limit_goes_to_duckdb(capsys, files):
    # --engine auto: within --max-size in memory, above it through DuckDB: the same numbers
    in_memory = run_json(capsys, "summary", files["csv"])
    out = run_json(capsys, "summary", files["csv"], "--max-size", "100")
    assert in_memory["engine"] == "numpy" and out["engine"] == "duckdb"
    assert _close(out, in_memory)


def _close(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(k == "engine" or _close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-12
    return a == b
