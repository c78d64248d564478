"""Plain-NumPy reference fields and energies used inside claim checks (no numba).

These are deliberately simple, independent implementations; the compiled kernels of
``attnflow.numerics`` are checked against them, not the other way round.
"""

from __future__ import annotations

import numpy as np

__all__ = ["attention_weights", "sa_field", "usa_field", "raw_sums", "energy_meanfield"]


def _check_points(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"x: expected an (n, d) array of points, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x: contains NaN or inf")
    return x


def attention_weights(x: np.ndarray, beta: float) -> np.ndarray:
    r"""Row-stochastic SA weights with shifted logits:

    .. math:: A_{ij} = \frac{e^{\beta\langle x_i,x_j\rangle}}{\sum_k e^{\beta\langle x_i,x_k\rangle}}.

    References
    ----------
    arXiv:2312.10794 eq. (SA); theory notes 01-models.md.
    """
    x = _check_points(x)
    logits = beta * (x @ x.T)
    logits -= logits.max(axis=1, keepdims=True)
    w = np.exp(logits)
    return w / w.sum(axis=1, keepdims=True)


def _project(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return v - np.sum(v * x, axis=1, keepdims=True) * x


def sa_field(x: np.ndarray, beta: float) -> np.ndarray:
    r"""SA velocity field :math:`\dot x_i = P_{x_i}\sum_j A_{ij} x_j` (Q = K = V = I).

    References
    ----------
    arXiv:2312.10794 §2 (SA); theory notes 01-models.md.
    """
    x = _check_points(x)
    return _project(x, attention_weights(x, beta) @ x)


def raw_sums(x: np.ndarray, beta: float) -> np.ndarray:
    r"""Unprojected, unnormalised sums :math:`\sum_j e^{\beta\langle x_i,x_j\rangle}x_j` (scale reference)."""
    x = _check_points(x)
    return np.exp(beta * (x @ x.T)) @ x


def usa_field(x: np.ndarray, beta: float) -> np.ndarray:
    r"""USA velocity field :math:`\dot x_i = P_{x_i}\frac1n\sum_j e^{\beta\langle x_i,x_j\rangle} x_j`.

    References
    ----------
    arXiv:2312.10794 §2 (USA); theory notes 01-models.md.
    """
    x = _check_points(x)
    return _project(x, raw_sums(x, beta) / x.shape[0])


def energy_meanfield(x: np.ndarray, beta: float) -> float:
    r"""Mean-field interaction energy of the empirical measure,

    .. math:: E_\beta(\mu) = \frac{1}{2\beta n^2}\sum_{i,j} e^{\beta\langle x_i,x_j\rangle}.

    Computed as :math:`\frac{e^{\beta}}{2\beta n^2}\sum_{i,j} e^{\beta(\langle x_i,x_j\rangle-1)}` to avoid overflow.

    References
    ----------
    arXiv:2312.10794 §3, arXiv:2512.01868; theory notes 02-energy.md §2.1.
    """
    x = _check_points(x)
    if not beta > 0:
        raise ValueError(f"beta: the energy needs beta > 0, got {beta}")
    n = x.shape[0]
    s = np.exp(beta * (np.clip(x @ x.T, -1.0, 1.0) - 1.0)).sum()
    return float(np.exp(beta) * s / (2.0 * beta * n * n))
