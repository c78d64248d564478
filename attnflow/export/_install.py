"""Writing an export into its output folder, atomically (private; re-exported by :mod:`attnflow.export`).

The package is written into a temporary sibling directory (:func:`write_package`, ``manifest.json``
last) and renamed into place at the end (:func:`install`), so a failure leaves nothing
half-written; an existing ``DIR`` is replaced only with ``force=True`` and only if it is empty or an
earlier export (it holds a ``manifest.json`` written by ``attnflow export``: :func:`check_out`).
"""

from __future__ import annotations

import contextlib
import json
import keyword
import os
import re
import secrets
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ._manifest import GENERATOR

__all__ = ["package_name", "check_out", "export_files", "write_package", "install", "staging"]

_RESERVED_NAMES = frozenset({"attnflow", "numpy", "numba", "sympy", "scipy", "hypothesis", "llvmlite"})


def package_name(out) -> str:
    """The import name of the package written to ``out`` (its last path component), validated.

    Raises ``ValueError`` (naming ``out``) unless it is a Python identifier that is not a keyword
    and does not shadow attnflow, its dependencies or a standard-library module.
    """
    if out is None or str(out) == "":
        raise ValueError("out: give the package directory to write, e.g. --out build/attnflow_kernels")
    name = Path(os.fspath(out)).name
    if name in ("", ".", ".."):
        raise ValueError(f"out: {str(out)!r} has no last component to use as the package name; "
                         "give a folder such as build/attnflow_kernels")
    if not name.isidentifier() or keyword.iskeyword(name):
        fixed = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
        if not fixed or fixed[0].isdigit():
            fixed = "k_" + fixed
        raise ValueError(f"out: the last component {name!r} is the import name of the package and must be a "
                         f"valid Python identifier (letters, digits, underscores, not a keyword), e.g. {fixed!r}")
    if name in _RESERVED_NAMES or name in sys.stdlib_module_names:
        raise ValueError(f"out: the package name {name!r} would shadow an existing module; "
                         f"choose another, e.g. '{name}_kernels'")
    return name


def check_out(out, force: bool) -> tuple[Path, str]:
    """The absolute target path and package name for ``out``; ``ValueError`` (naming ``out``) if it
    may not be written (missing parent; existing without ``force``; with ``force``, not a directory,
    or neither empty nor an earlier export)."""
    name = package_name(out)
    path = Path(os.path.abspath(os.fspath(out)))
    if not path.parent.is_dir():
        raise ValueError(f"out: the parent directory {path.parent} does not exist; create it first "
                         f"(mkdir -p {path.parent})")
    if not os.access(path.parent, os.W_OK) or not _writable(path.parent):
        raise ValueError(f"out: cannot write into {path.parent}; choose a writable folder")
    if path.exists() or path.is_symlink():
        if not force:
            raise ValueError(f"out: {path} already exists; pass --force to replace it")
        if path.is_symlink() or not path.is_dir():
            raise ValueError(f"out: {path} exists and is not a directory; refusing to replace it even with --force")
        if any(path.iterdir()):
            written = export_files(path)
            if written is None:
                raise ValueError(f"out: {path} is not empty and is not an earlier attnflow export (no manifest.json "
                                 "written by attnflow export); refusing to delete it even with --force")
            foreign = [p.relative_to(path).as_posix() for p in sorted(path.rglob("*"))
                       if p.is_file() or p.is_symlink()]
            foreign = [rel for rel in foreign if rel not in written and not _is_cache(rel)]
            if foreign:
                shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
                raise ValueError(f"out: {path} holds files an earlier export did not write ({shown}); "
                                 "refusing to delete them even with --force: move them away first")
    return path, name


def _writable(folder: Path) -> bool:
    import tempfile

    try:
        tmp = tempfile.mkdtemp(dir=folder, prefix=".attnflow-probe-")
    except OSError:
        return False
    os.rmdir(tmp)
    return True


_KERNEL_FILE = re.compile(r"kernels/[A-Za-z_][A-Za-z0-9_]*\.py\Z")
_DATA_FILE = re.compile(r"data/[A-Za-z_][A-Za-z0-9_]*/case[0-9]+\.[A-Za-z0-9_.]+\.npy\Z")
_FIXED_FILES = ("__init__.py", "__main__.py", "_selftest.py", "_dispatch.py", "integrate.py", "pyproject.toml",
                "README.md", "manifest.json", "kernels/__init__.py")


def _is_cache(rel: str) -> bool:
    """Files Python and numba write when the package is imported or run (``__pycache__/``)."""
    parts = rel.split("/")
    return len(parts) >= 2 and parts[-2] == "__pycache__" and parts[-1].endswith((".pyc", ".nbi", ".nbc"))


def export_files(path: Path) -> set[str] | None:
    """The files (relative POSIX paths) an earlier export wrote into ``path``, from its manifest; None if
    ``path`` holds no manifest written by ``attnflow export``.  Only names an export can write count
    (the fixed files, ``kernels/<name>.py``, ``data/<kernel>/case<i>.<arg>.npy``): a crafted manifest
    cannot license the deletion of other files."""
    try:
        with open(path / "manifest.json", encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("generator") != GENERATOR:
        return None
    out = set(_FIXED_FILES)
    try:
        for entry in manifest.get("files", []):
            out.add(entry["path"])
        for k in manifest.get("kernels", []):
            for case in k.get("cases", []):
                out.update(case.get("inputs", {}).values())
                out.update(case.get("expected", {}).values())
    except (TypeError, KeyError, AttributeError):
        return None
    return {rel for rel in out if isinstance(rel, str)
            and (rel in _FIXED_FILES or _KERNEL_FILE.match(rel) or _DATA_FILE.match(rel))}


def _block_signals():
    if hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread():
        return signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGTERM))
    return None


def _restore_signals(old) -> None:
    if old is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def staging(path: Path) -> Iterator[Path]:
    """A temporary sibling folder of ``path`` that is removed on any exception (Ctrl-C and SIGTERM
    included: its creation and its removal run with SIGINT/SIGTERM deferred, so an interrupt can
    neither leak it between ``mkdir`` and the ``try`` nor cut its removal short)."""
    path = Path(path)
    tmp = None
    try:
        old = _block_signals()
        try:
            tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
            tmp.mkdir()
        finally:
            _restore_signals(old)
        yield tmp
    except BaseException:
        if tmp is not None:
            old = _block_signals()
            try:
                shutil.rmtree(tmp, ignore_errors=True)
            finally:
                _restore_signals(old)
        raise


def _write_text(root: Path, rel: str, text: str) -> None:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def _save(root: Path, rel: str, array: np.ndarray) -> None:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    np.save(target, np.asarray(array), allow_pickle=False)


def write_package(tmp: Path, texts: dict[str, str], arrays: dict[str, np.ndarray]) -> None:
    """Write the files of a package into the (temporary) folder ``tmp``; ``manifest.json`` last."""
    for rel, arr in arrays.items():
        _save(tmp, rel, arr)
    for rel, text in texts.items():
        if rel != "manifest.json":
            _write_text(tmp, rel, text)
    _write_text(tmp, "manifest.json", texts["manifest.json"])  # last: its presence marks a complete export


def install(tmp: Path, path: Path, force: bool) -> None:
    """Rename ``tmp`` to ``path``; with ``force`` move an existing ``path`` aside first, delete it after."""
    if path.exists():
        if not force:
            raise ValueError(f"out: {path} was created while exporting; pass --force to replace it")
        old = path.parent / f".{path.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
        os.rename(path, old)
        try:
            os.rename(tmp, path)
        except BaseException:
            os.rename(old, path)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, path)
