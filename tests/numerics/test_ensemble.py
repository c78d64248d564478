"""Ensembles of independent systems, saved times (t_eval, dense output), the authors' scheme and the
time-rescaled models.

Expected values come from independent routes: the systems run one by one (the one-system path),
a tight-tolerance reference run, plain NumPy versions of the authors' script step, and mpmath sums.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from attnflow.models import SphereModel, beta as BETA, s as S_
from attnflow.numerics import fields, integrators, simulate
from attnflow.numerics.simulate import authors_step_scale


def _scipy_reference(model, x, beta, t_eval, **params):
    """States at ``t_eval`` by scipy's DOP853 at rtol 1e-13 on the flattened field (an integrator
    independent of attnflow's; the sphere fields leave the sphere invariant)."""
    from scipy.integrate import solve_ivp

    f = fields.make_field(model, beta=beta, **params)
    sol = solve_ivp(lambda t, y: f(t, y.reshape(x.shape)).ravel(), (0.0, float(t_eval[-1])), x.ravel(),
                    method="DOP853", rtol=1e-13, atol=1e-15, t_eval=t_eval)
    return sol.y.T.reshape((len(t_eval),) + x.shape)


def _sphere(seed, *shape):
    x = np.random.default_rng(seed).standard_normal(shape)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


HALF = SphereModel(name="ens_test_half", weight=sp.exp(BETA * S_ / 2), normalization="softmax",
                   energy=2 * sp.exp(BETA * S_ / 2) / BETA, source="SA at beta / 2 (test declaration)")


def _cases():
    rng = np.random.default_rng(7)
    V = rng.standard_normal((3, 3)) / 2
    return [("sa", {}, _sphere(1, 4, 6, 3)), ("usa", {}, _sphere(2, 4, 6, 3)),
            ("qkv", {"Q": rng.standard_normal((3, 3)), "K": rng.standard_normal((3, 3)), "V": V}, _sphere(3, 4, 6, 3)),
            ("kuramoto", {}, rng.uniform(-np.pi, np.pi, (4, 6))), (HALF, {}, _sphere(4, 4, 6, 3))]


@pytest.mark.parametrize("model,params,x", _cases(), ids=["sa", "usa", "qkv", "kuramoto", "declared"])
def test_batch_equals_loop_of_systems(model, params, x):
    run = simulate(model, x, beta=1.7, t_final=0.6, dt=0.05, **params)
    assert run.batched and run.n_systems == 4 and run.states.shape == (13,) + x.shape
    assert run.energy is None and "energy=False" in run.energy_note  # the default for a batch
    for b in range(4):
        one = simulate(model, x[b], beta=1.7, t_final=0.6, dt=0.05, **params)
        assert np.max(np.abs(run.states[:, b] - one.states)) <= 1e-14
        assert np.array_equal(run.times, one.times)


def test_batch_field_is_one_ensemble_kernel_call():
    from attnflow import export

    x = _sphere(5, 3, 5, 3)
    with export.trace_kernel_calls(["sa_velocity", "sa_velocity_ensemble"]) as counts:
        v = fields.velocity(x, model="sa", beta=2.0)
    assert counts["sa_velocity_ensemble"] == 1 and counts["sa_velocity"] == 0
    assert np.array_equal(v, np.stack([fields.velocity(xb, model="sa", beta=2.0) for xb in x]))


def test_energy_switch_and_batch_energies():
    x = _sphere(6, 3, 5, 3)
    one = simulate("sa", x[0], beta=1.0, t_final=0.2, dt=0.1)
    assert one.energy is not None and one.energy.shape == (3,)  # default: today's behaviour
    assert simulate("sa", x[0], beta=1.0, t_final=0.2, dt=0.1, energy=False).energy is None
    run = simulate("sa", x, beta=1.0, t_final=0.2, dt=0.1, energy=True)
    assert run.energy.shape == (3, 3)
    assert np.allclose(run.energy[:, 0], one.energy, rtol=1e-15, atol=0)
    assert np.allclose(run.system(0).energy, one.energy, rtol=1e-15, atol=0)
    with pytest.raises(ValueError, match="energy"):
        simulate("sa", x, beta=1.0, t_final=0.2, dt=0.1, energy="yes")


def test_cluster_counts_and_times_per_system():
    # system 0: two antipodal clusters (never one cluster); system 1: all tokens close (clusters fast)
    x = np.zeros((2, 4, 3))
    x[0, :2, 0], x[0, 2:, 0] = 1.0, -1.0
    x[1] = _sphere(0, 4, 3) * 0.05 + np.array([0.0, 0.0, 1.0])
    x[1] /= np.linalg.norm(x[1], axis=-1, keepdims=True)
    run = simulate("sa", x, beta=1.0, t_final=10.0, dt=0.05)
    counts = run.cluster_count()
    assert counts.tolist() == [2, 1]
    t = run.time_to_cluster()
    assert np.isnan(t[0]) and 0.0 <= t[1] <= 10.0
    assert t[1] == run.system(1).time_to_cluster()
    assert np.isnan(run.system(0).time_to_cluster())  # never reached: NaN, as in the batch


