"""The noisy Kuramoto / circle-USA model in angles, and its order parameter (private).

Public names are re-exported by :mod:`attnflow.numerics.noise`.
"""

from __future__ import annotations

import numpy as np

from attnflow._base.validate import real, real_array

from ._paths import StochasticPath, _check_increments, _n_steps, _positive, _rng, _Saver, _save_every

__all__ = ["order_parameter", "noisy_kuramoto"]


def order_parameter(theta) -> np.ndarray | float:
    r"""Kuramoto order parameter :math:`r = \big|\frac1n\sum_j e^{i\theta_j}\big|` over the last axis.

    .. math::
        r\, e^{i\psi} = \frac1n \sum_{j=1}^n e^{i\theta_j}

    Parameters
    ----------
    theta : array_like, shape (..., n)
        Angles in radians.

    Returns
    -------
    float or ndarray of shape (...)

    References
    ----------
    Kuramoto (1975); arXiv:2512.01868 §7 (noisy Kuramoto form).
    """
    th = real_array("theta", theta)
    if th.ndim < 1 or th.shape[-1] < 1:
        raise ValueError(f"theta: expected angles with a last axis of size >= 1, got shape {th.shape}")
    if not np.all(np.isfinite(th)):
        raise ValueError("theta: contains NaN or inf")
    r = np.hypot(np.cos(th).mean(axis=-1), np.sin(th).mean(axis=-1))
    return float(r) if np.ndim(r) == 0 else r


def _circle_drift(th: np.ndarray, beta: float) -> np.ndarray:
    if beta == 0.0:
        z = np.exp(1j * th).mean()
        return np.imag(z * np.exp(-1j * th))  # (1/n) sum_j sin(theta_j - theta_i)
    diff = th[None, :] - th[:, None]  # theta_j - theta_i
    c = np.cos(diff)
    w = np.exp(beta * (c - 1.0)) * np.exp(beta) if beta > 0 else np.exp(beta * (c + 1.0)) * np.exp(-beta)
    return (w * np.sin(diff)).mean(axis=1)


def noisy_kuramoto(
    theta0,
    *,
    kappa,
    dt,
    t_final,
    beta=0.0,
    seed=None,
    increments=None,
    save_every: int = 1,
) -> StochasticPath:
    r"""Euler--Maruyama for the noisy Kuramoto / circle-USA model in angles.

    .. math::
        d\theta_i = \frac1n \sum_{j=1}^n e^{\beta\cos(\theta_i - \theta_j)} \sin(\theta_j - \theta_i)\, dt
            + \sqrt{2/\kappa}\, dW_i,

    which at :math:`\beta = 0` is :math:`d\theta_i = -\frac1n\sum_j \sin(\theta_i - \theta_j)dt +
    \sqrt{2/\kappa}dW_i = r\sin(\psi - \theta_i)dt + \sqrt{2/\kappa}dW_i` (evaluated in :math:`O(n)`
    through the order parameter :math:`re^{i\psi}`). The noise is additive, so Euler--Maruyama has
    strong order 1; it is Brownian motion on :math:`S^1` with generator :math:`\kappa^{-1}\partial_\theta^2`.
    Expected behaviour (derived for this project; Bertini, Giacomin & Pakdaman 2010): the uniform law is the only stationary state for
    :math:`\kappa \le 2`; above, :math:`r = I_1(\kappa r)/I_0(\kappa r)`.

    Parameters
    ----------
    theta0 : array_like, shape (n,)
        Initial angles (radians).
    kappa : float > 0 or inf
    dt, t_final : float
    beta : float
        Inverse temperature (default 0, the Kuramoto model).
    seed : int or numpy.random.Generator, optional
    increments : ndarray, shape (n_steps, n), optional
        Pre-drawn :math:`\Delta W` (variance ``dt``); excludes ``seed``.
    save_every : int

    Returns
    -------
    StochasticPath
        Angles (not reduced mod :math:`2\pi`); use :func:`order_parameter` on ``states``.

    References
    ----------
    arXiv:2512.01868 §7 (independent noise); Bertini, Giacomin & Pakdaman,
    J. Stat. Phys. 138 (2010) (noisy Kuramoto, phase transition at the critical coupling).
    """
    th = real_array("theta0", theta0).copy()
    if th.ndim != 1 or th.shape[0] < 1:
        raise ValueError(f"theta0: expected a 1-D array of n >= 1 angles, got shape {th.shape}")
    if not np.all(np.isfinite(th)):
        raise ValueError("theta0: contains NaN or inf")
    n = th.shape[0]
    kappa = _positive(kappa, "kappa", allow_inf=True)
    beta = real("beta", beta)
    dt, n_steps = _n_steps(dt, t_final)
    every = _save_every(save_every)
    inc = _check_increments(increments, seed, (n_steps, n))
    rng = _rng(seed) if inc is None else None
    noise = np.sqrt(2.0 / kappa) if np.isfinite(kappa) else 0.0
    saver = _Saver(n_steps, every, th, dt)
    sqdt = np.sqrt(dt)
    for k in range(n_steps):
        dw = inc[k] if inc is not None else sqdt * rng.standard_normal(n)
        th = th + _circle_drift(th, beta) * dt + noise * dw
        saver(k + 1, th)
    return saver.result()
