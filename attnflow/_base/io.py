"""Atomic file output shared by every writer in attnflow (documents, reports, trajectories, figures).

Each writer produces a temporary file next to the target and moves it into place only when it is
complete, so an interrupted or failing write never leaves a half-written file behind:

- the temporary file is created *inside* the ``try`` (with SIGINT/SIGTERM blocked for the few
  instructions between its creation and the bookkeeping), so an interrupt at any point removes it;
- :func:`install_signal_handlers` (installed by the CLI) turns SIGTERM into the exception
  :class:`Terminated`, so ``finally`` blocks run on ``kill`` as they do on Ctrl-C;
- the finished file gets the permissions of an ordinary new file (``0o666`` minus the umask), not
  the ``0o600`` of :func:`tempfile.mkstemp`, so figures and reports can be shared.

:func:`check_output_path` vets an output path *before* any computation (every command that writes
a file calls it): the parent folder exists, is a folder and is writable, the path is not a folder,
and an existing file is replaced only with ``force``.  :func:`check_output_dir` does the same for an
output *folder* (``derive --out``, ``export --out``, ``sweep --out``): the folder itself is created
by the writer, its parent must exist.  The rule is the same everywhere: **parent folders are never
created**; a missing one is an error naming the option and ``mkdir -p``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "OutputExistsError",
    "Terminated",
    "atomic_path",
    "atomic_write_text",
    "check_output_path",
    "check_output_dir",
    "deferred_signals",
    "file_mode",
    "install_signal_handlers",
    "save_figure",
]

_UMASK_LOCK = threading.Lock()
_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s is not None)


class OutputExistsError(FileExistsError, ValueError):
    """The output file exists and ``force`` was not given (both a ``FileExistsError``, as the API
    documented, and a ``ValueError``, as every bad argument)."""


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM once :func:`install_signal_handlers` ran (a
    ``KeyboardInterrupt`` subclass: every ``except KeyboardInterrupt`` / ``finally`` cleanup runs)."""


def _raise_terminated(signum, frame):  # pragma: no cover - exercised through a subprocess
    raise Terminated(f"terminated by signal {signum}")


def install_signal_handlers():
    """Make SIGTERM raise :class:`Terminated` in the main thread (no-op elsewhere); returns the
    previous handler (``None`` if nothing was installed), for :func:`signal.signal` to restore.

    Python's default for SIGTERM kills the process without unwinding, so ``finally`` blocks (the
    removal of temporary files) never run; this turns it into an exception like Ctrl-C.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def file_mode() -> int:
    """The mode of an ordinary new file: ``0o666`` minus the process umask."""
    with _UMASK_LOCK:
        mask = os.umask(0)
        os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Defer SIGINT/SIGTERM (main thread, POSIX) for a few instructions; delivered on exit."""
    block = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS) if block else None
    try:
        yield
    finally:
        if block:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def deferred_signals():
    """Context manager deferring SIGINT/SIGTERM (main thread, POSIX) until its block is left.

    For the bookkeeping that must not be cut short: creating a temporary folder and recording its
    path, and removing it again in a ``finally`` (a second SIGTERM during the removal would
    otherwise abort it and leave the folder behind).  A signal that arrives meanwhile is delivered
    on exit (as :class:`Terminated` once :func:`install_signal_handlers` ran).
    """
    return _signals_blocked()


def check_output_path(path: str | os.PathLike, *, option: str, force: bool = False,
                      suffixes: tuple[str, ...] | None = None) -> Path:
    """Vet an output file path before any computation; return it as a :class:`~pathlib.Path`.

    Raises ``ValueError`` whose message starts with ``option`` (the argument or CLI option, e.g.
    ``"--save"``) and says the fix, when: the suffix is not one of ``suffixes`` (if given); the
    path is a folder; the parent folder is missing or not a folder (it is never created
    implicitly: create it first); the parent is not writable; or the file exists and ``force`` is
    false.
    """
    if path is None or str(path) == "":
        raise ValueError(f"{option}: give a file name")
    p = Path(os.fspath(path))
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise ValueError(f"{option}: {p} is a directory; give a file name inside it, e.g. {p / ('out' + (suffixes[0] if suffixes else ''))}")
    if suffixes is not None and p.suffix.lower() not in suffixes:
        want = suffixes[0] if len(suffixes) == 1 else ", ".join(suffixes[:-1]) + " or " + suffixes[-1]
        raise ValueError(f"{option}: {str(p)!r} must end in {want} (e.g. {option} out{suffixes[0]})")
    if not parent.exists():
        raise _missing_parent(option, parent)
    if not parent.is_dir():
        raise ValueError(f"{option}: {parent} is not a folder")
    if p.exists() and not force:
        raise OutputExistsError(f"{option}: {p} exists; pass --force to overwrite it or choose another path")
    # writable? try it (os.access is wrong for root and for read-only mounts)
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=f".{p.name}.", suffix=".probe")
    except OSError as exc:
        raise ValueError(f"{option}: cannot write into folder {parent} ({exc.strerror}); choose a writable folder") from None
    os.close(fd)
    os.unlink(probe)
    return p


def _missing_parent(option: str, parent: Path) -> ValueError:
    return ValueError(f"{option}: folder {parent} does not exist; create it first (mkdir -p {parent})")


def check_output_dir(path: str | os.PathLike, *, option: str) -> Path:
    """Vet an output *folder* before any computation; return it as a :class:`~pathlib.Path`.

    ``ValueError`` starting with ``option`` when the path exists and is not a folder, or its parent
    folder is missing (never created implicitly), not a folder or not writable.  Whether an existing
    folder may be replaced (``--force``) is the caller's rule (what the folder must hold).
    """
    if path is None or str(path) == "":
        raise ValueError(f"{option}: give a folder name")
    p = Path(os.fspath(path))
    parent = p.parent if str(p.parent) else Path(".")
    if p.exists() and not p.is_dir():
        raise ValueError(f"{option}: {p} exists and is not a folder")
    if not parent.exists():
        raise _missing_parent(option, parent)
    if not parent.is_dir():
        raise ValueError(f"{option}: {parent} is not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(dir=parent, prefix=f".{p.name}.probe-"))
    except OSError as exc:
        raise ValueError(f"{option}: cannot write into folder {parent} ({exc.strerror}); choose a writable folder") from None
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, force: bool = True, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it to ``path``.

    With ``force=False`` the move is a no-clobber hard link (``FileExistsError`` if ``path``
    appeared meanwhile).  On any exception (``KeyboardInterrupt`` and :class:`Terminated`
    included) the temporary file is removed and ``path`` is untouched.  The final file has mode
    :func:`file_mode` (``0o666`` minus the umask).
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    tmp = None
    try:
        with _signals_blocked():  # an interrupt between mkstemp and the assignment cannot leak the file
            fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=suffix)
            os.close(fd)
        os.chmod(tmp, file_mode())
        yield Path(tmp)
        if force:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            os.unlink(tmp)
    except BaseException:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str, *, force: bool = True) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically; returns the path."""
    with atomic_path(path, force=force) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return Path(path)


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 110, force: bool = True) -> Path:
    """``fig.savefig`` into ``path`` atomically (the format follows ``path``'s suffix)."""
    path = Path(path)
    with atomic_path(path, force=force, suffix=path.suffix or ".png") as tmp:
        fig.savefig(tmp, dpi=dpi)
    return path
