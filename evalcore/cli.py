"""The ``evalcore`` command: summary, confusion, threshold, predict. JSON with ``--json``.

Bad input: exit status 2, one line on stderr, nothing on stdout, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from evalcore.curves import compute_curves
from evalcore.deploy import load_spec, spec_confusion, spec_from_confusion
from evalcore.decisions import RULES, accuracy, confusion
from evalcore.errors import InputError
from evalcore import demos
from evalcore.io import Mapping, load, parse_size
from evalcore.operating import OBJECTIVE_HELP, operating_point
from evalcore.predictions import SCORE_KINDS, TASKS


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
        sub.add_argument("--classes", help="comma-separated class names, in score-column order")
        sub.add_argument("--task", choices=TASKS, help="override the detected task")
        sub.add_argument("--score-kind", choices=SCORE_KINDS, help="override the detection")
        sub.add_argument("--split", help="rows of this split only (default: test, if present)")
        sub.add_argument("--model", help="rows of this model only (default: the first)")
        sub.add_argument("--max-size", type=parse_size, help="file size limit (default 1G)")
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.add_argument("-v", "--verbose", action="store_true", help="say what was detected")
        return sub

    sub = command("summary", "Per-class ROC AUC and average precision, their averages, accuracy.")
    sub.add_argument("--ci", action="store_true",
                     help="confidence intervals: DeLong for ROC AUC, bootstrap for the rest")
    sub.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    sub.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    sub.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    sub = command("confusion", "Confusion matrix and per-class metrics under a decision rule.")
    sub.add_argument("--rule", choices=RULES, help="decision rule (default: by task)")
    sub.add_argument("--threshold", type=float, default=0.5, help="threshold for all classes")
    sub.add_argument(
        "--class-threshold", action="append", default=[], metavar="NAME=T",
        help="threshold of one class (repeatable)",
    )
    sub.add_argument("--thresholds", metavar="SPEC.json",
                     help="apply a thresholds file (from the app or --save-thresholds)")
    sub.add_argument("--save-thresholds", metavar="SPEC.json",
                     help="write this decision as a thresholds file that deploys")
    sub = command("threshold", "The threshold of one class that meets an objective.")
    sub.add_argument("--class", dest="class_name", required=True, help="class name")
    sub.add_argument("--objective", required=True, help=OBJECTIVE_HELP)

    sub = command("calibration", "Reliability curves, ECE, MCE and Brier score.")
    sub.add_argument("--bins", type=int, default=10, help="number of bins (default 10)")
    sub.add_argument("--strategy", choices=("uniform", "quantile"), default="uniform",
                     help="equal-width (uniform) or equal-mass (quantile) bins")

    sub = command("compare", "Two models on the same samples: paired DeLong test of each "
                             "class' ROC AUC, paired bootstrap of the AP difference.")
    sub.add_argument("--models", help="two models of the file's model column: A,B "
                                      "(default: the first two)")
    sub.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    sub.add_argument("--seed", type=int, default=0, help="bootstrap seed")

    sub = command("report", "A self-contained HTML report (or its numbers with --json).")
    sub.add_argument("-o", "--output", help="the HTML file to write (not needed with --json)")
    sub.add_argument("--rule", choices=RULES, help="decision rule (default: by task)")
    sub.add_argument("--threshold", type=float, default=0.5, help="threshold for all classes")
    sub.add_argument("--thresholds", metavar="SPEC.json", help="a thresholds file to apply")
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
    )


def _load(args):
    """The Predictions the arguments name (file or demo, overrides, split, model)."""
    mapping = _mapping(args)
    if args.demo and args.paths:
        raise InputError("give a file or --demo, not both")
    if args.demo:
        loaded = demos.load_demo(args.demo, mapping)
    elif args.paths:
        loaded = load(args.paths, mapping, max_bytes=args.max_size)
    else:
        raise InputError("expected a prediction file (or --demo NAME)")
    predictions = loaded.select(args.split, args.model)
    if args.verbose:
        print(f"evalcore: {loaded.layout.describe(loaded.predictions)}", file=sys.stderr)
        if predictions is not loaded.predictions:
            print(f"evalcore: evaluating {_selection(predictions)}", file=sys.stderr)
    return predictions


def _selection(p) -> str:
    parts = [f"{p.n_samples} rows"]
    if p.models:
        parts.append(f"model {p.models[0]!r}" if len(p.models) == 1 else f"models {list(p.models)}")
    if p.splits:
        parts.append(f"split {p.splits[0]!r}" if len(p.splits) == 1 else f"splits {list(p.splits)}")
    return ", ".join(parts)


def _summary(args) -> tuple[dict, str]:
    predictions = _load(args)
    curves = compute_curves(predictions)
    result = curves.to_dict()
    result["accuracy"] = accuracy(predictions)
    intervals = None
    if args.ci:
        from evalcore import stats

        intervals = stats.summary_intervals(predictions, curves, level=args.level,
                                            n_resamples=args.resamples, random_state=args.seed)
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
            f"{_fmt(s.roc_auc):>8} {_fmt(s.average_precision):>8}"
        )
    for avg in ("micro", "macro", "weighted"):
        lines.append(
            f"{avg:<20} {'':>8} {'':>10} {_fmt(getattr(curves.roc_auc, avg)):>8} "
            f"{_fmt(getattr(curves.average_precision, avg)):>8}"
        )
    if curves.roc_auc.ovo_macro is not None:
        lines.append(f"{'ovo macro (Hand & Till)':<40} {_fmt(curves.roc_auc.ovo_macro):>8}")
    lines.append(f"accuracy: {_fmt(result['accuracy'])}")
    if intervals is not None:
        lines.append(f"{args.level:.0%} intervals: ROC AUC by DeLong, the rest by bootstrap")
        for name, row in intervals["per_class"].items():
            lines.append(f"{name:<20} ROC AUC {_ci(row['roc_auc_ci'])}  AP {_ci(row['average_precision_ci'])}")
        lines.append(f"accuracy {_ci(intervals['accuracy_ci'])}")
    return result, "\n".join(lines)


def _confusion(args) -> tuple[dict, str]:
    predictions = _load(args)
    names = predictions.curve_names
    thresholds = [args.threshold] * len(names)
    for item in args.class_threshold:
        name, sep, value = item.rpartition("=")
        if not sep or name not in names:
            raise InputError(f"--class-threshold expects NAME=T with NAME in {list(names)}, got {item!r}")
        try:
            thresholds[names.index(name)] = float(value)
        except ValueError:
            raise InputError(f"--class-threshold {item!r}: {value!r} is not a number") from None
    if args.rule == "abstain" and args.class_threshold:
        raise InputError("the abstain rule takes one --threshold, not --class-threshold")
    if args.thresholds:
        if args.rule or args.class_threshold:
            raise InputError("--thresholds sets the rule and thresholds: drop --rule and --class-threshold")
        result = spec_confusion(predictions, load_spec(args.thresholds))
    else:
        single = args.rule in ("abstain", "binary") or predictions.task == "binary"
        result = confusion(predictions, args.rule, thresholds[0] if single else thresholds)
    if args.save_thresholds:
        spec = spec_from_confusion(predictions, result, {"file": " ".join(map(str, args.paths))
                                                         or f"demo {args.demo}"})
        try:
            Path(args.save_thresholds).write_text(spec.to_json())
        except OSError as error:
            raise InputError(f"{args.save_thresholds}: cannot write ({error.strerror})") from None
    out = result.to_dict()
    lines = [f"rule: {result.rule}"]
    if result.matrix is not None:
        width = max(len(n) for n in result.predicted_labels) + 2
        lines.append(" " * width + "".join(f"{n:>{width}}" for n in result.predicted_labels))
        for name, row in zip(result.labels, result.matrix):
            lines.append(f"{name:<{width}}" + "".join(f"{v:>{width}}" for v in row))
    lines.append(f"{'class':<20} {'tp':>7} {'fp':>7} {'fn':>7} {'precision':>9} {'recall':>7} {'f1':>7}")
    for i, name in enumerate(result.counts.names):
        row = result.counts.row(i)
        lines.append(
            f"{name:<20} {row['tp']:>7} {row['fp']:>7} {row['fn']:>7} {_fmt(row['precision']):>9} "
            f"{_fmt(row['recall']):>7} {_fmt(row['f1']):>7}"
        )
    lines.append(f"coverage: {_fmt(result.coverage)}  accuracy: {_fmt(result.accuracy)}")
    if result.multilabel is not None:
        lines.append("  ".join(f"{k}: {_fmt(v)}" for k, v in result.multilabel.to_dict().items()))
    return out, "\n".join(lines)


def _threshold(args) -> tuple[dict, str]:
    predictions = _load(args)
    point = operating_point(compute_curves(predictions), args.class_name, args.objective)
    out = point.to_dict()
    text = "  ".join(f"{k}: {_fmt(v) if isinstance(v, float) else v}" for k, v in out.items())
    return out, text


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
    from evalcore.calibration import calibration

    cal = calibration(_load(args), bins=args.bins, strategy=args.strategy)
    out = cal.to_dict()
    lines = [f"{cal.strategy} bins: {cal.bins}; Brier {_fmt(out['brier'])}; ECE top-label "
             f"{_fmt(out['ece_top_label'])}, class-wise {_fmt(out['ece_classwise'])}; MCE "
             f"top-label {_fmt(out['mce_top_label'])}",
             f"{'class':<20} {'ECE':>8} {'MCE':>8} {'Brier':>8}"]
    for name, row in out["per_class"].items():
        lines.append(f"{name:<20} {_fmt(row['ece']):>8} {_fmt(row['mce']):>8} {_fmt(row['brier']):>8}")
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
    result = stats.compare_models(a, b, n_resamples=args.resamples, random_state=args.seed)
    out = {"models": list(labels), **result}
    lines = [f"A = {labels[0]}, B = {labels[1]}; {a.n_samples} samples",
             f"{'class':<20} {'AUC A':>8} {'AUC B':>8} {'diff':>8} {'p':>8} {'AP diff':>8}  AP 95% CI"]
    for name, row in out["per_class"].items():
        ci = row["average_precision_difference_ci"]
        lines.append(
            f"{name:<20} {_fmt(row['roc_auc_a']):>8} {_fmt(row['roc_auc_b']):>8} "
            f"{_fmt(row['difference']):>8} {_fmt(row['p_value']):>8} "
            f"{_fmt(row['average_precision_difference']):>8}  "
            + ("n/a" if ci is None else f"[{ci[0]:+.4f}, {ci[1]:+.4f}]"))
    return out, "\n".join(lines)


def _load_one(args, path):
    loaded = load(path, _mapping(args), max_bytes=args.max_size)
    return loaded.select(args.split, args.model)


def _report(args) -> tuple[dict, str]:
    from evalcore import calibration, report, stats

    if not args.json and not args.output:
        raise InputError("report needs -o OUT.html (or --json for the numbers)")
    predictions = _load(args)
    curves = compute_curves(predictions)
    if args.thresholds:
        decision = spec_confusion(predictions, load_spec(args.thresholds))
    else:
        single = args.rule in ("abstain", "binary") or predictions.task == "binary"
        decision = confusion(predictions, args.rule, args.threshold if single else
                             [args.threshold] * len(predictions.curve_names))
    provenance = {
        "file": " ".join(map(str, args.paths)) or f"demo {args.demo}",
        "sha256": report.file_digest(args.paths),
        "split": predictions.splits[0] if len(predictions.splits) == 1 else None,
        "model": predictions.models[0] if len(predictions.models) == 1 else None,
    }
    intervals = None
    if args.ci:
        intervals = stats.summary_intervals(predictions, curves, random_state=args.seed)
    cal = calibration.calibration(predictions)
    numbers = report.report_numbers(predictions, curves, decision, provenance=provenance,
                                    intervals=intervals, calibration=cal)
    if args.json:
        return numbers, ""
    size = report.write_report(args.output, predictions, curves, decision, provenance=provenance,
                               intervals=intervals, calibration=cal)
    return numbers, f"wrote {args.output} ({size / 2**20:.1f} MiB)"


def _ci(bounds) -> str:
    return "n/a" if bounds is None else f"[{bounds[0]:.4f}, {bounds[1]:.4f}]"


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status (0 ok, 2 bad input, 1 internal error)."""
    try:
        args = _parser().parse_args(argv)
        run = {
            "summary": _summary, "confusion": _confusion, "threshold": _threshold,
            "predict": _predict, "report": _report, "calibration": _calibration,
            "compare": _compare,
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
