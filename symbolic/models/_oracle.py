r"""Small-``n`` SymPy fields and energies of a declaration, as explicit sums (the mpmath oracle).

For concrete sizes ``n`` and ``d`` the complete velocity field and energy of a declared model are
written as explicit sums over the tokens with symbolic points, matrices and parameters, straight
from the equations of :mod:`attnflow.symbolic.models._declaration`.  They share nothing with the
kernel templates (no shift, no streaming, no CSE) and are evaluated with mpmath in the tests: an
independent route to the generated kernels' values.

References: the module docstring of :mod:`attnflow.symbolic.models._declaration`.
"""

from __future__ import annotations

import sympy as sp

from attnflow.symbolic.models import _symbols as S
from attnflow.symbolic.models._declaration import CircleModel, EuclideanModel, Model
from attnflow.symbolic.models._pairs import output_coefficients
from attnflow.symbolic.models._params import Matrix
from attnflow.symbolic.models._registry import get

__all__ = ["velocity_matrix", "energy_expr", "point_symbols", "angle_symbols", "matrix_symbols"]


def point_symbols(n: int, d: int) -> sp.Matrix:
    """The ``n x d`` matrix of component symbols ``x_{i,k}``."""
    return sp.Matrix(n, d, lambda i, k: sp.Symbol(f"x_{i}_{k}", real=True))


def angle_symbols(n: int) -> list[sp.Symbol]:
    """The angle symbols ``theta_i``."""
    return [sp.Symbol(f"theta_{i}", real=True) for i in range(n)]


def matrix_symbols(name: str, d: int) -> sp.Matrix:
    """A ``d x d`` matrix of symbols ``<name>_{a,b}``."""
    return sp.Matrix(d, d, lambda a, b: sp.Symbol(f"{name}_{a}_{b}", real=True))


def _dot(u, v):
    return sum((ui * vi for ui, vi in zip(u, v)), sp.Integer(0))


def _matvec(M, v):
    return [sum((M[a, b] * v[b] for b in range(len(v))), sp.Integer(0)) for a in range(M.shape[0])]


def _matrix_symbols(p: Matrix, d: int, heads: int, hidden: int):
    dims = {"d": d, "H": heads, "m": hidden}
    shape = [dims[k] for k in p.shape]
    if len(shape) == 1:
        return sp.Matrix(shape[0], 1, lambda r, _: sp.Symbol(f"{p.name}_{r}", real=True))
    if len(shape) == 2:
        return sp.Matrix(shape[0], shape[1], lambda a, b: sp.Symbol(f"{p.name}_{a}_{b}", real=True))
    return [matrix_symbols(f"{p.name}{h}", d) for h in range(shape[0])]


def _symbols(model: Model, d: int, heads: int, hidden: int, used=None) -> dict:
    syms: dict = {"beta": S.beta}
    for p in model.params:
        if used is not None and p.name not in used:
            continue
        if isinstance(p, Matrix):
            syms[p.name] = _matrix_symbols(p, d, heads, hidden)
        elif hasattr(p, "sym"):
            syms[p.name] = p.sym()
    return syms


def _weight(model: Model, score) -> sp.Expr:
    return model.weight.subs(S.s, score)


