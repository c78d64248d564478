"""``attnflow export``: catalogue consistency, verification gate, atomic writing, standalone selftest.

Numba kernels have a serial twin ``<kernel>_serial`` (used by the public API for small problems): the
tracer counts it under the kernel, the export ships it and the self-test runs it on the same cases.
``sa_velocity_blocked`` is a generated pure-NumPy function (int arguments, partial row ranges).

Expected kernel outputs come from the independent plain-NumPy implementation
(``attnflow.numerics._reference``).  The registry has no kernel-exercising claims yet, so the export
path is exercised with a small claim monkeypatched into the registry: it checks the public field
API (which calls the generated kernels) against the reference on drawn configurations.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numba
import numpy as np
import pytest
import scipy
import sympy
import sympy as sp
from hypothesis import strategies as st

import attnflow
from attnflow import export
from attnflow.cli import main
from attnflow.export import _install, _sources, _verification
from attnflow.numerics import _reference as ref
from attnflow.numerics import fields
from attnflow.properties import registry
from attnflow.properties.registry import Claim, require

TEST_FAMILY = "export_selftest"


# ----------------------------------------------------------------------------------------------
# a claim that exercises kernels through the public API


def _sphere(seed, n, d):
    x = np.random.default_rng(seed).standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def _check_sa_usa(ex):
    x = _sphere(ex["seed"], ex["n"], ex["d"])
    worst = 0.0
    for model in ("sa", "usa"):
        err = _rel_err(fields.velocity(x, model=model, beta=ex["beta"]), ref.velocity_ref(x, model, ex["beta"]))
        require(err <= 1e-10, f"{model}: kernel vs reference {err:.3e}")
        worst = max(worst, err)
    return worst


def _gradient_flow_params(spec, rng, d):
    """Parameters of ``spec`` (every declared model) under its energy's hypotheses where it has one."""
    p = {}
    for m in spec.matrix_params:
        shape = tuple({"d": d, "H": 2, "m": 2}[k] for k in m.shape)
        a = rng.standard_normal(shape)
        p[m.name] = 0.5 * (a + np.swapaxes(a, -1, -2)) if len(shape) >= 2 and shape[-1] == shape[-2] else a
    if getattr(spec, "energy_score", None) is not None:  # Q^T K = V = V^T
        p[spec.query], p[spec.key] = np.eye(d), p[spec.energy_score]
    return p


def _model_pairs(x, th, beta, rng, n_tokens):
    """(kernel value, reference value) for every registered model: velocity, energy where defined."""
    pairs = []
    for name, spec in fields.MODELS.items():
        p = _gradient_flow_params(spec, rng, x.shape[1])
        variants = [{}] if not isinstance(spec.normalization, dict) else [{"normalization": c} for c in spec.normalization]
        for v in variants:
            q = {**p, **v}
            states = [th[0], th] if spec.manifold == "angles" else [2.0 * x if spec.manifold == "euclidean" else x]
            for state in states:
                pairs.append((fields.velocity(state, model=name, beta=beta, t=0.3, **q),
                              ref.velocity_ref(state, name, beta, t=0.3, **q)))
            if spec.has_energy and beta != 0.0 and not v.get("normalization", "shared") != "shared":
                state = th[0] if spec.manifold == "angles" else x
                pairs.append((np.array(fields.energy(state, model=name, beta=beta, **q)),
                              np.array(ref.energy_ref(state, name, beta, **q))))
    return pairs


def _check_all_models(ex):
    seed, n, d, beta = ex["seed"], ex["n"], ex["d"], ex["beta"]
    rng = np.random.default_rng(seed)
    x = _sphere(seed, n, d)
    worst = _check_sa_usa(ex)
    th = rng.uniform(-np.pi, np.pi, (2, n))
    pairs = _model_pairs(x, th, beta, rng, n)
    from attnflow.numerics.interpolation import attention_average  # the auxiliary interp_attention kernel

    B = rng.standard_normal((d, d))
    pairs.append((attention_average(x, B), ref.velocity_ref(x, "interp_attention", 1.0, B=B)))
    pairs += _ensemble_pairs(seed, n, d, beta)
    for got, want in pairs:
        err = _rel_err(got, want)
        require(err <= 1e-10, f"kernel vs reference {err:.3e}")
        worst = max(worst, err)
    return worst


def _ensemble_pairs(seed, n, d, beta):
    """(ensemble kernel value, stacked references) for every generated sphere / Euclidean declaration:
    the batch path ``<kernel>_velocity_ensemble`` of the public API."""
    from attnflow.symbolic.codegen import generated_models

    rng = np.random.default_rng([seed, 1])
    pairs = []
    for decl in generated_models():
        if decl.manifold == "angles":
            continue
        p = _gradient_flow_params(decl, rng, d)
        variants = [{}] if not isinstance(decl.normalization, dict) else [{"normalization": c} for c in decl.normalization]
        xs = np.stack([_sphere([seed, b], n, d) for b in range(3)])
        if decl.manifold == "euclidean":
            xs = 2.0 * xs
        for v in variants:
            q = {**p, **v}
            if decl.name == "interp_attention":
                q = {"B": rng.standard_normal((d, d))}
            pairs.append((fields.velocity(xs, model=decl, beta=beta, t=0.3, **q),
                          np.stack([ref.velocity_ref(xb, decl.name, beta, t=0.3, **q) for xb in xs])))
    return pairs


def _interp_params(rng, d, m=2):
    return {"V": rng.standard_normal((d, d)), "B": rng.standard_normal((d, d)), "W": rng.standard_normal((d, m)),
            "U": rng.standard_normal((m, d)), "b": rng.standard_normal(m)}


def _check_blocked(ex):
    """n = 256 >= sqrt(PARALLEL_MIN_PAIRS): self-attention and keyed models take their BLAS paths."""
    x = _sphere(ex["seed"], 256, ex["d"])
    worst = 0.0
    for name in ("sa", "usa", "preln", "periln", "ngpt", "sqrt", "usa_rescaled"):
        err = _rel_err(fields.velocity(x, model=name, beta=ex["beta"], t=0.3), ref.velocity_ref(x, name, ex["beta"], t=0.3))
        require(err <= 1e-10, f"blocked {name} vs reference {err:.3e}")
        worst = max(worst, err)
    # the keyed models' BLAS paths (Q/K/V, multi-head, the query-only interp models) at both signs of beta
    from attnflow.symbolic.codegen import generated_models

    rng = np.random.default_rng(ex["seed"])
    decls = {decl.name: decl for decl in generated_models()}
    for name in ("qkv", "multihead", "interp", "interp_attention"):
        spec = decls[name]
        p = _gradient_flow_params(spec, rng, ex["d"])
        if name == "interp_attention":
            p = {"B": rng.standard_normal((ex["d"], ex["d"]))}
        variants = [{}] if not isinstance(spec.normalization, dict) else [{"normalization": c} for c in spec.normalization]
        for v in variants:
            for beta in (abs(ex["beta"]), -abs(ex["beta"])):
                q = {**p, **v}
                err = _rel_err(fields.velocity(x, model=spec, beta=beta, t=0.3, **q),
                               ref.velocity_ref(x, name, beta, t=0.3, **q))
                require(err <= 1e-10, f"BLAS path {name} {v} beta={beta} vs reference {err:.3e}")
                worst = max(worst, err)
    return worst


_EXAMPLES = st.fixed_dictionaries({
    "seed": st.integers(0, 2**32 - 1), "n": st.integers(1, 6), "d": st.integers(2, 4),
    "beta": st.floats(-5.0, 5.0, allow_nan=False),
})


def _claim(cid, check, expect="holds"):
    return Claim(id=cid, title="kernels agree with the plain-NumPy reference", source="test_export.py",
                 hypotheses=_EXAMPLES, check=check, expect=expect,
                 tolerance="1e-10 relative: different summation order only", measure="max relative error")


def _install_claims(mp, claims, kernels):
    """Register ``claims`` (with ids under TEST_FAMILY) and point ``kernels`` at them only."""
    registry.all_claims()  # load the real registry first
    for c in claims:
        mp.setitem(registry._REGISTRY, c.id, c)
    for name in kernels:
        mp.setitem(export.KERNELS, name, dataclasses.replace(export.KERNELS[name], claims=(TEST_FAMILY,)))


def _leftovers(parent: Path, package: str):
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{package}."))


def _run_isolated(code: str, parent: Path, timeout=300):
    """Run ``code`` with -I (no PYTHONPATH, no user site, no cwd) and only ``parent`` added to sys.path."""
    prog = f"import sys; sys.path.insert(0, {str(parent)!r}); sys.modules['attnflow'] = None\n" + code
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NUMBA"))}
    return subprocess.run([sys.executable, "-I", "-c", prog], capture_output=True, text=True, timeout=timeout,
                          cwd=str(parent), env=env)


# ----------------------------------------------------------------------------------------------
# the catalogue against the code generator and the public API


def test_catalog_covers_every_generated_kernel():
    from attnflow.symbolic import models
    from attnflow.symbolic.codegen.kernels import generated_files, source_expr

    files = generated_files()
    public = set()
    for path in files:
        mod = importlib.import_module("attnflow.numerics._generated." + Path(path).stem)
        public |= set(export.generated_functions(mod))
    # every public generated function is a catalogued kernel or the serial twin of one
    assert public == {f for s in export.KERNELS.values() for f in s.functions}, "catalogue out of date"
    assert "sa_velocity_blocked" in export.KERNELS  # the pure-NumPy function is found too
    for spec in export.KERNELS.values():
        assert spec.file in files
        mod = importlib.import_module(spec.module)
        fn = getattr(mod, spec.name)
        py = getattr(fn, "py_func", fn)  # numba kernel or plain NumPy function
        assert [a.name for a in spec.args] == list(inspect.signature(py).parameters)
        # a numba kernel has its serial twin (same arguments, parallel=False); a NumPy function has none
        assert spec.twin == (f"{spec.name}_serial" if hasattr(fn, "py_func") else None), spec.name
        if spec.twin:
            twin = getattr(mod, spec.twin)
            assert list(inspect.signature(twin.py_func).parameters) == [a.name for a in spec.args]
            assert twin.targetoptions.get("parallel") is False and fn.targetoptions.get("parallel") is True
        fam = models.kernel_source_expr(spec.family)
        part = next(p for p in source_expr(spec.file).args if p.args[0] == sp.Symbol(spec.family))
        assert set(fam.args) <= set(part.args)  # the file's header hash covers the kernel's expressions
        assert {a.kind for a in spec.args} <= {"array", "float", "bool", "int", "out"}
        assert set(spec.models) <= set(fields.MODELS)