def test_t_eval_fixed_step_lands_on_requested_times():
    x = _sphere(8, 6, 3)
    t_eval = np.array([0.0, 0.13, 0.5, 0.77, 1.0])
    run = simulate("sa", x, beta=2.0, t_final=1.0, dt=0.1, t_eval=t_eval)
    assert np.array_equal(run.times, t_eval)
    # 10 grid steps, 3 of them split by a requested time (0.13, 0.77, and 0.5 is on the grid)
    assert run.steps == 12 and run.nfev == 4 * 12
    plain = simulate("sa", x, beta=2.0, t_final=1.0, dt=0.1)
    on_grid = simulate("sa", x, beta=2.0, t_final=1.0, dt=0.1, t_eval=[0.3, 0.5, 1.0])
    # nothing inserted (grid points snapped to the requested values: steps differ by ulps only)
    assert on_grid.steps == 10 and np.max(np.abs(on_grid.states - plain.states[[3, 5, 10]])) <= 1e-14
    ref = _scipy_reference("sa", x, 2.0, t_eval)
    err = np.max(np.abs(run.states - ref))
    assert 0 < err <= 1e-5  # fourth order at dt = 0.1, at the requested times themselves


def _dense_errors(h_values, theta, model="sa"):
    x = _sphere(9, 5, 3)
    f = fields.make_field(model, beta=2.0)
    dense, linear = [], []
    for h in h_values:
        x_new, _, ks = integrators._dopri5_stages(f, 0.0, x, h, None)
        ref = _scipy_reference(model, x, 2.0, [theta * h])[0]
        u = integrators.retract(integrators.dopri5_dense(x, x_new, ks, h, theta), "sphere")
        lin = integrators.retract((1 - theta) * x + theta * x_new, "sphere")
        dense.append(np.max(np.abs(u - ref)))
        linear.append(np.max(np.abs(lin - ref)))
    return np.array(dense), np.array(linear)


def test_dense_output_has_local_order_five():
    h = np.array([0.4, 0.2, 0.1])
    dense, linear = _dense_errors(h, 0.37)
    slope = np.polyfit(np.log(h), np.log(dense), 1)[0]
    lin_slope = np.polyfit(np.log(h), np.log(linear), 1)[0]
    assert 4.5 <= slope <= 5.6, (slope, dense)  # local error O(h^5): the 4th-order continuous extension
    assert 1.7 <= lin_slope <= 2.3  # linear interpolation of the steps: O(h^2)
    assert np.all(dense < 1e-2 * linear)


def test_adaptive_t_eval_uses_dense_output():
    x = _sphere(10, 3, 6, 3)
    t_eval = np.linspace(0.0, 3.0, 37)[1:] - 0.011
    run = simulate("sa", x, beta=3.0, t_final=3.0, rtol=1e-7, t_eval=t_eval)
    ref = _scipy_reference("sa", x, 3.0, t_eval)
    assert np.array_equal(run.times, t_eval) and run.steps < len(t_eval)  # most times fall inside steps
    err = np.max(np.abs(run.states - ref))
    assert err <= 1e-6
    # the same run saving its steps only: the step sequence does not depend on t_eval
    steps = simulate("sa", x, beta=3.0, t_final=3.0, rtol=1e-7)
    assert steps.steps == run.steps


def test_adaptive_batch_error_is_per_system():
    x = _sphere(11, 4, 5, 3)
    run = simulate("usa", x, beta=2.0, t_final=2.0, rtol=1e-8, t_eval=[1.0, 2.0])
    for b in range(4):
        ref = _scipy_reference("usa", x[b], 2.0, [1.0, 2.0])
        assert np.max(np.abs(run.states[:, b] - ref)) <= 1e-6


def _script_step(x, beta, h, softmax):
    """The step of the authors' phase-diagrams.py in plain NumPy (batched, B x n x d)."""
    G = beta * np.einsum("bid,bjd->bij", x, x)
    if softmax:
        W = np.exp(G - G.max(axis=2, keepdims=True))
        W /= W.sum(axis=2, keepdims=True)
    else:
        W = np.exp(G) / x.shape[1]
    y = x + h * np.einsum("bij,bjd->bid", W, x)
    return y / np.linalg.norm(y, axis=2, keepdims=True)


@pytest.mark.parametrize("model,softmax,beta", [("sa", True, 2.5), ("usa", False, 2.5), ("usa", False, 0.3)])
def test_authors_scheme_is_the_scripts_step(model, softmax, beta):
    x = _sphere(12, 3, 6, 3)
    step = 0.1
    eta = step if softmax else step / max(math.sqrt(beta) * math.exp(beta - 0.5), 1.0)
    n_steps = 7
    run = simulate(model, x, beta=beta, t_final=n_steps * eta, dt=step, method="authors")
    assert run.dt == pytest.approx(eta, rel=1e-15) and run.steps == n_steps
    y = x
    for _ in range(n_steps):
        y = _script_step(y, beta, eta, softmax)
    assert np.max(np.abs(run.states[-1] - y)) <= 1e-13


