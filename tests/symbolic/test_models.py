"""Model declarations: every model has its three routes, and adding a model is one declaration.

The three routes of every declared model are the generated kernel (``attnflow.numerics._generated``),
the small-n SymPy field (the mpmath oracle, :func:`attnflow.symbolic.models.velocity_matrix`) and the
independent NumPy reference (``attnflow.numerics._reference``, registered by model name).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import sympy as sp

from attnflow import models as public
from attnflow.numerics import _reference as ref
from attnflow.numerics import fields
from attnflow.symbolic import models
from attnflow.symbolic.codegen import generated_models, kernel_plan


def _sphere(rng, n, d):
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_every_model_has_its_kernel_sympy_and_numpy_routes():
    for decl in generated_models():
        plan = kernel_plan(decl)
        module = importlib.import_module(plan.module)  # the checked-in generated kernels
        assert all(hasattr(module, k.name) for k in plan.kernels), decl.name
        syms, v = models.velocity_matrix(decl, 2, 2, hidden=1)  # the SymPy oracle
        assert (len(v) if isinstance(v, list) else v.shape[0]) == 2
        assert decl.name in ref.REFERENCES, f"{decl.name}: register its NumPy reference in numerics/_reference.py"
        if decl.energy is not None:
            assert decl.gradient_flow_proof().status == "proved", decl.name
    assert set(models.BUILTIN) == set(fields.MODELS)  # nothing else registered by default


def test_public_api_is_the_declaration_api():
    assert public.SphereModel is models.SphereModel and public.register is models.register
    assert public.s is models.s and public.beta is models.beta
    sigmoid_like = public.SphereModel(name="tmp_decl_check", weight=1 / (1 + sp.exp(-public.beta * public.s)),
                                      normalization="mean")
    assert sigmoid_like.pair_weight() is None and not sigmoid_like.has_energy


@pytest.mark.parametrize("bad, match", [
    (dict(name="Bad Name"), "^name:"),
    (dict(weight="exp(beta*s)"), "^weight: .*strings are never parsed"),
    (dict(weight=sp.exp(sp.Symbol("q") * models.s)), "^weight: unknown symbol"),
    (dict(normalization="max"), "^normalization:"),
    (dict(output=models.A * models.A), "^output:"),
    (dict(query="Q"), "^query:"),
    (dict(params={sp.Symbol("c"): 1.0}), "^params: the symbol c must be declared real"),
])
def test_bad_declarations_name_the_field(bad, match):
    kw = dict(name="ok", weight=sp.exp(models.beta * models.s))
    kw.update(bad)
    with pytest.raises(ValueError, match=match):
        models.SphereModel(**kw)


def test_adding_a_model_is_one_declaration(tmp_path, monkeypatch):
    """A trivial variant -- SA at half the inverse temperature, w = e^{beta s / 2} -- declared here and
    nowhere else: its kernel is generated on first use, its field, energy and dissipation come out right
    against an independent route (the NumPy reference of SA at beta / 2), its gradient-flow identity is
    proved, and registering it puts it into the registry the API and the CLI share."""
    monkeypatch.setenv("ATTNFLOW_KERNEL_CACHE", str(tmp_path))
    half = models.SphereModel(
        name="sa_half_beta",
        weight=sp.exp(models.beta * models.s / 2),
        normalization="softmax",
        energy=2 * sp.exp(models.beta * models.s / 2) / models.beta,
        source="test: SA at beta / 2",
        description="SA at half the inverse temperature",
    )
    rng = np.random.default_rng(7)
    x = _sphere(rng, 300, 4)  # n^2 >= PARALLEL_MIN_PAIRS: the blocked path; and a small system: the fused kernel
    for xs in (x, x[:9]):
        np.testing.assert_allclose(fields.velocity(xs, model=half, beta=3.0), ref.velocity_ref(xs, "sa", 1.5),
                                   rtol=0, atol=1e-13)
    assert fields.energy(x[:9], model=half, beta=3.0) == pytest.approx(ref.energy_ref(x[:9], "sa", 1.5), rel=1e-13)
    assert fields.dissipation(x[:9], model=half, beta=3.0) == pytest.approx(
        ref.dissipation_ref(x[:9], "sa", 1.5), rel=1e-12)
    assert half.gradient_flow_proof().status == "proved"
    (cached,) = tmp_path.glob("*.py")  # one generated module in the kernel cache
    assert cached.name.startswith("attnflow_kernels_sa_half_beta_")
    models.register(half)
    try:
        assert "sa_half_beta" in fields.MODELS
        traj = fields.make_field("sa_half_beta", beta=3.0)(0.0, x[:9])
        np.testing.assert_allclose(traj, ref.velocity_ref(x[:9], "sa", 1.5), rtol=0, atol=1e-13)
        with pytest.raises(ValueError, match="already registered"):
            models.register(models.SphereModel(name="sa_half_beta", weight=sp.exp(models.beta * models.s)))
    finally:
        models.unregister("sa_half_beta")
    assert "sa_half_beta" not in fields.MODELS
    with pytest.raises(ValueError, match="built-in"):
        models.unregister("sa")


def test_a_tampered_kernel_cache_file_is_rewritten_not_run(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTNFLOW_KERNEL_CACHE", str(tmp_path))
    decl = models.SphereModel(name="usa_twice", weight=2 * sp.exp(models.beta * models.s), normalization="mean")
    import hashlib

    from attnflow.numerics.fields import _compile
    from attnflow.symbolic.codegen.backends.numba import render_model

    text = render_model(decl)
    path = tmp_path / f"attnflow_kernels_usa_twice_{hashlib.sha256(text.encode()).hexdigest()[:16]}.py"
    path.write_text("raise SystemExit('tampered file was executed')\n")
    module = _compile.load_kernel_module(decl)
    assert path.read_text() == text and hasattr(module, "usa_twice_velocity")
    x = _sphere(np.random.default_rng(3), 6, 3)
    np.testing.assert_allclose(fields.velocity(x, model=decl, beta=0.7), 2 * ref.velocity_ref(x, "usa", 0.7),
                               rtol=0, atol=1e-13)
