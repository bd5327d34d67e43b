"""A per-user cache of derived files: slow to compute, fully determined by their name.

It lives in ``$XDG_CACHE_HOME/ckm-kg`` (default ``~/.cache/ckm-kg``) and holds the warm
HermiT's compiled class and the compiled OWL RL rules of each ontology content. Deleting it
is always safe; a cache that cannot be written (a read-only home) is simply not used. Its
files are trusted as much as the user's own code (the JVM runs the class found there).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ckm-kg"


def read_bytes(name: str) -> bytes | None:
    """The cached file's bytes, or None when it is not there (or unreadable)."""
    try:
        return (cache_dir() / name).read_bytes()
    except OSError:
        return None


def write_bytes(name: str, data: bytes) -> None:
    """Store ``data`` under ``name`` atomically (readers see all of it or nothing);
    nothing happens when the cache cannot be written."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, folder / name)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass
