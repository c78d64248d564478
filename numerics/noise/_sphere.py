"""Tokens with independent noise on the sphere: the attention drift and projected Euler--Maruyama (private).

Public names are re-exported by :mod:`attnflow.numerics.noise`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from attnflow._base.validate import real
from attnflow.numerics.fields import make_field, self_attention_kind

from ._paths import (
    StochasticPath,
    _check_increments,
    _n_steps,
    _positive,
    _project,
    _rng,
    _Saver,
    _save_every,
    _sphere_points,
)

__all__ = ["attention_drift", "euler_maruyama_sphere"]


def _numpy_attention(x: np.ndarray, beta: float, kind: str) -> np.ndarray:
    """The unprojected self-attention sum, ``kind`` ``"softmax"`` (SA) or ``"mean"`` (USA), in NumPy."""
    logits = beta * (x @ x.T)
    if kind == "softmax":
        w = np.exp(logits - logits.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        return w @ x
    # usa: (1/n) sum_j e^{beta <x_i, x_j>} x_j = e^{|beta|} (1/n) sum_j e^{beta<x_i,x_j> - |beta|} x_j
    shift = abs(beta)
    return (np.exp(logits - shift) @ x) * (np.exp(shift) / x.shape[0])


def attention_drift(beta, model: str = "usa", *, backend: str = "numba") -> Callable:
    r"""Attention vector field as a drift ``f(t, X)`` for :func:`euler_maruyama_sphere`.

    .. math::
        \text{usa:}\quad f_i = \frac1n \sum_j e^{\beta\langle x_i, x_j\rangle} x_j, \qquad
        \text{sa:}\quad f_i = \frac{\sum_j e^{\beta\langle x_i, x_j\rangle} x_j}{\sum_k e^{\beta\langle x_i, x_k\rangle}}.

    (The simulator applies the tangent projection :math:`P_{x_i}`.) ``backend="numba"`` (the
    default) is the generated kernel ``attnflow.numerics.fields.make_field(model, beta=beta)``, called
    as ``f(t, x)``; it returns the projected velocity, which the scheme projects again harmlessly.
    ``backend="numpy"`` evaluates the formula in NumPy: the softmax logits are shifted by their row
    maximum; the USA sum is evaluated as :math:`e^{|\beta|}\frac1n\sum_j
    e^{\beta\langle x_i,x_j\rangle - |\beta|}x_j`. The backend is stored in the returned
    function's ``backend`` attribute.

    Parameters
    ----------
    beta : float
        Inverse temperature (any real; negative is legal).
    model : {"usa", "sa"}
    backend : {"numba", "numpy"}
        ``"auto"``, the former default, is accepted as a synonym of ``"numba"``.

    Returns
    -------
    callable
        ``f(t, X) -> ndarray`` of shape ``(n, d)``.

    References
    ----------
    arXiv:2312.10794 (SA), arXiv:2512.01868 (USA; §7, noise).
    """
    kind = self_attention_kind(model)
    if backend not in ("numba", "numpy", "auto"):
        raise ValueError(f"backend: unknown backend {backend!r}; choose 'numba' or 'numpy'")
    beta = real("beta", beta)
    if backend == "numpy":

        def drift(t, x, _b=beta, _k=kind):
            return _numpy_attention(x, _b, _k)

        drift.backend = "numpy"
        return drift
    fld = make_field(model, beta=beta)

    def drift(t, x, _f=fld):
        return np.asarray(_f(float(t), np.ascontiguousarray(x, dtype=np.float64)), dtype=np.float64)

    drift.backend = "numba"
    return drift


def euler_maruyama_sphere(
    x0,
    drift: Callable | None,
    *,
    kappa,
    dt,
    t_final,
    seed=None,
    increments=None,
    save_every: int = 1,
) -> StochasticPath:
    r"""Projected Euler--Maruyama scheme for tokens with independent noise on :math:`S^{d-1}`.

    Solves the Itô SDE (Brownian motion with generator :math:`\kappa^{-1}\Delta_{S^{d-1}}` plus drift)

    .. math::
        dX_i = \Big(P_{X_i} f(t, X)_i - \frac{d-1}{\kappa} X_i\Big)dt + \sqrt{2/\kappa}\; P_{X_i}\, dW_i,
        \qquad P_x = I - x x^\top,

    with independent ambient Brownian motions :math:`W_i` in :math:`\mathbb{R}^d`; the radial term is
    the Itô correction of :math:`\sqrt{2/\kappa}\,P_X \circ dW` (Stratonovich). One step:

    .. math::
        \tilde X_i = X_i + \Big(P_{X_i} f_i - \tfrac{d-1}{\kappa} X_i\Big)\Delta t
            + \sqrt{2/\kappa}\, P_{X_i}\Delta W_i, \qquad X_i \leftarrow \tilde X_i / |\tilde X_i|,

    weak order 1 (the renormalisation changes the step by :math:`O(\Delta t^{3/2})` in mean square).
    For :math:`f = 0`, :math:`\mathbb{E}\langle X_t, x_0\rangle = e^{-(d-1)t/\kappa}` because linear
    functions are eigenfunctions of :math:`\Delta_{S^{d-1}}` with eigenvalue :math:`-(d-1)`.

    Coupling: two calls with the same ``seed`` (and the same ``n``, ``d``, ``dt``, ``t_final``) use
    identical increments whatever the drift; or pass one array from :func:`brownian_increments`.

    Parameters
    ----------
    x0 : array_like, shape (n, d)
        Unit vectors.
    drift : callable or None
        ``f(t, X) -> (n, d)`` ambient field, projected by the scheme (e.g. :func:`attention_drift`);
        None for pure Brownian motion.
    kappa : float > 0 or inf
        Inverse noise level (``inf``: no noise, the explicit Euler + renormalisation scheme).
    dt, t_final : float
        Step and final time (``t_final`` a whole number of steps).
    seed : int or numpy.random.Generator, optional
    increments : ndarray, shape (n_steps, n, d), optional
        Pre-drawn :math:`\Delta W` (variance ``dt``); excludes ``seed``.
    save_every : int
        Save every ``save_every`` steps (the final state is always saved).

    Returns
    -------
    StochasticPath

    References
    ----------
    arXiv:2512.01868 §7 (independent noise). Hsu, *Stochastic Analysis on Manifolds*
    (2002), §3.1 (Brownian motion on the sphere, Itô form); Kloeden & Platen (1992).
    """
    x = _sphere_points(x0, "x0")
    n, d = x.shape
    kappa = _positive(kappa, "kappa", allow_inf=True)
    dt, n_steps = _n_steps(dt, t_final)
    every = _save_every(save_every)
    if drift is not None and not callable(drift):
        raise ValueError("drift: expected a callable f(t, X) or None")
    inc = _check_increments(increments, seed, (n_steps, n, d))
    rng = _rng(seed) if inc is None else None
    noise = np.sqrt(2.0 / kappa) if np.isfinite(kappa) else 0.0
    radial = (d - 1) / kappa
    saver = _Saver(n_steps, every, x, dt)
    sqdt = np.sqrt(dt)
    for k in range(n_steps):
        t = k * dt
        step = -radial * dt * x
        if drift is not None:
            f = np.asarray(drift(t, x), dtype=np.float64)
            if f.shape != (n, d):
                raise ValueError(f"drift: returned shape {f.shape}, expected {(n, d)}")
            step += _project(x, f) * dt
        dw = inc[k] if inc is not None else sqdt * rng.standard_normal((n, d))
        if noise:
            step += noise * _project(x, dw)
        x = x + step
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        saver(k + 1, x)
    return saver.result()
