"""Public API of ``attnflow.numerics.fields``: registry, validation, energies, dissipation identities.

Expected values come from independent routes: the plain-NumPy references, finite differences of
the energy along the flow (dissipation identities), and the radial/angular form of the
normalisation schemes (arXiv:2510.22026).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from attnflow import numerics
from attnflow.numerics import _reference as ref
from attnflow.numerics.fields import MODELS, ModelSpec, dissipation, energy, make_field, velocity
from attnflow.symbolic import models

SEED = 777


def _sphere(rng, n, d):
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_registry_names_and_fields():
    assert list(MODELS) == ["sa", "usa", "qkv", "kuramoto", "causal_alibi", "multihead", "preln", "periln",
                            "ngpt", "sqrt", "interp", "usa_rescaled", "kuramoto_rescaled"]
    assert ModelSpec is models.Model and MODELS is models.MODELS  # the numerics view is the declaration registry
    for name, spec in MODELS.items():
        assert isinstance(spec, ModelSpec)
        assert spec.name == name
        assert spec.manifold in ("sphere", "angles", "euclidean")
        assert spec.description and spec.source
    assert MODELS["qkv"].required == ("Q", "K", "V") and MODELS["qkv"].param_names == ("Q", "K", "V")
    assert MODELS["multihead"].required == ("M",) and MODELS["multihead"].optional == {"normalization": "shared"}
    assert MODELS["causal_alibi"].optional == {"lam": 1.0}
    assert MODELS["sqrt"].time_dependent and not MODELS["sa"].time_dependent
    assert MODELS["interp"].required == ("V", "B", "W", "U", "b") and MODELS["interp"].manifold == "sphere"
    assert not MODELS["interp"].gradient_flow and not MODELS["interp"].has_energy
    assert MODELS["sa"].gradient_flow and not MODELS["qkv"].gradient_flow and MODELS["qkv"].has_energy
    assert numerics.velocity is velocity and "make_field" in numerics.__all__
    with pytest.raises(dataclasses.FrozenInstanceError):
        MODELS["sa"].name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        MODELS["x"] = MODELS["sa"]  # type: ignore[index]  # read-only view


def test_make_field_matches_velocity():
    rng = np.random.default_rng([SEED, 1])
    x = _sphere(rng, 20, 3)
    Q, K, V = rng.standard_normal((3, 3, 3))
    lay = {"V": V, "B": Q, "W": rng.standard_normal((3, 2)), "U": rng.standard_normal((2, 3)), "b": np.ones(2)}
    for model, p in [("sa", {}), ("qkv", {"Q": Q, "K": K, "V": V}), ("sqrt", {}), ("ngpt", {"alpha": 2.0}),
                     ("interp", lay)]:
        f = make_field(model, beta=1.2, **p)
        np.testing.assert_array_equal(f(3.0, x), velocity(x, model=model, beta=1.2, t=3.0, **p))
    th = rng.uniform(0, 6, 15)
    np.testing.assert_array_equal(make_field("kuramoto", beta=-1.0)(0.0, th), velocity(th, model="kuramoto", beta=-1.0))


_INTERP = {"V": np.eye(3), "B": np.eye(3), "W": np.ones((3, 2)), "U": np.ones((2, 3)), "b": np.zeros(2)}


@pytest.mark.parametrize(
    "kwargs, arg",
    [
        ({"model": "sab"}, "model"),
        ({"model": "kuramoto_x"}, "model"),
        ({"beta": float("nan")}, "beta"),
        ({"beta": "1"}, "beta"),
        ({"t": float("inf")}, "t"),
        ({"model": "sqrt", "t": -1.0}, "t"),
        ({"model": "qkv", "Q": np.eye(3), "K": np.eye(3)}, "V"),
        ({"model": "qkv", "Q": np.eye(3), "K": np.eye(3), "V": np.eye(2)}, "V"),
        ({"model": "qkv", "Q": np.eye(3), "K": np.eye(3), "V": np.full((3, 3), np.nan)}, "V"),
        ({"model": "sa", "Q": np.eye(3)}, "Q"),
        ({"model": "multihead", "M": np.eye(3)}, "M"),
        ({"model": "multihead", "M": np.ones((2, 3, 3)), "normalization": "both"}, "normalization"),
        ({"model": "ngpt", "alpha": 0.0}, "alpha"),
        ({"model": "interp", **_INTERP, "V": np.eye(2)}, "V"),
        ({"model": "interp", **_INTERP, "B": np.eye(4)}, "B"),
        ({"model": "interp", **_INTERP, "B": np.full((3, 3), np.inf)}, "B"),
        ({"model": "interp", **_INTERP, "W": np.ones(3)}, "W"),
        ({"model": "interp", **_INTERP, "W": np.ones((2, 2))}, "W"),
        ({"model": "interp", **_INTERP, "U": np.ones((2, 2))}, "U"),
        ({"model": "interp", **_INTERP, "U": np.ones((3, 3))}, "U"),
        ({"model": "interp", **_INTERP, "b": np.ones(3)}, "b"),
        ({"model": "interp", **_INTERP, "b": [np.nan, 0.0]}, "b"),
        ({"model": "interp", **{k: v for k, v in _INTERP.items() if k != "U"}}, "U"),
        ({"model": "interp", **_INTERP, "Q": np.eye(3)}, "Q"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, arg):
    x = _sphere(np.random.default_rng(0), 5, 3)
    kw = {"model": "sa", "beta": 1.0, **kwargs}
    with pytest.raises(ValueError, match=rf"^{arg}:"):
        velocity(x, **kw)


def test_unknown_model_suggests_close_match():
    with pytest.raises(ValueError, match="did you mean sa"):
        velocity(np.eye(3), model="sA", beta=1.0)
    with pytest.raises(ValueError, match="^model:"):
        make_field("nope", beta=1.0)
    with pytest.raises(ValueError, match="^lam:"):
        make_field("causal_alibi", beta=1.0, lam=-1.0)


def test_bad_states():
    rng = np.random.default_rng([SEED, 2])
    x = _sphere(rng, 6, 3)
    with pytest.raises(ValueError, match="^x:.*norm"):
        velocity(x * 1.001, beta=1.0)
    v = velocity(x * 1.001, beta=1.0, normalize=True)
    np.testing.assert_allclose(v, velocity(x, beta=1.0), atol=1e-13)
    bad = x.copy()
    bad[2, 1] = np.nan
    for model in ("sa", "preln"):
        with pytest.raises(ValueError, match="^x:.*NaN"):
            velocity(bad, model=model, beta=1.0)
    with pytest.raises(ValueError, match="^x:.*shape"):
        velocity(x[0], beta=1.0)
    with pytest.raises(ValueError, match="^x:.*shape"):
        velocity(np.ones((4, 1)), beta=1.0)
    with pytest.raises(ValueError, match="^x:.*zero"):
        velocity(np.zeros((2, 3)), model="preln", beta=1.0)
    with pytest.raises(ValueError, match="^x:.*shape"):
        velocity(np.zeros((2, 3, 4)), model="kuramoto", beta=1.0)
    with pytest.raises(ValueError, match="^Q:"):
        velocity(x, model="qkv", beta=1.0, Q=np.eye(4), K=np.eye(4), V=np.eye(4))
    with pytest.raises(ValueError, match="^M:"):
        velocity(x, model="multihead", beta=1.0, M=np.ones((2, 4, 4)))
    with pytest.raises(ValueError, match="^x:.*vanishes"):
        velocity(np.array([[1.0, 0.0], [-1.0, 0.0]]), model="periln", beta=0.0)


def test_preln_periln_match_radial_angular_form():
    """x = r theta with dr/dt, dtheta/dt from the normalisation-scheme table (arXiv:2510.22026): dx/dt = r' theta + r theta'."""
    rng = np.random.default_rng([SEED, 3])
    theta = _sphere(rng, 25, 4)
    r = rng.uniform(0.5, 3.0, (25, 1))
    beta = 1.6
    A, _ = ref.softmax_attention(theta, beta)
    PA = ref.project(theta, A)
    p = np.sum(theta * A, axis=1, keepdims=True)
    a = np.linalg.norm(A, axis=1, keepdims=True)
    pre = p * theta + r * (PA / r)  # s_i = r_i, dr/dt = <theta, A>
    peri = (p / a) * theta + r * (PA / (r * a))  # s_i = r_i |A_i|, dr/dt = <theta, A>/|A|
    np.testing.assert_allclose(velocity(r * theta, model="preln", beta=beta), pre, atol=1e-14)
    np.testing.assert_allclose(velocity(r * theta, model="periln", beta=beta), peri, atol=1e-14)


def test_time_dependence_of_sqrt():
    rng = np.random.default_rng([SEED, 4])
    x = _sphere(rng, 10, 3)
    np.testing.assert_allclose(velocity(x, model="sqrt", beta=2.0, t=3.0), velocity(x, model="sa", beta=2.0) / 2.0,
                               atol=1e-15)


@pytest.mark.parametrize("model", ["sa", "usa", "qkv", "multihead", "kuramoto"])
@pytest.mark.parametrize("beta", [1.4, -0.8])
def test_energy_and_dissipation_match_reference(model, beta):
    rng = np.random.default_rng([SEED, 5, len(model)])
    d = 3
    p = {}
    if model == "qkv":
        A = rng.standard_normal((d, d))
        V = A @ A.T
        Q = rng.standard_normal((d, d))
        p = {"Q": Q, "K": np.linalg.solve(Q.T, V), "V": V}
    elif model == "multihead":
        A = rng.standard_normal((3, d, d))
        p = {"M": A + A.transpose(0, 2, 1)}
    x = rng.uniform(0, 2 * np.pi, 30) if model == "kuramoto" else _sphere(rng, 30, d)
    assert energy(x, model=model, beta=beta, **p) == pytest.approx(ref.energy_ref(x, model, beta, **p), rel=1e-13)
    assert dissipation(x, model=model, beta=beta, **p) == pytest.approx(ref.dissipation_ref(x, model, beta, **p),
                                                                         rel=1e-12)


def _retract(x, manifold):
    return x if manifold == "angles" else x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("model", ["sa", "usa", "qkv", "multihead", "kuramoto"])
def test_dissipation_identity_by_finite_differences(model):
    """dE/dt along the flow (central difference on the retracted curve) equals dissipation(x)."""
    rng = np.random.default_rng([SEED, 6, len(model)])
    d, beta = 3, 1.3
    p = {}
    if model == "qkv":
        A = rng.standard_normal((d, d))
        V = A + A.T
        p = {"Q": np.eye(d), "K": V, "V": V}
    elif model == "multihead":
        A = rng.standard_normal((2, d, d))
        p = {"M": 0.5 * (A + A.transpose(0, 2, 1))}
    manifold = MODELS[model].manifold
    x = rng.uniform(0, 2 * np.pi, 12) if manifold == "angles" else _sphere(rng, 12, d)
    v = velocity(x, model=model, beta=beta, **p)
    h = 1e-5
    dE = (energy(_retract(x + h * v, manifold), model=model, beta=beta, **p)
          - energy(_retract(x - h * v, manifold), model=model, beta=beta, **p)) / (2 * h)
    assert dE == pytest.approx(dissipation(x, model=model, beta=beta, **p), rel=1e-7)


def test_energy_hypotheses_and_models_without_energy():
    rng = np.random.default_rng([SEED, 7])
    x = _sphere(rng, 8, 3)
    Q, K, V = rng.standard_normal((3, 3, 3))
    with pytest.raises(ValueError, match="^V:.*Q\\^T K = V"):
        energy(x, model="qkv", beta=1.0, Q=Q, K=K, V=V)
    with pytest.raises(ValueError, match="^M:.*symmetric"):
        energy(x, model="multihead", beta=1.0, M=rng.standard_normal((2, 3, 3)))
    with pytest.raises(ValueError, match="^normalization:"):
        dissipation(x, model="multihead", beta=1.0, M=np.stack([np.eye(3)]), normalization="per_head")
    for model in ("causal_alibi", "preln", "ngpt", "sqrt"):
        assert not MODELS[model].has_energy
        with pytest.raises(ValueError, match="^model:.*no energy"):
            energy(rng.uniform(0, 1, 5) if MODELS[model].manifold == "angles" else x, model=model, beta=1.0)
    with pytest.raises(ValueError, match="^beta:"):
        energy(x, beta=0.0)


def test_energy_at_large_beta_is_finite_and_exact():
    """E = (1/(2 beta)) sum e^{beta <x_i,x_j>} at beta = 600: e^{600} * (n + small) / 1200, no overflow."""
    x = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    beta = 600.0
    want = np.exp(beta - np.log(2 * beta)) * 3.0 + 6.0 / (2 * beta)  # three diagonal terms + six e^0 terms
    assert energy(x, beta=beta) == pytest.approx(want, rel=1e-13)
    assert np.isfinite(dissipation(x, model="sa", beta=beta))


def test_energy_overflow_is_reported_not_returned_as_inf():
    x = np.eye(3)
    with pytest.raises(OverflowError, match="^beta:"):
        energy(x, beta=800.0)
    # the SA field itself stays finite at that beta (normalised softmax, shifted exponentials)
    assert np.all(np.isfinite(velocity(x, model="sa", beta=800.0)))


def test_interp_field_special_layers_and_validation():
    """Pure-perceptron and pure-attention layers against closed forms; x of another dimension is rejected;
    the model has no energy; make_field accepts off-sphere rows (Runge-Kutta stages)."""
    rng = np.random.default_rng([SEED, 8])
    d, m = 4, 3
    x = _sphere(rng, 11, d)
    W, U, b = rng.standard_normal((d, m)), rng.standard_normal((m, d)), rng.standard_normal(m)
    zero = np.zeros((d, d))
    # V = 0: pointwise field P_x(W (U x + b)_+), written with explicit loops
    v = velocity(x, model="interp", beta=1.0, V=zero, B=rng.standard_normal((d, d)), W=W, U=U, b=b)
    for i in range(11):
        y = sum(W[:, r] * max(0.0, float(U[r] @ x[i] + b[r])) for r in range(m))
        np.testing.assert_allclose(v[i], y - (x[i] @ y) * x[i], rtol=0, atol=1e-14)
    # W with no columns, B = 0, V = I: the barycentre field P_x(mean_j x_j)
    v = velocity(x, model="interp", beta=1.0, V=np.eye(d), B=zero, W=np.zeros((d, 0)), U=np.zeros((0, d)), b=[])
    np.testing.assert_allclose(v, ref.project(x, np.broadcast_to(x.mean(axis=0), x.shape)), rtol=0, atol=1e-15)
    # beta scales B
    V, B = rng.standard_normal((2, d, d))
    np.testing.assert_allclose(velocity(x, model="interp", beta=2.5, V=V, B=B, W=W, U=U, b=b),
                               velocity(x, model="interp", beta=1.0, V=V, B=2.5 * B, W=W, U=U, b=b),
                               rtol=0, atol=1e-13)
    with pytest.raises(ValueError, match=r"^V: expected shape \(3, 3\), got \(4, 4\)"):
        velocity(x[:, :3] / np.linalg.norm(x[:, :3], axis=1, keepdims=True), model="interp", beta=1.0,
                 V=V, B=B, W=W, U=U, b=b)
    with pytest.raises(ValueError, match="^model:.*no energy"):
        energy(x, model="interp", beta=1.0, V=V, B=B, W=W, U=U, b=b)
    f = make_field("interp", beta=1.0, V=V, B=B, W=W, U=U, b=b)
    y = 1.07 * x
    np.testing.assert_allclose(f(0.0, y), ref.velocity_ref(y, "interp", 1.0, V=V, B=B, W=W, U=U, b=b),
                               rtol=0, atol=1e-13)


def test_interp_simulate_runs_through_the_generated_kernel():
    """simulate('interp', ...) integrates the field; its RK4 end point matches a plain RK4 on the reference."""
    from attnflow.numerics.simulate import simulate

    rng = np.random.default_rng([SEED, 9])
    d, m = 3, 2
    x0 = _sphere(rng, 8, d)
    lay = {"V": rng.standard_normal((d, d)), "B": rng.standard_normal((d, d)), "W": rng.standard_normal((d, m)),
           "U": rng.standard_normal((m, d)), "b": rng.standard_normal(m)}
    traj = simulate("interp", x0, beta=1.0, t_final=0.5, dt=0.05, method="rk4", **lay)
    assert traj.energy is None
    xf = np.asarray(traj.states[-1])
    np.testing.assert_allclose(np.linalg.norm(xf, axis=1), 1.0, atol=1e-12)
    # independent route: velocity_ref + a plain RK4 with retraction, 10 steps
    x = x0.copy()

    def f(z):
        return ref.velocity_ref(z, "interp", 1.0, **lay)

    for _ in range(10):
        k1 = f(x)
        k2 = f(x + 0.025 * k1)
        k3 = f(x + 0.025 * k2)
        k4 = f(x + 0.05 * k3)
        x = x + (0.05 / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(xf, x, rtol=0, atol=1e-12)
