"""Integrators: convergence orders (diffrax style), exactness on closed-form flows, step bookkeeping.

The fields here are independent plain-NumPy implementations of arXiv:2312.10794 (SA) and
arXiv:2512.01868 (Kuramoto form of USA on the circle); references come from scipy's DOP853 at rtol = atol = 1e-13
or from closed forms, never from the integrators under test.
"""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from attnflow.numerics._reference import velocity_ref
from attnflow.numerics.integrators import (
    dopri5_step,
    euler_step,
    fixed_step_grid,
    integrate,
    integrate_adaptive,
    integrate_fixed,
    lie_euler_step,
    retract,
    rk4_step,
)


def sa_field(beta):
    """SA: x_i' = P_{x_i}(sum_j softmax_j(beta <x_i,x_j>) x_j), plain NumPy with an n x n Gram."""

    return lambda t, x: velocity_ref(x, "sa", beta)


def kuramoto_field(beta):
    """theta_i' = -(1/n) sum_j e^{beta cos(theta_i - theta_j)} sin(theta_i - theta_j)."""

    def f(t, th):
        dth = th[:, None] - th[None, :]
        return -np.mean(np.exp(beta * np.cos(dth)) * np.sin(dth), axis=1)

    return f


T = 1.0


@pytest.fixture(scope="module")
def sa_problem():
    rng = np.random.default_rng(20240501)
    x0 = rng.standard_normal((5, 3))
    x0 /= np.linalg.norm(x0, axis=1, keepdims=True)
    f = sa_field(1.0)
    sol = solve_ivp(
        lambda t, y: f(t, y.reshape(5, 3)).ravel(), (0.0, T), x0.ravel(), method="DOP853", rtol=1e-13, atol=1e-13
    )
    assert sol.success
    return f, x0, sol.y[:, -1].reshape(5, 3)


@pytest.fixture(scope="module")
def kuramoto_problem():
    rng = np.random.default_rng(7)
    th0 = rng.uniform(0.0, 2 * np.pi, 6)
    f = kuramoto_field(1.0)
    sol = solve_ivp(f, (0.0, T), th0, method="DOP853", rtol=1e-13, atol=1e-13)
    assert sol.success
    return f, th0, sol.y[:, -1]


def fitted_order(f, x0, ref, method, dts, manifold):
    errs = []
    for dt in dts:
        res = integrate_fixed(f, x0, T, dt, method=method, manifold=manifold)
        assert res.times[-1] == T
        errs.append(np.max(np.abs(res.states[-1] - ref)))
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    return slope, errs


RK4_DTS = [0.2, 0.1, 0.05, 0.025]
EULER_DTS = [0.02, 0.01, 0.005, 0.0025]
ORDERS = [("rk4", RK4_DTS, 4.0, 0.3), ("euler", EULER_DTS, 1.0, 0.15), ("lie_euler", EULER_DTS, 1.0, 0.15)]


@pytest.mark.parametrize("method,dts,order,tol", ORDERS)
def test_order_sa_sphere(sa_problem, method, dts, order, tol):
    f, x0, ref = sa_problem
    slope, errs = fitted_order(f, x0, ref, method, dts, "sphere")
    assert abs(slope - order) < tol, (slope, errs)
    assert errs[-1] < errs[0]
    assert errs[-1] > 1e-12  # still above the reference's own accuracy: the fit measures the scheme


@pytest.mark.parametrize("method,dts,order,tol", ORDERS)
def test_order_kuramoto_angles(kuramoto_problem, method, dts, order, tol):
    f, th0, ref = kuramoto_problem
    slope, errs = fitted_order(f, th0, ref, method, dts, "angles")
    assert abs(slope - order) < tol, (slope, errs)


@pytest.mark.parametrize("problem", ["sa_problem", "kuramoto_problem"])
def test_adaptive_error_scales_with_rtol(problem, request):
    f, x0, ref = request.getfixturevalue(problem)
    manifold = "sphere" if problem == "sa_problem" else "angles"
    rtols = [1e-6, 1e-8, 1e-10]
    errs, nfevs = [], []
    for rtol in rtols:
        res = integrate_adaptive(f, x0, T, rtol=rtol, manifold=manifold)
        assert res.times[-1] == T
        errs.append(np.max(np.abs(res.states[-1] - ref)))
        nfevs.append(res.nfev)
        assert errs[-1] < 10 * rtol, (rtol, errs[-1])
    slope = np.polyfit(np.log(rtols), np.log(errs), 1)[0]
    assert 0.7 < slope < 1.3, (slope, errs)  # tolerance proportionality
    assert nfevs[0] < nfevs[1] < nfevs[2]


