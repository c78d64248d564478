r"""Equiangular dynamics, long-context limits and normalisation rates (theory notes 03 §3.2–3.3, 01 §1.7).

``equiangular.invariance``
    particles started exactly equiangular (:func:`attnflow.numerics.equiangular`) stay equiangular and
    follow the :math:`\rho`-ODE of 03 §3.2 (SA and USA);
``equiangular.rate.sa`` / ``equiangular.rate.usa``
    :math:`1-\rho` decays at rate 2 (SA) and :math:`2e^{\beta}` (USA), fitted on particles;
``long_context.limits``
    the three :math:`n\to\infty` limits of the one-layer output overlap at :math:`\beta=\gamma\log n`
    (SymPy limits), with a numeric trend up to :math:`n=10^6`;
``normalization.preln_rate``
    Pre-LN: :math:`1-\rho\sim C/t^2` (reduced ODE and ``preln`` particles); Post-LN: :math:`Ce^{-2t}`.

Independent routes: particle kernels (numba, integrated by the package integrators) against
``scipy.integrate.solve_ivp`` on the reduced ODEs; SymPy ``limit`` against the stated piecewise limit.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from attnflow.numerics import equiangular, integrate, make_field, velocity
from attnflow.properties import strategies as afs
from attnflow.numerics import single_thread
from attnflow.properties.claims.clustering import integrate_until
from attnflow.properties.claims.equiangular import rho_dot_sa, rho_dot_usa
from attnflow.properties.registry import (
    Measurement,
    claim,
    fit_exponential_rate,
    fit_power_law,
    rate_measurement,
    require,
)

__all__ = [
    "pair_eps",
    "equiangular_ode",
    "preln_reduced_rhs",
    "solve_preln_reduced",
    "stated_limit",
    "overlap_expression",
    "preln_reference",
]

SRC_EQ = "arXiv:2512.01868 (equiangular reduction); theory notes 03-clustering.md §3.2 [paper; closed forms derived]"


def pair_eps(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Mean and spread over pairs of :math:`\varepsilon_{ij} = 1-\langle u_i,u_j\rangle = |u_i-u_j|^2/2`.

    ``u`` are the unit directions of the rows of ``states`` (shape ``(k, n, d)``); computing
    :math:`\varepsilon` from differences keeps full relative accuracy when :math:`\varepsilon\ll 1`.

    Returns
    -------
    mean, spread : ndarray (k,)
        Mean of :math:`\varepsilon_{ij}` over :math:`i<j`, and :math:`\max-\min` over :math:`i<j`.

    References
    ----------
    Theory notes 03-clustering.md §3.2.
    """
    s = np.asarray(states, dtype=float)
    if s.ndim < 2 or s.shape[-2] < 2:
        raise ValueError(f"states: expected configurations (..., n, d) with n >= 2, got shape {s.shape}")
    u = s / np.linalg.norm(s, axis=-1, keepdims=True)
    n = u.shape[-2]
    iu = np.triu_indices(n, 1)
    diff = u[..., :, None, :] - u[..., None, :, :]
    eps = 0.5 * np.sum(diff * diff, axis=-1)[..., iu[0], iu[1]]
    return eps.mean(axis=-1), eps.max(axis=-1) - eps.min(axis=-1)


def equiangular_ode(model: str, n: int, beta: float, rho0: float, t_final: float | None = None,
                    stop_eps: float | None = None):
    r"""Solve the equiangular ODE of 03 §3.2 with ``solve_ivp`` (DOP853, rtol 1e-12, atol 1e-14):

    .. math::
        \text{SA: }\dot\rho = \frac{2e^{\beta\rho}(1-\rho)((n-1)\rho+1)}{e^\beta+(n-1)e^{\beta\rho}},\qquad
        \text{USA: }\dot\rho = \tfrac2n e^{\beta\rho}(1-\rho)((n-1)\rho+1).

    Integrates to ``t_final``, or until :math:`1-\rho` = ``stop_eps`` (terminal event).  Returns the
    ``solve_ivp`` solution with dense output.

    References
    ----------
    arXiv:2512.01868; theory notes 03-clustering.md §3.2.
    """
    if model not in ("sa", "usa"):
        raise ValueError(f"model: expected 'sa' or 'usa', got {model!r}")
    if n < 2 or not (-1.0 / (n - 1) <= rho0 <= 1.0):
        raise ValueError(f"rho0: need n >= 2 and -1/(n-1) <= rho0 <= 1, got n={n}, rho0={rho0}")
    rd = {"sa": rho_dot_sa, "usa": rho_dot_usa}[model]
    events = None
    if stop_eps is not None:
        def ev(t, y):
            return (1.0 - y[0]) - stop_eps

        ev.terminal = True
        events = ev
    t_end = 1e4 if t_final is None else t_final
    sol = solve_ivp(lambda t, y: [rd(y[0], n, beta)], (0.0, t_end), [rho0], method="DOP853", rtol=1e-12,
                    atol=1e-14, events=events, dense_output=True)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol


