r"""SymPy definitions of the particle models: pairwise logits, weights, values, energies.

This module is the single symbolic source of the numerical kernels.  It has two layers.

**Pair expressions** (:data:`KERNEL_EXPRESSIONS`).  Every fused kernel streams over pairs
``(i, j)`` and evaluates a few scalar expressions per pair.  They are stated here in terms of
scalar symbols whose names are the variable names used by the kernel templates
(``s`` = an inner product such as :math:`\langle Qx_i, Kx_j\rangle`, ``l`` = the logit,
``m`` = the running maximum logit, ``dl`` = :math:`\theta_i-\theta_j`, ``g`` = the position gap
:math:`j-k`, ...).  :mod:`attnflow.symbolic.codegen` prints them with the numba printer into the
templates; the expression hash and operation count of each kernel are written into its header.
The circle expressions are *derived* from the sphere ones by embedding
:math:`x=(\cos\theta,\sin\theta)` (see :func:`circle_derivation_checks`), and the ALiBi content
factor :math:`w_\beta'` is obtained by differentiating :math:`w_\beta = e^{\beta\cos\theta}`.

**Full expressions for concrete sizes** (:func:`velocity_matrix`, :func:`energy_expr`).  For
small ``n`` and ``d`` the complete velocity field and energy are built by explicit sums straight
from the formulas of the theory notes.  They share nothing with the kernel templates and are
evaluated with mpmath in the tests, an independent route to the expected values.

The normalisation schemes (Pre-LN, Peri-LN) in the radial/angular variables :math:`x=r\theta` are
reduced to Euclidean fields in :func:`normalisation_checks`: Pre-LN gives :math:`\dot x_i=A_i`
exactly and Peri-LN :math:`\dot x_i=A_i/\|A_i\|`.

References
----------
theory notes 01-models.md §1.1-1.7 and 02-energy.md §2.1, §2.4; arXiv 2312.10794 (SA, energy),
2512.01868 (USA, survey), 2605.09213 (causal ALiBi, §1.5 of the notes), 2510.22026 (normalisation),
2605.04279 / 2605.18870 (multi-head; forms derived in the notes); 06-interpolation.md §6.1 and
arXiv 2411.04551 (the attention + perceptron field, family ``interp``).
"""

from __future__ import annotations

import sympy as sp

from attnflow.symbolic.proof import Proof, prove_zero

__all__ = [
    "SYMBOLS",
    "KERNEL_EXPRESSIONS",
    "kernel_source_expr",
    "velocity_matrix",
    "energy_expr",
    "normalisation_checks",
    "circle_derivation_checks",
]

# --------------------------------------------------------------------------------------------
# scalar symbols (names = variable names in the kernel templates)

beta = sp.Symbol("beta", real=True)
s = sp.Symbol("s", real=True)  # an inner product <a_i, b_j> of the kernel's query/key vectors
l = sp.Symbol("l", real=True)  # noqa: E741 - the logit of the current pair
m = sp.Symbol("m", real=True)  # the running maximum logit of row i (online max)
ti = sp.Symbol("ti", real=True)  # theta_i
tj = sp.Symbol("tj", real=True)  # theta_j
dl = sp.Symbol("dl", real=True)  # theta_i - theta_j
lam = sp.Symbol("lam", nonnegative=True)  # ALiBi slope
g = sp.Symbol("g", positive=True)  # position gap j - k >= 1
N = sp.Symbol("N", positive=True, integer=True)  # number of tokens
u = sp.Symbol("u", real=True)  # a perceptron pre-activation (U x_i + b)_r

SYMBOLS = {sym.name: sym for sym in (beta, s, l, m, ti, tj, dl, lam, g, N, u)}


def _w(theta):
    """The circle interaction kernel :math:`w_\\beta(\\theta) = e^{\\beta\\cos\\theta}`."""
    return sp.exp(beta * sp.cos(theta))


