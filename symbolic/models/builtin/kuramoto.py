r"""USA on the circle in angles (the Kuramoto form).

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
    claims=("localization.circle_mass", "cluster.stationary"),
    source="arXiv 2512.01868 (USA on the circle)",
    description="USA on the circle: dtheta_i/dt = -(1/n) sum_j e^{beta cos(theta_i-theta_j)} sin(theta_i-theta_j)",
)
