r"""Low-temperature concentration: how fast :math:`\mu_t^\beta` settles as :math:`\beta \to \infty`.

arXiv 2605.10931 (abstract only):
:math:`W(\mu_t, P_\#\mu_0) \lesssim \sqrt{\log(\beta+1)/\beta}\,e^{Ct} + e^{-ct}` with a projection
:math:`P` that is not known here.  Without :math:`P`, this module measures the Cauchy-type quantity

.. math::

    D(\beta) = W_2\bigl(\mu_t^{\beta}, \mu_t^{4\beta}\bigr)

(same initial empirical measure, same time :math:`t`, chordal metric) and fits
:math:`D(\beta) \approx C\beta^{p}`: if :math:`\mu_t^\beta` converged at the rate of the abstract,
:math:`D(\beta) = O(\sqrt{\log\beta/\beta})`, i.e. :math:`p \approx -1/2` up to the logarithm.

References
----------
arXiv 2605.10931 (abstract: low-temperature concentration); :mod:`attnflow.numerics.wasserstein`
(W2 computation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from attnflow.numerics._fit import fit_power_law
from attnflow.numerics.fields import self_attention_kind

__all__ = ["lowtemp_distance", "LowTempFit", "lowtemp_exponent", "reference_exponent"]


def lowtemp_distance(x0, beta: float, t: float, *, model: str = "sa", factor: float = 4.0,
                     dt: float = 0.02) -> float:
    r""":math:`W_2(\mu_t^\beta, \mu_t^{\text{factor}\cdot\beta})` from the same start ``x0``.

    .. math::

        \mu_t^\beta = \frac1n\sum_i \delta_{x_i^\beta(t)},\qquad
        \dot x_i = P_{x_i}\Bigl(\frac{\sum_j e^{\beta\langle x_i,x_j\rangle}x_j}{\sum_k e^{\beta\langle x_i,x_k\rangle}}\Bigr)
        \ (\texttt{sa}),

    both runs by :func:`attnflow.numerics.simulate` (RK4 with retraction, step ``min(dt, 0.5/beta)``) and the
    distance by :func:`attnflow.numerics.wasserstein` (exact assignment, chordal).

    Parameters
    ----------
    x0 : (n, d) unit vectors
    beta : float > 0
    t : float >= 0
    model : ``"sa"`` or ``"usa"``
    factor : float > 1
    dt : float > 0
        Largest RK4 step; each run uses ``min(dt, 0.5/beta)`` (the field is ``O(beta)``-Lipschitz).

    References
    ----------
    arXiv 2605.10931 (abstract); arXiv:2312.10794 (SA), arXiv:2512.01868 (USA).
    """
    from attnflow.numerics import simulate, wasserstein

    self_attention_kind(model)  # SA or USA (a model on the sphere with a temperature); ValueError naming model
    if not (isinstance(beta, (int, float, np.floating, np.integer)) and math.isfinite(beta) and beta > 0):
        raise ValueError(f"beta: must be a finite positive inverse temperature, got {beta!r}")
    if not (math.isfinite(factor) and factor > 1):
        raise ValueError(f"factor: must be a finite number > 1, got {factor!r}")
    import numba

    ends = []
    old_threads = numba.get_num_threads()
    numba.set_num_threads(1)  # small n: thread start-up of the parallel kernels would dominate
    try:
        for b in (float(beta), float(factor * beta)):
            h = min(float(dt), 0.5 / b)  # the field's Lipschitz constant grows like beta: keep RK4 accurate
            tr = simulate(model, x0, beta=b, t_final=float(t), dt=h, method="rk4", save_every=10**9)
            ends.append(tr.states[-1])
    finally:
        numba.set_num_threads(old_threads)
    return float(wasserstein(ends[0], ends[1]))


def reference_exponent(betas) -> float:
    r"""Log-log slope of the abstract's rate :math:`\sqrt{\log(\beta+1)/\beta}` over ``betas``.

    .. math:: p_{\mathrm{ref}} = \operatorname{slope}\bigl(\log\beta,\ \tfrac12\log\log(\beta+1) - \tfrac12\log\beta\bigr)

    (the value a fit would give if :math:`D(\beta)` followed the abstract's rate exactly; it lies
    above :math:`-1/2` because of the logarithm).

    References
    ----------
    arXiv 2605.10931 (abstract).
    """
    b = np.asarray(betas, dtype=np.float64)
    return fit_power_law(b, np.sqrt(np.log(b + 1.0) / b))


@dataclass(frozen=True)
class LowTempFit:
    """Distances ``distances[k] = W2(mu_t^{beta_k}, mu_t^{4 beta_k})``, fitted exponent ``exponent``
    of ``C beta^p`` (least squares in log-log), ``reference`` = the same fit applied to
    ``sqrt(log(beta+1)/beta)`` and ``r2`` of the log-log fit."""

    betas: np.ndarray
    distances: np.ndarray
    exponent: float
    reference: float
    r2: float


def lowtemp_exponent(x0, betas, t: float, *, model: str = "sa", factor: float = 4.0,
                     dt: float = 0.02) -> LowTempFit:
    r"""Fit :math:`W_2(\mu_t^\beta, \mu_t^{4\beta}) \approx C\beta^{p}` over ``betas``.

    .. math:: p = \operatorname{slope}\bigl(\log\beta_k,\ \log W_2(\mu_t^{\beta_k}, \mu_t^{4\beta_k})\bigr)

    (least squares in log-log coordinates), reported beside :math:`-1/2` and beside
    :func:`reference_exponent`.  Raises ``ValueError`` when a distance is 0 (nothing to fit).

    References
    ----------
    arXiv 2605.10931 (abstract).
    """
    b = np.asarray(betas, dtype=np.float64)
    if b.ndim != 1 or b.size < 2 or np.any(~np.isfinite(b)) or np.any(b <= 0) or np.unique(b).size < 2:
        raise ValueError("betas: need at least two distinct finite positive inverse temperatures")
    dist = np.array([lowtemp_distance(x0, float(bb), t, model=model, factor=factor, dt=dt) for bb in b])
    if np.any(dist <= 0):
        raise ValueError("x0: the runs at beta and 4 beta coincide (distance 0); nothing to fit")
    p = fit_power_law(b, dist)
    lb, ld = np.log(b), np.log(dist)
    pred = ld.mean() + p * (lb - lb.mean())
    ss = float(((ld - ld.mean()) ** 2).sum())
    r2 = 1.0 - float(((ld - pred) ** 2).sum()) / ss if ss > 0 else 1.0
    return LowTempFit(b, dist, float(p), reference_exponent(b), r2)
