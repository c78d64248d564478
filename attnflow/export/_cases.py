r"""Deterministic self-test cases of the exportable kernels (private; used by the catalogue).

One builder per kernel: fixed seeds and sizes, inputs drawn with ``numpy.random.default_rng`` and
expected outputs computed by the INDEPENDENT plain-NumPy implementation
:mod:`attnflow.numerics._reference` (full ``n x n`` logit matrices, global shift, BLAS products;
never the code generator or the fused kernels).  Scalars are stored as 0-d arrays; a NaN in an
expected output marks an entry the kernel must leave untouched.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from attnflow.numerics import _reference as ref

__all__ = ["Case", "sa_cases", "sa_blocked_cases", "qkv_cases", "per_head_cases", "sphere_lse_cases", "usa_cases",
           "shared_cases", "kuramoto_cases", "kuramoto_batched_cases", "circle_lse_cases", "alibi_cases",
           "alibi_batched_cases", "interp_cases"]


@dataclasses.dataclass(frozen=True)
class Case:
    """Stored inputs (scalars as 0-d arrays) and the reference outputs of one self-test case.

    A NaN in an expected output marks an entry the kernel must not write (it stays NaN).
    """

    inputs: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]


# ----------------------------------------------------------------------------------------------
# deterministic inputs


def _sphere(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _f(v: float) -> np.ndarray:
    return np.array(float(v), dtype=np.float64)


def _b(v: bool) -> np.ndarray:
    return np.array(bool(v))


def _i(v: int) -> np.ndarray:
    return np.array(int(v), dtype=np.int64)


def _symmetric_heads(rng: np.random.Generator, h: int, d: int) -> np.ndarray:
    a = rng.standard_normal((h, d, d))
    return 0.5 * (a + np.transpose(a, (0, 2, 1)))


def _row_lse_expected(x: np.ndarray, vx: np.ndarray, beta: float, V: np.ndarray) -> dict[str, np.ndarray]:
    """m_i = max_j beta <x_i, V x_j> and z_i = exp(logZ_i - m_i), logZ from the reference softmax."""
    _, logz = ref.softmax_attention(x, beta, None, V, V)
    m = (beta * (x @ vx.T)).max(axis=1)
    return {"m_out": m, "z_out": np.exp(logz - m)}


# SA attention ---------------------------------------------------------------------------------


def sa_cases() -> list[Case]:
    out = []
    for seed, n, d, beta, project in ((11, 7, 3, 2.0, True), (12, 5, 4, -3.0, False), (13, 9, 3, 400.0, True),
                                      (14, 1, 2, 1.5, True)):
        x = _sphere(np.random.default_rng(seed), n, d)
        A, logz = ref.softmax_attention(x, beta)
        expected = ref.project(x, A) if project else A
        out.append(Case({"x": x, "beta": _f(beta), "project": _b(project)},
                        {"out": expected, "logz": logz}))
    return out


def sa_blocked_cases() -> list[Case]:
    """Row ranges [start, stop) by blocks of ``rows``: stop - start never a multiple of ``rows``; rows
    outside the range must stay untouched (NaN in the expected outputs)."""
    out = []
    for seed, n, d, beta, project, start, stop, rows in ((121, 9, 3, 2.0, True, 0, 9, 4),
                                                         (122, 11, 4, -3.0, False, 2, 9, 3),
                                                         (123, 7, 3, 400.0, True, 1, 7, 16),
                                                         (124, 6, 2, 1.5, True, 5, 6, 2)):
        x = _sphere(np.random.default_rng(seed), n, d)
        A, logz = ref.softmax_attention(x, beta)
        full = ref.project(x, A) if project else A
        exp_out, exp_logz = np.full_like(full, np.nan), np.full_like(logz, np.nan)
        exp_out[start:stop], exp_logz[start:stop] = full[start:stop], logz[start:stop]
        out.append(Case({"x": x, "beta": _f(beta), "project": _b(project), "start": _i(start), "stop": _i(stop),
                         "rows": _i(rows)}, {"out": exp_out, "logz": exp_logz}))
    return out


def qkv_cases() -> list[Case]:
    out = []
    for seed, n, d, beta, project in ((21, 6, 3, 1.5, True), (22, 5, 4, -2.0, False)):
        rng = np.random.default_rng(seed)
        x = _sphere(rng, n, d)
        Q, K, V = (rng.standard_normal((d, d)) for _ in range(3))
        A, logz = ref.softmax_attention(x, beta, Q, K, V)
        expected = ref.project(x, A) if project else A
        out.append(Case({"x": x, "qx": x @ Q.T, "kx": x @ K.T, "vx": x @ V.T, "beta": _f(beta),
                         "project": _b(project)}, {"out": expected, "logz": logz}))
    return out


def per_head_cases() -> list[Case]:
    out = []
    for seed, n, d, h, beta in ((31, 6, 3, 2, 1.2), (32, 5, 4, 3, -0.7)):
        rng = np.random.default_rng(seed)
        x = _sphere(rng, n, d)
        M = rng.standard_normal((h, d, d))
        mx = np.ascontiguousarray(np.einsum("hab,jb->hja", M, x))
        v = ref.velocity_ref(x, "multihead", beta, M=M, normalization="per_head")
        out.append(Case({"x": x, "mx": mx, "beta": _f(beta)}, {"out": v}))
    return out


def sphere_lse_cases() -> list[Case]:
    out = []
    for seed, n, d, beta, sym in ((41, 7, 3, 2.5, False), (42, 6, 4, -4.0, True), (43, 5, 3, 300.0, False)):
        rng = np.random.default_rng(seed)
        x = _sphere(rng, n, d)
        V = _symmetric_heads(rng, 1, d)[0] if sym else np.eye(d)
        vx = x @ V.T
        out.append(Case({"x": x, "vx": vx, "beta": _f(beta)}, _row_lse_expected(x, vx, beta, V)))
    return out


# unnormalised attention ------------------------------------------------------------------------


def usa_cases() -> list[Case]:
    out = []
    for seed, n, d, beta in ((51, 7, 3, 2.0), (52, 5, 4, -3.0), (53, 6, 3, 40.0)):
        x = _sphere(np.random.default_rng(seed), n, d)
        out.append(Case({"x": x, "beta": _f(beta)}, {"out": ref.velocity_ref(x, "usa", beta)}))
    return out


def shared_cases() -> list[Case]:
    out = []
    for seed, n, d, h, beta in ((61, 6, 3, 2, 1.3), (62, 5, 4, 3, -0.8)):
        rng = np.random.default_rng(seed)
        x = _sphere(rng, n, d)
        M = _symmetric_heads(rng, h, d)
        mx = np.ascontiguousarray(np.einsum("hab,jb->hja", M, x))
        v = ref.velocity_ref(x, "multihead", beta, M=M, normalization="shared")
        out.append(Case({"x": x, "mx": mx, "beta": _f(beta)}, {"out": v}))
    return out


# circle -----------------------------------------------------------------------------------------


def _angles(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.uniform(-np.pi, np.pi, size=shape)


def kuramoto_cases() -> list[Case]:
    out = []
    for seed, n, beta in ((71, 7, 1.5), (72, 5, -2.0), (73, 9, 30.0)):
        th = _angles(np.random.default_rng(seed), n)
        out.append(Case({"theta": th, "beta": _f(beta)}, {"out": ref.velocity_ref(th, "kuramoto", beta)}))
    return out


def kuramoto_batched_cases() -> list[Case]:
    out = []
    for seed, p, n, beta in ((81, 3, 6, 1.5), (82, 2, 5, -2.5)):
        th = _angles(np.random.default_rng(seed), (p, n))
        out.append(Case({"theta": th, "beta": _f(beta)}, {"out": ref.velocity_ref(th, "kuramoto", beta)}))
    return out


def circle_lse_cases() -> list[Case]:
    out = []
    for seed, n, beta in ((91, 7, 2.0), (92, 6, -3.0), (93, 5, 200.0)):
        th = _angles(np.random.default_rng(seed), n)
        e = np.stack([np.cos(th), np.sin(th)], axis=-1)  # the circle embedded in R^2: a different route
        out.append(Case({"theta": th, "beta": _f(beta)}, _row_lse_expected(e, e, beta, np.eye(2))))
    return out


# causal ALiBi -------------------------------------------------------------------------------------


def alibi_cases() -> list[Case]:
    out = []
    for seed, n, beta, lam in ((101, 8, 1.5, 1.0), (102, 5, -2.0, 3.0), (103, 2, 1.0, 0.5)):
        th = _angles(np.random.default_rng(seed), n)
        v = ref.velocity_ref(th, "causal_alibi", beta, lam=lam)
        out.append(Case({"theta": th, "beta": _f(beta), "lam": _f(lam)}, {"out": v}))
    return out


def alibi_batched_cases() -> list[Case]:
    out = []
    for seed, p, n, beta, lam in ((111, 3, 6, 1.5, 1.0), (112, 2, 7, 2.5, 0.0)):
        th = _angles(np.random.default_rng(seed), (p, n))
        v = ref.velocity_ref(th, "causal_alibi", beta, lam=lam)
        out.append(Case({"theta": th, "beta": _f(beta), "lam": _f(lam)}, {"out": v}))
    return out


# attention + perceptron (measure-to-measure interpolation) ----------------------------------------


def interp_cases() -> list[Case]:
    """Random layers; one with no hidden units (m = 0), one with V = 0 (the kernel skips the attention
    sum: pointwise field), one unprojected with large logits, one with off-sphere rows (an RK stage)."""
    out = []
    for seed, n, d, m, beta, project, kind in ((131, 7, 3, 2, 1.0, True, "random"),
                                              (132, 5, 4, 0, -1.5, True, "random"),
                                              (133, 6, 3, 3, 1.0, True, "no_attention"),
                                              (134, 9, 3, 2, 60.0, False, "random"),
                                              (135, 6, 4, 3, 1.0, True, "off_sphere")):
        rng = np.random.default_rng(seed)
        x = _sphere(rng, n, d)
        if kind == "off_sphere":
            x = x * rng.uniform(0.9, 1.1, (n, 1))
        V, B = rng.standard_normal((2, d, d))
        if kind == "no_attention":
            V = np.zeros((d, d))
        W, U, bias = rng.standard_normal((d, m)), rng.standard_normal((m, d)), rng.standard_normal(m)
        v = ref.velocity_ref(x, "interp", beta, V=V, B=B, W=W, U=U, b=bias, project=project)
        out.append(Case({"x": x, "V": V, "B": B, "W": W, "U": U, "bias": bias, "beta": _f(beta),
                         "project": _b(project)}, {"out": v}))
    return out
