"""Uploaded files kept on the server by content hash, so that a link brings its data back.

An entry is a directory ``<root>/<key>/`` with the files (``0``, ``1``) and ``meta.json``
(their names and sizes, the source kind and its parameters). The key is the SHA-256 of the
files and parameters: it is the capability to read the entry; nothing lists the store and
nothing serves its files. Files are written owner-only (0600) and never executable.

Bounded: the total size (``EVALCORE_STORE_BYTES``, default 2 GiB) and the time since an entry
was last used (``EVALCORE_STORE_DAYS``, default 7) are capped; the least recently used entries
go first. ``EVALCORE_STORE_DIR`` moves it (default: ``$XDG_CACHE_HOME/evalcore/uploads``, else
``~/.cache/evalcore/uploads``); ``EVALCORE_STORE_BYTES=0`` turns it off.

>>> import tempfile
>>> from evalcore.io import NamedBytes
>>> store = UploadStore(tempfile.mkdtemp(), max_bytes=1 << 20)
>>> key = store.put("file", (NamedBytes("a.csv", b"label,prob_a\\n"),))
>>> store.get(key).files[0].data, store.get("0" * 64)
(b'label,prob_a\\n', None)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from evalcore.io import NamedBytes, parse_size

KEY = re.compile(r"[0-9a-f]{64}")
DEFAULT_BYTES = 2 << 30
DEFAULT_DAYS = 7.0


@dataclass(frozen=True)
class Stored:
    """What an entry holds: the source kind, its files, and the Keras parameters."""

    kind: str
    files: tuple[NamedBytes, ...]
    label_column: str | None = None
    layer: str | None = None


def file_digest(file: NamedBytes) -> str:
    """The SHA-256 of one file's name and bytes."""
    digest = hashlib.sha256(file.name.encode())
    digest.update(hashlib.sha256(file.data).digest())
    return digest.hexdigest()


def source_key(kind: str, digests: tuple[str, ...], *params: str | None) -> str:
    """The key of a source: the SHA-256 of its kind, its files' digests and its parameters."""
    text = json.dumps([kind, list(digests), list(params)])
    return hashlib.sha256(text.encode()).hexdigest()


class UploadStore:
    """A bounded, content-addressed store of uploads on disk (thread-safe)."""

    def __init__(self, root: str | Path, max_bytes: int = DEFAULT_BYTES,
                 max_age: float = DEFAULT_DAYS * 86400):
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def put(self, kind: str, files: tuple[NamedBytes, ...], label_column: str | None = None,
            layer: str | None = None, *, key: str | None = None) -> str:
        """Keep the files (once per content) and return their key. ``key``: their
        :func:`source_key`, when the caller has it (100 MB are then not hashed again)."""
        if key is None:
            key = source_key(kind, tuple(file_digest(f) for f in files), label_column, layer)
        if not self.enabled or sum(len(f.data) for f in files) > self.max_bytes:
            return key
        with self._lock:
            entry = self.root / key
            if (entry / "meta.json").is_file():
                os.utime(entry / "meta.json")
                return key
            partial = self.root / f".{key}.{os.getpid()}.{threading.get_ident()}"
            shutil.rmtree(partial, ignore_errors=True)
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            partial.mkdir(mode=0o700)
            for i, f in enumerate(files):
                path = partial / str(i)
                with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                    out.write(f.data)
            meta = {"kind": kind, "names": [f.name for f in files],
                    "sizes": [len(f.data) for f in files], "label_column": label_column,
                    "layer": layer, "stored": time.time()}
            (partial / "meta.json").write_text(json.dumps(meta))
            os.chmod(partial / "meta.json", 0o600)
            try:
                partial.rename(entry)
            except OSError:  # another process stored the same content first
                shutil.rmtree(partial, ignore_errors=True)
            self._evict()
        return key

    def has(self, key: str) -> bool:
        return (self.enabled and isinstance(key, str) and bool(KEY.fullmatch(key))
                and (self.root / key / "meta.json").is_file())

    def discard(self, key: str) -> None:
        """Drop an entry (an upload that turned out not to load)."""
        if isinstance(key, str) and KEY.fullmatch(key):
            with self._lock:
                shutil.rmtree(self.root / key, ignore_errors=True)

    def get(self, key: str) -> Stored | None:
        """The entry of ``key`` (and it counts as used), or None: never stored, evicted, or not
        a key at all."""
        if not self.enabled or not isinstance(key, str) or not KEY.fullmatch(key):
            return None
        entry = self.root / key
        try:
            meta = json.loads((entry / "meta.json").read_text())
            files = tuple(NamedBytes(str(name), (entry / str(i)).read_bytes())
                          for i, name in enumerate(meta["names"]))
            os.utime(entry / "meta.json")
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return Stored(str(meta["kind"]), files, meta.get("label_column"), meta.get("layer"))

    def _evict(self) -> None:
        """Drop entries unused for longer than max_age, then the least recently used ones
        until the total fits max_bytes."""
        entries = []
        now = time.time()
        for entry in self.root.iterdir():
            if not KEY.fullmatch(entry.name):
                continue
            try:
                used = (entry / "meta.json").stat().st_mtime
                size = sum(p.stat().st_size for p in entry.iterdir())
            except OSError:
                continue
            if now - used > self.max_age:
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entries.append((used, size, entry))
        total = sum(size for _, size, _ in entries)
        for _, size, entry in sorted(entries):
            if total <= self.max_bytes:
                break
            shutil.rmtree(entry, ignore_errors=True)
            total -= size


def default_store() -> UploadStore:
    """The store the environment describes."""
    root = os.environ.get("EVALCORE_STORE_DIR")
    if not root:
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = str(Path(cache) / "evalcore" / "uploads")
    size = os.environ.get("EVALCORE_STORE_BYTES")
    days = float(os.environ.get("EVALCORE_STORE_DAYS") or DEFAULT_DAYS)
    max_bytes = DEFAULT_BYTES if not size else (0 if size.strip() == "0" else parse_size(size))
    return UploadStore(root, max_bytes, days * 86400)
