r"""The Knöthe--Rosenblatt map of :mod:`attnflow.symbolic.transport` realised by a perceptron flow.

:math:`\mu = \mathrm{Unif}([-1,1]^2)`, :math:`T = D\circ S`, :math:`S(x) = (x_1, x_2 + m(x_1))`,
:math:`D(x) = (h(x_1), x_2)` (the profiles ``h``, ``m`` are the SymPy expressions of
:func:`attnflow.symbolic.transport.kr_factors`, lambdified).  With :math:`K` uniform intervals on
:math:`[-1,1]`, the flow of :math:`N = 2(K+1)` perceptron pieces (:func:`kr_flow_pieces`: first the shear
pieces of :math:`m_K`, then the aligned pieces of :math:`h_K`) is exactly
:math:`T_K = (h_K(x_1), x_2 + m_K(x_1))`, the piecewise-linear interpolants of the profiles, so

.. math::
    \sup_{[-1,1]^2}|T_K - T| \le \frac{\Delta^2}{8}\sqrt{\max|h''|^2 + \max|m''|^2},\qquad \Delta = 2/K,

and :math:`W_2(T_K\#\mu, T\#\mu)\le\|T_K - T\|_{L^2(\mu)}` (the coupling :math:`(T_K, T)\#\mu`).

References
----------
arXiv 2602.08606 (perceptron flows with piecewise-constant weights approximating a diffeomorphism and its
pushforward; polar-like decomposition); ``derivations/transport.md``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from attnflow._base import validate
from attnflow.numerics.flows._construct import monotone_pieces, shear_pieces
from attnflow.numerics.flows._perceptron import Piece, flow_map

__all__ = ["kr_map", "kr_profiles", "kr_flow_pieces", "kr_errors", "kr_error_bound", "banana_map", "banana_errors"]


@functools.lru_cache(maxsize=None)
def kr_profiles(b: float = 1.0):
    """``(h, m, h'', m'')`` as NumPy functions of ``x_1`` (lambdified from the SymPy statement)."""
    import sympy as sp

    from attnflow.symbolic import transport as T

    validate.real("b", b, lo=0.0, lo_strict=True)
    h, m = T.kr_factors(sp.Float(b))
    f = [sp.lambdify(T.x1, e, "numpy") for e in (h, m, sp.diff(h, T.x1, 2), sp.diff(m, T.x1, 2))]
    return tuple(f)


def kr_map(x, b: float = 1.0) -> np.ndarray:
    r"""The KR map :math:`T(x) = (h(x_1), x_2 + m(x_1))` at the points ``x`` (n, 2)."""
    h, m, _, _ = kr_profiles(float(b))
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x: expected points of shape (n, 2), got {x.shape}")
    return np.column_stack([h(x[:, 0]), x[:, 1] + m(x[:, 0])])


def _intervals(K) -> int:
    validate.integer("K", K, minimum=1)
    return int(K)


def kr_flow_pieces(K: int, b: float = 1.0) -> list[Piece]:
    r"""The :math:`2(K+1)` perceptron pieces whose flow is :math:`T_K` (shear of :math:`m_K`, then :math:`h_K`)."""
    K = _intervals(K)
    h, m, _, _ = kr_profiles(float(b))
    nodes = np.linspace(-1.0, 1.0, K + 1)
    e1, e2 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    return shear_pieces(nodes, m(nodes), e1, e2) + monotone_pieces(nodes, h(nodes), e1)


def kr_error_bound(K: int, b: float = 1.0) -> float:
    r""":math:`(\Delta^2/8)\sqrt{\max|h''|^2+\max|m''|^2}` (the bound of
    :func:`attnflow.symbolic.transport.interpolation_bound` per component) with the maxima over a grid of
    :math:`[-1,1]` containing the end points (``|h''| = |\sinh|`` and ``|m''| = 2b\cosh 2x_1`` peak there)."""
    K = _intervals(K)
    _, _, h2, m2 = kr_profiles(float(b))
    s = np.linspace(-1.0, 1.0, 2001)
    bound = _interpolation_bound()
    eh, em = (bound(float(np.max(np.abs(f(s)))), 2.0 / K) for f in (h2, m2))
    return math.hypot(eh, em)


@functools.lru_cache(maxsize=None)
def _interpolation_bound():
    """``(M, Delta) -> M Delta^2 / 8``, lambdified from :func:`attnflow.symbolic.transport.interpolation_bound`."""
    import sympy as sp

    from attnflow.symbolic import transport as T

    return sp.lambdify((T.M, T.delta), T.interpolation_bound(), "math")


def kr_errors(K: int, b: float = 1.0, *, n: int = 400, seed: int = 0, w2: bool = True) -> dict[str, float]:
    r"""Errors of the perceptron flow with :math:`K` intervals against the KR map.

    ``linf``: max over a 2-D grid (the :math:`x_1` nodes and midpoints of a 16-fold refinement);
    ``l1``, ``l2``: :math:`\|\Phi - T\|_{L^p(\mu)}` by a composite 4-point Gauss--Legendre rule on each
    of the :math:`16K` sub-intervals in :math:`x_1` (the error depends on :math:`x_1` only; exact up to
    the quadrature of smooth pieces); ``w2``: :math:`W_2(\Phi\#\mu_n, T\#\mu_n)` for ``n`` seeded
    uniform samples (Euclidean assignment), and ``l2_samples`` the coupling bound on those samples;
    ``pieces`` (:math:`2(K+1)`) and ``switches`` (pieces - 1).
    """
    from attnflow.numerics.wasserstein import wasserstein

    K = _intervals(K)
    pieces = kr_flow_pieces(K, b)
    sub = 16 * K
    edges = np.linspace(-1.0, 1.0, sub + 1)
    g, gw = np.polynomial.legendre.leggauss(4)
    mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    q1 = (mid[:, None] + half[:, None] * g[None, :]).ravel()
    qw = (half[:, None] * gw[None, :]).ravel() / 2.0  # mu_1 = dx_1 / 2
    x2 = np.linspace(-1.0, 1.0, 3)
    pts = np.array([(a, c) for a in q1 for c in x2])
    err = np.linalg.norm(flow_map(pieces, pts) - kr_map(pts, b), axis=1).reshape(len(q1), len(x2))
    e1 = err.max(axis=1)
    grid1 = np.unique(np.concatenate([edges, mid]))
    gpts = np.array([(a, c) for a in grid1 for c in x2])
    out = {
        "pieces": float(len(pieces)),
        "switches": float(len(pieces) - 1),
        "linf": float(np.linalg.norm(flow_map(pieces, gpts) - kr_map(gpts, b), axis=1).max()),
        "l1": float(qw @ e1),
        "l2": float(math.sqrt(qw @ e1**2)),
        "bound": kr_error_bound(K, b),
    }
    if w2:
        xs = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(int(n), 2))
        a, t = flow_map(pieces, xs), kr_map(xs, b)
        out["w2"] = wasserstein(a, t, metric="euclidean")
        out["l2_samples"] = float(math.sqrt(np.mean(np.sum((a - t) ** 2, axis=1))))
    return out



@functools.lru_cache(maxsize=None)
def _banana(b: float):
    import sympy as sp

    from attnflow.symbolic import transport as T

    T1, T2 = T.gaussian_banana_map(sp.Float(b))
    return sp.lambdify((T.x1, T.x2), T2 - T.x2, "numpy")  # the shear profile b (x1^2 - 1)


def banana_map(x, b: float = 1.0) -> np.ndarray:
    r"""The KR map :math:`T_G(x) = (x_1, x_2 + b(x_1^2-1))` of :math:`N(0,I_2)` onto the Gaussian banana
    (lambdified from :func:`attnflow.symbolic.transport.gaussian_banana_map`)."""
    validate.real("b", b, lo=0.0, lo_strict=True)
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x: expected points of shape (n, 2), got {x.shape}")
    g = _banana(float(b))(x[:, 0], x[:, 1])
    return np.column_stack([x[:, 0], x[:, 1] + np.broadcast_to(g, x[:, 0].shape)])


def banana_errors(K: int, b: float = 1.0, *, n: int = 300, seed: int = 0) -> dict[str, float]:
    r"""Perceptron-flow errors for the Gaussian banana: :math:`K+2` two-sided shear pieces.

    Nodes on :math:`[-R_K, R_K]`, :math:`R_K = 2\sqrt{\log K}` (the Gaussian mass beyond is
    :math:`\lesssim K^{-2}`), linear beyond both ends.  ``l1``, ``l2``: :math:`\|\Phi-T_G\|_{L^p(N(0,I))}` by a
    composite 4-point Gauss--Legendre rule in :math:`x_1` on :math:`[-12, 12]` (the error depends on
    :math:`x_1` only); ``w2``: :math:`W_2(\Phi\#\mu_n, T_G\#\mu_n)` for ``n`` seeded Gaussian samples.

    References
    ----------
    arXiv 2602.08606 (approximating :math:`\phi` and :math:`\phi_\#\mu` in :math:`L^p` and :math:`W_2`).
    """
    from attnflow.numerics.wasserstein import wasserstein

    K = _intervals(K)
    R = 2.0 * math.sqrt(math.log(max(K, 2)))
    nodes = np.linspace(-R, R, K + 1)
    prof = _banana(float(b))
    pieces = shear_pieces(nodes, prof(nodes, 0.0) * np.ones_like(nodes), np.array([1.0, 0.0]), np.array([0.0, 1.0]),
                          two_sided=True)
    edges = np.unique(np.concatenate([np.linspace(-12.0, 12.0, 481), nodes]))
    g, gw = np.polynomial.legendre.leggauss(4)
    mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    q1 = (mid[:, None] + half[:, None] * g[None, :]).ravel()
    qw = (half[:, None] * gw[None, :]).ravel() * np.exp(-q1**2 / 2) / math.sqrt(2 * math.pi)
    pts = np.column_stack([q1, np.zeros_like(q1)])
    err = np.linalg.norm(flow_map(pieces, pts) - banana_map(pts, b), axis=1)
    xs = np.random.default_rng(seed).standard_normal((int(n), 2))
    a, t = flow_map(pieces, xs), banana_map(xs, b)
    return {"pieces": float(len(pieces)), "switches": float(len(pieces) - 1), "R": R,
            "l1": float(qw @ err), "l2": float(math.sqrt(qw @ err**2)),
            "w2": wasserstein(a, t, metric="euclidean"),
            "l2_samples": float(math.sqrt(np.mean(np.sum((a - t) ** 2, axis=1))))}
