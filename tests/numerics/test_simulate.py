"""simulate(), Trajectory and the initial-state helpers.

Two layers:
- pipeline tests run ``simulate`` against a small plain-NumPy stand-in for
  ``attnflow.numerics.fields`` (same API), so they do not depend on the generated kernels;
- model tests check the real (generated) models against
  independent routes: the β = 0 equiangular closed form (``derivations/equiangular.md``), scipy's DOP853
  on a plain-NumPy SA field, energy monotonicity of the gradient flows (``derivations/energy.md``), and
  θ_1 fixed for causal ALiBi (arXiv:2605.09213).
"""

import math
import sys
import types
from dataclasses import dataclass

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import attnflow.numerics as numerics_pkg
from attnflow.numerics import single_thread
from attnflow.numerics._reference import velocity_ref
from attnflow.numerics.initial import equiangular, random_angles, random_matrices, random_sphere
from attnflow.numerics.simulate import default_method, simulate
from attnflow.numerics.trajectory import Trajectory, cluster_labels


@pytest.fixture(autouse=True)
def _one_numba_thread():
    """Run the generated kernels single-threaded here: these tests check values, and on a loaded
    2-core machine the parallel kernels' thread hand-off on tiny n costs up to ~100x (measured:
    2000 SA calls at n = 6 took 0.05 s with 1 thread, 0.2-12 s with 2)."""
    with single_thread():
        yield


# ----------------------------------------------------------------------------- stand-in fields
@dataclass(frozen=True)
class _Matrix:
    name: str
    required: bool = True


@dataclass(frozen=True)
class _Spec:
    """Stands in for a model declaration (the attributes simulate() reads)."""

    name: str
    manifold: str
    params: tuple = ()
    optional: tuple = ()
    gradient_flow: bool = True
    has_energy: bool = True
    time_dependent: bool = False
    description: str = ""
    draw_params: object = None

    @property
    def matrix_params(self):
        return tuple(_Matrix(p) for p in self.params)


def _draw_qkv(d, seed, *, symmetric=False, **_):
    return random_matrices(d, seed, symmetric=symmetric)


def _sa(x, beta):
    return velocity_ref(x, "sa", beta)  # plain NumPy, n x n Gram: independent of the kernels


def _kuramoto(th, beta):
    dth = th[:, None] - th[None, :]
    return -np.mean(np.exp(beta * np.cos(dth)) * np.sin(dth), axis=1)


def _make_fake_fields():
    mod = types.ModuleType("attnflow.numerics.fields")
    mod.MODELS = {
        "sa": _Spec("sa", "sphere"),
        "kuramoto": _Spec("kuramoto", "angles"),
        "flat": _Spec("flat", "euclidean", has_energy=False, gradient_flow=False),
        "qkv": _Spec("qkv", "sphere", params=("Q", "K", "V"), has_energy=False, gradient_flow=False,
                     draw_params=_draw_qkv),
    }

    def model_spec(model):
        if model not in mod.MODELS:
            raise ValueError(f"model: unknown model {model!r}")
        return mod.MODELS[model]

    mod.model_spec = model_spec

    def make_field(model, *, beta, **params):
        if model == "sa":
            return lambda t, x: _sa(x, beta)
        if model == "kuramoto":
            return lambda t, th: _kuramoto(th, beta)
        if model == "flat":
            return lambda t, x: -x
        if model == "qkv":
            Q, K, V = params["Q"], params["K"], params["V"]

            def f(t, x):
                logits = beta * (x @ Q.T) @ (x @ K.T).T
                w = np.exp(logits - logits.max(axis=1, keepdims=True))
                a = (w @ (x @ V.T)) / w.sum(axis=1, keepdims=True)
                return a - np.sum(a * x, axis=1, keepdims=True) * x

            return f
        raise ValueError(f"model: unknown {model!r}")

    def velocity(x, *, model="sa", beta, t=0.0, normalize=False, **params):
        spec = mod.MODELS[model]
        x = np.asarray(x, dtype=float)
        if spec.manifold == "sphere":
            if x.ndim != 2:
                raise ValueError(f"x: sphere states have shape (n, d), got {x.shape}")
            if not np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-10):
                raise ValueError("x: rows must be unit vectors; pass normalize=True")
        if spec.manifold == "angles" and x.ndim not in (1, 2):
            raise ValueError(f"x: angles have shape (n,) or (P, N), got {x.shape}")
        for name in spec.params:
            if name not in params:
                raise ValueError(f"{name}: model {model} needs {name}")
        return make_field(model, beta=beta, **params)(t, x)

    def energy(x, *, model, beta, **params):
        if model == "sa":
            if beta == 0:  # E minus its constant n^2/(2 beta), limit beta -> 0
                return float(np.sum(x @ x.T) / 2)
            return float(np.sum(np.exp(beta * (x @ x.T))) / (2 * beta))
        if model == "kuramoto":
            return float(np.sum(np.exp(beta * np.cos(x[:, None] - x[None, :]))) / (2 * beta * len(x) ** 2))
        raise ValueError(f"model: {model} has no energy")

    mod.make_field, mod.velocity, mod.energy = make_field, velocity, energy
    return mod


