r"""Deterministic self-test cases of the exportable kernels (private; used by the catalogue).

:func:`cases` builds, for any generated kernel, a few cases from its model declaration and kernel
plan: fixed seeds (derived from the kernel's name) and sizes, inputs drawn with
``numpy.random.default_rng`` in the kernel's argument order, and expected outputs computed by the
INDEPENDENT plain-NumPy implementation :mod:`attnflow.numerics._reference` (full ``n x n`` logit
matrices, global shift, BLAS products; never the declarations, the code generator or the fused
kernels).  A model without a NumPy reference (a user's own declaration) gets its expected outputs
from the small-``n`` SymPy field :func:`attnflow.symbolic.models.velocity_matrix` and the declared
weight and energy, evaluated at 50 digits (the float64 inputs substituted exactly): explicit sums
straight from the equations, sharing nothing with the kernel templates (no shift, no streaming,
no CSE); its sizes are smaller (:data:`_SYMPY_SIZES`).  Scalars are stored as 0-d arrays; a NaN in an expected output marks an entry the kernel
must leave untouched (the blocked path's rows outside ``start:stop``).  The cases include a large
inverse temperature (shifted exponentials), a negative one, and a single token.
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np

from attnflow.numerics import _reference as ref
from attnflow.symbolic.codegen import ENSEMBLE_SHAPES

__all__ = ["Case", "cases"]


@dataclasses.dataclass(frozen=True)
class Case:
    """Stored inputs (scalars as 0-d arrays) and the reference outputs of one self-test case.

    A NaN in an expected output marks an entry the kernel must not write (it stays NaN).
    """

    inputs: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]


def _sphere(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _f(v: float) -> np.ndarray:
    return np.array(float(v), dtype=np.float64)


def _i(v: int) -> np.ndarray:
    return np.array(int(v), dtype=np.int64)


#: (n, d, beta) of the cases; the circle kernels use n only.  40 and -3 exercise the shift.
_SIZES = ((7, 3, 2.0), (5, 4, -3.0), (9, 3, 40.0), (1, 2, 1.5))


def _params(decl, rng: np.random.Generator, d: int, variant: str | None, *, symmetric: bool) -> dict:
    """Random parameters for ``decl`` (matrices N(0, 1/d); symmetric ones where the energy needs them)."""
    from attnflow.symbolic.models import Choice, Matrix, Real

    dims = {"d": d, "H": 2, "m": 2}
    p = {}
    for par in decl.params:
        if isinstance(par, Matrix):
            a = rng.standard_normal(tuple(dims[k] for k in par.shape)) / np.sqrt(d)
            if symmetric and a.ndim >= 2 and a.shape[-1] == a.shape[-2]:
                a = 0.5 * (a + np.swapaxes(a, -1, -2))
            p[par.name] = a
        elif isinstance(par, Real):
            p[par.name] = float(par.default) if not par.required else (0.5 if par.lo is None else par.lo + 0.5)
        elif isinstance(par, Choice):
            p[par.name] = variant if variant in par.choices else par.default
    if symmetric and getattr(decl, "energy_score", None) is not None:  # the gradient-flow case Q = I, K = V symmetric
        p[decl.query] = np.eye(d)
        p[decl.key] = p[decl.energy_score]
    return p


def _velocity_inputs(decl, kernel, x, beta, p, t):
    inputs = {}
    for a in kernel.args:
        if a.kind == "out" or a.name in ("start", "stop", "rows"):
            continue
        if a.name in ("x", "theta"):
            inputs[a.name] = x
        elif a.name == "beta":
            inputs[a.name] = _f(beta)
        elif a.name == "t":
            inputs[a.name] = _f(t)
        elif a.name in ("qx", "kx", "vx"):
            field = {"qx": decl.query, "kx": decl.key, "vx": decl.value}[a.name]
            inputs[a.name] = x if field is None else x @ p[field].T
        elif a.name == "mx":
            inputs[a.name] = np.ascontiguousarray(np.einsum("hab,jb->hja", p[decl.heads], x))
        elif a.kind == "float":
            inputs[a.name] = _f(p[a.name])
        else:
            inputs[a.name] = np.asarray(p[a.name], dtype=np.float64)
    return inputs


#: (n, d, beta) of the cases computed by the SymPy route (explicit sums: kept small).
_SYMPY_SIZES = ((4, 3, 2.0), (3, 4, -3.0), (5, 3, 40.0), (1, 2, 1.5))
_DIGITS = 50


def _mp(v):
    import sympy as sp

    return sp.Float(float(v), _DIGITS)


def _sympy_velocity(decl, x: np.ndarray, beta: float, p: dict, t: float) -> np.ndarray:
    """The declared field at ``x`` from the explicit SymPy sums (50 digits)."""
    import sympy as sp

    from attnflow.symbolic.models import Choice, velocity_matrix

    if x.ndim == 2 and decl.manifold == "angles":  # P independent configurations
        return np.stack([_sympy_velocity(decl, row, beta, p, t) for row in x])
    heads = p[decl.heads].shape[0] if getattr(decl, "heads", None) else 2
    hidden = p[decl.perceptron.W].shape[1] if getattr(decl, "perceptron", None) else 2
    choice = p.get("normalization") if isinstance(decl.param("normalization"), Choice) else None
    n = x.shape[0]
    d = x.shape[1] if x.ndim == 2 else 2
    syms, vel = velocity_matrix(decl, n, d, normalization=choice, heads=heads, hidden=hidden)
    sub = {}
    for name, val in syms.items():
        value = x if name in ("x", "theta") else beta if name == "beta" else t if name == "t" else p[name]
        if isinstance(val, sp.MatrixBase):
            symbols = list(val)
        elif isinstance(val, list) and val and isinstance(val[0], sp.MatrixBase):  # heads
            symbols = [e for m in val for e in m]
        elif isinstance(val, list):
            symbols = list(val)
        else:
            symbols = [val]
        values = np.asarray(value, dtype=np.float64).ravel()
        sub.update({sym: _mp(v) for sym, v in zip(symbols, values)})
    return np.array([float(e.xreplace(sub).evalf(_DIGITS)) for e in vel], dtype=np.float64).reshape(x.shape)


def _scores(a: np.ndarray, b: np.ndarray):
    """``[[<a_i, b_j>]]`` as 50-digit SymPy Floats (the float64 inputs exactly, exact products)."""
    import sympy as sp

    return [[sp.Add(*(_mp(u) * _mp(v) for u, v in zip(ai, bj))) for bj in b] for ai in a]


def _real_subs(decl, p: dict) -> dict:
    return {r.sym(): _mp(p[r.name]) for r in decl.real_params}


def _sympy_log_partition(decl, inputs: dict, beta: float, p: dict) -> np.ndarray:
    """``log sum_j w(s_ij)`` with ``s_ij = <qx_i, kx_j>`` (50 digits)."""
    import sympy as sp

    from attnflow.symbolic.models import beta as B
    from attnflow.symbolic.models import s as S

    q = inputs.get("qx", inputs.get("x"))
    k = inputs.get("kx", inputs.get("x"))
    subs = {B: _mp(beta), **_real_subs(decl, p)}
    w = decl.weight.xreplace(subs)
    rows = [sp.log(sp.Add(*(w.xreplace({S: sij}) for sij in row))).evalf(_DIGITS) for row in _scores(q, k)]
    return np.array([float(r) for r in rows], dtype=np.float64)


def _sympy_energy_case(decl, kernel, x, beta, p) -> Case:
    """Row sums of the pair energy: ``m_out = max_j L(s_ij)``, ``z_out = sum_j e^{L - m}`` for
    :math:`F = C e^{L}`; ``m_out = 0``, ``z_out = sum_j F(s_ij)`` for an energy summed directly."""
    import sympy as sp

    from attnflow.symbolic.models import beta as B
    from attnflow.symbolic.models import s as S

    inputs = {"x" if decl.manifold != "angles" else "theta": x, "beta": _f(beta)}
    if decl.manifold == "angles":
        c = [[sp.cos(_mp(a) - _mp(b)) for b in x] for a in x]
    else:
        M = np.eye(x.shape[1])
        if decl.heads is not None:
            M = p[decl.heads][0]
        elif getattr(decl, "energy_score", None) is not None:
            M = p[decl.energy_score]
        if any(a.name == "kx" for a in kernel.args):
            inputs["kx"] = x @ M.T
        c = _scores(x, inputs.get("kx", x))
    for a in kernel.args:
        if a.kind == "float" and a.name != "beta":
            inputs[a.name] = _f(p[a.name])
    subs = {B: _mp(beta), **_real_subs(decl, p)}
    form = decl.pair_energy()
    m_out, z_out = [], []
    for row in c:
        if form is None:
            f = decl.energy.xreplace(subs)
            m_out.append(0.0)
            z_out.append(float(sp.Add(*(f.xreplace({S: sij}) for sij in row)).evalf(_DIGITS)))
        else:
            logit = form[1].xreplace(subs)
            ls = [logit.xreplace({S: sij}).evalf(_DIGITS) for sij in row]
            m = max(ls)
            m_out.append(float(m))
            z_out.append(float(sp.Add(*(sp.exp(li - m) for li in ls)).evalf(_DIGITS)))
    return Case(inputs, {"m_out": np.array(m_out), "z_out": np.array(z_out)})


def cases(decl, kernel) -> list[Case]:
    """Deterministic cases of ``kernel`` (an entry of ``kernel_plan(decl).kernels``).

    Expected outputs: :mod:`attnflow.numerics._reference` when the model has a NumPy reference,
    else the 50-digit SymPy route (see the module docstring).
    """
    seed = zlib.crc32(kernel.name.encode())
    sympy_route = decl.name not in ref.REFERENCES
    out = []
    for k, (n, d, beta) in enumerate(_SYMPY_SIZES if sympy_route else _SIZES):
        rng = np.random.default_rng([seed, k])
        t = 0.7
        if decl.manifold == "angles":
            x = rng.uniform(-np.pi, np.pi, (3, n) if kernel.role.startswith("velocity_batched") else n)
        elif kernel.role == "velocity_ensemble":  # three independent systems
            x = np.stack([_sphere(rng, n, d) for _ in range(3)])
        else:
            x = _sphere(rng, n, d)  # Euclidean models' kernels take the directions theta_i = x_i / |x_i|
        if kernel.role == "energy_rows":
            p = _params(decl, rng, d, None, symmetric=True)
            out.append(_sympy_energy_case(decl, kernel, x, beta, p) if sympy_route
                       else _energy_case(decl, kernel, x, beta, p))
            continue
        p = _params(decl, rng, d, kernel.variant, symmetric=False)
        def one(xb):  # inputs and expected outputs of one system
            inp = _velocity_inputs(decl, kernel, xb, beta, p, t)
            exp = {"out": _sympy_velocity(decl, xb, beta, p, t) if sympy_route
                   else ref.velocity_ref(xb, decl.name, beta, t=t, **p)}
            if any(a.name == "logz" for a in kernel.args):
                exp["logz"] = (_sympy_log_partition(decl, inp, beta, p) if sympy_route
                               else ref.log_partition_ref(xb, decl.name, beta, **p))
            return inp, exp

        if kernel.role == "velocity_ensemble":  # per-system inputs and references, stacked
            per = [one(xb) for xb in x]
            inputs = {k: np.stack([q[k] for q, _ in per]) if k in ENSEMBLE_SHAPES else v for k, v in per[0][0].items()}
            expected = {k: np.stack([e[k] for _, e in per]) for k in per[0][1]}
        else:
            inputs, expected = one(x)
        if kernel.role in ("velocity_blocked", "velocity_shifted", "velocity_blas"):
            start, stop, rows = ((0, n, 4), (1, n, 3), (0, max(1, n - 1), 16), (0, n, 2))[k]
            for name, full in list(expected.items()):
                part = np.full_like(full, np.nan)
                part[start:stop] = full[start:stop]
                expected[name] = part
            inputs.update(start=_i(start), stop=_i(stop), rows=_i(rows))
        if all(np.nanmax(np.abs(e)) == 0 for e in expected.values()):
            continue  # a single token does not move: a zero case tests nothing (kept where logz is stored)
        out.append(Case(inputs, expected))
    return out


def _energy_case(decl, kernel, x, beta, p) -> Case:
    logits = ref.energy_logits_ref(x, decl.name, beta, **p)[0]  # the first score matrix (head)
    m = logits.max(axis=1)
    inputs = {"x" if decl.manifold != "angles" else "theta": x, "beta": _f(beta)}
    if any(a.name == "kx" for a in kernel.args):
        if decl.heads is not None:
            M = p[decl.heads][0]
        elif getattr(decl, "energy_score", None) is not None:
            M = p[decl.energy_score]
        else:
            M = np.eye(x.shape[1])
        inputs["kx"] = x @ M.T
    for a in kernel.args:
        if a.kind == "float" and a.name != "beta":
            inputs[a.name] = _f(p[a.name])
    return Case(inputs, {"m_out": m, "z_out": np.exp(logits - m[:, None]).sum(axis=1)})
