r"""SA: softmax self-attention on the sphere.

.. math::
    \dot x_i = P_{x_i}\Big(Z_i^{-1}\sum_j e^{\beta\langle x_i,x_j\rangle}x_j\Big),\quad
    Z_i=\sum_k e^{\beta\langle x_i,x_k\rangle},\qquad
    E = \frac1{2\beta}\sum_{i,j}e^{\beta\langle x_i,x_j\rangle}.

References: arXiv 2312.10794, eq. (SA) and the energy identity; derivations/energy.md.
"""

import sympy as sp

from attnflow.symbolic.models._declaration import SphereModel
from attnflow.symbolic.models._symbols import beta, s

sa = SphereModel(
    name="sa",
    weight=sp.exp(beta * s),
    normalization="softmax",
    energy=sp.exp(beta * s) / beta,
    claims=("energy.dissipation.sa", "energy.monotone.sa", "energy.monotone.discrete_step", "energy.variation",
            "cluster.hemisphere", "cluster.d3.single", "cluster.stationary", "equiangular.invariance",
            "equiangular.rate.sa"),
    source="arXiv 2312.10794 (SA)",
    description="self-attention: dx_i/dt = P_{x_i}(Z_i^{-1} sum_j e^{beta<x_i,x_j>} x_j)",
)
