r"""Deterministic self-test cases of the exportable kernels (private; used by the catalogue).

:func:`cases` builds, for any generated kernel, a few cases from its model declaration and kernel
plan: fixed seeds (derived from the kernel's name) and sizes, inputs drawn with
``numpy.random.default_rng`` in the kernel's argument order, and expected outputs computed by the
INDEPENDENT plain-NumPy implementation :mod:`attnflow.numerics._reference` (full ``n x n`` logit
matrices, global shift, BLAS products; never the declarations, the code generator or the fused
kernels).  Scalars are stored as 0-d arrays; a NaN in an expected output marks an entry the kernel
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


def cases(decl, kernel) -> list[Case]:
    """Deterministic cases of ``kernel`` (an entry of ``kernel_plan(decl).kernels``)."""
    seed = zlib.crc32(kernel.name.encode())
    out = []
    for k, (n, d, beta) in enumerate(_SIZES):
        rng = np.random.default_rng([seed, k])
        t = 0.7
        if decl.manifold == "angles":
            x = rng.uniform(-np.pi, np.pi, (3, n) if kernel.role == "velocity_batched" else n)
        elif kernel.role == "velocity_ensemble":  # three independent systems
            x = np.stack([_sphere(rng, n, d) for _ in range(3)])
        else:
            x = _sphere(rng, n, d)  # Euclidean models' kernels take the directions theta_i = x_i / |x_i|
        if kernel.role == "energy_rows":
            p = _params(decl, rng, d, None, symmetric=True)
            out.append(_energy_case(decl, kernel, x, beta, p))
            continue
        p = _params(decl, rng, d, kernel.variant, symmetric=False)
        if kernel.role == "velocity_ensemble":  # per-system inputs and references, stacked
            per = [_velocity_inputs(decl, kernel, xb, beta, p, t) for xb in x]
            inputs = {k: np.stack([q[k] for q in per]) if k in ENSEMBLE_SHAPES else v for k, v in per[0].items()}
            expected = {"out": np.stack([ref.velocity_ref(xb, decl.name, beta, t=t, **p) for xb in x])}
            if any(a.name == "logz" for a in kernel.args):
                expected["logz"] = np.stack([ref.log_partition_ref(xb, decl.name, beta, **p) for xb in x])
        else:
            inputs = _velocity_inputs(decl, kernel, x, beta, p, t)
            expected = {"out": ref.velocity_ref(x, decl.name, beta, t=t, **p)}
            if any(a.name == "logz" for a in kernel.args):
                expected["logz"] = ref.log_partition_ref(x, decl.name, beta, **p)
        if kernel.role == "velocity_blocked":
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
