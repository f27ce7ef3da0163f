"""Output folders that can never destroy anything that is not theirs.

A siting output folder carries a manifest (``.siting-output.json``) listing the files it
wrote. :func:`check_out` refuses, before any solving, a path that is not safe to replace: the
working folder or one of its parents, ``/`` or a mount point, a symbolic link, a file, or an
existing folder that is not a siting output (or holds files siting did not write).
:func:`replace_dir` writes into a hidden temporary sibling under a per-folder lock
(``filelock``) and makes the swap its last act: an atomic exchange (Linux ``renameat2``), so
a kill at any instant leaves either the previous output or the new one, complete. Debris of
dead runs (temporary folders) is removed by the next run that takes the lock.

Kinds never replace each other: the manifest says which command wrote the folder (``solve``,
``sweep``, ``pareto``, ``alternatives``; a folder from before kinds were recorded is known by
its files), and :func:`check_out` / :func:`replace_dir` refuse to write another kind over it. A
partial result (an interrupted sweep) never replaces a complete one of its kind
(:class:`CompleteKept`: the caller writes it beside). A run holds its folder from its first check
to its last write (:func:`claim`); a second run on the same folder meanwhile is refused at once,
not queued. The locks are ``filelock`` locks (``fcntl.flock`` on Linux: the kernel releases them
when their process dies, so a killed run never leaves a stale claim).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import re
import shutil
import signal
import tempfile
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from ..errors import SitingError

__all__ = ["MANIFEST", "KINDS", "OutputError", "WriteError", "ClaimedError", "CompleteKept", "safe_name", "check_out",
           "replace_dir", "read_manifest", "output_kind", "claim", "Written"]

MANIFEST = ".siting-output.json"
_TOOL = "siting"
_LOCK_WAIT_S = 600.0
KINDS = ("solve", "sweep", "pareto", "alternatives", "stochastic")
_KIND_FILES = {"sweep": "sweep.csv", "pareto": "pareto.csv", "alternatives": "alternatives.csv",
               "stochastic": "value.csv"}
_CLAIMS: dict[str, list] = {}  # claim lock path -> [FileLock, depth] held by this process


class OutputError(SitingError):
    """The output folder cannot be (or could not be) written; nothing of the user's is lost."""


class WriteError(OutputError):
    """Writing the outputs failed or was refused at write time (full disk, lock, a file saved
    meanwhile); nothing was changed."""


class ClaimedError(OutputError):
    """Another run holds the output folder (it is solving or writing there)."""


class CompleteKept(WriteError):
    """A partial result was not written over a complete one of its kind (nothing was changed)."""


def _recheck(out: Path, kind: str | None = None) -> Path:
    """:func:`check_out` at write time: a refusal then is a :class:`WriteError`."""
    try:
        return check_out(out, kind)
    except WriteError:
        raise
    except OutputError as exc:
        raise WriteError(str(exc)) from None