# --------------------------------------------------------------------------- equiangular.invariance
INV_TOL = 1e-9
INV_RTOL = 1e-12
INV_STOP = 1e-3


def _speed(model: str, beta: float) -> float:
    return 1.0 if model == "sa" else math.exp(beta)


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


# ------------------------------------------------------------------------ equiangular.rate.sa / usa
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
    s = _speed(model, beta)
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
    theory = 2.0 if model == "sa" else 2.0 * math.exp(beta)
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


# ----------------------------------------------------------------------------- long_context.limits
LC_NS = (1e2, 1e3, 1e4, 1e5, 1e6)


def stated_limit(gamma, rho):
    r"""The stated limit of 03 §3.3 for rational ``gamma``, ``rho`` (SymPy numbers):

    .. math:: \lim_{n\to\infty}\langle\theta_i,\theta_j\rangle = 1\ (\gamma<\tfrac1{1-\rho}),\quad
              \tfrac{4\rho}{1+3\rho}\ (\gamma=\tfrac1{1-\rho}),\quad \rho\ (\gamma>\tfrac1{1-\rho}).

    Uses :func:`attnflow.symbolic.long_context.long_context_limit` when that module is present.

    References
    ----------
    arXiv:2510.05554, arXiv:2512.01868; theory notes 03-clustering.md §3.3.
    """
    import sympy as sp

    try:
        from attnflow.symbolic.long_context import long_context_limit

        return sp.nsimplify(long_context_limit(gamma, rho))
    except ImportError:  # pragma: no cover - symbolic topic not installed
        k = sp.nsimplify(gamma) * (1 - sp.nsimplify(rho))
        if k < 1:
            return sp.Integer(1)
        if k == 1:
            return 4 * sp.nsimplify(rho) / (1 + 3 * sp.nsimplify(rho))
        return sp.nsimplify(rho)


def overlap_expression(n, beta, rho):
    r"""SymPy expression of the finite-n overlap of 03 §3.3, :math:`r=e^{\beta(1-\rho)}`, :math:`a=1+(n-1)\rho`:

    .. math:: \langle\theta_i,\theta_j\rangle = \frac{(r-1)^2\rho + (2(r-1)+n)a}{(r-1)^2 + (2(r-1)+n)a}.

    Uses :func:`attnflow.symbolic.long_context.output_cosine_stated` when present.

    References
    ----------
    arXiv:2510.05554, arXiv:2512.01868; theory notes 03-clustering.md §3.3.
    """
    import sympy as sp

    try:
        from attnflow.symbolic.long_context import output_cosine_stated

        return output_cosine_stated(n_=n, beta_=beta, rho_=rho)
    except ImportError:  # pragma: no cover
        r = sp.exp(beta * (1 - rho))
        a = 1 + (n - 1) * rho
        return ((r - 1) ** 2 * rho + (2 * (r - 1) + n) * a) / ((r - 1) ** 2 + (2 * (r - 1) + n) * a)


def _finite_n_float(n: float, rho: float, beta: float) -> float:
    # same formula in floats, with r = n^kappa passed through exp(beta (1 - rho)) (r^2 <= 1e36 here)
    a = 1.0 + (n - 1.0) * rho
    r = math.exp(beta * (1.0 - rho))
    num = (r - 1.0) ** 2 * rho + (2.0 * (r - 1.0) + n) * a
    den = (r - 1.0) ** 2 + (2.0 * (r - 1.0) + n) * a
    return num / den