@pytest.fixture
def fake_fields(monkeypatch):
    mod = _make_fake_fields()
    monkeypatch.setitem(sys.modules, "attnflow.numerics.fields", mod)
    monkeypatch.setattr(numerics_pkg, "fields", mod, raising=False)
    return mod


# ------------------------------------------------------------------------------ initial states
def test_random_sphere():
    x = random_sphere(50, 4, seed=3)
    assert x.shape == (50, 4)
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-15)
    assert np.array_equal(x, random_sphere(50, 4, seed=3))
    assert not np.array_equal(x, random_sphere(50, 4, seed=4))
    # uniformity sanity: the mean of 20000 uniform points is O(1/sqrt(N))
    assert np.linalg.norm(random_sphere(20000, 3, seed=0).mean(axis=0)) < 0.03


@pytest.mark.parametrize("n,d,rho", [(5, 5, 0.1), (4, 7, -0.2), (6, 6, 0.0), (4, 3, -1 / 3), (5, 2, 1.0), (2, 2, -1.0)])
def test_equiangular_gram(n, d, rho):
    x = equiangular(n, d, rho)
    expected = np.full((n, n), rho)
    np.fill_diagonal(expected, 1.0)
    assert x.shape == (n, d)
    assert np.allclose(x @ x.T, expected, atol=1e-14)
    xr = equiangular(n, d, rho, seed=1)  # a random rotation keeps the Gram matrix
    assert np.allclose(xr @ xr.T, expected, atol=1e-14)


def test_equiangular_bad_input():
    with pytest.raises(ValueError, match="rho"):
        equiangular(5, 5, -0.3)  # below -1/(n-1)
    with pytest.raises(ValueError, match="rho"):
        equiangular(5, 5, 1.1)
    with pytest.raises(ValueError, match="d"):
        equiangular(5, 3, 0.1)
    with pytest.raises(ValueError, match="n"):
        equiangular(1, 3, 0.1)


def test_random_angles_and_matrices():
    th = random_angles(100, seed=1)
    assert th.shape == (100,) and th.min() >= 0 and th.max() < 2 * np.pi
    assert random_angles((3, 7), seed=1).shape == (3, 7)
    with pytest.raises(ValueError, match="n"):
        random_angles(0)
    with pytest.raises(ValueError, match="seed"):
        random_angles(3, seed=-1)
    m = random_matrices(4, seed=2)
    assert set(m) == {"Q", "K", "V"} and all(v.shape == (4, 4) for v in m.values())
    s = random_matrices(4, seed=2, symmetric=True)
    assert np.array_equal(s["Q"], np.eye(4)) and np.allclose(s["V"], s["V"].T) and np.array_equal(s["K"], s["V"])
    h = random_matrices(3, seed=0, heads=2, symmetric=True)["M"]
    assert h.shape == (2, 3, 3) and np.allclose(h, h.transpose(0, 2, 1))