def _circle_inner_product() -> sp.Expr:
    """<x_i, x_j> for x = (cos theta, sin theta), simplified to a function of dl = ti - tj."""
    e = sp.cos(ti) * sp.cos(tj) + sp.sin(ti) * sp.sin(tj)
    return sp.simplify(sp.trigsimp(e)).subs(ti, dl + tj)


def _circle_tangent_component() -> sp.Expr:
    """<e_i, x_j> with e_i = (-sin ti, cos ti): the angular speed produced by a unit pull to x_j."""
    e = -sp.sin(ti) * sp.cos(tj) + sp.cos(ti) * sp.sin(tj)
    return sp.simplify(sp.trigsimp(e)).subs(ti, dl + tj)


#: ``{kernel family: {template variable: SymPy expression}}`` - the per-pair scalar expressions.
#: Evaluation order is the insertion order; later expressions may use earlier variables.
KERNEL_EXPRESSIONS: dict[str, dict[str, sp.Expr]] = {
    # softmax attention on the sphere, s = <Q x_i, K x_j> (s = <x_i, x_j> for SA); values V x_j.
    "sphere_softmax": {
        "l": beta * s,
        "w": sp.exp(l - m),
    },
    # unnormalised attention (USA, shared multi-head): (1/n) sum_j e^{l} v_j = e^{m} (1/n) sum_j e^{l-m} v_j
    "sphere_mean": {
        "l": beta * s,
        "w": sp.exp(l - m),
    },
    # energy rows: log sum_j e^{beta <x_i, V x_j>} with an online max
    "sphere_energy": {
        "l": beta * s,
        "w": sp.exp(l - m),
    },
    # USA on the circle (Kuramoto form): dtheta_i/dt = (1/n) sum_j e^{beta cos dl} (-sin dl)
    "circle_mean": {
        "l": beta * _circle_inner_product(),
        "w": sp.exp(l - m),
        "v": _circle_tangent_component(),
    },
    "circle_energy": {
        "l": beta * _circle_inner_product(),
        "w": sp.exp(l - m),
    },
    # causal ALiBi (theory notes 1.5): position weight and the un-normalised content factor w_beta'
    "causal_alibi": {
        "p": sp.exp(-lam * g / N),
        "c": sp.diff(_w(dl), dl),
    },
    # attention + perceptron field of measure-to-measure interpolation (notes §6.1, arXiv 2411.04551):
    # s = <B x_i, x_j> (logit beta s; the paper's field is beta = 1), weight shifted by the online
    # maximum m, and the perceptron activation (u)_+ of the pre-activation u = (U x_i + b)_r.
    "interp": {
        "l": beta * s,
        "w": sp.exp(l - m),
        "h": sp.Max(u, 0),
    },
}


def kernel_source_expr(family: str) -> sp.Tuple:
    """The expressions of one kernel family as a hashable SymPy tuple of ``Eq(variable, expr)``."""
    exprs = KERNEL_EXPRESSIONS[family]
    return sp.Tuple(*(sp.Eq(sp.Symbol(k, real=True), v, evaluate=False) for k, v in exprs.items()))


def circle_derivation_checks() -> dict[str, Proof]:
    r"""Check the circle expressions against the sphere ones under :math:`x=(\cos\theta,\sin\theta)`.

    Returns proofs that :math:`\langle x_i,x_j\rangle=\cos(\theta_i-\theta_j)`, that the angular
    component of :math:`P_{x_i}x_j` is :math:`-\sin(\theta_i-\theta_j)`, and that
    :math:`w_\beta'(\theta)=-\beta\sin\theta\,e^{\beta\cos\theta}` (theory notes §1.4, §1.5).
    """
    sub = {dl: ti - tj}
    ip = sp.cos(ti) * sp.cos(tj) + sp.sin(ti) * sp.sin(tj)
    tang = -sp.sin(ti) * sp.cos(tj) + sp.cos(ti) * sp.sin(tj)
    ex = KERNEL_EXPRESSIONS
    return {
        "inner product": prove_zero(ex["circle_mean"]["l"].subs(sub) - beta * ip),
        "tangent component": prove_zero(ex["circle_mean"]["v"].subs(sub) - tang),
        "alibi content factor": prove_zero(ex["causal_alibi"]["c"] + beta * sp.sin(dl) * sp.exp(beta * sp.cos(dl))),
    }


