r"""Independent plain-NumPy implementations of every model (the reference of the tests and exports).

These build the full ``n x n`` logit matrix (Gram matrix -> shifted exponential -> normalise ->
matmul), written directly from the models' equations without the declarations, the code
generator, the kernel templates or the fused online maximum.  They are slow and memory hungry
(O(n^2)) and exist only so that tests and exported self-tests compare two independent routes.

Each model's reference is registered under its name with :func:`reference`; a test asserts that
every registered model has one (a model added to attnflow brings its reference here).  The circle
model is computed by embedding the angles in R^2 and taking the tangential component of the sphere
field (a different route from the kernel's closed form).

References
----------
arXiv 2312.10794 (SA, energy), 2512.01868 (USA), 2605.09213 (causal ALiBi), 2510.22026
(normalisation), 2605.04279 (multi-head), 2411.04551 (attention + perceptron).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

__all__ = ["project", "softmax_attention", "velocity_ref", "energy_ref", "dissipation_ref", "log_partition_ref",
           "energy_logits_ref", "Reference", "REFERENCES", "reference"]


@dataclasses.dataclass(frozen=True)
class Reference:
    """The reference routes of one model: velocity, and where they exist the energy's row logits
    (``logits(x, beta, **p) -> list of (n, n)``, one per score matrix, with the energy's prefactor and
    convention) and the softmax log partition functions."""

    velocity: Callable
    energy: Callable | None = None
    dissipation: Callable | None = None
    log_partition: Callable | None = None
    energy_logits: Callable | None = None


#: ``{model name: Reference}``.
REFERENCES: dict[str, Reference] = {}


def reference(name: str, **routes) -> None:
    """Register the reference routes of model ``name``."""
    REFERENCES[name] = Reference(**routes)


def _ref(model: str) -> Reference:
    if model not in REFERENCES:
        raise ValueError(f"model: no reference for {model!r}")
    return REFERENCES[model]


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
    return _ref(model).velocity(np.asarray(x, dtype=float), beta, t, **p)


def log_partition_ref(x, model, beta, **p):
    r""":math:`\log Z_i = \log\sum_j e^{\beta s_{ij}}` of the softmax models."""
    route = _ref(model).log_partition
    if route is None:
        raise ValueError(f"model: no reference log partition function for {model!r}")
    return route(np.asarray(x, dtype=float), beta, **p)


def energy_logits_ref(x, model, beta, **p) -> list[np.ndarray]:
    """The pair-energy logit matrices of ``model`` (one per score matrix), e.g. beta <x_i, V x_j>."""
    route = _ref(model).energy_logits
    if route is None:
        raise ValueError(f"model: no reference energy for {model!r}")
    return route(np.asarray(x, dtype=float), beta, **p)


def energy_ref(x, model, beta, **p):
    """Reference energy (direct double sum with a global shift)."""
    route = _ref(model).energy
    if route is None:
        raise ValueError(f"model: no reference energy for {model!r}")
    return route(np.asarray(x, dtype=float), beta, **p)


def dissipation_ref(x, model, beta, **p):
    """Reference right side of the dissipation identity dE/dt (derivations/energy.md)."""
    route = _ref(model).dissipation
    if route is None:
        raise ValueError(f"model: no reference dissipation for {model!r}")
    return route(np.asarray(x, dtype=float), beta, **p)


# ----------------------------------------------------------------------------------------------
# the models


def _shift_sum(Gs: list[np.ndarray]) -> float:
    mx = max(G.max() for G in Gs)
    return float(np.exp(mx) * sum(np.exp(G - mx).sum() for G in Gs))


def _sphere_logits(Ms):
    return lambda x, beta, **p: [beta * x @ (x @ M.T).T for M in Ms(x, p)]


def _eye(x, p):
    return [np.eye(x.shape[1])]


def _particle_energy(Ms):
    return lambda x, beta, **p: _shift_sum(_sphere_logits(Ms)(x, beta, **p)) / (2 * beta)


def _sa(x, beta, t=0.0, **p):
    return project(x, softmax_attention(x, beta)[0])


def _sa_dissipation(x, beta, **p):
    v = _sa(x, beta)
    _, logz = softmax_attention(x, beta)
    return float(np.sum(np.exp(logz) * np.sum(v * v, axis=1)))


reference("sa", velocity=_sa, energy=_particle_energy(_eye), dissipation=_sa_dissipation,
          log_partition=lambda x, beta, **p: softmax_attention(x, beta)[1], energy_logits=_sphere_logits(_eye))


def _usa(x, beta, t=0.0, **p):
    return project(x, _unnormalised(x, beta, np.eye(x.shape[1])))


reference("usa", velocity=_usa, energy=_particle_energy(_eye),
          dissipation=lambda x, beta, **p: float(x.shape[0] * np.sum(_usa(x, beta) ** 2)),
          energy_logits=_sphere_logits(_eye))


def _usa_rescaled(x, beta, t=0.0, **p):
    # e^{beta (s - 1)} <= 1 for beta >= 0: the plain exponential, no shift needed
    W = np.exp(beta * (x @ x.T - 1.0))
    return project(x, W @ x / x.shape[0])


def _rescaled_logits(x, beta, **p):
    return [beta * (x @ x.T - 1.0)]


reference("usa_rescaled", velocity=_usa_rescaled,
          energy=lambda x, beta, **p: _shift_sum(_rescaled_logits(x, beta)) / (2 * beta),
          dissipation=lambda x, beta, **p: float(x.shape[0] * np.sum(_usa_rescaled(x, beta) ** 2)),
          energy_logits=_rescaled_logits)


def _qkv(x, beta, t=0.0, **p):
    return project(x, softmax_attention(x, beta, p["Q"], p["K"], p["V"])[0])


def _qkv_dissipation(x, beta, **p):
    v = _qkv(x, beta, **p)
    V = np.asarray(p["V"], dtype=float)
    _, logz = softmax_attention(x, beta, None, V, V)
    return float(np.sum(np.exp(logz) * np.sum(v * v, axis=1)))


def _V(x, p):
    return [np.asarray(p["V"], dtype=float)]


reference("qkv", velocity=_qkv, energy=_particle_energy(_V), dissipation=_qkv_dissipation,
          log_partition=lambda x, beta, **p: softmax_attention(x, beta, p["Q"], p["K"], p["V"])[1],
          energy_logits=_sphere_logits(_V))


def _multihead(x, beta, t=0.0, **p):
    M = np.asarray(p["M"], dtype=float)
    if p.get("normalization", "shared") == "shared":
        tot = sum(_unnormalised(x, beta, Mh) for Mh in M)
    else:
        tot = sum(softmax_attention(x, beta, np.eye(x.shape[1]), Mh, Mh)[0] for Mh in M)
    return project(x, tot)


def _heads(x, p):
    return list(np.asarray(p["M"], dtype=float))


reference("multihead", velocity=_multihead, energy=_particle_energy(_heads),
          dissipation=lambda x, beta, **p: float(x.shape[0] * np.sum(_multihead(x, beta, **p) ** 2)),
          energy_logits=_sphere_logits(_heads))


def _directions_attention(x, beta):
    r = np.linalg.norm(x, axis=1, keepdims=True)
    return softmax_attention(x / r, beta)[0]


reference("preln", velocity=lambda x, beta, t=0.0, **p: _directions_attention(x, beta))


def _periln(x, beta, t=0.0, **p):
    A = _directions_attention(x, beta)
    return A / np.linalg.norm(A, axis=1, keepdims=True)


reference("periln", velocity=_periln)


def _ngpt(x, beta, t=0.0, **p):
    A = softmax_attention(x, beta)[0]
    return p.get("alpha", 1.0) * project(x, A) / np.linalg.norm(A, axis=1, keepdims=True)


reference("ngpt", velocity=_ngpt)
reference("sqrt", velocity=lambda x, beta, t=0.0, **p: project(x, softmax_attention(x, beta)[0]) / np.sqrt(t + 1.0))


def _interp(x, beta, t=0.0, **p):
    # attention with query matrix B and K = V = I (logits beta <B x_i, x_j>), then V, then the
    # perceptron block W (U x_i + b)_+ as dense products (arXiv 2411.04551, eq. (1.1)-(1.2))
    A = softmax_attention(x, beta, np.asarray(p["B"], dtype=float))[0]
    W, U, b = (np.asarray(p[k], dtype=float) for k in ("W", "U", "b"))
    y = A @ np.asarray(p["V"], dtype=float).T + np.maximum(x @ U.T + b, 0.0) @ W.T
    return project(x, y) if p.get("project", True) else y


reference("interp", velocity=_interp)
reference("interp_attention",
          velocity=lambda x, beta, t=0.0, **p: softmax_attention(x, beta, np.asarray(p["B"], dtype=float))[0])


def _kuramoto(x, beta, t=0.0, **p):
    if x.ndim == 2:
        return np.stack([_kuramoto(row, beta) for row in x])
    e = _embed(x)
    v = project(e, _unnormalised(e, beta, np.eye(2)))
    tangent = np.stack([-np.sin(x), np.cos(x)], axis=-1)
    return np.sum(v * tangent, axis=1)


def _circle_logits(x, beta, **p):
    return [beta * np.cos(x[:, None] - x[None, :])]


reference("kuramoto", velocity=_kuramoto,
          energy=lambda x, beta, **p: _shift_sum(_circle_logits(x, beta)) / (2 * beta * x.shape[0] ** 2),
          dissipation=lambda x, beta, **p: float(np.sum(_kuramoto(x, beta) ** 2) / x.shape[0]),
          energy_logits=_circle_logits)


def _kuramoto_rescaled(x, beta, t=0.0, **p):
    if x.ndim == 2:
        return np.stack([_kuramoto_rescaled(row, beta) for row in x])
    # the tangential component of the embedded field, with the weights e^{beta (cos - 1)} <= 1
    e = _embed(x)
    W = np.exp(beta * (e @ e.T - 1.0))
    v = project(e, W @ e / x.shape[0])
    tangent = np.stack([-np.sin(x), np.cos(x)], axis=-1)
    return np.sum(v * tangent, axis=1)


def _circle_rescaled_logits(x, beta, **p):
    return [beta * (np.cos(x[:, None] - x[None, :]) - 1.0)]


reference("kuramoto_rescaled", velocity=_kuramoto_rescaled,
          energy=lambda x, beta, **p: _shift_sum(_circle_rescaled_logits(x, beta)) / (2 * beta * x.shape[0] ** 2),
          dissipation=lambda x, beta, **p: float(np.sum(_kuramoto_rescaled(x, beta) ** 2) / x.shape[0]),
          energy_logits=_circle_rescaled_logits)


def _causal_alibi(x, beta, t=0.0, **p):
    if x.ndim == 2:
        return np.stack([_causal_alibi(row, beta, **p) for row in x])
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


reference("causal_alibi", velocity=_causal_alibi)