@st.composite
def _lc_examples(draw):
    q = draw(st.integers(2, 12))
    p = draw(st.integers(1, q - 1))
    b1 = draw(st.integers(2, 9))
    a1 = draw(st.integers(1, b1 - 1))
    b2 = draw(st.integers(1, 6))
    a2 = draw(st.integers(1, 2 * b2))
    return {"rho": (p, q), "kappa_below": (a1, b1), "kappa_above": (b2 + a2, b2)}


@claim(
    id="long_context.limits",
    title="one layer at beta = gamma log n: output overlap -> 1, 4 rho/(1 + 3 rho), rho across gamma = 1/(1 - rho)",
    source="arXiv:2510.05554, arXiv:2512.01868 (long context, beta = gamma log n); theory notes "
    "03-clustering.md §3.3 [paper]",
    latex=r"\beta=\gamma\log n:\ \lim_{n\to\infty}\langle\theta_i,\theta_j\rangle=\begin{cases}1&\gamma<\frac1{1-\rho}\\"
    r"\frac{4\rho}{1+3\rho}&\gamma=\frac1{1-\rho}\\ \rho&\gamma>\frac1{1-\rho}\end{cases}",
    hypotheses=_lc_examples(),
    expect="holds",
    tolerance="exact: sympy.limit of the finite-n overlap (beta = gamma log n, rational rho and kappa = "
    "gamma (1 - rho) below, at and above 1) must equal the stated value symbolically; numeric trend (illustration, "
    "float formula at n = 1e2..1e6): |overlap(n) - limit| must be smaller at n = 1e6 than at n = 1e2 (the "
    "approach is a power n^-min(1, 2|1 - kappa|), so it is logarithmically slow near kappa = 1)",
    measure="max |overlap(1e6) - limit|",
    describe=lambda ex: repr(ex),
)
def limits(ex):
    import sympy as sp

    rho = sp.Rational(*ex["rho"])
    nsym = sp.Symbol("n", positive=True)
    regimes = {"below": sp.Rational(*ex["kappa_below"]), "at": sp.Integer(1), "above": sp.Rational(*ex["kappa_above"])}
    worst = 0.0
    extra = {}
    for name, kappa in regimes.items():
        gamma = kappa / (1 - rho)
        expr = overlap_expression(nsym, gamma * sp.log(nsym), rho)
        lim = sp.limit(expr, nsym, sp.oo)
        want = stated_limit(gamma, rho)
        require(sp.simplify(lim - want) == 0,
                f"kappa = gamma (1 - rho) = {kappa} ({name}), rho = {rho}: sympy limit {lim} != stated {want}")
        errs = [abs(_finite_n_float(n, float(rho), float(gamma) * math.log(n)) - float(want)) for n in LC_NS]
        require(errs[-1] < errs[0] or errs[-1] < 1e-12,
                f"no convergence trend ({name}, rho = {rho}, kappa = {kappa}): |overlap - limit| = "
                f"{errs[0]:.3e} at n = 1e2 but {errs[-1]:.3e} at n = 1e6")
        extra[f"|overlap - limit| at n = 1e6 ({name})"] = errs[-1]
        worst = max(worst, errs[-1])
    return Measurement(value=worst, extra=extra)


# ------------------------------------------------------------------------ normalization.preln_rate
PRELN_T_ODE = 1e8
PRELN_T_PARTICLES = 1e7
PRELN_FIT_ODE = (1e6, 1e8)
PRELN_FIT_PARTICLES = (1e6, 1e7)
PRELN_SLOPE_TOL = 0.01
PRELN_REF = {"n": 8, "beta": 2.0, "rho0": 0.0, "r0": 1.0}
PRELN_REF_STATED = 3.736