def _model_calls():
    rng = np.random.default_rng(3)
    x = _sphere(1, 5, 3)
    V = rng.standard_normal((3, 3))
    V = V + V.T
    M = rng.standard_normal((2, 3, 3))
    M = M + np.transpose(M, (0, 2, 1))
    th = rng.uniform(-np.pi, np.pi, (2, 5))
    params = {"qkv": {"Q": np.eye(3), "K": V, "V": V}, "multihead": {"M": M}, "interp": _interp_params(rng, 3)}
    big_x = _sphere(2, 256, 3)  # n^2 = PARALLEL_MIN_PAIRS: the parallel kernels and the blocked SA path
    big_th = rng.uniform(-np.pi, np.pi, (2, 256))
    used = {}
    for model, spec in fields.MODELS.items():
        with export.trace_kernel_calls() as counts:
            for x_, th_ in ((x, th), (big_x, big_th)):
                if spec.manifold == "angles":  # beta >= 0: the a-priori-shift kernels; beta < 0: the exact ones
                    for b in (1.3, -1.3):
                        fields.velocity(th_[0], model=model, beta=b)
                        fields.velocity(th_, model=model, beta=b)
                else:
                    fields.velocity(2.0 * x_ if spec.manifold == "euclidean" else x_, model=model, beta=1.3,
                                    **params.get(model, {}))
                    if x_ is big_x:  # beta < 0: no a-priori shift, the blocked path
                        fields.velocity(2.0 * x_ if spec.manifold == "euclidean" else x_, model=model, beta=-1.3,
                                        **params.get(model, {}))
                if model == "multihead":
                    fields.velocity(x_, model=model, beta=1.3, M=M, normalization="per_head")
                    fields.velocity(np.stack([x_, x_]), model=model, beta=1.3, M=M, normalization="per_head")
                if spec.manifold != "angles":  # a batch of two systems: the ensemble kernel
                    xs = np.stack([x_, x_[::-1]])
                    fields.velocity(2.0 * xs if spec.manifold == "euclidean" else xs, model=model, beta=1.3,
                                    **params.get(model, {}))
                if spec.has_energy:
                    arg = th_[0] if spec.manifold == "angles" else x_
                    fields.energy(arg, model=model, beta=1.3, **params.get(model, {}))
                    fields.dissipation(arg, model=model, beta=1.3, **params.get(model, {}))
        used[model] = {k for k, c in counts.items() if c}
    return used


def test_models_column_is_what_the_public_api_calls():
    used = _model_calls()
    for name, spec in export.KERNELS.items():
        assert set(spec.models) == {m for m, ks in used.items() if name in ks}, name
    # tracing patches nothing
    from attnflow.numerics._generated import sa

    assert hasattr(sa.sa_velocity, "py_func")
    assert hasattr(sa.sa_velocity_serial, "py_func")
    assert sa.sa_velocity_blocked.__module__ == sa.__name__
    assert not hasattr(sa.sa_velocity_blocked, "__wrapped__")


def test_tracer_counts_serial_twins_and_keeps_the_dispatch_working():
    """Small problems call ``<kernel>_serial``: the tracer must count those calls under the kernel;
    large ones call the kernel."""
    from attnflow.numerics._generated import kuramoto as circle

    x = _sphere(4, 5, 3)
    th = np.random.default_rng(4).uniform(-np.pi, np.pi, 300)
    want_small = ref.velocity_ref(x, "usa", 0.7)
    with export.trace_kernel_calls() as counts:
        assert circle.kuramoto_velocity_serial.__name__ == "kuramoto_velocity_serial"
        got_small = fields.velocity(x, model="usa", beta=0.7)  # n^2 = 25 pairs: the serial twin
        assert counts["usa_velocity"] == 1
        got_big = fields.velocity(th, model="kuramoto", beta=-0.7)  # 300^2 pairs: the parallel kernel
        assert counts["kuramoto_velocity"] == 1
        fields.velocity(th[:10], model="kuramoto", beta=-0.7)  # serial twin, counted under the kernel
        assert counts["kuramoto_velocity"] == 2 and "kuramoto_velocity_serial" not in counts
        fields.velocity(th[:10], model="kuramoto", beta=0.7)  # beta >= 0: the a-priori-shift kernel's twin
        assert counts["kuramoto_velocity_shifted"] == 1 and "kuramoto_velocity_shifted_serial" not in counts
    assert _rel_err(got_small, want_small) <= 1e-10
    assert _rel_err(got_big, ref.velocity_ref(th, "kuramoto", -0.7)) <= 1e-10
    assert hasattr(circle.kuramoto_velocity_serial, "py_func")  # restored


def test_untouched_entries_and_int_arguments():
    spec = export.KERNELS["sa_velocity_blocked"]
    cases = spec.cases()
    assert {a.kind for a in spec.args if a.name in ("start", "stop", "rows")} == {"int"}
    # at least one range that does not cover every row and one whose length is not a multiple of rows
    spans = [(int(c.inputs["start"]), int(c.inputs["stop"]), int(c.inputs["rows"]), c.inputs["x"].shape[0])
             for c in cases]
    assert any(a > 0 or b < n for a, b, _, n in spans) and any((b - a) % r for a, b, r, _ in spans)
    e = np.array([1.0, np.nan, 2.0])
    assert _verification._max_error(np.array([1.0, np.nan, 2.0 + 1e-9]), e) == pytest.approx(1e-9)
    assert _verification._max_error(np.array([1.0, 0.0, 2.0]), e) == float("inf")  # wrote an untouched entry
    assert _verification._max_error(np.array([np.nan, np.nan, 2.0]), e) == float("inf")  # missed a row


