r"""Normalisation claim (theory notes 01-models.md §1.7).

``normalization.preln_rate``
    Pre-LN: :math:`1-\rho\sim C/t^2` (reduced ODE and ``preln`` particles); Post-LN: :math:`Ce^{-2t}`.

Independent routes: particle kernels (numba, integrated by the package integrators) against
``scipy.integrate.solve_ivp`` on the reduced system (:mod:`attnflow.properties.claims._preln`).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from attnflow.numerics import equiangular, integrate, make_field, velocity
from attnflow.properties import strategies as afs
from attnflow.numerics import single_thread
from attnflow.properties.claims._equiangular import pair_eps
from attnflow.properties.claims._preln import preln_reference, solve_preln_reduced
from attnflow.properties.registry import Measurement, claim, fit_exponential_rate, fit_power_law, rate_measurement, require


PRELN_T_ODE = 1e8
PRELN_T_PARTICLES = 1e7
PRELN_FIT_ODE = (1e6, 1e8)
PRELN_FIT_PARTICLES = (1e6, 1e7)
PRELN_SLOPE_TOL = 0.01
PRELN_REF_STATED = 3.736


@st.composite
def _preln_examples(draw):
    n = draw(st.integers(2, 10))
    return {
        "n": n,
        "d": n + draw(st.integers(0, 2)),
        "beta": draw(st.floats(0.0, 4.0, allow_nan=False)),
        "rho0": draw(st.floats(0.0, 0.9, allow_nan=False)),
        "r0": draw(st.floats(0.5, 2.0, allow_nan=False)),
        "seed": draw(afs.seeds()),
    }


@claim(
    id="normalization.preln_rate",
    title="equiangular tokens: Pre-LN 1 - rho ~ C/t^2 (reduced ODE and particles), Post-LN 1 - rho ~ C e^{-2t}",
    source="arXiv:2510.22026 (normalisation schemes), arXiv:2512.01868; theory notes 01-models.md §1.7 "
    "[paper for the rates; reduced Pre-LN system derived]",
    latex=r"\text{Pre-LN: }1-\rho(t)\sim\frac{C}{t^2},\qquad \text{Post-LN: }1-\rho(t)\sim Ce^{-2t}",
    hypotheses=_preln_examples(),
    expect="holds",
    tolerance=f"Pre-LN: log-log slope of 1 - rho in t equals -2 within {PRELN_SLOPE_TOL:g} over t in [1e6, 1e8] "
    f"(reduced ODE, solve_ivp DOP853 rtol 1e-12) and over [1e6, 1e7] (preln particles, adaptive rtol 1e-10); "
    "the slope deviates by ~2|a|/t where r = t + a + o(1), and |a| <= 740 over the drawn range, so <= 1.5e-3 "
    "there; particles match the reduced ODE to 1e-6 relative in 1 - rho and 1e-8 in r (measured ~1e-9, 1e-10); "
    "r/t -> 1 within 1e-3 at t = 1e8. rho0 is drawn in [0, 0.9], beta in [0, 4]: the directions move on the "
    "clock log r (d rho/d log r = F_SA(rho)/r'), so the SA transient T becomes a Pre-LN transient ~e^T, beyond "
    "t = 1e8 for starts near the simplex rho0 -> -1/(n-1) with beta >= 2 (the power law holds only after it). "
    "Post-LN: log-linear rate of 1 - rho over 1e-12 <= 1 - rho <= 1e-6 equals 2 within 1e-3 relative "
    "(nonlinear corrections O((n+beta) eps) <= 1e-5). Reference n = 8, beta = 2, rho0 = 0, r0 = 1: C is "
    "reported, not asserted against the notes' 3.736 (see detail: the limit is 3.73495; 3.736 is the value of "
    "t^2 (1 - rho) at t ~ 1e4)",
    measure="max |p - 2| (Pre-LN power)",
    describe=lambda ex: repr(ex),
)
def preln_rate(ex):
    n, d, beta, rho0, r0 = ex["n"], ex["d"], ex["beta"], ex["rho0"], ex["r0"]
    # reduced ODE
    sol = solve_preln_reduced(n, beta, rho0, r0, PRELN_T_ODE)
    tg = np.geomspace(*PRELN_FIT_ODE, 41)
    eps_o, r_o = sol.sol(tg)
    p_ode = -fit_power_law(tg, eps_o)
    require(abs(p_ode - 2.0) <= PRELN_SLOPE_TOL, f"reduced ODE: 1 - rho ~ t^-{p_ode:.5f} over [1e6, 1e8], not t^-2")
    r_over_t = float(r_o[-1] / tg[-1])
    require(abs(r_over_t - 1.0) <= 1e-3, f"reduced ODE: r/t = {r_over_t:.6f} at t = 1e8, not -> 1")
    # particles
    x0 = r0 * equiangular(n, d, rho0, seed=ex["seed"])
    checkpoints = np.concatenate([[0.0], np.geomspace(1.0, PRELN_FIT_PARTICLES[0], 13),
                                  np.geomspace(*PRELN_FIT_PARTICLES, 11)[1:]])
    assert checkpoints[-1] == PRELN_T_PARTICLES
    states = [x0]
    with single_thread():
        velocity(x0, model="preln", beta=beta)
        f = make_field("preln", beta=beta)
        for a, b in zip(checkpoints[:-1], checkpoints[1:]):
            res = integrate(f, states[-1], b - a, method="adaptive", rtol=1e-10, manifold="euclidean", t0=a)
            states.append(res.states[-1])
    states = np.array(states)
    eps_p, _ = pair_eps(states)
    r_p = np.linalg.norm(states, axis=-1)
    ode_at = sol.sol(checkpoints)
    rel_eps = float(np.max(np.abs(eps_p / ode_at[0] - 1.0)))
    rel_r = float(np.max(np.abs(r_p / ode_at[1][:, None] - 1.0)))
    require(rel_eps <= 1e-6 and rel_r <= 1e-8,
            f"preln particles vs reduced ODE: relative error {rel_eps:.3e} in 1 - rho, {rel_r:.3e} in r")
    sel = checkpoints >= PRELN_FIT_PARTICLES[0]
    p_part = -fit_power_law(checkpoints[sel], eps_p[sel])
    require(abs(p_part - 2.0) <= PRELN_SLOPE_TOL, f"preln particles: 1 - rho ~ t^-{p_part:.5f} over [1e6, 1e7]")
    # Post-LN (= SA) on the reduced ODE
    post = solve_preln_reduced(n, beta, rho0, 1.0, 1e4, post_ln=True, stop_eps=1e-13)
    t_end = float(post.t[-1])
    tt = np.linspace(0.0, t_end, 4001)
    ee = post.sol(tt)[0]
    win = (ee >= 1e-12) & (ee <= 1e-6)
    if win.sum() < 5:
        raise RuntimeError("Post-LN: too few points in the fitting window; extend the horizon")
    rate_post = fit_exponential_rate(tt[win], ee[win])
    rate_measurement(rate_post, 2.0, side="=", rtol=1e-3)
    ref = preln_reference()
    extra = {"p (particles, [1e6, 1e7])": p_part, "Post-LN rate (theory 2)": rate_post,
             "C = lim t^2 (1 - rho) (this example)": float(r_o[-1] ** 2 * eps_o[-1]),
             "reference C (n=8, beta=2; notes: 3.736)": ref["C = lim r^2 (1 - rho)"],
             "reference t^2 (1 - rho) at t = 1e4 (particles)": ref["t^2 (1 - rho) at t = 1e4, particles"]}
    return Measurement(value=abs(p_ode - 2.0), fitted=p_ode, theory=2.0, extra=extra)
