r"""Seeded initial configurations for the particle systems.

- :func:`random_sphere`: iid uniform points on :math:`S^{d-1}` (the "Lebesgue-almost-every" start
  of the clustering theorems);
- :func:`equiangular`: :math:`n` unit vectors with all pairwise inner products equal to
  :math:`\rho` (the equiangular reduction of arXiv:2512.01868, ``derivations/equiangular.md``);
- :func:`random_angles`: iid uniform angles on :math:`\mathbb T = \mathbb R/2\pi\mathbb Z` (the
  circle models, main case of 2605.09213);
- :func:`random_matrices`: reproducible Gaussian Q, K, V / head matrices for the ``qkv`` and
  ``multihead`` models.

All randomness goes through ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import math

import numpy as np

from attnflow._base import validate
from attnflow.symbolic.models._random import random_matrices

__all__ = ["random_sphere", "equiangular", "random_angles", "random_matrices"]


def _positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed: must be a non-negative integer or None, got {seed!r}")
    return seed


def random_sphere(n: int, d: int, seed: int | None = 0) -> np.ndarray:
    r"""``n`` iid points, uniform on the unit sphere :math:`S^{d-1}\subset\mathbb R^d`.

    .. math::

        x_i = g_i / |g_i|,\qquad g_i \sim \mathcal N(0, I_d)\ \text{iid},

    which is uniform on the sphere by rotation invariance of the Gaussian.

    Parameters
    ----------
    n : int
        Number of tokens, >= 1.
    d : int
        Ambient dimension, >= 2.
    seed : int or None
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    ndarray, shape (n, d)

    References
    ----------
    Marsaglia (1972), Ann. Math. Stat. 43; arXiv:2312.10794 (clustering theorems hold for almost
    every start).
    """
    n = _positive_int(n, "n")
    d = _positive_int(d, "d", 2)
    validate.memory("n", 8.0 * 2 * n * d, f"n x d = {n} x {d} points: lower n or d")
    rng = np.random.default_rng(_seed(seed))
    g = rng.standard_normal((n, d))
    norms = np.linalg.norm(g, axis=1, keepdims=True)
    while np.any(norms == 0):  # probability zero; keep the function total
        bad = norms[:, 0] == 0
        g[bad] = rng.standard_normal((int(bad.sum()), d))
        norms = np.linalg.norm(g, axis=1, keepdims=True)
    return g / norms


def _haar_orthogonal(d: int, rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def equiangular(n: int, d: int, rho: float, *, seed: int | None = None) -> np.ndarray:
    r"""``n`` unit vectors in :math:`\mathbb R^d` with :math:`\langle x_i, x_j\rangle = \rho` for all i ≠ j.

    With :math:`e_i` the standard basis of :math:`\mathbb R^n` and :math:`\mathbf 1 = \sum_i e_i`,

    .. math::

        x_i = b\,e_i + \gamma\,\mathbf 1,\qquad b = \sqrt{1-\rho},\qquad
        \gamma = \frac{a}{\sqrt n} - \frac{b}{n},\qquad a = \sqrt{\frac{1 + (n-1)\rho}{n}},

    i.e. :math:`x_i = a\,\mathbf 1/\sqrt n + b\,(e_i - \mathbf 1/n)`, so
    :math:`|x_i|^2 = a^2 + b^2(1-1/n) = 1` and :math:`\langle x_i,x_j\rangle = a^2 - b^2/n = \rho`.
    Such a configuration exists iff :math:`-1/(n-1) \le \rho \le 1`; its span has dimension
    :math:`n` for :math:`-1/(n-1) < \rho < 1`, :math:`n-1` at :math:`\rho = -1/(n-1)` (regular
    simplex) and 1 at :math:`\rho = 1`, which must not exceed ``d``. The points are expressed in
    an orthonormal basis of their span (padded with zeros to ``d`` coordinates) and, if ``seed``
    is given, rotated by a Haar-random orthogonal matrix.

    Parameters
    ----------
    n : int
        Number of tokens, >= 2.
    d : int
        Dimension, >= the span dimension above (so ``d >= n`` for generic ``rho``).
    rho : float
        Common inner product in ``[-1/(n-1), 1]``.
    seed : int or None
        If given, apply a seeded random rotation.

    Returns
    -------
    ndarray, shape (n, d)

    References
    ----------
    arXiv:2512.01868 (equiangular reduction), arXiv:2312.10794 (high-dimensional start);
    ``derivations/equiangular.md``.
    """
    n = _positive_int(n, "n", 2)
    d = _positive_int(d, "d", 2)
    validate.memory("n", 8.0 * 4 * n * max(n, d), f"n = {n} equiangular vectors: lower n")
    rho = validate.real("rho", rho, allow_inf=True) if not isinstance(rho, float) else rho
    lo = -1.0 / (n - 1)
    if not math.isfinite(rho) or rho > 1.0 or rho < lo - 1e-15:
        raise ValueError(f"rho: an equiangular family of n={n} unit vectors needs {lo:.6g} <= rho <= 1, got {rho}")
    rho = max(rho, lo)
    q = 1.0 + (n - 1) * rho  # 0 for the regular simplex; -1/(n-1) is inexact in float64, so round within n eps
    if abs(q) <= 4.0 * n * np.finfo(float).eps:
        q = 0.0
    a = math.sqrt(max(0.0, q / n))
    b = math.sqrt(1.0 - rho)
    x = b * np.eye(n) + (a / math.sqrt(n) - b / n) * np.ones((n, n))
    rank = 1 if b == 0.0 else (n - 1 if a == 0.0 else n)
    if rank > d:
        raise ValueError(
            f"d: n={n} equiangular vectors with rho={rho} span {rank} dimensions, but d={d}; "
            f"use d >= {rank} (or rho = 1, or rho = -1/(n-1) with d >= n-1)"
        )
    # coordinates in an orthonormal basis of the span (deterministic: right singular vectors)
    _, _, vt = np.linalg.svd(x)
    coords = x @ vt[:rank].T
    out = np.zeros((n, d))
    out[:, :rank] = coords
    if seed is not None:
        out = out @ _haar_orthogonal(d, np.random.default_rng(_seed(seed))).T
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def random_angles(n: int | tuple[int, int], seed: int | None = 0) -> np.ndarray:
    r"""iid uniform angles on the circle :math:`\mathbb T = \mathbb R/2\pi\mathbb Z`.

    .. math::

        \theta_i \sim \mathrm{Unif}[0, 2\pi)\ \text{iid}.

    Parameters
    ----------
    n : int or (P, N)
        Number of tokens, or a ``(P, N)`` batch of P independent sequences of N tokens.
    seed : int or None

    Returns
    -------
    ndarray, shape (n,) or (P, N)

    References
    ----------
    arXiv:2605.09213 (iid uniform tokens, main case); arXiv:2512.01868 (circle models).
    """
    if isinstance(n, tuple):
        if len(n) != 2:
            raise ValueError(f"n: give an int or a (P, N) pair, got {n!r}")
        shape = (_positive_int(n[0], "n[0]"), _positive_int(n[1], "n[1]"))
    else:
        shape = (_positive_int(n, "n"),)
    validate.memory("n", 8.0 * math.prod(shape), f"{math.prod(shape):.3g} angles: lower n")
    rng = np.random.default_rng(_seed(seed))
    return rng.uniform(0.0, 2.0 * np.pi, size=shape)