def test_stored_cases_agree_with_kernels_within_tolerance():
    for spec in export.KERNELS.values():
        cases = spec.cases()
        assert len(cases) >= 2
        for function in spec.functions:  # the kernel and its serial twin
            for case, errs in zip(cases, export.kernel_errors(spec, cases, function)):
                assert any(np.nanmax(np.abs(w)) > 0 for w in case.expected.values())  # not a trivial zero case
                for name, err in errs.items():
                    want = case.expected[name]
                    assert not np.any(np.isinf(want)) and np.any(np.isfinite(want))  # NaN only: untouched
                    assert err <= export.RTOL * np.nanmax(np.abs(want)) + export.ATOL, (function, name, err)


def test_import_problems_flags_attnflow_and_foreign_imports():
    assert export.import_problems("import math\nimport numpy as np\nfrom numba import njit, prange\n") == []
    for src, word in [("import attnflow", "attnflow"), ("from attnflow.numerics import fields", "attnflow"),
                      ("import scipy.special", "scipy"), ("from . import sibling", "relative"),
                      ("__import__('attnflow')", "attnflow"), ("import importlib\nimportlib.import_module('sympy')", "sympy")]:
        problems = export.import_problems(src)
        assert len(problems) == 1 and word in problems[0], (src, problems)
    for spec in export.KERNELS.values():
        assert export.import_problems(_sources.kernel_source(spec)) == []


# ----------------------------------------------------------------------------------------------
# argument errors and refusals (nothing written)


def test_bad_names_and_out(tmp_path):
    with pytest.raises(ValueError, match=r"names: unknown kernel 'sa_velocty' \(did you mean sa_velocity"):
        export.export_kernels(["sa_velocty"], tmp_path / "pkg")
    # a model name stands for its kernels
    assert [s.name for s in export.resolve_kernels(["usa"])] == [k for k, s in export.KERNELS.items()
                                                                if "usa" in s.models]
    for bad in ("1pkg", "my-kernels", "class"):
        with pytest.raises(ValueError, match=r"^out: .*valid Python identifier"):
            export.export_kernels(["sa_velocity"], tmp_path / bad)
    with pytest.raises(ValueError, match="^out: .*shadow"):
        export.export_kernels(["sa_velocity"], tmp_path / "numpy")
    with pytest.raises(ValueError, match="^out: the parent directory"):
        export.export_kernels(["sa_velocity"], tmp_path / "missing" / "pkg")
    with pytest.raises(ValueError, match="^names: name the kernels"):
        export.export_kernels([], tmp_path / "pkg")
    assert list(tmp_path.iterdir()) == []


def test_refuses_kernel_without_claims(tmp_path, monkeypatch):
    monkeypatch.setitem(export.KERNELS, "qkv_velocity",
                        dataclasses.replace(export.KERNELS["qkv_velocity"], claims=("no_such_family",)))
    with pytest.raises(export.ExportRefused, match="qkv_velocity: no registered claim matches") as info:
        export.export_kernels(["qkv_velocity"], tmp_path / "pkg", seed=1)
    assert "not verified" in info.value.reasons["qkv_velocity"]
    assert list(tmp_path.iterdir()) == []


def test_refuses_when_a_claim_is_not_as_expected(tmp_path, monkeypatch):
    def broken(ex):
        require(False, "deliberately violated")

    _install_claims(monkeypatch, [_claim(f"{TEST_FAMILY}.ok", _check_sa_usa), _claim(f"{TEST_FAMILY}.bad", broken)],
                    ["sa_velocity"])
    with pytest.raises(export.ExportRefused, match=r"export_selftest.bad came out 'fails' \(expected 'holds'\)"):
        export.export_kernels(["sa_velocity"], tmp_path / "pkg", seed=2)
    assert list(tmp_path.iterdir()) == []


def test_refuses_when_no_claim_calls_the_kernel(tmp_path, monkeypatch):
    def numpy_only(ex):
        x = _sphere(ex["seed"], ex["n"], ex["d"])
        return float(np.abs(np.linalg.norm(x, axis=1) - 1).max())

    _install_claims(monkeypatch, [_claim(f"{TEST_FAMILY}.numpy_only", numpy_only)], ["usa_velocity"])
    with pytest.raises(export.ExportRefused, match="none of its claims .* called the kernel"):
        export.export_kernels(["usa_velocity"], tmp_path / "pkg", seed=3)
    assert list(tmp_path.iterdir()) == []


def test_refuses_non_standalone_or_stale_source(tmp_path, monkeypatch):
    _install_claims(monkeypatch, [_claim(f"{TEST_FAMILY}.sa_usa", _check_sa_usa)], ["sa_velocity"])
    real = _sources.kernel_source
    monkeypatch.setattr(_sources, "kernel_source", lambda spec: real(spec) + "\nimport attnflow\n")
    with pytest.raises(export.ExportRefused, match=r"not standalone \(line \d+: imports attnflow\)"):
        export.export_kernels(["sa_velocity"], tmp_path / "pkg", seed=4)
    monkeypatch.setattr(_sources, "kernel_source", lambda spec: real(spec) + "\n# edited\n")
    with pytest.raises(export.ExportRefused, match="run `attnflow derive` first"):
        export.export_kernels(["sa_velocity"], tmp_path / "pkg", seed=4)
    assert list(tmp_path.iterdir()) == []


