"""Phase timings of the server, for the benchmarks (``benchmarks/bench_browser.py``).

With the environment variable ``EVALCORE_TIMINGS`` naming a file, each :func:`phase` appends
one JSON line ``{"phase": name, "start": ..., "end": ...}`` (seconds since the epoch, so that a
benchmark can line them up with its own clock) when it ends; without it nothing is measured
or written.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "EVALCORE_TIMINGS"
_LOCK = threading.Lock()


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block as the phase ``name`` (when ``EVALCORE_TIMINGS`` is set)."""
    path = os.environ.get(ENV)
    if not path:
        yield
        return
    start = time.time()
    try:
        yield
    finally:
        line = json.dumps({"phase": name, "start": start, "end": time.time()})
        with _LOCK, open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")


def read(path: str | os.PathLike) -> list[dict]:
    """The phases written to ``path`` so far (none when it does not exist)."""
    try:
        with open(path, encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]
    except FileNotFoundError:
        return []