def safe_name(name: str, fallback: str = "scenario") -> str:
    """A scenario name as one safe folder name: no separators, no ``..``, never empty.

    >>> safe_name("default"), safe_name("../../Documents"), safe_name(""), safe_name(".")
    ('default', 'Documents', 'scenario', 'scenario')
    >>> safe_name("/etc/passwd"), safe_name("what if: 50 ms?"), safe_name("Zürich\\x00")
    ('etc_passwd', 'what_if_50_ms', 'Zurich')
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")
    text = re.sub(r"\.{2,}", ".", text)[:100].strip("._-")
    return text or fallback


def read_manifest(folder: Path) -> dict | None:
    """The manifest of a siting output folder, or ``None`` if it is not one."""
    try:
        data = json.loads((Path(folder) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tool") != _TOOL or not isinstance(data.get("files"), list):
        return None
    return data


def output_kind(manifest: dict | None, folder: Path | None = None) -> str | None:
    """The kind of a siting output (its manifest's ``kind``; for a folder written before kinds
    were recorded, the kind its files show, a plan otherwise); ``None`` if not an output.

    >>> output_kind({"kind": "sweep", "files": []}), output_kind({"files": ["pareto.csv"]}), output_kind(None)
    ('sweep', 'pareto', None)
    """
    if manifest is None:
        return None
    if manifest.get("kind") in KINDS:
        return manifest["kind"]
    files = set(manifest.get("files") or [])
    return next((k for k, f in _KIND_FILES.items() if f in files), "solve")


def _kind_refusal(shown: str, have: str, want: str) -> str:
    return (f"--out {shown}: holds a {have} output; siting does not write a {want} over a {have} - "
            f"give another folder, e.g. --out {shown.rstrip('/')}-{want}")


def _foreign(folder: Path, manifest: dict | None) -> list[str]:
    """Entries of ``folder`` that siting did not write (all of them if it has no manifest)."""
    ours = set(manifest["files"]) | {MANIFEST} if manifest else set()
    return sorted(p.name for p in folder.iterdir() if p.name not in ours or p.is_symlink()
                  or (p.is_dir() and p.name in ours))


def check_out(out: str | Path, kind: str | None = None) -> Path:
    """Refuse an output path that is not safe to replace; create its parents; return it.

    Called before any solving, so a bad ``--out`` costs nothing. With ``kind`` (one of
    :data:`KINDS`), a siting output of another kind is refused too.
    """
    out = Path(out)
    shown = str(out)
    if out.is_symlink():
        raise OutputError(f"--out {shown}: is a symbolic link; give the real folder")
    real = Path(os.path.abspath(out))
    cwd = Path.cwd().resolve()
    resolved = real.resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise OutputError(f"--out {shown}: is the folder you are in or one of its parents; siting "
                          "replaces its output folder as a whole, so give a new folder, "
                          "e.g. --out results/plan")
    if resolved == Path(resolved.anchor) or os.path.ismount(resolved):
        raise OutputError(f"--out {shown}: is a mount point or the file-system root; give a "
                          "folder inside it, e.g. --out results/plan")
    if real.exists() and not real.is_dir():
        raise OutputError(f"--out {shown}: exists and is not a folder")
    if real.is_dir():
        try:
            manifest = read_manifest(real)
            foreign = _foreign(real, manifest)
        except OSError as exc:
            raise OutputError(f"--out {shown}: cannot read the folder ({exc.strerror})") from None
        have = output_kind(manifest)
        if kind is not None and have is not None and have != kind:
            raise OutputError(_kind_refusal(shown, have, kind))
        if foreign:
            listed = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise OutputError(f"--out {shown}: the folder holds files siting did not write ({listed}); "
                              "siting replaces only its own output folders - choose a new or empty "
                              "folder, or move those files")
    parent = real.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"--out {shown}: cannot create folder {parent} ({exc.strerror})") from None
    if not os.access(parent, os.W_OK | os.X_OK):  # also false on a read-only file system
        raise OutputError(f"--out {shown}: cannot write in {parent} (permission denied or read-only)")
    if real.is_dir() and not os.access(real, os.W_OK | os.X_OK):
        raise OutputError(f"--out {shown}: the folder is read-only")
    return real


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); ``False`` if unsupported."""
    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM (delivered right after) so the swap and its report stay whole."""
    sigs = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    except (AttributeError, ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _lock_path(out: Path, what: str = "lock") -> Path:
    """One lock file per output folder (``what``: ``lock`` for the write, ``claim`` for the run),
    kept out of the user's folders (the system temp dir)."""
    key = hashlib.sha256(os.fsencode(Path(os.path.abspath(out)).resolve())).hexdigest()[:32]
    folder = Path(tempfile.gettempdir()) / f"siting-locks-{os.getuid() if hasattr(os, 'getuid') else 0}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{key}.{what}"


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.with_suffix(".who").read_text())
        return f" (a {info['kind']} run, process {info['pid']})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""


@contextlib.contextmanager
def claim(out: str | Path, kind: str) -> Iterator[Path]:
    """Hold ``out`` for a whole run of ``kind``: checked (:func:`check_out` with the kind), then
    locked until the block ends; another run holding it is refused at once
    (:class:`ClaimedError`, naming it). Re-entrant within a process; yields the checked path."""
    out = check_out(out, kind)
    path = _lock_path(out, "claim")
    held = _CLAIMS.get(str(path))
    if held is not None:
        held[1] += 1
        try:
            yield out
        finally:
            held[1] -= 1
        return
    try:
        lock = _try_lock(path)
    except OSError as exc:
        raise OutputError(f"--out {out}: cannot lock the folder ({exc.strerror})") from None
    if lock is None:
        raise ClaimedError(f"--out {out}: another siting run{_holder(path)} is writing to this folder; "
                           "wait for it to end or give another --out")
    _CLAIMS[str(path)] = [lock, 1]
    try:
        with contextlib.suppress(OSError):
            path.with_suffix(".who").write_text(json.dumps({"kind": kind, "pid": os.getpid()}))
        yield out
    finally:
        del _CLAIMS[str(path)]
        lock.release()