# -------------------------------------------------------------------------- pipeline (stand-in)
def test_default_method_rules():
    assert default_method(0.1, None) == "rk4"
    assert default_method(None, 1e-8) == "adaptive"
    with pytest.raises(ValueError, match="dt"):
        default_method(0.1, 1e-8)
    with pytest.raises(ValueError, match="dt"):
        default_method(None, None)


def test_simulate_sa_matches_scipy(fake_fields):
    x0 = random_sphere(6, 3, seed=11)
    f = lambda t, y: _sa(y.reshape(6, 3), 2.0).ravel()  # noqa: E731
    ref = solve_ivp(f, (0, 3.0), x0.ravel(), method="DOP853", rtol=1e-12, atol=1e-12).y[:, -1].reshape(6, 3)
    for kw in (dict(dt=0.01), dict(rtol=1e-10)):
        tr = simulate("sa", x0, beta=2.0, t_final=3.0, **kw)
        assert tr.times[0] == 0.0 and tr.times[-1] == 3.0
        assert np.max(np.abs(tr.final - ref)) < 1e-8
        assert tr.method == ("rk4" if "dt" in kw else "adaptive")
        assert tr.states.shape == (len(tr.times), 6, 3)
        assert tr.energy.shape == tr.times.shape
        assert np.all(np.diff(tr.energy) >= -1e-12)  # gradient flow: E non-decreasing
        assert tr.nfev > 0 and tr.steps > 0


def test_simulate_equiangular_beta0_closed_form(fake_fields):
    # beta = 0: rho(t) = (K e^{2t} - 1)/(K e^{2t} + n - 1), K = (1 + (n-1) rho0)/(1 - rho0)
    n, rho0, T = 5, 0.1, 1.5
    x0 = equiangular(n, n, rho0)
    tr = simulate("sa", x0, beta=0.0, t_final=T, dt=0.01, save_every=10)
    K = (1 + (n - 1) * rho0) / (1 - rho0)
    for t, x in zip(tr.times, tr.states):
        rho = (K * np.exp(2 * t) - 1) / (K * np.exp(2 * t) + n - 1)
        g = x @ x.T
        assert np.allclose(g[~np.eye(n, dtype=bool)], rho, atol=1e-9)


def test_save_every_and_methods(fake_fields):
    x0 = random_sphere(4, 3, seed=0)
    tr = simulate("sa", x0, beta=1.0, t_final=1.0, dt=0.3, save_every=2)
    assert np.allclose(tr.times, [0.0, 0.6, 1.0]) and tr.times[-1] == 1.0
    for method in ("euler", "lie_euler", "rk4"):
        t2 = simulate("sa", x0, beta=1.0, t_final=0.5, dt=0.05, method=method)
        assert t2.method == method and np.allclose(np.linalg.norm(t2.final, axis=1), 1.0)
    t3 = simulate("sa", x0, beta=1.0, t_final=0.5, rtol=1e-6, dt=0.4, method="adaptive")
    assert t3.method == "adaptive" and t3.times[-1] == 0.5
    t0 = simulate("sa", x0, beta=1.0, t_final=0.0, dt=0.1)
    assert t0.times.tolist() == [0.0] and np.array_equal(t0.final, x0)


def test_normalize_and_no_energy_models(fake_fields):
    x0 = 3.0 * random_sphere(4, 3, seed=0)
    with pytest.raises(ValueError, match="unit"):
        simulate("sa", x0, beta=1.0, t_final=0.1, dt=0.05)
    tr = simulate("sa", x0, beta=1.0, t_final=0.1, dt=0.05, normalize=True)
    assert np.allclose(np.linalg.norm(tr.states[0], axis=1), 1.0)
    flat = simulate("flat", np.ones((3, 2)), beta=1.0, t_final=1.0, dt=0.01)
    assert flat.energy is None and np.allclose(flat.final, math.exp(-1.0), atol=1e-9)  # x' = -x
    assert flat.cluster_count() == 1


