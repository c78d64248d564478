r"""Equiangular claims (arXiv:2512.01868, equiangular reduction; ``derivations/equiangular.md``).

If :math:`\langle x_i(0),x_j(0)\rangle=\rho_0` for all :math:`i\ne j`, the configuration stays
equiangular and

.. math::
    \text{SA: }\dot\rho = \frac{2e^{\beta\rho}(1-\rho)((n-1)\rho+1)}{e^\beta+(n-1)e^{\beta\rho}},\qquad
    \text{USA: }\dot\rho = \tfrac2n e^{\beta\rho}(1-\rho)((n-1)\rho+1).

``equiangular.closed_form.beta0``, ``equiangular.hitting_time``, ``equiangular.bound``
    the closed forms of §3.2 against ``scipy.integrate.solve_ivp`` on these ODEs (an independent route);
``equiangular.invariance``
    particles started exactly equiangular (:func:`attnflow.numerics.equiangular`) stay equiangular and
    follow the :math:`\rho`-ODE (SA and USA);
``equiangular.rate.sa`` / ``equiangular.rate.usa``
    :math:`1-\rho` decays at rate 2 (SA) and :math:`2e^{\beta}` (USA), fitted on particles.

Right-hand sides and closed forms: :mod:`attnflow.properties.claims._equiangular`.
"""

from __future__ import annotations


import numpy as np
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from attnflow.numerics import equiangular, integrate, make_field, velocity
from attnflow.numerics.fields import self_attention_kind, time_scale
from attnflow.properties import strategies as afs
from attnflow.numerics import single_thread
from attnflow.properties.claims._clustering import integrate_until
from attnflow.properties.claims._equiangular import (
    bound_constants,
    consensus_rate,
    eps_dot_sa,
    equiangular_ode,
    hitting_F,
    pair_eps,
    rho_beta0,
    rho_dot_oracle,
    rho_dot_sa,
    rho_dot_usa,
)
from attnflow.properties.registry import Measurement, claim, fit_exponential_rate, rate_measurement, require


SRC = "arXiv:2512.01868 (equiangular reduction); derived in derivations/equiangular.md"


def _rho_range(n: int, margin: float) -> tuple[float, float]:
    return -1.0 / (n - 1) + margin, 1.0 - margin


@st.composite
def _beta0_examples(draw):
    n = draw(st.integers(2, 60))
    lo, hi = _rho_range(n, 1e-3)
    rho0 = draw(st.floats(lo, hi, allow_nan=False))
    t_end = draw(st.floats(0.1, 6.0, allow_nan=False))
    model = draw(st.sampled_from(["sa", "usa"]))
    return {"n": n, "rho0": rho0, "T": t_end, "model": model}


@claim(
    id="equiangular.closed_form.beta0",
    title="at beta = 0 the equiangular ODE has the closed form (K e^{2t} - 1)/(K e^{2t} + n - 1)",
    source=SRC,
    latex=r"\beta=0:\ \rho(t)=\frac{Ke^{2t}-1}{Ke^{2t}+n-1},\quad K=\frac{1+(n-1)\rho_0}{1-\rho_0}",
    hypotheses=_beta0_examples(),
    expect="holds",
    tolerance="|rho_ode - rho_formula| <= 1e-9 on 50 grid times: solve_ivp DOP853 with rtol 1e-12, "
    "atol 1e-14 accumulates ~1e-11 over t <= 6; 1e-9 leaves two orders of margin",
    measure="max |rho_ode - rho_formula|",
)
def closed_form_beta0(ex):
    n, rho0, t_end = ex["n"], ex["rho0"], ex["T"]
    f = {"softmax": rho_dot_sa, "mean": rho_dot_usa}[self_attention_kind(ex["model"])]
    ts = np.linspace(0.0, t_end, 50)
    sol = solve_ivp(lambda t, y: [f(y[0], n, 0.0)], (0.0, t_end), [rho0], method="DOP853",
                    t_eval=ts, rtol=1e-12, atol=1e-14)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    err = float(np.max(np.abs(sol.y[0] - rho_beta0(ts, n, rho0))))
    require(err <= 1e-9, f"max |rho_ode - rho_formula| = {err:.3e} > 1e-9")
    return err


@st.composite
def _hitting_examples(draw):
    n = draw(st.integers(2, 40))
    beta = draw(st.floats(0.05, 12.0, allow_nan=False))
    lo, hi = _rho_range(n, 1e-3)
    rho0 = draw(st.floats(lo, hi - 0.01, allow_nan=False))
    rho1 = draw(st.floats(rho0 + 1e-3, hi, allow_nan=False))
    return {"n": n, "beta": beta, "rho0": rho0, "rho1": rho1}


