"""The ``evalcore`` command: summary, confusion, threshold, optimise, apply, calibration,
compare, report, predict. JSON with ``--json``.

Every command that counts a decision builds it in one place (:func:`_decision`) from the same
flags: ``--rule``, ``--threshold``, ``--class-threshold NAME=T`` (repeatable; for priority
the order of the flags is the priority order), ``--class-weight NAME=W``, ``--cost-matrix``
or ``--thresholds t.json``.

Bad input: exit status 2, one line on stderr, nothing on stdout, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from evalcore import demos
from evalcore.counts import fmt, fmt_interval
from evalcore.decisions import RULES, Decision
from evalcore.deploy import load_spec, save_spec, spec_from_confusion
from evalcore.engines import ENGINES, InMemory, choose_engine
from evalcore.errors import InputError
from evalcore.io import Mapping, load, parse_size, read_cost_matrix
from evalcore.operating import BINNED_NOTE, OBJECTIVE_HELP, operating_point
from evalcore.optimise import CONSTRAINT_HELP, optimise, score
from evalcore.predictions import SCORE_KINDS, TASKS, Predictions
from evalcore.scorestats import DEFAULT_BUDGET


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + message
        raise InputError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="evalcore", description="Evaluate a classifier's scores.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument(
            "paths", nargs="*", metavar="PATH",
            help="prediction file (.csv, .tsv, .parquet, .npz), or two .npy files: labels, scores",
        )
        sub.add_argument("--demo", choices=demos.NAMES, help="a built-in demo instead of a file")
        sub.add_argument("--label-column", help="the column holding the true labels")
        sub.add_argument("--score-columns", help="comma-separated score columns, one per class")
        sub.add_argument("--classes", help="comma-separated class names, in score-column order "
                                           "(one score column: NEGATIVE,POSITIVE)")
        sub.add_argument("--ignore-columns", help="comma-separated columns that are neither "
                                                  "labels nor scores")
        sub.add_argument("--task", choices=TASKS, help="override the detected task")
        sub.add_argument("--score-kind", choices=SCORE_KINDS, help="override the detection")
        sub.add_argument("--split", help="rows of this split only (default: test, if present)")
        sub.add_argument("--model", help="rows of this model only (default: the first)")
        sub.add_argument("--max-size", type=parse_size, help="file size limit (default 1G)")
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.add_argument("-v", "--verbose", action="store_true", help="say what was detected")
        return sub

    def engine_flags(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--engine", choices=ENGINES, default="auto",
                         help="numpy (in memory), duckdb (larger than memory: Parquet files, "
                              "a glob or a directory of them, or a CSV), spark (the same, on a "
                              "Spark cluster or local[*]), or auto: numpy when the file is "
                              "within --max-size, duckdb above (default)")
        sub.add_argument("--spark-master", metavar="URL",
                         help="spark: the master (default local[*]; SPARK_REMOTE for Spark "
                              "Connect)")
        sub.add_argument("--memory-limit", type=parse_size, metavar="SIZE",
                         help="duckdb: its memory limit, e.g. 500M, 4G (default: half the "
                              "machine's memory); it spills to a temporary directory beyond")
        sub.add_argument("--budget", type=int, default=DEFAULT_BUDGET, metavar="N",
                         help="duckdb, spark: distinct scores a curve keeps exactly "
                              "(default 2^20); beyond, they are binned with bounds (duckdb: "
                              "ROC AUC and AP stay exact)")

    sub = command("summary", "Per-class ROC AUC and average precision, their averages, accuracy.")
    engine_flags(sub)
    sub.add_argument("--ci", action="store_true",
                     help="confidence intervals: DeLong for ROC AUC, bootstrap for the rest")
    sub.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    sub.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    sub.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    def decision_flags(sub: argparse.ArgumentParser, save: bool = True) -> None:
        sub.add_argument("--rule", choices=RULES, help="decision rule (default: by task)")
        sub.add_argument("--threshold", type=float, default=0.5,
                         help="threshold for all classes (abstain, binary: the threshold)")
        sub.add_argument(
            "--class-threshold", action="append", default=[], metavar="NAME=T",
            help="threshold of one class (repeatable; priority: in priority order)",
        )
        sub.add_argument("--class-weight", action="append", default=[], metavar="NAME=W",
                         help="weighted rule: the weight of one class (others weigh 1)")
        sub.add_argument("--cost-matrix", metavar="COSTS.csv",
                         help="cost rule: rows true classes, columns predicted (optionally "
                              "'abstained' last), the first column naming the true class")
        sub.add_argument("--thresholds", metavar="SPEC.json",
                         help="apply a thresholds file (from the app or --save-thresholds)")
        if save:
            sub.add_argument("--save-thresholds", metavar="SPEC.json",
                             help="write the decision as a thresholds file that deploys")

    sub = command("confusion", "Confusion matrix and per-class metrics under a decision rule.")
    decision_flags(sub)
    engine_flags(sub)
    sub.add_argument("--zero-division", choices=("0", "1", "none"), default="0",
                     help="multilabel F1 of a sample or label with no true and no predicted "
                          "label: 0 (scikit-learn's default), 1, or none (left out)")
    sub = command("threshold", "The threshold of one class that meets an objective: on its "
                               "one-vs-rest curve, or under --rule for the decision's own counts.")
    sub.add_argument("--class", dest="class_name", required=True, help="class name")
    sub.add_argument("--objective", required=True, help=OBJECTIVE_HELP)
    decision_flags(sub)
    engine_flags(sub)

    sub = command("optimise", "Every class' threshold or weight at once: maximise macro-F1 or "
                              "accuracy, or minimise cost, subject to constraints.")
    decision_flags(sub)
    goal = sub.add_mutually_exclusive_group(required=True)
    goal.add_argument("--maximise", choices=("macro-f1", "accuracy"), help="objective")
    goal.add_argument("--minimise", choices=("cost",), help="objective (needs --cost-matrix)")
    sub.add_argument("--subject-to", action="append", default=[], metavar="CONSTRAINT",
                     help=f"{CONSTRAINT_HELP} (repeatable)")
    sub.add_argument("--tune-split", help="choose the thresholds on this split (default: "
                                          "validation when the file has it)")

    help = "Apply a thresholds file to a file of scores (no labels needed)."
    sub = commands.add_parser("apply", help=help, description=help)
    sub.add_argument("scores_path", metavar="SCORES",
                     help="scores: .csv/.tsv/.parquet (prob_/logit_/class-named columns, "
                          "optional id and label), .npz (y_score, optional id) or .npy")
    sub.add_argument("--thresholds", metavar="SPEC.json", required=True)
    sub.add_argument("-o", "--output", required=True, help="predictions file (.csv or .parquet)")
    sub.add_argument("--max-size", type=parse_size, help="file size limit (default 1G)")
    sub.add_argument("--json", action="store_true", help="print JSON")

    sub = command("calibration", "Reliability curves, ECE, MCE and Brier score.")
    sub.add_argument("--bins", type=int, default=10, help="number of bins (default 10)")
    sub.add_argument("--strategy", choices=("uniform", "quantile"), default="uniform",
                     help="equal-width (uniform) or equal-mass (quantile) bins")
    engine_flags(sub)

    sub = command("compare", "Two models on the same samples: paired DeLong test of each "
                             "class' ROC AUC, paired bootstrap of the AP difference.")
    sub.add_argument("--models", help="two models of the file's model column: A,B "
                                      "(default: the first two)")
    sub.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    sub.add_argument("--seed", type=int, default=0, help="bootstrap seed")

    sub = command("report", "A self-contained HTML report (or its numbers with --json).")
    sub.add_argument("-o", "--output", help="the HTML file to write (not needed with --json)")
    decision_flags(sub, save=False)
    engine_flags(sub)
    sub.add_argument("--ci", action="store_true", help="add 95%% confidence intervals")
    sub.add_argument("--seed", type=int, default=0, help="bootstrap seed (with --ci)")

    help = "Run a Keras model on data and write a prediction file the other commands read."
    sub = commands.add_parser("predict", help=help, description=help)
    sub.add_argument("model_path", metavar="MODEL", help="Keras model (.keras or .h5)")
    sub.add_argument("data_path", metavar="DATA", help="data: .npz (x, y) or a .csv/.parquet table")
    sub.add_argument("-o", "--output", required=True, help="output file (.parquet or .csv)")
    sub.add_argument("--label-column", help="the label column of a data table")
    sub.add_argument("--layer", help="evaluate this layer's output instead of the last")
    sub.add_argument("--batch-size", type=int, default=256)
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _mapping(args) -> Mapping:
    """The detection overrides given on the command line."""
    def names(text: str | None) -> tuple[str, ...] | None:
        return None if text is None else tuple(v.strip() for v in text.split(","))

    return Mapping(
        label_column=args.label_column, score_columns=names(args.score_columns),
        class_names=names(args.classes), task=args.task, score_kind=args.score_kind,
        ignore_columns=names(args.ignore_columns),
    )


def _load(args):
    """The Predictions the arguments name (file or demo, overrides, split, model)."""
    mapping = _mapping(args)
    loaded = _loaded(args, mapping)
    predictions = loaded.select(args.split, args.model)
    if args.verbose:
        print(f"evalcore: {loaded.layout.describe(loaded.predictions)}", file=sys.stderr)
        if predictions is not loaded.predictions:
            print(f"evalcore: evaluating {_selection(predictions)}", file=sys.stderr)
    return predictions


def _dataset(args):
    """The rows the arguments name, in memory (numpy) or behind the duckdb or spark engine
    (selected split and model); a context manager."""
    engine = choose_engine(args.engine, args.paths, args.max_size) if args.paths else "numpy"
    if engine == "numpy":
        return InMemory(_load(args))
    if args.demo:
        raise InputError(f"--engine {engine} reads files, not demos")
    if engine == "spark":
        from evalcore.engines.spark import SparkDataset

        data = SparkDataset(args.paths, _mapping(args), budget=args.budget,
                            master=args.spark_master)
    else:
        from evalcore.engines.duck import DuckDataset

        data = DuckDataset(args.paths, _mapping(args), memory_limit=args.memory_limit,
                           budget=args.budget)
    try:
        data.select(args.split, args.model)
        if args.verbose:
            print(f"evalcore: {data.describe()}", file=sys.stderr)
    except BaseException:
        data.close()
        raise
    return data


def _in_memory(data, what: str):
    """The rows in memory, for what needs every row at once; else one line saying why."""
    if data.predictions is None:
        raise InputError(f"{what} needs every row in memory: use --engine numpy (within "
                         "--max-size)")
    return data.predictions


def _loaded(args, mapping: Mapping):
    """The whole file or demo the arguments name."""
    if args.demo and args.paths:
        raise InputError("give a file or --demo, not both")
    if args.demo:
        return demos.load_demo(args.demo, mapping)
    if not args.paths:
        raise InputError("expected a prediction file (or --demo NAME)")
    return load(args.paths, mapping, max_bytes=args.max_size)


def _selection(p) -> str:
    parts = [f"{p.n_samples} rows"]
    if p.models:
        parts.append(f"model {p.models[0]!r}" if len(p.models) == 1 else f"models {list(p.models)}")
    if p.splits:
        parts.append(f"split {p.splits[0]!r}" if len(p.splits) == 1 else f"splits {list(p.splits)}")
    return ", ".join(parts)


def _summary(args) -> tuple[dict, str]:
    with _dataset(args) as data:
        return _summary_of(args, data)


def _summary_of(args, data) -> tuple[dict, str]:
    predictions = data.info
    curves = data.curves()
    result = curves.to_dict()
    result["accuracy"] = data.confusion(Decision.of(data.sample())).accuracy
    result["engine"] = data.engine
    intervals = None
    if args.ci:
        from evalcore import stats

        rows = _in_memory(data, "--ci (bootstrap intervals)")
        intervals = stats.summary_intervals(rows, curves, level=args.level,
                                            n_resamples=args.resamples,
                                            random_state=args.seed).to_dict()
        for name, row in intervals["per_class"].items():
            result["per_class"][name]["roc_auc_ci"] = row["roc_auc_ci"]
            result["per_class"][name]["average_precision_ci"] = row["average_precision_ci"]
        result["roc_auc_ci"] = intervals["roc_auc_ci"]
        result["accuracy_ci"] = intervals["accuracy_ci"]
        result["intervals"] = {k: intervals[k] for k in ("level", "n_resamples", "methods")}
    lines = [
        f"{predictions.task}, {predictions.score_kind}, {predictions.n_samples} samples",
        f"{'class':<20} {'support':>8} {'prevalence':>10} {'ROC AUC':>8} {'AP':>8}",
    ]
    for s in curves.classes:
        lines.append(
            f"{s.name:<20} {s.support:>8} {s.prevalence:>10.4f} "
            f"{fmt(s.roc_auc):>8} {fmt(s.average_precision):>8}{_bounds(s)}"
        )
    for avg in ("micro", "macro", "weighted"):
        lines.append(
            f"{avg:<20} {'':>8} {'':>10} {fmt(getattr(curves.roc_auc, avg)):>8} "
            f"{fmt(getattr(curves.average_precision, avg)):>8}"
        )
    if "macro_interpolated" in result["roc_auc"]:
        lines.append(f"{'macro, area under the averaged curve':<40} "
                     f"{fmt(result['roc_auc']['macro_interpolated']):>8}"
                     "  (macro above: the mean of the per-class AUCs)")
    if curves.roc_auc.ovo_macro is not None:
        lines.append(f"{'ovo macro (Hand & Till)':<40} {fmt(curves.roc_auc.ovo_macro):>8}")
    lines.append(f"accuracy: {fmt(result['accuracy'])}")
    if not curves.exact:
        lines.append(f"thresholds and plots: {result['binned']}"
                     + ("" if all(s.exact for s in curves.classes) else
                        "; ROC AUC and AP within the +- bounds shown"))
    if intervals is not None:
        lines.append(f"{args.level:.0%} intervals: ROC AUC by DeLong, the rest by bootstrap")
        for name, row in intervals["per_class"].items():
            lines.append(f"{name:<20} ROC AUC {fmt_interval(row['roc_auc_ci'])}  AP {fmt_interval(row['average_precision_ci'])}")
        lines.append(f"accuracy {fmt_interval(intervals['accuracy_ci'])}")
    return result, "\n".join(lines)


def _pairs(items: list[str], flag: str, names: tuple[str, ...]) -> list[tuple[str, float]]:
    """``NAME=VALUE`` flags as (class, number), in the order given."""
    out = []
    for item in items:
        name, sep, value = item.rpartition("=")
        if not sep or name not in names:
            raise InputError(f"{flag} expects NAME=VALUE with NAME in {list(names)}, got {item!r}")
        try:
            out.append((name, float(value)))
        except ValueError:
            raise InputError(f"{flag} {item!r}: {value!r} is not a number") from None
    return out


def _decision(args, predictions) -> Decision:
    """The decision the flags describe, on ``predictions``' classes (the one place)."""
    p = predictions
    spec_file = getattr(args, "thresholds", None)
    if spec_file:
        if args.rule or args.class_threshold or args.class_weight or args.cost_matrix:
            raise InputError("--thresholds sets the decision: drop --rule, --class-threshold, "
                             "--class-weight and --cost-matrix")
        return load_spec(spec_file).check(p)
    rule = args.rule or Decision.of(p).rule
    names = p.curve_names
    thresholds = _pairs(args.class_threshold, "--class-threshold", names)
    weights = _pairs(args.class_weight, "--class-weight", p.class_names)
    if thresholds and rule not in ("per-class", "priority", "multilabel"):
        raise InputError(f"the {rule} rule takes one --threshold, not --class-threshold"
                         if rule in ("abstain", "binary") else
                         f"--class-threshold applies to the per-class, priority and multilabel "
                         f"rules, not {rule}")
    if weights and rule != "weighted":
        raise InputError("--class-weight applies to --rule weighted")
    if args.cost_matrix and rule != "cost" and getattr(args, "minimise", None) != "cost":
        raise InputError("--cost-matrix applies to --rule cost (or optimise --minimise cost)")
    if rule == "priority":
        return Decision.of(p, rule, dict(thresholds))
    if rule == "weighted":
        return Decision.of(p, rule, weights=dict(weights))
    if rule == "cost":
        if not args.cost_matrix:
            raise InputError("--rule cost needs --cost-matrix COSTS.csv")
        return Decision.of(p, rule, costs=read_cost_matrix(args.cost_matrix, p.class_names))
    values = [args.threshold] * len(names)
    for name, t in thresholds:
        values[names.index(name)] = t
    single = rule in ("abstain", "binary")
    return Decision.of(p, rule, values[0] if single else values)


