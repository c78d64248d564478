"""Writing an export into its output folder, atomically (private; re-exported by :mod:`attnflow.export`).

The package is written into a temporary sibling directory (:func:`write_package`, ``manifest.json``
last) and renamed into place at the end (:func:`install`), so a failure leaves nothing
half-written; an existing ``DIR`` is replaced only with ``force=True`` and only if it is empty or an
earlier export (it holds a ``manifest.json`` written by ``attnflow export``: :func:`check_out`).
"""

from __future__ import annotations

import json
import keyword
import os
import secrets
import shutil
import sys
from pathlib import Path

import numpy as np

from ._manifest import GENERATOR

__all__ = ["package_name", "check_out", "write_package", "install"]

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
        raise ValueError(f"out: the parent directory {path.parent} does not exist; create it first")
    if path.exists() or path.is_symlink():
        if not force:
            raise ValueError(f"out: {path} already exists; pass --force to replace it")
        if path.is_symlink() or not path.is_dir():
            raise ValueError(f"out: {path} exists and is not a directory; refusing to replace it even with --force")
        if any(path.iterdir()) and not _is_previous_export(path):
            raise ValueError(f"out: {path} is not empty and is not an earlier attnflow export (no manifest.json "
                             "written by attnflow export); refusing to delete it even with --force")
    return path, name


def _is_previous_export(path: Path) -> bool:
    try:
        with open(path / "manifest.json", encoding="utf-8") as fh:
            return json.load(fh).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


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
