r"""USA: unnormalised self-attention on the sphere, and its time-rescaled form ``usa_rescaled``.

.. math::
    \dot x_i = P_{x_i}\Big(\frac1n\sum_j e^{\beta\langle x_i,x_j\rangle}x_j\Big),\qquad
    E = \frac1{2\beta}\sum_{i,j}e^{\beta\langle x_i,x_j\rangle},\quad \dot E = n\sum_i|\dot x_i|^2.

References: arXiv 2512.01868 (USA); derivations/energy.md.
"""

import sympy as sp

from attnflow.symbolic.models._declaration import SphereModel
from attnflow.symbolic.models._symbols import beta, s

usa = SphereModel(
    name="usa",
    weight=sp.exp(beta * s),
    normalization="mean",
    energy=sp.exp(beta * s) / beta,
    claims=("energy.dissipation.usa", "energy.monotone.usa", "cluster.hemisphere", "cluster.stationary",
            "equiangular.invariance", "equiangular.rate.usa"),
    source="arXiv 2512.01868 (USA)",
    description="unnormalised self-attention: dx_i/dt = P_{x_i}((1/n) sum_j e^{beta<x_i,x_j>} x_j)",
)

usa_rescaled = SphereModel(
    name="usa_rescaled",
    weight=sp.exp(beta * (s - 1)),
    normalization="mean",
    energy=sp.exp(beta * (s - 1)) / beta,
    claims=("ensemble.rescaled_clock", "ensemble.batch_equals_loop"),
    source="arXiv 2512.01868 (USA), time-rescaled",
    description="USA on the clock tau = e^{-beta} t: dx_i/dt = P_{x_i}((1/n) sum_j e^{beta(<x_i,x_j> - 1)} x_j); "
                "weights <= 1, finite at any beta",
)
