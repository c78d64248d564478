r"""Mean-field attention dynamics of weighted empirical measures (``attnflow.numerics.meanfield``).

Public API
----------
weighted_velocity
    the SA / USA field driven by a weighted empirical measure :math:`\mu=\sum_j w_j\delta_{x_j}`;
weighted_attention_flow
    its characteristics (RK4 + retraction, :func:`attnflow.numerics.integrators.integrate_fixed`);
vmf_sample, vmf_quadrature
    iid samples and a product quadrature of the von Mises--Fisher law on :math:`S^2`.

Tokens with weight 0 are test particles: they move with the flow but exert no force, which lets a
quadrature of a smooth initial law play the role of the mean-field limit.

References
----------
arXiv:2312.10794 (SA, USA), arXiv:2512.01868 (mean-field continuity equation);
arXiv:2605.16747 (abstract: propagation of chaos).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from attnflow._base.validate import real_array
from attnflow.numerics.fields import self_attention_kind
from attnflow.numerics.integrators import integrate_fixed

__all__ = ["weighted_velocity", "weighted_attention_flow", "vmf_sample", "vmf_quadrature"]


@njit(cache=True)
def _weighted_field(x, w, beta, usa, out):
    # each pair (i, j) once: the kernel e^{beta <x_i, x_j>} is symmetric
    n, d = x.shape
    z = np.zeros(n)
    for i in range(n):
        for k in range(d):
            out[i, k] = 0.0
    shift = beta if beta >= 0 else -beta  # e^{beta s - |beta|} <= 1 for |s| <= 1
    for i in range(n):
        e = math.exp(beta - shift)  # s = <x_i, x_i> = 1
        z[i] += w[i] * e
        for k in range(d):
            out[i, k] += w[i] * e * x[i, k]
        for j in range(i + 1, n):
            if w[i] == 0.0 and w[j] == 0.0:
                continue
            s = 0.0
            for k in range(d):
                s += x[i, k] * x[j, k]
            e = math.exp(beta * s - shift)
            z[i] += w[j] * e
            z[j] += w[i] * e
            for k in range(d):
                out[i, k] += w[j] * e * x[j, k]
                out[j, k] += w[i] * e * x[i, k]
    for i in range(n):
        scale = math.exp(shift) if usa else 1.0 / z[i]
        p = 0.0
        for k in range(d):
            out[i, k] *= scale
            p += out[i, k] * x[i, k]
        for k in range(d):
            out[i, k] -= p * x[i, k]


def _check_flow_args(x0, w, model):
    x0 = np.ascontiguousarray(real_array("x0", x0))
    w = np.ascontiguousarray(real_array("w", w))
    if x0.ndim != 2 or w.shape != (x0.shape[0],):
        raise ValueError(f"w: expected one weight per row of x0 {x0.shape}, got shape {w.shape}")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("w: weights must be finite and nonnegative")
    return x0, w, self_attention_kind(model) == "mean"


def weighted_velocity(x, w, *, beta, model: str) -> np.ndarray:
    r"""Attention field driven by a *weighted* empirical measure :math:`\mu=\sum_j w_j\delta_{x_j}`.

    .. math::
        \text{SA: } \dot x_i = P_{x_i}\frac{\sum_j w_j e^{\beta\langle x_i,x_j\rangle}x_j}
        {\sum_j w_j e^{\beta\langle x_i,x_j\rangle}},\qquad
        \text{USA: } \dot x_i = P_{x_i}\sum_j w_j e^{\beta\langle x_i,x_j\rangle}x_j,

    with :math:`P_x v = v-\langle x,v\rangle x`.  Uniform weights :math:`w_j = 1/n` give the particle
    fields SA / USA of :func:`attnflow.numerics.velocity`.  Exponentials are shifted by
    :math:`|\beta|` (no overflow); each pair :math:`(i, j)` is evaluated once (the kernel is
    symmetric).  Single-threaded numba kernel (``cache=True``), float64.

    Parameters
    ----------
    x : array_like (n, d), unit rows
    w : array_like (n,), nonnegative weights
    beta : float
    model : {"sa", "usa"}

    Returns
    -------
    ndarray, shape (n, d)

    References
    ----------
    arXiv:2312.10794 (SA, USA), arXiv:2512.01868 (mean-field continuity equation).
    """
    x, w, mean = _check_flow_args(x, w, model)
    out = np.empty_like(x)
    _weighted_field(x, w, float(beta), mean, out)
    return out


def weighted_attention_flow(x0, w, *, beta, model: str, dt: float, steps: int, save_every: int | None = None):
    r"""RK4 + normalisation for attention driven by a *weighted* empirical measure (single thread).

    .. math::
        \text{SA: } \dot x_i = P_{x_i}\frac{\sum_j w_j e^{\beta\langle x_i,x_j\rangle}x_j}
        {\sum_j w_j e^{\beta\langle x_i,x_j\rangle}},\qquad
        \text{USA: } \dot x_i = P_{x_i}\sum_j w_j e^{\beta\langle x_i,x_j\rangle}x_j,

    i.e. the characteristics of the continuity equation :math:`\partial_t\mu+\operatorname{div}(\mu\,v[\mu])=0`
    for :math:`\mu=\sum_j w_j\delta_{x_j}` (uniform :math:`w_j = 1/n` gives the particle systems SA/USA of
    arXiv:2312.10794, arXiv:2512.01868). A token with :math:`w_i = 0` is a test particle: it moves with the flow but exerts no
    force. The field is :func:`weighted_velocity`; the steps are
    :func:`attnflow.numerics.integrators.integrate_fixed` (classical RK4 in the ambient space, each
    step followed by :math:`x_i\leftarrow x_i/|x_i|`).

    Parameters
    ----------
    x0 : array_like (n, d), unit rows
    w : array_like (n,), nonnegative weights (sum 1 for SA; 1/n for the USA particle system)
    beta : float
    model : {"sa", "usa"}
    dt : float > 0
    steps : int >= 0
    save_every : int, optional
        Save every ``save_every`` steps (default: only the initial and final states).

    Returns
    -------
    ndarray, shape (n_saved, n, d)

    References
    ----------
    arXiv:2605.16747 (abstract: propagation of chaos); arXiv:2312.10794 (SA, USA),
    arXiv:2512.01868 (mean-field continuity equation).
    """
    x0, w, usa = _check_flow_args(x0, w, model)
    steps = int(steps)
    every = steps if save_every is None else int(save_every)
    if steps < 0 or every < 1 or (steps and steps % every):
        raise ValueError(f"save_every: must divide steps={steps} (got {save_every!r})")
    beta, dt = float(beta), float(dt)

    def field(t, x):
        out = np.empty_like(x)
        _weighted_field(x, w, beta, usa, out)
        return out

    return integrate_fixed(field, x0, steps * dt, dt, method="rk4", manifold="sphere", save_every=max(every, 1)).states


def _frame(axis: np.ndarray) -> np.ndarray:
    """Orthonormal matrix whose last column is ``axis``."""
    q, _ = np.linalg.qr(np.column_stack([axis, np.eye(3)]))
    q = q[:, [1, 2, 0]]
    if q[:, 2] @ axis < 0:
        q[:, 2] *= -1
    return q


def vmf_sample(rng: np.random.Generator, n: int, kappa: float, axis) -> np.ndarray:
    r"""``n`` iid samples of the von Mises--Fisher law on :math:`S^2`, density :math:`\propto e^{\kappa\langle a,y\rangle}`.

    Exact inversion of the height :math:`w=\langle a,y\rangle` (density :math:`\propto e^{\kappa w}` on
    :math:`[-1,1]`): :math:`w = 1+\kappa^{-1}\log(u+(1-u)e^{-2\kappa})`, azimuth uniform.

    References
    ----------
    A. T. A. Wood, "Simulation of the von Mises Fisher distribution", Comm. Stat. Sim. 23 (1994);
    arXiv:2605.16747 (abstract: propagation of chaos; a non-uniform initial law for its check).
    """
    if int(n) != n or n < 1 or not (kappa > 0 and math.isfinite(kappa)):
        raise ValueError(f"n/kappa: need an integer n >= 1 and a finite kappa > 0, got n={n}, kappa={kappa}")
    u = rng.uniform(size=n)
    w = 1.0 + np.log(u + (1.0 - u) * math.exp(-2.0 * kappa)) / kappa
    phi = rng.uniform(0.0, 2.0 * math.pi, size=n)
    s = np.sqrt(np.clip(1.0 - w * w, 0.0, None))
    y = np.column_stack([s * np.cos(phi), s * np.sin(phi), w])
    y = y @ _frame(np.asarray(axis, dtype=float)).T
    return y / np.linalg.norm(y, axis=1, keepdims=True)


def vmf_quadrature(n_height: int, n_azimuth: int, kappa: float, axis) -> tuple[np.ndarray, np.ndarray]:
    r"""Product quadrature for the von Mises--Fisher law on :math:`S^2`: nodes and weights.

    .. math::
        \int f\,d\mu_\kappa \approx \sum_{k,j} \frac{g_k e^{\kappa t_k}}{\sum_l g_l e^{\kappa t_l}}
        \frac{1}{N_\varphi} f\big(\sqrt{1-t_k^2}\cos\varphi_j, \sqrt{1-t_k^2}\sin\varphi_j, t_k\big),

    Gauss--Legendre :math:`(t_k, g_k)` in the height and the periodic trapezoid rule
    :math:`\varphi_j = 2\pi(j+\tfrac12)/N_\varphi` in the azimuth: spectrally accurate for smooth ``f``.

    References
    ----------
    Atkinson & Han, *Spherical Harmonics and Approximations on the Unit Sphere* (2012), §5.
    """
    if min(int(n_height), int(n_azimuth)) < 1 or not (kappa >= 0 and math.isfinite(kappa)):
        raise ValueError(f"n_height/n_azimuth/kappa: need positive node counts and kappa >= 0, got "
                         f"{n_height}, {n_azimuth}, {kappa}")
    t, g = np.polynomial.legendre.leggauss(int(n_height))
    wt = g * np.exp(kappa * (t - 1.0))
    wt /= wt.sum()
    phi = 2.0 * math.pi * (np.arange(n_azimuth) + 0.5) / n_azimuth
    s = np.sqrt(1.0 - t * t)
    y = np.stack([np.outer(s, np.cos(phi)), np.outer(s, np.sin(phi)), np.outer(t, np.ones_like(phi))], axis=-1)
    y = y.reshape(-1, 3) @ _frame(np.asarray(axis, dtype=float)).T
    w = np.repeat(wt / n_azimuth, n_azimuth)
    return y / np.linalg.norm(y, axis=1, keepdims=True), w
