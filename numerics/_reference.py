r"""Independent plain-NumPy implementations of every model (reference for the tests).

These build the full ``n x n`` logit matrix (Gram matrix -> shifted exponential -> normalise ->
matmul), written directly from the theory notes without the code generator, the kernel
templates or the fused online maximum.  They are slow and memory hungry (O(n^2)) and exist only
so that tests compare two independent routes; the public API is :mod:`attnflow.numerics.fields`.

The circle model is computed by embedding the angles in R^2 and taking the tangential component
of the sphere field (a different route from the kernel's closed form).

References
----------
theory notes 01-models.md §1.1-1.7, 02-energy.md §2.1, §2.4, 06-interpolation.md §6.1.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "project",
    "softmax_attention",
    "velocity_ref",
    "energy_ref",
    "dissipation_ref",
]


def project(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    r"""Row-wise tangent projection :math:`P_x v = v - \langle x, v\rangle x`."""
    return v - np.sum(x * v, axis=1, keepdims=True) * x


def softmax_attention(x, beta, Q=None, K=None, V=None):
    r"""Rows :math:`\sum_j \mathrm{softmax}_j(\beta\langle Qx_i, Kx_j\rangle) V x_j` and :math:`\log Z_i`."""
    d = x.shape[1]
    Q = np.eye(d) if Q is None else Q
    K = np.eye(d) if K is None else K
    V = np.eye(d) if V is None else V
    G = beta * (x @ Q.T) @ (x @ K.T).T
    mx = G.max(axis=1, keepdims=True)
    W = np.exp(G - mx)
    Z = W.sum(axis=1, keepdims=True)
    A = (W @ (x @ V.T)) / Z
    return A, (mx + np.log(Z))[:, 0]


def _unnormalised(x, beta, M):
    G = beta * x @ (x @ M.T).T
    mx = G.max(axis=1, keepdims=True)
    return np.exp(mx) * (np.exp(G - mx) @ (x @ M.T)) / x.shape[0]


def _embed(theta):
    return np.stack([np.cos(theta), np.sin(theta)], axis=-1)


def velocity_ref(x, model, beta, t=0.0, **p):
    """Reference velocity of ``model`` (same conventions as :func:`attnflow.numerics.velocity`)."""
    x = np.asarray(x, dtype=float)
    if model == "sa":
        return project(x, softmax_attention(x, beta)[0])
    if model == "qkv":
        return project(x, softmax_attention(x, beta, p["Q"], p["K"], p["V"])[0])
    if model == "usa":
        return project(x, _unnormalised(x, beta, np.eye(x.shape[1])))
    if model == "multihead":
        M = np.asarray(p["M"], dtype=float)
        if p.get("normalization", "shared") == "shared":
            tot = sum(_unnormalised(x, beta, Mh) for Mh in M)
        else:
            tot = sum(softmax_attention(x, beta, np.eye(x.shape[1]), Mh, Mh)[0] for Mh in M)
        return project(x, tot)
    if model in ("preln", "periln"):
        r = np.linalg.norm(x, axis=1, keepdims=True)
        A = softmax_attention(x / r, beta)[0]
        return A if model == "preln" else A / np.linalg.norm(A, axis=1, keepdims=True)
    if model == "ngpt":
        A = softmax_attention(x, beta)[0]
        return p.get("alpha", 1.0) * project(x, A) / np.linalg.norm(A, axis=1, keepdims=True)
    if model == "sqrt":
        return project(x, softmax_attention(x, beta)[0]) / np.sqrt(t + 1.0)
    if model == "interp":
        # attention with query matrix B and K = V = I (logits beta <B x_i, x_j>), then V, then the
        # perceptron block W (U x_i + b)_+ as dense products (06-interpolation.md §6.1)
        A = softmax_attention(x, beta, np.asarray(p["B"], dtype=float))[0]
        W, U, b = (np.asarray(p[k], dtype=float) for k in ("W", "U", "b"))
        y = A @ np.asarray(p["V"], dtype=float).T + np.maximum(x @ U.T + b, 0.0) @ W.T
        return project(x, y) if p.get("project", True) else y
    if model == "kuramoto":
        if x.ndim == 2:
            return np.stack([velocity_ref(row, model, beta) for row in x])
        e = _embed(x)
        v = project(e, _unnormalised(e, beta, np.eye(2)))
        tangent = np.stack([-np.sin(x), np.cos(x)], axis=-1)
        return np.sum(v * tangent, axis=1)
    if model == "causal_alibi":
        if x.ndim == 2:
            return np.stack([velocity_ref(row, model, beta, **p) for row in x])
        lam = p.get("lam", 1.0)
        N = x.shape[0]
        j = np.arange(N)[:, None]
        k = np.arange(N)[None, :]
        mask = k < j
        pos = np.where(mask, np.exp(-lam * (j - k) / N), 0.0)
        D = x[:, None] - x[None, :]
        content = -beta * np.sin(D) * np.exp(beta * np.cos(D))
        Z = pos.sum(axis=1)
        num = (pos * content).sum(axis=1)
        out = np.zeros(N)
        out[1:] = num[1:] / Z[1:]
        return out
    raise ValueError(f"model: no reference for {model!r}")


def energy_ref(x, model, beta, **p):
    """Reference energy (direct double sum with a global shift)."""
    x = np.asarray(x, dtype=float)
    if model == "kuramoto":
        G = beta * np.cos(x[:, None] - x[None, :])
        mx = G.max()
        return float(np.exp(mx) * np.exp(G - mx).sum() / (2 * beta * x.shape[0] ** 2))
    if model in ("sa", "usa"):
        Ms = [np.eye(x.shape[1])]
    elif model == "qkv":
        Ms = [np.asarray(p["V"], dtype=float)]
    elif model == "multihead":
        Ms = list(np.asarray(p["M"], dtype=float))
    else:
        raise ValueError(f"model: no reference energy for {model!r}")
    total = 0.0
    for M in Ms:
        G = beta * x @ (x @ M.T).T
        mx = G.max()
        total += np.exp(mx) * np.exp(G - mx).sum()
    return float(total / (2 * beta))


def dissipation_ref(x, model, beta, **p):
    """Reference right side of the dissipation identity dE/dt (02-energy.md §2.1, §2.4)."""
    v = velocity_ref(x, model, beta, **p)
    n = x.shape[0]
    if model in ("sa", "qkv"):
        V = np.asarray(p["V"], dtype=float) if model == "qkv" else None
        _, logz = softmax_attention(x, beta, None, V, V)
        return float(np.sum(np.exp(logz) * np.sum(v * v, axis=1)))
    if model in ("usa", "multihead"):
        return float(n * np.sum(v * v))
    if model == "kuramoto":
        return float(np.sum(v * v) / n)
    raise ValueError(f"model: no reference dissipation for {model!r}")
