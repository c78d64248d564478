r"""USA on the circle in angles (the Kuramoto form), and its time-rescaled form ``kuramoto_rescaled``.

.. math::
    \dot\theta_i = -\frac1n\sum_j e^{\beta\cos(\theta_i-\theta_j)}\sin(\theta_i-\theta_j),\qquad
    E = \frac1{2\beta n^2}\sum_{i,j}e^{\beta\cos(\theta_i-\theta_j)},\quad \dot\theta = n\nabla E.

References: arXiv 2512.01868 (USA on the circle); derivations/energy.md.
"""

import sympy as sp

from attnflow.symbolic.models._declaration import CircleModel
from attnflow.symbolic.models._symbols import beta, s

kuramoto = CircleModel(
    name="kuramoto",
    weight=sp.exp(beta * s),
    normalization="mean",
    energy=sp.exp(beta * s) / beta,
    claims=("localization.circle_mass", "cluster.stationary", "kernel.circle"),
    source="arXiv 2512.01868 (USA on the circle)",
    description="USA on the circle: dtheta_i/dt = -(1/n) sum_j e^{beta cos(theta_i-theta_j)} sin(theta_i-theta_j)",
)

kuramoto_rescaled = CircleModel(
    name="kuramoto_rescaled",
    weight=sp.exp(beta * (s - 1)),
    normalization="mean",
    energy=sp.exp(beta * (s - 1)) / beta,
    claims=("ensemble.rescaled_clock", "ensemble.batch_equals_loop", "kernel.circle"),
    source="arXiv 2512.01868 (USA on the circle), time-rescaled",
    description="kuramoto on the clock tau = e^{-beta} t: dtheta_i/dt = -(1/n) sum_j e^{beta(cos(theta_i-theta_j) - 1)} "
                "sin(theta_i-theta_j); weights <= 1, finite at any beta",
)
