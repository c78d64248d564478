r"""The localisation bound of arXiv 2601.21366 in its own normalisation, and concave maximisers.

Normalisation (recovered from the authors' code, repository antonioalvarezl/2026-MLP-Attention-Energy,
``wgf_circle/plotting.py``: ``theoretical_heaviest_mass_bound`` and the dashed line at
``16/(16 + 3 e^{11/8})``; derivation in ``derivations/localization.md``).  On the circle, the
functional is the attention energy with kernel :math:`e^{\beta\cos}` (no :math:`-1` in the exponent)
plus a perceptron potential of size :math:`O(1)`, the interaction taken **repulsive** (the
descent direction of the energy, ``ascending = false`` in the authors' runs):

.. math::

    F(\mu) = -\frac{1}{2\beta}\iint e^{\beta\cos(\theta-\phi)}\,d\mu\,d\mu + \int V\,d\mu
    \quad\text{(maximised; } F = F_{-1} \text{ of } :mod:`attnflow.numerics.localization`\text{)},

and a *group* is a set of atoms inside an arc of length :math:`w = 1/(2\sqrt\beta)`.  With
:math:`\Phi = \delta F/\delta\mu` and :math:`g_\beta(\delta) = (\beta\sin^2\delta - \cos\delta)
e^{\beta(\cos\delta - 1)}`, second-order stability against splitting an atom :math:`\theta_i`
(:math:`\Phi''(\theta_i)\le 0`) reads :math:`\sum_j m_j g_\beta(\theta_i-\theta_j) \ge e^{-\beta}V''(\theta_i)`.
Splitting the sum into the group (where :math:`g_\beta\le -B_\beta`) and the rest
(where :math:`g_\beta \le A_\beta`) gives, for the mass :math:`M` of the group,

.. math::

    M \le \frac{A_\beta + e^{-\beta}C}{A_\beta + B_\beta},\qquad
    A_\beta = \sup_\delta g_\beta,\quad B_\beta = \min_{|\delta|\le w}(-g_\beta),\quad
    C = \sup|V''|,

with :math:`A_\beta\to 2e^{-3/2}`, :math:`B_\beta\to\frac34 e^{-1/8}`, so the constant is
:math:`8/(8+3e^{11/8})\approx 0.4027`.  The printed bound is
:math:`(4 + 2e^{3/2}Ce^{-\beta})/(4 + \frac34 e^{11/8})`, i.e. :math:`(A + e^{-\beta}C)/(A + B/2)`,
constant :math:`16/(16+3e^{11/8}) = 0.5742` -- the same inequality with half the in-group term.

Because the kernel :math:`e^{\beta\cos}` is positive definite (Fourier coefficients
:math:`2\pi I_k(\beta) > 0`), :math:`F` is concave in :math:`\mu`: its maximiser is a second-order
stable critical point, and :func:`concave_maximiser` computes it on a grid (a convex quadratic
programme over the simplex, accelerated projected gradient).

References
----------
arXiv 2601.21366 (perceptrons and localisation; constant 0.5742); ``derivations/localization.md``
(localization.splitting_constants, localization.constant, localization.mass_bound).
"""

from __future__ import annotations

import math

import numpy as np

from attnflow._base.validate import real

__all__ = [
    "splitting_kernel",
    "splitting_constants",
    "mass_bound",
    "printed_mass_bound",
    "concave_maximiser",
    "Maximiser",
]


def _beta(beta) -> float:
    b = real("beta", beta)
    if not (0 < b <= 1e7):
        raise ValueError(f"beta: must be in (0, 1e7], got {beta!r}")
    return float(b)


def splitting_kernel(delta, beta: float) -> np.ndarray:
    r"""The splitting kernel :math:`g_\beta(\delta) = (\beta\sin^2\delta - \cos\delta)\,e^{\beta(\cos\delta-1)}`.

    :math:`e^{-\beta}k''(\delta)/\beta` for :math:`k = e^{\beta\cos}`; :math:`g_\beta(0) = -1`.

    References
    ----------
    arXiv 2601.21366; ``derivations/localization.md`` (localization.splitting_constants).
    """
    beta = _beta(beta)
    d = np.asarray(delta, dtype=np.float64)
    return (beta * np.sin(d) ** 2 - np.cos(d)) * np.exp(beta * (np.cos(d) - 1.0))


def splitting_constants(beta: float) -> tuple[float, float]:
    r"""Finite-:math:`\beta` constants :math:`(A_\beta, B_\beta)` of the splitting inequality.

    .. math:: A_\beta = \sup_{\delta\in[0,\pi]} g_\beta(\delta),\qquad
              B_\beta = \min_{0\le\delta\le 1/(2\sqrt\beta)} \bigl(-g_\beta(\delta)\bigr),

    each by a dense scan refined with a bounded scalar search (``scipy.optimize.minimize_scalar``).

    References
    ----------
    arXiv 2601.21366; ``derivations/localization.md`` (limits :math:`2e^{-3/2}`, :math:`\frac34e^{-1/8}`).
    """
    from scipy.optimize import minimize_scalar

    beta = _beta(beta)
    w = 0.5 / math.sqrt(beta)

    def refine(f, lo, hi):
        grid = np.linspace(lo, hi, 4001)
        vals = f(grid)
        k = int(np.argmin(vals))
        a, b = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
        best = float(vals[k])
        if b > a:
            res = minimize_scalar(lambda t: float(f(np.array(t))), bounds=(a, b), method="bounded",
                                  options={"xatol": 1e-14})
            best = min(best, float(res.fun))
        return best

    A = -refine(lambda t: -splitting_kernel(t, beta), 0.0, math.pi)
    B = refine(lambda t: -splitting_kernel(t, beta), 0.0, w)
    return A, B