# --------------------------------------------------------------------------------------------
# normalisation schemes in radial / angular variables


def normalisation_checks() -> dict[str, Proof]:
    r"""Reduce Pre-LN and Peri-LN (theory notes §1.7) to Euclidean fields for :math:`x = r\theta`.

    With :math:`p=\langle\theta,A\rangle` and :math:`a=\|A\|`, coordinate ``k`` of
    :math:`\dot x = \dot r\,\theta + r\dot\theta`:

    * Pre-LN, :math:`\dot r = p`, :math:`\dot\theta = P_\theta A / r`:
      :math:`p\theta_k + (A_k - p\theta_k) = A_k`, i.e. :math:`\dot x_i = A_i`;
    * Peri-LN, :math:`\dot r = p/a`, :math:`\dot\theta = P_\theta A/(r a)`:
      :math:`\dot x_i = A_i/\|A_i\|`.

    The identity is the same in every coordinate with :math:`p` a free symbol, so it holds for
    every dimension ``d``.
    """
    r = sp.Symbol("r", positive=True)
    a = sp.Symbol("a", positive=True)
    p, th, A = sp.symbols("p theta_k A_k", real=True)
    tang = A - p * th  # coordinate k of P_theta A
    pre = p * th + r * (tang / r)
    peri = (p / a) * th + r * (tang / (r * a))
    return {
        "preln: dx/dt = A": prove_zero(pre - A),
        "periln: dx/dt = A/|A|": prove_zero(peri - A / a),
    }


# --------------------------------------------------------------------------------------------
# full expressions for concrete small sizes (independent of the kernel templates)


def _dot(u, v):
    return sum((ui * vi for ui, vi in zip(u, v)), sp.Integer(0))


def _project(x, v):
    c = _dot(x, v)
    return [vk - c * xk for vk, xk in zip(v, x)]


def _matvec(M, v):
    return [sum((M[a, b] * v[b] for b in range(len(v))), sp.Integer(0)) for a in range(M.shape[0])]


def point_symbols(n: int, d: int) -> sp.Matrix:
    """The ``n x d`` matrix of component symbols ``x_{i,k}``."""
    return sp.Matrix(n, d, lambda i, k: sp.Symbol(f"x_{i}_{k}", real=True))


def angle_symbols(n: int) -> list[sp.Symbol]:
    """The angle symbols ``theta_i``."""
    return [sp.Symbol(f"theta_{i}", real=True) for i in range(n)]


def matrix_symbols(name: str, d: int) -> sp.Matrix:
    """A ``d x d`` matrix of symbols ``<name>_{a,b}``."""
    return sp.Matrix(d, d, lambda a, b: sp.Symbol(f"{name}_{a}_{b}", real=True))


def _softmax_average(qi, keys, values):
    logits = [beta * _dot(qi, kj) for kj in keys]
    ws = [sp.exp(lg) for lg in logits]
    Z = sum(ws, sp.Integer(0))
    return [sum((w * v[k] for w, v in zip(ws, values)), sp.Integer(0)) / Z for k in range(len(values[0]))]


