r"""Hardmax self-attention (:math:`\beta = \infty`) in :math:`\mathbb R^d`: a contextual flow map outside
the transformer (smooth mean-field) class, and its exact mean-field map on corner cubes.

The :math:`\beta\to\infty` limit of self-attention with :math:`Q = K = V = I` (arXiv 2508.09628,
Attention's forward pass and Frank-Wolfe) moves each token towards the token of largest score:

.. math::

    \dot x_i = x_{j^*(i)} - x_i,\qquad j^*(i) = \operatorname*{arg\,max}_j \langle x_i, x_j\rangle,

and in the mean-field limit towards :math:`\operatorname{arg\,max}_{y\in\operatorname{supp}\mu}\langle x, y\rangle`.
The field depends on the context :math:`\mu` through an extreme point of its support, not through an
integral :math:`\int k(x,y)\,d\mu(y)`; the finite-:math:`n` field therefore errs by the distance of the
sample's extreme point from the support's, :math:`\asymp n^{-1/d}` for a density bounded below near a
corner -- the general rate of propagation of chaos for contextual flow maps (arXiv 2605.16747), instead
of the :math:`n^{-1/2}` of the transformer class.

Initial law (chosen here): :math:`\mu_0` uniform on the :math:`2^d` corner cubes
:math:`C_s = \{x: s_k x_k\in[\tfrac12, 1]\}`, :math:`s\in\{\pm1\}^d`.  For :math:`x\in C_s` the maximiser
of :math:`\langle x, y\rangle` over :math:`\bigcup_s C_s` is the vertex :math:`s`, which stays in the
support of :math:`\mu_t` (each cube contracts towards its vertex), so the mean-field field is
:math:`s - x` for all :math:`t`.  With explicit Euler steps :math:`h` (the scheme used for the
particles, so that the scheme's error is common to both):

.. math:: \Phi_k(x_0) = s + (1-h)^k (x_0 - s),\qquad s = \operatorname{sign}(x_0).

References
----------
arXiv 2508.09628 (hardmax attention, Frank-Wolfe); arXiv 2605.16747 (propagation of chaos for
contextual flow maps, rate :math:`n^{-1/d}`); Fournier & Guillin, PTRF 162 (2015) (empirical measures).
"""

from __future__ import annotations

import numpy as np

from attnflow._base.validate import real, real_array

__all__ = ["hardmax_velocity", "hardmax_flow", "corner_hardmax_flow", "corner_cubes_sample", "corner_meanfield_map"]


def _points(x, name: str = "x") -> np.ndarray:
    a = real_array(name, x)
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"{name}: expected an (n, d) array of points, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: contains NaN or inf; pass finite coordinates")
    return a


def _steps(dt, steps) -> tuple[float, int]:
    h = real("dt", dt, lo=0.0, lo_strict=True, hi=1.0)
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps: must be a non-negative integer, got {steps!r}")
    return h, int(steps)


def hardmax_velocity(x) -> np.ndarray:
    r"""The hardmax attention field :math:`v_i = x_{j^*(i)} - x_i`, :math:`j^* = \arg\max_j\langle x_i,x_j\rangle`.

    Ties go to the smallest index (``numpy.argmax``); the token itself takes part in the maximum.

    References
    ----------
    arXiv 2508.09628 (hardmax limit of self-attention).
    """
    x = _points(x)
    j = np.argmax(x @ x.T, axis=1)
    return x[j] - x


def hardmax_flow(x0, dt: float, steps: int) -> np.ndarray:
    r"""Explicit Euler steps :math:`x \leftarrow x + h\,v(x)` of the hardmax field (:func:`hardmax_velocity`).

    The field is piecewise constant in the selection :math:`j^*` (a Filippov system); Euler with a
    fixed step is the scheme of the mean-field map :func:`corner_meanfield_map` as well.

    References
    ----------
    arXiv 2508.09628.
    """
    x = _points(x0, "x0").copy()
    h, k = _steps(dt, steps)
    for _ in range(k):
        j = np.argmax(x @ x.T, axis=1)
        x += h * (x[j] - x)
    return x


def corner_hardmax_flow(x0, dt: float, steps: int) -> np.ndarray:
    r""":func:`hardmax_flow` for tokens in one corner cube :math:`[\tfrac12, 1]^d`, with an exact candidate filter.

    For :math:`x_i, y \in [\tfrac12,1]^d`: :math:`\langle x_i, y\rangle = \langle x_i, \mathbf 1\rangle
    - \langle x_i, \mathbf 1 - y\rangle` and :math:`\tfrac12|\mathbf 1-y|_1 \le \langle x_i,\mathbf 1-y\rangle
    \le |\mathbf 1-y|_1`, so the maximiser :math:`y^*` satisfies :math:`|\mathbf 1-y^*|_1 \le 2\min_j|\mathbf 1-x_j|_1`:
    only those tokens are scored (:math:`O(n c)` instead of :math:`O(n^2)`; the same selection, ties to the
    smallest index).  Euler steps keep the cube (each step is a convex combination of two of its points).

    References
    ----------
    arXiv 2508.09628 (hardmax attention); module docstring.
    """
    x = _points(x0, "x0").copy()
    h, k = _steps(dt, steps)
    if np.any(x < 0.5 - 1e-12) or np.any(x > 1.0 + 1e-12):
        raise ValueError("x0: every coordinate must lie in [1/2, 1] (one corner cube)")
    for _ in range(k):
        gap = np.sum(1.0 - x, axis=1)
        cand = np.flatnonzero(gap <= 2.0 * gap.min() * (1 + 1e-12) + 1e-300)
        j = cand[np.argmax(x @ x[cand].T, axis=1)]
        x += h * (x[j] - x)
    return x


def corner_cubes_sample(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    r"""``n`` i.i.d. points of :math:`\mu_0`, uniform on the corner cubes :math:`\bigcup_s s\odot[\tfrac12,1]^d`.

    References
    ----------
    Module docstring (initial law of the hardmax chaos experiment).
    """
    for name, v, lo in (("n", n, 1), ("d", d, 1)):
        if isinstance(v, bool) or int(v) != v or v < lo:
            raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng: expected a numpy.random.Generator (numpy.random.default_rng(seed))")
    s = rng.choice([-1.0, 1.0], size=(int(n), int(d)))
    return s * rng.uniform(0.5, 1.0, size=(int(n), int(d)))


def corner_meanfield_map(x0, dt: float, steps: int) -> np.ndarray:
    r"""The Euler mean-field map :math:`\Phi_k(x_0) = s + (1-h)^k(x_0 - s)`, :math:`s = \operatorname{sign}(x_0)`.

    Valid for :math:`\mu_0` supported on the corner cubes (module docstring): every point of
    :math:`C_s` moves towards the vertex :math:`s`, which maximises :math:`\langle x,\cdot\rangle` over
    the support at all times.

    References
    ----------
    arXiv 2508.09628; arXiv 2605.16747 (the mean-field flow map of a contextual map).
    """
    x = _points(x0, "x0")
    h, k = _steps(dt, steps)
    if np.any(np.abs(x) < 0.5 - 1e-12) or np.any(np.abs(x) > 1.0 + 1e-12):
        raise ValueError("x0: every coordinate must satisfy 1/2 <= |x_k| <= 1 (the corner cubes)")
    s = np.sign(x)
    return s + (1.0 - h) ** k * (x - s)