def test_adaptive_rejects_a_bad_first_step(sa_problem):
    f, x0, ref = sa_problem
    res = integrate_adaptive(f, x0, T, rtol=1e-10, h0=1.0, manifold="sphere")
    assert res.rejected >= 1
    assert np.max(np.abs(res.states[-1] - ref)) < 1e-9


def test_dopri5_tableau_is_fifth_order_on_exponential():
    # x' = x: one step multiplies by the stability function of DOPRI5,
    # R(z) = 1 + z + z^2/2 + z^3/6 + z^4/24 + z^5/120 + z^6/600 (Hairer-Wanner II, §IV.2),
    # i.e. exact through order 5; the embedded error estimate is O(h^5).
    f = lambda t, x: x  # noqa: E731
    for h in (0.1, 0.05):
        x1, err, k7 = dopri5_step(f, 0.0, np.array([1.0]), h)
        stability = sum(h**k / math.factorial(k) for k in range(6)) + h**6 / 600
        assert abs(x1[0] - stability) < 1e-15
        assert np.allclose(k7, x1)
        assert abs(err[0]) < 10 * h**5


def test_rk4_time_dependent_and_euclidean_orders():
    # theta' = cos(t) theta... (linear, time dependent): closed form theta(t) = theta0 exp(sin t)
    f = lambda t, x: np.cos(t) * x  # noqa: E731
    x0 = np.array([[1.0, -2.0], [0.5, 3.0]])
    exact = x0 * math.exp(math.sin(2.0))
    errs = []
    dts = [0.2, 0.1, 0.05, 0.025]
    for dt in dts:
        res = integrate_fixed(f, x0, 2.0, dt, method="rk4", manifold="euclidean")
        errs.append(np.max(np.abs(res.states[-1] - exact)))
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert abs(slope - 4.0) < 0.3, (slope, errs)
    res = integrate_adaptive(f, x0, 2.0, rtol=1e-10, manifold="euclidean", t0=0.0)
    assert np.max(np.abs(res.states[-1] - exact)) < 1e-8


def test_lie_euler_exact_for_planar_rotation():
    # d = 2, x' = omega J x is tangent with |v| = omega: the geodesic step is the exact flow,
    # while Euler + renormalisation advances the angle by atan(h omega) per step.
    omega = 1.7
    J = np.array([[0.0, -1.0], [1.0, 0.0]])
    f = lambda t, x: omega * x @ J.T  # noqa: E731
    phis = np.array([0.3, 2.0, -1.0])
    x0 = np.stack([np.cos(phis), np.sin(phis)], axis=1)
    t_final, dt = 2.0, 0.1
    exact = np.stack([np.cos(phis + omega * t_final), np.sin(phis + omega * t_final)], axis=1)
    lie = integrate_fixed(f, x0, t_final, dt, method="lie_euler").states[-1]
    assert np.max(np.abs(lie - exact)) < 1e-13
    eul = integrate_fixed(f, x0, t_final, dt, method="euler").states[-1]
    phase = phis + 20 * math.atan(omega * dt)
    assert np.max(np.abs(eul - np.stack([np.cos(phase), np.sin(phase)], axis=1))) < 1e-12


def test_steps_stay_on_sphere_and_single_steps_agree_with_driver(sa_problem):
    f, x0, _ = sa_problem
    for step in (euler_step, lie_euler_step, rk4_step):
        y = step(f, 0.0, x0, 0.3, "sphere")
        assert np.allclose(np.linalg.norm(y, axis=1), 1.0, atol=1e-14)
    y = x0
    for k in range(3):
        y = rk4_step(f, 0.1 * k, y, 0.1, "sphere")
    res = integrate_fixed(f, x0, 0.3, 0.1, method="rk4")
    assert np.array_equal(res.states[-1], y)
    assert res.nfev == 12 and res.steps == 3


