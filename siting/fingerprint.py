"""Content fingerprints for caches that cannot go stale: a file's bytes, the package's code, the
shipped data tables.

A cache keyed by a file's size and modification time reuses old results after an edit that keeps
both (a copy with ``cp -p``, a clock set back, a second edit within the file system's time
resolution); a key holding the package version reuses them across code changes (the version is
``0.1.0`` from one commit to the next). These digests read the bytes: :func:`file_digest` once
per file state in a process, :func:`code_digest` (every ``siting/**/*.py``) and
:func:`data_digest` (every ``data/*.csv``: the cost, fuel, cooling, climate and constellation
tables) once per process.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from .paths import DATA_DIR

__all__ = ["file_digest", "package_digest", "code_digest", "data_digest"]

_PACKAGE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=4096)
def _digest_of(path: str, _size: int, _mtime_ns: int, _ctime_ns: int, _inode: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_digest(path: str | Path) -> str | None:
    """sha256 of the file's bytes (``None`` if it cannot be read); re-read whenever its size,
    modification time, change time (which no tool can set back) or inode changes, else
    remembered for the process.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as fh:
    ...     _ = fh.write(b"abc")
    >>> file_digest(fh.name)[:12], file_digest("/no/such/file")
    ('ba7816bf8f01', None)
    """
    try:
        st = os.stat(path)
        return _digest_of(str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    except OSError:
        return None


def _tree_digest(files) -> str:
    h = hashlib.sha256()
    for path, rel in files:
        h.update(rel.encode() + b"\0" + (file_digest(path) or "missing").encode() + b"\0")
    return h.hexdigest()


def package_digest(root: str | Path) -> str:
    """sha256 over every ``.py`` file under ``root`` (relative path and bytes)."""
    root = Path(root)
    files = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    return _tree_digest((p, p.relative_to(root).as_posix()) for p in files)


@functools.cache
def code_digest() -> str:
    """:func:`package_digest` of the siting package, computed once per process: any change to
    the code changes it."""
    return package_digest(_PACKAGE)


@functools.cache
def data_digest() -> str:
    """sha256 over the shipped tables ``data/*.csv`` (defaults, fuels, cooling, climate,
    constellation, the default layers), computed once per process."""
    return _tree_digest((p, p.name) for p in sorted(Path(DATA_DIR).glob("*.csv")))