def _save(args, data, decision: Decision, extra: dict | None = None, result=None) -> None:
    """--save-thresholds: the decision and what it gave on these rows (``data``: the rows in
    memory or an engine's dataset; ``result``: its confusion, when counted already)."""
    if getattr(args, "save_thresholds", None):
        about = {"file": " ".join(map(str, args.paths)) or f"demo {args.demo}", **(extra or {})}
        if isinstance(data, Predictions):
            data = InMemory(data)
        result = result or data.confusion(decision)
        save_spec(spec_from_confusion(data.info, result, about), args.save_thresholds)


def _confusion(args) -> tuple[dict, str]:
    with _dataset(args) as data:
        decision = _decision(args, data.sample())
        zero_division = None if args.zero_division == "none" else float(args.zero_division)
        result = data.confusion(decision, zero_division=zero_division)
        _save(args, data, decision, result=result)
    out = result.to_dict()
    out["engine"] = data.engine
    lines = [f"rule: {decision.describe()}"]
    if result.matrix is not None:
        width = max(len(n) for n in result.predicted_labels) + 2
        lines.append(" " * width + "".join(f"{n:>{width}}" for n in result.predicted_labels))
        for name, row in zip(result.labels, result.matrix):
            lines.append(f"{name:<{width}}" + "".join(f"{v:>{width}}" for v in row))
    lines.append(f"{'class':<20} {'tp':>7} {'fp':>7} {'fn':>7} {'precision':>9} {'recall':>7} {'f1':>7}")
    for i, name in enumerate(result.counts.names):
        row = result.counts.row(i)
        lines.append(
            f"{name:<20} {row['tp']:>7} {row['fp']:>7} {row['fn']:>7} {fmt(row['precision']):>9} "
            f"{fmt(row['recall']):>7} {fmt(row['f1']):>7}"
        )
    for avg, rates in (result.counts.averages().items() if len(result.counts.names) > 1 else ()):
        lines.append(f"{avg:<20} {'':>7} {'':>7} {'':>7} "
                     + " ".join(f"{fmt(v):>{w}}" for v, w in zip(rates, (9, 7, 7))))
    lines.append(f"coverage: {fmt(result.coverage)}  accuracy: {fmt(result.accuracy)}")
    if result.multilabel is not None:
        m = result.multilabel.to_dict()
        lines.append("  ".join(f"{k}: {fmt(m[k])}" for k in (
            "subset_accuracy", "hamming_loss", "binary_accuracy", "f1_micro", "f1_macro",
            "f1_samples")))
        lines.append(m["f1_convention"])
    return out, "\n".join(lines)


