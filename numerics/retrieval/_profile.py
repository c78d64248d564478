r"""The closed-form retrieval profile and its public entry points (private).

Validated wrappers around :mod:`._closed` (profile, derivatives, mode data, t_crit, the smallness
condition, soft accuracy), the numerical location of the minimum (:func:`argmin`) and the entry
points of the certificate (:mod:`._certify`) and of the reference Volterra solver
(:mod:`._volterra`).  Public names are re-exported, and the model documented, by
:mod:`attnflow.numerics.retrieval`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special
from scipy.optimize import brentq

from attnflow._base.validate import real

from . import _closed as _c
from ._certify import Certificate
from ._certify import certify as _certify
from ._closed import SmallnessCondition
from ._volterra import solve_volterra_mode as _solve_volterra_mode

__all__ = [
    "profile",
    "profile_derivative",
    "mode_response",
    "fourier_rates",
    "mode_weights",
    "t_crit",
    "Argmin",
    "argmin",
    "soft_accuracy",
    "smallness_condition",
    "certify_ushape",
    "solve_volterra_mode",
]


def _out(x):
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def fourier_rates(beta: float, modes: int = 20) -> np.ndarray:
    r"""Mode rates :math:`a_n = n^2 I_n(\beta)`, n = 1..modes.

    .. math:: a_n = n^2 \hat w_\beta(n) = n^2 I_n(\beta)  \quad(\text{Jacobi--Anger})

    References
    ----------
    arXiv 2605.09213; ``derivations/retrieval.md``.
    """
    p = _c.check_params(beta=beta, modes=modes)
    return _c.fourier_rates(p["beta"], p["modes"])


def mode_weights(M: float, modes: int = 20) -> np.ndarray:
    r"""Poisson-summation weights :math:`\omega_n = e^{-\pi^2 n^2/(2M^2)}`, n = 1..modes.

    .. math:: \omega_n = \exp(-\pi^2 n^2 / (2 M^2))

    References
    ----------
    arXiv 2605.09213; ``derivations/retrieval.md``.
    """
    p = _c.check_params(M=M, modes=modes)
    return _c.mode_weights(p["M"], p["modes"])


def mode_response(sigma0, *, a, lam, t, sigma=1.0):
    r"""Closed-form solution of the Volterra--Hardy equation for one Fourier mode.

    .. math::

        g_a(t,\sigma;\sigma_0) = k_\lambda(\sigma,\sigma_0)\,\sqrt{at/Y}\,I_1\big(2\sqrt{atY}\big),
        \qquad Y = \log\frac{e^{\lambda\sigma}-1}{e^{\lambda\sigma_0}-1}
        \ (\lambda>0),\quad Y = \log(\sigma/\sigma_0)\ (\lambda=0),

    which solves :math:`\partial_t g = a(k_\lambda(\sigma,\sigma_0) + \int_{\sigma_0}^\sigma
    k_\lambda(\sigma,\sigma')g(\sigma')d\sigma')`, :math:`g(0)=0`.  Vectorised over
    ``sigma0``, ``sigma`` and ``t`` (broadcasting); 0 where :math:`\sigma_0 > \sigma`.

    Parameters
    ----------
    sigma0 : array_like
        Source positions in (0, 1].
    a : float
        Mode rate (>= 0), e.g. :math:`n^2 I_n(\beta)`.
    lam : float
        ALiBi slope (>= 0).
    t : array_like
        Times (>= 0).
    sigma : array_like
        Cursor position(s) in (0, 1] (default 1, the last token).

    References
    ----------
    arXiv 2605.09213; ``derivations/retrieval.md``.
    """
    s = _c.check_sigma0(sigma0)
    sg = np.asarray(sigma, dtype=float)
    if sg.size and (np.any(~np.isfinite(sg)) or np.any(sg <= 0) or np.any(sg > 1)):
        raise ValueError("sigma: cursor positions must lie in (0, 1]")
    av = real("a", a)
    if av < 0:
        raise ValueError(f"a: the mode rate must be >= 0, got {av}")
    p = _c.check_params(lam=lam, t=t)
    return _out(_c.mode_response(s, a=av, lam=p["lam"], t=p["t"], sigma=sg))


def profile(sigma0, *, beta, lam, t, M, modes=20):
    r"""The retrieval profile :math:`\mathcal S_t(\sigma_0)` (mode sum truncated at ``modes``).

    .. math::

        \mathcal S_t(\sigma_0) = \sum_{n=1}^{\text{modes}} e^{-\pi^2n^2/(2M^2)}
        \frac{\lambda e^{\lambda\sigma_0}}{e^{\lambda}-1}\,\psi_{a_n t}\big(Y_\lambda(\sigma_0)\big),
        \qquad a_n = n^2 I_n(\beta).

    ``sigma0`` and ``t`` broadcast against each other (e.g. ``sigma0[None, :]`` and
    ``t[:, None]`` give a times x positions table).

    Parameters
    ----------
    sigma0 : array_like
        Positions of the fact, in (0, 1].
    beta : float
        Inverse temperature (>= 0).
    lam : float
        ALiBi slope (>= 0); lam = 0 uses :math:`k_0(1,s) = 1`, :math:`Y = \log(1/s)`.
    t : array_like
        Depth/time (>= 0).
    M : float
        Vocabulary size (> 0).
    modes : int
        Number of Fourier modes (>= 1).

    Returns
    -------
    numpy.ndarray or float

    References
    ----------
    arXiv 2605.09213; ``derivations/retrieval.md``.
    """
    s = _c.check_sigma0(sigma0)
    p = _c.check_params(beta=beta, lam=lam, t=t, M=M, modes=modes)
    (S,) = _c.profile_and_derivatives(s, p["t"], beta=p["beta"], lam=p["lam"], M=p["M"], modes=p["modes"])
    return _out(S)


def profile_derivative(sigma0, *, beta, lam, t, M, modes=20, order=1):
    r"""Analytic derivative :math:`\partial^k_{\sigma_0}\mathcal S_t(\sigma_0)`, k = ``order`` in {1, 2}.

    .. math::

        \mathcal S_t' = \lambda p\,\big[\Psi(Y) - (1 + e^{Y}/(e^\lambda-1))\Psi'(Y)\big],\qquad
        p = \frac{\lambda e^{\lambda\sigma_0}}{e^\lambda-1},\ \Psi = \sum_n\omega_n\psi_{a_nt},\
        \psi_c' = (c/y) I_2(2\sqrt{cy})

    (lam = 0: :math:`\mathcal S_t' = -\Psi'(\log(1/\sigma_0))/\sigma_0`); the second derivative
    follows by the chain rule with :math:`\psi_c'' = (c/y)^{3/2} I_3(2\sqrt{cy})`.

    References
    ----------
    arXiv 2605.09213; ``derivations/retrieval.md``.
    """
    if order not in (1, 2):
        raise ValueError(f"order: must be 1 or 2, got {order!r}")
    s = _c.check_sigma0(sigma0)
    p = _c.check_params(beta=beta, lam=lam, t=t, M=M, modes=modes)
    out = _c.profile_and_derivatives(s, p["t"], beta=p["beta"], lam=p["lam"], M=p["M"], modes=p["modes"],
                                     order=order)
    return _out(out[order])


def t_crit(*, beta, lam, M, modes=20) -> float:
    r"""Recency threshold of the truncated profile: :math:`\mathcal S_t'(1^-) > 0 \iff t < t_{crit}`.

    .. math::

        t_{crit} = 2(1-e^{-\lambda})\,\frac{\sum_n \omega_n a_n}{\sum_n \omega_n a_n^2}

    (from the right-end slope :math:`\partial_{\sigma_0}g_a(t,1;1^-) = \kappa c(\lambda-\kappa c/2)`,
    :math:`\kappa = \lambda/(1-e^{-\lambda})`, c = a t).  For lam = 0 it is 0: no recency for any t > 0.

    References
    ----------
    arXiv 2605.09213 (U-shape theorem); derived in ``derivations/retrieval.md`` (retrieval.right_slope).
    """
    p = _c.check_params(beta=beta, lam=lam, M=M, modes=modes, beta_positive=True)
    # a_n = n^2 I_n(beta) = e^beta n^2 ive_n(beta): the ratio is e^{-beta} sum w b / sum w b^2 with
    # b_n = n^2 ive_n(beta), evaluated in logs (t_crit ~ e^{-beta}: 6.6e-174 at beta = 400; an honest
    # 0.0 once it is below the smallest float64, never NaN from inf/inf)
    n = np.arange(1, p["modes"] + 1, dtype=float)
    bn = n * n * special.ive(n, p["beta"])
    w = _c.mode_weights(p["M"], p["modes"])
    num, den = float(np.dot(w, bn)), float(np.dot(w, bn * bn))
    if num == 0.0 or den == 0.0:  # pragma: no cover - ive > 0 for beta > 0 and modes >= 1
        return 0.0
    log_t = math.log(-2.0 * math.expm1(-p["lam"])) + math.log(num) - math.log(den) - p["beta"] if p["lam"] > 0 else -math.inf
    return math.exp(log_t) if log_t < 709.0 else math.inf


def smallness_condition(*, beta, lam, t) -> SmallnessCondition:
    r"""The smallness hypothesis of the U-shape theorem, with both sides.

    .. math:: t\,\sup_{n\ge1} a_n \le \min\{3-\sqrt3,\ 2(1-e^{-\lambda})\},\qquad a_n = n^2 I_n(\beta)

    The sup is over all n >= 1 (not only the truncated modes), located with the bound
    :math:`a_n \le n^2(\beta/2)^n e^{\beta^2/(4(n+1))}/n!`.

    References
    ----------
    arXiv 2605.09213 (U-shape theorem); ``derivations/retrieval.md``.
    """
    return _c.smallness_condition(beta=beta, lam=lam, t=t)


def soft_accuracy(sigma0, *, beta, lam, t, M, N, modes=20):
    r"""Soft retrieval accuracy to first order in 1/N.

    .. math::

        \mathcal A_N(t,\sigma_0) \approx \frac{\sqrt{\pi/2}}{M} + \frac{\sqrt{2\pi}}{MN}\,\mathcal S_t(\sigma_0)

    (error :math:`O(N^{-1-\zeta}\sigma_0^{-2}M^Ce^{Ct})`, any :math:`\zeta<1`).

    References
    ----------
    arXiv 2605.09213; ``derivations/retrieval.md``.
    """
    p = _c.check_params(M=M, N=N)
    S = profile(sigma0, beta=beta, lam=lam, t=t, M=M, modes=modes)
    return _out(math.sqrt(math.pi / 2) / p["M"] + math.sqrt(2 * math.pi) / (p["M"] * p["N"]) * np.asarray(S))


# --------------------------------------------------------------------------------------------
# location of the minimum


@dataclass(frozen=True)
class Argmin:
    """Where the profile is smallest.

    ``interior`` is True when S_t has an interior local minimum that is the global minimum on
    (0, 1]; then ``sigma0``/``value`` locate it.  Otherwise ``sigma0`` is the minimising endpoint
    (1.0 when the profile decreases into sigma0 = 1) or None when S_t is flat (t = 0 or beta = 0),
    and ``reason`` says why there is no interior minimum.  ``local_minima`` lists every interior
    local minimum found (sigma0, value).
    """

    interior: bool
    sigma0: float | None
    value: float | None
    reason: str
    local_minima: tuple[tuple[float, float], ...] = ()

    def __bool__(self) -> bool:  # "is there an interior minimum?"
        return self.interior

    def __str__(self) -> str:
        if self.interior:
            return f"interior minimum at sigma0 = {self.sigma0:.10g} (S_t = {self.value:.10g})"
        return f"no interior minimum: {self.reason}"


def _E_float(y, a, w, t, lam):
    """E(y) = Psi(y) - (1 + e^y/(e^lam - 1)) Psi'(y)  (sign of S_t' at Y(sigma0) = y)."""
    # divided by t, with phi_nu = c^nu phi~_nu (c = t a): E/t = sum w a phi~_1 - (1 + G) t sum w a^2 phi~_2,
    # so neither t^2 (t = 1e-200) underflows nor G = e^y/(e^lam - 1) overflows on its own
    y = np.asarray(y, dtype=float)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        log_c = math.log(t) + np.log(a)
        Psi = np.exp(_c.log_phi(1, log_c, y[..., None]) - math.log(t)) @ w
        dPsi = np.exp(_c.log_phi(2, log_c, y[..., None]) - 2 * math.log(t)) @ w
        Gt = t + np.exp(y - _c._logexpm1(np.array([lam]))[0] + math.log(t))
        return Psi - Gt * dPsi


def _y_to_sigma(y, lam):
    """Inverse of Y: e^{lam s} - 1 = (e^lam - 1) e^{-y}."""
    return np.log1p(np.exp(_c._logexpm1(np.array([lam]))[0] - np.asarray(y, dtype=float))) / lam


def argmin(*, beta, lam, t, M, modes=20, grid=2000) -> Argmin:
    r"""Location of the interior minimum of :math:`\sigma_0 \mapsto \mathcal S_t(\sigma_0)`.

    The critical points are the zeros of the analytic derivative

    .. math::

        \mathcal S_t'(\sigma_0) = \lambda p(\sigma_0)\,E(Y_\lambda(\sigma_0)),\qquad
        E(y) = \Psi(y) - \Big(1+\frac{e^y}{e^\lambda-1}\Big)\Psi'(y),

    located by a sign scan on a grid in y up to the point beyond which E < 0 is guaranteed
    (:math:`\Psi'/\Psi \ge \bar c/(1+\sqrt{1+\bar c y})`, :math:`\bar c = \sum\omega a^2 t/\sum\omega a`)
    and refined by Brent's bracketing method.  Sign changes + -> - of E (in increasing y) are the local
    minima in :math:`\sigma_0`; the smallest is returned.  This is a numerical search; use
    :func:`certify_ushape` for a proof of uniqueness.

    Returns
    -------
    Argmin
        Never None: ``interior=False`` with a reason when there is no interior minimum.

    References
    ----------
    arXiv 2605.09213 (U-shape theorem); ``derivations/retrieval.md`` (location must be computed).
    """
    p = _c.check_params(beta=beta, lam=lam, t=t, M=M, modes=modes)
    tt = float(p["t"]) if np.ndim(p["t"]) == 0 else None
    if tt is None:
        raise ValueError("t: argmin takes one scalar time")
    b, lam, Mv, nm = p["beta"], p["lam"], p["M"], p["modes"]
    if tt == 0 or b == 0:
        return Argmin(False, None, None, "S_t is identically 0 (t = 0 or beta = 0)")
    if lam == 0:
        return Argmin(False, 1.0, float(profile(1.0, beta=b, lam=0.0, t=tt, M=Mv, modes=nm)),
                      "lam = 0: S_t' < 0 on (0, 1] (no recency); the profile decreases to its minimum at sigma0 = 1")
    a = _c.fourier_rates(b, nm)
    w = _c.mode_weights(Mv, nm)
    S1 = float(profile(1.0, beta=b, lam=lam, t=tt, M=Mv, modes=nm))
    if not np.all(np.isfinite(a)):  # a_n beyond float64 (beta >~ 700): t_crit ~ e^{-beta} underflows, t >= t_crit
        return Argmin(False, 1.0, S1, "no recency: t_crit ~ e^-beta is below float64 (a_n = n^2 I_n(beta) overflows), "
                      "so S_t' < 0 near sigma0 = 1 and the profile decreases to its minimum at sigma0 = 1")
    cbar = tt * np.dot(w, a * a) / np.dot(w, a)
    y = 1.0
    for _ in range(100):
        y = max(0.5, float(_c._logexpm1(np.array([lam]))[0]) + math.log((1 + math.sqrt(1 + cbar * y)) / cbar))
    y_max = y + 1.0
    ys = np.concatenate([np.linspace(0.0, 1.0, grid // 4, endpoint=False), np.linspace(1.0, y_max, grid)])
    E = _E_float(ys, a, w, tt, lam)
    sg = np.sign(E)
    minima = []
    for i in np.nonzero((sg[:-1] > 0) & (sg[1:] <= 0))[0]:
        lo, hi = ys[i], ys[i + 1]
        if E[i + 1] == 0:
            yr = hi
        else:
            yr = brentq(lambda yy: float(_E_float(np.array([yy]), a, w, tt, lam)[0]), lo, hi,
                        xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200)
        s0 = float(_y_to_sigma(yr, lam))
        if 0 < s0 < 1:
            minima.append((s0, float(profile(s0, beta=b, lam=lam, t=tt, M=Mv, modes=nm))))
    minima.sort()
    if not minima:
        return Argmin(False, 1.0, S1, "S_t' < 0 on (0, 1) (no recency, t >= t_crit): the profile decreases "
                      "to its minimum at sigma0 = 1")
    best = min(minima, key=lambda m: m[1])
    if best[1] >= S1:
        return Argmin(False, 1.0, S1, "the interior local minima are above S_t(1): global minimum at sigma0 = 1",
                      tuple(minima))
    return Argmin(True, best[0], best[1], "", tuple(minima))


# --------------------------------------------------------------------------------------------
# certification


def certify_ushape(*, beta, lam, t, M, modes=20) -> Certificate:
    r"""Certify primacy, recency and a unique interior minimum of :math:`\mathcal S_t` (all modes).

    With :math:`y = Y_\lambda(\sigma_0)` (a decreasing bijection of (0, 1] onto [0, inf)),

    .. math::

        \mathcal S_t'(\sigma_0) = \lambda p(\sigma_0)\, E(y), \qquad
        E(y) = \Psi(y) - \Big(1+\frac{e^y}{e^\lambda-1}\Big)\Psi'(y), \qquad
        \Psi(y) = \sum_{k\ge0} \frac{m_k\,y^k}{k!(k+1)!},\ m_k = \sum_{n\ge1}\omega_n (a_n t)^{k+1}.

    * primacy: :math:`\Psi` has positive coefficients, so :math:`\mathcal S_t \to \infty` as
      :math:`\sigma_0 \to 0` (analytic);
    * recency: E(0) > 0 enclosed by interval arithmetic (mpmath.iv, 96 bits);
    * tail :math:`y \ge y_{max}` (:math:`\sigma_0` near 0): E < 0 from the rigorous bound
      :math:`\Psi'/\Psi \ge \bar c/(1+\sqrt{1+\bar c y})`, :math:`\bar c = m_1/m_0`;
    * on :math:`[0, y_{max}]`: adaptive partition, every piece has a certified strict sign of E
      or of E' (then E is monotone and its endpoint signs are certified), so the number of zeros of
      :math:`\mathcal S_t'` is exact; exactly one zero, with :math:`\mathcal S_t''>0` there, gives
      "certified".

    The modes n > ``modes`` are included through the bound
    :math:`a_n \le n^2(\beta/2)^n e^{\beta^2/(4(n+1))}/n!`; Bessel values are enclosed from their
    series.  Verdicts: "certified", "not U-shaped" (rigorously: no recency, or several critical
    points, or lam = 0, or S_t = 0) or "inconclusive" (the enclosures did not decide; never a guess).

    References
    ----------
    arXiv 2605.09213 (U-shape theorem); ``derivations/retrieval.md``.
    """
    p = _c.check_params(beta=beta, lam=lam, t=t, M=M, modes=modes)
    if np.ndim(p["t"]) != 0:
        raise ValueError("t: certify_ushape takes one scalar time")
    return _certify(beta=p["beta"], lam=p["lam"], t=float(p["t"]), M=p["M"], modes=p["modes"])


def solve_volterra_mode(sigma0, *, a, lam, t, sigma_end=1.0, nodes=48):
    r"""Independent numerical solution of the Volterra--Hardy equation (reference for the closed form).

    .. math::

        \partial_t g(t,\sigma) = a\Big(k_\lambda(\sigma,\sigma_0) + \int_{\sigma_0}^{\sigma}
        k_\lambda(\sigma,\sigma') g(t,\sigma')\,d\sigma'\Big),\quad g(0,\cdot)=0,

    discretised on Chebyshev-Lobatto nodes in :math:`\log\sigma` (spectral cumulative
    integration of the separable kernel) and integrated in t by DOP853 (rtol 1e-13).
    Returns :math:`g(t,\sigma_{end};\sigma_0)`; no Bessel function or closed form is used.

    References
    ----------
    arXiv 2605.09213; ``derivations/retrieval.md``.
    """
    p = _c.check_params(lam=lam, t=t)
    av = real("a", a)
    if av < 0:
        raise ValueError(f"a: the mode rate must be >= 0, got {av}")
    if isinstance(nodes, bool) or int(nodes) != nodes or nodes < 8:
        raise ValueError(f"nodes: need an integer >= 8, got {nodes!r}")
    return _solve_volterra_mode(sigma0, a=av, lam=p["lam"], t=p["t"], sigma_end=sigma_end, nodes=int(nodes))