def test_all_exports_only_verified_kernels_and_records_refusals(tmp_path, monkeypatch):
    _install_claims(monkeypatch, [_claim(f"{TEST_FAMILY}.sa_usa", _check_sa_usa)], ["usa_velocity"])
    for name in export.KERNELS:
        if name != "usa_velocity":
            monkeypatch.setitem(export.KERNELS, name, dataclasses.replace(export.KERNELS[name], claims=("nothing",)))
    report = export.export_kernels(None, tmp_path / "only_usa", all_kernels=True, seed=5)
    assert report.kernels == ["usa_velocity"]
    assert set(report.refused) == set(export.KERNELS) - {"usa_velocity"}
    manifest = json.loads((tmp_path / "only_usa" / "manifest.json").read_text())
    assert [k["name"] for k in manifest["kernels"]] == ["usa_velocity"]
    assert {r["name"] for r in manifest["refused"]} == set(report.refused)
    # the copied module holds the blocked path, the ensemble kernel and the energy rows too: present,
    # recorded as not exported
    (entry,) = manifest["files"]
    assert entry["kernels_exported"] == ["usa_velocity", "usa_velocity_serial"]
    assert sorted(entry["functions_not_exported"]) == ["usa_energy_rows", "usa_energy_rows_serial", "usa_velocity_blocked",
                                                       "usa_velocity_ensemble", "usa_velocity_ensemble_serial",
                                                       "usa_velocity_shifted"]


# ----------------------------------------------------------------------------------------------
# a real export, used by the standalone tests below


def _mutation_report(parent: Path) -> Path:
    # a report as `attnflow mutate --report` writes it (hand-made: the kills are given, not computed)
    report = {"profile": "quick", "seed": 0, "created": "2026-01-01T00:00:00+00:00", "attnflow_version": "x",
              "kill_rate": 0.5, "killed": 2, "survived": 1, "errors": 0,
              "mutants": [{"id": "m-sa", "description": "bug A", "status": "killed",
                           "killed_by": ["energy.dissipation.sa", f"{TEST_FAMILY}.sa_usa"]},
                          {"id": "m-other", "description": "bug B", "status": "killed", "killed_by": ["other.claim"]},
                          {"id": "m-survivor", "description": "bug C", "status": "survived", "killed_by": []}],
              "claims": {f"{TEST_FAMILY}.sa_usa": ["m-sa"], "other.claim": ["m-other"]}}
    path = parent / "mutate.json"
    path.write_text(json.dumps(report))
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    parent = tmp_path_factory.mktemp("export")
    with pytest.MonkeyPatch.context() as mp:
        _install_claims(mp, [_claim(f"{TEST_FAMILY}.sa_usa", _check_sa_usa)],
                        ["sa_velocity", "usa_velocity"])
        t0 = time.perf_counter()
        report = export.export_kernels(["sa_velocity", "usa_velocity"], parent / "verified_kernels",
                                       profile="quick", seed=12345, mutation_report=_mutation_report(parent))
        report.seconds = time.perf_counter() - t0
    return report


def test_export_layout_and_manifest(exported):
    from attnflow.symbolic import models
    from attnflow.symbolic.result import expr_hash, latex

    root = exported.path
    assert root.name == "verified_kernels" and exported.kernels == ["sa_velocity", "usa_velocity"]
    assert _leftovers(root.parent, "verified_kernels") == []
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert {"__init__.py", "__main__.py", "_selftest.py", "manifest.json", "README.md", "kernels/__init__.py",
            "kernels/sa.py", "kernels/usa.py"} <= set(names)
    assert not any(n.endswith((".pkl", ".pickle")) for n in names)
    m = json.loads((root / "manifest.json").read_text())
    assert m["generator"] == export.GENERATOR and m["package"] == "verified_kernels" and m["seed"] == 12345
    assert (m["schema"], m["schema_version"], m["format_version"]) == ("attnflow-export-manifest", 4, 4)
    # the mutation report read: per kernel only the mutants its own claims killed, with those claims
    assert m["mutation"]["report"].endswith("mutate.json") and m["mutation"]["mutants_run"] == 3
    for k in m["kernels"]:
        assert k["mutants_killed"] == [{"id": "m-sa", "description": "bug A", "killed_by": [f"{TEST_FAMILY}.sa_usa"]}]
    assert {k: m["versions"][k] for k in ("numpy", "numba", "sympy", "scipy")} == {
        "numpy": np.__version__, "numba": numba.__version__, "sympy": sympy.__version__, "scipy": scipy.__version__}
    assert m["versions"]["attnflow"] == attnflow.__version__
    assert m["tolerance"]["rtol"] == export.RTOL
    for f in m["files"]:
        text = (root / f["path"]).read_text()
        assert text == (Path(__file__).parents[2] / f["source"]).read_text()  # copied verbatim
        assert re.search(rf"^# Source expression hash: {f['expr_hash']} ", text, re.M)  # the header's hash
        assert export.import_problems(text) == []
    for k in m["kernels"]:
        spec = export.KERNELS[k["name"]]
        fam = models.kernel_source_expr(spec.family)
        assert k["source_expression"] == {"family": spec.family, "latex": latex(fam), "expr_hash": expr_hash(fam)}
        assert k["signature"].startswith(k["name"] + "(x: float64[n, d]")
        assert k["twin"] == k["name"] + "_serial" and k["functions"] == [k["name"], k["twin"]]
        assert all(set(c["max_error_at_export_twin"]) == set(c["expected"]) for c in k["cases"])
        (c,) = k["claims"]
        assert c["id"] == f"{TEST_FAMILY}.sa_usa" and c["outcome"] == "holds" and c["ok"]
        assert c["profile"] == "quick" and c["seed"] == 12345 and c["kernel_calls"] >= c["examples"] >= 1
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", c["date"])
        for case in k["cases"]:
            for rel in [*case["inputs"].values(), *case["expected"].values()]:
                np.load(root / rel, allow_pickle=False)
    readme = (root / "README.md").read_text()
    assert "python -m verified_kernels selftest" in readme and "export_selftest.sa_usa" in readme
    # nothing written into the package imports attnflow
    for p in root.rglob("*.py"):
        assert not [q for q in export.import_problems(p.read_text()) if "relative" not in q], p


