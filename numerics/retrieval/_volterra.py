"""Independent solver of the Volterra-Hardy equation of one Fourier mode (private).

Used only to check the closed form.  It knows nothing about Bessel functions, the variable Y or
the series psi_c: it discretises sigma on Chebyshev-Lobatto points in u = log(sigma) over
[log sigma0, log sigma_end], builds the causal integral operator by spectral cumulative
integration, and integrates the resulting linear ODE system in t with scipy's DOP853 at tight
tolerances.

Equation (``derivations/retrieval.md``, arXiv 2605.09213):

    d/dt g(t, sigma) = a ( k(sigma, sigma0) + int_{sigma0}^{sigma} k(sigma, sigma') g(t, sigma') dsigma' ),
    g(0, .) = 0,  sigma0 < sigma <= sigma_end,

with k(sigma, sigma') = lam e^{-lam (sigma - sigma')}/(1 - e^{-lam sigma}) (lam > 0), 1/sigma (lam = 0).
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import chebyshev as C
from scipy.integrate import solve_ivp

__all__ = ["solve_volterra_mode"]


def _cumulative_matrix(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Chebyshev-Lobatto nodes x in [-1, 1] (increasing) and the matrix Q with
    (Q f)(x_i) = int_{-1}^{x_i} p_f(x) dx, p_f the degree n-1 interpolant of f at the nodes."""
    x = np.sort(C.chebpts2(n))
    V = C.chebvander(x, n - 1)
    Vinv = np.linalg.inv(V)  # values -> coefficients
    Q = np.empty((n, n))
    for j in range(n):
        coef = Vinv[:, j]
        icoef = C.chebint(coef, lbnd=-1.0)
        Q[:, j] = C.chebval(x, icoef)
    return x, Q


def solve_volterra_mode(sigma0, *, a, lam, t, sigma_end=1.0, nodes=48, rtol=1e-13, atol=1e-16):
    """Solve the Volterra-Hardy equation numerically; return g(t, sigma_end; sigma0).

    Parameters
    ----------
    sigma0 : float
        Source position, 0 < sigma0 < sigma_end.
    a : float
        Mode rate a_n >= 0.
    lam : float
        ALiBi slope >= 0.
    t : float or array of float
        Times (>= 0) at which g(t, sigma_end) is returned.
    nodes : int
        Chebyshev-Lobatto nodes in log(sigma).

    Returns
    -------
    numpy.ndarray
        g at the requested times (same shape as ``t``).
    """
    sigma0 = float(sigma0)
    if not 0 < sigma0 < sigma_end:
        raise ValueError(f"sigma0: must satisfy 0 < sigma0 < sigma_end, got {sigma0}")
    t_arr = np.atleast_1d(np.asarray(t, dtype=float))
    x, Q = _cumulative_matrix(nodes)
    u0, u1 = np.log(sigma0), np.log(sigma_end)
    half = 0.5 * (u1 - u0)
    u = u0 + (x + 1.0) * half
    sig = np.exp(u)
    if lam == 0.0:
        A = 1.0 / sig
        B = np.ones_like(sig)
        k0 = 1.0 / sig
    else:
        A = lam * np.exp(-lam * sig) / (-np.expm1(-lam * sig))
        B = np.exp(lam * sig)
        k0 = A * np.exp(lam * sigma0)
    # int_{sigma0}^{sigma_i} k(sigma_i, s') g(s') ds' = A_i int_{u0}^{u_i} B(s') g(s') s' du'
    L = A[:, None] * (half * Q) * (B * sig)[None, :]
    L[0, :] = 0.0  # at sigma = sigma0 the integral is empty
    J = a * L
    f0 = a * k0

    def rhs(_t, g):
        return f0 + J @ g

    order = np.argsort(t_arr)
    ts = t_arr[order]
    t_end = ts[-1]
    out = np.zeros_like(t_arr)
    if t_end == 0:
        return out.reshape(np.shape(t))
    sol = solve_ivp(rhs, (0.0, t_end), np.zeros(nodes), method="DOP853", t_eval=ts, rtol=rtol,
                    atol=atol)
    if not sol.success:  # pragma: no cover
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    out[order] = sol.y[-1]
    return out.reshape(np.shape(t)) if np.ndim(t) else out[0]
