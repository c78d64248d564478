r"""Helpers of the scalar-head equiangular claims (``multihead.entropy.monotone``,
``multihead.threshold.equiangular``): the package's statements lambdified, simulation of the multihead
kernel from equiangular tokens, and the bisection for the clustering threshold.

References
----------
arXiv 2605.04279, arXiv 2605.18870 (multi-head; abstracts); ``derivations/multihead.md``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from attnflow.numerics import simulate
from attnflow.numerics.multihead_equiangular import equiangular_tokens, gram_offdiagonal, scalar_heads
from attnflow.symbolic import multihead_entropy as ME

__all__ = ["statements", "simulate_equiangular", "rho_ode", "measured_threshold"]


def statements(H: int = 2) -> dict:
    """The symbolic statements as NumPy functions: ``rho_dot(c, rho, n, beta)``, ``sigma(c, rho, beta)``,
    ``entropy_rate(c, rho, n, beta, rhodot)``, ``head_entropy(c, rho, n, beta)``, ``critical_beta(c1, c2, rho0)``."""
    cs = ME.heads(H)
    c1, c2, r0 = sp.symbols("c1 c2 r0", real=True)
    return {
        "rho_dot": sp.lambdify((cs, ME.rho, ME.n, ME.beta), ME.rho_dot(cs), "numpy"),
        "sigma": sp.lambdify((cs, ME.rho, ME.beta), ME.sigma(cs), "numpy"),
        "entropy_rate": sp.lambdify((ME.c, ME.rho, ME.n, ME.beta, ME.rho_t), ME.entropy_rate(), "numpy"),
        "head_entropy": sp.lambdify((ME.c, ME.rho, ME.n, ME.beta), ME.head_entropy(), "numpy"),
        "critical_beta": sp.lambdify((c1, c2, r0), ME.critical_beta(c1, c2, r0), "numpy"),
    }


def simulate_equiangular(n: int, rho0: float, c, beta: float, t_final: float, dt: float):
    """RK4 of the shared-normalisation multihead kernel from equiangular tokens: ``(states, M)``."""
    x0 = equiangular_tokens(n, rho0)
    M = scalar_heads(c, x0.shape[1])
    tr = simulate("multihead", x0, beta=float(beta), t_final=float(t_final), dt=float(dt), M=M,
                  normalization="shared", energy=False)
    return np.asarray(tr.states), M


def rho_ode(c, n: int, rho0: float, beta: float, t_final: float) -> float:
    """:math:`\\rho(T)` from the symbolic Gram ODE (``scipy.integrate.solve_ivp``, DOP853, rtol 1e-12)."""
    from scipy.integrate import solve_ivp

    f = statements(len(c))["rho_dot"]
    sol = solve_ivp(lambda t, r: [f(tuple(c), r[0], n, beta)], (0.0, t_final), [rho0], method="DOP853",
                    rtol=1e-12, atol=1e-14)
    return float(sol.y[0, -1])


def measured_threshold(c, n: int, rho0: float, *, t_final: float = 0.05, dt: float = 0.005,
                       rtol: float = 1e-9, max_iter: int = 80) -> tuple[float, int]:
    """Bisection on beta of the direction of rho(T) - rho0 along the kernel's RK4 trajectory: the inverse
    temperature where the tokens switch from spreading to clustering; ``(beta, iterations)``.  The bracket is
    found without the closed form: beta = 1e-3 (spreading when c_1 + c_2 < 0), then doubling from 0.5."""

    def clusters(b):
        states, _ = simulate_equiangular(n, rho0, c, b, t_final, dt)
        return float(np.mean(gram_offdiagonal(states[-1]))) > rho0

    lo, hi = 1e-3, 0.5
    if clusters(lo):
        raise ValueError("c: the tokens already cluster at beta = 1e-3 (need c_1 + c_2 < 0 for a threshold)")
    while not clusters(hi):
        lo, hi = hi, 2 * hi
        if hi > 200:
            raise ValueError("c, rho0: no switch to clustering below beta = 200")
    k = 0
    while hi - lo > rtol * hi and k < max_iter:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if clusters(mid) else (mid, hi)
        k += 1
    return 0.5 * (lo + hi), k
