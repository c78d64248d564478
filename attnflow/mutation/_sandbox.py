"""A private copy of the package source, with one mutant applied, importable in a subprocess.

The repository's folders are mapped into the import package by ``pyproject.toml``
(``[tool.setuptools] package-dir``: ``symbolic/`` is ``attnflow.symbolic`` ...).  :func:`make_copy`
lays them out under ``<dest>/src/attnflow/`` as installed, so a subprocess that puts ``<dest>/src``
first on ``sys.path`` imports the copy (and :data:`BOOT` refuses to run if it does not).  The numba
on-disk cache lives in ``__pycache__`` next to each source file, i.e. inside the copy; the copy
starts from the user's cache files (read only) so unmodified kernels are not recompiled.  The
user's tree is only read.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from attnflow.mutation._catalogue import Mutant

__all__ = ["CatalogueDrift", "package_dirs", "locate", "make_copy", "copy_path", "apply_mutant", "BOOT",
           "subprocess_env", "regenerate"]


class CatalogueDrift(ValueError):
    """A mutant's original text is not found exactly once: the catalogue no longer matches the code."""


#: Bootstrap of every subprocess: ``python -c BOOT <src> <attnflow CLI args...>``.
BOOT = r"""
import os, sys
src = os.path.realpath(sys.argv[1]); del sys.argv[1]
sys.path.insert(0, src)
import attnflow, attnflow.symbolic, attnflow.numerics, attnflow.properties
for _m in (attnflow, attnflow.symbolic, attnflow.numerics, attnflow.properties):
    if not os.path.realpath(_m.__file__).startswith(src + os.sep):
        sys.stderr.write(f"attnflow mutate: {_m.__name__} was imported from {_m.__file__}, not from the copy {src}\n")
        sys.exit(97)
if sys.argv[1:2] == ["--regenerate"]:
    import json
    from attnflow.symbolic.codegen.kernels import generated_files
    mapping = json.loads(sys.argv[2])
    changed = []
    for rel, text in sorted(generated_files().items()):
        for prefix, target in mapping:
            if rel.startswith(prefix):
                path = os.path.join(target, rel[len(prefix):])
                break
        else:
            raise SystemExit(f"attnflow mutate: no copy folder for generated file {rel}")
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old != text:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            changed.append(rel)
    print(json.dumps(changed))
    sys.exit(0)
from attnflow.cli import main
sys.exit(main(sys.argv[1:]))
"""

#: Exit code of :data:`BOOT` when the copy is not what was imported.
NOT_THE_COPY = 97


def package_dirs(root: Path) -> list[tuple[str, str]]:
    """``(folder in the repository, folder in the copy)`` pairs from ``pyproject.toml``, longest folder first."""
    pyproject = Path(root) / "pyproject.toml"
    if not pyproject.is_file():
        raise ValueError(f"root: {root} has no pyproject.toml; pass the attnflow source checkout (--root)")
    conf = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    mapping = conf.get("tool", {}).get("setuptools", {}).get("package-dir", {})
    if "attnflow" not in mapping:
        raise ValueError(f"root: {pyproject} maps no folder to the package 'attnflow' ([tool.setuptools] package-dir)")
    pairs = [(folder.strip("/"), "src/" + pkg.replace(".", "/")) for pkg, folder in mapping.items()]
    return sorted(pairs, key=lambda p: -len(p[0]))


def copy_path(rel: str, pairs: list[tuple[str, str]]) -> str:
    """The path inside the copy of the repository-relative source path ``rel``."""
    for folder, target in pairs:
        if rel == folder or rel.startswith(folder + "/"):
            return target + rel[len(folder):]
    raise ValueError(f"file: {rel!r} is not inside a package folder ({', '.join(f for f, _ in pairs)})")


def _region(text: str, mutant: Mutant) -> tuple[int, int]:
    if not mutant.within:
        return 0, len(text)
    count = text.count(mutant.within)
    if count != 1:
        raise CatalogueDrift(f"mutant {mutant.id}: anchor {mutant.within!r} occurs {count} times in "
                             f"{mutant.file} (need exactly 1); update the catalogue (attnflow/mutation/_catalogue.py)")
    start = text.index(mutant.within)
    stops = [i for i in (text.find("\n@", start), text.find("\ndef ", start + 1)) if i != -1]
    return start, min(stops) if stops else len(text)


