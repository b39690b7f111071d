"""A self-contained HTML report: one file, plotly inlined once, no network request.

It holds the data's provenance, the per-class table with its averages, ROC and PR curves, the
confusion matrix at the chosen thresholds, and calibration and intervals when given.
:func:`report_numbers` is the same content as JSON (``evalcore report --json``).
"""

from __future__ import annotations

import hashlib
import html
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING


from evalcore.counts import MISSING, fmt, fmt_interval
from evalcore.curves import CurveSet
from evalcore.decisions import Confusion
from evalcore.predictions import Predictions

if TYPE_CHECKING:
    from evalcore.stats import SummaryIntervals

PLOT_CONFIG = {"displaylogo": False, "responsive": True}


def file_digest(paths: list[str | Path]) -> str | None:
    """SHA-256 of the files' bytes (the provenance of the numbers), None for a demo.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder, "preds.csv")
    ...     _ = path.write_text("label,prob_cat,prob_dog")
    ...     digest = file_digest([path])
    >>> digest[:16], len(digest), file_digest([])
    ('7d30593b71bbd39f', 64, None)
    """
    if not paths:
        return None
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def report_numbers(
    predictions: Predictions, curves: CurveSet, decision: Confusion, *, provenance: dict,
    intervals: SummaryIntervals | None = None, calibration=None,
) -> dict:
    """Everything the report shows, as JSON-ready numbers.

    >>> from evalcore import Predictions, compute_curves, confusion
    >>> p = Predictions.from_arrays([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> numbers = report_numbers(p, compute_curves(p), confusion(p), provenance={"file": "demo"})
    >>> list(numbers), round(numbers["decision"]["accuracy"], 4)
    (['provenance', 'summary', 'decision'], 0.8333)
    """
    out = {
        "provenance": provenance,
        "summary": curves.to_dict(),
        "decision": decision.to_dict(),
    }
    if intervals is not None:
        out["intervals"] = intervals.to_dict()
    if calibration is not None:
        out["calibration"] = calibration.to_dict()
    return out


def write_report(
    path: str | Path, predictions: Predictions, curves: CurveSet, decision: Confusion, *,
    provenance: dict, intervals: SummaryIntervals | None = None, calibration=None,
) -> int:
    """Write the HTML report; return its size in bytes.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from evalcore import Predictions, compute_curves, confusion
    >>> p = Predictions.from_arrays([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder, "report.html")
    ...     size = write_report(path, p, compute_curves(p), confusion(p),
    ...                         provenance={"file": "demo"})
    ...     on_disk = path.stat().st_size
    >>> size == on_disk, size > 1_000_000  # plotly.js is inlined: no network request
    (True, True)
    """
    text = render_report(predictions, curves, decision, provenance=provenance,
                         intervals=intervals, calibration=calibration)
    Path(path).write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