def mass_bound(beta: float, curvature: float = 0.0) -> float:
    r"""The derived bound :math:`(A_\beta + e^{-\beta}C)/(A_\beta + B_\beta)` on the mass of a group.

    Parameters
    ----------
    beta : float
    curvature : float
        :math:`C = \sup|V''|` of the perceptron potential (:math:`|a|` for :math:`(a\cos\theta+b)_+`).

    References
    ----------
    arXiv 2601.21366; ``derivations/localization.md`` (localization.mass_bound).
    """
    C = real("curvature", curvature, lo=0.0)
    A, B = splitting_constants(beta)
    return (A + math.exp(-_beta(beta)) * C) / (A + B)


def printed_mass_bound(beta: float, curvature: float = 0.0) -> float:
    r"""The printed bound :math:`(4 + 2e^{3/2}C e^{-\beta})/(4 + \frac34 e^{11/8})` (arXiv 2601.21366).

    As in the authors' ``theoretical_heaviest_mass_bound`` (their :math:`C_\theta` bounds the
    potential's Hessian, our ``curvature``); at :math:`C = 0` it is :math:`16/(16+3e^{11/8}) = 0.5742`.

    References
    ----------
    arXiv 2601.21366 (constant 0.5742); ``derivations/localization.md`` (localization.constant).
    """
    C = real("curvature", curvature, lo=0.0)
    return (4.0 + 2.0 * math.exp(1.5) * C * math.exp(-_beta(beta))) / (4.0 + 0.75 * math.exp(11.0 / 8.0))


def _project_simplex(v: np.ndarray) -> np.ndarray:
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - 1.0
    k = np.arange(1, v.size + 1)
    r = np.nonzero(u - css / k > 0)[0][-1]
    return np.maximum(v - css[r] / (r + 1), 0.0)


class Maximiser:
    """Result of :func:`concave_maximiser`: grid ``theta``, masses ``m``, first variation ``phi``
    (scaled by :math:`\\beta e^{-\\beta}`), ``kkt_gap`` (max of ``phi`` minus its minimum on the support,
    relative to the size of its terms), and ``arc_mass`` (largest mass in an arc of width
    :math:`1/(2\\sqrt\\beta)`)."""

    def __init__(self, theta, m, phi, kkt_gap, arc_mass, beta):
        self.theta, self.m, self.phi = theta, m, phi
        self.kkt_gap, self.arc_mass, self.beta = kkt_gap, arc_mass, beta

    def __repr__(self) -> str:
        return (f"Maximiser(beta={self.beta:g}, support={int((self.m > 0).sum())}, "
                f"arc_mass={self.arc_mass:.4f}, kkt_gap={self.kkt_gap:.1e})")


def concave_maximiser(beta: float, a: float, b: float = 0.0, *, grid: int = 512,
                      iters: int = 3000) -> Maximiser:
    r"""Maximiser of the repulsive functional over probability measures on a uniform grid.

    Maximises :math:`-\frac{1}{2}m^\top G m + c^\top m` over the simplex, with
    :math:`G_{kl} = e^{\beta(\cos(\theta_k-\theta_l)-1)}` and :math:`c = \beta e^{-\beta}V(\theta)`
    (:math:`F` times :math:`\beta e^{-\beta}`), by FISTA with Euclidean projection on the simplex
    (step :math:`1/\lambda_{\max}(G)`).  :math:`G` is circulant on the uniform grid, so products and
    eigenvalues come from the FFT of its first row; it is positive definite, so the programme is convex.

    Parameters
    ----------
    beta : float
    a, b : float
        Perceptron potential :math:`V(\theta) = (a\cos\theta + b)_+`.
    grid : int
        Grid points on :math:`[0, 2\pi)`.
    iters : int
        FISTA iterations.

    References
    ----------
    arXiv 2601.21366 (localisation); ``derivations/localization.md``.
    """
    from attnflow.numerics.localization import max_arc_mass, perceptron_potential

    beta = _beta(beta)
    if beta > 600:
        raise ValueError(f"beta: concave_maximiser needs beta <= 600 (e^beta in float64), got {beta!r}")
    for name, v in (("a", a), ("b", b)):
        real(name, v)
    for name, v, lo in (("grid", grid, 8), ("iters", iters, 1)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")
    th = np.arange(int(grid)) * (2 * np.pi / int(grid))
    # G is circulant on the uniform grid: G y = ifft(fft(row) * fft(y)), eigenvalues fft(row) (real, > 0)
    row_hat = np.fft.rfft(np.exp(beta * (np.cos(th) - 1.0)))
    L = float(row_hat.real.max())

    def G(y):
        return np.fft.irfft(row_hat * np.fft.rfft(y), n=th.size)

    c = beta * math.exp(-beta) * perceptron_potential(th, float(a), float(b))
    m = np.full(th.size, 1.0 / th.size)
    y, t = m.copy(), 1.0
    for _ in range(int(iters)):
        mn = _project_simplex(y - (G(y) - c) / L)
        tn = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        y = mn + ((t - 1.0) / tn) * (mn - m)
        m, t = mn, tn
    phi = c - G(m)
    sup = m > 0
    size = float(np.abs(G(m)).max() + np.abs(c).max())
    kkt_gap = float(phi.max() - phi[sup].min()) / size
    return Maximiser(th, m, phi, kkt_gap, max_arc_mass(th[sup], 0.5 / math.sqrt(beta), m[sup]), beta)
