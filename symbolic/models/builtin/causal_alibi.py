r"""Causal self-attention with ALiBi on the circle (the lost-in-the-middle model).

.. math::
    \dot\theta_j = Z_{N,j}^{-1}\sum_{k<j} e^{-\lambda(j-k)/N}\, w_\beta'(\theta_j-\theta_k),\quad
    Z_{N,j} = \sum_{k<j}e^{-\lambda(j-k)/N},\quad w_\beta(\theta)=e^{\beta\cos\theta},

token 1 fixed.  The content factor :math:`w_\beta'(\theta) = \beta e^{\beta\cos\theta}(-\sin\theta)`
is the content weight :math:`\beta e^{\beta s}` times the projected value (proved in
:func:`attnflow.symbolic.models.circle_derivation_checks`); it is not softmax-normalised.

References: arXiv 2605.09213 (causal ALiBi); derivations/retrieval.md.
"""

import sympy as sp

from attnflow.symbolic.models._declaration import CircleModel
from attnflow.symbolic.models._params import Real
from attnflow.symbolic.models._symbols import N, beta, g, lam, s

causal_alibi = CircleModel(
    name="causal_alibi",
    weight=beta * sp.exp(beta * s),
    normalization="causal",
    position_weight=sp.exp(-lam * g / N),
    params=(Real("lam", default=1.0, lo=0.0, symbol=lam, doc="ALiBi slope"),),
    claims=("retrieval.particles", "kernel.circle"),
    source="arXiv 2605.09213 (causal ALiBi)",
    description=("causal ALiBi on the circle: dtheta_j/dt = Z_{N,j}^{-1} sum_{k<j} e^{-lam(j-k)/N} "
                 "w_beta'(theta_j-theta_k), w_beta = e^{beta cos}, theta_1 fixed"),
)
