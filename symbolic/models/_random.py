"""Random parameters of the built-in declarations (their ``draw_params``).

Re-exported as :func:`attnflow.numerics.initial.random_matrices`.
"""

from __future__ import annotations

import math

import numpy as np

from attnflow._base.validate import integer, memory
from attnflow._base.validate import seed as seed_arg

__all__ = ["random_matrices"]


def random_matrices(d: int, seed: int | None = 0, *, heads: int = 0, symmetric: bool = False) -> dict:
    r"""Reproducible Gaussian parameter matrices for the ``qkv`` and ``multihead`` models.

    .. math::

        Q, K, V \sim \mathcal N(0, 1/d)^{d\times d}\ \text{iid entries};\qquad
        \text{symmetric: } Q = I,\ K = V = (G + G^\top)/2,\quad M_h = (G_h + G_h^\top)/2.

    The :math:`1/d` variance keeps :math:`\langle Qx, Ky\rangle = O(1)` for unit x, y.

    Parameters
    ----------
    d : int
        Dimension.
    seed : int or None
    heads : int
        0: return ``{"Q", "K", "V"}``; H >= 1: return ``{"M": array (H, d, d)}``.
    symmetric : bool
        Draw the gradient-flow case :math:`Q^\top K = V = V^\top` (Q = I, K = V symmetric) or
        symmetric heads M_h (the gradient-flow hypotheses of the ``qkv`` and ``multihead`` energies).

    Returns
    -------
    dict of ndarray

    References
    ----------
    arXiv 2312.10794 (Q, K, V), 2605.04279 (multi-head); derivations/energy.md.
    """
    d = integer("d", d, minimum=2)
    if isinstance(heads, bool) or not isinstance(heads, (int, np.integer)) or heads < 0:
        raise ValueError(f"heads: must be an integer >= 0, got {heads!r}")
    memory("d", 8.0 * 4 * max(heads, 3) * d * d, f"{max(heads, 3)} matrices of {d} x {d}: lower d or heads")
    rng = np.random.default_rng(seed_arg(seed))
    s = 1.0 / math.sqrt(d)

    def draw():
        g = s * rng.standard_normal((d, d))
        return 0.5 * (g + g.T) if symmetric else g

    if heads == 0:
        if symmetric:  # gradient-flow case Q^T K = V = V^T
            v = draw()
            return {"Q": np.eye(d), "K": v.copy(), "V": v}
        return {"Q": draw(), "K": draw(), "V": draw()}
    return {"M": np.stack([draw() for _ in range(int(heads))])}
