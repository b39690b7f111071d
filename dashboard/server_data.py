"""Datasets on the server: a path or glob under the directory the operator names in
``EVALCORE_DATA_DIR`` (unset: the option is hidden). Nothing outside that directory is read:
absolute paths and ``..`` are refused, and every matched file's ``os.path.realpath`` must lie
inside ``realpath(EVALCORE_DATA_DIR)`` (a symlinked file or directory pointing out is
refused). The engine is given the real paths that were checked, never the pattern again.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

from evalcore.errors import InputError
from evalcore.io import TABLE_FORMATS

DATA_DIR_ENV = "EVALCORE_DATA_DIR"
#: the DuckDB memory limit of the app (EVALCORE_DUCKDB_MEMORY, e.g. "4GB")
MEMORY_ENV = "EVALCORE_DUCKDB_MEMORY"
DEFAULT_MEMORY = 2 << 30
SUFFIXES = tuple(TABLE_FORMATS)  # what the engines read
MAX_LISTED = 200
GLOB_CHARS = "*?["


@dataclass(frozen=True)
class Resolved:
    """The files a path or glob names: real paths, with their sizes and modification times
    (the cache key: a file that changes is evaluated again)."""

    pattern: str  # as given, relative to the data directory
    files: tuple[str, ...]  # real paths, inside the data directory
    sizes: tuple[int, ...]
    mtimes: tuple[int, ...]  # nanoseconds

    @property
    def fingerprint(self) -> tuple:
        return tuple(zip(self.files, self.sizes, self.mtimes))

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes)


def data_dir() -> str | None:
    """The real path of EVALCORE_DATA_DIR, or None when it is unset or empty."""
    value = os.environ.get(DATA_DIR_ENV, "").strip()
    return os.path.realpath(value) if value else None


def memory_limit() -> int:
    """The DuckDB memory limit in bytes (EVALCORE_DUCKDB_MEMORY, default 2 GB)."""
    from evalcore.io import parse_size

    value = os.environ.get(MEMORY_ENV, "").strip()
    return parse_size(value) if value else DEFAULT_MEMORY


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def resolve(pattern: str, root: str | None = None) -> Resolved:
    """The files ``pattern`` (a file, a directory of Parquet files, or a glob, relative to the
    data directory) names; InputError in one line naming what was refused."""
    root = data_dir() if root is None else os.path.realpath(root)
    if root is None:
        raise InputError(f"{pattern}: no data directory on this server ({DATA_DIR_ENV} is "
                         "not set)")
    if not os.path.isdir(root):
        raise InputError(f"the data directory of this server ({DATA_DIR_ENV}) is not a "
                         "directory")
    text = pattern.strip()
    if not text:
        raise InputError("no path given: choose a dataset or type a path under the data "
                         "directory")
    if "\x00" in text:
        raise InputError(f"refused {text!r}: not a path")
    if os.path.isabs(text) or text.startswith("~"):
        raise InputError(f"refused {text!r}: an absolute path; give a path relative to the "
                         "data directory")
    if ".." in text.replace("\\", "/").split("/"):
        raise InputError(f"refused {text!r}: '..' would leave the data directory")
    full = os.path.join(root, text)
    if any(ch in text for ch in GLOB_CHARS):
        matched = sorted(glob.glob(full, recursive=True))
        if not matched:
            raise InputError(f"{text}: no file under the data directory matches")
    elif os.path.isdir(full):
        matched = sorted(glob.glob(os.path.join(full, "**", "*.parquet"), recursive=True))
        _check(text, full, root)  # the directory itself (a symlink out is refused by name)
        if not matched:
            raise InputError(f"{text}: a directory without .parquet files")
    elif os.path.lexists(full):
        matched = [full]
    else:
        raise InputError(f"{text}: no such file under the data directory")
    files = []
    for path in matched:
        real = _check(os.path.relpath(path, root), path, root)
        if os.path.isfile(real):  # a glob may match directories: the engine reads files
            files.append(real)
    if not files:
        raise InputError(f"{text}: matches no file, only directories")
    stats = [os.stat(f) for f in files]
    return Resolved(text, tuple(files), tuple(s.st_size for s in stats),
                    tuple(s.st_mtime_ns for s in stats))


def _check(shown: str, path: str, root: str) -> str:
    """The real path of ``path``; InputError when it lies outside ``root``."""
    real = os.path.realpath(path)
    if not _inside(real, root):
        raise InputError(f"refused {shown!r}: it resolves to a place outside the data "
                         "directory")
    return real


def listing(root: str | None = None) -> list[str]:
    """The Parquet/CSV files and the directories holding Parquet files under the data
    directory, relative to it (what does not resolve inside it is left out)."""
    root = data_dir() if root is None else os.path.realpath(root)
    if root is None or not os.path.isdir(root):
        return []
    found: list[str] = []
    for folder, dirs, names in os.walk(root):  # symlinked directories are not entered
        dirs.sort()
        rel = os.path.relpath(folder, root)
        if rel != "." and any(n.endswith(".parquet") for n in names):
            found.append(rel + "/")
        for name in sorted(names):
            path = os.path.join(folder, name)
            if name.lower().endswith(SUFFIXES) and _inside(os.path.realpath(path), root):
                found.append(os.path.normpath(os.path.join(rel, name)))
        if len(found) >= MAX_LISTED:
            break
    return sorted(found[:MAX_LISTED])
