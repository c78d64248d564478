"""``attnflow export`` of a user's model (tests/data/user_models.py): catalogue entries derived from the
declaration, verification by the generic claims ``model.<name>.*``, the kernel module from the kernel
cache, expected outputs from the 50-digit SymPy route, and the exported package's self-test.

The default run exports ``sigmoid`` and runs the package's self-test in-process (~10 s); the export of
all three user models into a fresh virtual environment with only numpy and numba, and the refusal
of the wrong-energy model, are opt-in (``--runslow``).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import attnflow.models as am
from attnflow import export
from attnflow.cli import main
from attnflow.properties import registry

DATA = Path(__file__).resolve().parents[1] / "data"
USER = DATA / "user_models.py"
WRONG = DATA / "wrong_energy_models.py"


@pytest.fixture(scope="module")
def user_models():
    names = [m.name for m in am.load(USER, replace=True)]
    yield names
    for n in names:
        if n in am.names():
            am.unregister(n)
    registry.all_claims()
    export.sync_user_kernels()  # drop their catalogue entries


def test_catalogue_entries_of_user_models(user_models):
    export.sync_user_kernels()
    for name in user_models:
        specs = export.resolve_kernels([name])  # a model name stands for its kernels
        blas = [f"{name}_velocity_blas"] if name == "sigmoid_qkv" else []  # Q/K/V: the keyed BLAS path too
        assert [s.name for s in specs] == [f"{name}_velocity", f"{name}_velocity_ensemble", *blas, f"{name}_energy_rows"]
        for s in specs:
            assert s.models == (name,) and s.claims[0] == f"model.{name}"
            assert s.cached_module and s.module == s.cached_module and s.stem == name
            assert export.import_problems(export._sources.kernel_source(s)) == []
    rows = {r["name"]: r for r in export.kernel_table()}
    assert rows["sigmoid_velocity"]["claims"] == [f"model.sigmoid.{f}" for f in
                                                 ("kernel", "dissipation", "monotone", "stationary", "order",
                                                  "cluster")]
    # the SymPy route agrees with an independent NumPy evaluation of the sigmoid field (mean normalisation)
    (case, *_), = [export.resolve_kernels(["sigmoid_velocity"])[0].cases()]
    x, beta, b = case.inputs["x"], float(case.inputs["beta"]), float(case.inputs["b"])
    w = 1.0 / (1.0 + np.exp(-(beta * (x @ x.T) + b)))
    a = w @ x / len(x)
    want = a - np.sum(a * x, axis=1, keepdims=True) * x
    assert np.allclose(case.expected["out"], want, rtol=0, atol=1e-14)


def test_export_sigmoid_and_run_its_selftest_in_process(user_models, tmp_path, capsys, monkeypatch):
    out = tmp_path / "sigmoid_kernels"
    assert main(["export", "sigmoid", "--models", str(USER), "--out", str(out), "-q"]) == 0
    assert "3 kernel(s) [sigmoid_velocity, sigmoid_velocity_ensemble, sigmoid_energy_rows], 7 claim(s)" in capsys.readouterr().out
    m = json.loads((out / "manifest.json").read_text())
    assert m["command"].startswith(f"attnflow export --models {USER} sigmoid_velocity sigmoid_velocity_ensemble sigmoid_energy_rows --out")
    assert [k["name"] for k in m["kernels"]] == ["sigmoid_velocity", "sigmoid_velocity_ensemble", "sigmoid_energy_rows"]
    for k in m["kernels"]:
        assert k["models"] == ["sigmoid"] and "SymPy" in k["reference"]
        assert {c["id"] for c in k["claims"]} - {"ensemble.batch_equals_loop"} == {
            f"model.sigmoid.{f}" for f in ("kernel", "dissipation", "monotone", "stationary", "order", "cluster")}
        assert all(c["ok"] for c in k["claims"]) and any(c["kernel_calls"] for c in k["claims"])
    text = (out / "kernels" / "sigmoid.py").read_text()
    assert text == export._sources.kernel_source(export.KERNELS["sigmoid_velocity"])  # copied verbatim
    monkeypatch.syspath_prepend(str(tmp_path))
    pkg = importlib.import_module("sigmoid_kernels")
    rows = pkg.selftest()
    assert {r["function"] for r in rows} == {"sigmoid_velocity", "sigmoid_velocity_serial",
                                             "sigmoid_velocity_ensemble", "sigmoid_velocity_ensemble_serial",
                                             "sigmoid_energy_rows", "sigmoid_energy_rows_serial"}
    assert all(r["max_error"] <= r["bound"] for r in rows)
    # a corrupted stored reference output makes the self-test fail
    rel = m["kernels"][0]["cases"][0]["expected"]["out"]
    arr = np.load(out / rel)
    arr[0, 0] += 1e-6
    np.save(out / rel, arr)
    with pytest.raises(pkg.SelftestError):
        pkg.selftest()
    sys.modules.pop("sigmoid_kernels", None)


@pytest.mark.slow
def test_wrong_energy_model_is_refused(tmp_path):
    names = [m.name for m in am.load(WRONG, replace=True)]
    try:
        with pytest.raises(export.ExportRefused, match="model.sigmoid_wrong.dissipation came out 'fails'"):
            export.export_kernels(["sigmoid_wrong"], tmp_path / "pkg", seed=0)
        assert list(tmp_path.iterdir()) == []
    finally:
        for n in names:
            am.unregister(n)
        export.sync_user_kernels()


@pytest.mark.slow
def test_user_models_export_runs_in_a_fresh_venv_with_only_numpy_and_numba(user_models, tmp_path):
    report = export.export_kernels(["sigmoid", "sigmoid_qkv", "quadratic"], tmp_path / "user_kernels", seed=5)
    assert len(report.kernels) == 6 and report.refused == {}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "numpy", "numba"], check=True, timeout=600,
                   capture_output=True)
    listed = subprocess.run([str(py), "-m", "pip", "list", "--format=json"], check=True, capture_output=True,
                            text=True).stdout
    assert {p["name"].lower() for p in json.loads(listed)} <= {"numpy", "numba", "llvmlite", "pip", "setuptools"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NUMBA"))}
    res = subprocess.run([str(py), "-m", "user_kernels", "selftest", "-q"], cwd=str(tmp_path), env=env,
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0 and "selftest passed: 6 kernels" in res.stdout, res.stderr