def _threshold(args) -> tuple[dict, str]:
    as_decided = args.rule or args.thresholds or args.class_threshold or args.class_weight
    with _dataset(args) as data:
        if as_decided:
            predictions = _in_memory(data, "a threshold under --rule (a sweep of the "
                                           "decision's own counts)")
            decision = _decision(args, predictions)
            point = operating_point(predictions, args.class_name, args.objective,
                                    decision=decision)
            if point.decision is not None:
                _save(args, predictions, point.decision)
        else:
            point = operating_point(data.curves(), args.class_name, args.objective)
    out = point.to_dict()
    shown = {k: v for k, v in out.items() if k != "decision" and v is not None}
    shown.pop("binned", None)
    text = "  ".join(f"{k}: {fmt(v) if isinstance(v, float) else v}" for k, v in shown.items())
    if point.binned:
        text += f"\n{BINNED_NOTE}"
    if point.decision is not None:
        text += f"\ndecision: {point.decision.describe()}"
    return out, text


def _optimise(args) -> tuple[dict, str]:
    mapping = _mapping(args)
    loaded = _loaded(args, mapping)
    splits = loaded.predictions.splits
    report = loaded.select(args.split, args.model)
    tune_split = args.tune_split or next(
        (s for s in ("validation", "val", "valid", "dev") if s in splits), None)
    tune = loaded.select(tune_split, args.model) if tune_split else report
    objective = args.maximise or args.minimise
    costs = read_cost_matrix(args.cost_matrix, tune.class_names) if args.cost_matrix else None
    start = _decision(args, tune)

    def progress(done: int, total: int) -> None:
        if not args.json:
            print(f"\roptimising {done}/{total}", end="" if done < total else "\n",
                  file=sys.stderr)

    result = optimise(tune, start, objective, costs=costs, constraints=tuple(args.subject_to),
                      progress=progress)
    out = result.to_dict()
    out["tuned_on"] = {"split": tune_split or args.split, "n_samples": tune.n_samples}
    lines = [f"{objective} on {_rows(tune_split or args.split, tune)}: "
             f"{fmt(out['before'])} -> {fmt(out['after'])}"]
    if tune is not report:
        before = score(report, start, objective, costs=costs, constraints=result.constraints)
        after = score(report, result.decision, objective, costs=costs,
                      constraints=result.constraints)
        out["reported_on"] = {
            "split": report.splits[0] if len(report.splits) == 1 else args.split,
            "n_samples": report.n_samples, "before": before.objective, "after": after.objective,
            "constraints": [{"constraint": c.text, "before": b, "after": a}
                            for c, b, a in zip(result.constraints, before.constraints,
                                               after.constraints)],
        }
        lines.append(f"{objective} on {_rows(out['reported_on']['split'], report)}: "
                     f"{fmt(before.objective)} -> {fmt(after.objective)}")
    else:
        out["reported_on"] = None
        out["note"] = ("tuned and reported on the same rows: expect the numbers to be optimistic; "
                       "give the file a validation split (or --tune-split)")
        lines.append(f"note: {out['note']}")
    for row in out["constraints"]:
        lines.append(f"{row['constraint']}: {fmt(row['before'])} -> {fmt(row['after'])} "
                     f"({'met' if row['met'] else 'NOT met'})")
    lines.append(f"decision: {result.decision.describe()}")
    if not result.feasible:
        lines.append("no decision of this rule meets every constraint; the closest is shown")
    if getattr(args, "save_thresholds", None):
        _save(args, tune, result.decision, {"tuned_on": tune_split, "objective": objective,
                                            "constraints": list(args.subject_to)})
    return out, "\n".join(lines)


