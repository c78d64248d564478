"""Gram-matrix algebra for equiangular configurations (private helper of the clustering topics).

Two independent routes to the dynamics of inner products:

* :class:`EquiangularSpan` -- general ``n``: every vector that occurs is a combination of
  ``x_i``, ``x_k`` and ``S = sum_j x_j`` (``i != k``), whose Gram matrix follows from
  ``<x_i, x_j> = rho`` by counting (``<S, x_k> = 1 + (n-1) rho``, ``|S|^2 = n + n(n-1) rho``);
* :func:`gram_velocity` -- concrete ``n``: ``dx_i/dt = sum_j C_ij x_j`` with coefficients built from
  the explicit ``n x n`` Gram matrix, hence ``dG/dt = C G + G C^T`` entry by entry.
"""

from __future__ import annotations

import sympy as sp

from attnflow.symbolic.models import self_attention_kind

__all__ = ["EquiangularSpan", "gram_velocity", "equiangular_gram"]


class EquiangularSpan:
    r"""Vectors in :math:`\mathrm{span}\{x_i, x_k, S\}` for an equiangular configuration.

    A vector is a coefficient triple ``(a, b, c)`` meaning :math:`a x_i + b x_k + c S`;
    :meth:`inner` evaluates inner products with the Gram matrix

    .. math::

        G = \begin{pmatrix} 1 & \rho & 1+(n-1)\rho \\ \rho & 1 & 1+(n-1)\rho \\
        1+(n-1)\rho & 1+(n-1)\rho & n + n(n-1)\rho \end{pmatrix}.

    References
    ----------
    arXiv 2512.01868 (equiangular reduction); ``derivations/equiangular.md``.
    """

    def __init__(self, n: sp.Expr, rho: sp.Expr) -> None:
        self.n = n
        self.rho = rho
        # <S, x_k> = <x_k, x_k> + sum over the n-1 other tokens of rho
        self.s_dot_x = 1 + (n - 1) * rho
        # |S|^2 = sum_j <S, x_j> = n (1 + (n-1) rho)
        self.s_dot_s = n * self.s_dot_x
        a = self.s_dot_x
        self.gram = sp.Matrix([[1, rho, a], [rho, 1, a], [a, a, self.s_dot_s]])
        self.xi = sp.Matrix([1, 0, 0])
        self.xk = sp.Matrix([0, 1, 0])
        self.S = sp.Matrix([0, 0, 1])

    def inner(self, u: sp.Matrix, v: sp.Matrix) -> sp.Expr:
        """Inner product of two coefficient vectors."""
        return (u.T * self.gram * v)[0, 0]

    def attention_sum(self, beta: sp.Expr, which: str = "i") -> sp.Matrix:
        r""":math:`\sum_j e^{\beta\langle x_i, x_j\rangle} x_j = e^\beta x_i + e^{\beta\rho}(S - x_i)`."""
        x = self.xi if which == "i" else self.xk
        return sp.exp(beta) * x + sp.exp(beta * self.rho) * (self.S - x)

    def partition(self, beta: sp.Expr) -> sp.Expr:
        r""":math:`Z_i = \sum_j e^{\beta\langle x_i,x_j\rangle} = e^\beta + (n-1) e^{\beta\rho}`."""
        return sp.exp(beta) + (self.n - 1) * sp.exp(beta * self.rho)

    def project(self, x: sp.Matrix, v: sp.Matrix) -> sp.Matrix:
        r"""Tangent projection :math:`P_x v = v - \langle x, v\rangle x` (``x`` a unit vector)."""
        return v - self.inner(x, v) * x


def equiangular_gram(n: int, rho: sp.Expr) -> sp.Matrix:
    """The explicit ``n x n`` Gram matrix with ones on the diagonal and ``rho`` elsewhere."""
    return sp.Matrix(n, n, lambda i, j: 1 if i == j else rho)


def gram_velocity(G: sp.Matrix, beta: sp.Expr, kind: str) -> sp.Matrix:
    r"""Time derivative of the Gram matrix along SA or USA, from the Gram matrix alone.

    With :math:`\dot x_i = \sum_j C_{ij} x_j`,

    .. math::

        C_{ij} = w_i\, e^{\beta G_{ij}} - \delta_{ij}\, w_i \sum_m e^{\beta G_{im}} G_{im},\qquad
        \dot G = C G + G C^{\mathsf T},

    where :math:`w_i = 1/Z_i` (SA) or :math:`1/n` (USA).

    References
    ----------
    arXiv 2312.10794 (SA), 2512.01868 (USA).
    """
    n = G.shape[0]
    C = sp.zeros(n, n)
    for i in range(n):
        weights = [sp.exp(beta * G[i, j]) for j in range(n)]
        w = 1 / sum(weights) if self_attention_kind(kind.lower(), "kind") == "softmax" else sp.Rational(1, n)
        radial = w * sum(weights[m] * G[i, m] for m in range(n))
        for j in range(n):
            C[i, j] = w * weights[j] - (radial if i == j else 0)
    return C * G + G * C.T
