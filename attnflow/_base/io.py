"""Atomic file output shared by every writer in attnflow (documents, reports, trajectories, figures).

Each writer produces a temporary file next to the target and moves it into place only when it is
complete, so an interrupted or failing write never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_text", "save_figure"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, force: bool = True, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it to ``path``.

    With ``force=False`` the move is a no-clobber hard link (``FileExistsError`` if ``path``
    appeared meanwhile).  On any exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        if force:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
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
