r"""Integrator claims: the convergence order of the fixed-step schemes on the SA field.

``integrator.rk4_order``
    classical RK4 in the ambient space followed by the retraction (:func:`attnflow.numerics.rk4_step`)
    is fourth order on SA (arXiv:2312.10794): the error at :math:`T = 1` against a fine reference
    behaves like :math:`C\,\Delta t^4`;
``integrator.first_order``
    explicit Euler with renormalisation and the Lie–Euler geodesic step are first order.

Both also require every saved state to lie on the sphere (each scheme ends its step on it).

Independent route: the reference trajectory is ``scipy.integrate.solve_ivp`` (DOP853, rtol = atol =
1e-13) on the NumPy reference field (:mod:`attnflow.numerics._reference`), neither the numba kernel
nor attnflow's integrators.  The order is the least-squares slope of :math:`\log e` against
:math:`\log\Delta t` over :math:`\Delta t = 1/8, \dots, 1/64`.

References
----------
Hairer–Nørsett–Wanner I, §II.1 (RK4) and §I.7 (Euler); Hairer–Lubich–Wanner §IV.4 (projection
methods keep the order); arXiv:2312.10794 (SA).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from attnflow.numerics import integrate, make_field, single_thread
from attnflow.numerics._reference import velocity_ref
from attnflow.properties import strategies as afs
from attnflow.properties.registry import Measurement, claim, rate_measurement, require

SRC = "Hairer-Norsett-Wanner I, II.1 and I.7 (orders of RK4 and Euler); projection keeps the order " \
      "(Hairer-Lubich-Wanner IV.4); field: arXiv:2312.10794 (SA)"
STEPS = (8, 16, 32, 64)
T_FINAL = 1.0
ORDER_RTOL = 0.1
SPHERE_TOL = 1e-12


@st.composite
def _order_examples(draw):
    n = draw(st.integers(3, 8))
    return {"n": n, "d": draw(st.integers(2, 4)), "beta": draw(st.floats(0.5, 3.0)), "seed": draw(afs.seeds())}


def _reference_end(x0: np.ndarray, beta: float) -> np.ndarray:
    shape = x0.shape

    def rhs(t, y):
        return velocity_ref(y.reshape(shape), "sa", beta).ravel()

    sol = solve_ivp(rhs, (0.0, T_FINAL), x0.ravel(), method="DOP853", rtol=1e-13, atol=1e-13)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol.y[:, -1].reshape(shape)


def _observed_order(method: str, ex: dict) -> tuple[float, np.ndarray]:
    rng = np.random.default_rng(ex["seed"])
    x0 = rng.standard_normal((ex["n"], ex["d"]))
    x0 /= np.linalg.norm(x0, axis=1, keepdims=True)
    ref = _reference_end(x0, ex["beta"])
    errs = []
    with single_thread():
        f = make_field("sa", beta=ex["beta"])
        for k in STEPS:
            res = integrate(f, x0, T_FINAL, method=method, dt=T_FINAL / k)
            off = float(np.max(np.abs(np.linalg.norm(res.states, axis=-1) - 1.0)))
            require(off <= SPHERE_TOL, f"{method} with dt = 1/{k} leaves the sphere: max ||x_i| - 1| = {off:.3e}")
            errs.append(float(np.max(np.abs(res.states[-1] - ref))))
    errs = np.array(errs)
    if np.any(errs <= 0) or not np.all(np.isfinite(errs)):
        raise RuntimeError(f"errors {errs} are not positive and finite")
    dts = T_FINAL / np.array(STEPS, dtype=float)
    slope = float(np.polyfit(np.log(dts), np.log(errs), 1)[0])
    return slope, errs


_TOL = (f"|fitted order - theory| <= {ORDER_RTOL:g} theory: slope of log(error at T = 1) vs log(dt) over dt = "
        f"1/{STEPS[0]}..1/{STEPS[-1]}; beta <= 3 keeps h beta small so the leading error term dominates; the "
        "reference (DOP853, rtol 1e-13) is accurate to ~1e-12, below the smallest RK4 error (~2e-11 at dt = 1/64)")


@claim(
    id="integrator.rk4_order",
    title="RK4 + retraction is fourth order on the SA field (error ~ C dt^4 against a fine reference) and stays on the sphere",
    source=SRC,
    latex=r"\max_i|x_i^{\Delta t}(T)-x_i(T)| = C\Delta t^4 + o(\Delta t^4)",
    hypotheses=_order_examples(),
    expect="holds",
    tolerance=_TOL + f"; every saved state on the sphere to {SPHERE_TOL:g} (the retraction normalises each step)",
    measure="max |fitted order - 4| / 4",
    examples=0.6,
)
def rk4_order(ex):
    slope, errs = _observed_order("rk4", ex)
    m = rate_measurement(slope, 4.0, side="=", rtol=ORDER_RTOL)
    return Measurement(value=abs(m.value), fitted=slope, theory=4.0, extra={"error at dt = 1/64": float(errs[-1])})


@claim(
    id="integrator.first_order",
    title="explicit Euler + renormalisation and Lie-Euler (geodesic step) are first order on the SA field and stay on the sphere",
    source=SRC,
    latex=r"\max_i|x_i^{\Delta t}(T)-x_i(T)| = C\Delta t + o(\Delta t)",
    hypotheses=_order_examples(),
    expect="holds",
    tolerance=_TOL.replace("~2e-11 at dt = 1/64", "~1e-3 for first-order schemes")
    + f"; every saved state on the sphere to {SPHERE_TOL:g} (both schemes normalise each step)",
    measure="max |fitted order - 1|",
    examples=0.6,
)
def first_order(ex):
    out = {}
    for method in ("euler", "lie_euler"):
        slope, errs = _observed_order(method, ex)
        rate_measurement(slope, 1.0, side="=", rtol=ORDER_RTOL)
        out[method] = slope
    worst = max(abs(v - 1.0) for v in out.values())
    return Measurement(value=worst, fitted=out["euler"], theory=1.0, extra={"lie_euler order": out["lie_euler"]})