def _check_unclaimed(out: Path) -> None:
    """Refuse to write while another process holds ``out`` (:func:`claim`); ours is fine."""
    path = _lock_path(out, "claim")
    if str(path) in _CLAIMS or not path.exists():
        return
    try:
        probe = _try_lock(path)
    except OSError:
        return
    if probe is None:
        raise WriteError(f"--out {out}: another siting run{_holder(path)} holds this folder; "
                         "nothing was written - wait for it to end or give another folder")
    probe.release()


def _try_lock(path: Path) -> FileLock | None:
    """``path``'s lock, taken at once, or None while another process holds it (OSError: cannot lock)."""
    lock = FileLock(path, timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        return None
    return lock


def _debris(parent: Path, name: str) -> list[Path]:
    """Temporary and probe folders of earlier runs of this output (only made under the lock)."""
    return [p for pattern in (f".{name}.tmp-*", f".{name}.probe-*") for p in parent.glob(pattern)
            if p.is_dir() and not p.is_symlink()]


@dataclass(frozen=True)
class Written:
    """What a write did: the folder, the run id in its manifest, and the files."""

    folder: Path
    run_id: str
    files: tuple[str, ...]


@contextlib.contextmanager
def replace_dir(out: str | Path, meta: dict | None = None, *,
                run_id: str | None = None) -> Iterator[tuple[Path, dict]]:
    """Yield ``(tmp, info)``: write files into ``tmp``; on success ``tmp`` replaces ``out``.

    The block's files are listed in the manifest written last into ``tmp``; ``out`` is checked
    again under the lock (another run may have written it meanwhile). On any failure the
    temporary folder is removed and ``out`` is as it was; a full disk is one clear error.
    ``info["written"]`` holds a :class:`Written` once the swap is done. ``meta["kind"]`` (default
    ``solve``) is refused over another kind; ``meta["partial"]`` over a complete output of its
    kind (:class:`CompleteKept`); a folder another run holds (:func:`claim`) is refused.
    """
    meta = dict(meta or {})
    kind = meta.setdefault("kind", "solve")
    out = _recheck(out, kind)
    parent, name = out.parent, out.name
    run_id = run_id or uuid.uuid4().hex
    lock = FileLock(_lock_path(out), timeout=_LOCK_WAIT_S)
    try:
        lock.acquire()
    except Timeout:
        raise WriteError(f"{out}: another siting run has been writing here for "
                          f"{_LOCK_WAIT_S:.0f} s; try again when it ends") from None
    except OSError as exc:
        raise WriteError(f"{out}: cannot lock the folder for writing ({exc.strerror})") from None
    try:
        for stale in _debris(parent, name):  # left by runs that died (we hold the lock)
            shutil.rmtree(stale, ignore_errors=True)
        _recheck(out, kind)
        _check_unclaimed(out)
        old = read_manifest(out) if out.is_dir() else None
        if meta.get("partial") and old is not None and not old.get("partial"):
            raise CompleteKept(f"--out {out}: holds a complete {kind}; the partial one was not written over it")
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=parent))
        info: dict = {}
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o777 & ~umask)
            yield tmp, info
            appeared = _foreign(out, read_manifest(out)) if out.is_dir() else []  # saved there meanwhile
            if appeared:
                raise WriteError(f"--out {out}: files appeared in the folder while the outputs were "
                                 f"being written ({', '.join(appeared[:5])}); "
                                 "nothing was changed - move them and run again")
            files = sorted(p.name for p in tmp.iterdir())
            (tmp / MANIFEST).write_text(json.dumps(
                meta | {"tool": _TOOL, "run_id": run_id, "files": files}, indent=1))
            _fsync_dir(tmp)
            with _signals_held():
                if out.exists():
                    if not _exchange(tmp, out):
                        os.replace(out, tmp.with_name(tmp.name + "-old"))
                        os.replace(tmp, out)
                        tmp = tmp.with_name(tmp.name + "-old")
                else:
                    os.replace(tmp, out)
                info["written"] = Written(out, run_id, tuple(files))
            shutil.rmtree(tmp, ignore_errors=True)  # the previous output, now in tmp
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if "written" in info:
                raise
            what = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror
            raise WriteError(f"{out}: could not write the outputs ({what}"
                              f"{': ' + Path(exc.filename).name if exc.filename else ''}); "
                              "nothing was changed, the previous output is intact") from None
        except BaseException:
            if "written" not in info:
                shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        lock.release()


def _fsync_dir(folder: Path) -> None:
    """Flush the folder's files to disk before the swap (a crash never shows a torn file)."""
    for p in folder.iterdir():
        with contextlib.suppress(OSError), open(p, "rb") as fh:
            os.fsync(fh.fileno())
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
