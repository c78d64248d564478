r"""Attention + perceptron: one layer of measure-to-measure interpolation.

.. math::
    \dot x_i = P_{x_i}\big(V A_i + W(Ux_i+b)_+\big),\qquad
    A_i = \frac{\sum_j e^{\beta\langle Bx_i,x_j\rangle}x_j}{\sum_j e^{\beta\langle Bx_i,x_j\rangle}},

V, B of shape (d, d), W (d, m), U (m, d), b (m,), m >= 0 hidden units.  The paper's field is
beta = 1 (beta scales B); a piecewise-constant schedule is one field per layer.

References: arXiv 2411.04551, eq. (1.1)-(1.2).
"""

import sympy as sp

from attnflow.symbolic.models._declaration import Perceptron, SphereModel
from attnflow.symbolic.models._params import Matrix
from attnflow.symbolic.models._symbols import beta, s, u

interp = SphereModel(
    name="interp",
    weight=sp.exp(beta * s),
    normalization="softmax",
    query="B",
    readout="V",
    perceptron=Perceptron(W="W", U="U", b="b", activation=sp.Max(u, 0)),
    params=(Matrix("V", doc="read-out matrix of the attention"), Matrix("B", doc="query matrix of the logits"),
            Matrix("W", shape=("d", "m"), doc="perceptron output weights (m >= 0 hidden units)"),
            Matrix("U", shape=("m", "d"), doc="perceptron input weights"),
            Matrix("b", shape=("m",), doc="perceptron biases")),
    claims=("interpolation.*",),
    source="arXiv 2411.04551, eq. (1.1)-(1.2)",
    description=("attention + perceptron (one layer of measure-to-measure interpolation): "
                 "dx_i/dt = P_{x_i}(V A_i + W (U x_i + b)_+), A_i = Z_i^{-1} sum_j e^{beta<B x_i,x_j>} x_j; "
                 "V, B (d, d), W (d, m), U (m, d), b (m,), m >= 0 hidden units; the paper's field is "
                 "beta = 1 (beta scales B); piecewise-constant schedules: one field per layer"),
)

#: The attention average :math:`A_B[\mu](x_i)` alone (no read-out, perceptron or projection): an
#: auxiliary declaration (not registered as a model) whose kernel evaluates the interpolation
#: construction's attention average.
interp_attention = SphereModel(
    name="interp_attention",
    weight=sp.exp(beta * s),
    normalization="softmax",
    query="B",
    output=sp.Symbol("A", real=True),
    params=(Matrix("B", doc="query matrix of the logits"),),
    claims=("interpolation.*",),
    source="arXiv 2411.04551, §1 (the attention average of the field v[mu])",
    description="the attention average A_i = Z_i^{-1} sum_j e^{beta<B x_i,x_j>} x_j (no projection)",
)