def test_selftest_isolated_without_attnflow(exported):
    code = textwrap.dedent("""
        try:
            import attnflow
        except ImportError:
            pass
        else:
            raise SystemExit("attnflow importable")
        import verified_kernels
        rows = verified_kernels.selftest()
        print("ROWS", len(rows), max(r["max_error"] / r["bound"] for r in rows))
        print("MODULES", sorted(m for m in sys.modules if m.startswith("attnflow") and sys.modules[m] is not None))
        print("FILE", verified_kernels.__file__)
        print("TWINS", sorted({r["function"] for r in rows}))
        print("ALL", sorted(verified_kernels.__all__))
    """)
    res = _run_isolated(code, exported.path.parent)
    assert res.returncode == 0, res.stderr
    lines = dict(line.split(" ", 1) for line in res.stdout.splitlines())
    n_rows, ratio = lines["ROWS"].split()
    n_cases = sum(len(k["functions"]) * len(k["cases"]) * sum(a["kind"] == "out" for a in k["args"])
                  for k in exported.manifest["kernels"])
    assert int(n_rows) == n_cases and float(ratio) <= 1.0
    assert lines["MODULES"] == "[]"
    assert lines["FILE"].startswith(str(exported.path))
    fns = ["sa_velocity", "sa_velocity_serial", "usa_velocity", "usa_velocity_serial"]
    assert lines["TWINS"] == str(fns)  # the self-test ran the kernels and their serial twins
    assert set(fns) <= set(ast.literal_eval(lines["ALL"]))
    # the command-line entry point
    res = _run_isolated("import runpy; runpy.run_module('verified_kernels', run_name='__main__', alter_sys=True)",
                        exported.path.parent)
    assert res.returncode == 2  # no sub-command: help, exit 2
    res = _run_isolated("sys.argv = ['x', 'selftest', '-q']\nimport runpy\n"
                        "runpy.run_module('verified_kernels', run_name='__main__', alter_sys=True)",
                        exported.path.parent)
    assert res.returncode == 0 and "selftest passed: 2 kernels" in res.stdout, res.stderr


def test_export_is_installable_and_records_the_command_run(exported):
    import fnmatch
    import tomllib

    root = exported.path
    py = tomllib.loads((root / "pyproject.toml").read_text())
    assert py["project"]["name"] == "verified-kernels" and py["project"]["dependencies"] == ["numpy", "numba"]
    st_ = py["tool"]["setuptools"]
    assert st_["packages"] == ["verified_kernels", "verified_kernels.kernels"]
    assert st_["package-dir"] == {"verified_kernels": "."}
    globs = py["tool"]["setuptools"]["package-data"]["verified_kernels"]
    # every non-Python file of the export is package data (else `pip install` would drop it)
    data = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.suffix != ".py"
            and "__pycache__" not in p.parts and p.name != "pyproject.toml"]
    assert data and all(any(fnmatch.fnmatch(d, g) for g in globs) for d in data), data
    # the command actually run: --out as given (a path, not just the package name)
    m = exported.manifest
    want = f"attnflow export sa_velocity usa_velocity --out {root} --profile quick --seed 12345"
    assert m["command"] == want
    assert want in (root / "README.md").read_text()


def test_exported_dispatch_integrator_and_error_labels(exported, capsys, monkeypatch):
    from scipy.integrate import solve_ivp

    from attnflow.numerics.fields._dispatch import PARALLEL_MIN_PAIRS

    monkeypatch.syspath_prepend(str(exported.path.parent))
    import verified_kernels as vk

    from verified_kernels.kernels import sa as sa_mod

    assert exported.manifest["dispatch"]["parallel_min_pairs"] == PARALLEL_MIN_PAIRS
    for n, want in [(64, sa_mod.sa_velocity_serial), (255, sa_mod.sa_velocity_serial),
                    (256, sa_mod.sa_velocity)]:
        x = np.zeros((n, 3))
        assert (n * n < PARALLEL_MIN_PAIRS) == (want is sa_mod.sa_velocity_serial)
        assert vk.pick("sa_velocity", x, 1.0, np.empty((n, 3)), np.empty(n)) is want
    with pytest.raises(ValueError, match="^logz: size n = 5 disagrees"):
        vk.pick("sa_velocity", np.zeros((4, 3)), 1.0, np.empty((4, 3)), np.empty(5))
    with pytest.raises(ValueError, match="^name: unknown kernel"):
        vk.pick("nope", 1)
    # RK4 + retraction on the exported kernel against scipy's DOP853 on the NumPy reference field
    rng = np.random.default_rng(4)
    x0 = rng.standard_normal((6, 3))
    x0 /= np.linalg.norm(x0, axis=1, keepdims=True)
    times, states = vk.rk4_sphere(vk.velocity_field("sa_velocity", beta=2.0), x0, 1.0, 0.01, save_every=25)
    np.testing.assert_allclose(times, [0.0, 0.25, 0.5, 0.75, 1.0], atol=1e-14)
    np.testing.assert_allclose(np.linalg.norm(states, axis=-1), 1.0, atol=1e-14)
    sol = solve_ivp(lambda t, y: ref.velocity_ref(y.reshape(6, 3), "sa", 2.0).ravel(), (0.0, 1.0), x0.ravel(),
                    method="DOP853", rtol=1e-12, atol=1e-13, t_eval=times)
    err = np.max(np.abs(sol.y.T.reshape(-1, 6, 3) - states))
    assert err < 1e-8, err
    # the retraction, on a radial field that leaves the sphere: dx/dt = x, |x(t)| = e^t without it
    _, radial = vk.rk4_sphere(lambda t, x: x, x0, 1.0, 0.1)
    np.testing.assert_allclose(np.linalg.norm(radial[-1], axis=-1), 1.0, atol=1e-15)
    np.testing.assert_allclose(radial[-1], x0, atol=1e-15)
    _, free = vk.rk4_sphere(lambda t, x: x, x0, 1.0, 0.1, sphere=False)
    np.testing.assert_allclose(np.linalg.norm(free[-1], axis=-1), np.e, rtol=1e-5)
    with pytest.raises(ValueError, match="^dt:"):
        vk.rk4_sphere(lambda t, x: x, x0, 1.0, 0.0)
    # the self-test says which error is absolute and which relative
    vk.selftest(verbose=True)
    out = capsys.readouterr().out
    assert "absolute error max|kernel - reference|" in out and "relative to max|reference|" in out