def test_grid_hits_t_final_and_save_every():
    grid = fixed_step_grid(1.0, 0.3)
    assert np.allclose(grid, [0.0, 0.3, 0.6, 0.9, 1.0]) and grid[-1] == 1.0
    assert len(fixed_step_grid(1.0, 0.1)) == 11  # 1.0/0.1 is not exactly 10 in floating point
    assert fixed_step_grid(0.0, 0.1).tolist() == [0.0]
    f = sa_field(2.0)
    x0 = np.eye(3)[:2] * 0.6 + np.eye(3)[1:] * 0.8
    res = integrate_fixed(f, x0, 1.0, 0.3, method="rk4", save_every=2)
    assert np.allclose(res.times, [0.0, 0.6, 1.0])
    full = integrate_fixed(f, x0, 1.0, 0.3, method="rk4")
    assert np.array_equal(res.states[-1], full.states[-1])
    assert np.array_equal(res.states[1], full.states[2])
    ad = integrate_adaptive(f, x0, 1.0, rtol=1e-8, save_every=3)
    assert ad.times[0] == 0.0 and ad.times[-1] == 1.0 and len(ad.times) == 2 + (ad.steps - 1) // 3
    zero = integrate_adaptive(f, x0, 0.0, rtol=1e-8)
    assert zero.times.tolist() == [0.0] and np.array_equal(zero.states[0], x0)


def test_caller_array_not_modified(sa_problem):
    f, x0, _ = sa_problem
    before = x0.copy()
    integrate_fixed(f, x0, 0.5, 0.1, method="euler")
    integrate_adaptive(f, x0, 0.5, rtol=1e-6)
    assert np.array_equal(x0, before)


def test_retract():
    y = np.array([[3.0, 4.0], [0.0, 2.0]])
    assert np.allclose(retract(y, "sphere"), [[0.6, 0.8], [0.0, 1.0]])
    assert retract(y, "angles") is y and retract(y, "euclidean") is y
    with pytest.raises(ValueError, match="manifold"):
        retract(y, "torus")


@pytest.mark.parametrize(
    "kwargs,arg",
    [
        (dict(method="rk4", dt=0.0), "dt"),
        (dict(method="rk4", dt=-0.1), "dt"),
        (dict(method="rk4", dt=float("nan")), "dt"),
        (dict(method="rk4"), "dt"),
        (dict(method="rk4", dt=0.1, rtol=1e-6), "rtol"),
        (dict(method="adaptive"), "rtol"),
        (dict(method="adaptive", rtol=-1.0), "rtol"),
        (dict(method="adaptive", rtol=1e-20), "rtol"),
        (dict(method="adaptive", rtol=1e-6, atol=-1.0), "atol"),
        (dict(method="midpoint", dt=0.1), "method"),
        (dict(method="rk4", dt=0.1, manifold="torus"), "manifold"),
        (dict(method="rk4", dt=0.1, save_every=0), "save_every"),
        (dict(method="rk4", dt=0.1, t_final=-1.0), "t_final"),
    ],
)
def test_bad_input(kwargs, arg):
    f = sa_field(1.0)
    x0 = np.eye(3)[:2]
    t_final = kwargs.pop("t_final", 1.0)
    with pytest.raises(ValueError, match=arg):
        integrate(f, x0, t_final, **kwargs)


def test_bad_states():
    f = sa_field(1.0)
    with pytest.raises(ValueError, match="x0"):
        integrate(f, np.array([[1.0, np.nan]]), 1.0, method="rk4", dt=0.1)
    with pytest.raises(ValueError, match="x0"):
        integrate(f, np.ones(3), 1.0, method="rk4", dt=0.1, manifold="sphere")


# ------------------------------------------------------------------ property: step bookkeeping
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(
    t_final=st.floats(min_value=1e-3, max_value=50.0),
    dt=st.floats(min_value=1e-3, max_value=5.0),
    save_every=st.integers(min_value=1, max_value=7),
)
def test_fixed_grid_and_saves_property(t_final, dt, save_every):
    grid = fixed_step_grid(t_final, dt)
    steps = np.diff(grid)
    assert grid[0] == 0.0 and grid[-1] == t_final
    assert np.all(steps > 0) and np.all(steps <= dt * (1 + 1e-9))
    assert len(steps) == max(1, math.ceil(t_final / dt - 1e-9))
    # x' = 1 in flat space: Euler is exact, so saved states equal saved times
    if len(steps) <= 2000:
        res = integrate_fixed(lambda t, x: np.ones_like(x), np.zeros(1), t_final, dt, method="euler",
                              manifold="euclidean", save_every=save_every)
        assert res.times[-1] == t_final and res.steps == len(steps)
        assert len(res.times) == 1 + math.ceil(len(steps) / save_every)
        assert np.allclose(res.states[:, 0], res.times, rtol=1e-12, atol=1e-12)
        assert np.all(np.diff(res.times) > 0)
