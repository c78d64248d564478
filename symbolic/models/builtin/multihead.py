r"""Multi-head attention with score matrices :math:`M_h` (shape ``(H, d, d)``).

.. math::
    \text{shared:}\ \dot x_i = P_{x_i}\Big(\frac1n\sum_h\sum_j e^{\beta\langle x_i,M_hx_j\rangle}M_hx_j\Big),\qquad
    \text{per head:}\ \dot x_i = P_{x_i}\Big(\sum_h\sum_j \mathrm{softmax}_j(\beta\langle x_i,M_hx_j\rangle)M_hx_j\Big);

a gradient flow of :math:`\sum_h E_h`, :math:`E_h=\frac1{2\beta}\sum_{i,j}e^{\beta\langle x_i,M_hx_j\rangle}`,
only for the shared normalisation and symmetric :math:`M_h`.

References: arXiv 2605.04279 (multi-head); derivations/energy.md.
"""

import numpy as np
import sympy as sp

from attnflow.symbolic.models._declaration import SphereModel
from attnflow.symbolic.models._random import random_matrices
from attnflow.symbolic.models._params import Choice, Matrix
from attnflow.symbolic.models._symbols import beta, s


def _gradient_flow(p: dict) -> str | None:
    if p.get("normalization", "shared") != "shared":
        return ("normalization: the per-head multi-head model has no dissipation identity "
                "(only the shared normalisation is a gradient flow); use normalization='shared'")
    M = p["M"]
    if not np.allclose(M, np.transpose(M, (0, 2, 1)), rtol=0, atol=1e-10 * max(1.0, float(np.max(np.abs(M))))):
        return "M: the {what} of model 'multihead' requires symmetric M_h (gradient-flow case)"
    return None


def _draw(d: int, seed: int, *, heads: int | None = None, symmetric: bool = False, **_) -> dict:
    if heads is None:
        raise ValueError("heads: multihead with seed= and no M needs heads=H (number of heads)")
    return random_matrices(d, seed, heads=heads, symmetric=symmetric)


multihead = SphereModel(
    name="multihead",
    weight=sp.exp(beta * s),
    normalization={"shared": "mean", "per_head": "softmax"},
    heads="M",
    params=(Matrix("M", shape=("H", "d", "d"), dims={"H": 1}, doc="score matrices of the H heads"),
            Choice("normalization", choices=("shared", "per_head"), default="shared",
                   doc="shared (1/n) normalisation or a softmax per head")),
    energy=sp.exp(beta * s) / beta,
    energy_condition=_gradient_flow,
    draw_params=_draw,
    claims=("multihead.per_head", "multihead.total.per_head_softmax", "multihead.total.shared"),
    source="arXiv 2605.04279 (multi-head)",
    description=("H heads with score matrices M (shape (H, d, d)): shared normalisation "
                 "P_{x_i}((1/n) sum_h sum_j e^{beta<x_i,M_h x_j>} M_h x_j) or per_head softmax; "
                 "a gradient flow of sum_h E_h only for shared normalisation and symmetric M_h"),
)