def test_corrupted_output_or_source_makes_selftest_raise(exported):
    root = exported.path
    kernel = exported.manifest["kernels"][0]
    rel = kernel["cases"][0]["expected"]["out"]
    path = root / rel
    original = path.read_bytes()
    arr = np.load(path, allow_pickle=False)
    arr.flat[0] += 1e-6 * max(1.0, float(np.max(np.abs(arr))))  # far above the tolerance
    np.save(path, arr, allow_pickle=False)
    code = ("import verified_kernels\ntry:\n    verified_kernels.selftest()\n"
            "except verified_kernels.SelftestError as exc:\n    print('RAISED', exc)\nelse:\n    print('PASSED')\n")
    try:
        res = _run_isolated(code, root.parent)
    finally:
        path.write_bytes(original)
    assert res.returncode == 0, res.stderr
    assert "RAISED" in res.stdout and f"{kernel['name']} case 0 output 'out'" in res.stdout
    # an edited kernel source is caught by its digest (checked before any kernel runs)
    src = root / "kernels" / "usa.py"
    text = src.read_text()
    try:
        src.write_text(text + "\n# edited\n")
        res = _run_isolated(code, root.parent)
    finally:
        src.write_text(text)
    assert "RAISED" in res.stdout and "kernels/usa.py: source differs" in res.stdout, res.stdout + res.stderr


# ----------------------------------------------------------------------------------------------
# overwriting and atomicity


def test_existing_dir_needs_force_and_is_replaced(tmp_path, monkeypatch):
    _install_claims(monkeypatch, [_claim(f"{TEST_FAMILY}.sa_usa", _check_sa_usa)], ["usa_velocity"])
    out = tmp_path / "kern"
    out.mkdir()
    (out / "keep.txt").write_text("user data")
    with pytest.raises(ValueError, match="^out: .* already exists; pass --force"):
        export.export_kernels(["usa_velocity"], out, seed=6)
    with pytest.raises(ValueError, match="not an earlier attnflow export"):
        export.export_kernels(["usa_velocity"], out, seed=6, force=True)
    assert (out / "keep.txt").read_text() == "user data"
    (out / "keep.txt").unlink()
    export.export_kernels(["usa_velocity"], out, seed=6, force=True)  # an empty folder may be replaced
    (out / "stale.txt").write_text("not written by the export")
    first = json.loads((out / "manifest.json").read_text())["created"]
    with pytest.raises(ValueError, match=r"^out: .*stale\.txt"):  # --force deletes only the export's own files
        export.export_kernels(["usa_velocity"], out, seed=7, force=True)
    assert (out / "stale.txt").exists()
    (out / "stale.txt").unlink()
    export.export_kernels(["usa_velocity"], out, seed=7, force=True)
    assert json.loads((out / "manifest.json").read_text())["seed"] == 7 and first
    assert _leftovers(tmp_path, "kern") == []


def test_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    _install_claims(monkeypatch, [_claim(f"{TEST_FAMILY}.sa_usa", _check_sa_usa)], ["usa_velocity"])
    real = _install.write_package

    def half_then_fail(tmp, texts, arrays):
        (tmp / "kernels").mkdir()
        (tmp / "kernels" / "usa.py").write_text(texts["kernels/usa.py"])
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(_install, "write_package", half_then_fail)
    with pytest.raises(OSError, match="simulated"):
        export.export_kernels(["usa_velocity"], tmp_path / "kern", seed=8)
    assert list(tmp_path.iterdir()) == []
    # with --force over an earlier export, the earlier export survives the failure untouched
    monkeypatch.setattr(_install, "write_package", real)
    export.export_kernels(["usa_velocity"], tmp_path / "kern", seed=9)
    before = (tmp_path / "kern" / "manifest.json").read_text()
    monkeypatch.setattr(_install, "write_package", half_then_fail)
    with pytest.raises(OSError, match="simulated"):
        export.export_kernels(["usa_velocity"], tmp_path / "kern", seed=10, force=True)
    assert (tmp_path / "kern" / "manifest.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kern"]


# ----------------------------------------------------------------------------------------------
# command line