def test_seed_draws_matrices(fake_fields):
    x0 = random_sphere(5, 3, seed=0)
    a = simulate("qkv", x0, beta=1.0, t_final=0.2, dt=0.05, seed=4)
    b = simulate("qkv", x0, beta=1.0, t_final=0.2, dt=0.05, **random_matrices(3, 4))
    assert np.array_equal(a.final, b.final) and a.params["seed"] == 4
    with pytest.raises(ValueError, match="Q"):
        simulate("qkv", x0, beta=1.0, t_final=0.2, dt=0.05)


def test_kuramoto_angles(fake_fields):
    th0 = random_angles(8, seed=2)
    tr = simulate("kuramoto", th0, beta=1.0, t_final=2.0, rtol=1e-9)
    ref = solve_ivp(lambda t, y: _kuramoto(y, 1.0), (0, 2.0), th0, method="DOP853", rtol=1e-12, atol=1e-12).y[:, -1]
    assert np.max(np.abs(tr.final - ref)) < 1e-7
    assert tr.states.shape[1:] == (8,) and np.all(np.diff(tr.energy) >= -1e-13)


def test_progress_bar(fake_fields, capsys):
    x0 = random_sphere(4, 3, seed=0)
    tr = simulate("sa", x0, beta=1.0, t_final=0.2, dt=0.05, progress=True)
    tr2 = simulate("sa", x0, beta=1.0, t_final=0.2, rtol=1e-6, progress=True)
    assert tr.times[-1] == tr2.times[-1] == 0.2


@pytest.mark.parametrize(
    "kwargs,arg",
    [
        (dict(model="nope"), "model"),
        (dict(dt=0.0), "dt"),
        (dict(dt=-1.0), "dt"),
        (dict(dt=float("inf")), "dt"),
        (dict(t_final=-1.0), "t_final"),
        (dict(t_final=float("nan")), "t_final"),
        (dict(dt=None), "dt"),
        (dict(rtol=1e-6), "dt"),  # both dt and rtol without method
        (dict(method="rk45"), "method"),
        (dict(method="adaptive", dt=None), "rtol"),
        (dict(method="euler", rtol=1e-6), "rtol"),
        (dict(method="euler", dt=None, rtol=1e-6), "dt"),
        (dict(save_every=0), "save_every"),
        (dict(save_every=1.5), "save_every"),
        (dict(beta=float("nan")), "beta"),
        (dict(beta="big"), "beta"),
        (dict(x0=np.array([[1.0, 0.0, np.nan]])), "x0"),
        (dict(x0=np.ones(3) / math.sqrt(3)), "x"),  # wrong shape for a sphere model
        (dict(x0="abc"), "x0"),
    ],
)
def test_bad_input(fake_fields, kwargs, arg):
    call = dict(model="sa", x0=random_sphere(3, 3, seed=0), beta=1.0, t_final=1.0, dt=0.1)
    call.update(kwargs)
    model, x0 = call.pop("model"), call.pop("x0")
    with pytest.raises(ValueError, match=arg):
        simulate(model, x0, **call)