@claim(
    id="equiangular.hitting_time",
    title="SA equiangular hitting time t(rho0 -> rho1) = F(rho1) - F(rho0) with the Ei formula",
    source=SRC,
    latex=r"t(\rho_0\to\rho)=F(\rho)-F(\rho_0),\ F(s)=\tfrac1{2n}\Bigl[-(n-1)\log(1-s)+(n-1)\log(1+(n-1)s)"
    r"-\mathrm{Ei}(\beta(1-s))+e^{\beta n/(n-1)}\mathrm{Ei}\bigl(-\tfrac{\beta(1+(n-1)s)}{n-1}\bigr)\Bigr]",
    hypotheses=_hitting_examples(),
    expect="holds",
    tolerance="relative error <= 1e-7: event location of solve_ivp (DOP853, rtol 1e-12) is accurate to "
    "~1e-10 relative; the Ei terms (size up to e^beta/beta ~ 1e4) cancel, losing up to ~1e-12 absolute",
    measure="max relative error of the hitting time",
)
def hitting_time(ex):
    n, beta, rho0, rho1 = ex["n"], ex["beta"], ex["rho0"], ex["rho1"]
    predicted = hitting_F(rho1, n, beta) - hitting_F(rho0, n, beta)
    require(predicted > 0, f"formula gives a non-positive hitting time {predicted:.6g}")

    def event(t, y):
        return y[0] - rho1

    event.terminal = True
    event.direction = 1
    sol = solve_ivp(lambda t, y: [rho_dot_sa(y[0], n, beta)], (0.0, 10.0 * predicted + 10.0), [rho0],
                    method="DOP853", rtol=1e-12, atol=1e-15, events=event)
    if not sol.success or len(sol.t_events[0]) == 0:
        raise RuntimeError(f"ODE never reached rho1 (status {sol.status}: {sol.message})")
    t_ode = float(sol.t_events[0][0])
    rel = abs(t_ode - predicted) / t_ode
    require(rel <= 1e-7, f"hitting time ODE {t_ode:.12g} vs formula {predicted:.12g} (rel {rel:.2e})")
    return Measurement(value=rel, extra={"hitting time": t_ode})


@st.composite
def _bound_examples(draw):
    n = draw(st.integers(2, 50))
    beta = draw(st.floats(0.0, 10.0, allow_nan=False))
    lo, hi = _rho_range(n, 1e-4)
    rho0 = draw(st.floats(lo, hi, allow_nan=False))
    return {"n": n, "beta": beta, "rho0": rho0}


@claim(
    id="equiangular.bound",
    title="SA: 1 - rho(t) <= C e^{-lambda t} with C = max(1 - rho0, 1), lambda = q/(e^{beta C} + n - 1)",
    source=SRC,
    latex=r"1-\rho(t)\le Ce^{-\lambda t},\ C=\max(1-\rho_0,1),\ \lambda=\frac{q}{e^{\beta C}+n-1},\ "
    r"q=\min((n-1)\rho_0+1,1)",
    hypotheses=_bound_examples(),
    expect="holds",
    tolerance="1 - rho <= C e^{-lambda t} (1 + 1e-8) on 200 grid times in [0, 20]: the ODE is solved for "
    "eps = 1 - rho directly (no cancellation near rho = 1) with rtol 1e-12, so 1e-8 relative is round-off slack",
    measure="min ratio bound/(1 - rho)",  # fitted: log-linear decay rate of 1 - rho on t in [10, 20]
    aggregate="min",
)
def bound(ex):
    n, beta, rho0 = ex["n"], ex["beta"], ex["rho0"]
    c, lam = bound_constants(n, beta, rho0)

    def eps_dot(t, y):  # eps = 1 - rho: the stated SA ODE with rho = 1 - eps (symbolic.equiangular)
        return [eps_dot_sa(y[0], n, beta)]

    ts = np.linspace(0.0, 20.0, 200)
    sol = solve_ivp(eps_dot, (0.0, 20.0), [1.0 - rho0], method="DOP853", t_eval=ts, rtol=1e-12, atol=1e-300)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    eps = sol.y[0]
    b = c * np.exp(-lam * ts)
    ratio = float(np.min(b / eps))
    worst = int(np.argmin(b / eps))
    require(np.all(eps <= b * (1 + 1e-8)),
            f"1 - rho = {eps[worst]:.6g} > C e^(-lambda t) = {b[worst]:.6g} at t = {ts[worst]:.4g}")
    # rate view: the instantaneous decay rate of eps is >= 2 lambda everywhere, so a log-linear fit over
    # the second half of the window must be >= lambda (one-sided); the linearisation predicts 2 at late times
    late = ts >= 10.0
    fitted = fit_exponential_rate(ts[late], eps[late])
    require(fitted >= lam * (1 - 1e-6), f"fitted decay rate {fitted:.6g} < lambda = {lam:.6g}")
    return Measurement(value=ratio, fitted=fitted, theory=lam,
                       extra={"min ratio for t >= 1": float(np.min((b / eps)[ts >= 1.0]))})


