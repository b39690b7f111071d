"""The ``evalcore`` command: summary, confusion, threshold, predict. JSON with ``--json``.

Bad input: exit status 2, one line on stderr, nothing on stdout, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from evalcore.counts import as_json
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

    command("summary", "Per-class ROC AUC and average precision, their averages, accuracy.")
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


def _load(args):
    """The Predictions the arguments name (file or demo, overrides, split, model)."""
    def names(text: str | None) -> tuple[str, ...] | None:
        return None if text is None else tuple(v.strip() for v in text.split(","))

    mapping = Mapping(
        label_column=args.label_column, score_columns=names(args.score_columns),
        class_names=names(args.classes), task=args.task, score_kind=args.score_kind,
    )
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


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status (0 ok, 2 bad input, 1 internal error)."""
    try:
        args = _parser().parse_args(argv)
        run = {
            "summary": _summary, "confusion": _confusion, "threshold": _threshold,
            "predict": _predict,
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
