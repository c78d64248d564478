r"""Long-context helpers: one attention layer on equiangular inputs
(arXiv:2510.05554; ``derivations/long_context.md``).

For unit inputs with :math:`\langle x_i,x_j\rangle=\rho`, outputs :math:`\sum_j A_{ij}x_j=r_i\theta_i`
(V = I) satisfy, with :math:`r=e^{\beta(1-\rho)}` and :math:`a=1+(n-1)\rho`,

.. math:: \langle\theta_i,\theta_j\rangle = \frac{(r-1)^2\rho + (2(r-1)+n)a}{(r-1)^2 + (2(r-1)+n)a}.

References
----------
arXiv:2510.05554, arXiv:2512.01868; ``derivations/long_context.md``.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from attnflow.numerics._reference import softmax_attention
from attnflow.symbolic import long_context as LC
from attnflow.properties.strategies import random_orthogonal

__all__ = ["finite_n_overlap", "explicit_overlaps", "stated_limit", "overlap_expression"]


@functools.lru_cache(maxsize=None)
def _stated_overlap():
    n, beta, rho = sp.symbols("n beta rho", positive=True)
    return sp.lambdify((n, beta, rho), LC.output_cosine_stated(n_=n, beta_=beta, rho_=rho), "math")


def finite_n_overlap(n: int, rho: float, beta: float) -> float:
    r"""Finite-n output overlap :math:`\langle\theta_i,\theta_j\rangle`: the package's stated expression
    (:func:`attnflow.symbolic.long_context.output_cosine_stated`, lambdified), :math:`r=e^{\beta(1-\rho)}`,
    :math:`a=1+(n-1)\rho`:

    .. math:: \langle\theta_i,\theta_j\rangle = \frac{(r-1)^2\rho + (2(r-1)+n)a}{(r-1)^2 + (2(r-1)+n)a}.

    Valid while :math:`\beta(1-\rho) < 350` (so that :math:`r^2` is a finite float).

    References
    ----------
    arXiv:2512.01868, arXiv:2510.05554; ``derivations/long_context.md``.
    """
    return float(_stated_overlap()(n, beta, rho))


def explicit_overlaps(n: int, rho: float, beta: float, d: int, seed: int) -> np.ndarray:
    """Gram matrix of the normalised outputs of one explicit softmax layer on equiangular inputs.

    References
    ----------
    arXiv:2512.01868, arXiv:2510.05554; ``derivations/long_context.md``.
    """
    g = (1.0 - rho) * np.eye(n) + rho * np.ones((n, n))
    x = np.linalg.cholesky(g)
    if d > n:
        x = np.hstack([x, np.zeros((n, d - n))])
    x = x @ random_orthogonal(np.random.default_rng(seed), d).T
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = softmax_attention(x, beta)[0]  # explicit softmax layer, V = I
    theta = y / np.linalg.norm(y, axis=1, keepdims=True)
    return theta @ theta.T


def stated_limit(gamma, rho):
    r"""The stated limit (``derivations/long_context.md``) for rational ``gamma``, ``rho`` (SymPy numbers):

    .. math:: \lim_{n\to\infty}\langle\theta_i,\theta_j\rangle = 1\ (\gamma<\tfrac1{1-\rho}),\quad
              \tfrac{4\rho}{1+3\rho}\ (\gamma=\tfrac1{1-\rho}),\quad \rho\ (\gamma>\tfrac1{1-\rho}).

    The package's statement :func:`attnflow.symbolic.long_context.long_context_limit`.

    References
    ----------
    arXiv:2510.05554, arXiv:2512.01868; ``derivations/long_context.md``.
    """
    return sp.nsimplify(LC.long_context_limit(gamma, rho))


def overlap_expression(n, beta, rho):
    r"""SymPy expression of the finite-n overlap (``derivations/long_context.md``), :math:`r=e^{\beta(1-\rho)}`, :math:`a=1+(n-1)\rho`:

    .. math:: \langle\theta_i,\theta_j\rangle = \frac{(r-1)^2\rho + (2(r-1)+n)a}{(r-1)^2 + (2(r-1)+n)a}.

    The package's statement :func:`attnflow.symbolic.long_context.output_cosine_stated`.

    References
    ----------
    arXiv:2510.05554, arXiv:2512.01868; ``derivations/long_context.md``.
    """
    return LC.output_cosine_stated(n_=n, beta_=beta, rho_=rho)