def velocity_matrix(model: str, n: int, d: int = 2, *, normalization: str = "shared", heads: int = 2,
                    hidden: int = 2):
    r"""The complete velocity field of ``model`` for ``n`` particles, as explicit SymPy sums.

    Returns ``(symbols, velocity)`` where ``symbols`` is a dict with the state symbols
    (``"x"``: n x d Matrix, or ``"theta"``: list) and parameter symbols (``"Q"``, ``"K"``,
    ``"V"``, ``"M"``: list of matrices, ``"lam"``, ``"alpha"``, ``"t"``; for ``interp``
    ``"V"``, ``"B"`` (d x d), ``"W"`` (d x hidden), ``"U"`` (hidden x d), ``"b"`` (hidden x 1)),
    and ``velocity`` is an n x d Matrix (sphere / Euclidean models) or a list of n expressions
    (angle models).

    .. math::
        \dot x_i = P_{x_i}\Big(Z_i^{-1}\sum_j e^{\beta\langle Qx_i,Kx_j\rangle} V x_j\Big),\quad
        \dot\theta_j = Z_{N,j}^{-1}\sum_{k<j} e^{-\lambda(j-k)/N} w_\beta'(\theta_j-\theta_k), \dots

    and for ``interp`` (attention + perceptron, the paper's field at :math:`\beta = 1`)

    .. math::
        \dot x_i = P_{x_i}\Big(V\,\frac{\sum_j e^{\beta\langle Bx_i,x_j\rangle} x_j}
        {\sum_j e^{\beta\langle Bx_i,x_j\rangle}} + W\max(Ux_i + b, 0)\Big).

    References
    ----------
    theory notes 01-models.md §1.1 (SA, Q/K/V), §1.2 (USA), §1.4 (circle), §1.5 (causal ALiBi),
    §1.6 (multi-head), §1.7 (normalisation), 06-interpolation.md §6.1 (interp); arXiv 2312.10794,
    2605.09213, 2510.22026, 2411.04551 (eq. (1.1)-(1.2)).
    """
    syms: dict = {"beta": beta}
    if model in ("kuramoto", "causal_alibi"):
        th = angle_symbols(n)
        syms["theta"] = th
        if model == "kuramoto":
            vel = [
                -sum((sp.exp(beta * sp.cos(th[i] - th[j])) * sp.sin(th[i] - th[j]) for j in range(n)), sp.Integer(0)) / n
                for i in range(n)
            ]
        else:
            lam_ = sp.Symbol("lam", nonnegative=True)
            syms["lam"] = lam_
            vel = [sp.Integer(0)]
            for j in range(1, n):  # 0-based j <-> position j+1; positions of k < j
                pw = [sp.exp(-lam_ * (j - k) / n) for k in range(j)]
                Z = sum(pw, sp.Integer(0))
                c = [-beta * sp.sin(th[j] - th[k]) * sp.exp(beta * sp.cos(th[j] - th[k])) for k in range(j)]
                vel.append(sum((p * ck for p, ck in zip(pw, c)), sp.Integer(0)) / Z)
        return syms, vel
    X = point_symbols(n, d)
    syms["x"] = X
    rows = [list(X.row(i)) for i in range(n)]
    out = []
    if model in ("sa", "usa", "qkv", "preln", "periln", "ngpt", "sqrt"):
        if model == "qkv":
            Q, K, V = matrix_symbols("Q", d), matrix_symbols("K", d), matrix_symbols("V", d)
            syms.update(Q=Q, K=K, V=V)
        else:
            Q = K = V = sp.eye(d)
        dirs = rows
        if model in ("preln", "periln"):
            dirs = [[c / sp.sqrt(_dot(r, r)) for c in r] for r in rows]
        keys = [_matvec(K, r) for r in dirs]
        vals = [_matvec(V, r) for r in dirs]
        for i in range(n):
            if model == "usa":
                acc = [sum((sp.exp(beta * _dot(dirs[i], dirs[j])) * dirs[j][k] for j in range(n)), sp.Integer(0)) / n
                       for k in range(d)]
                out.append(_project(dirs[i], acc))
                continue
            A = _softmax_average(_matvec(Q, dirs[i]), keys, vals)
            if model in ("sa", "qkv"):
                out.append(_project(dirs[i], A))
            elif model == "preln":
                out.append(A)
            elif model == "periln":
                a = sp.sqrt(_dot(A, A))
                out.append([c / a for c in A])
            elif model == "ngpt":
                alpha = sp.Symbol("alpha", positive=True)
                syms["alpha"] = alpha
                a = sp.sqrt(_dot(A, A))
                out.append([alpha * c / a for c in _project(dirs[i], A)])
            else:  # sqrt
                t = sp.Symbol("t", nonnegative=True)
                syms["t"] = t
                out.append([c / sp.sqrt(t + 1) for c in _project(dirs[i], A)])
    elif model == "interp":
        V, B = matrix_symbols("V", d), matrix_symbols("B", d)
        W = sp.Matrix(d, hidden, lambda a, r: sp.Symbol(f"W_{a}_{r}", real=True))
        U = sp.Matrix(hidden, d, lambda r, a: sp.Symbol(f"U_{r}_{a}", real=True))
        b = sp.Matrix(hidden, 1, lambda r, _: sp.Symbol(f"b_{r}", real=True))
        syms.update(V=V, B=B, W=W, U=U, b=b)
        for i in range(n):
            A = _softmax_average(_matvec(B, rows[i]), rows, rows)
            act = [sp.Max(c + b[r], 0) for r, c in enumerate(_matvec(U, rows[i]))]
            y = [va + pa for va, pa in zip(_matvec(V, A), _matvec(W, act))]
            out.append(_project(rows[i], y))
    elif model == "multihead":
        Ms = [matrix_symbols(f"M{h}", d) for h in range(heads)]
        syms["M"] = Ms
        for i in range(n):
            acc = [sp.Integer(0)] * d
            for Mh in Ms:
                mv = [_matvec(Mh, rows[j]) for j in range(n)]
                if normalization == "shared":
                    for j in range(n):
                        w = sp.exp(beta * _dot(rows[i], mv[j])) / n
                        acc = [a + w * c for a, c in zip(acc, mv[j])]
                else:
                    A = _softmax_average(rows[i], mv, mv)
                    acc = [a + c for a, c in zip(acc, A)]
            out.append(_project(rows[i], acc))
    else:
        raise ValueError(f"model: no symbolic velocity for {model!r}")
    return syms, sp.Matrix(out)


