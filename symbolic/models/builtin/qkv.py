r"""Q/K/V: softmax attention with query, key and value matrices.

.. math::
    \dot x_i = P_{x_i}\Big(Z_i^{-1}\sum_j e^{\beta\langle Qx_i,Kx_j\rangle}Vx_j\Big);

a gradient flow of :math:`E=\frac1{2\beta}\sum_{i,j}e^{\beta\langle x_i,Vx_j\rangle}` only when
:math:`Q^\top K = V = V^\top`.  Q = K = I with symmetric V is the spectral-selection model.

References: arXiv 2312.10794 (the Q/K/V field); derivations/energy.md, derivations/spectral.md.
"""

import numpy as np
import sympy as sp

from attnflow.symbolic.models._declaration import SphereModel
from attnflow.symbolic.models._random import random_matrices
from attnflow.symbolic.models._params import Matrix
from attnflow.symbolic.models._symbols import beta, s


def _gradient_flow(p: dict) -> str | None:
    Q, K, V = p["Q"], p["K"], p["V"]
    scale = max(1.0, float(np.max(np.abs(V))))
    if not np.allclose(Q.T @ K, V, rtol=0, atol=1e-10 * scale) or not np.allclose(V, V.T, rtol=0, atol=1e-10 * scale):
        return ("V: the {what} of model 'qkv' requires Q^T K = V = V^T (arXiv:2312.10794); "
                "general Q, K, V is not a gradient flow")
    return None


def _draw(d: int, seed: int, *, symmetric: bool = False, **_) -> dict:
    return random_matrices(d, seed, symmetric=symmetric)


qkv = SphereModel(
    name="qkv",
    weight=sp.exp(beta * s),
    normalization="softmax",
    query="Q",
    key="K",
    value="V",
    params=(Matrix("Q", doc="query matrix"), Matrix("K", doc="key matrix"), Matrix("V", doc="value matrix")),
    energy=sp.exp(beta * s) / beta,
    energy_score="V",
    energy_condition=_gradient_flow,
    draw_params=_draw,
    claims=("energy.dissipation.qkv_symmetric", "energy.monotone.general_qkv", "cluster.hemisphere.monotone"),
    source="arXiv 2312.10794 (Q/K/V attention)",
    description=("general matrices: dx_i/dt = P_{x_i}(Z_i^{-1} sum_j e^{beta<Qx_i,Kx_j>} V x_j); "
                 "a gradient flow (energy, dissipation) only when Q^T K = V = V^T; Q = K = I with "
                 "symmetric V is the spectral-selection model"),
)
