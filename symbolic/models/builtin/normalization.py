r"""The normalisation schemes: Pre-LN, Peri-LN, nGPT and the sqrt time scaling.

With :math:`A_i` the SA attention output on the directions :math:`\theta_i`:

.. math::
    \text{Pre-LN: } \dot x_i = A_i,\quad \text{Peri-LN: } \dot x_i = \frac{A_i}{|A_i|}\quad (x = r\theta),\qquad
    \text{nGPT: } \dot x_i = \alpha\frac{P_{x_i}A_i}{|A_i|},\quad \text{sqrt: } \dot x_i = \frac{P_{x_i}A_i}{\sqrt{t+1}}.

The reduction of Pre-LN and Peri-LN in the radial/angular variables to these Euclidean fields is
proved in :func:`attnflow.symbolic.models.normalisation_checks`.

References: arXiv 2510.22026 (normalisation schemes).
"""

import sympy as sp

from attnflow.symbolic.models._declaration import EuclideanModel, SphereModel
from attnflow.symbolic.models._params import Real
from attnflow.symbolic.models._symbols import AA, XA, A, X, beta, s, t

_SOURCE = "arXiv 2510.22026 (normalisation schemes)"
alpha = sp.Symbol("alpha", positive=True)

preln = EuclideanModel(
    name="preln",
    weight=sp.exp(beta * s),
    normalization="softmax",
    output=A,
    claims=("normalization.preln_rate",),
    source=_SOURCE,
    description="Pre-LN, x = r theta: dx_i/dt = A_i, A_i the SA attention output on the directions",
)

periln = EuclideanModel(
    name="periln",
    weight=sp.exp(beta * s),
    normalization="softmax",
    output=A / sp.sqrt(AA),
    claims=("normalization.periln_unit_speed",),
    source=_SOURCE,
    description="Peri-LN, x = r theta: dx_i/dt = A_i / |A_i|",
)

ngpt = SphereModel(
    name="ngpt",
    weight=sp.exp(beta * s),
    normalization="softmax",
    output=alpha * (A - XA * X) / sp.sqrt(AA),
    params=(Real("alpha", default=1.0, lo=0.0, lo_strict=True, symbol=alpha, doc="step scale"),),
    claims=("normalization.ngpt_speed",),
    source=_SOURCE,
    description="nGPT: dx_i/dt = alpha P_{x_i} A_i / |A_i|",
)

sqrt = SphereModel(
    name="sqrt",
    weight=sp.exp(beta * s),
    normalization="softmax",
    output=(A - XA * X) / sp.sqrt(t + 1),
    t_min=-1.0,
    claims=("normalization.sqrt_time_change",),
    source=_SOURCE,
    description="sqrt-scaling: dx_i/dt = P_{x_i} A_i / sqrt(t + 1)",
)
