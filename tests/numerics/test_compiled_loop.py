"""The compiled fixed-step loops (generated ``_<kernel>_integrate_fixed``, template ``stepper.py.tmpl``).

Expected values come from the Python loop of :func:`integrate_fixed` on the same field (an
independent route through NumPy array arithmetic and ``np.linalg.norm``) and, for the order, from
scipy's DOP853 on a plain-NumPy SA field (``_reference.velocity_ref``).
"""

import sys

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from attnflow.numerics import fields, single_thread
from attnflow.numerics._generated import sa as sa_module
from attnflow.numerics._kernel_hooks import observe_kernel_calls
from attnflow.numerics._reference import velocity_ref
from attnflow.numerics.integrators import integrate_compiled, integrate_fixed
from attnflow.numerics.simulate import _authors_field, simulate

SIM = sys.modules["attnflow.numerics.simulate"]


@pytest.fixture(autouse=True)
def _one_numba_thread():
    with single_thread():
        yield


def _sphere(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture
def compiled_calls(monkeypatch):
    """Counts the runs that went through the compiled loop."""
    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs["method"])
        return integrate_compiled(*args, **kwargs)

    monkeypatch.setattr(SIM, "integrate_compiled", spy)
    return calls


def _python_loop(model, x0, beta, t_final, dt, method, **kw):
    spec = fields.model_spec(model)
    if method == "authors":
        f, step = _authors_field(spec, model, beta, dt, {})
    else:
        f, step = fields.make_field(model, beta=beta), dt
    return integrate_fixed(f, x0, t_final, step, method=method, manifold=spec.manifold, **kw)


CASES = [("sa", "rk4"), ("sa", "euler"), ("sa", "authors"), ("usa", "rk4"), ("usa", "authors"),
         ("sqrt", "rk4"), ("preln", "rk4"), ("periln", "euler")]


@pytest.mark.parametrize("model,method", CASES)
@pytest.mark.parametrize("shape", [(6, 3), (3, 5, 2)])
def test_compiled_loop_equals_python_loop(model, method, shape, compiled_calls):
    x0 = _sphere(shape, 1)
    tr = simulate(model, x0, beta=1.5, t_final=0.37, dt=0.05, method=method, energy=False)
    ref = _python_loop(model, x0, 1.5, 0.37, 0.05, method)
    assert compiled_calls == [method]
    assert np.array_equal(tr.times, ref.times)
    assert tr.nfev == ref.nfev and tr.steps == ref.steps
    assert np.max(np.abs(tr.states - ref.states)) <= 1e-13 * np.max(np.abs(ref.states))


def test_saved_times_save_every_and_t_eval(compiled_calls):
    x0 = _sphere((5, 3), 2)
    for kw in (dict(save_every=4), dict(t_eval=[0.0, 0.013, 0.2, 0.5, 0.71])):
        tr = simulate("sa", x0, beta=1.0, t_final=0.71, dt=0.05, energy=False, **kw)
        ref = _python_loop("sa", x0, 1.0, 0.71, 0.05, "rk4", **kw)
        assert np.array_equal(tr.times, ref.times)  # 15 steps: saved 0, 4, 8, 12 and the last, 15
        assert np.max(np.abs(tr.states - ref.states)) <= 1e-13
    assert tr.times.tolist() == [0.0, 0.013, 0.2, 0.5, 0.71]
    assert len(compiled_calls) == 2
    # energies still come per saved state when asked
    tr = simulate("sa", x0, beta=1.0, t_final=0.1, dt=0.05)
    assert tr.energy.shape == (3,) and np.all(np.isfinite(tr.energy))


