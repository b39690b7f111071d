"""What the browser's main thread did, from a Chrome trace (``browser.start_tracing`` with
:data:`CATEGORIES`): for time windows of the page's own (``performance.mark`` pairs), how
much of each went to each kind of work.

- native work, from the trace's events on the renderer's main thread (the outermost event
  of each kind, with what runs inside it): style and layout, paint and compositing;
- script, from the V8 CPU profile in the same trace (each sample goes to the script file of
  the innermost frame that has one): plotly.js, websocket messages (protobuf decode),
  markdown, CSS-in-JS (emotion), the rest of Streamlit's React app; garbage collection;
- ``other``: the rest of the main thread's tasks (message dispatch, parsing, ...);
- ``idle``: the window's time when the main thread ran no task (waiting for the server, the
  network or a timer).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

CATEGORIES = [
    "devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "toplevel",
    "blink.user_timing", "disabled-by-default-v8.cpu_profiler",
]
#: the order in which a breakdown is printed
KINDS = ("plotly.js", "React render (Streamlit)", "markdown", "CSS-in-JS", "websocket + decode",
         "garbage collection", "style + layout", "paint + composite", "other", "idle")
_NATIVE = {
    "style + layout": {"UpdateLayoutTree", "Layout", "RecalculateStyles", "HitTest",
                       "IntersectionObserverController::computeIntersections"},
    "paint + composite": {"PrePaint", "Paint", "Layerize", "Commit", "UpdateLayer",
                          "CompositeLayers", "PaintImage", "Decode Image", "Rasterize"},
}
_SCRIPT = {  # the script file's name (Streamlit's chunks are named after their module)
    "PlotlyChart": "plotly.js", "protobuf": "websocket + decode", "StreamlitMarkdown": "markdown",
    "emotion": "CSS-in-JS",
}
_TASKS = {"ThreadControllerImpl::RunTask", "RunTask"}


@dataclass(frozen=True)
class Breakdown:
    """Milliseconds of each kind of work (``KINDS``) in one window."""

    window_ms: float
    ms: dict[str, float]
    cpu_ms: float  # of the busy time, on a CPU (the rest: the thread waited for one)

    @property
    def busy_ms(self) -> float:
        return self.window_ms - self.ms.get("idle", 0.0)


def _events(trace: bytes | str) -> list[dict]:
    data = json.loads(trace)
    return data["traceEvents"] if isinstance(data, dict) else data


def _script_file(url: str) -> str | None:
    match = re.search(r"/([A-Za-z]+)[.-][^/]*\.js", url or "")
    return match.group(1) if match else None


def analyse(trace: bytes | str, start: str, end: str) -> list[Breakdown]:
    """One Breakdown per pair of marks ``start`` ... ``end`` (in the order they were made)."""
    events = _events(trace)
    marks = sorted((e["ts"], e["name"], e["pid"], e["tid"]) for e in events
                   if e.get("name") in (start, end) and "ts" in e)
    if not marks:
        return []
    pid, tid = marks[0][2], marks[0][3]  # the page's main thread made the marks
    windows, opened = [], None
    for ts, name, *_ in marks:
        if name == start:
            opened = ts
        elif opened is not None:
            windows.append((opened, ts))
            opened = None
    main = sorted((e for e in events if e.get("pid") == pid and e.get("tid") == tid
                   and e.get("ph") == "X" and "dur" in e), key=lambda e: (e["ts"], -e["dur"]))
    samples = _samples(events, pid, tid)
    return [_window(a, b, main, samples) for a, b in windows]


def _samples(events: list[dict], pid: int, tid: int) -> list[tuple[float, str]]:
    """(time, kind) of every CPU-profile sample of the main thread."""
    starts = {e["id"]: e["args"]["data"]["startTime"] for e in events
              if e.get("name") == "Profile" and e.get("pid") == pid and e.get("tid") == tid}
    nodes: dict[str, dict[int, dict]] = defaultdict(dict)
    clock: dict[str, float] = dict(starts)
    raw: list[tuple[float, str, int]] = []
    for e in sorted((e for e in events if e.get("name") == "ProfileChunk"
                     and e.get("id") in starts), key=lambda e: e["ts"]):
        data = e["args"]["data"]
        profile = data.get("cpuProfile", {})
        for node in profile.get("nodes", []):
            nodes[e["id"]][node["id"]] = node
        for sample, delta in zip(profile.get("samples", []), data.get("timeDeltas", [])):
            clock[e["id"]] += delta
            raw.append((clock[e["id"]], e["id"], sample))
    out = []
    for t, profile, sample in sorted(raw):
        out.append((t, _kind(nodes[profile], sample)))
    return out


def _kind(nodes: dict[int, dict], node_id: int) -> str:
    """The kind of work of a sample: its innermost frame with a script file, or GC."""
    name = nodes[node_id]["callFrame"].get("functionName", "")
    if name == "(garbage collector)":
        return "garbage collection"
    if name in ("(program)", "(idle)", "(root)"):
        return "native"
    current: int | None = node_id
    while current is not None:
        script = _script_file(nodes[current]["callFrame"].get("url", ""))
        if script:
            return _SCRIPT.get(script, "React render (Streamlit)")
        current = nodes[current].get("parent")
    return "React render (Streamlit)"  # a built-in (e.g. setAttribute) called by no file


def _window(a: float, b: float, main: list[dict], samples: list[tuple[float, str]]) -> Breakdown:
    ms: Counter[str] = Counter()
    # tasks: the union of top-level task intervals in [a, b]
    busy, cpu, reach = 0.0, 0.0, a
    for e in main:
        if e["name"] not in _TASKS:
            continue
        lo, hi = max(e["ts"], reach), min(e["ts"] + e["dur"], b)
        if hi > lo:
            busy += hi - lo
            cpu += e.get("tdur", e["dur"]) * (hi - lo) / max(e["dur"], 1)
            reach = hi
    # native events: the outermost style/layout or paint event (with what runs inside it)
    native: list[tuple[float, float]] = []
    stack: list[tuple[float, bool]] = []  # (end, in a native event)
    for e in main:
        s, d = e["ts"], e["dur"]
        if s >= b or s + d <= a:
            continue
        while stack and stack[-1][0] <= s:
            stack.pop()
        inside = bool(stack) and stack[-1][1]
        kind = next((k for k, names in _NATIVE.items() if e["name"] in names), None)
        if kind and not inside:
            lo, hi = max(s, a), min(s + d, b)
            ms[kind] += hi - lo
            native.append((lo, hi))
        stack.append((s + d, inside or kind is not None))
    native.sort()
    j = 0
    for i, (t, kind) in enumerate(samples[:-1]):
        if not a <= t < b or kind == "native":
            continue
        while j < len(native) and native[j][1] <= t:
            j += 1
        if j < len(native) and native[j][0] <= t:
            continue  # a forced layout called by a script: counted as layout
        ms[kind] += min(samples[i + 1][0], b) - t
    known = sum(v for v in ms.values())
    ms["other"] = max(busy - known, 0.0)
    ms["idle"] = max((b - a) - max(busy, known), 0.0)
    return Breakdown((b - a) / 1000, {k: v / 1000 for k, v in ms.items() if v > 0},
                     min(cpu, busy) / 1000)


def median_breakdown(breakdowns: list[Breakdown]) -> Breakdown:
    """Each kind's median over the windows (so the parts need not add up to the median
    window exactly)."""
    import statistics

    window = statistics.median(b.window_ms for b in breakdowns)
    return Breakdown(window, {k: statistics.median(b.ms.get(k, 0.0) for b in breakdowns)
                              for k in KINDS},
                     statistics.median(b.cpu_ms for b in breakdowns))


def describe(b: Breakdown) -> str:
    """``12 ms plotly.js, 30 ms React render ... , 40 ms idle`` (the kinds above 0.5 ms) and
    how much of the busy time the thread had a CPU."""
    parts = ", ".join(f"{b.ms[k]:.0f} ms {k}" for k in KINDS if b.ms.get(k, 0.0) >= 0.5)
    return f"{parts} (busy {b.busy_ms:.0f} ms, of it on a CPU {b.cpu_ms:.0f} ms)"