def test_authors_step_is_projected_euler_on_another_clock():
    x = _sphere(13, 6, 3)
    h = 0.2
    G = 1.5 * x @ x.T
    W = np.exp(G - G.max(axis=1, keepdims=True))
    A = (W / W.sum(axis=1, keepdims=True)) @ x
    hi = h / (1.0 + h * np.sum(x * A, axis=1, keepdims=True))
    v = fields.velocity(x, model="sa", beta=1.5)  # the projected field
    euler = x + hi * v
    euler /= np.linalg.norm(euler, axis=1, keepdims=True)
    run = simulate("sa", x, beta=1.5, t_final=h, dt=h, method="authors")
    assert np.max(np.abs(run.states[-1] - euler)) <= 1e-14


def test_authors_scheme_rejects_models_it_does_not_describe():
    with pytest.raises(ValueError, match="method: 'authors'"):
        simulate("kuramoto", np.array([0.0, 1.0]), beta=1.0, t_final=1.0, dt=0.1, method="authors")
    with pytest.raises(ValueError, match="method: 'authors'"):
        simulate("periln", 2 * _sphere(0, 3, 3), beta=1.0, t_final=1.0, dt=0.1, method="authors")
    assert authors_step_scale(fields.model_spec("sa"), 5.0) == 1.0
    assert authors_step_scale(fields.model_spec("usa"), 5.0) == pytest.approx(math.sqrt(5) * math.exp(4.5))


def _kuramoto_rescaled_mpmath(theta, beta):
    with mp.workdps(50):
        th = [mp.mpf(float(t)) for t in theta]
        b = mp.mpf(beta)
        return np.array([float(-mp.fsum(mp.exp(b * (mp.cos(ti - tj) - 1)) * mp.sin(ti - tj) for tj in th) / len(th))
                         for ti in th])


def test_rescaled_kuramoto_at_beta_4000_is_finite_and_exact():
    theta = np.array([0.0, 0.01, 0.015, 0.03, 2.0])  # close tokens: weights e^{beta(cos - 1)} not all 0
    v = fields.velocity(theta, model="kuramoto_rescaled", beta=4000.0)
    want = _kuramoto_rescaled_mpmath(theta, 4000.0)
    assert np.all(np.isfinite(v)) and np.max(np.abs(want)) > 1e-3
    assert np.max(np.abs(v - want)) <= 1e-13 * np.max(np.abs(want))
    with pytest.raises(ValueError, match="overflows"):
        fields.velocity(theta, model="kuramoto", beta=4000.0)  # the unrescaled field is beyond float64
    run = simulate("kuramoto_rescaled", np.stack([theta, theta[::-1]]), beta=4000.0, t_final=1.0, dt=0.01)
    assert np.all(np.isfinite(run.states))


def test_rescaled_usa_is_usa_on_a_slower_clock():
    x = _sphere(14, 5, 3)
    beta = 3.0
    resc = simulate("usa_rescaled", x, beta=beta, t_final=math.exp(beta) * 0.5, rtol=1e-12, t_eval=[math.exp(beta) * 0.5])
    base = _scipy_reference("usa", x, beta, [0.5])[0]
    assert np.max(np.abs(resc.states[-1] - base)) <= 1e-9


def test_batch_trajectory_round_trips_through_npz(tmp_path):
    run = simulate("sa", _sphere(15, 3, 4, 3), beta=1.0, t_final=0.3, dt=0.1, energy=True)
    back = type(run).load_npz(run.save_npz(tmp_path / "batch.npz"))
    assert back.batched and back.n_systems == 3 and np.array_equal(back.energy, run.energy)
    assert np.array_equal(back.states, run.states)


@pytest.mark.parametrize("kw,match", [
    (dict(t_eval=[0.5, 0.2]), "t_eval: times must be strictly increasing"),
    (dict(t_eval=[0.5, 2.0]), "t_eval: times must lie in"),
    (dict(t_eval=[0.5], save_every=2), "save_every"),
    (dict(t_eval=[]), "t_eval: give at least one time"),
    (dict(t_eval=[[0.1]]), "t_eval: must be a 1-D"),
])
def test_bad_t_eval(kw, match):
    with pytest.raises(ValueError, match=match):
        simulate("sa", _sphere(0, 3, 3), beta=1.0, t_final=1.0, dt=0.1, **kw)


def test_batch_shapes_are_validated():
    x = _sphere(0, 2, 3, 3)
    x[1, 2] *= 1.5
    with pytest.raises(ValueError, match="row 2 of system 1"):
        simulate("sa", x, beta=1.0, t_final=1.0, dt=0.1)
    run = simulate("sa", x, beta=1.0, t_final=0.1, dt=0.1, normalize=True)
    assert np.allclose(np.linalg.norm(run.states, axis=-1), 1.0)