def test_batch_is_each_system_alone_bit_for_bit_parallel_and_serial():
    x0 = _sphere((4, 7, 3), 3)
    fld = fields.make_field("sa", beta=2.0)
    one, ens, ens_serial = fld.steppers
    args = (0.0, 0.05, 0.5, 10, 1, np.empty(0), np.zeros(0, bool), 1, 2.0)
    outs = []
    for fn in (ens, ens_serial):
        x = x0.copy()
        states = np.empty((11,) + x.shape)
        failed = np.zeros(4, np.int64)
        fn(x, *args, states, failed)
        assert not failed.any()
        outs.append(states)
    assert np.array_equal(outs[0], outs[1])
    for b in range(4):
        x = x0[b].copy()
        states = np.empty((11, 7, 3))
        assert one(x, *args, states) == 0
        assert np.array_equal(states, outs[0][:, b])


def test_compiled_euler_and_rk4_orders_against_scipy(compiled_calls):
    x0 = _sphere((5, 3), 20240501)
    f = lambda t, y: velocity_ref(y.reshape(5, 3), "sa", 1.0).ravel()  # noqa: E731
    ref = solve_ivp(f, (0, 1.0), x0.ravel(), method="DOP853", rtol=1e-13, atol=1e-13).y[:, -1].reshape(5, 3)
    for method, dts, order, tol in (("rk4", [0.2, 0.1, 0.05, 0.025], 4.0, 0.3),
                                    ("euler", [0.02, 0.01, 0.005, 0.0025], 1.0, 0.15)):
        errs = [np.max(np.abs(simulate("sa", x0, beta=1.0, t_final=1.0, dt=dt, method=method, energy=False).final
                              - ref)) for dt in dts]
        slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
        assert abs(slope - order) < tol, (method, slope, errs)
    assert len(compiled_calls) == 8


def test_non_finite_state_stops_the_loop_and_raises():
    x = np.full((3, 2), np.nan)
    states = np.empty((5, 3, 2))
    assert sa_module._sa_integrate_fixed(x, 0.0, 0.1, 0.4, 4, 1, np.empty(0), np.zeros(0, bool), 1, 1.0, states) == 1

    def run(x, t0, dt, t_final, n_steps, save_every, grid, save, code, states):
        return 3

    with pytest.raises(FloatingPointError, match=r"non-finite state at t = 0\.3; reduce dt"):
        integrate_compiled(run, _sphere((3, 2), 0), 0.4, 0.1, method="rk4")


def test_fallbacks_and_kernel_observers(compiled_calls):
    x0 = _sphere((4, 3), 5)
    seen = []
    with observe_kernel_calls(seen.append):
        simulate("sa", x0, beta=1.0, t_final=0.1, dt=0.05, energy=False)
    # the validation call of the field, then the compiled loop: the velocity kernel it runs, and the loop
    assert [k.__name__ for k in seen] == ["sa_velocity_serial", "sa_velocity_serial", "_sa_integrate_fixed_ensemble_serial"]
    simulate("sa", x0, beta=1.0, t_final=0.1, dt=0.05, method="lie_euler", energy=False)  # Python loop
    simulate("kuramoto", np.linspace(0, 1, 5), beta=1.0, t_final=0.1, dt=0.05, energy=False)  # circle: Python
    assert compiled_calls == ["rk4"]  # the first run only


def test_users_model_with_a_parameter_in_a_batch(compiled_calls):
    """A declared parameter reaches every system of the compiled batch loop (a user's parameter ``b`` once
    collided with the loop variable over systems)."""
    from pathlib import Path

    import attnflow.models as am

    before = set(am.names())
    try:
        am.load(Path(__file__).resolve().parents[1] / "data" / "user_models.py")
        x0 = _sphere((2, 5, 3), 7)
        tr = simulate("sigmoid", x0, beta=2.0, t_final=0.3, dt=0.1, b=1.5, energy=False)
        ref = integrate_fixed(fields.make_field("sigmoid", beta=2.0, b=1.5), x0, 0.3, 0.1)
    finally:
        for name in set(am.names()) - before:
            am.unregister(name)
    assert compiled_calls == ["rk4"]
    assert np.max(np.abs(tr.states - ref.states)) <= 1e-13
