"""Helpers shared by the benchmark scripts of ``bench/`` (run by hand, never by the tests).

* :func:`load`: the 1-minute load average, printed beside every number (ratios count only when the
  load is low and equal for both sides);
* :func:`git_show`: a file of an earlier revision, for a "before" column measured in the same run;
* :func:`import_path`: a module imported from a file under a name of its own, registered in
  ``sys.modules`` (numba's cache rebuilds a compiled function's environment by its module name).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["ROOT", "git_show", "import_path", "load"]


def load(digits: int = 1) -> str:
    """The 1-minute load average with ``digits`` decimals ("?" where the platform has none)."""
    try:
        return f"{os.getloadavg()[0]:.{digits}f}"
    except OSError:  # pragma: no cover
        return "?"


def git_show(rev: str, path: str) -> str:
    """The text of ``path`` (relative to the repository root) at revision ``rev``."""
    return subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], check=True, capture_output=True,
                          text=True).stdout


def import_path(path: Path, name: str):
    """The module in the file ``path``, imported as ``name`` (and registered in ``sys.modules``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