def test_cli_list_errors_and_refusal(tmp_path, capsys, monkeypatch):
    assert main(["export", "--list"]) == 0
    out = capsys.readouterr().out
    for name, spec in export.KERNELS.items():
        assert name in out
    assert "models: sa\n" in out and "models: multihead\n" in out
    assert main(["export", "sa_velocty", "--out", str(tmp_path / "k")]) == 2
    assert "NAME: unknown kernel 'sa_velocty' (did you mean sa_velocity" in capsys.readouterr().err
    assert main(["export", "usa_velocity", "--out", str(tmp_path / "my-kernels")]) == 2
    assert "--out: the last component 'my-kernels'" in capsys.readouterr().err
    assert main(["export", "usa_velocity"]) == 2
    assert "--out:" in capsys.readouterr().err
    assert main(["export", "--out", str(tmp_path / "k")]) == 2
    assert "NAME: name the kernels to export or pass --all" in capsys.readouterr().err
    monkeypatch.setitem(export.KERNELS, "usa_velocity",
                        dataclasses.replace(export.KERNELS["usa_velocity"], claims=("nothing_here",)))
    assert main(["export", "usa_velocity", "--out", str(tmp_path / "k"), "--seed", "1", "-q"]) == 1
    err = capsys.readouterr().err
    assert "usa_velocity: no registered claim matches" in err and "nothing was written" in err
    assert list(tmp_path.iterdir()) == []


def test_cli_export_success(tmp_path, capsys, monkeypatch):
    _install_claims(monkeypatch, [_claim(f"{TEST_FAMILY}.sa_usa", _check_sa_usa)], ["usa_velocity"])
    assert main(["export", "usa_velocity", "--out", str(tmp_path / "usa_kernels"), "--seed", "3", "-q"]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "1 kernel(s) [usa_velocity]" in out and "seed 3" in out
    m = json.loads((tmp_path / "usa_kernels" / "manifest.json").read_text())
    # the command as run: --out as given on the command line (not just the package name)
    assert m["command"] == f"attnflow export usa_velocity --out {tmp_path / 'usa_kernels'} --profile quick --seed 3"


@pytest.mark.slow
def test_pip_install_export_into_fresh_venv(exported, tmp_path):
    """`pip install ./verified_kernels` (its pyproject.toml) in a fresh venv, then use it from elsewhere."""
    src = tmp_path / "verified_kernels"
    shutil.copytree(exported.path, src, ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    res = subprocess.run([str(py), "-m", "pip", "install", "-q", str(src)], capture_output=True, text=True,
                         timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NUMBA"))}
    code = textwrap.dedent("""
        import importlib.util as u, numpy as np
        assert u.find_spec("attnflow") is None
        import verified_kernels as vk
        assert "site-packages" in vk.__file__, vk.__file__
        rows = vk.selftest()
        x0 = np.eye(3)[[0, 1, 2, 0]] + 0.1
        x0 /= np.linalg.norm(x0, axis=1, keepdims=True)
        t, s = vk.rk4_sphere(vk.velocity_field("usa_velocity", beta=1.0), x0, 0.5, 0.05)
        print("OK", len(rows), s.shape, float(np.max(np.abs(np.linalg.norm(s, axis=-1) - 1))))
    """)
    res = subprocess.run([str(py), "-c", code], cwd=str(elsewhere), env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.startswith("OK ") and "(11, 4, 3)" in res.stdout, res.stdout


def test_retrieval_particles_cross_check_exercises_both_alibi_kernels(monkeypatch):
    """The claim retrieval.particles integrates one batch through the public API (the generated causal
    ALiBi kernels) next to its fused simulator; both kernels must be called and agree to rounding,
    and a fused simulator with a slightly wrong slope (lam * 1.001) must be caught."""
    from attnflow.numerics.retrieval import _particles as rp
    from attnflow.properties.claims._retrieval import fused_vs_public_api
    from attnflow.properties.claims.retrieval import CROSS_CHECK_TOL

    kw = dict(beta=1.5, lam=1.0, t=1.2, seed=5, shape=(3, 12), steps=120)
    names = ["causal_alibi_velocity_shifted", "causal_alibi_velocity_batched_shifted"]  # beta >= 0
    with export.trace_kernel_calls(names) as counts:
        err = fused_vs_public_api(**kw)
    assert counts[names[0]] >= 4 * 120 and counts[names[1]] >= 4 * 120
    assert err <= CROSS_CHECK_TOL
    real = rp.simulate_causal_alibi
    monkeypatch.setattr(rp, "simulate_causal_alibi", lambda th, *, lam, **k: real(th, lam=lam * 1.001, **k))
    assert fused_vs_public_api(**kw) > 1e3 * CROSS_CHECK_TOL


def test_mutation_report_argument_and_default(tmp_path, monkeypatch, capsys):
    # a bad --mutation-report is refused before any claim runs, naming the option
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["export", "sa_velocity", "--out", str(tmp_path / "pkg"), "--mutation-report", str(bad)]) == 2
    assert "--mutation-report:" in capsys.readouterr().err
    assert main(["export", "sa_velocity", "--out", str(tmp_path / "pkg"),
                 "--mutation-report", str(tmp_path / "missing.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "pkg").exists()
    # the default is the last report `attnflow mutate` kept
    from attnflow import mutation

    monkeypatch.setenv("ATTNFLOW_MUTATION_REPORT", str(tmp_path / "last.json"))
    assert mutation.last_report_path() == tmp_path / "last.json"
    data = json.loads(_mutation_report(tmp_path).read_text())
    assert mutation.save_last_report(data) == tmp_path / "last.json"
    assert mutation.read_report(tmp_path / "last.json") == data
    assert mutation.kernel_mutants(data, ["other.claim", "unrelated"]) == [
        {"id": "m-other", "description": "bug B", "killed_by": ["other.claim"]}]
    assert mutation.kernel_mutants(data, ["nothing.killed"]) == []