# ------------------------------------------------------------------------------- trajectories
def test_cluster_labels_and_counts():
    e = np.eye(3)
    near = np.array([1.0, 1e-2, 0.0]) / np.linalg.norm([1.0, 1e-2, 0.0])  # 1 - <e1, near> = 5e-5
    u = np.stack([e[0], near, e[1], -e[0]])
    assert cluster_labels(u, 1e-3).tolist() == [0, 0, 1, 2]
    assert cluster_labels(u, 1e-6).tolist() == [0, 1, 2, 3]
    # single linkage chains: -e1 joins through e2 (1 - 0 <= 1.5) although 1 - <e1, -e1> = 2 > 1.5
    assert cluster_labels(u, 1.5).tolist() == [0, 0, 0, 0]
    assert cluster_labels(u, 0.9).tolist() == [0, 0, 1, 2]
    # blocked computation agrees with one block
    x = random_sphere(300, 3, seed=5)
    assert np.array_equal(cluster_labels(x, 0.05, block=7), cluster_labels(x, 0.05))
    with pytest.raises(ValueError, match="tol"):
        cluster_labels(u, 0.0)


def _toy_trajectory(energy=True):
    times = np.array([0.0, 1.0, 2.0])
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[1.0, 0.0], [np.cos(0.1), np.sin(0.1)]])
    c = np.array([[1.0, 0.0], [np.cos(0.01), np.sin(0.01)]])
    return Trajectory(
        times=times, states=np.stack([a, b, c]), energy=np.array([1.0, 2.0, 3.0]) if energy else None,
        model="sa", beta=1.5, params={"lam": 0.5, "M": np.eye(2)[None], "normalization": "per_head"}, method="rk4", nfev=12, steps=3, dt=1.0,
    )


def test_time_to_cluster_and_count():
    tr = _toy_trajectory()
    assert tr.cluster_count() == 1  # 1 - cos(0.01) = 5e-5
    assert tr.cluster_count(index=0) == 2
    assert tr.time_to_cluster(1e-3) == 2.0
    assert tr.time_to_cluster(1e-2) == 1.0  # 1 - cos(0.1) = 5.0e-3
    assert np.isnan(tr.time_to_cluster(1e-6))  # never reached: NaN
    ang = Trajectory(times=[0.0, 1.0], states=[[0.0, 3.0], [0.0, 0.02]], energy=None, model="kuramoto", beta=1.0,
                     manifold="angles")
    assert ang.cluster_count() == 1 and ang.cluster_count(index=0) == 2 and ang.time_to_cluster() == 1.0
    batch = Trajectory(times=[0.0, 1.0], states=np.array([[[0.0, 3.0], [0.0, 0.5]], [[0.0, 0.02], [0.0, 0.5]]]),
                       energy=None, model="causal_alibi", beta=1.0, manifold="angles")
    assert batch.cluster_count().tolist() == [1, 2]
    ttc = batch.time_to_cluster()
    assert ttc[0] == 1.0 and np.isnan(ttc[1])
    with pytest.raises(ValueError, match="states"):
        Trajectory(times=[0.0, 1.0], states=np.zeros((3, 2, 2)), energy=None, model="sa", beta=1.0)