def preln_reduced_rhs(t: float, y, n: int, beta: float):
    r"""Reduced Pre-LN system of 01 §1.7 in :math:`\varepsilon = 1-\rho` and the common radius :math:`r`:

    .. math::
        \dot\varepsilon = -\frac{F_{SA}(1-\varepsilon)}{r},\qquad
        \dot r = \frac{e^\beta + (n-1)\rho e^{\beta\rho}}{e^\beta + (n-1)e^{\beta\rho}},

    with :math:`F_{SA}` the SA equiangular right-hand side (03 §3.2), written with
    :math:`e^{-\beta\varepsilon}` (no overflow, no cancellation near :math:`\rho=1`).

    References
    ----------
    arXiv:2510.22026 (Pre-LN); theory notes 01-models.md §1.7 [derived], 03-clustering.md §3.2.
    """
    eps, r = y
    e = math.exp(-beta * eps)
    rho = 1.0 - eps
    f_sa = 2.0 * e * eps * ((n - 1) * rho + 1.0) / (1.0 + (n - 1) * e)
    rdot = (1.0 + (n - 1) * rho * e) / (1.0 + (n - 1) * e)
    return [-f_sa / r, rdot]


def solve_preln_reduced(n: int, beta: float, rho0: float, r0: float, t_final: float, *, post_ln: bool = False,
                        stop_eps: float | None = None):
    r"""Solve :func:`preln_reduced_rhs` (or Post-LN: :math:`r\equiv1`, i.e. SA) with ``solve_ivp``.

    DOP853, rtol 1e-12, atol 1e-300 (relative accuracy on :math:`\varepsilon` down to 1e-300), dense output;
    stops early (terminal event) when :math:`\varepsilon` reaches ``stop_eps`` if given.

    References
    ----------
    arXiv:2510.22026; theory notes 01-models.md §1.7.
    """
    if n < 2 or not (-1.0 / (n - 1) <= rho0 <= 1.0) or not r0 > 0 or not t_final > 0:
        raise ValueError(f"n, rho0, r0, t_final: need n >= 2, -1/(n-1) <= rho0 <= 1, r0 > 0, t_final > 0; "
                         f"got {n}, {rho0}, {r0}, {t_final}")
    if post_ln:
        def rhs(t, y):
            return [preln_reduced_rhs(t, [y[0], 1.0], n, beta)[0]]

        y0 = [1.0 - rho0]
    else:
        def rhs(t, y):
            return preln_reduced_rhs(t, y, n, beta)

        y0 = [1.0 - rho0, r0]
    events = None
    if stop_eps is not None:
        def ev(t, y):
            return y[0] - stop_eps

        ev.terminal = True
        events = ev
    sol = solve_ivp(rhs, (0.0, t_final), y0, method="DOP853", rtol=1e-12, atol=1e-300, dense_output=True,
                    events=events)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol


@functools.lru_cache(maxsize=1)
def preln_reference() -> dict[str, float]:
    r"""Reference case of 01 §1.7 (n = 8, β = 2, ρ₀ = 0, r₀ = 1): the constant :math:`C=\lim t^2(1-\rho)`.

    :math:`C` is computed as :math:`r^2(1-\rho)` at :math:`t=10^7` (it converges much faster than
    :math:`t^2(1-\rho)` because :math:`r = t + O(\log t)`), next to :math:`t^2(1-\rho)` at
    :math:`t=10^4, 10^7` from the reduced ODE and at :math:`t=10^4` from ``preln`` particles.

    References
    ----------
    arXiv:2510.22026; theory notes 01-models.md §1.7 [derived: "t²(1−ρ) → 3.736"].
    """
    n, beta, rho0, r0 = PRELN_REF["n"], PRELN_REF["beta"], PRELN_REF["rho0"], PRELN_REF["r0"]
    sol = solve_preln_reduced(n, beta, rho0, r0, 1e7)
    e4, r4 = sol.sol(1e4)
    e7, r7 = sol.sol(1e7)
    x0 = r0 * equiangular(n, n, rho0, seed=0)
    with single_thread():
        res = integrate(make_field("preln", beta=beta), x0, 1e4, method="adaptive", rtol=1e-10, manifold="euclidean")
    eps_p, _ = pair_eps(res.states[-1:])
    return {"C = lim r^2 (1 - rho)": float(r7 * r7 * e7), "t^2 (1 - rho) at t = 1e7": float(1e14 * e7),
            "t^2 (1 - rho) at t = 1e4": float(1e8 * e4), "t^2 (1 - rho) at t = 1e4, particles": float(1e8 * eps_p[0])}


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