def energy_expr(model: str, n: int, d: int = 2, *, heads: int = 2):
    r"""The interaction energy of ``model`` for ``n`` particles as an explicit SymPy sum.

    .. math::
        E = \frac{1}{2\beta}\sum_{i,j} e^{\beta\langle x_i, V x_j\rangle}\ (\text{sa, usa: } V=I;
        \text{ multihead: } \textstyle\sum_h \text{ with } V=M_h),\qquad
        E_{\text{circle}} = \frac{1}{2\beta n^2}\sum_{i,j} e^{\beta\cos(\theta_i-\theta_j)}.

    Returns ``(symbols, E)`` like :func:`velocity_matrix`.

    References
    ----------
    theory notes 02-energy.md §2.1 (particle normalisation, Q/K/V row), §2.4 (circle);
    01-models.md §1.6 (multi-head); arXiv 2312.10794, 2512.01868.
    """
    syms: dict = {"beta": beta}
    if model == "kuramoto":
        th = angle_symbols(n)
        syms["theta"] = th
        E = sum((sp.exp(beta * sp.cos(th[i] - th[j])) for i in range(n) for j in range(n)), sp.Integer(0))
        return syms, E / (2 * beta * n**2)
    X = point_symbols(n, d)
    syms["x"] = X
    rows = [list(X.row(i)) for i in range(n)]
    if model in ("sa", "usa"):
        Vs = [sp.eye(d)]
    elif model == "qkv":
        Vs = [matrix_symbols("V", d)]
        syms["V"] = Vs[0]
    elif model == "multihead":
        Vs = [matrix_symbols(f"M{h}", d) for h in range(heads)]
        syms["M"] = Vs
    else:
        raise ValueError(f"model: no energy for {model!r}")
    E = sp.Integer(0)
    for V in Vs:
        for i in range(n):
            for j in range(n):
                E += sp.exp(beta * _dot(rows[i], _matvec(V, rows[j])))
    return syms, E / (2 * beta)