def velocity_matrix(model, n: int, d: int = 2, *, normalization: str | None = None, heads: int = 2,
                    hidden: int = 2):
    r"""The complete velocity field of ``model`` for ``n`` particles, as explicit SymPy sums.

    Returns ``(symbols, velocity)``: ``symbols`` maps ``"x"`` (an ``n x d`` Matrix) or ``"theta"``
    (a list) and each parameter name to its symbols (a Matrix, a list of Matrices for heads, or a
    scalar symbol), plus ``"beta"`` (and ``"t"`` for a time-dependent model); ``velocity`` is an ``n x d`` Matrix (sphere,
    Euclidean) or a list of ``n`` expressions (circle).  ``normalization`` selects a choice of a
    model with several (e.g. ``"per_head"``), ``heads`` and ``hidden`` fix the sizes H and m.

    .. math::
        \dot x_i = \Phi\Big(R\,N_i^{-1}\sum_j w(\langle Qx_i,Kx_j\rangle)Vx_j,\ W\sigma(Ux_i+b),\ x_i\Big).
    """
    decl = get(model)
    if isinstance(decl, CircleModel):
        return _circle_velocity(decl, n, normalization)
    syms = _symbols(decl, d, heads, hidden)
    if decl.time_dependent:
        syms["t"] = S.t
    mode = decl.normalization_for({"normalization": normalization} if normalization else None)
    X = point_symbols(n, d)
    syms["x"] = X
    rows = [list(X.row(i)) for i in range(n)]
    if isinstance(decl, EuclideanModel):
        rows = [[c / sp.sqrt(_dot(r, r)) for c in r] for r in rows]
    mat = {name: syms[name] for name in syms if isinstance(syms[name], (sp.Matrix, list)) and name not in ("x",)}
    if decl.heads is not None:
        triples = [(None, Mh, Mh) for Mh in mat[decl.heads]]
    else:
        triples = [tuple(mat.get(getattr(decl, f)) if getattr(decl, f) else None for f in ("query", "key", "value"))]
    coeffs = output_coefficients(decl)
    out = []
    for i in range(n):
        xi = rows[i]
        A = [sp.Integer(0)] * d
        for Q, K, V in triples:
            qi = _matvec(Q, xi) if Q is not None else xi
            ws = [_weight(decl, _dot(qi, _matvec(K, xj) if K is not None else xj)) for xj in rows]
            vals = [_matvec(V, xj) if V is not None else xj for xj in rows]
            norm = sum(ws, sp.Integer(0)) if mode == "softmax" else sp.Integer(n)
            A = [a + sum((w * v[k] for w, v in zip(ws, vals)), sp.Integer(0)) / norm for k, a in enumerate(A)]
        if decl.readout is not None:
            A = _matvec(mat[decl.readout], A)
        Hv = [sp.Integer(0)] * d
        if decl.perceptron is not None:
            pc = decl.perceptron
            pre = [c + mat[pc.b][r] for r, c in enumerate(_matvec(mat[pc.U], xi))]
            act = [sp.sympify(pc.activation).subs(S.u, c) for c in pre]
            Hv = _matvec(mat[pc.W], act)
        inner = {S.XA: _dot(xi, A), S.XH: _dot(xi, Hv), S.AA: _dot(A, A), S.HH: _dot(Hv, Hv), S.AH: _dot(A, Hv)}
        c = {k: v.subs(inner) for k, v in coeffs.items()}
        out.append([c.get("cA", 0) * A[k] + c.get("cH", 0) * Hv[k] + c.get("cX", 0) * xi[k] for k in range(d)])
    return syms, sp.Matrix(out)


def _circle_velocity(decl: CircleModel, n: int, normalization):
    syms = _symbols(decl, 2, 0, 0)
    th = angle_symbols(n)
    syms["theta"] = th
    mode = decl.normalization_for({"normalization": normalization} if normalization else None)
    vel = []
    for i in range(n):
        ks = range(i) if mode == "causal" else range(n)
        ws = [_weight(decl, sp.cos(th[i] - th[k])) for k in ks]
        vs = [-sp.sin(th[i] - th[k]) for k in ks]
        if mode == "causal":
            if i == 0:
                vel.append(sp.Integer(0))
                continue
            ps = [decl.position_weight.subs({S.g: i - k, S.N: n}) for k in ks]
            vel.append(sum((p * w * v for p, w, v in zip(ps, ws, vs)), sp.Integer(0)) / sum(ps, sp.Integer(0)))
        else:
            norm = sum(ws, sp.Integer(0)) if mode == "softmax" else sp.Integer(n)
            vel.append(sum((w * v for w, v in zip(ws, vs)), sp.Integer(0)) / norm)
    return syms, vel


def energy_expr(model, n: int, d: int = 2, *, heads: int = 2):
    r"""The interaction energy of ``model`` for ``n`` particles as an explicit SymPy sum.

    .. math::
        E = \frac12\sum_{i,j}F(s_{ij})\ (\text{sphere; summed over heads}),\qquad
        E = \frac1{2n^2}\sum_{i,j}F(\cos(\theta_i-\theta_j))\ (\text{circle}),

    with :math:`s_{ij}=\langle x_i, Vx_j\rangle` for a declared ``energy_score`` V.  Returns
    ``(symbols, E)`` like :func:`velocity_matrix`.
    """
    decl = get(model)
    if decl.energy is None:
        raise ValueError(f"model: no energy for {decl.name!r}")
    if isinstance(decl, CircleModel):
        syms = _symbols(decl, 2, 0, 0)
        th = angle_symbols(n)
        syms["theta"] = th
        E = sum((decl.energy.subs(S.s, sp.cos(th[i] - th[j])) for i in range(n) for j in range(n)), sp.Integer(0))
        return syms, E * decl.energy_scale.subs(S.n, n)
    used = {decl.energy_score, decl.heads} - {None}
    syms = _symbols(decl, d, heads, 0, used=used)
    X = point_symbols(n, d)
    syms["x"] = X
    rows = [list(X.row(i)) for i in range(n)]
    if decl.heads is not None:
        Vs = syms[decl.heads]
    elif decl.energy_score is not None:
        Vs = [syms[decl.energy_score]]
    else:
        Vs = [None]
    E = sp.Integer(0)
    for V in Vs:
        for i in range(n):
            for j in range(n):
                E += decl.energy.subs(S.s, _dot(rows[i], _matvec(V, rows[j]) if V is not None else rows[j]))
    return syms, E * decl.energy_scale