SRC_EQ = "arXiv:2512.01868 (equiangular reduction); closed forms derived in derivations/equiangular.md"
INV_TOL = 1e-9
INV_RTOL = 1e-12
INV_STOP = 1e-3


@st.composite
def _invariance_examples(draw):
    n = draw(st.integers(2, 8))
    return {
        "model": draw(st.sampled_from(["sa", "usa"])),
        "n": n,
        "d": n + draw(st.integers(0, 3)),
        "beta": draw(st.floats(0.0, 5.0, allow_nan=False)),
        "rho0": draw(st.floats(-1.0 / (n - 1) + 0.02, 0.98, allow_nan=False)),
        "seed": draw(afs.seeds()),
    }


@claim(
    id="equiangular.invariance",
    title="particles from an exact equiangular start stay equiangular and follow the rho-ODE (SA, USA)",
    source=SRC_EQ,
    latex=r"\langle x_i(0),x_j(0)\rangle=\rho_0\ (i\ne j)\ \Longrightarrow\ \langle x_i(t),x_j(t)\rangle=\rho(t),\ "
    r"\dot\rho=\frac{2e^{\beta\rho}(1-\rho)((n-1)\rho+1)}{e^\beta+(n-1)e^{\beta\rho}}\ (\text{SA}),\ "
    r"\tfrac2ne^{\beta\rho}(1-\rho)((n-1)\rho+1)\ (\text{USA})",
    hypotheses=_invariance_examples(),
    expect="holds",
    tolerance=f"max over saved times and pairs of |<x_i, x_j> - rho_ode(t)| <= {INV_TOL:g} and spread of the "
    f"off-diagonal Gram entries <= {INV_TOL:g}, on [0, T] with T the ODE time at which 1 - rho = {INV_STOP:g} "
    f"(the whole transition): particles by adaptive Dormand-Prince rtol {INV_RTOL:g} (measured global error "
    "~1e-11), rho by solve_ivp DOP853 rtol 1e-12; 1e-9 leaves two orders of margin; starts 0.02 away from "
    "the unstable simplex rho0 = -1/(n-1), where round-off would be amplified",
    measure="max |<x_i, x_j> - rho_ode|",
    describe=lambda ex: repr(ex),
)
def invariance(ex):
    model, n, d, beta, rho0 = ex["model"], ex["n"], ex["d"], ex["beta"], ex["rho0"]
    x0 = equiangular(n, d, rho0, seed=ex["seed"])
    # at t = 0: the particles' d<x_0, x_1>/dt (numba kernel) = the stated rho-ODE = the one the SymPy oracle
    # derives from the particle field (symbolic.equiangular.rho_dot_derived)
    v0 = velocity(x0, model=model, beta=beta)
    rd_particles = float(v0[0] @ x0[1] + x0[0] @ v0[1])
    kind = model.upper()
    rd_stated = {"SA": rho_dot_sa, "USA": rho_dot_usa}[kind](rho0, n, beta)
    rd_oracle = rho_dot_oracle(kind, rho0, n, beta)
    scale = max(1.0, abs(rd_stated))
    require(abs(rd_particles - rd_stated) <= INV_TOL * scale and abs(rd_oracle - rd_stated) <= INV_TOL * scale,
            f"rho-dot at t = 0: particles {rd_particles:.15g}, stated {rd_stated:.15g}, SymPy oracle {rd_oracle:.15g}")
    sol = equiangular_ode(model, n, beta, rho0, stop_eps=INV_STOP)
    horizon = float(sol.t_events[0][0]) if sol.t_events and len(sol.t_events[0]) else float(sol.t[-1])
    with single_thread():
        velocity(x0, model=model, beta=beta)
        res = integrate(make_field(model, beta=beta), x0, horizon, method="adaptive", rtol=INV_RTOL)
    g = np.einsum("kid,kjd->kij", res.states, res.states)
    off = g[:, ~np.eye(n, dtype=bool)]
    rho_t = sol.sol(res.times)[0]
    err = float(np.max(np.abs(off - rho_t[:, None])))
    spread = float(np.max(off.max(axis=1) - off.min(axis=1)))
    require(spread <= INV_TOL, f"configuration stopped being equiangular: Gram spread {spread:.3e}")
    require(err <= INV_TOL, f"particles differ from the rho-ODE by {err:.3e} on [0, {horizon:.4g}]")
    return Measurement(value=err, extra={"Gram spread": spread, "horizon": horizon})