def locate(mutant: Mutant, text: str) -> int:
    """Offset of the mutant's original text in ``text``; :class:`CatalogueDrift` unless found exactly once."""
    lo, hi = _region(text, mutant)
    region = text[lo:hi]
    count = region.count(mutant.original)
    if count != 1:
        where = f" after {mutant.within!r}" if mutant.within else ""
        raise CatalogueDrift(f"mutant {mutant.id}: original text {mutant.original!r} occurs {count} times in "
                             f"{mutant.file}{where} (need exactly 1); the code changed - update the catalogue "
                             "(attnflow/mutation/_catalogue.py)")
    return lo + region.index(mutant.original)


def check_mutant(mutant: Mutant, root: Path) -> None:
    """Raise :class:`CatalogueDrift` unless ``mutant`` applies to the source tree at ``root``."""
    path = Path(root) / mutant.file
    if not path.is_file():
        raise CatalogueDrift(f"mutant {mutant.id}: file {mutant.file} does not exist under {root}")
    locate(mutant, path.read_text(encoding="utf-8"))


def _ignore(folder, names):
    return [n for n in names if n in (".hypothesis", ".pytest_cache") or n.endswith(".egg-info")]


def make_copy(root: Path, dest: Path) -> Path:
    """Copy the package folders of ``root`` into ``dest/src`` (installed layout, mtimes kept); return ``dest/src``."""
    root, dest = Path(root).resolve(), Path(dest)
    for folder, target in sorted(package_dirs(root), key=lambda p: len(p[1])):
        shutil.copytree(root / folder, dest / target, ignore=_ignore, dirs_exist_ok=True, copy_function=shutil.copy2)
    return dest / "src"


def _drop_caches(path: Path) -> None:
    """Remove the bytecode and numba cache files of the module at ``path`` (they are recompiled)."""
    cache = path.parent / "__pycache__"
    if cache.is_dir():
        for f in cache.glob(path.stem + ".*"):
            f.unlink()


def apply_mutant(mutant: Mutant, copy_root: Path, pairs: list[tuple[str, str]]) -> Path:
    """Apply ``mutant`` to the copy at ``copy_root`` (the folder holding ``src/``); return the mutated file."""
    path = Path(copy_root) / copy_path(mutant.file, pairs)
    text = path.read_text(encoding="utf-8")
    at = locate(mutant, text)
    path.write_text(text[:at] + mutant.replacement + text[at + len(mutant.original):], encoding="utf-8")
    _drop_caches(path)
    return path


def subprocess_env(work: Path) -> dict[str, str]:
    """Environment of the subprocesses: numba and attnflow caches inside ``work``, nothing from the user's tree."""
    env = dict(os.environ)
    env.pop("NUMBA_CACHE_DIR", None)  # numba caches next to the (copied) sources
    env.pop("PYTHONPATH", None)
    env["ATTNFLOW_KERNEL_CACHE"] = str(Path(work) / "kernel-cache")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # only pass/fail matters here: no shrinking (an expensive claim's shrink can outlast the time budget)
    env["ATTNFLOW_CHECK_NO_SHRINK"] = "1"
    return env


def regenerate(copy_root: Path, pairs: list[tuple[str, str]], timeout: float = 900.0) -> list[str]:
    """Regenerate the copy's generated kernels from its (mutated) generator; return the changed files."""
    copy_root = Path(copy_root)
    gen = "numerics/_generated"
    mapping = [[gen + "/", str(copy_root / copy_path(gen, pairs)) + "/"]]
    proc = subprocess.run([sys.executable, "-c", BOOT, str(copy_root / "src"), "--regenerate", json.dumps(mapping)],
                          cwd=copy_root, env=subprocess_env(copy_root), capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"regenerating the kernels failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    changed = json.loads(proc.stdout.strip().splitlines()[-1])
    for rel in changed:
        _drop_caches(copy_root / copy_path(rel, pairs))
    return changed