def _rows(split, p) -> str:
    return f"{p.n_samples} rows" + (f" of split {split!r}" if split else "")


def _apply(args) -> tuple[dict, str]:
    from evalcore.deploy import apply_file

    spec = load_spec(args.thresholds)
    frame = apply_file(args.scores_path, spec, args.output, max_bytes=args.max_size)
    counts = frame["predicted"].value_counts().to_dict()
    out = {"output": args.output, "n_samples": len(frame), "rule": spec.rule,
           "columns": list(frame.columns), "predicted": {str(k): int(v) for k, v in counts.items()}}
    return out, f"wrote {len(frame)} rows to {args.output} (rule {spec.decision.describe()})"


def _predict(args) -> tuple[dict, str]:
    from evalcore import models
    from evalcore.io import write_predictions

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            width = 30
            bar = "#" * (width * done // max(total, 1))
            print(f"\rpredicting [{bar:<{width}}] {done}/{total}", end="", file=sys.stderr)
            if done >= total:
                print(file=sys.stderr)

    result = models.predict_raw(
        args.model_path, args.data_path, label_column=args.label_column, layer=args.layer,
        batch_size=args.batch_size, progress=progress,
    )
    write_predictions(result.predictions, args.output, raw_scores=result.raw_scores)
    out = {"output": args.output, **result.predictions.to_dict()}
    return out, f"wrote {result.predictions.n_samples} rows to {args.output}"


def _calibration(args) -> tuple[dict, str]:
    with _dataset(args) as data:
        cal = data.calibration(bins=args.bins, strategy=args.strategy)
    out = cal.to_dict()
    out["engine"] = data.engine
    lines = [f"{cal.strategy} bins: {cal.bins}; Brier {fmt(out['brier'])}; ECE top-label "
             f"{fmt(out['ece_top_label'])}, class-wise {fmt(out['ece_classwise'])}; MCE "
             f"top-label {fmt(out['mce_top_label'])}",
             f"{'class':<20} {'ECE':>8} {'MCE':>8} {'Brier':>8}"]
    for name, row in out["per_class"].items():
        lines.append(f"{name:<20} {fmt(row['ece']):>8} {fmt(row['mce']):>8} {fmt(row['brier']):>8}")
    return out, "\n".join(lines)


def _compare(args) -> tuple[dict, str]:
    from evalcore import stats

    paths = args.paths
    if len(paths) == 2 and not args.models:
        a = _load_one(args, paths[0])
        b = _load_one(args, paths[1])
        labels = (str(paths[0]), str(paths[1]))
    else:
        if args.demo:
            raise InputError("compare needs two prediction files, or one with a model column")
        loaded = load(paths, _mapping(args), max_bytes=args.max_size)
        models = loaded.predictions.models
        chosen = tuple(m.strip() for m in args.models.split(",")) if args.models else models[:2]
        if len(chosen) != 2:
            raise InputError(
                "compare needs two prediction files, or a model column with two models "
                f"(found {list(models) or 'no model column'}); choose them with --models A,B")
        split = args.split or ("test" if "test" in loaded.predictions.splits else None)
        a, b = (loaded.predictions.select(split=split, model=m) for m in chosen)
        labels = chosen
    result = stats.compare_models(a, b, n_resamples=args.resamples,
                                  random_state=args.seed).to_dict()
    out = {"models": list(labels), **result}
    lines = [f"A = {labels[0]}, B = {labels[1]}; {a.n_samples} samples",
             f"{'class':<20} {'AUC A':>8} {'AUC B':>8} {'diff':>8} {'p':>8} {'AP diff':>8}  AP 95% CI"]
    for name, row in out["per_class"].items():
        ci = row["average_precision_difference_ci"]
        lines.append(
            f"{name:<20} {fmt(row['roc_auc_a']):>8} {fmt(row['roc_auc_b']):>8} "
            f"{fmt(row['difference']):>8} {fmt(row['p_value']):>8} "
            f"{fmt(row['average_precision_difference']):>8}  "
            + fmt_interval(ci, signed=True))
    return out, "\n".join(lines)


def _load_one(args, path):
    loaded = load(path, _mapping(args), max_bytes=args.max_size)
    return loaded.select(args.split, args.model)


def _report(args) -> tuple[dict, str]:
    from evalcore import report, stats

    if not args.json and not args.output:
        raise InputError("report needs -o OUT.html (or --json for the numbers)")
    with _dataset(args) as data:
        predictions = data.info
        curves = data.curves()
        decision = data.confusion(_decision(args, data.sample()))
        provenance = {
            "file": " ".join(map(str, args.paths)) or f"demo {args.demo}",
            "sha256": report.file_digest(_files(args.paths)),
            "split": predictions.splits[0] if len(predictions.splits) == 1 else None,
            "model": predictions.models[0] if len(predictions.models) == 1 else None,
            "engine": data.engine,
        }
        intervals = None
        if args.ci:
            rows = _in_memory(data, "--ci (bootstrap intervals)")
            intervals = stats.summary_intervals(rows, curves, random_state=args.seed)
        cal = data.calibration()
    numbers = report.report_numbers(predictions, curves, decision, provenance=provenance,
                                    intervals=intervals, calibration=cal)
    if args.json:
        return numbers, ""
    size = report.write_report(args.output, predictions, curves, decision, provenance=provenance,
                               intervals=intervals, calibration=cal)
    return numbers, f"wrote {args.output} ({size / 2**20:.1f} MiB)"


def _bounds(s) -> str:
    """'  +-0.0012 (AP 0.61..0.63)' beside binned figures, else ''."""
    if s.exact or s.roc_auc is None:
        return ""
    low, high = s.average_precision_bounds or (None, None)
    return f"  +-{s.roc_auc_bound:.2g} (AP {fmt(low)}..{fmt(high)})"


def _files(paths) -> list[str]:
    """The files behind PATH arguments (a directory's or a glob's Parquet files)."""
    if all(Path(p).is_file() for p in paths):
        return list(paths)
    from evalcore.engines.sql import dataset_files

    return dataset_files(paths)[1]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status (0 ok, 2 bad input, 1 internal error)."""
    try:
        args = _parser().parse_args(argv)
        run = {
            "summary": _summary, "confusion": _confusion, "threshold": _threshold,
            "predict": _predict, "report": _report, "calibration": _calibration,
            "compare": _compare, "optimise": _optimise, "apply": _apply,
        }
        result, text = run[args.command](args)
        output = json.dumps(result, allow_nan=False) if getattr(args, "json", False) else text
    except InputError as error:
        print(f"evalcore: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    except Exception as error:  # never a traceback: one line, and a non-zero status
        print(f"evalcore: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    try:
        print(output)
    except BrokenPipeError:  # `evalcore ... | head`: the reader left; not an error
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
