r"""Explicit-coordinate versions of the energies and velocity fields (small n, d).

Everything here is written with explicit coordinate symbols :math:`x_{i,k}` in
:math:`\mathbb{R}^d`, so that :math:`dE/dt = \sum_i \nabla_{x_i}E\cdot\dot x_i` can be formed by
plain partial differentiation (the Euclidean gradient, diagonal terms included).  After
differentiation every exponential :math:`e^{\beta\langle x_i, M x_j\rangle}` is replaced by a
weight symbol :math:`w_{ij}` and the residual's numerator is reduced modulo the sphere
constraints :math:`|x_i|^2 = 1` (substituting :math:`x_{i,d}^2 = 1-\sum_{k<d}x_{i,k}^2`; the
generators involve disjoint variables, so they form a Gröbner basis and the remainder is 0 exactly when the residual vanishes on
:math:`(S^{d-1})^n` (for every value of the weights, which is a stronger statement).

References
----------
arXiv 2312.10794 §3 and 2512.01868 (gradient-flow structure); ``derivations/energy.md``
(``energy.dissipation.*``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

__all__ = [
    "coordinates",
    "bilinear",
    "energy_explicit",
    "attention_field",
    "chain_rule_rate",
    "sphere_reduce",
    "weights_to_symbols",
]

beta = sp.Symbol("beta", positive=True)


def coordinates(n: int, d: int, name: str = "x") -> list[sp.Matrix]:
    """Column vectors of coordinate symbols ``x_{i}_{k}`` (i = 1..n, k = 1..d)."""
    if n < 1 or d < 1:
        raise ValueError("n, d: sizes must be positive integers")
    return [sp.Matrix([sp.Symbol(f"{name}{i}_{k}", real=True) for k in range(1, d + 1)]) for i in range(1, n + 1)]


def bilinear(u: sp.Matrix, M: sp.Matrix, v: sp.Matrix) -> sp.Expr:
    r""":math:`\langle u, M v\rangle`, expanded (canonical form, so equal exponents are equal atoms)."""
    return sp.expand((u.T * M * v)[0, 0])


def energy_explicit(X: Sequence[sp.Matrix], M: sp.Matrix, b: sp.Expr = beta) -> sp.Expr:
    r"""Particle energy :math:`E = \frac{1}{2\beta}\sum_{i,j} e^{\beta\langle x_i, M x_j\rangle}`."""
    return sum(sp.exp(b * bilinear(xi, M, xj)) for xi in X for xj in X) / (2 * b)


def attention_field(
    X: Sequence[sp.Matrix],
    M: sp.Matrix,
    V: sp.Matrix,
    *,
    normalised: bool,
    b: sp.Expr = beta,
    normalisers: Sequence[sp.Expr] | None = None,
) -> list[sp.Matrix]:
    r"""Velocities :math:`\dot x_i = P_{x_i}\big(c_i^{-1}\sum_j e^{\beta\langle x_i, M x_j\rangle} V x_j\big)`.

    :math:`c_i = Z_i = \sum_k e^{\beta\langle x_i, M x_k\rangle}` if ``normalised`` (SA),
    :math:`c_i = n` otherwise (USA); :math:`M = Q^\top K`.  ``normalisers`` overrides :math:`c_i`
    (e.g. independent symbols :math:`z_i`, to prove an identity for every positive normaliser).
    """
    n = len(X)
    out = []
    for i, xi in enumerate(X):
        ws = [sp.exp(b * bilinear(xi, M, xj)) for xj in X]
        f = sum((w * (V * xj) for w, xj in zip(ws, X)), sp.zeros(len(xi), 1))
        if normalisers is not None:
            c = normalisers[i]
        else:
            c = sum(ws) if normalised else sp.Integer(n)
        g = f / c
        out.append(g - xi * (xi.T * g)[0, 0])
    return out


def chain_rule_rate(E: sp.Expr, X: Sequence[sp.Matrix], V: Sequence[sp.Matrix]) -> sp.Expr:
    r""":math:`\frac{dE}{dt} = \sum_i \sum_k \frac{\partial E}{\partial x_{i,k}}\,\dot x_{i,k}`."""
    return sum(sp.diff(E, xi[k]) * vi[k] for xi, vi in zip(X, V) for k in range(len(xi)))


def weights_to_symbols(expr: sp.Expr, X: Sequence[sp.Matrix], Ms: Sequence[sp.Matrix], b: sp.Expr = beta):
    r"""Replace :math:`e^{\beta\langle x_i, M_h x_j\rangle}` by symbols ``w{h}_{i}{j}``; returns (expr, symbols)."""
    rep = {}
    for h, M in enumerate(Ms):
        for i, xi in enumerate(X):
            for j, xj in enumerate(X):
                e = sp.exp(b * bilinear(xi, M, xj))
                if e not in rep:
                    rep[e] = sp.Symbol(f"w{h}_{i + 1}{j + 1}", positive=True)
    out = expr.xreplace(rep)
    leftover = [a for a in out.atoms(sp.exp)]
    if leftover:
        raise RuntimeError(f"unreplaced exponentials: {leftover[:2]}")
    return out, sorted(set(rep.values()), key=lambda s: s.name)


def sphere_reduce(expr: sp.Expr, X: Sequence[sp.Matrix]) -> sp.Expr:
    r"""Numerator of ``expr`` reduced modulo :math:`|x_i|^2 - 1` (0 iff expr vanishes on the spheres).

    The expression is converted to a rational function over :math:`\mathbb{Q}` in all its
    symbols (sparse polynomial arithmetic, fast), and its numerator is divided by the
    :math:`|x_i|^2 - 1` in the lex order with the last coordinates :math:`x_{i,d}` largest; the
    leading terms :math:`x_{i,d}^2` are pairwise coprime, so these generators are a Gröbner basis
    and the remainder is the unique normal form.
    """
    lasts = [xi[len(xi) - 1] for xi in X]
    coords = {c for xi in X for c in xi}
    others = sorted((expr.free_symbols | coords) - set(lasts), key=lambda s: s.name)
    K, *_ = sp.field(lasts + others, sp.QQ)
    num = K.from_expr(expr).numer
    R = num.ring
    G = [R.from_expr(sp.expand((xi.T * xi)[0, 0] - 1)) for xi in X]
    return R.to_sympy(num.rem(G)) if hasattr(R, "to_sympy") else num.rem(G).as_expr()
