"""An export of every kernel runs in a fresh virtual environment that has only numpy and numba.

The end-to-end check that an exported package needs nothing but numpy and numba: about 30 s for the
venv plus compiling every exported kernel cold.  Its own file so that a parallel test run (pytest-xdist,
``--dist loadfile``) schedules it beside the rest instead of behind ``test_export.py``'s other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from attnflow import export
from tests.cli.test_export import TEST_FAMILY, _check_all_models, _check_blocked, _claim, _install_claims


def test_fresh_venv_with_only_numpy_and_numba(tmp_path_factory):
    parent = tmp_path_factory.mktemp("venv_export")
    with pytest.MonkeyPatch.context() as mp:
        _install_claims(mp, [_claim(f"{TEST_FAMILY}.all_models", _check_all_models),
                             _claim(f"{TEST_FAMILY}.blocked", _check_blocked)], list(export.KERNELS))
        report = export.export_kernels(None, parent / "all_kernels", all_kernels=True, seed=77)
    assert report.kernels == list(export.KERNELS) and report.refused == {}
    venv = parent / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "numpy", "numba"], check=True, timeout=600,
                   capture_output=True)
    listed = subprocess.run([str(py), "-m", "pip", "list", "--format=json"], check=True, capture_output=True,
                            text=True).stdout
    assert {p["name"].lower() for p in json.loads(listed)} <= {"numpy", "numba", "llvmlite", "pip", "setuptools"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NUMBA"))}
    res = subprocess.run([str(py), "-c", "import importlib.util as u; assert u.find_spec('attnflow') is None; "
                          "import all_kernels; print(len(all_kernels.selftest()))"],
                         cwd=str(parent), env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([str(py), "-m", "all_kernels", "selftest", "-q"], cwd=str(parent), env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and f"selftest passed: {len(export.KERNELS)} kernels" in res.stdout, res.stderr