@pytest.mark.parametrize("energy", [True, False])
def test_npz_roundtrip_and_overwrite(tmp_path, energy):
    tr = _toy_trajectory(energy)
    path = tmp_path / "traj.npz"
    tr.save_npz(path)
    back = Trajectory.load_npz(path)
    assert np.array_equal(back.times, tr.times) and np.array_equal(back.states, tr.states)
    assert (back.energy is None) == (not energy)
    if energy:
        assert np.array_equal(back.energy, tr.energy)
    assert back.model == "sa" and back.beta == 1.5 and back.method == "rk4" and back.nfev == 12
    assert back.dt == 1.0 and back.rtol is None and back.params["lam"] == 0.5
    assert np.array_equal(back.params["M"], np.eye(2)[None]) and back.params["normalization"] == "per_head"
    with pytest.raises(FileExistsError, match="force"):
        tr.save_npz(path)
    tr.energy = None
    tr.save_npz(path, force=True)
    assert Trajectory.load_npz(path).energy is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["traj.npz"]  # no temp files left
    np.savez(tmp_path / "other.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match="not an attnflow trajectory"):
        Trajectory.load_npz(tmp_path / "other.npz")


# ------------------------------------------------------------------------- real models (fields)
def test_real_sa_matches_independent_numpy_solution():
    x0 = random_sphere(6, 3, seed=11)
    f = lambda t, y: _sa(y.reshape(6, 3), 2.0).ravel()  # noqa: E731
    ref = solve_ivp(f, (0, 2.0), x0.ravel(), method="DOP853", rtol=1e-12, atol=1e-12).y[:, -1].reshape(6, 3)
    tr = simulate("sa", x0, beta=2.0, t_final=2.0, dt=0.01)
    assert np.max(np.abs(tr.final - ref)) < 1e-8
    assert np.all(np.diff(tr.energy) >= -1e-10 * np.abs(tr.energy[:-1]))


def test_real_sa_equiangular_closed_form_beta0():
    n, rho0, T = 5, 0.1, 1.5
    tr = simulate("sa", equiangular(n, n, rho0), beta=0.0, t_final=T, dt=0.01, save_every=15)
    K = (1 + (n - 1) * rho0) / (1 - rho0)
    for t, x in zip(tr.times, tr.states):
        rho = (K * np.exp(2 * t) - 1) / (K * np.exp(2 * t) + n - 1)
        assert np.allclose((x @ x.T)[~np.eye(n, dtype=bool)], rho, atol=1e-9)


def test_real_kuramoto_matches_independent_numpy_solution():
    th0 = random_angles(8, seed=2)
    ref = solve_ivp(lambda t, y: _kuramoto(y, 1.0), (0, 2.0), th0, method="DOP853", rtol=1e-12, atol=1e-12).y[:, -1]
    tr = simulate("kuramoto", th0, beta=1.0, t_final=2.0, rtol=1e-10)
    assert np.max(np.abs(tr.final - ref)) < 1e-7


def test_real_causal_alibi_first_token_fixed():
    th0 = random_angles(10, seed=3)
    tr = simulate("causal_alibi", th0, beta=1.0, t_final=1.0, dt=0.01, lam=1.0)
    assert np.all(tr.states[:, 0] == th0[0])
    assert not np.allclose(tr.final[1:], th0[1:])


def test_real_sqrt_time_dependent_matches_independent_solution():
    # sqrt-scaling: x' = P_x A / sqrt(t + 1) (arXiv:2510.22026), plain NumPy + DOP853
    x0 = random_sphere(5, 3, seed=8)
    f = lambda t, y: _sa(y.reshape(5, 3), 1.5).ravel() / math.sqrt(t + 1.0)  # noqa: E731
    ref = solve_ivp(f, (0, 2.0), x0.ravel(), method="DOP853", rtol=1e-12, atol=1e-12).y[:, -1].reshape(5, 3)
    for kw in (dict(dt=0.01), dict(rtol=1e-10)):
        tr = simulate("sqrt", x0, beta=1.5, t_final=2.0, **kw)
        assert np.max(np.abs(tr.final - ref)) < 1e-8
        assert tr.energy is None and "no interaction energy" in tr.energy_note


def test_real_rk4_order_through_simulate():
    # the diffrax-style order check once more, through simulate() and the generated kernels
    x0 = random_sphere(5, 3, seed=20240501)
    f = lambda t, y: _sa(y.reshape(5, 3), 1.0).ravel()  # noqa: E731
    ref = solve_ivp(f, (0, 1.0), x0.ravel(), method="DOP853", rtol=1e-13, atol=1e-13).y[:, -1].reshape(5, 3)
    dts = [0.2, 0.1, 0.05, 0.025]
    errs = [np.max(np.abs(simulate("sa", x0, beta=1.0, t_final=1.0, dt=dt).final - ref)) for dt in dts]
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert abs(slope - 4.0) < 0.3, (slope, errs)


@pytest.mark.parametrize(
    "model,params",
    [
        ("usa", {}),
        ("qkv", dict(random_matrices(3, 5, symmetric=True))),
        ("multihead", dict(random_matrices(3, 6, heads=2, symmetric=True))),
    ],
)
def test_real_gradient_flows_increase_energy(model, params):
    # derivations/energy.md (dissipation identities): dE/dt >= 0 for the gradient-flow rows; checked on the saved RK4 states
    tr = simulate(model, random_sphere(7, 3, seed=1), beta=2.0, t_final=3.0, dt=0.01, save_every=5, **params)
    assert tr.energy is not None
    assert np.all(np.diff(tr.energy) >= -1e-12 * np.abs(tr.energy[:-1])), np.diff(tr.energy).min()
    assert tr.energy[-1] > tr.energy[0]


def test_real_models_without_energy_and_batches():
    x0 = random_sphere(6, 3, seed=2)
    for model, kw in [("qkv", dict(random_matrices(3, 1))), ("multihead", dict(random_matrices(3, 2, heads=2), normalization="per_head")),
                      ("ngpt", dict(alpha=2.0)), ("periln", {}), ("sa", dict())]:
        beta = 0.0 if model == "sa" else 1.0
        tr = simulate(model, x0, beta=beta, t_final=0.5, dt=0.05, **kw)
        assert np.all(np.isfinite(tr.states)) and tr.energy is None and tr.energy_note, model
    big = simulate("sa", x0, beta=1000.0, t_final=0.2, dt=0.01)  # shifted softmax: no overflow in the field
    assert np.all(np.isfinite(big.states)) and big.energy is None and "overflow" in big.energy_note
    batch = random_angles((3, 6), seed=4)
    tr = simulate("kuramoto", batch, beta=1.0, t_final=0.5, dt=0.05)
    assert tr.states.shape == (11, 3, 6) and tr.energy is None
    assert tr.cluster_count().shape == (3,)
    # each prompt of the batch evolves as its own system
    single = simulate("kuramoto", batch[1], beta=1.0, t_final=0.5, dt=0.05)
    assert np.allclose(tr.final[1], single.final, atol=1e-14)


def test_real_preln_radii():
    # Pre-LN on x = r theta: dr_i/dt = <theta_i, A_i> (arXiv:2510.22026) and |A_i| <= 1 (A_i is a
    # convex combination of unit vectors), so r_i(t) <= r_i(0) + t; from this seed every token's
    # radius grows (all <theta_i, A_i> > 0 along the run).
    x0 = random_sphere(6, 3, seed=9)
    tr = simulate("preln", x0, beta=1.0, t_final=10.0, dt=0.02, save_every=50)
    r = np.linalg.norm(tr.states, axis=2)
    assert np.all(r <= 1.0 + tr.times[:, None] + 1e-12)
    assert np.all(np.diff(r, axis=0) > 0)
    assert tr.manifold == "euclidean" and tr.energy is None


@pytest.mark.parametrize("model, kw, pattern", [
    ("sa", {"foo": 2.0}, r"^foo: not a parameter of model 'sa' \(parameters: none\); drop it"),
    ("sa", {"foo": 2.0, "bar": 1.0}, r"^bar, foo: not parameters of model 'sa'.*drop them"),
    ("ngpt", {"alpah": 0.5}, r"^alpah: not a parameter of model 'ngpt' \(parameters: alpha\); did you mean alpha\?"),
    ("ngpt", {"params": {"alpha": 0.5}}, r"^params: .*keyword arguments.*alpha=\.\.\."),
    ("sa", {"params": {"foo": 2.0}}, r"^params: .*takes no parameters: drop params="),
])
def test_an_unknown_model_parameter_is_named_with_the_fix(model, kw, pattern):
    x0 = random_sphere(6, 3, seed=0)
    for batch in (x0, np.stack([x0, x0])):  # one system and an ensemble
        for method in ("rk4", "authors"):
            with pytest.raises(ValueError, match=pattern):
                simulate(model, batch, beta=1.0, t_final=0.1, dt=0.05, method=method, **kw)
