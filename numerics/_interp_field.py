"""The attention + perceptron velocity field of measure-to-measure interpolation (private).

Public names are re-exported by :mod:`attnflow.numerics.interpolation`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["interp_velocity", "attention_average"]


@njit(cache=True)
def _attention_average_kernel(x, b_mat):  # pragma: no cover - compiled
    """A_B[mu](x_i) for every i, fused over j with an online (running-max) shifted softmax."""
    n, d = x.shape
    bx = np.empty(d)
    out = np.empty((n, d))
    acc = np.empty(d)
    for i in range(n):
        for a in range(d):
            s = 0.0
            for c in range(d):
                s += b_mat[a, c] * x[i, c]
            bx[a] = s
        run_max = -np.inf
        total = 0.0
        for a in range(d):
            acc[a] = 0.0
        for j in range(n):
            logit = 0.0
            for a in range(d):
                logit += bx[a] * x[j, a]
            if logit > run_max:
                # rescale what was accumulated under the old maximum
                scale = np.exp(run_max - logit) if total > 0.0 else 0.0
                total *= scale
                for a in range(d):
                    acc[a] *= scale
                run_max = logit
            w = np.exp(logit - run_max)
            total += w
            for a in range(d):
                acc[a] += w * x[j, a]
        for a in range(d):
            out[i, a] = acc[a] / total
    return out


def attention_average(x: np.ndarray, b_mat: np.ndarray) -> np.ndarray:
    r"""Self-attention average :math:`A_B[\mu](x_i)` of an empirical measure at its own atoms.

    .. math::

        A_B[\mu](x) = \frac{\sum_j e^{\langle B x, x_j\rangle} x_j}{\sum_j e^{\langle B x, x_j\rangle}},
        \qquad \mu = \frac1n \sum_j \delta_{x_j},

    evaluated with the logits shifted by a running maximum (no overflow for large ``B``).

    Parameters
    ----------
    x : (n, d) array of float64
        The atoms of the measure.
    b_mat : (d, d) array
        The attention matrix ``B`` (``B = Q^T K`` in the Q/K/V notation).

    Returns
    -------
    (n, d) array

    References
    ----------
    arXiv 2411.04551, §1 (the field ``v[mu]``); theory notes 06-interpolation.md §6.1.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    b_mat = np.ascontiguousarray(b_mat, dtype=np.float64)
    return _attention_average_kernel(x, b_mat)


def interp_velocity(x: np.ndarray, layer) -> np.ndarray:
    r"""Velocity of the atoms of ONE empirical measure under one layer (constant parameters).

    .. math::

        v[\mu](x_i) = P_{x_i}\bigl( V A_B[\mu](x_i) + W (U x_i + b)_+ \bigr),
        \qquad P_x y = y - \langle x, y\rangle x,

    with :math:`A_B` the shifted-softmax attention average (:func:`attention_average`).
    The attention term is skipped when ``V == 0`` (it then contributes nothing) and the
    perceptron term when ``W`` has no columns.

    Parameters
    ----------
    x : (n, d) array
        Atoms of the measure (unit vectors; the projection is applied as written, so off-sphere
        Runge-Kutta stages are also accepted).
    layer : Layer
        Parameters ``V, B (d, d)``, ``W (d, m)``, ``U (m, d)``, ``b (m,)``.

    Returns
    -------
    (n, d) array of tangent velocities.

    References
    ----------
    arXiv 2411.04551, eq. (1.1)-(1.2) (field with perceptron block); theory notes
    06-interpolation.md §6.1.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != layer.V.shape[0]:
        raise ValueError(
            f"x: expected shape (n, {layer.V.shape[0]}) to match the layer dimension, got {x.shape}"
        )
    y = np.zeros_like(x)
    if np.any(layer.V != 0.0):
        y += attention_average(x, layer.B) @ layer.V.T
    if layer.W.shape[1] > 0 and np.any(layer.W != 0.0):
        y += np.maximum(x @ layer.U.T + layer.b, 0.0) @ layer.W.T
    return y - np.sum(x * y, axis=1, keepdims=True) * x