def render_report(
    predictions: Predictions, curves: CurveSet, decision: Confusion, *, provenance: dict,
    intervals: SummaryIntervals | None = None, calibration=None,
) -> str:
    """The report as one HTML string.

    >>> from evalcore import Predictions, compute_curves, confusion
    >>> from evalcore.calibration import calibration
    >>> p = Predictions.from_arrays([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> page = render_report(p, compute_curves(p), confusion(p, "binary", 0.35),
    ...                      provenance={"file": "demo"}, calibration=calibration(p, bins=2))
    >>> page.startswith("<!DOCTYPE html>"), page.count("<h2>")
    (True, 5)
    >>> "<h2>Decision: binary at 0.35</h2>" in page, "<h2>Calibration</h2>" in page
    (True, True)
    """
    import plotly.offline

    from evalcore import figures

    p = predictions
    counts = curves.counts_at(decision.decision.class_thresholds())
    shown = list(range(min(len(curves.names), 20)))
    markers = dict(counts=counts, decision=decision.counts, decision_name=decision.rule)
    parts = [
        f"<h1>evalcore report</h1><p class=muted>{html.escape(_now())}</p>",
        "<h2>Data</h2>", _provenance_table(provenance, p),
        "<h2>Per class</h2>", _class_table(curves, decision, intervals),
        "<h2>Curves</h2><div class=row>",
        _figure_div(figures.roc_figure(curves, classes=shown, **markers)),
        _figure_div(figures.pr_figure(curves, classes=shown, **markers)),
        "</div>",
        f"<h2>Decision: {html.escape(decision.decision.describe())}</h2>",
        _decision_text(decision),
    ]
    if decision.matrix is not None:
        parts.append(_matrix_table(decision))
        parts.append(_figure_div(figures.confusion_figure(
            decision.matrix, decision.labels, decision.predicted_labels, normalize="true")))
    if calibration is not None and hasattr(figures, "reliability_figure"):
        parts += ["<h2>Calibration</h2>", _calibration_text(calibration),
                  _figure_div(figures.reliability_figure(calibration, classes=shown))]
    body = "\n".join(parts)
    script = plotly.offline.get_plotlyjs()
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>evalcore report: {html.escape(str(provenance.get("file", "")))}</title>
<style>{_CSS}</style>
<script>{script}</script>
</head><body>
{body}
<script>{_RESIZE}</script>
</body></html>
"""


def _figure_div(fig) -> str:
    return "<div class=fig>" + fig.to_html(full_html=False, include_plotlyjs=False,
                                           include_mathjax=False, config=PLOT_CONFIG) + "</div>"


def _provenance_table(provenance: dict, p: Predictions) -> str:
    rows = {**provenance, "task": p.task, "score kind": p.score_kind,
            "conversion": p.conversion, "rows evaluated": p.n_samples,
            "classes": ", ".join(p.class_names)}
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_text(v))}</td></tr>"
                   for k, v in rows.items() if v is not None)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in p.notes)
    return f"<table class=kv>{body}</table>" + (f"<ul class=muted>{notes}</ul>" if notes else "")


def _class_table(curves: CurveSet, decision: Confusion,
                 intervals: SummaryIntervals | None) -> str:
    counts = decision.counts
    index = {name: i for i, name in enumerate(counts.names)}
    ci = intervals.to_dict()["per_class"] if intervals is not None else {}
    head = ("<tr><th>class</th><th>support</th><th>prevalence</th><th>ROC AUC</th>"
            "<th>AP</th><th>precision</th><th>recall</th><th>F1</th></tr>")
    rows = []
    for s in curves.classes:
        i = index[s.name]
        bound = "" if s.exact else f" <span class=muted>&plusmn;{s.roc_auc_bound:.2g}</span>"
        auc = fmt(s.roc_auc) + bound + _interval(ci.get(s.name, {}).get("roc_auc_ci"))
        ap = fmt(s.average_precision) + _interval(ci.get(s.name, {}).get("average_precision_ci"))
        rows.append(
            f"<tr><td>{html.escape(s.name)}</td><td>{s.support}</td><td>{fmt(s.prevalence)}</td>"
            f"<td>{auc}</td><td>{ap}</td><td>{fmt(counts.precision[i])}</td>"
            f"<td>{fmt(counts.recall[i])}</td><td>{fmt(counts.f1[i])}</td></tr>"
        )
    if len(curves.names) > 1:
        for avg, rates in counts.averages().items():
            rows.append(
                f"<tr class=avg><td>{avg}</td><td></td><td></td>"
                f"<td>{fmt(getattr(curves.roc_auc, avg))}</td>"
                f"<td>{fmt(getattr(curves.average_precision, avg))}</td>"
                + "".join(f"<td>{fmt(v)}</td>" for v in rates) + "</tr>"
            )
    binned = "" if curves.exact else (
        f"<p class=muted>Thresholds and plots: {html.escape(curves.to_dict()['binned'])}.</p>")
    return f"<table>{head}{''.join(rows)}</table>{binned}"


def _decision_text(decision: Confusion) -> str:
    t = ", ".join(f"{html.escape(k)} {fmt(v)}" for k, v in decision.thresholds.items()
                  if v == v)  # NaN (argmax) left out
    parts = [f"accuracy {fmt(decision.accuracy)}", f"coverage {fmt(decision.coverage)}"]
    if decision.multilabel is not None:
        m = decision.multilabel
        parts += [f"subset accuracy {fmt(m.subset_accuracy)}", f"Hamming loss {fmt(m.hamming_loss)}"]
    return (f"<p>{'; '.join(parts)}</p>" + (f"<p class=muted>thresholds: {t}</p>" if t else ""))


def _matrix_table(decision: Confusion) -> str:
    head = "<tr><th>true \\ predicted</th>" + "".join(
        f"<th>{html.escape(c)}</th>" for c in decision.predicted_labels) + "</tr>"
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th>" + "".join(f"<td>{int(v)}</td>" for v in row) + "</tr>"
        for name, row in zip(decision.labels, decision.matrix)
    )
    return f"<table class=matrix>{head}{rows}</table>"


def _calibration_text(calibration) -> str:
    d = calibration.to_dict()
    keys = ("ece_top_label", "ece_classwise", "mce_top_label", "brier")
    return "<p>" + "; ".join(f"{k.replace('_', ' ')} {fmt(d.get(k))}" for k in keys) + "</p>"


def _interval(ci) -> str:
    shown = fmt_interval(ci)
    return "" if shown == MISSING else f" <span class=muted>{shown}</span>"


def _text(value) -> str:
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("generated %Y-%m-%d %H:%M UTC")


#: a figure is drawn where its script is, before the next one exists: its box is not yet the
#: one the page gives it; redraw every figure in its final box once the page is laid out
_RESIZE = """window.addEventListener("load", () => document.querySelectorAll(".js-plotly-plot")
  .forEach(gd => Plotly.Plots.resize(gd)));"""
_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: 0; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
table.kv td { text-align: left; }
tr.avg td { font-style: italic; background: #fafafa; }
.muted { color: #777; font-size: 0.85rem; }
.row { display: flex; flex-wrap: wrap; gap: 1rem; } .fig { flex: 1 1 560px; min-width: 0; }
"""
