r"""Retrieval helpers of the ``retrieval.*`` checks: independent formulas (the ALiBi graphon, the mode
solution at 50 digits), the Monte Carlo error trend of the particles, and the cross-check of the fused
particle simulator against the public RK4 route.

References
----------
arXiv 2605.09213 (kinetic theory of causal attention and lost in the middle);
``derivations/retrieval.md``.
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import sympy as sp

from attnflow.numerics.retrieval._particles import mode_correlation_mc

__all__ = [
    "graphon_stated",
    "g_mp",
    "TREND_N",
    "error_trend",
    "CROSS_CHECK_SHAPE",
    "CROSS_CHECK_STEPS",
    "fused_vs_public_api",
]


@functools.lru_cache(maxsize=None)
def _graphon_stated(lam_zero: bool):
    from sympy.codegen.rewriting import expm1_opt, optimize

    from attnflow.symbolic import retrieval as SR

    x, xp = sp.symbols("x x_p", positive=True)
    if lam_zero:
        return sp.lambdify((x, xp), SR.graphon0(x, xp), "math")
    lam = sp.Symbol("lambda", positive=True)
    # 1 - e^{-lam x} rewritten through expm1 (no cancellation for small lam)
    return sp.lambdify((x, xp, lam), optimize(SR.graphon(x, xp, lam), [expm1_opt]), "math")


def graphon_stated(lam: float):
    r"""The package's ALiBi graphon :func:`attnflow.symbolic.retrieval.graphon` (``graphon0`` at
    :math:`\lambda = 0`), lambdified: ``k(sigma, sigma')`` for :math:`\sigma' < \sigma`, 0 otherwise.

    .. math:: k_\lambda(\sigma,\sigma') = \frac{\lambda e^{-\lambda(\sigma-\sigma')}}{1-e^{-\lambda\sigma}},\qquad
              k_0(\sigma,\sigma') = \sigma^{-1}.

    References
    ----------
    arXiv 2605.09213 (ALiBi position graphon of the kinetic limit); ``derivations/retrieval.md``.
    """
    if lam == 0.0:
        f0 = _graphon_stated(True)
        return lambda sigma, sp_: float(f0(sigma, sp_)) if sp_ < sigma else 0.0
    f = _graphon_stated(False)
    return lambda sigma, sp_: float(f(sigma, sp_, lam)) if sp_ < sigma else 0.0


def g_mp(lam, a, t, s0):
    """50-digit g_a(t, 1; s0) from the Bessel form (lam > 0)."""
    with mpmath.workdps(50):
        L, c, s = mpmath.mpf(lam), mpmath.mpf(a) * mpmath.mpf(t), mpmath.mpf(s0)
        Y = mpmath.log(mpmath.expm1(L) / mpmath.expm1(L * s))
        k = L * mpmath.exp(L * s) / mpmath.expm1(L)
        return k * mpmath.sqrt(c / Y) * mpmath.besseli(1, 2 * mpmath.sqrt(c * Y))


#: Prompt lengths of the Monte Carlo trend (N = 32 ... 256).
TREND_N = (32, 64, 128, 256)


def error_trend(*, beta, lam, t, sigma0, prompts, seed, Ns=TREND_N, phases=4, dt=0.01, boot=2000):
    r"""Monte Carlo error :math:`|N\widehat E[e^{i(\theta_N(t)-\theta_{i^*}(0))}] - g_{a_1}(t,1;\sigma_0)|` versus N.

    For every N, ``prompts`` independent prompts (each at ``phases`` equispaced phases of the
    fact, the variance reduction of arXiv 2605.09213) give the estimate of mode n = 1 and its error against the closed form.  The
    log-log slope is fitted by least squares,

    .. math:: \log e_N = c + p\log N,

    and its 95% confidence interval is the percentile interval of a nonparametric bootstrap that
    resamples the prompts independently for every N (``boot`` resamples, seeded).

    Returns
    -------
    dict
        ``Ns``, ``errors``, ``stderr`` (per N), ``slope``, ``ci`` (lo, hi), ``closed_form``,
        ``seconds`` (simulation wall time).

    References
    ----------
    arXiv 2605.09213 (correlation estimates); an earlier Monte Carlo run for this project observed an
    error ~ N^{-0.6} at sigma0 = 0.5.
    """
    from attnflow.properties._rates import fit_power_law

    errs, ses, samples, g, secs = [], [], [], None, 0.0
    for i, N in enumerate(Ns):
        r = mode_correlation_mc(sigma0, beta=beta, lam=lam, t=t, N=N, prompts=prompts, modes=1, phases=phases,
                                seed=seed + 7919 * i, dt=dt)
        g = float(r.closed_form[0, 0])
        errs.append(abs(float(r.estimate[0, 0]) - g))
        ses.append(float(r.stderr[0, 0]))
        samples.append(r.samples[0, :, 0].real)
        secs += r.seconds
    lN = np.log(np.asarray(Ns, dtype=float))
    slope = fit_power_law(Ns, np.maximum(errs, 1e-300))
    rng = np.random.default_rng(seed)
    lc = lN - lN.mean()
    slopes = np.empty(boot)
    for b in range(boot):
        le = np.array([math.log(max(abs(float(x[rng.integers(0, x.size, x.size)].mean()) - g), 1e-300))
                       for x in samples])
        slopes[b] = float(lc @ (le - le.mean()) / (lc @ lc))
    ci = (float(np.quantile(slopes, 0.025)), float(np.quantile(slopes, 0.975)))
    return {"Ns": tuple(Ns), "errors": errs, "stderr": ses, "slope": slope, "ci": ci, "closed_form": g,
            "seconds": secs}


#: Cross-check of the fused simulator: prompts, tokens and RK4 steps integrated both ways.
CROSS_CHECK_SHAPE = (4, 16)


CROSS_CHECK_STEPS = 300


def fused_vs_public_api(*, beta, lam, t, seed, shape=CROSS_CHECK_SHAPE, steps=CROSS_CHECK_STEPS) -> float:
    r"""Max angle difference between the fused simulator and the public RK4 route on one batch.

    The same initial angles (``shape = (P, N)``, uniform on :math:`[-\pi, \pi)`, seeded) are
    integrated to time ``t`` with ``steps`` classical RK4 steps of :math:`h = t/\mathrm{steps}` by
    (a) :func:`attnflow.numerics._retrieval_particles.simulate_causal_alibi` (fused Fourier-mode
    kernel) and (b) :func:`attnflow.numerics.simulate` with ``model="causal_alibi"``, whose field
    :func:`attnflow.numerics.fields.make_field` calls the generated kernel
    ``causal_alibi_velocity_batched``; the first prompt alone (a 1-D state, generated kernel
    ``causal_alibi_velocity``) is integrated both ways too:

    .. math:: \max_{b,j}\,|\theta^{\rm fused}_{b,j}(t) - \theta^{\rm api}_{b,j}(t)|.

    References
    ----------
    arXiv 2605.09213 (RK4 for the causal ALiBi particles).
    """
    from attnflow.numerics import simulate
    from attnflow.numerics.retrieval._particles import simulate_causal_alibi

    theta0 = np.random.default_rng(seed).uniform(-np.pi, np.pi, shape)
    h = float(t) / steps
    worst = 0.0
    for state in (theta0, theta0[0]):  # P prompts (batched kernel), one prompt (1-D kernel)
        api = simulate("causal_alibi", state, beta=beta, t_final=t, dt=h, method="rk4", lam=lam,
                       save_every=steps).states[-1]
        fused = simulate_causal_alibi(state, beta=beta, lam=lam, t=t, dt=h)[-1]
        worst = max(worst, float(np.max(np.abs(api - fused))))
    return worst
