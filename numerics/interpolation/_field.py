"""The attention + perceptron velocity field of measure-to-measure interpolation (private).

Both entry points evaluate kernels generated from the model declarations of
:mod:`attnflow.symbolic.models.builtin.interp` (``numerics/_generated/interp.py`` and
``interp_attention.py``) through :mod:`attnflow.numerics.fields` at ``beta = 1`` (the paper's field).  Public names are re-exported by
:mod:`attnflow.numerics.interpolation`.
"""

from __future__ import annotations

import numpy as np

from attnflow.symbolic.models.builtin.interp import interp_attention

from .. import fields

__all__ = ["attention_average", "interp_velocity", "layer_field"]

#: The paper's field has logits <Bx, y>: the interp model's inverse temperature is 1 (it scales B).
_BETA = 1.0


def _layer_params(layer) -> dict[str, np.ndarray]:
    return {"V": layer.V, "B": layer.B, "W": layer.W, "U": layer.U, "b": layer.b}


def layer_field(layer):
    r"""The field ``f(t, x)`` of one layer, for integrators (parameters validated once).

    .. math::

        f(t, x)_i = P_{x_i}\bigl( V A_B[\mu](x_i) + W (U x_i + b)_+ \bigr),
        \qquad \mu = \frac1n \sum_j \delta_{x_j},

    i.e. ``attnflow.numerics.fields.make_field("interp", beta=1.0, V=..., B=..., W=..., U=..., b=...)``.
    ``f`` does not check that the rows of ``x`` are unit vectors (Runge-Kutta stages are not).

    Parameters
    ----------
    layer : Layer
        Parameters ``V, B (d, d)``, ``W (d, m)``, ``U (m, d)``, ``b (m,)``.

    Returns
    -------
    callable
        ``f(t, x) -> (n, d) array`` (``t`` is ignored: the parameters are constant in a layer).

    References
    ----------
    arXiv 2411.04551, eq. (1.1)-(1.2).
    """
    return fields.make_field("interp", beta=_BETA, **_layer_params(layer))


def attention_average(x: np.ndarray, b_mat: np.ndarray) -> np.ndarray:
    r"""Self-attention average :math:`A_B[\mu](x_i)` of an empirical measure at its own atoms.

    .. math::

        A_B[\mu](x) = \frac{\sum_j e^{\langle B x, x_j\rangle} x_j}{\sum_j e^{\langle B x, x_j\rangle}},
        \qquad \mu = \frac1n \sum_j \delta_{x_j},

    evaluated by the kernel generated from the declaration ``interp_attention``
    (:mod:`attnflow.symbolic.models.builtin.interp`: the attention of ``interp`` with no read-out,
    perceptron or projection; logits shifted by a running maximum: no overflow for large ``B``).

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
    arXiv 2411.04551, §1 (the field ``v[mu]``).
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"x: expected a non-empty (n, d) array, got shape {x.shape}")
    d = x.shape[1]
    if np.shape(b_mat) != (d, d):
        raise ValueError(f"B: expected shape ({d}, {d}) to match x of shape {x.shape}, got {np.shape(b_mat)} (b_mat)")
    return fields.make_field(interp_attention, beta=_BETA, B=b_mat)(0.0, x)


def interp_velocity(x: np.ndarray, layer) -> np.ndarray:
    r"""Velocity of the atoms of ONE empirical measure under one layer (constant parameters).

    .. math::

        v[\mu](x_i) = P_{x_i}\bigl( V A_B[\mu](x_i) + W (U x_i + b)_+ \bigr),
        \qquad P_x y = y - \langle x, y\rangle x,

    with :math:`A_B` the shifted-softmax attention average (:func:`attention_average`), evaluated
    by the generated kernel of the model ``"interp"`` (:func:`layer_field`).  The kernel skips the
    attention sum when ``V == 0`` (it then contributes nothing); with ``W`` of no columns there is
    no perceptron term.

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
    arXiv 2411.04551, eq. (1.1)-(1.2) (field with perceptron block).
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != layer.V.shape[0]:
        raise ValueError(
            f"x: expected shape (n, {layer.V.shape[0]}) to match the layer dimension, got {x.shape}"
        )
    return layer_field(layer)(0.0, x)