RATE_WINDOW = (1e-10, 1e-5)
RATE_RTOL_FIT = 1e-3


def _rate_examples(beta_max: float):
    @st.composite
    def examples(draw):
        n = draw(st.integers(2, 10))
        return {
            "n": n,
            "d": n + draw(st.integers(0, 2)),
            "beta": draw(st.floats(0.0, beta_max, allow_nan=False)),
            "rho0": draw(st.floats(-1.0 / (n - 1) + 0.05, 0.95, allow_nan=False)),
            "seed": draw(afs.seeds()),
        }

    return examples()


def _equiangular_rate(model: str, ex: dict) -> Measurement:
    n, d, beta, rho0 = ex["n"], ex["d"], ex["beta"], ex["rho0"]
    x0 = equiangular(n, d, rho0, seed=ex["seed"])
    s = time_scale(model, beta)
    lo, hi = RATE_WINDOW

    def stop(times, states):
        hit = np.nonzero(pair_eps(states)[0] < lo)[0]
        return int(hit[0]) if hit.size else None

    with single_thread():
        f = make_field(model, beta=beta)
        times, states, t_stop = integrate_until(f, x0, stop, rtol=1e-10, first_chunk=5.0 / s, t_max=5000.0 / s)
    require(t_stop is not None, f"1 - rho did not reach {lo:g} by t = {times[-1]:.6g}")
    eps, _ = pair_eps(states)
    sel = (eps >= lo) & (eps <= hi)
    if sel.sum() < 5:
        raise RuntimeError(f"only {int(sel.sum())} saved states in the fitting window")
    fitted = fit_exponential_rate(times[sel], eps[sel])
    theory = consensus_rate(model.upper(), beta)  # the stated rate (symbolic.equiangular), not the declaration
    m = rate_measurement(fitted, theory, side="=", rtol=RATE_RTOL_FIT)
    return Measurement(value=abs(m.value), fitted=fitted, theory=theory, extra={"fitted / theory": fitted / theory})


_RATE_TOL = (f"|fitted - theory| <= {RATE_RTOL_FIT:g} theory: log-linear fit of the pair-averaged 1 - rho = "
             f"|x_i - x_j|^2/2 over {RATE_WINDOW[0]:g} <= 1 - rho <= {RATE_WINDOW[1]:g} on particles from an "
             "exact equiangular start (adaptive Dormand-Prince, rtol 1e-10). In that window the exact local rate "
             "is 2 (1 - O((n - 1 + beta) eps / n)) (SA; times e^beta for USA), off by < 1e-4 relative; "
             "integration errors are < 1e-6 relative")


@claim(
    id="equiangular.rate.sa",
    title="SA equiangular: 1 - rho decays at rate 2 (independent of beta and n)",
    source=SRC_EQ,
    latex=r"\varepsilon=1-\rho:\ \dot\varepsilon\simeq-2\varepsilon\ \ (\text{SA})",
    hypotheses=_rate_examples(5.0),
    expect="holds",
    tolerance=_RATE_TOL + "; beta in [0, 5], n in [2, 10]",
    measure="max |fitted - 2| / 2",
    describe=lambda ex: repr(ex),
)
def rate_sa(ex):
    return _equiangular_rate("sa", ex)


@claim(
    id="equiangular.rate.usa",
    title="USA equiangular: 1 - rho decays at rate 2 e^beta",
    source=SRC_EQ,
    latex=r"\varepsilon=1-\rho:\ \dot\varepsilon\simeq-2e^{\beta}\varepsilon\ \ (\text{USA})",
    hypotheses=_rate_examples(4.0),
    expect="holds",
    tolerance=_RATE_TOL + "; beta in [0, 4] (stiffness 2 e^beta sets the step), n in [2, 10]",
    measure="max |fitted - 2e^beta| / 2e^beta",
    describe=lambda ex: repr(ex),
)
def rate_usa(ex):
    return _equiangular_rate("usa", ex)
